/* Counters: cycle and instret (and mcycle/minstret) readable in M-mode and advancing;
 * minstret/mcycle writable from M; access from S needs the mcounteren bit (CY = 0, IR = 2), from
 * U both mcounteren and scounteren, otherwise illegal instruction with mtval = the encoding.
 * The spike board has no `time` CSR (QEMU creates its CLINT without rdtime, as on real Spike,
 * where firmware emulates rdtime from mtime): reading `time` is an illegal instruction in every
 * mode, whatever mcounteren.TM says, while CLINT mtime itself advances. */
#include "test.h"
    .option norvc

#define TEST_COUNTER_OK(n, prv, csr) \
    li a0, 0; ENTER_MODE(prv, 99f); 99: csrr a0, csr; csrr a1, csr; SWITCH_TO_M; \
    li gp, n; FAIL_IF_EQ(a0, zero); bgeu a1, a0, 97f; j test_fail; 97:

    .text
    .globl test_main
test_main:
    /* readable in M and advancing */
    rdcycle a0
    rdcycle a1
    li gp, 1
    FAIL_IF_EQ(a0, zero)
    bltu a0, a1, 1f
    j test_fail
1:  rdinstret a0
    nop
    rdinstret a1
    li gp, 2
    bltu a0, a1, 1f
    j test_fail
1:  csrr a0, mcycle
    csrr a1, minstret
    li gp, 3
    FAIL_IF_EQ(a0, zero)
    FAIL_IF_EQ(a1, zero)
    /* no time CSR; mtime advances (spin until it does) */
    TEST_ILLEGAL(4, rdtime a0)
    li t0, CLINT_MTIME
    ld a0, 0(t0)
1:  ld a1, 0(t0)
    beq a0, a1, 1b
    li gp, 5
    bltu a0, a1, 1f
    j test_fail
1:
    /* minstret / mcycle are writable from M */
    li t0, 0x100000000000
    csrw minstret, t0
    csrr a0, minstret
    li gp, 6
    bgeu a0, t0, 1f
    j test_fail
1:  li t1, 0x110000000000
    bltu a0, t1, 1f
    j test_fail
1:  csrw mcycle, t0
    csrr a0, mcycle
    li gp, 7
    bgeu a0, t0, 1f
    j test_fail
1:
    /* mcounteren = 0: S and U cannot read */
    csrw mcounteren, zero
    csrw scounteren, zero
    TEST_ILLEGAL_IN_MODE(10, PRV_S, csrr a0, cycle)
    TEST_ILLEGAL_IN_MODE(11, PRV_S, csrr a0, time)
    TEST_ILLEGAL_IN_MODE(12, PRV_S, csrr a0, instret)
    TEST_ILLEGAL_IN_MODE(13, PRV_U, csrr a0, cycle)
    TEST_ILLEGAL_IN_MODE(14, PRV_U, csrr a0, time)
    TEST_ILLEGAL_IN_MODE(15, PRV_U, csrr a0, instret)
    /* mcounteren = all, scounteren = 0: S reads, U still cannot */
    li t0, 7
    csrw mcounteren, t0
    TEST_COUNTER_OK(16, PRV_S, cycle)
    TEST_ILLEGAL_IN_MODE(17, PRV_S, csrr a0, time)
    TEST_COUNTER_OK(18, PRV_S, instret)
    TEST_ILLEGAL_IN_MODE(19, PRV_U, csrr a0, cycle)
    TEST_ILLEGAL_IN_MODE(20, PRV_U, csrr a0, instret)
    /* both enabled: U reads */
    li t0, 7
    csrw scounteren, t0
    TEST_COUNTER_OK(21, PRV_U, cycle)
    TEST_ILLEGAL_IN_MODE(22, PRV_U, csrr a0, time)
    TEST_COUNTER_OK(23, PRV_U, instret)
    /* individual bits: only IR */
    li t0, 4
    csrw mcounteren, t0
    csrw scounteren, t0
    TEST_COUNTER_OK(24, PRV_U, instret)
    TEST_ILLEGAL_IN_MODE(25, PRV_U, csrr a0, cycle)
    TEST_ILLEGAL_IN_MODE(26, PRV_S, csrr a0, cycle)
    /* M-mode counters are never accessible below M */
    li t0, 7
    csrw mcounteren, t0
    TEST_ILLEGAL_IN_MODE(27, PRV_S, csrr a0, mcycle)
    TEST_ILLEGAL_IN_MODE(28, PRV_U, csrr a0, minstret)
    TEST_PASS
