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


class LeafIndex(Generic[Item]):
    """Items by the leaf that mapped them (a superset is fine: stale items just go twice).

    One dict per level, by leaf number, and only levels that ever held something are visited
    (``_used``, with their shifts): a Linux boot asks for the leaves containing a page ~8,000
    times, mostly of levels never used (benchmarks/boot.py)."""

    def __init__(self) -> None:
        self._levels: list[dict[int, set[Item]]] = [{} for _ in range(MAX_LEVELS)]
        self._used: list[tuple[int, dict[int, set[Item]]]] = []
        """(shift, leaves) of the levels that ever held an item, in level order."""

    def _leaves(self, level: int) -> dict[int, set[Item]]:
        leaves = self._levels[level]
        if not any(used is leaves for _, used in self._used):
            self._used = sorted([*self._used, (9 * level, leaves)], key=lambda pair: pair[0])
        return leaves

    def add(self, vpn: int, level: int, item: Item) -> None:
        """``item`` came from the level-``level`` leaf mapping page ``vpn``."""
        leaves = self._levels[level] if self._levels[level] else self._leaves(level)
        items = leaves.get(vpn >> (9 * level))
        if items is None:
            items = leaves[vpn >> (9 * level)] = set()
        items.add(item)

    def update(self, vpn: int, level: int, items: Iterable[Item]) -> None:
        """``items`` all came from the level-``level`` leaf mapping page ``vpn``."""
        leaves = self._levels[level] if self._levels[level] else self._leaves(level)
        known = leaves.get(vpn >> (9 * level))
        if known is None:
            leaves[vpn >> (9 * level)] = set(items)
        else:
            known.update(items)

    def discard(self, vpn: int, level: int, item: Item) -> None:
        items = self._levels[level].get(vpn >> (9 * level))
        if items is not None:
            items.discard(item)

    def containing(self, vpn: int) -> list[Item]:
        """The items of every leaf (of any level) containing page ``vpn``."""
        return [item for shift, leaves in self._used for item in leaves.get(vpn >> shift, ())]

    def pop_containing(self, vpn: int) -> set[Item]:
        """Remove and return the items of every leaf containing page ``vpn``."""
        popped: set[Item] = set()
        for shift, leaves in self._used:
            items = leaves.pop(vpn >> shift, None)
            if items:
                popped |= items
        return popped

    def clear(self) -> None:
        for leaves in self._levels:
            leaves.clear()
