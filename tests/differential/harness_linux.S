/* Linux user harness (qemu-riscv64): run the sequences, write the output area to stdout, exit. */
    .option norelax
    .section .text.harness,"ax",@progbits
    .globl _start
_start:
    j seq_start

    .section .text.exit,"ax",@progbits      /* at a fixed address: the shared code jumps here */
    .globl harness_exit
harness_exit:
    lla a1, out_area
    lla a2, out_end
    sub a2, a2, a1
1:  li a0, 1                    /* fd: stdout */
    li a7, 64                   /* write(a0, a1, a2) */
    ecall
    blez a0, 2f
    add a1, a1, a0
    sub a2, a2, a0
    bnez a2, 1b
    li a0, 0
    li a7, 93                   /* exit(0) */
    ecall
2:  li a0, 1
    li a7, 93
    ecall
