/* RV64I loads and stores: lb lbu lh lhu lw lwu ld sb sh sw sd with positive and negative
 * offsets, sign- versus zero-extension at every width, partial stores leaving the neighbouring
 * bytes intact, a load whose rd equals its base register, a load into x0, and the fences
 * (fence, fence with explicit sets, fence.tso) executing as no-ops. */
#include "test.h"
    .option norvc

/* Pre-fill sbuf with 0x55 bytes, store, read back the doubleword. */
#define TEST_ST(n, inst, value, off, expect) \
    la a1, sbuf; li t0, 0x5555555555555555; sd t0, 0(a1); \
    TEST_STORE(n, inst, value, sbuf, off, expect)

    .text
    .globl test_main
test_main:
    /* lb */
    TEST_LOAD(1, lb, 0xffffffffffffff87, ldata, 0)
    TEST_LOAD(2, lb, 0xffffffffffffff96, ldata, 1)
    TEST_LOAD(3, lb, 0xfffffffffffffff0, ldata, 7)
    TEST_LOAD(4, lb, 0xffffffffffffffef, ldata, 8)
    TEST_LOAD(5, lb, 0x1, ldata, 15)
    /* lbu */
    TEST_LOAD(6, lbu, 0x87, ldata, 0)
    TEST_LOAD(7, lbu, 0xf0, ldata, 7)
    TEST_LOAD(8, lbu, 0x1, ldata, 15)
    /* lh */
    TEST_LOAD(9, lh, 0xffffffffffff9687, ldata, 0)
    TEST_LOAD(10, lh, 0xffffffffffffb4a5, ldata, 2)
    TEST_LOAD(11, lh, 0xfffffffffffff0e1, ldata, 6)
    TEST_LOAD(12, lh, 0xffffffffffffcdef, ldata, 8)
    TEST_LOAD(13, lh, 0x123, ldata, 14)
    /* lhu */
    TEST_LOAD(14, lhu, 0x9687, ldata, 0)
    TEST_LOAD(15, lhu, 0xf0e1, ldata, 6)
    TEST_LOAD(16, lhu, 0x123, ldata, 14)
    /* lw */
    TEST_LOAD(17, lw, 0xffffffffb4a59687, ldata, 0)
    TEST_LOAD(18, lw, 0xfffffffff0e1d2c3, ldata, 4)
    TEST_LOAD(19, lw, 0xffffffff89abcdef, ldata, 8)
    TEST_LOAD(20, lw, 0x1234567, ldata, 12)
    /* lwu */
    TEST_LOAD(21, lwu, 0xb4a59687, ldata, 0)
    TEST_LOAD(22, lwu, 0xf0e1d2c3, ldata, 4)
    TEST_LOAD(23, lwu, 0x1234567, ldata, 12)
    /* ld */
    TEST_LOAD(24, ld, 0xf0e1d2c3b4a59687, ldata, 0)
    TEST_LOAD(25, ld, 0x123456789abcdef, ldata, 8)
    TEST_LOAD(26, lb, 0xfffffffffffffff0, ldata_hi, -1)
    TEST_LOAD(27, lh, 0xfffffffffffff0e1, ldata_hi, -2)
    TEST_LOAD(28, lw, 0xfffffffff0e1d2c3, ldata_hi, -4)
    TEST_LOAD(29, ld, 0xf0e1d2c3b4a59687, ldata_hi, -8)
    TEST_LOAD(30, lbu, 0x87, ldata_hi, -8)
    TEST_LOAD(31, lhu, 0xd2c3, ldata_hi, -4)
    TEST_LOAD(32, lwu, 0xf0e1d2c3, ldata_hi, -4)
    TEST_ST(33, sb, 0xffffffffffffffa5, 0, 0x55555555555555a5)
    TEST_ST(34, sb, 0xffffffffffffffa5, 3, 0x55555555a5555555)
    TEST_ST(35, sb, 0xffffffffffffffa5, 7, 0xa555555555555555)
    TEST_ST(36, sh, 0x123456789abcbeef, 0, 0x555555555555beef)
    TEST_ST(37, sh, 0x123456789abcbeef, 2, 0x55555555beef5555)
    TEST_ST(38, sh, 0x123456789abcbeef, 6, 0xbeef555555555555)
    TEST_ST(39, sw, 0xdeadbeefcafef00d, 0, 0x55555555cafef00d)
    TEST_ST(40, sw, 0xdeadbeefcafef00d, 4, 0xcafef00d55555555)
    TEST_ST(41, sd, 0x123456789abcdef, 0, 0x123456789abcdef)
    /* rd == base register */
    la a1, ldata
    ld a1, 8(a1)
    CHECK_REG(42, a1, 0x0123456789abcdef)
    /* load into x0 is discarded */
    la a1, ldata
    ld x0, 0(a1)
    CHECK_REG(43, x0, 0)
    /* negative store offset */
    la a1, sbuf
    sd zero, 0(a1)
    addi a1, a1, 8
    li a2, 0x1122334455667788
    sw a2, -4(a1)
    ld a0, -8(a1)
    CHECK_REG(44, a0, 0x5566778800000000)
    /* fences are no-ops for a single hart */
    li a0, 3
    fence
    fence rw, rw
    fence iorw, iorw
    fence r, r
    fence w, w
    fence i, o
    fence.tso
    CHECK_REG(45, a0, 3)
    TEST_PASS

    .data
    .align 3
ldata:
    .dword 0xf0e1d2c3b4a59687
ldata_hi:
    .dword 0x0123456789abcdef
sbuf:
    .dword 0, 0
