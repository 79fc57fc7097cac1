/* HTIF + virtual memory: M-mode maps an identity 1 GiB kernel page and two user pages (code at
 * 0x1000_0000, data at 0x1000_1000), enables Sv39 and enters an S-mode kernel, which runs the
 * U-mode program.  The program sums 1..10 into its data page and ecalls; the kernel checks the
 * sum through the user mapping (SUM) and prints a line over the HTIF console before passing.
 * expect-exit: 0
 * expect-stdout: "sv39 user program returned 55\n" */
#include "test.h"
    .option norvc

#define USER_CODE 0x10000000
#define USER_DATA 0x10001000
#define UFLAGS (PTE_V | PTE_U | PTE_A | PTE_D)

    .text
    .globl test_main
test_main:
    li a0, 3
    call vm_init
    mv s1, a0
    MAP(0x80000000, 0x80000000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D | PTE_G, 2)
    MAP_SYM(USER_CODE, user_program, UFLAGS | PTE_R | PTE_X, 0)
    MAP_SYM(USER_DATA, user_data, UFLAGS | PTE_R | PTE_W, 0)
    li t0, 1 << CAUSE_USER_ECALL
    csrw medeleg, t0
    la t0, trap_s
    csrw stvec, t0
    csrw satp, s1
    sfence.vma
    ENTER_MODE(PRV_S, kernel)

kernel:
    EXPECT_TRAP(1f)
    li t0, MSTATUS_SPP
    csrc sstatus, t0
    li t0, USER_CODE
    csrw sepc, t0
    sret
1:  CHECK_TRAP(1, CAUSE_USER_ECALL)
    CHECK_REG(2, a0, 55)
    li t0, MSTATUS_SUM
    csrs sstatus, t0
    li a1, USER_DATA
    ld a0, 0(a1)
    CHECK_REG(3, a0, 55)
    PUTS(message)
    TEST_PASS

    /* U-mode program, alone on its page: a0 = 1 + 2 + ... + 10, stored to USER_DATA */
    .align 12
user_program:
    li a0, 0
    li a1, 10
2:  add a0, a0, a1
    addi a1, a1, -1
    bnez a1, 2b
    lui a2, USER_DATA >> 12
    sd a0, 0(a2)
    ecall
    .align 12

    .data
message: .asciz "sv39 user program returned 55\n"

    .bss
    .align 12
user_data:
    .space 4096
