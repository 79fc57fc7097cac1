/* Page-table builder for Sv39/Sv48 tests: tables come from a zeroed pool in .bss. */
#include "test.h"

    .text
/* a0 = number of levels (3 = Sv39, 4 = Sv48).  Resets the pool, zeroes a fresh root table and
 * returns a0 = the satp value for it (ASID 0).  Clobbers t0-t2. */
    .globl vm_init
vm_init:
    la t0, vm_levels
    sd a0, 0(t0)
    la t1, pt_pool
    la t0, pt_next
    sd t1, 0(t0)
    mv t2, ra
    call vm_alloc
    mv ra, t2
    la t1, pt_root
    sd t0, 0(t1)
    la t1, vm_levels
    ld a0, 0(t1)
    addi a0, a0, 5          /* 3 -> 8 (Sv39), 4 -> 9 (Sv48) */
    slli a0, a0, 60
    srli t0, t0, 12
    or a0, a0, t0
    ret

/* Returns t0 = a zeroed 4 KiB page from the pool.  Clobbers t1. */
vm_alloc:
    la t1, pt_next
    ld t0, 0(t1)
    addi t0, t0, 2047
    addi t0, t0, 2047
    addi t0, t0, 2
    sd t0, 0(t1)
    addi t0, t0, -2048
    addi t0, t0, -2048
    li t1, 512
1:  sd zero, 0(t0)
    addi t0, t0, 8
    addi t1, t1, -1
    bnez t1, 1b
    addi t0, t0, -2048
    addi t0, t0, -2048
    ret

/* Map va -> pa with leaf PTE flags a2 at level a3 (0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB, 3 = 512 GiB),
 * creating intermediate tables as needed.  pa is not aligned for the caller: a misaligned
 * superpage keeps its low PPN bits.  Returns a0 = address of the leaf PTE.
 * Clobbers a0-a5, t0-t2. */
    .globl vm_map
vm_map:
    mv a5, ra
    la t0, pt_root
    ld a4, 0(t0)            /* a4 = current table */
    la t0, vm_levels
    ld t2, 0(t0)
    addi t2, t2, -1         /* t2 = current level */
1:  /* t0 = &table[(va >> (12 + 9 * level)) & 511] */
    li t0, 9
    mul t0, t0, t2
    addi t0, t0, 12
    srl t0, a0, t0
    andi t0, t0, 511
    slli t0, t0, 3
    add t0, a4, t0
    beq t2, a3, 3f
    ld t1, 0(t0)
    andi a4, t1, PTE_V
    bnez a4, 2f
    mv a4, t0
    call vm_alloc           /* t0 = new table */
    srli t1, t0, 12
    slli t1, t1, 10
    ori t1, t1, PTE_V
    sd t1, 0(a4)
2:  srli a4, t1, 10
    slli a4, a4, 12
    addi t2, t2, -1
    j 1b
3:  srli t1, a1, 12
    slli t1, t1, 10
    or t1, t1, a2
    sd t1, 0(t0)
    mv a0, t0
    mv ra, a5
    ret

    .data
    .align 3
    .globl pt_root
pt_root:   .dword 0
vm_levels: .dword 3
pt_next:   .dword 0

    .bss
    .align 12
pt_pool:
    .space 4096 * 24
