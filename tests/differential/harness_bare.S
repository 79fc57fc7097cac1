/* Bare-metal harness (spike board, M-mode, paging off): run the sequences, then write 1 to
   tohost (HTIF exit 0). A trap exits with code 64 + mcause. With RVDIFF_HTIF_DUMP defined the
   output area is first printed in hex through the HTIF console, between marker lines. */
    .option norelax
    .section .text.harness,"ax",@progbits
    .globl _start
_start:
    lla t0, trap
    csrw mtvec, t0
    j seq_start

    .section .text.exit,"ax",@progbits      /* at a fixed address: the shared code jumps here */
    .globl harness_exit
harness_exit:
#ifdef RVDIFF_HTIF_DUMP
    lla a0, begin_msg
    jal print_string
    lla s1, out_area
    lla s2, out_end
1:  lbu a0, 0(s1)
    srli a0, a0, 4
    jal print_hex_digit
    lbu a0, 0(s1)
    andi a0, a0, 15
    jal print_hex_digit
    addi s1, s1, 1
    andi t0, s1, 31
    bnez t0, 2f
    li a0, '\n'
    jal putchar
2:  bltu s1, s2, 1b
    lla a0, end_msg
    jal print_string
#endif
    li a0, 0
exit:                           /* HTIF exit with code a0 */
    slli a0, a0, 1
    ori a0, a0, 1
    lla t0, tohost
    sd a0, 0(t0)
1:  j 1b

    .balign 4                   /* mtvec needs a 4-byte aligned base */
trap:
    csrr a0, mcause
    addi a0, a0, 64
    j exit

#ifdef RVDIFF_HTIF_DUMP
print_hex_digit:                /* a0 in 0..15 */
    li t0, 10
    bltu a0, t0, 1f
    addi a0, a0, 'a' - '0' - 10
1:  addi a0, a0, '0'
    j putchar

putchar:                        /* HTIF console: device 1, command 1 */
    li t0, 0x0101
    slli t0, t0, 48
    or t0, t0, a0
    lla t1, tohost
    sd t0, 0(t1)
    lla t1, fromhost
1:  ld t2, 0(t1)
    beqz t2, 1b
    sd zero, 0(t1)
    ret

print_string:                   /* a0: NUL-terminated string */
    mv s3, ra
    mv s4, a0
1:  lbu a0, 0(s4)
    beqz a0, 2f
    jal putchar
    addi s4, s4, 1
    j 1b
2:  jr s3

begin_msg:
    .asciz "\nRVDIFF-BEGIN\n"
end_msg:
    .asciz "RVDIFF-END\n"
#endif

    .section .tohost,"aw",@progbits
    .balign 64
    .globl tohost
    .type tohost, @object
    .size tohost, 8
tohost:
    .dword 0
    .balign 64
    .globl fromhost
    .type fromhost, @object
    .size fromhost, 8
fromhost:
    .dword 0
