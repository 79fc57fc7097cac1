/* Physical memory protection, paging off, nothing delegated (every fault is taken in M).
 * Entry 15 is a catch-all (NAPOT over everything, RWX) so that S/U code runs; lower-numbered
 * entries restrict three data pages (`area`) and a code page (`xpage`):
 *   1-2   S-mode loads and stores pass through the catch-all; a load caches the page
 *   3-7   entry 0, NAPOT R on area page 0: S loads work, S stores fault (store access fault,
 *         mtval = address) although the page was cached before the entry was set; stores to
 *         page 1 still work; M stores work (the entry is not locked); U loads work; an M-mode
 *         store with MPRV = 1 and MPP = S is checked as S and faults
 *   8-11  entries 2-3, TOR with no permissions over the first half of page 1: S loads at its
 *         start and its last doubleword fault, the first doubleword past its end works, M works
 *   12-14 entry 4, NA4 RW inside page 1: an S lw of those 4 bytes works, an S ld of 8 bytes
 *         starting there faults (the matching entry must cover every byte), the next word works
 *   15, 17 entry 5, NAPOT R over xpage: S fetch faults (instruction access fault, mtval = target)
 *         after S ran that code before; M still runs it
 *   18    entry 15 off: no entry matches an S-mode fetch, which faults; M runs on
 *   24, 26 entry 8, NA4 R over the third instruction of a function: an S jump to it faults
 *         (mtval = its address); M runs the function whole. (An S call of the function would
 *         run its first two instructions and fault on the third; QEMU 7.2 runs all of it, so
 *         tests/engine/test_pmp_fetch.py checks that against the spec instead.)
 *   19-23 entry 6, NAPOT R and locked over page 2: M loads work, M stores fault, and its
 *         pmpaddr and pmpcfg byte ignore writes
 * Only entries 0-15 are used (QEMU 7.2 implements 16). */
#include "test.h"
    .option norvc

#define NAPOT 0x18
#define TOR   0x08
#define NA4   0x10
#define PMP_R 1
#define PMP_W 2
#define PMP_X 4
#define PMP_L 0x80

/* pmpaddr value of the 4 KiB NAPOT region at symbol + offset (in t0). */
#define NAPOT_4K(sym, offset) la t0, sym; li t1, offset; add t0, t0, t1; srli t0, t0, 2; ori t0, t0, 0x1ff
/* a1 = symbol + offset. */
#define ADDRESS(sym, offset) la a1, sym; li t1, offset; add a1, a1, t1
/* mtval == symbol + offset. */
#define CHECK_TVAL_AT(n, sym, offset) \
    li gp, n; la t0, trap_state; ld t1, TS_TVAL(t0); la t2, sym; li t0, offset; add t2, t2, t0; \
    FAIL_IF_NE(t1, t2)
/* `insn...` (using a1) in privilege `prv` must fault with `cause` at itself, mtval = sym + offset. */
#define FAULTS_IN(n, prv, cause, sym, offset, ...) \
    EXPECT_TRAP(98f); li a7, 0; ENTER_MODE(prv, 99f); 99: __VA_ARGS__; SWITCH_TO_M; \
    98: CHECK_TRAP(n, cause); CHECK_TRAP_EPC(n, 99b); CHECK_TVAL_AT(n, sym, offset); \
    CHECK_TRAP_STATUS(n, MSTATUS_MPP, (prv) << 11)
/* An S-mode jump to symbol + offset must fault on the fetch there (mepc = mtval = the target). */
#define S_FETCH_FAULTS(n, sym, offset) \
    ADDRESS(sym, offset); EXPECT_TRAP(98f); li a7, 0; ENTER_MODE(PRV_S, 99f); 99: jalr ra, 0(a1); \
    SWITCH_TO_M; 98: CHECK_TRAP(n, CAUSE_FETCH_ACCESS); CHECK_TRAP_EPC(n, sym + offset); \
    CHECK_TVAL_AT(n, sym, offset)
/* `insn...` (using a1, a2) in privilege `prv` must not trap. */
#define RUNS_IN(prv, ...) li a7, 0; ENTER_MODE(prv, 99f); 99: __VA_ARGS__; SWITCH_TO_M

    .text
    .globl test_main
test_main:
    li t0, -1
    srli t0, t0, 10
    csrw pmpaddr15, t0
    li t0, (NAPOT | PMP_R | PMP_W | PMP_X) << 56
    csrs pmpcfg2, t0
    csrw pmpcfg0, zero

    ADDRESS(area, 0)
    RUNS_IN(PRV_S, ld a2, 0(a1))
    CHECK_REG(1, a2, 0x1122334455667788)
    ADDRESS(area, 4096)
    li a2, 0x55
    RUNS_IN(PRV_S, sd a2, 0(a1))
    ld a0, 0(a1)
    CHECK_REG(2, a0, 0x55)
    ADDRESS(xpage, 0)
    RUNS_IN(PRV_S, jalr ra, 0(a1))

    /* entry 0: NAPOT, R, area page 0 */
    NAPOT_4K(area, 0)
    csrw pmpaddr0, t0
    li t0, NAPOT | PMP_R
    csrs pmpcfg0, t0
    ADDRESS(area, 0)
    RUNS_IN(PRV_S, ld a2, 0(a1))
    CHECK_REG(3, a2, 0x1122334455667788)
    ADDRESS(area, 8)
    FAULTS_IN(4, PRV_S, CAUSE_STORE_ACCESS, area, 8, sd a2, 0(a1))
    ADDRESS(area, 4096)
    li a2, 0x66
    RUNS_IN(PRV_S, sd a2, 0(a1))
    ld a0, 0(a1)
    CHECK_REG(5, a0, 0x66)
    ADDRESS(area, 16)
    li a2, 0x77
    sd a2, 0(a1)
    ld a0, 0(a1)
    CHECK_REG(6, a0, 0x77)
    ADDRESS(area, 0)
    RUNS_IN(PRV_U, ld a2, 0(a1))
    CHECK_REG(7, a2, 0x1122334455667788)
    ADDRESS(area, 24)
    EXPECT_TRAP(1f)
    li t0, MSTATUS_MPP
    csrc mstatus, t0
    li t0, MSTATUS_MPRV | MSTATUS_MPP_S
    csrs mstatus, t0
2:  sd a2, 0(a1)
1:  li t0, MSTATUS_MPRV
    csrc mstatus, t0
    CHECK_TRAP(8, CAUSE_STORE_ACCESS)
    CHECK_TRAP_EPC(8, 2b)
    CHECK_TVAL_AT(8, area, 24)

    /* entries 2-3: TOR, no permissions, [page 1, page 1 + 0x800) */
    NAPOT_4K(area, 4096)
    srli t0, t0, 9
    slli t0, t0, 9
    csrw pmpaddr2, t0
    addi t0, t0, 0x800 >> 2
    csrw pmpaddr3, t0
    li t0, TOR << 24
    csrs pmpcfg0, t0
    ADDRESS(area, 4096)
    FAULTS_IN(9, PRV_S, CAUSE_LOAD_ACCESS, area, 4096, ld a2, 0(a1))
    ADDRESS(area, 4096 + 0x7f8)
    FAULTS_IN(10, PRV_S, CAUSE_LOAD_ACCESS, area, 4096 + 0x7f8, ld a2, 0(a1))
    ADDRESS(area, 4096 + 0x800)
    RUNS_IN(PRV_S, ld a2, 0(a1))
    CHECK_REG(11, a2, 0x2233)
    ADDRESS(area, 4096)
    ld a2, 0(a1)
    CHECK_REG(11, a2, 0x66)

    /* entry 4: NA4, RW, page 1 + 0x900 */
    ADDRESS(area, 4096 + 0x900)
    srli t0, a1, 2
    csrw pmpaddr4, t0
    li t0, (NA4 | PMP_R | PMP_W) << 32
    csrs pmpcfg0, t0
    RUNS_IN(PRV_S, lw a2, 0(a1))
    CHECK_REG(12, a2, 0x44332211)
    FAULTS_IN(13, PRV_S, CAUSE_LOAD_ACCESS, area, 4096 + 0x900, ld a2, 0(a1))
    RUNS_IN(PRV_S, lw a2, 4(a1))
    CHECK_REG(14, a2, 0x55)

    /* entry 5: NAPOT, R, xpage */
    NAPOT_4K(xpage, 0)
    csrw pmpaddr5, t0
    li t0, (NAPOT | PMP_R) << 40
    csrs pmpcfg0, t0
    S_FETCH_FAULTS(15, xpage, 0)
    call xpage
    CHECK_REG(17, a0, 0x5a)

    /* entry 15 off: nothing matches an S-mode fetch */
    li t0, (NAPOT | PMP_R | PMP_W | PMP_X) << 56
    csrc pmpcfg2, t0
    EXPECT_TRAP(1f)
    ENTER_MODE(PRV_S, 2f)
2:  nop
1:  CHECK_TRAP(18, CAUSE_FETCH_ACCESS)
    CHECK_TRAP_EPC(18, 2b)
    li t0, (NAPOT | PMP_R | PMP_W | PMP_X) << 56
    csrs pmpcfg2, t0

    /* entry 8: NA4, R, on the third instruction of `split` */
    ADDRESS(split, 8)
    srli t0, a1, 2
    csrw pmpaddr8, t0
    li t0, NA4 | PMP_R
    csrs pmpcfg2, t0
    S_FETCH_FAULTS(24, split, 8)
    call split
    CHECK_REG(26, a0, 0x7b)

    /* entry 6: NAPOT, R, locked, page 2 */
    NAPOT_4K(area, 8192)
    csrw pmpaddr6, t0
    mv s1, t0
    li t0, (NAPOT | PMP_R | PMP_L) << 48
    csrs pmpcfg0, t0
    ADDRESS(area, 8192)
    ld a2, 0(a1)
    CHECK_REG(19, a2, 0x99)
    EXPECT_TRAP(1f)
2:  sd a2, 0(a1)
1:  CHECK_TRAP(20, CAUSE_STORE_ACCESS)
    CHECK_TRAP_EPC(20, 2b)
    CHECK_TVAL_AT(21, area, 8192)
    csrw pmpaddr6, zero
    csrr a0, pmpaddr6
    li gp, 22
    FAIL_IF_NE(a0, s1)
    li t0, 0xff << 48
    csrc pmpcfg0, t0
    CHECK_CSR(23, pmpcfg0, 0xff << 48, (NAPOT | PMP_R | PMP_L) << 48)
    TEST_PASS

    .align 12
    .globl xpage
xpage:
    li a0, 0x5a
    ret
    .align 12
split:
    li a0, 1
    nop
    nop
    li a0, 0x7b
    ret
    .align 12

    .data
    .align 12
area:
    .dword 0x1122334455667788
    .fill 511, 8, 0
    .fill 256, 8, 0
    .dword 0x2233
    .fill 31, 8, 0
    .word 0x44332211, 0x55
    .fill 223, 8, 0
    .dword 0x99
    .fill 511, 8, 0
