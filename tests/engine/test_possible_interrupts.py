"""RiscvHart.possible_interrupts, the superset of the interrupts that may be pending during a slice
that lets native code set a global interrupt enable without asking Python (jit/native_csrs.py)."""

from polyvm import RiscvHart, SoftMmu
from polyvm.arch.riscv64 import csr as C
from polyvm.machine.clock import MachineClock
from polyvm.mem.paging import PagingMode

MTIP, SEIP = 7, 9


def hart_at(now: list[int]) -> RiscvHart:
    hart = RiscvHart(0, SoftMmu(1 << 16, PagingMode.NONE), lambda: now[0])
    hart.ticks_within = MachineClock(icount=True).ticks_within
    hart.mie = C.STIP | C.SEIP | C.SSIP | 1 << MTIP
    return hart


def test_pending_enabled_bits_and_lines_raised_during_the_slice():
    hart = hart_at([0])
    hart.expect_interrupts(1000)
    assert hart.possible_interrupts == 0
    hart.mip_sw = C.SSIP
    hart.expect_interrupts(1000)
    assert hart.possible_interrupts == C.SSIP
    hart.set_interrupt_pending(SEIP, True)
    assert hart.possible_interrupts == C.SSIP | C.SEIP, "a device line counts at once"
    hart.mie = C.STIP
    hart.expect_interrupts(1000)
    assert hart.possible_interrupts == 0, "bits mie does not enable cannot become deliverable"


def test_the_sstc_timer_counts_if_it_may_fire_before_the_slice_ends():
    now = [5000]
    hart = hart_at(now)
    hart.menvcfg = C.MENVCFG_STCE
    hart.stimecmp = 5000 + 1000 // 10 + 1
    hart.expect_interrupts(990)
    assert hart.possible_interrupts == 0, "990 instructions are 99 ticks under icount"
    hart.expect_interrupts(1000)
    assert hart.possible_interrupts == C.STIP
    hart.menvcfg = 0
    hart.expect_interrupts(10**9)
    assert hart.possible_interrupts == 0, "without Sstc STIP is the software bit"
