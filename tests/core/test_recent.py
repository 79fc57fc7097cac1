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
