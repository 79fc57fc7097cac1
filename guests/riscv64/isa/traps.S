/* Synchronous exceptions reachable without paging, each checked for mcause, mepc, mtval and the
 * previous privilege in mstatus.MPP, taken in M-mode with nothing delegated:
 *   1  instruction access fault: jump to 0x0 and to an unmapped physical address (mtval = target)
 *   2  illegal instruction, mtval = the encoding: 0xffffffff, the all-zero halfword, mret in U
 *      and S, sret in U, sret in S with mstatus.TSR, M-mode CSR from S, S-mode CSR from U,
 *      sfence.vma in U, satp / sfence.vma in S with mstatus.TVM, wfi in U, wfi in S with
 *      mstatus.TW; rd is left unchanged
 *   3  breakpoint: ebreak (mtval = pc or 0; QEMU 7.2 writes 0, which the spec allows)
 *   5/7 load / store access fault on an unmapped physical address (mtval = address)
 *   8/9/11 ecall from U / S / M (mtval = 0)
 * Cause 0 (instruction address misaligned) cannot occur with the C extension: see
 * rv64i_control.S.  Misaligned AMO/LR/SC (4/6) are in rv64a.S, page faults (12/13/15) in
 * vm_sv39.S / vm_sv48.S. */
#include "test.h"
    .option norvc

    .text
    .globl test_main
test_main:
    /* 1: instruction access fault */
    EXPECT_TRAP(1f)
    li a1, 0
    jalr ra, 0(a1)
1:  TEST_TRAP_AT(1, CAUSE_FETCH_ACCESS, 0, 0)
    EXPECT_TRAP(1f)
    li a1, UNMAPPED_PA
    jalr ra, 0(a1)
1:  CHECK_TRAP(2, CAUSE_FETCH_ACCESS)
    CHECK_TRAP_FIELD(2, TS_EPC, UNMAPPED_PA)
    CHECK_TRAP_TVAL(2, UNMAPPED_PA)
    EXPECT_TRAP(1f)
    ENTER_MODE(PRV_U, 2f)
2:  jalr x0, 0(x0)
1:  TEST_TRAP_AT(3, CAUSE_FETCH_ACCESS, 0, 0)
    CHECK_TRAP_STATUS(3, MSTATUS_MPP, PRV_U << 11)

    /* 2: illegal instruction */
    li a0, 0x66
    TEST_ILLEGAL(10, .word 0xffffffff)
    EXPECT_TRAP(1f)
2:  .hword 0
1:  TEST_TRAP_AT(11, CAUSE_ILLEGAL_INSTRUCTION, 2b, 0)
    TEST_ILLEGAL_IN_MODE(12, PRV_U, mret)
    TEST_ILLEGAL_IN_MODE(13, PRV_S, mret)
    TEST_ILLEGAL_IN_MODE(14, PRV_U, sret)
    li t0, MSTATUS_TSR
    csrs mstatus, t0
    TEST_ILLEGAL_IN_MODE(15, PRV_S, sret)
    li t0, MSTATUS_TSR
    csrc mstatus, t0
    TEST_ILLEGAL_IN_MODE(16, PRV_S, csrr a0, mstatus)
    TEST_ILLEGAL_IN_MODE(17, PRV_S, csrw mscratch, a1)
    TEST_ILLEGAL_IN_MODE(18, PRV_U, csrr a0, sstatus)
    TEST_ILLEGAL_IN_MODE(19, PRV_U, csrw sscratch, a1)
    TEST_ILLEGAL_IN_MODE(20, PRV_U, sfence.vma)
    li t0, MSTATUS_TVM
    csrs mstatus, t0
    TEST_ILLEGAL_IN_MODE(21, PRV_S, csrr a0, satp)
    TEST_ILLEGAL_IN_MODE(22, PRV_S, sfence.vma x0, x0)
    li t0, MSTATUS_TVM
    csrc mstatus, t0
    /* wfi: illegal in U (S-mode exists, QEMU never lets it wait there) and in S with TW */
    TEST_ILLEGAL_IN_MODE(25, PRV_U, wfi)
    li t0, MSTATUS_TW
    csrs mstatus, t0
    TEST_ILLEGAL_IN_MODE(26, PRV_S, wfi)
    li t0, MSTATUS_TW
    csrc mstatus, t0
    CHECK_REG(23, a0, 0x66)
    /* the same S-mode accesses are legal without TVM */
    ENTER_MODE(PRV_S, 1f)
1:  csrr a0, satp
    sfence.vma
    SWITCH_TO_M
    CHECK_REG(24, a0, 0)

    /* 3: breakpoint */
    EXPECT_TRAP(1f)
2:  ebreak
1:  CHECK_TRAP(30, CAUSE_BREAKPOINT)
    CHECK_TRAP_EPC(30, 2b)
    CHECK_TRAP_TVAL_PC_OR_ZERO(30, 2b)
    EXPECT_TRAP(1f)
    ENTER_MODE(PRV_U, 2f)
2:  ebreak
1:  CHECK_TRAP(31, CAUSE_BREAKPOINT)
    CHECK_TRAP_EPC(31, 2b)
    CHECK_TRAP_STATUS(31, MSTATUS_MPP, PRV_U << 11)

    /* 5 / 7: load / store access fault */
    li a1, UNMAPPED_PA
    li a0, 0x66
    EXPECT_TRAP(1f)
2:  ld a0, 8(a1)
1:  TEST_TRAP_AT(40, CAUSE_LOAD_ACCESS, 2b, UNMAPPED_PA + 8)
    CHECK_REG(40, a0, 0x66)
    li a1, UNMAPPED_PA
    EXPECT_TRAP(1f)
2:  sw a0, 4(a1)
1:  TEST_TRAP_AT(41, CAUSE_STORE_ACCESS, 2b, UNMAPPED_PA + 4)
    li a1, UNMAPPED_PA
    TEST_TRAP_IN_MODE(42, PRV_U, CAUSE_LOAD_ACCESS, UNMAPPED_PA, lbu a0, 0(a1))
    li a1, UNMAPPED_PA
    TEST_TRAP_IN_MODE(43, PRV_S, CAUSE_STORE_ACCESS, UNMAPPED_PA + 1, sb a0, 1(a1))

    /* 8 / 9 / 11: environment calls */
    TEST_TRAP_IN_MODE(50, PRV_U, CAUSE_USER_ECALL, 0, ecall)
    TEST_TRAP_IN_MODE(51, PRV_S, CAUSE_SUPERVISOR_ECALL, 0, ecall)
    li a7, 0
    EXPECT_TRAP(1f)
2:  ecall
1:  TEST_TRAP_AT(52, CAUSE_MACHINE_ECALL, 2b, 0)
    CHECK_TRAP_STATUS(52, MSTATUS_MPP, PRV_M << 11)
    TEST_PASS
