/* HTIF: report failure number 7, tohost = (7 << 1) | 1 -> exit status 7.
 * expect-exit: 7 */
#include "test.h"
    .text
    .globl test_main
test_main:
    TEST_FAIL(7)
