"""Which physical pages hold translated code, shared by every hart and device of a machine.

Stores to such pages (by any hart, or DMA by a device) are reported to the engines, which drop the
translations whose bytes they overlap, so translated code always matches memory and fence.i has
nothing left to flush. A page counts references (blocks translated from it); when the last block of
a page goes, stores to it may use the fast path again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable


class CodeTracker:
    def __init__(self) -> None:
        self.pages: set[int] = set()
        self._refs: Counter[int] = Counter()
        self._on_new_page: list[Callable[[int], None]] = []
        self._listeners: list[Callable[[int, int], None]] = []

    def on_new_page(self, callback: Callable[[int], None]) -> None:
        """``callback(ppn)`` must forget cached fast store translations into page ``ppn`` (it just
        became code: stores to it must be seen)."""
        self._on_new_page.append(callback)

    def add_listener(self, callback: Callable[[int, int], None]) -> None:
        self._listeners.append(callback)

    def ref(self, ppn: int) -> None:
        self._refs[ppn] += 1
        if ppn not in self.pages:
            self.pages.add(ppn)
            for callback in self._on_new_page:
                callback(ppn)

    def unref(self, ppn: int) -> None:
        self._refs[ppn] -= 1
        if self._refs[ppn] <= 0:
            del self._refs[ppn]
            self.pages.discard(ppn)

    def written(self, paddr: int, size: int) -> None:
        """Bytes [paddr, paddr+size) changed; tell the engines if any of them were code."""
        pages = self.pages
        if pages and (paddr >> 12 in pages or (paddr + size - 1) >> 12 in pages or size > 4096):
            for listener in self._listeners:
                listener(paddr, size)
