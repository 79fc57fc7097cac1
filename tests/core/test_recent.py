"""core/recent.py: per-regime state for the most recently used regimes only."""

from collections import OrderedDict

from polyvm.core.recent import recently_used


def test_items_are_made_once_and_the_least_recently_used_go():
    items: OrderedDict[str, list] = OrderedDict()
    first = recently_used(items, "a", list, kept=2)
    assert recently_used(items, "a", list, kept=2) is first
    recently_used(items, "b", list, kept=2)
    recently_used(items, "a", list, kept=2)  # "a" is now the most recently used
    recently_used(items, "c", list, kept=2)
    assert list(items) == ["a", "c"]
    assert recently_used(items, "a", list, kept=2) is first


def test_dropped_items_are_handed_over():
    items: OrderedDict[str, list] = OrderedDict()
    dropped: list[list] = []
    first = recently_used(items, "a", list, kept=1, dropped=dropped.append)
    recently_used(items, "b", list, kept=1, dropped=dropped.append)
    assert dropped == [first] and dropped[0] is first


def test_native_tables_of_dropped_regimes_are_reused_empty():
    from polyvm.engine.jit.context import EMPTY, JUMP_TABLES_KEPT, NativeState

    state = NativeState()
    state.select_jumps("regime 0", None)
    state.set_jump(0x8000_0000, 0x1234)
    oldest = state.jumps
    for regime in range(1, JUMP_TABLES_KEPT + 1):
        state.select_jumps(f"regime {regime}", None)
    assert "regime 0" not in state.jump_tables
    state.select_jumps("a new regime", None)
    assert state.jumps is oldest, "the dropped regime's table was reused"
    assert all(word == EMPTY for word in state.jumps), "emptied first"
