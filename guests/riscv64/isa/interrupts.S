/* Interrupts on the spike board (CLINT: msip 0x0200_0000, mtimecmp 0x0200_4000,
 * mtime 0x0200_bff8):
 *  - supervisor software interrupt (mip.SSIP set from M) delegated via mideleg, taken in S
 *    through a vectored stvec (entry 1), scause = 2^63 | 1, sepc = the interrupted instruction
 *  - a pending S interrupt is held while in S with sstatus.SIE = 0 and taken as soon as the hart
 *    drops to U (direct stvec), and S clears it through sip
 *  - supervisor timer interrupt (mip.STIP set from M) delegated, vectored entry 5
 *  - machine timer interrupt from CLINT mtimecmp <= mtime, taken in M with MIE = 1 and in U even
 *    with MIE = 0; mip.MTIP follows mtimecmp
 *  - machine software interrupt from CLINT msip, mip.MSIP follows msip
 *  - priority: MSI before MTI when both are pending
 *  - vectored mtvec: interrupt cause c enters at base + 4c, exceptions at the base
 *  - sie / sip are the mideleg-selected parts of mie / mip (read and write)
 *  - an undelegated SSIP is taken in M when the hart runs in S, even with mstatus.MIE = 0
 *  - wfi returns once an enabled interrupt is pending, even with MIE = 0 */
#include "test.h"
    .option norvc

#define INT(cause) (CAUSE_INTERRUPT | (cause))
#define M_SOFT_AND_TIMER ((1 << IRQ_M_SOFT) | (1 << IRQ_M_TIMER))
#define S_INTERRUPTS 0x222      /* SSI, STI, SEI */
/* mtimecmp = mtime + delta */
#define TIMER_IN(delta) \
    li t0, CLINT_MTIME; ld t1, 0(t0); li t0, delta; add t1, t1, t0; \
    li t0, CLINT_MTIMECMP; sd t1, 0(t0)
#define TIMER_OFF li t0, CLINT_MTIMECMP; li t1, -1; sd t1, 0(t0)

    .text
    .globl test_main
test_main:
    TIMER_OFF
    /* S software interrupt, delegated, vectored stvec, taken in S with SIE = 1 */
    li t0, 1 << IRQ_S_SOFT
    csrw mideleg, t0
    csrs mie, t0
    la t0, stvec_table
    ori t0, t0, 1
    csrw stvec, t0
    la t0, trap_state
    li t1, -1
    sd t1, TS_VECTOR(t0)
    li t0, MSTATUS_SIE
    csrs mstatus, t0
    li t0, 1 << IRQ_S_SOFT
    csrs mip, t0
    /* delegated interrupts are never taken in M */
    csrsi mstatus, MSTATUS_MIE
    nop
    csrci mstatus, MSTATUS_MIE
    EXPECT_TRAP(1f)
    ENTER_MODE(PRV_S, 2f)
2:  j 2b
1:  CHECK_TRAP(1, INT(IRQ_S_SOFT))
    CHECK_TRAP_HANDLER(1, PRV_S)
    CHECK_TRAP_EPC(1, 2b)
    CHECK_TRAP_FIELD(1, TS_VECTOR, IRQ_S_SOFT)
    CHECK_TRAP_STATUS(1, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE, MSTATUS_SPP | MSTATUS_SPIE)
    CHECK_CSR(2, sip, 1 << IRQ_S_SOFT, 1 << IRQ_S_SOFT)
    li t0, 1 << IRQ_S_SOFT
    csrc sip, t0
    CHECK_CSR(3, sip, 1 << IRQ_S_SOFT, 0)
    SWITCH_TO_M

    /* pending while S has SIE = 0, taken once in U; direct stvec */
    la t0, trap_s
    csrw stvec, t0
    la t0, trap_state
    li t1, -1
    sd t1, TS_VECTOR(t0)
    li t0, MSTATUS_SIE
    csrc mstatus, t0
    li t0, 1 << IRQ_S_SOFT
    csrs mip, t0
    li a0, 0
    EXPECT_TRAP(1f)
    ENTER_MODE(PRV_S, 2f)
2:  nop
    li a0, 1
    ENTER_U_FROM_S(3f)
3:  j 3b
1:  CHECK_TRAP(4, INT(IRQ_S_SOFT))
    CHECK_TRAP_HANDLER(4, PRV_S)
    CHECK_TRAP_EPC(4, 3b)
    CHECK_TRAP_STATUS(4, MSTATUS_SPP, 0)
    CHECK_TRAP_FIELD(4, TS_VECTOR, -1)
    CHECK_REG(5, a0, 1)
    li t0, 1 << IRQ_S_SOFT
    csrc sip, t0
    SWITCH_TO_M

    /* S timer interrupt (STIP written by M), delegated, vectored entry 5 */
    li t0, (1 << IRQ_S_SOFT) | (1 << IRQ_S_TIMER)
    csrw mideleg, t0
    li t0, 1 << IRQ_S_TIMER
    csrs mie, t0
    la t0, stvec_table
    ori t0, t0, 1
    csrw stvec, t0
    li t0, MSTATUS_SIE
    csrs mstatus, t0
    li t0, 1 << IRQ_S_TIMER
    csrs mip, t0
    EXPECT_TRAP(1f)
    ENTER_MODE(PRV_S, 2f)
2:  j 2b
1:  CHECK_TRAP(6, INT(IRQ_S_TIMER))
    CHECK_TRAP_HANDLER(6, PRV_S)
    CHECK_TRAP_FIELD(6, TS_VECTOR, IRQ_S_TIMER)
    CHECK_TRAP_EPC(6, 2b)
    SWITCH_TO_M
    li t0, 1 << IRQ_S_TIMER
    csrc mip, t0
    CHECK_CSR(7, mip, 1 << IRQ_S_TIMER, 0)
    csrw mideleg, zero
    csrw mie, zero
    li t0, MSTATUS_SIE
    csrc mstatus, t0

    /* M timer interrupt in M */
    TIMER_IN(0x10000000000)
    CHECK_CSR(10, mip, 1 << IRQ_M_TIMER, 0)
    TIMER_IN(1000)
    li t0, 1 << IRQ_M_TIMER
    csrs mie, t0
    EXPECT_TRAP(1f)
    csrsi mstatus, MSTATUS_MIE
2:  j 2b
1:  CHECK_TRAP(11, INT(IRQ_M_TIMER))
    CHECK_TRAP_HANDLER(11, PRV_M)
    CHECK_TRAP_EPC(11, 2b)
    CHECK_TRAP_STATUS(11, MSTATUS_MPP | MSTATUS_MPIE, MSTATUS_MPP | MSTATUS_MPIE)
    CHECK_CSR(12, mip, 1 << IRQ_M_TIMER, 1 << IRQ_M_TIMER)
    TIMER_OFF
    CHECK_CSR(13, mip, 1 << IRQ_M_TIMER, 0)
    CHECK_CSR(14, mstatus, MSTATUS_MIE, 0)

    /* M timer interrupt while in U, MIE = 0 (MPIE = 0 at the mret) */
    li t0, MSTATUS_MPIE
    csrc mstatus, t0
    TIMER_IN(1000)
    EXPECT_TRAP(1f)
    ENTER_MODE(PRV_U, 2f)
2:  j 2b
1:  CHECK_TRAP(15, INT(IRQ_M_TIMER))
    CHECK_TRAP_EPC(15, 2b)
    CHECK_TRAP_STATUS(15, MSTATUS_MPP | MSTATUS_MPIE, 0)
    TIMER_OFF

    /* wfi wakes up on a pending enabled interrupt even with MIE = 0 */
    TIMER_IN(1000)
3:  wfi
    csrr a0, mip
    andi a0, a0, 1 << IRQ_M_TIMER
    beqz a0, 3b
    TIMER_OFF
    csrw mie, zero

    /* M software interrupt from CLINT msip */
    li t0, 1 << IRQ_M_SOFT
    csrs mie, t0
    li t0, CLINT_MSIP
    li t1, 1
    sw t1, 0(t0)
    CHECK_CSR(20, mip, 1 << IRQ_M_SOFT, 1 << IRQ_M_SOFT)
    EXPECT_TRAP(1f)
    csrsi mstatus, MSTATUS_MIE
2:  j 2b
1:  CHECK_TRAP(21, INT(IRQ_M_SOFT))
    CHECK_TRAP_EPC(21, 2b)
    li t0, CLINT_MSIP
    sw zero, 0(t0)
    CHECK_CSR(22, mip, 1 << IRQ_M_SOFT, 0)
    csrw mie, zero

    /* priority: with MSI and MTI both pending, MSI is taken first, then MTI */
    TIMER_IN(0)
    li t0, CLINT_MSIP
    li t1, 1
    sw t1, 0(t0)
    li t0, M_SOFT_AND_TIMER
    csrs mie, t0
    CHECK_CSR(24, mip, M_SOFT_AND_TIMER, M_SOFT_AND_TIMER)
    EXPECT_TRAP(1f)
    csrsi mstatus, MSTATUS_MIE
2:  j 2b
1:  CHECK_TRAP(25, INT(IRQ_M_SOFT))
    li t0, CLINT_MSIP
    sw zero, 0(t0)
    EXPECT_TRAP(1f)
    csrsi mstatus, MSTATUS_MIE
2:  j 2b
1:  CHECK_TRAP(26, INT(IRQ_M_TIMER))
    TIMER_OFF
    csrw mie, zero

    /* vectored mtvec: interrupts enter at base + 4 * cause, exceptions at the base */
    la t0, mtvec_table
    ori t0, t0, 1
    csrw mtvec, t0
    la t0, trap_state
    li t1, -1
    sd t1, TS_VECTOR(t0)
    TIMER_IN(0)
    li t0, 1 << IRQ_M_TIMER
    csrs mie, t0
    EXPECT_TRAP(1f)
    csrsi mstatus, MSTATUS_MIE
2:  j 2b
1:  CHECK_TRAP(27, INT(IRQ_M_TIMER))
    CHECK_TRAP_EPC(27, 2b)
    CHECK_TRAP_FIELD(27, TS_VECTOR, IRQ_M_TIMER)
    TIMER_OFF
    csrw mie, zero
    la t0, trap_state
    li t1, -1
    sd t1, TS_VECTOR(t0)
    li a7, 0
    EXPECT_TRAP(1f)
2:  ecall
1:  CHECK_TRAP(28, CAUSE_MACHINE_ECALL)
    CHECK_TRAP_EPC(28, 2b)
    CHECK_TRAP_FIELD(28, TS_VECTOR, 0)
    la t0, trap_m
    csrw mtvec, t0

    /* sie / sip show mie / mip only for interrupts delegated in mideleg */
    li t0, 0xaaa
    csrw mie, t0
    csrw mideleg, zero
    CHECK_CSR(30, sie, -1, 0)
    li t0, S_INTERRUPTS
    csrw mideleg, t0
    CHECK_CSR(31, sie, -1, S_INTERRUPTS)
    csrw sie, zero
    CHECK_CSR(32, mie, -1, 0xaaa & ~S_INTERRUPTS)
    li t0, -1
    csrw sie, t0
    CHECK_CSR(33, mie, -1, 0xaaa)
    csrw mie, zero
    li t0, 1 << IRQ_S_SOFT
    csrs mip, t0
    CHECK_CSR(34, sip, -1, 1 << IRQ_S_SOFT)
    csrw mideleg, zero
    CHECK_CSR(35, sip, -1, 0)
    li t0, 1 << IRQ_S_SOFT
    csrc mip, t0

    /* undelegated SSIP: taken in M while running in S, MIE = 0 */
    li t0, 1 << IRQ_S_SOFT
    csrs mie, t0
    csrs mip, t0
    EXPECT_TRAP(1f)
    ENTER_MODE(PRV_S, 2f)
2:  j 2b
1:  CHECK_TRAP(23, INT(IRQ_S_SOFT))
    CHECK_TRAP_HANDLER(23, PRV_M)
    CHECK_TRAP_EPC(23, 2b)
    CHECK_TRAP_STATUS(23, MSTATUS_MPP, MSTATUS_MPP_S)
    li t0, 1 << IRQ_S_SOFT
    csrc mip, t0
    csrw mie, zero
    TEST_PASS
