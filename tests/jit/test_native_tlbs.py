"""The native TLBs are kept per data regime: switching regimes saves and restores them, and page
flushes reach the saved ones too."""

from polyvm.engine.jit.context import EMPTY, READ_TLB, TLB_ENTRIES, WRITE_TLB, NativeState


def entry(state: NativeState, vpn: int, write: bool) -> int | None:
    slot = (WRITE_TLB if write else READ_TLB) + 2 * (vpn % TLB_ENTRIES)
    return state.context[slot + 1] if state.context[slot] == vpn else None


def test_regime_switch_saves_and_restores_tlbs():
    state = NativeState()
    state.switch_tlbs("kernel")
    state.fill(0x80200, 0x1000, write=False)
    state.fill(0x80201, 0x2000, write=True)
    state.switch_tlbs("kernel+sum")
    assert entry(state, 0x80200, False) is None and entry(state, 0x80201, True) is None
    state.fill(0x10, 0x3000, write=False)
    state.switch_tlbs("kernel")
    assert entry(state, 0x80200, False) == 0x1000 and entry(state, 0x80201, True) == 0x2000
    assert entry(state, 0x10, False) is None
    state.switch_tlbs("kernel+sum")
    assert entry(state, 0x10, False) == 0x3000


def test_page_flushes_reach_saved_regimes():
    state = NativeState()
    state.switch_tlbs("a")
    state.fill(0x5, 0x1000, write=False)
    state.fill(0x6, 0x2000, write=False)
    state.fill(0x7, 0x3000, write=True)
    state.switch_tlbs("b")
    state.forget_pages({0x5, 0x7})
    state.switch_tlbs("a")
    assert entry(state, 0x5, False) is None
    assert entry(state, 0x6, False) == 0x2000
    assert entry(state, 0x7, True) is None


def test_full_flush_forgets_every_regime():
    state = NativeState()
    state.switch_tlbs("a")
    state.fill(0x5, 0x1000, write=False)
    state.switch_tlbs("b")
    state.flush_tlb()
    state.switch_tlbs("a")
    assert entry(state, 0x5, False) is None
    assert state.context[READ_TLB + 2 * 5] == EMPTY
