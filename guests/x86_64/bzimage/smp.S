/* The application-processor trampoline of smp.c. The BSP copies [ap_trampoline, ap_trampoline_end)
 * to 0x8000 and sends INIT-SIPI-SIPI with vector 0x08: each AP starts here in real mode at
 * 0800:0000, loads a GDT, turns on PAE, long mode and paging (the board's identity page tables at
 * 0x1000) in one step, far-jumps to 64-bit code, takes a stack by counter and calls ap_main(index). */
        .set    BASE, 0x8000
        .set    PML4, 0x1000
        .section .rodata.trampoline, "a"
        .globl  ap_trampoline, ap_trampoline_end
        .code16
ap_trampoline:
        cli
        xor     %ax, %ax
        mov     %ax, %ds
        lgdtl   BASE + (gdtr - ap_trampoline)
        mov     %cr4, %eax
        or      $0x20, %eax                     # PAE
        mov     %eax, %cr4
        mov     $PML4, %eax
        mov     %eax, %cr3
        mov     $0xc0000080, %ecx               # EFER.LME
        rdmsr
        or      $0x100, %eax
        wrmsr
        mov     %cr0, %eax
        or      $0x80000001, %eax               # PG | PE
        mov     %eax, %cr0
        ljmpl   $0x10, $(BASE + long_mode - ap_trampoline)
        .code64
long_mode:
        mov     $0x18, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     $1, %edi
        lock xadd %edi, ap_next
        mov     %rdi, %rsp
        shl     $13, %rsp
        add     $ap_stacks + 8192, %rsp
        movabs  $ap_main, %rax
        call    *%rax
1:      cli
        hlt
        jmp     1b
        .balign 8
gdt:
        .quad   0, 0
        .quad   0x00af9b000000ffff              # 0x10 64-bit code
        .quad   0x00cf93000000ffff              # 0x18 data
gdtr:
        .word   gdtr - gdt - 1
        .long   BASE + (gdt - ap_trampoline)
ap_trampoline_end:

        .data
        .globl  ap_next
ap_next:
        .long   0
        .section .stack, "aw", @nobits
        .balign 16
ap_stacks:
        .space  8192 * 8
