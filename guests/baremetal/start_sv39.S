/* Entry for bare-metal guests that run with Sv39 paging on: M-mode builds one page table that maps
 * the 1 GiB at 0x8000_0000 (RAM, tohost) and 0x0 (devices) with gigapages, then enters S-mode with
 * satp set, where main() runs; its return value becomes the HTIF exit code. */
    .section .text.start
    .globl _start
_start:
    la sp, stack_top
    li t0, -1                                    /* PMP: let S-mode reach all memory */
    csrw pmpaddr0, t0
    li t0, 0x1f                                  /* NAPOT, R W X */
    csrw pmpcfg0, t0
    la t0, sv39_root
    li t1, (0x80000000 >> 12) << 10 | 0xcf      /* V R W X A D, gigapage at VA 0x8000_0000 */
    sd t1, 16(t0)
    li t1, 0xcf                                  /* gigapage at VA 0 (device space) */
    sd t1, 0(t0)
    srli t0, t0, 12
    li t1, 8 << 60
    or t0, t0, t1
    csrw satp, t0
    sfence.vma
    li t0, (1 << 11) | (1 << 13)                 /* MPP = S, FS = Initial */
    csrw mstatus, t0
    la t0, run_main
    csrw mepc, t0
    mret
run_main:
#include "htif_exit.inc"

    .bss
    .align 12
sv39_root:
    .space 4096
    .align 4
    .space 16384
stack_top:
