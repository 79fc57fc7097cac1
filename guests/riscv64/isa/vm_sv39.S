/* Sv39 page walks from an S-mode kernel with U-mode code (three levels: 4 KiB, 2 MiB and
 * 1 GiB pages).  The body, and what it covers, is in vm_body.h. */
#define LEVELS 3
#include "vm_body.h"
