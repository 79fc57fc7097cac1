/* HTIF: the smallest passing guest, tohost = 1 -> exit status 0.
 * expect-exit: 0 */
#include "test.h"
    .text
    .globl test_main
test_main:
    TEST_PASS
