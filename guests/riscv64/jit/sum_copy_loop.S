/* The shape of Linux's user-memory copies, for tests/jit/test_native_tlbs.py: in S-mode with Sv39,
 * each iteration sets sstatus.SUM, loads from a user page, clears SUM and loads from a kernel page.
 * After the loop a load from the user page with SUM clear must take a load page fault (at `bad`).
 * The test maps the pages (user page at VA 0x1000, kernel pages by a gigapage at VA 0x80000000) and
 * points gp at the kernel data. */
.option norvc
.text
.globl start
start:
    lui t0, 0x40            /* sstatus.SUM */
    lui a1, 0x1             /* the user page */
    li s0, 3000
loop:
    csrs sstatus, t0
    ld a0, 0(a1)
    add a2, a2, a0
    csrc sstatus, t0
    ld a4, 0x100(gp)
    add a5, a5, a4
    addi s0, s0, -1
    bnez s0, loop
.globl bad
bad:
    ld a0, 0(a1)
    ebreak
.balign 256
.globl handler
handler:
    j handler
