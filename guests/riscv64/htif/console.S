/* HTIF console: device 1 command 1 putchar of every byte of a string and of one more
 * character, then pass.
 * expect-exit: 0
 * expect-stdout: "hello from htif\n" */
#include "test.h"
    .text
    .globl test_main
test_main:
    PUTS(message)
    PUTCHAR('\n')
    TEST_PASS

    .data
message: .asciz "hello from htif"
