/* Zifencei: self-modifying code.  A routine's first instruction (32-bit, then a 16-bit
 * compressed one) is overwritten with a store; after fence.i the new instruction executes. */
#include "test.h"
    .option norvc
    .text
    .globl test_main
test_main:
    call patched32
    CHECK_REG(1, a0, 1)
    la a1, patched32
    li a2, 0x00200513           /* addi a0, x0, 2 */
    sw a2, 0(a1)
    fence.i
    call patched32
    CHECK_REG(2, a0, 2)
    li a2, 0x02a00513           /* addi a0, x0, 42 */
    sw a2, 0(a1)
    fence.i
    call patched32
    CHECK_REG(3, a0, 42)

    call patched16
    CHECK_REG(4, a0, 5)
    la a1, patched16
    li a2, 0x4525               /* c.li a0, 9 */
    sh a2, 0(a1)
    fence.i
    call patched16
    CHECK_REG(5, a0, 9)

    /* a freshly written routine in a data-free code buffer */
    la a1, codebuf
    li a2, 0x07b00513           /* addi a0, x0, 123 */
    sw a2, 0(a1)
    li a2, 0x00008067           /* ret */
    sw a2, 4(a1)
    fence.i
    jalr ra, 0(a1)
    CHECK_REG(6, a0, 123)
    TEST_PASS

    .align 2
patched32:
    addi a0, x0, 1
    ret

    .align 2
patched16:
    .option push
    .option rvc
    c.li a0, 5
    .option pop
    ret

    .align 2
codebuf:
    .space 16
