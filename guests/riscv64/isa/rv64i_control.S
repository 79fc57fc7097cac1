/* RV64I control transfer: beq bne blt bge bltu bgeu (signed/unsigned edges, taken and not
 * taken, forward and backward), jal (link = pc + 4, backward loop, rd = x0), jalr (offset added
 * to rs1, bit 0 of the target cleared, rd == rs1 uses the old rs1, rd = x0).
 *
 * Instruction-address-misaligned (cause 0) cannot be produced on this machine: with the C
 * extension IALIGN = 16, branch/jal offsets are even by encoding, jalr clears bit 0, and misa.C
 * is not writable, so every reachable target is 2-byte aligned.  Tests 56-58 instead check that
 * jumps and branches to 2-byte-aligned (not 4-byte-aligned) targets execute without a trap. */
#include "test.h"
    .option norvc
    .text
    .globl test_main
test_main:
    /* beq */
    TEST_BR_TAKEN(1, beq, 0x0, 0x0)
    TEST_BR_NOT_TAKEN(2, beq, 0x1, 0xffffffffffffffff)
    TEST_BR_NOT_TAKEN(3, beq, 0xffffffffffffffff, 0x1)
    TEST_BR_NOT_TAKEN(4, beq, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_BR_NOT_TAKEN(5, beq, 0x7fffffffffffffff, 0x8000000000000000)
    TEST_BR_TAKEN(6, beq, 0x5, 0x5)
    TEST_BR_NOT_TAKEN(7, beq, 0x0, 0xffffffffffffffff)
    TEST_BR_TAKEN(8, beq, 0xffffffffffffffff, 0xffffffffffffffff)
    /* bne */
    TEST_BR_NOT_TAKEN(9, bne, 0x0, 0x0)
    TEST_BR_TAKEN(10, bne, 0x1, 0xffffffffffffffff)
    TEST_BR_TAKEN(11, bne, 0xffffffffffffffff, 0x1)
    TEST_BR_TAKEN(12, bne, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_BR_TAKEN(13, bne, 0x7fffffffffffffff, 0x8000000000000000)
    TEST_BR_NOT_TAKEN(14, bne, 0x5, 0x5)
    TEST_BR_TAKEN(15, bne, 0x0, 0xffffffffffffffff)
    TEST_BR_NOT_TAKEN(16, bne, 0xffffffffffffffff, 0xffffffffffffffff)
    /* blt */
    TEST_BR_NOT_TAKEN(17, blt, 0x0, 0x0)
    TEST_BR_NOT_TAKEN(18, blt, 0x1, 0xffffffffffffffff)
    TEST_BR_TAKEN(19, blt, 0xffffffffffffffff, 0x1)
    TEST_BR_TAKEN(20, blt, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_BR_NOT_TAKEN(21, blt, 0x7fffffffffffffff, 0x8000000000000000)
    TEST_BR_NOT_TAKEN(22, blt, 0x5, 0x5)
    TEST_BR_NOT_TAKEN(23, blt, 0x0, 0xffffffffffffffff)
    TEST_BR_NOT_TAKEN(24, blt, 0xffffffffffffffff, 0xffffffffffffffff)
    /* bge */
    TEST_BR_TAKEN(25, bge, 0x0, 0x0)
    TEST_BR_TAKEN(26, bge, 0x1, 0xffffffffffffffff)
    TEST_BR_NOT_TAKEN(27, bge, 0xffffffffffffffff, 0x1)
    TEST_BR_NOT_TAKEN(28, bge, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_BR_TAKEN(29, bge, 0x7fffffffffffffff, 0x8000000000000000)
    TEST_BR_TAKEN(30, bge, 0x5, 0x5)
    TEST_BR_TAKEN(31, bge, 0x0, 0xffffffffffffffff)
    TEST_BR_TAKEN(32, bge, 0xffffffffffffffff, 0xffffffffffffffff)
    /* bltu */
    TEST_BR_NOT_TAKEN(33, bltu, 0x0, 0x0)
    TEST_BR_TAKEN(34, bltu, 0x1, 0xffffffffffffffff)
    TEST_BR_NOT_TAKEN(35, bltu, 0xffffffffffffffff, 0x1)
    TEST_BR_NOT_TAKEN(36, bltu, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_BR_TAKEN(37, bltu, 0x7fffffffffffffff, 0x8000000000000000)
    TEST_BR_NOT_TAKEN(38, bltu, 0x5, 0x5)
    TEST_BR_TAKEN(39, bltu, 0x0, 0xffffffffffffffff)
    TEST_BR_NOT_TAKEN(40, bltu, 0xffffffffffffffff, 0xffffffffffffffff)
    /* bgeu */
    TEST_BR_TAKEN(41, bgeu, 0x0, 0x0)
    TEST_BR_NOT_TAKEN(42, bgeu, 0x1, 0xffffffffffffffff)
    TEST_BR_TAKEN(43, bgeu, 0xffffffffffffffff, 0x1)
    TEST_BR_TAKEN(44, bgeu, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_BR_NOT_TAKEN(45, bgeu, 0x7fffffffffffffff, 0x8000000000000000)
    TEST_BR_TAKEN(46, bgeu, 0x5, 0x5)
    TEST_BR_NOT_TAKEN(47, bgeu, 0x0, 0xffffffffffffffff)
    TEST_BR_TAKEN(48, bgeu, 0xffffffffffffffff, 0xffffffffffffffff)
    /* backward branch loop: runs the body 3 times */
    li gp, 49
    li a1, 3
    li a2, 0
1:  addi a2, a2, 1
    addi a1, a1, -1
    bnez a1, 1b
    CHECK_REG(49, a2, 3)

    /* jal: link = address of the jal + 4 */
    li gp, 50
2:  jal a0, 3f
    j test_fail
3:  la a1, 2b
    addi a1, a1, 4
    FAIL_IF_NE(a0, a1)
    /* jal x0 backwards (plain jump), no link written */
    li a1, 2
    li a0, 0x55
4:  addi a1, a1, -1
    beqz a1, 5f
    jal x0, 4b
5:  CHECK_REG(51, a0, 0x55)

    /* jalr: target = (rs1 + imm) & ~1, link = pc + 4 */
    li gp, 52
    la a1, 6f
    addi a1, a1, -8
7:  jalr a0, 8(a1)
    j test_fail
6:  la a2, 7b
    addi a2, a2, 4
    FAIL_IF_NE(a0, a2)
    /* odd target: bit 0 cleared (both from rs1 and from the immediate) */
    li gp, 53
    la a1, 8f
    addi a1, a1, 1
    jalr a0, 0(a1)
    j test_fail
8:  la a1, 9f
    jalr a0, 1(a1)
    j test_fail
9:
    /* rd == rs1: the jump uses the old value, then rd gets the link */
    li gp, 54
    la a1, 10f
11: jalr a1, 0(a1)
    j test_fail
10: la a2, 11b
    addi a2, a2, 4
    FAIL_IF_NE(a1, a2)
    /* rd = x0 */
    la a1, 12f
    jalr x0, 0(a1)
    j test_fail
12: CHECK_REG(55, x0, 0)

    /* targets that are 2-byte but not 4-byte aligned are legal with C (no cause 0) */
    li gp, 56
    li a0, 0
    la a1, 13f
    andi t0, a1, 3
    li t1, 2
    FAIL_IF_NE(t0, t1)
    jalr x0, 0(a1)
    j test_fail
    .balign 4
    .option push
    .option rvc
    c.nop
13: c.li a0, 9
    c.nop
    .option pop
    CHECK_REG(57, a0, 9)
    li gp, 58
    li a0, 0
    beq x0, x0, 14f
    j test_fail
    .balign 4
    .option push
    .option rvc
    c.nop
14: c.li a0, 7
    c.nop
    .option pop
    CHECK_REG(58, a0, 7)
    TEST_PASS
