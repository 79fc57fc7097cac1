/* The protected-mode payload's first page: offset 0 is the (unused) 32-bit entry, offset 0x200 the
 * 64-bit entry a boot loader jumps to with %rsi = boot_params. Sets up a stack, clears .bss and calls
 * main(boot_params). */
        .section .text.entry, "ax"
        .code64
        .globl  _start
_start:
        cli
        hlt
        jmp     _start
        .org    0x200
        .globl  startup_64
startup_64:
        cli
        cld
        lea     stack_top(%rip), %rsp
        mov     %rsi, %r12
        lea     __bss_start(%rip), %rdi
        lea     __bss_end(%rip), %rcx
        sub     %rdi, %rcx
        xor     %eax, %eax
        rep stosb
        mov     %r12, %rdi
        call    main
1:      cli
        hlt
        jmp     1b

        .section .stack, "aw", @nobits
        .balign 16
        .space  16384
stack_top:
