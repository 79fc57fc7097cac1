/* Entry of polyvm's bare-metal C guests (M-mode, paging off): one stack, F/D on, then main(). */
    .section .text.start
    .globl _start
_start:
    la sp, stack_top
    li t0, 1 << 13                               /* mstatus.FS = Initial: F/D usable */
    csrs mstatus, t0
#include "htif_exit.inc"

    .bss
    .align 4
    .space 16384
stack_top:
