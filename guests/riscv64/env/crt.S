/* Start-up, reporting and trap handlers linked into every polyvm RISC-V test guest.
 * Entered at 0x8000_0000 in M-mode with paging off; calls the test's `test_main`. */
#include "test.h"

    .section .text.init, "ax", @progbits
    .globl _start
_start:
    la t0, trap_m
    csrw mtvec, t0
    la sp, stack_top
    /* Let S/U-mode reach all of physical memory: PMP entry 0 = NAPOT over the whole space, RWX. */
    li t0, -1
    srli t0, t0, 10
    csrw pmpaddr0, t0
    li t0, 0x1f
    csrw pmpcfg0, t0
    csrw satp, zero
    csrw medeleg, zero
    csrw mideleg, zero
    csrw mie, zero
    csrw mstatus, zero
    la t0, trap_s
    csrw stvec, t0
    li gp, 0
    j test_main

    .text
    .globl test_pass
test_pass:
    li t0, 1
    la t1, tohost
    sd t0, 0(t1)
1:  j 1b

    /* tohost = (gp << 1) | 1; gp = 0 would read as "pass", so it becomes 254. */
    .globl test_fail
test_fail:
    bnez gp, 1f
    li gp, 254
1:  slli gp, gp, 1
    ori gp, gp, 1
    la t0, tohost
    sd gp, 0(t0)
2:  j 2b

/* Shared body of trap_m / trap_s.  x = CSR prefix (m/s), prv = PRV_M/PRV_S,
 * exc_base/irq_base = first "unexpected trap" exit code for exceptions/interrupts. */
.macro TRAP_HANDLER x, prv, exc_base, irq_base, pp_bits, pie_bit
    csrw \x\()scratch, t0
    la t0, trap_state
    sd t1, TS_SIZE + 16 * \prv (t0)
    sd t2, TS_SIZE + 16 * \prv + 8 (t0)
.if \prv == PRV_M
    /* ECALL_TO_M service: an ecall with a7 = ECALL_TO_M continues in M after the ecall. */
    csrr t1, mcause
    bltz t1, 1f
    li t2, ECALL_TO_M
    bne a7, t2, 1f
    li t2, 0xb00            /* causes 8, 9, 11 */
    srl t2, t2, t1
    andi t2, t2, 1
    beqz t2, 1f
    csrr t1, mepc
    addi t1, t1, 4
    csrw mepc, t1
    li t1, MSTATUS_MPP
    csrs mstatus, t1
    li t1, MSTATUS_MPIE
    csrc mstatus, t1
    j 3f
1:
.endif
    csrr t1, \x\()cause
    sd t1, TS_CAUSE(t0)
    csrr t1, \x\()epc
    sd t1, TS_EPC(t0)
    csrr t1, \x\()tval
    sd t1, TS_TVAL(t0)
    csrr t1, \x\()status
    sd t1, TS_STATUS(t0)
    li t1, \prv
    sd t1, TS_HANDLER(t0)
    ld t1, TS_RESUME(t0)
    beqz t1, 2f
    sd zero, TS_RESUME(t0)
    csrw \x\()epc, t1
    li t1, \pp_bits
    csrs \x\()status, t1
    li t1, \pie_bit
    csrc \x\()status, t1
3:
    ld t1, TS_SIZE + 16 * \prv (t0)
    ld t2, TS_SIZE + 16 * \prv + 8 (t0)
    csrr t0, \x\()scratch
    \x\()ret
2:  /* unexpected: exit code base + cause */
    csrr t1, \x\()cause
    li gp, \exc_base
    bgez t1, 4f
    li gp, \irq_base
    slli t1, t1, 1
    srli t1, t1, 1
4:  add gp, gp, t1
    j test_fail
.endm

    .align 2
    .globl trap_m
trap_m:
    TRAP_HANDLER m, PRV_M, 200, 232, MSTATUS_MPP, MSTATUS_MPIE

    .align 2
    .globl trap_s
trap_s:
    TRAP_HANDLER s, PRV_S, 216, 244, MSTATUS_SPP, MSTATUS_SPIE

/* Vectored-mode tables for mtvec / stvec: entry i records i in trap_state.TS_VECTOR and then
 * runs the ordinary handler of that mode. */
.macro VECTOR_ENTRY x, prv, i
\x\()tvec_entry_\i:
    csrw \x\()scratch, t0
    la t0, trap_state
    sd t1, TS_SIZE + 16 * \prv (t0)
    li t1, \i
    sd t1, TS_VECTOR(t0)
    ld t1, TS_SIZE + 16 * \prv (t0)
    csrr t0, \x\()scratch
    j trap_\x
.endm

.macro VECTOR_TABLE x, prv
    .align 8
    .globl \x\()tvec_table
\x\()tvec_table:
    .option push
    .option norvc
    .irp i, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    j \x\()tvec_entry_\i
    .endr
    .option pop
    .irp i, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    VECTOR_ENTRY \x, \prv, \i
    .endr
.endm

    VECTOR_TABLE m, PRV_M
    VECTOR_TABLE s, PRV_S

/* HTIF console: tohost = (device 1 << 56) | (command 1 << 48) | ch, then wait for the host's
 * reply in fromhost and clear it (the riscv-pk protocol).  a0 = character; clobbers t0, t1. */
    .globl htif_putchar
htif_putchar:
    la t0, tohost
1:  ld t1, 0(t0)            /* previous command still pending? */
    bnez t1, 1b
    li t1, (1 << 56) | (1 << 48)
    andi a0, a0, 0xff
    or t1, t1, a0
    sd t1, 0(t0)
    la t0, fromhost
2:  ld t1, 0(t0)
    beqz t1, 2b
    sd zero, 0(t0)
    ret

/* a0 = NUL-terminated string; clobbers a0, a1, t0-t2. */
    .globl htif_puts
htif_puts:
    mv a1, a0
    mv t2, ra
1:  lbu a0, 0(a1)
    beqz a0, 2f
    call htif_putchar
    addi a1, a1, 1
    j 1b
2:  mv ra, t2
    ret

/* a0 = value, printed as 16 hex digits; clobbers a0-a2, t0-t3. */
    .globl htif_puthex
htif_puthex:
    mv a1, a0
    mv t3, ra
    li a2, 60
1:  srl a0, a1, a2
    andi a0, a0, 15
    addi a0, a0, '0'
    li t0, '9'
    ble a0, t0, 2f
    addi a0, a0, 'a' - '9' - 1
2:  call htif_putchar
    addi a2, a2, -4
    bgez a2, 1b
    mv ra, t3
    ret

    .section .tohost, "aw", @progbits
    .align 3
    .globl tohost, fromhost
    .type tohost, @object
    .type fromhost, @object
    .size tohost, 8
    .size fromhost, 8
tohost: .dword 0
fromhost: .dword 0

    .data
    .align 3
    .globl trap_state
trap_state:
    .dword 0                /* TS_RESUME */
    .fill (TS_SIZE + 64 - 8) / 8, 8, 0

    .bss
    .align 12
stack:
    .space 8192
    .globl stack_top
stack_top:
