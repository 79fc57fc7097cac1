/* RV64I immediate ALU instructions: addi slti sltiu xori ori andi slli srli srai addiw slliw
 * srliw sraiw, plus lui and auipc.  Edge cases: 12-bit immediates at both ends (-2048, 2047)
 * sign-extended (also for sltiu/andi/ori/xori), shamt 63 / 31, W forms sign-extending bit 31,
 * lui/auipc with bit 31 set (sign-extended to 64 bits), writes to x0 discarded. */
#include "test.h"
    .option norvc
    .text
    .globl test_main
test_main:
    /* addi */
    TEST_RI(1, addi, 0x0, 0x0, 0)
    TEST_RI(2, addi, 0x0, 0x1, -1)
    TEST_RI(3, addi, 0x8000000000000000, 0x7fffffffffffffff, 1)
    TEST_RI(4, addi, 0xffe, 0x7ff, 2047)
    TEST_RI(5, addi, 0xfffffffffffff800, 0x0, -2048)
    TEST_RI(6, addi, 0x80000000, 0x7fffffff, 1)
    /* slti */
    TEST_RI(7, slti, 0x0, 0x0, 0)
    TEST_RI(8, slti, 0x1, 0xffffffffffffffff, 1)
    TEST_RI(9, slti, 0x0, 0x1, -1)
    TEST_RI(10, slti, 0x1, 0x8000000000000000, 0)
    TEST_RI(11, slti, 0x0, 0x5, -2048)
    TEST_RI(12, slti, 0x1, 0xfffffffffffff7ff, -2048)
    /* sltiu */
    TEST_RI(13, sltiu, 0x1, 0x0, 1)
    TEST_RI(14, sltiu, 0x1, 0x1, -1)
    TEST_RI(15, sltiu, 0x0, 0xffffffffffffffff, -1)
    TEST_RI(16, sltiu, 0x0, 0x0, 0)
    TEST_RI(17, sltiu, 0x0, 0x7ff, 2047)
    TEST_RI(18, sltiu, 0x1, 0x8000000000000000, -2048)
    /* xori */
    TEST_RI(19, xori, 0xedcba9876543210f, 0x123456789abcdef0, -1)
    TEST_RI(20, xori, 0x123456789abcd90f, 0x123456789abcdef0, 2047)
    TEST_RI(21, xori, 0xfffffffffffff800, 0x0, -2048)
    TEST_RI(22, xori, 0xffffffffffffffff, 0xffffffffffffffff, 0)
    /* ori */
    TEST_RI(23, ori, 0xffffffffffffffff, 0x123456789abcdef0, -1)
    TEST_RI(24, ori, 0x123456789abcdfff, 0x123456789abcdef0, 2047)
    TEST_RI(25, ori, 0xfffffffffffff800, 0x0, -2048)
    TEST_RI(26, ori, 0xff, 0xf0, 15)
    /* andi */
    TEST_RI(27, andi, 0x123456789abcdef0, 0x123456789abcdef0, -1)
    TEST_RI(28, andi, 0x6f0, 0x123456789abcdef0, 2047)
    TEST_RI(29, andi, 0xfffffffffffff800, 0xffffffffffffffff, -2048)
    TEST_RI(30, andi, 0x0, 0xf0, 15)
    /* slli */
    TEST_RI(31, slli, 0x123456789abcdef0, 0x123456789abcdef0, 0)
    TEST_RI(32, slli, 0x2468acf13579bde0, 0x123456789abcdef0, 1)
    TEST_RI(33, slli, 0x0, 0x123456789abcdef0, 63)
    TEST_RI(34, slli, 0x100000000, 0x1, 32)
    TEST_RI(35, slli, 0xffffffff80000000, 0xffffffffffffffff, 31)
    /* srli */
    TEST_RI(36, srli, 0x123456789abcdef0, 0x123456789abcdef0, 0)
    TEST_RI(37, srli, 0x91a2b3c4d5e6f78, 0x123456789abcdef0, 1)
    TEST_RI(38, srli, 0x0, 0x123456789abcdef0, 63)
    TEST_RI(39, srli, 0x80000000, 0x8000000000000000, 32)
    TEST_RI(40, srli, 0x1ffffffff, 0xffffffffffffffff, 31)
    /* srai */
    TEST_RI(41, srai, 0x123456789abcdef0, 0x123456789abcdef0, 0)
    TEST_RI(42, srai, 0xc000000000000000, 0x8000000000000000, 1)
    TEST_RI(43, srai, 0xffffffffffffffff, 0x8000000000000000, 63)
    TEST_RI(44, srai, 0xffffffff80000000, 0x8000000000000000, 32)
    TEST_RI(45, srai, 0x1, 0x7fffffffffffffff, 62)
    /* addiw */
    TEST_RI(46, addiw, 0xffffffff80000000, 0x7fffffff, 1)
    TEST_RI(47, addiw, 0x0, 0xffffffff, 1)
    TEST_RI(48, addiw, 0xffffffff9abcdef0, 0x123456789abcdef0, 0)
    TEST_RI(49, addiw, 0x7fffffff, 0x80000000, -1)
    TEST_RI(50, addiw, 0xfffffffffffff800, 0x0, -2048)
    TEST_RI(51, addiw, 0x7ff, 0x100000000, 2047)
    /* slliw */
    TEST_RI(52, slliw, 0xffffffff9abcdef0, 0x123456789abcdef0, 0)
    TEST_RI(53, slliw, 0xffffffff80000000, 0x1, 31)
    TEST_RI(54, slliw, 0xffffffffffff0000, 0xffffffff, 16)
    TEST_RI(55, slliw, 0x23456780, 0x12345678, 4)
    TEST_RI(56, slliw, 0xffffffff80000000, 0x3, 31)
    /* srliw */
    TEST_RI(57, srliw, 0xffffffff9abcdef0, 0x123456789abcdef0, 0)
    TEST_RI(58, srliw, 0x1, 0x80000000, 31)
    TEST_RI(59, srliw, 0xffffffff80000000, 0x80000000, 0)
    TEST_RI(60, srliw, 0x7fffffff, 0xffffffffffffffff, 1)
    TEST_RI(61, srliw, 0x8765432, 0x1234567887654321, 4)
    /* sraiw */
    TEST_RI(62, sraiw, 0xffffffff9abcdef0, 0x123456789abcdef0, 0)
    TEST_RI(63, sraiw, 0xffffffffffffffff, 0x80000000, 31)
    TEST_RI(64, sraiw, 0xffffffffc0000000, 0x80000000, 1)
    TEST_RI(65, sraiw, 0x1, 0x7fffffff, 30)
    TEST_RI(66, sraiw, 0xfffffffff8765432, 0x1234567887654321, 4)
    /* lui: imm << 12, sign-extended from bit 31 */
    lui a0, 0x80000
    CHECK_REG(100, a0, 0xffffffff80000000)
    lui a0, 0x7ffff
    CHECK_REG(101, a0, 0x7ffff000)
    lui a0, 0xfffff
    CHECK_REG(102, a0, 0xfffffffffffff000)
    lui a0, 0
    CHECK_REG(103, a0, 0)
    /* auipc: pc + (imm << 12) */
1:  auipc a0, 0
    la a1, 1b
    li gp, 104
    FAIL_IF_NE(a0, a1)
2:  auipc a0, 1
    la a1, 2b
    li t0, 0x1000
    add a1, a1, t0
    li gp, 105
    FAIL_IF_NE(a0, a1)
3:  auipc a0, 0x80000
    la a1, 3b
    li t0, 0xffffffff80000000
    add a1, a1, t0
    li gp, 106
    FAIL_IF_NE(a0, a1)
4:  auipc a0, 0xfffff
    la a1, 4b
    li t0, -0x1000
    add a1, a1, t0
    li gp, 107
    FAIL_IF_NE(a0, a1)
    /* x0 as destination stays zero */
    addi x0, x0, 5
    lui x0, 0x12345
    auipc x0, 1
    slliw x0, a1, 3
    CHECK_REG(108, x0, 0)
    TEST_PASS
