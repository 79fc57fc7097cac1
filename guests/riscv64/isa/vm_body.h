/* Body shared by vm_sv39.S and vm_sv48.S (which define LEVELS = 3 / 4 before including it).
 *
 * M-mode builds page tables, delegates U ecalls and page faults to S, turns on translation and
 * enters an S-mode kernel that runs under an identity-mapped 1 GiB kernel page.  U-mode code is
 * one page (`ucode`) of tiny routines (load, store, jump, each ending in ecall) mapped at
 * VA_UCODE; every U run ends in the S handler, which resumes the kernel at a label.
 *
 * Covered:
 *  - 4 KiB pages; 2 MiB, 1 GiB (and with Sv48 512 GiB) superpages; misaligned superpages fault
 *  - R/W/X/U permission faults for U and S (load 13, store 15, fetch 12; stval = the virtual
 *    address, sepc = the faulting instruction); W without R is reserved (load and store fault);
 *    a pointer PTE (V set, R = W = X = 0) at level 0 faults; non-canonical addresses fault
 *  - SUM (S loads/stores to U pages) and MXR (loads from execute-only pages); S can never
 *    execute from a U page
 *  - A/D bits: QEMU 7.2 sets A on first access and D on first store in hardware (no page
 *    fault); tested exactly so
 *  - sfence.vma, by address and global, makes a changed PTE visible
 *  - a misaligned load across two virtual pages backed by physical pages in reverse order; a
 *    misaligned store whose second half hits a read-only page faults without a partial write
 *  - a 32-bit instruction straddling into an unmapped page: sepc = the instruction, stval = the
 *    start of the second page
 *  - satp writes with an unsupported MODE are ignored, with and without translation on
 *  - M-mode loads with mstatus.MPRV use MPP's translation and permissions; faults go to M */
#include "test.h"
    .option norvc

#if LEVELS == 3
#define SATP_MODE SATP_MODE_SV39
#define NONCANONICAL_VA 0x0000004000000000
#else
#define SATP_MODE SATP_MODE_SV48
#define NONCANONICAL_VA 0x0000800000000000
#endif

/* virtual layout */
#define VA_UCODE   0x40000000   /* ucode, U R X */
#define VA_URW     0x40001000   /* udata page 0, U R W */
#define VA_UR      0x40002000   /* udata page 0, U R */
#define VA_UW      0x40003000   /* udata page 0, U W (reserved) */
#define VA_UX      0x40004000   /* ucode, U X */
#define VA_SRW     0x40005000   /* udata page 0, R W (supervisor) */
#define VA_NOAD    0x40006000   /* udata page 1, U R W with A = D = 0 */
#define VA_INVALID 0x40007000   /* not mapped */
#define VA_CROSS   0x40008000   /* udata page 3, then page 2 at VA_CROSS + 4096 */
#define VA_CHANGE  0x4000a000   /* udata page 0, remapped to page 1 */
#define VA_NONLEAF 0x4000b000   /* level-0 PTE with V set but R = W = X = 0 (a pointer) */
#define VA_EDGE    0x4000c000   /* udata page 2, U R X; VA_EDGE + 4096 is not mapped */
#define VA_MEGA    0x40200000   /* 2 MiB -> PA MEGA_PA */
#define VA_MEGA_BAD 0x40400000  /* 2 MiB -> PA MEGA_PA + 4 KiB (misaligned) */
#define VA_GIGA    0x100000000  /* 1 GiB -> PA 0x8000_0000 */
#define VA_GIGA_BAD 0x140000000 /* 1 GiB -> PA MEGA_PA (misaligned) */
#define VA_TERA    0x8000000000 /* Sv48: 512 GiB -> PA 0 */
#define VA_TERA_BAD 0x10000000000 /* Sv48: 512 GiB -> PA 0x8000_0000 (misaligned) */
#define MEGA_PA    0x80400000   /* a free, 2 MiB-aligned stretch of RAM */
#define SUPER_OFF  0x1238
#define SUPER_VALUE 0x5a5a5a5a12345678

#define DATA_OFF   0x238
#define PAGE_VALUE(k) (0x0123456789ab0000 + (k))
#define UFLAGS     (PTE_V | PTE_U | PTE_A | PTE_D)
#define KFLAGS     (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D | PTE_G)

/* ucode routine offsets (checked at the end of this file) */
#define U_ECALL 0
#define U_LOAD  4
#define U_STORE 12
#define U_JUMP  20

/* Run a ucode routine in U with a1 = va (a2 = store value); resumes at the next line in S. */
#define RUN_U(entry, va) \
    li a1, va; EXPECT_TRAP(98f); li t0, MSTATUS_SPP; csrc sstatus, t0; \
    li t0, VA_UCODE + (entry); csrw sepc, t0; sret; 98:
#define CHECK_FAULT(n, cause, va, epc) \
    CHECK_TRAP(n, cause); CHECK_TRAP_TVAL(n, va); CHECK_TRAP_FIELD(n, TS_EPC, epc); \
    CHECK_TRAP_HANDLER(n, PRV_S)
#define U_LOAD_OK(n, va, expect) \
    li a0, 0; RUN_U(U_LOAD, va) CHECK_TRAP(n, CAUSE_USER_ECALL); CHECK_REG(n, a0, expect)
#define U_LOAD_FAULT(n, va) \
    RUN_U(U_LOAD, va) CHECK_FAULT(n, CAUSE_LOAD_PAGE_FAULT, va, VA_UCODE + U_LOAD)
#define U_STORE_OK(n, va, value) \
    li a2, value; RUN_U(U_STORE, va) CHECK_TRAP(n, CAUSE_USER_ECALL)
#define U_STORE_FAULT(n, va) \
    li a2, 0; RUN_U(U_STORE, va) CHECK_FAULT(n, CAUSE_STORE_PAGE_FAULT, va, VA_UCODE + U_STORE)
/* Jump to va in U: the page's first instruction is an ecall when executable. */
#define U_EXEC_OK(n, va) \
    RUN_U(U_JUMP, va) CHECK_TRAP(n, CAUSE_USER_ECALL); CHECK_TRAP_FIELD(n, TS_EPC, va)
#define U_EXEC_FAULT(n, va) RUN_U(U_JUMP, va) CHECK_FAULT(n, CAUSE_FETCH_PAGE_FAULT, va, va)
/* Accesses from the S kernel itself. */
#define S_LOAD_OK(n, va, expect) li a1, va; ld a0, 0(a1); CHECK_REG(n, a0, expect)
#define S_LOAD_FAULT(n, va) \
    li a1, va; EXPECT_TRAP(98f); 99: ld a0, 0(a1); 98: \
    CHECK_TRAP(n, CAUSE_LOAD_PAGE_FAULT); CHECK_TRAP_TVAL(n, va); CHECK_TRAP_EPC(n, 99b)
#define S_STORE_FAULT(n, va) \
    li a1, va; EXPECT_TRAP(98f); 99: sd a1, 0(a1); 98: \
    CHECK_TRAP(n, CAUSE_STORE_PAGE_FAULT); CHECK_TRAP_TVAL(n, va); CHECK_TRAP_EPC(n, 99b)
#define S_EXEC_FAULT(n, va) \
    li a1, va; EXPECT_TRAP(98f); jalr ra, 0(a1); 98: \
    CHECK_TRAP(n, CAUSE_FETCH_PAGE_FAULT); CHECK_TRAP_TVAL(n, va); CHECK_TRAP_FIELD(n, TS_EPC, va)
#define SSTATUS_SET(bits) li t0, bits; csrs sstatus, t0
#define SSTATUS_CLEAR(bits) li t0, bits; csrc sstatus, t0
/* *pte_slot & mask == expect */
#define CHECK_PTE(n, slot, mask, expect) \
    la t0, slot; ld t0, 0(t0); ld a0, 0(t0); li t0, mask; and a0, a0, t0; CHECK_REG(n, a0, expect)

    .text
    .globl test_main
test_main:
    /* satp: an unsupported MODE makes the whole write have no effect */
    csrw satp, zero
    li t0, (11 << 60) | 0x1234
    csrw satp, t0
    csrr a0, satp
    CHECK_REG(1, a0, 0)
    li t0, (5 << 60) | 0x1234
    csrw satp, t0
    csrr a0, satp
    CHECK_REG(2, a0, 0)

    /* physical data */
    la a1, udata
    li t2, 4
    li a2, 0
1:  li t0, PAGE_VALUE(0)
    add t0, t0, a2
    sd t0, DATA_OFF(a1)
    li t0, 4096
    add a1, a1, t0
    addi a2, a2, 1
    bne a2, t2, 1b
    la a1, udata
    li t0, 0x1111111122222222
    li t1, 4 * 4096 - 8
    add t1, a1, t1
    sd t0, 0(t1)            /* last doubleword of page 3 */
    li t0, 0x3333333344444444
    li t1, 2 * 4096
    add t1, a1, t1
    sd t0, 0(t1)            /* first doubleword of page 2 */
    li a1, MEGA_PA + SUPER_OFF
    li t0, SUPER_VALUE
    sd t0, 0(a1)
    la a1, udata + 3 * 4096 - 2
    li t0, 0x0013           /* first half of a 32-bit instruction (addi x0, x0, 0) */
    sh t0, 0(a1)

    /* page tables */
    li a0, LEVELS
    call vm_init
    la t0, satp_value
    sd a0, 0(t0)
    MAP(0x80000000, 0x80000000, KFLAGS, 2)
    MAP_SYM(VA_UCODE, ucode, UFLAGS | PTE_R | PTE_X, 0)
    MAP_SYM(VA_URW, udata, UFLAGS | PTE_R | PTE_W, 0)
    MAP_SYM(VA_UR, udata, UFLAGS | PTE_R, 0)
    MAP_SYM(VA_UW, udata, UFLAGS | PTE_W, 0)
    MAP_SYM(VA_UX, ucode, UFLAGS | PTE_X, 0)
    MAP_SYM(VA_SRW, udata, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D, 0)
    MAP_SYM(VA_NOAD, udata + 4096, PTE_V | PTE_U | PTE_R | PTE_W, 0)
    la t0, pte_noad
    sd a0, 0(t0)
    MAP_SYM(VA_CROSS, udata + 3 * 4096, UFLAGS | PTE_R | PTE_W, 0)
    MAP_SYM(VA_CROSS + 4096, udata + 2 * 4096, UFLAGS | PTE_R | PTE_W, 0)
    MAP_SYM(VA_CHANGE, udata, UFLAGS | PTE_R | PTE_W, 0)
    la t0, pte_change
    sd a0, 0(t0)
    MAP_SYM(VA_NONLEAF, udata, PTE_V | PTE_U, 0)
    MAP_SYM(VA_EDGE, udata + 2 * 4096, UFLAGS | PTE_R | PTE_X, 0)
    MAP(VA_MEGA, MEGA_PA, UFLAGS | PTE_R | PTE_W, 1)
    MAP(VA_MEGA_BAD, MEGA_PA + 4096, UFLAGS | PTE_R | PTE_W, 1)
    MAP(VA_GIGA, 0x80000000, UFLAGS | PTE_R | PTE_W, 2)
    MAP(VA_GIGA_BAD, MEGA_PA, UFLAGS | PTE_R | PTE_W, 2)
#if LEVELS == 4
    MAP(VA_TERA, 0, UFLAGS | PTE_R | PTE_W, 3)
    MAP(VA_TERA_BAD, 0x80000000, UFLAGS | PTE_R | PTE_W, 3)
#endif

    /* U ecalls and page faults go to the S kernel */
    li t0, (1 << CAUSE_USER_ECALL) | (1 << CAUSE_FETCH_PAGE_FAULT) | \
           (1 << CAUSE_LOAD_PAGE_FAULT) | (1 << CAUSE_STORE_PAGE_FAULT)
    csrw medeleg, t0
    la t0, trap_s
    csrw stvec, t0
    la t0, satp_value
    ld t0, 0(t0)
    csrw satp, t0
    sfence.vma
    csrr a0, satp
    li gp, 3
    FAIL_IF_NE(a0, t0)
    CHECK_CSR(3, satp, SATP_MODE_MASK, SATP_MODE)
    ENTER_MODE(PRV_S, kernel)

kernel:
    /* an unsupported MODE written while translating is ignored too */
    li t0, (11 << 60)
    csrw satp, t0
    csrr a0, satp
    la t0, satp_value
    ld t0, 0(t0)
    li gp, 4
    FAIL_IF_NE(a0, t0)

    /* U: 4 KiB pages and permissions */
    U_LOAD_OK(10, VA_URW + DATA_OFF, PAGE_VALUE(0))
    U_STORE_OK(11, VA_URW + 8, 0xabcdef)
    S_LOAD_FAULT(12, VA_URW + 8)         /* SUM = 0 */
    SSTATUS_SET(MSTATUS_SUM)
    S_LOAD_OK(13, VA_URW + 8, 0xabcdef)
    U_LOAD_OK(14, VA_UR + DATA_OFF, PAGE_VALUE(0))
    U_STORE_FAULT(15, VA_UR + 16)
    U_LOAD_FAULT(16, VA_UW + DATA_OFF)   /* W without R is reserved */
    U_STORE_FAULT(17, VA_UW + 16)
    U_LOAD_FAULT(18, VA_UX)              /* execute-only */
    U_EXEC_OK(19, VA_UX)
    U_EXEC_OK(20, VA_UCODE)
    U_EXEC_FAULT(21, VA_UR)              /* not executable */
    U_LOAD_FAULT(22, VA_SRW + DATA_OFF)  /* supervisor page */
    U_STORE_FAULT(23, VA_SRW)
    U_EXEC_FAULT(24, VA_SRW)
    U_LOAD_FAULT(25, VA_INVALID)
    U_STORE_FAULT(26, VA_INVALID + 8)
    U_EXEC_FAULT(27, VA_INVALID)
    U_LOAD_FAULT(28, 0x80000000)         /* the kernel's own page */
    U_LOAD_FAULT(29, NONCANONICAL_VA)
    U_LOAD_FAULT(30, NONCANONICAL_VA | 0x80000000)

    /* MXR: loads from execute-only pages */
    SSTATUS_SET(MSTATUS_MXR)
    la t0, ucode
    ld t3, 0(t0)                         /* the ucode page's first doubleword */
    li a0, 0
    RUN_U(U_LOAD, VA_UX)
    CHECK_TRAP(31, CAUSE_USER_ECALL)
    li gp, 31
    FAIL_IF_NE(a0, t3)
    li a1, VA_UX
    ld a0, 0(a1)
    li gp, 32
    FAIL_IF_NE(a0, t3)
    SSTATUS_CLEAR(MSTATUS_MXR)
    S_LOAD_FAULT(33, VA_UX)
    U_LOAD_FAULT(34, VA_UX + 8)

    /* S: SUM covers loads and stores, never execution of U pages */
    SSTATUS_SET(MSTATUS_SUM)
    li a1, VA_URW + 24
    li a2, 0x77
    sd a2, 0(a1)
    U_LOAD_OK(35, VA_URW + 24, 0x77)
    S_EXEC_FAULT(36, VA_UCODE)
    SSTATUS_CLEAR(MSTATUS_SUM)
    S_STORE_FAULT(37, VA_URW + 24)
    S_EXEC_FAULT(38, VA_UCODE)
    li a1, VA_SRW + DATA_OFF
    ld a0, 0(a1)
    CHECK_REG(39, a0, PAGE_VALUE(0))
    S_STORE_FAULT(40, VA_UR)
    S_LOAD_FAULT(41, VA_INVALID)
    /* a 32-bit instruction whose second half is on an unmapped page: sepc = the instruction,
     * stval = the faulting portion (the next page) */
    RUN_U(U_JUMP, VA_EDGE + 4094)
    CHECK_FAULT(44, CAUSE_FETCH_PAGE_FAULT, VA_EDGE + 4096, VA_EDGE + 4094)
    /* a pointer PTE at the last level is a page fault */
    U_LOAD_FAULT(42, VA_NONLEAF + DATA_OFF)
    S_LOAD_FAULT(43, VA_NONLEAF + DATA_OFF)

    /* A/D updated by hardware (QEMU 7.2 behaviour, no page fault) */
    CHECK_PTE(50, pte_noad, PTE_A | PTE_D, 0)
    U_LOAD_OK(51, VA_NOAD + DATA_OFF, PAGE_VALUE(1))
    CHECK_PTE(52, pte_noad, PTE_A | PTE_D, PTE_A)
    U_STORE_OK(53, VA_NOAD + 32, 0x99)
    CHECK_PTE(54, pte_noad, PTE_A | PTE_D, PTE_A | PTE_D)
    U_LOAD_OK(55, VA_NOAD + 32, 0x99)

    /* sfence.vma makes a changed PTE visible: by address, then global */
    U_LOAD_OK(60, VA_CHANGE + DATA_OFF, PAGE_VALUE(0))
    la t0, pte_change
    ld t0, 0(t0)
    la t1, udata + 4096
    srli t1, t1, 12
    slli t1, t1, 10
    ori t1, t1, UFLAGS | PTE_R | PTE_W
    sd t1, 0(t0)
    li a1, VA_CHANGE
    sfence.vma a1, zero
    U_LOAD_OK(61, VA_CHANGE + DATA_OFF, PAGE_VALUE(1))
    la t0, pte_change
    ld t0, 0(t0)
    sd zero, 0(t0)
    sfence.vma
    U_LOAD_FAULT(62, VA_CHANGE + DATA_OFF)

    /* a misaligned load across two virtual pages whose physical pages are in reverse order */
    U_LOAD_OK(70, VA_CROSS + 4092, 0x4444444411111111)
    U_STORE_OK(71, VA_CROSS + 4094, 0x0102030405060708)
    la a1, udata
    li t0, 4 * 4096 - 8
    add t0, a1, t0
    ld a0, 0(t0)
    CHECK_REG(72, a0, 0x0708111122222222)
    li t0, 2 * 4096
    add t0, a1, t0
    ld a0, 0(t0)
    CHECK_REG(73, a0, 0x3333010203040506)

    /* a misaligned store whose second half hits a read-only page: store page fault, nothing
     * written; stval is the store address or the faulting page (QEMU 7.2: the page) */
    la t0, udata
    li t1, 0x5555555555555555
    sd t1, 0(t0)
    li t1, 4096 - 8
    add t1, t0, t1
    li t2, 0x6666666666666666
    sd t2, 0(t1)
    li a2, -1
    RUN_U(U_STORE, VA_URW + 4092)
    CHECK_TRAP(74, CAUSE_STORE_PAGE_FAULT)
    CHECK_TRAP_FIELD(74, TS_EPC, VA_UCODE + U_STORE)
    la t0, trap_state
    ld t1, TS_TVAL(t0)
    li t2, VA_UR
    beq t1, t2, 1f
    li t2, VA_URW + 4092
    FAIL_IF_NE(t1, t2)
1:  la t0, udata
    ld a0, 0(t0)
    CHECK_REG(75, a0, 0x5555555555555555)
    la t0, udata
    li t1, 4096 - 8
    add t1, t0, t1
    ld a0, 0(t1)
    CHECK_REG(76, a0, 0x6666666666666666)

    /* superpages */
    U_LOAD_OK(80, VA_MEGA + SUPER_OFF, SUPER_VALUE)
    U_LOAD_FAULT(81, VA_MEGA_BAD + SUPER_OFF)
    U_LOAD_OK(82, VA_GIGA + (MEGA_PA - 0x80000000) + SUPER_OFF, SUPER_VALUE)
    U_LOAD_FAULT(83, VA_GIGA_BAD + SUPER_OFF)
#if LEVELS == 4
    U_LOAD_OK(84, VA_TERA + MEGA_PA + SUPER_OFF, SUPER_VALUE)
    U_LOAD_FAULT(85, VA_TERA_BAD + SUPER_OFF)
#endif

    /* M-mode loads with MPRV = 1 use MPP's translation and permissions; their faults go to M.
     * MPRV is cleared right after each access: the checks themselves read physical memory. */
    SWITCH_TO_M
    li t0, MSTATUS_MPRV | MSTATUS_MPP | MSTATUS_SUM
    csrc mstatus, t0
    li a1, VA_URW + DATA_OFF
    li t0, MSTATUS_MPRV
    csrs mstatus, t0
    ld a0, 0(a1)
    csrc mstatus, t0
    CHECK_REG(90, a0, PAGE_VALUE(0))
    li a1, VA_SRW + DATA_OFF
    EXPECT_TRAP(1f)
    li t0, MSTATUS_MPRV
    csrs mstatus, t0
2:  ld a0, 0(a1)
1:  li t0, MSTATUS_MPRV
    csrc mstatus, t0
    CHECK_TRAP(91, CAUSE_LOAD_PAGE_FAULT)
    CHECK_TRAP_HANDLER(91, PRV_M)
    CHECK_TRAP_TVAL(91, VA_SRW + DATA_OFF)
    CHECK_TRAP_EPC(91, 2b)
    li t0, MSTATUS_MPP_S
    csrs mstatus, t0
    li a1, VA_SRW + DATA_OFF
    li t0, MSTATUS_MPRV
    csrs mstatus, t0
    ld a0, 0(a1)
    csrc mstatus, t0
    CHECK_REG(92, a0, PAGE_VALUE(0))
    TEST_PASS

    /* the U-mode routines: one page of code, nothing else on it */
    .align 12
ucode:
    ecall
u_load:
    ld a0, 0(a1)
    ecall
u_store:
    sd a2, 0(a1)
    ecall
u_jump:
    jalr x0, 0(a1)
    .align 12
    .if (u_load - ucode) != U_LOAD || (u_store - ucode) != U_STORE || (u_jump - ucode) != U_JUMP
    .error "ucode offsets do not match U_LOAD / U_STORE / U_JUMP"
    .endif

    .data
    .align 3
satp_value: .dword 0
pte_noad:   .dword 0
pte_change: .dword 0

    .bss
    .align 12
udata:
    .space 4 * 4096
