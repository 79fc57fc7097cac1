/* Entry of the polyvm demo guest: one stack, then main(); main's return value is the exit code. */
    .section .text.start
    .globl _start
_start:
    la sp, stack_top
    li t0, 1 << 13                               /* mstatus.FS = Initial: F/D usable */
    csrs mstatus, t0
    call main
    slli a0, a0, 1
    ori a0, a0, 1
    la t0, tohost
    sd a0, 0(t0)
1:  j 1b

    .section .tohost, "aw", @progbits
    .align 6
    .globl tohost
tohost: .dword 0
    .size tohost, 8
    .align 6
    .globl fromhost
fromhost: .dword 0
    .size fromhost, 8

    .bss
    .align 4
    .space 16384
stack_top:
