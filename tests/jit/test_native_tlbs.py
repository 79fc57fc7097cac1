"""The native TLBs are kept per data regime: switching regimes keeps each one's entries, and page
flushes reach the saved ones too."""

from polyvm.engine.jit.context import NativeState


def test_regime_switch_saves_and_restores_tlbs():
    state = NativeState()
    state.switch_tlbs("kernel")
    state.fill(0x80200, 0x1000, write=False)
    state.fill(0x80201, 0x2000, write=True)
    state.switch_tlbs("kernel+sum")
    assert state.tlb_entry(0x80200, False) is None and state.tlb_entry(0x80201, True) is None
    state.fill(0x10, 0x3000, write=False)
    state.switch_tlbs("kernel")
    assert state.tlb_entry(0x80200, False) == 0x1000 and state.tlb_entry(0x80201, True) == 0x2000
    assert state.tlb_entry(0x10, False) is None
    state.switch_tlbs("kernel+sum")
    assert state.tlb_entry(0x10, False) == 0x3000


def test_page_flushes_reach_saved_regimes():
    state = NativeState()
    state.switch_tlbs("a")
    state.fill(0x5, 0x1000, write=False)
    state.fill(0x6, 0x2000, write=False)
    state.fill(0x7, 0x3000, write=True)
    state.switch_tlbs("b")
    state.forget_pages({0x5, 0x7})
    state.switch_tlbs("a")
    assert state.tlb_entry(0x5, False) is None
    assert state.tlb_entry(0x6, False) == 0x2000
    assert state.tlb_entry(0x7, True) is None


def test_full_flush_forgets_every_regime():
    state = NativeState()
    state.switch_tlbs("a")
    state.fill(0x5, 0x1000, write=False)
    state.switch_tlbs("b")
    state.flush_tlb()
    state.switch_tlbs("a")
    assert state.tlb_entry(0x5, False) is None
