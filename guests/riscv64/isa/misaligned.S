/* Misaligned ordinary loads and stores do not trap on this machine (QEMU and polyvm perform
 * them in hardware): lh lhu lw lwu ld sh sw sd at every misaligned offset class, the values
 * assembled little-endian with the right sign-extension, stores touching exactly their bytes,
 * and accesses straddling a 4 KiB page boundary (physical addresses, M-mode; the virtual
 * version with two differently-placed physical pages is in vm_sv39.S). */
#include "test.h"
    .option norvc

/* Pre-fill mbuf with 0x55, store misaligned, check both doublewords. */
#define TEST_ST_MIS(n, inst, value, off, lo, hi) \
    la a1, mbuf; li t0, 0x5555555555555555; sd t0, 0(a1); sd t0, 8(a1); li a2, value; \
    inst a2, off(a1); ld a0, 0(a1); CHECK_REG(n, a0, lo); ld a0, 8(a1); CHECK_REG(n, a0, hi)

    .text
    .globl test_main
test_main:
    /* mbuf = bytes 0x80..0x8f */
    la a1, mbuf
    li t0, 0x8786858483828180
    sd t0, 0(a1)
    li t0, 0x8f8e8d8c8b8a8988
    sd t0, 8(a1)
    TEST_LOAD(1, lh, 0xffffffffffff8281, mbuf, 1)
    TEST_LOAD(2, lh, 0xffffffffffff8483, mbuf, 3)
    TEST_LOAD(3, lh, 0xffffffffffff8887, mbuf, 7)
    TEST_LOAD(4, lhu, 0x8281, mbuf, 1)
    TEST_LOAD(5, lhu, 0x8f8e, mbuf, 14)
    TEST_LOAD(6, lw, 0xffffffff84838281, mbuf, 1)
    TEST_LOAD(7, lw, 0xffffffff85848382, mbuf, 2)
    TEST_LOAD(8, lw, 0xffffffff86858483, mbuf, 3)
    TEST_LOAD(9, lw, 0xffffffff88878685, mbuf, 5)
    TEST_LOAD(10, lwu, 0x86858483, mbuf, 3)
    TEST_LOAD(11, lwu, 0x8a898887, mbuf, 7)
    TEST_LOAD(12, ld, 0x8887868584838281, mbuf, 1)
    TEST_LOAD(13, ld, 0x8988878685848382, mbuf, 2)
    TEST_LOAD(14, ld, 0x8a89888786858483, mbuf, 3)
    TEST_LOAD(15, ld, 0x8b8a898887868584, mbuf, 4)
    TEST_LOAD(16, ld, 0x8c8b8a8988878685, mbuf, 5)
    TEST_LOAD(17, ld, 0x8d8c8b8a89888786, mbuf, 6)
    TEST_LOAD(18, ld, 0x8e8d8c8b8a898887, mbuf, 7)
    TEST_ST_MIS(19, sh, 0xbeef, 1, 0x5555555555beef55, 0x5555555555555555)
    TEST_ST_MIS(20, sh, 0xcafe, 7, 0xfe55555555555555, 0x55555555555555ca)
    TEST_ST_MIS(21, sw, 0xdeadbeef, 1, 0x555555deadbeef55, 0x5555555555555555)
    TEST_ST_MIS(22, sw, 0x1234567, 6, 0x4567555555555555, 0x5555555555550123)
    TEST_ST_MIS(23, sd, 0x123456789abcdef, 3, 0x6789abcdef555555, 0x5555555555012345)
    TEST_ST_MIS(24, sd, 0xfedcba9876543210, 7, 0x1055555555555555, 0x55fedcba98765432)
    /* across a page boundary: pagebuf + 4096 starts a new page */
    la a1, pagebuf
    li t0, 4096
    add a1, a1, t0
    li t0, 0x1122334455667788
    sd t0, -8(a1)
    li t0, 0x99aabbccddeeff00
    sd t0, 0(a1)
    ld a0, -4(a1)
    CHECK_REG(40, a0, 0xddeeff0011223344)
    lw a0, -2(a1)
    CHECK_REG(41, a0, 0xffffffffff001122)
    lhu a0, -1(a1)
    CHECK_REG(42, a0, 0x0011)
    ld a0, -1(a1)
    CHECK_REG(43, a0, 0xaabbccddeeff0011)
    li a2, 0x0102030405060708
    sd a2, -3(a1)
    ld a0, -8(a1)
    CHECK_REG(44, a0, 0x0607084455667788)
    ld a0, 0(a1)
    CHECK_REG(45, a0, 0x99aabb0102030405)
    li a2, 0xa0b0c0d0
    sw a2, -1(a1)
    ld a0, -8(a1)
    CHECK_REG(46, a0, 0xd007084455667788)
    ld a0, 0(a1)
    CHECK_REG(47, a0, 0x99aabb0102a0b0c0)
    TEST_PASS

    .data
    .align 4
mbuf:
    .space 16
    .align 12
pagebuf:
    .space 8192
