"""Things indexed by the page-table leaf that mapped them, for sfence.vma of one address.

sfence.vma with an address invalidates the leaf that contains it, which may be a superpage, so a
cache of anything derived from translations (TLB entries, fast-map pages, jump-cache pcs) must find
everything one leaf produced. Leaves are named (level, vpn >> 9 * level): level 0 is a 4 KiB page,
each level above covers 512 times more.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

MAX_LEVELS = 5
"""Page-table levels of the deepest paging mode (Sv57)."""

Item = TypeVar("Item", bound=Hashable)


def leaf(vpn: int, level: int) -> tuple[int, int]:
    """The (level, number) of the level-``level`` leaf that maps page ``vpn``."""
    return level, vpn >> (9 * level)


class LeafIndex(Generic[Item]):
    """Items by the leaf that mapped them (a superset is fine: stale items just go twice)."""

    def __init__(self) -> None:
        self._items: dict[tuple[int, int], set[Item]] = {}

    def add(self, vpn: int, level: int, item: Item) -> None:
        """``item`` came from the level-``level`` leaf mapping page ``vpn``."""
        items = self._items.get(leaf(vpn, level))
        if items is None:
            items = self._items[leaf(vpn, level)] = set()
        items.add(item)

    def update(self, vpn: int, level: int, items: Iterable[Item]) -> None:
        """``items`` all came from the level-``level`` leaf mapping page ``vpn``."""
        known = self._items.get(leaf(vpn, level))
        if known is None:
            self._items[leaf(vpn, level)] = set(items)
        else:
            known.update(items)

    def discard(self, vpn: int, level: int, item: Item) -> None:
        items = self._items.get(leaf(vpn, level))
        if items is not None:
            items.discard(item)

    def containing(self, vpn: int) -> list[Item]:
        """The items of every leaf (of any level) containing page ``vpn``."""
        return [item for level in range(MAX_LEVELS) for item in self._items.get(leaf(vpn, level), ())]

    def pop_containing(self, vpn: int) -> set[Item]:
        """Remove and return the items of every leaf containing page ``vpn``."""
        popped: set[Item] = set()
        for level in range(MAX_LEVELS):
            popped |= self._items.pop(leaf(vpn, level), set())
        return popped

    def clear(self) -> None:
        self._items.clear()
