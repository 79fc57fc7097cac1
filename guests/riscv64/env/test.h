/* Macros and constants shared by every polyvm RISC-V test guest (riscv-tests style, our own code).
 *
 * A test source defines `test_main` (entered in M-mode, paging off, gp = 0) and ends with
 * TEST_PASS.
 * Checks load gp (the test number, 1..199) and branch to `test_fail`, which reports
 * tohost = (gp << 1) | 1, i.e. QEMU exits with status gp.
 *
 * Trap framework (see crt.S): EXPECT_TRAP(label) arms a one-shot expectation; the next trap taken
 * by the M-mode handler (trap_m) or the S-mode handler (trap_s) records cause/epc/tval/status into
 * `trap_state`, disarms it and resumes at `label` in the handler's own mode (M for trap_m, S for
 * trap_s) with interrupts disabled there (xPIE cleared before xRET).  CHECK_TRAP* then compare the
 * record.  A trap while nothing is armed ends the run with an "unexpected trap" code:
 *   200+cause  exception taken in M     216+cause  exception taken in S
 *   232+cause  interrupt taken in M     244+cause  interrupt taken in S
 * Registers: EXPECT_TRAP clobbers t0/t1; the handlers preserve every register; CHECK_* clobber
 * t0, t1, t2, t6 and gp.
 */
#ifndef POLYVM_TEST_H
#define POLYVM_TEST_H

/* ---- CSR fields ---- */
#define MSTATUS_SIE   (1 << 1)
#define MSTATUS_MIE   (1 << 3)
#define MSTATUS_SPIE  (1 << 5)
#define MSTATUS_MPIE  (1 << 7)
#define MSTATUS_SPP   (1 << 8)
#define MSTATUS_MPP   (3 << 11)
#define MSTATUS_MPP_S (1 << 11)
#define MSTATUS_MPRV  (1 << 17)
#define MSTATUS_SUM   (1 << 18)
#define MSTATUS_MXR   (1 << 19)
#define MSTATUS_TVM   (1 << 20)
#define MSTATUS_TW    (1 << 21)
#define MSTATUS_TSR   (1 << 22)

#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

#define CAUSE_MISALIGNED_FETCH   0
#define CAUSE_FETCH_ACCESS       1
#define CAUSE_ILLEGAL_INSTRUCTION 2
#define CAUSE_BREAKPOINT         3
#define CAUSE_MISALIGNED_LOAD    4
#define CAUSE_LOAD_ACCESS        5
#define CAUSE_MISALIGNED_STORE   6
#define CAUSE_STORE_ACCESS       7
#define CAUSE_USER_ECALL         8
#define CAUSE_SUPERVISOR_ECALL   9
#define CAUSE_MACHINE_ECALL      11
#define CAUSE_FETCH_PAGE_FAULT   12
#define CAUSE_LOAD_PAGE_FAULT    13
#define CAUSE_STORE_PAGE_FAULT   15
#define CAUSE_INTERRUPT          (1 << 63)

#define IRQ_S_SOFT  1
#define IRQ_M_SOFT  3
#define IRQ_S_TIMER 5
#define IRQ_M_TIMER 7

#define PTE_V (1 << 0)
#define PTE_R (1 << 1)
#define PTE_W (1 << 2)
#define PTE_X (1 << 3)
#define PTE_U (1 << 4)
#define PTE_G (1 << 5)
#define PTE_A (1 << 6)
#define PTE_D (1 << 7)

#define SATP_MODE_SV39 (8 << 60)
#define SATP_MODE_SV48 (9 << 60)
#define SATP_MODE_MASK (15 << 60)

#define CLINT_MSIP     0x02000000
#define CLINT_MTIMECMP 0x02004000
#define CLINT_MTIME    0x0200bff8

/* Physical address with nothing behind it on the spike board (RAM is 0x8000_0000..). */
#define UNMAPPED_PA 0x100000000

/* ---- trap_state layout (crt.S) ---- */
#define TS_RESUME  0
#define TS_CAUSE   8
#define TS_EPC     16
#define TS_TVAL    24
#define TS_STATUS  32
#define TS_HANDLER 40
#define TS_VECTOR  48
#define TS_SIZE    96

/* a7 value that turns an ecall from any mode into "continue at the next instruction in M-mode".
 * Only valid from identity-mapped code with the ecall cause not delegated. */
#define ECALL_TO_M 0x7e57

/* ---- reporting ---- */
#define TEST_PASS    j test_pass
#define TEST_FAIL(n) li gp, n; j test_fail

/* Fail with the current test number unless a == b (registers); test_fail may be at any distance. */
#define FAIL_IF_NE(a, b) beq a, b, 90f; j test_fail; 90:
#define FAIL_IF_EQ(a, b) bne a, b, 90f; j test_fail; 90:

/* ---- value checks ---- */
#define CHECK_REG(n, reg, expect) li gp, n; li t6, expect; FAIL_IF_NE(reg, t6)

/* (csr & mask) == expect */
#define CHECK_CSR(n, csr, mask, expect) \
    csrr a0, csr; li t0, mask; and a0, a0, t0; CHECK_REG(n, a0, expect)

/* rd = inst(v1, v2) with registers a1/a2; a0 is the result. */
#define TEST_RR(n, inst, expect, v1, v2) \
    li a1, v1; li a2, v2; inst a0, a1, a2; CHECK_REG(n, a0, expect)
/* Same, with the destination equal to the first source. */
#define TEST_RR_SRC1_DEST(n, inst, expect, v1, v2) \
    li a1, v1; li a2, v2; inst a1, a1, a2; CHECK_REG(n, a1, expect)
/* rd = inst(v1, imm). */
#define TEST_RI(n, inst, expect, v1, imm) \
    li a1, v1; inst a0, a1, imm; CHECK_REG(n, a0, expect)
/* A load of `inst` from `base + off` (base is a label). */
#define TEST_LOAD(n, inst, expect, base, off) \
    la a1, base; inst a0, off(a1); CHECK_REG(n, a0, expect)
/* Store `value` with `inst` to `base + off`, then read back the whole doubleword at `base`. */
#define TEST_STORE(n, inst, value, base, off, expect_dword) \
    la a1, base; li a2, value; inst a2, off(a1); ld a0, 0(a1); CHECK_REG(n, a0, expect_dword)
/* A conditional branch that must be taken / not taken. */
#define TEST_BR_TAKEN(n, inst, v1, v2) \
    li gp, n; li a1, v1; li a2, v2; inst a1, a2, 91f; j test_fail; 91:
#define TEST_BR_NOT_TAKEN(n, inst, v1, v2) \
    li gp, n; li a1, v1; li a2, v2; inst a1, a2, 91f; j 92f; 91: j test_fail; 92:

/* ---- traps ---- */
#define EXPECT_TRAP(resume) la t0, trap_state; la t1, resume; sd t1, TS_RESUME(t0)
#define CHECK_TRAP_FIELD(n, field, expect) \
    li gp, n; la t0, trap_state; ld t1, field(t0); li t2, expect; FAIL_IF_NE(t1, t2)
/* The armed trap happened (expectation consumed) with this cause. */
#define CHECK_TRAP(n, cause) \
    li gp, n; la t0, trap_state; ld t1, TS_RESUME(t0); FAIL_IF_NE(t1, zero); \
    CHECK_TRAP_FIELD(n, TS_CAUSE, cause)
#define CHECK_TRAP_EPC(n, label) \
    li gp, n; la t0, trap_state; ld t1, TS_EPC(t0); la t2, label; FAIL_IF_NE(t1, t2)
#define CHECK_TRAP_TVAL(n, expect) CHECK_TRAP_FIELD(n, TS_TVAL, expect)
/* Illegal-instruction tval: the 32-bit encoding of the instruction at `label`. */
#define CHECK_TRAP_TVAL_INSN(n, label) \
    li gp, n; la t0, trap_state; ld t1, TS_TVAL(t0); la t2, label; lwu t2, 0(t2); \
    FAIL_IF_NE(t1, t2)
/* `insn...` at a fresh label must raise illegal instruction with tval = its encoding. */
#define TEST_ILLEGAL(n, ...) \
    EXPECT_TRAP(98f); 99: __VA_ARGS__; 98: CHECK_TRAP(n, CAUSE_ILLEGAL_INSTRUCTION); \
    CHECK_TRAP_EPC(n, 99b); CHECK_TRAP_TVAL_INSN(n, 99b)
/* Breakpoint tval: the spec allows zero or the instruction address; QEMU 7.2 writes zero. */
#define CHECK_TRAP_TVAL_PC_OR_ZERO(n, label) \
    li gp, n; la t0, trap_state; ld t1, TS_TVAL(t0); beqz t1, 96f; la t2, label; \
    FAIL_IF_NE(t1, t2); 96:
/* Handler that took the trap: PRV_M (trap_m) or PRV_S (trap_s). */
#define CHECK_TRAP_HANDLER(n, prv) CHECK_TRAP_FIELD(n, TS_HANDLER, prv)
/* (recorded xstatus & mask) == expect. */
#define CHECK_TRAP_STATUS(n, mask, expect) \
    li gp, n; la t0, trap_state; ld t1, TS_STATUS(t0); li t2, mask; and t1, t1, t2; \
    li t2, expect; FAIL_IF_NE(t1, t2)
/* Treat a recorded cause `from` as `to` (for documented QEMU deviations from the spec). */
#define TRAP_CAUSE_ALIAS(from, to) \
    la t0, trap_state; ld t1, TS_CAUSE(t0); li t2, from; bne t1, t2, 97f; li t1, to; \
    sd t1, TS_CAUSE(t0); 97:
/* A faulting instruction at `label`: the cause, epc = label and tval. */
#define TEST_TRAP_AT(n, cause, label, tval) \
    CHECK_TRAP(n, cause); CHECK_TRAP_EPC(n, label); CHECK_TRAP_TVAL(n, tval)

/* ---- privilege changes ---- */
/* From M-mode: continue at `label` in privilege `prv` (mstatus.MPP/mepc/mret). */
#define ENTER_MODE(prv, label) \
    li t0, MSTATUS_MPP; csrc mstatus, t0; li t0, (prv) << 11; csrs mstatus, t0; \
    la t0, label; csrw mepc, t0; mret
/* From S-mode: continue at `label` in U-mode. */
#define ENTER_U_FROM_S(label) \
    li t0, MSTATUS_SPP; csrc sstatus, t0; la t0, label; csrw sepc, t0; sret
/* From any identity-mapped mode whose ecall is not delegated: continue in M-mode at the next
 * instruction with mstatus.MIE = 0 (clobbers a7). */
#define SWITCH_TO_M li a7, ECALL_TO_M; ecall

/* ---- traps in lower privilege modes (M-mode test code, nothing delegated) ---- */
/* Run `insn...` in privilege `prv`; it must trap to M with `cause`, mepc = the instruction,
 * mtval = `tval`, mstatus.MPP = prv.  If it does not trap, SWITCH_TO_M brings control back with
 * the expectation still armed and CHECK_TRAP fails. */
#define TEST_TRAP_IN_MODE(n, prv, cause, tval, ...) \
    EXPECT_TRAP(98f); li a7, 0; ENTER_MODE(prv, 99f); 99: __VA_ARGS__; SWITCH_TO_M; \
    98: TEST_TRAP_AT(n, cause, 99b, tval); CHECK_TRAP_STATUS(n, MSTATUS_MPP, (prv) << 11)
/* Same for illegal instructions, with mtval = the 32-bit encoding. */
#define TEST_ILLEGAL_IN_MODE(n, prv, ...) \
    EXPECT_TRAP(98f); ENTER_MODE(prv, 99f); 99: __VA_ARGS__; SWITCH_TO_M; \
    98: CHECK_TRAP(n, CAUSE_ILLEGAL_INSTRUCTION); CHECK_TRAP_EPC(n, 99b); \
    CHECK_TRAP_TVAL_INSN(n, 99b); CHECK_TRAP_STATUS(n, MSTATUS_MPP, (prv) << 11)

/* ---- console (HTIF device 1, command 1) ---- */
#define PUTCHAR(ch) li a0, ch; call htif_putchar
#define PUTS(label) la a0, label; call htif_puts
#define PUTHEX(reg) mv a0, reg; call htif_puthex

/* ---- page tables (vm.S): map one page/superpage of size 4K << (9*level) ---- */
#define MAP(va, pa, flags, level) \
    li a0, va; li a1, pa; li a2, flags; li a3, level; call vm_map
/* Same with the physical address of a symbol (+ offset), valid while paging is off. */
#define MAP_SYM(va, sym, flags, level) \
    li a0, va; la a1, sym; li a2, flags; li a3, level; call vm_map

#endif
