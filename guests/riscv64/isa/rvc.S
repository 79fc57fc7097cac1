/* RV64C: every compressed instruction of RV64IMAC (c.fld/c.fsd/c.flw-class forms need F/D and
 * are outside rv64imac).  Quadrant 0: c.addi4spn c.lw c.ld c.sw c.sd.  Quadrant 1: c.nop c.addi
 * c.addiw c.li c.addi16sp c.lui c.srli c.srai c.andi c.sub c.xor c.or c.and c.subw c.addw c.j
 * c.beqz c.bnez.  Quadrant 2: c.slli c.lwsp c.ldsp c.jr c.mv c.ebreak c.jalr c.add c.swsp
 * c.sdsp.  Edge cases: sign-extended 6-bit immediates, c.lui with bit 17 set (sign-extended),
 * c.addiw / c.addw / c.subw sign-extending bit 31, c.lw sign-extending, c.jalr linking pc + 2,
 * c.ebreak trapping with cause 3, mepc = its address and mtval = that address or 0 (the spec
 * allows either; QEMU 7.2 writes 0), and reserved encodings raising illegal
 * instruction with mtval = the 16-bit encoding: the all-zero halfword, c.addi16sp with 0,
 * c.lui with 0, c.lwsp/c.ldsp with rd = x0, c.jr with rs1 = x0, c.addiw with rd = x0. */
#include "test.h"
    .option rvc

/* One compressed op on a0 (and a1): inputs via li, result in a0. */
#define TEST_C1(n, cinst, expect, v0, imm) li a0, v0; cinst a0, imm; CHECK_REG(n, a0, expect)
#define TEST_C2(n, cinst, expect, v0, v1) \
    li a0, v0; li a1, v1; cinst a0, a1; CHECK_REG(n, a0, expect)
/* A reserved halfword `enc` must raise illegal instruction with mtval = enc. */
#define TEST_C_ILLEGAL(n, enc) \
    EXPECT_TRAP(98f); 99: .hword enc; 98: CHECK_TRAP(n, CAUSE_ILLEGAL_INSTRUCTION); \
    CHECK_TRAP_EPC(n, 99b); CHECK_TRAP_TVAL(n, enc)

    .text
    .globl test_main
test_main:
    mv s2, sp
    la sp, cbuf

    /* quadrant 0 */
    c.addi4spn a0, sp, 16
    la a1, cbuf + 16
    li gp, 1
    FAIL_IF_NE(a0, a1)
    c.addi4spn a0, sp, 1020
    la a1, cbuf + 1020
    li gp, 2
    FAIL_IF_NE(a0, a1)
    la a1, cbuf
    li t0, 0x80000000fffffff0
    sd t0, 8(a1)
    c.lw a0, 8(a1)
    CHECK_REG(3, a0, 0xfffffffffffffff0)
    c.lw a0, 12(a1)
    CHECK_REG(4, a0, 0xffffffff80000000)
    c.ld a0, 8(a1)
    CHECK_REG(5, a0, 0x80000000fffffff0)
    li a2, 0x123456789abcdef0
    c.sw a2, 124(a1)
    lwu a0, 124(a1)
    CHECK_REG(6, a0, 0x9abcdef0)
    c.sd a2, 248(a1)
    ld a0, 248(a1)
    CHECK_REG(7, a0, 0x123456789abcdef0)

    /* quadrant 1 */
    li a0, 77
    c.nop
    CHECK_REG(8, a0, 77)
    TEST_C1(9, c.addi, 0x10, 0x11, -1)
    TEST_C1(10, c.addi, 0x7fffffffffffffff, 0x7fffffffffffffe0, 31)
    TEST_C1(11, c.addi, 0xffffffffffffffe0, 0, -32)
    TEST_C1(12, c.addiw, 0xffffffff80000000, 0x7fffffff, 1)
    TEST_C1(13, c.addiw, 0x1f, 0x1234567800000000, 31)
    TEST_C1(14, c.addiw, 0xffffffffffffffff, 0x100000000, -1)
    TEST_C1(15, c.addiw, 0x5, 0xffffffff00000005, 0)
    c.li a0, -32
    CHECK_REG(16, a0, 0xffffffffffffffe0)
    c.li a0, 31
    CHECK_REG(17, a0, 31)
    mv a1, sp
    c.addi16sp sp, -512
    addi a1, a1, -512
    li gp, 18
    FAIL_IF_NE(sp, a1)
    c.addi16sp sp, 496
    addi a1, a1, 496
    li gp, 19
    FAIL_IF_NE(sp, a1)
    la sp, cbuf
    c.lui a0, 0x1f
    CHECK_REG(20, a0, 0x1f000)
    c.lui a0, 0xfffff
    CHECK_REG(21, a0, 0xfffffffffffff000)
    c.lui a0, 0xfffe0
    CHECK_REG(22, a0, 0xfffffffffffe0000)
    c.lui a0, 1
    CHECK_REG(23, a0, 0x1000)
    TEST_C1(24, c.srli, 1, 0x8000000000000000, 63)
    TEST_C1(25, c.srli, 0x00000000ffffffff, 0xffffffffffffffff, 32)
    TEST_C1(26, c.srli, 0x091a2b3c4d5e6f78, 0x123456789abcdef0, 1)
    TEST_C1(27, c.srai, 0xffffffffffffffff, 0x8000000000000000, 63)
    TEST_C1(28, c.srai, 0xffffffff80000000, 0x8000000000000000, 32)
    TEST_C1(29, c.srai, 0x3, 0x7, 1)
    TEST_C1(30, c.andi, 0x123456789abcdee0, 0x123456789abcdef0, -32)
    TEST_C1(31, c.andi, 0x10, 0x123456789abcdef0, 31)
    TEST_C2(32, c.sub, 0xffffffffffffffff, 0, 1)
    TEST_C2(33, c.sub, 0x7fffffffffffffff, 0x8000000000000000, 1)
    TEST_C2(34, c.xor, 0xf0f0f0f00f0f0f0f, 0xff00ff0000ff00ff, 0x0ff00ff00ff00ff0)
    TEST_C2(35, c.or, 0xfff0fff00fff0fff, 0xff00ff0000ff00ff, 0x0ff00ff00ff00ff0)
    TEST_C2(36, c.and, 0x0f000f0000f000f0, 0xff00ff0000ff00ff, 0x0ff00ff00ff00ff0)
    TEST_C2(37, c.subw, 0x7fffffff, 0xffffffff80000000, 1)
    TEST_C2(38, c.subw, 0xffffffffffffffff, 0x1234567800000000, 1)
    TEST_C2(39, c.addw, 0xffffffff80000000, 0x7fffffff, 1)
    TEST_C2(40, c.addw, 0, 0xffffffff, 1)
    /* c.j forward and backward */
    li gp, 41
    li a0, 2
    c.j 1f
    j test_fail
2:  c.addi a0, -1
    c.beqz a0, 3f
1:  c.j 2b
3:  CHECK_REG(41, a0, 0)
    /* c.beqz / c.bnez taken and not taken */
    li gp, 42
    li a0, 0
    c.bnez a0, 4f
    c.beqz a0, 5f
4:  j test_fail
5:  li a0, -1
    c.beqz a0, 4b
    c.bnez a0, 6f
    j test_fail
6:

    /* quadrant 2 */
    TEST_C1(43, c.slli, 0x8000000000000000, 1, 63)
    TEST_C1(44, c.slli, 0x3456789abcdef000, 0x123456789abcdef0, 8)
    TEST_C1(45, c.slli, 0xffffffff00000000, 0xffffffff, 32)
    li t0, 0x80000000deadbeef
    sd t0, 248(sp)
    c.lwsp a0, 252(sp)
    CHECK_REG(46, a0, 0xffffffff80000000)
    c.lwsp a0, 248(sp)
    CHECK_REG(47, a0, 0xffffffffdeadbeef)
    sd t0, 504(sp)
    c.ldsp a0, 504(sp)
    CHECK_REG(48, a0, 0x80000000deadbeef)
    li a2, 0x1122334455667788
    c.swsp a2, 252(sp)
    ld a0, 248(sp)
    CHECK_REG(49, a0, 0x55667788deadbeef)
    c.sdsp a2, 504(sp)
    ld a0, 504(sp)
    CHECK_REG(50, a0, 0x1122334455667788)
    c.sdsp a2, 0(sp)
    c.ldsp a3, 0(sp)
    CHECK_REG(51, a3, 0x1122334455667788)
    /* c.jr */
    li gp, 52
    la a1, 7f
    c.jr a1
    j test_fail
7:  /* c.mv / c.add */
    TEST_C2(53, c.mv, 0x123456789abcdef0, 5, 0x123456789abcdef0)
    TEST_C2(54, c.add, 0x8000000000000000, 0x7fffffffffffffff, 1)
    TEST_C2(55, c.add, 0, 0xffffffffffffffff, 1)
    /* c.jalr: ra = pc + 2 */
    li gp, 56
    la a1, 8f
9:  c.jalr a1
    j test_fail
8:  la a2, 9b
    addi a2, a2, 2
    FAIL_IF_NE(ra, a2)
    /* c.ebreak: breakpoint, mepc = mtval = its address, 2-byte instruction */
    EXPECT_TRAP(10f)
11: c.ebreak
10: CHECK_TRAP(57, CAUSE_BREAKPOINT)
    CHECK_TRAP_EPC(57, 11b)
    CHECK_TRAP_TVAL_PC_OR_ZERO(57, 11b)

    /* reserved encodings */
    TEST_C_ILLEGAL(60, 0x0000)      /* all-zero halfword */
    TEST_C_ILLEGAL(61, 0x6101)      /* c.addi16sp sp, 0 */
    TEST_C_ILLEGAL(62, 0x6501)      /* c.lui a0, 0 */
    TEST_C_ILLEGAL(63, 0x4002)      /* c.lwsp x0, 0(sp) */
    TEST_C_ILLEGAL(64, 0x6002)      /* c.ldsp x0, 0(sp) */
    TEST_C_ILLEGAL(65, 0x8002)      /* c.jr x0 */
    TEST_C_ILLEGAL(66, 0x2001)      /* c.addiw x0, 0 */

    /* register-field edges: x8 (s0), x9 (s1), x15 (a5) in the 3-bit fields, x31 (t6) and x1 in
     * the 5-bit ones */
    mv s3, s0
    mv s4, s1
    la a5, cbuf
    li t0, 0x7766554433221100
    sd t0, 16(a5)
    c.lw s0, 20(a5)
    CHECK_REG(70, s0, 0x77665544)
    c.ld s1, 16(a5)
    CHECK_REG(71, s1, 0x7766554433221100)
    sd zero, 0(a5)
    c.sw s1, 0(a5)
    c.sd s0, 8(a5)
    ld a0, 0(a5)
    CHECK_REG(72, a0, 0x33221100)
    ld a0, 8(a5)
    CHECK_REG(73, a0, 0x77665544)
    li s0, 0xf0
    li a5, 0x3c
    c.and s0, a5
    CHECK_REG(74, s0, 0x30)
    c.sub a5, s0
    CHECK_REG(75, a5, 0xc)
    c.srli s0, 4
    CHECK_REG(76, s0, 0x3)
    c.addi4spn a5, sp, 8
    la a0, cbuf + 8
    li gp, 77
    FAIL_IF_NE(a5, a0)
    li t6, 5
    c.addi t6, 7
    CHECK_REG(78, t6, 12)
    c.slli t6, 60
    CHECK_REG(79, t6, 0xc000000000000000)
    c.mv ra, t6
    c.add t6, ra
    CHECK_REG(80, t6, 0x8000000000000000)
    c.sdsp t6, 16(sp)
    c.ldsp ra, 16(sp)
    CHECK_REG(81, ra, 0x8000000000000000)
    c.lwsp t6, 20(sp)
    CHECK_REG(82, t6, 0xffffffff80000000)
    mv s0, s3
    mv s1, s4

    mv sp, s2
    TEST_PASS

    .data
    .align 4
cbuf:
    .space 1040
