"""Which CSR writes end the slice: other changes that affect translation (satp, MPRV, ...) always
do; toggling only the global interrupt enables (MIE/SIE) or the data-access bits (SUM/MXR) does only
when that makes an interrupt deliverable (SUM/MXR switch the MMU's data regime at once)."""

import pytest

from polyvm import RiscvHart, SoftMmu
from polyvm.arch.riscv64 import csr as C
from polyvm.mem.paging import PagingMode, Priv

SET, CLEAR = 1 | 4, 2 | 4  # csr_op's mode: kind (set/clear) with the write bit


def s_mode_hart() -> RiscvHart:
    hart = RiscvHart(0, SoftMmu(1 << 20, PagingMode.NONE, ram_base=0x8000_0000), lambda: 0)
    hart.priv = Priv.S
    hart.mideleg = C.STIP | C.SSIP | C.SEIP
    hart.exit_pending = False
    return hart


@pytest.mark.parametrize("mode", [SET, CLEAR])
def test_toggling_sie_with_nothing_pending_keeps_the_slice(mode):
    hart = s_mode_hart()
    hart.csr_op(mode, C.SSTATUS, C.SIE_BIT, 0x1000, 0)
    assert bool(hart.mstatus & C.SIE_BIT) == (mode == SET)
    assert not hart.exit_pending


def test_enabling_sie_with_an_enabled_interrupt_pending_ends_the_slice():
    hart = s_mode_hart()
    hart.mie = C.SSIP
    hart.csr_op(SET, C.SIP, C.SSIP, 0x1000, 0)
    hart.exit_pending = False
    hart.csr_op(SET, C.SSTATUS, C.SIE_BIT, 0x1000, 0)
    assert hart.pending_interrupt() == 1
    assert hart.exit_pending


@pytest.mark.parametrize("bit", [C.SUM, C.MXR])
def test_changing_sum_or_mxr_switches_the_data_regime_and_keeps_the_slice(bit):
    hart = s_mode_hart()
    hart.csr_op(1 << 2, C.SATP, (8 << 60) | 0x80010, 0x1000, 0)  # csrw satp: Sv39
    hart.exit_pending = False
    regime, fetch = hart.mmu.regime, hart.mmu.fetch_regime()
    hart.csr_op(SET, C.SSTATUS, bit, 0x1000, 0)
    assert (hart.mmu.sum, hart.mmu.mxr) == (bit == C.SUM, bit == C.MXR)
    assert hart.mmu.regime != regime and hart.mmu.fetch_regime() == fetch
    assert not hart.exit_pending
    hart.csr_op(CLEAR, C.SSTATUS, bit, 0x1000, 0)
    assert hart.mmu.regime == regime and not hart.exit_pending


def test_setting_sum_with_sie_ends_the_slice_if_that_delivers_an_interrupt():
    hart = s_mode_hart()
    hart.mie = C.SSIP
    hart.csr_op(SET, C.SIP, C.SSIP, 0x1000, 0)
    hart.exit_pending = False
    hart.csr_op(SET, C.SSTATUS, C.SUM | C.SIE_BIT, 0x1000, 0)
    assert hart.mmu.sum and hart.exit_pending


def test_changing_other_translation_bits_ends_the_slice():
    hart = s_mode_hart()
    hart.priv = Priv.M
    hart.csr_op(SET, C.MSTATUS, C.MPRV, 0x1000, 0)
    assert hart.exit_pending
