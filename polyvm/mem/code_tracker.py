"""Which physical pages hold translated code, shared by every hart and device of a machine.

Stores to such pages (by any hart, or DMA by a device) are reported to the engines, which drop the
translations whose bytes they overlap, so translated code always matches memory and fence.i has
nothing left to flush. A page counts references (blocks translated from it); when the last block of
a page goes, stores to it may use the fast path again.

A store drops only the translations whose bytes it overlaps, so a page being cleared (Linux frees
its init code and clears pages that held code) stayed code, every store of the clear a slow one
and a report, until its last block was overwritten: ~9,000 of a Linux boot's stores
(benchmarks/boot.py). Once stores have reached WHOLE_PAGE_AFTER different 8-byte words of a page,
the tracker reports the whole page written, which drops all its translations: the page is data
again until code is translated from it anew. A few stores, like Linux patching its code, and stores
to the same few words, like a variable next to the loop that updates it, still drop only what
they overlap (counting all stores made such a loop translate its page again and again).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

WHOLE_PAGE_AFTER = 32
"""Different words of a code page stored to after which the whole page counts as written."""


class CodeTracker:
    def __init__(self) -> None:
        self.pages: set[int] = set()
        self._refs: Counter[int] = Counter()
        self._stored: dict[int, set[int]] = {}
        """The 8-byte words of each code page stored to since it became code."""
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
            self._stored.pop(ppn, None)
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
        page, last = paddr >> 12, (paddr + size - 1) >> 12
        if not pages or (page not in pages and last not in pages and size <= 4096):
            return
        if page == last and page in pages:
            words = self._stored.setdefault(page, set())
            words.add(paddr >> 3)
            if len(words) >= WHOLE_PAGE_AFTER:
                paddr, size = page << 12, 4096
        for listener in self._listeners:
            listener(paddr, size)
