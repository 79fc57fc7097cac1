/* Sv48 page walks from an S-mode kernel with U-mode code (four levels: 4 KiB, 2 MiB, 1 GiB and
 * 512 GiB pages).  The body, and what it covers, is in vm_body.h. */
#define LEVELS 4
#include "vm_body.h"
