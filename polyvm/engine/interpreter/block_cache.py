"""BlockCache (seed section 3.2): translated blocks by guest address, with real hit/miss counts.

Keys are ``(virtual pc, physical pc)`` so one physical page mapped at two addresses gets two
translations (pc-relative code depends on the virtual pc) and a TLB flush does not lose
translations. Blocks are also indexed by physical page for invalidation on stores and fence.i: a
block whose last instruction straddles the end of its page under that of the next one as well.

Invalidation is exact (only blocks whose bytes a store overlaps) until stores have hit blocks of a
page WHOLE_PAGE_AFTER times; the next such store drops every block of the page. Linux poisons its
freed init code with 8-byte stores: 26 pages took 512 exact invalidations each in a Linux boot, each
store a slow-path one while any block of the page was left (benchmarks/boot.py).
"""

from __future__ import annotations

import dataclasses
import time
from collections import OrderedDict

from polyvm.ir.block import STRADDLE, IRBlock

WHOLE_PAGE_AFTER = 4
"""Stores that drop blocks of a page before one drops all of them (see the module docstring)."""


@dataclasses.dataclass
class CachedBlock:
    block: IRBlock
    function: object = None
    exec_count: int = 0
    last_exec: float = dataclasses.field(default_factory=time.monotonic)
    native: object = None
    """The block's native code once a JIT tier has compiled it (polyvm.engine.hybrid)."""


@dataclasses.dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    size: int = 0

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class BlockCache:
    """At most ``max_size`` blocks, least recently inserted/used evicted first; can be disabled."""

    def __init__(self, max_size: int = 65536) -> None:
        self.max_size = max_size
        self.enabled = True
        self._blocks: OrderedDict[tuple[int, int], CachedBlock] = OrderedDict()
        self._by_page: dict[int, set[tuple[int, int]]] = {}
        self._store_hits: dict[int, int] = {}
        """Physical page -> stores that dropped blocks of it (while it has blocks)."""
        self.hits = 0
        self.misses = 0
        self.evicted: list[CachedBlock] = []

    def __len__(self) -> int:
        return len(self._blocks)

    def get(self, addr: int, phys: int | None = None) -> IRBlock | None:
        cached = self.lookup(addr, addr if phys is None else phys)
        return cached.block if cached is not None else None

    def lookup(self, addr: int, phys: int) -> CachedBlock | None:
        cached = self._blocks.get((addr, phys)) if self.enabled else None
        if cached is None:
            self.misses += 1
            return None
        self.hits += 1
        self._blocks.move_to_end((addr, phys))
        return cached

    def blocks(self) -> list[CachedBlock]:
        """Every cached block."""
        return list(self._blocks.values())

    def peek(self, addr: int, phys: int) -> CachedBlock | None:
        """The current translation at ``(addr, phys)`` without counting a hit or a miss."""
        return self._blocks.get((addr, phys))

    def insert(self, addr: int, block: IRBlock, phys: int | None = None,
               function: object = None) -> CachedBlock:
        phys = addr if phys is None else phys
        cached = CachedBlock(block, function)
        if not self.enabled:
            return cached
        key = (addr, phys)
        if key not in self._blocks and len(self._blocks) >= self.max_size:
            old_key, old = self._blocks.popitem(last=False)
            self._unindex(old_key, old.block)
            self.evicted.append(old)
        self._blocks[key] = cached
        for page in _pages(phys, block):
            self._by_page.setdefault(page, set()).add(key)
        return cached

    def _unindex(self, key: tuple[int, int], block: IRBlock) -> None:
        for page in _pages(key[1], block):
            keys = self._by_page.get(page)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_page[page]
                    self._store_hits.pop(page, None)

    def invalidate_block(self, addr: int, phys: int) -> list[CachedBlock]:
        """Drop the translation at ``(addr, phys)`` (a list of it, or empty if there is none)."""
        cached = self._blocks.pop((addr, phys), None)
        if cached is None:
            return []
        self._unindex((addr, phys), cached.block)
        return [cached]

    def pages(self) -> set[int]:
        return set(self._by_page)

    def invalidate_range(self, paddr: int, size: int) -> list[CachedBlock]:
        """Drop every block whose guest bytes overlap [paddr, paddr+size) (and every block of a
        page stores have hit often: see the module docstring)."""
        dropped = []
        first, last = paddr >> 12, (paddr + size - 1) >> 12
        if last - first < len(self._by_page):
            pages = [p for p in range(first, last + 1) if p in self._by_page]
        else:
            pages = [p for p in self._by_page if first <= p <= last]
        end = paddr + size
        for page in pages:
            whole = self._store_hits.get(page, 0) >= WHOLE_PAGE_AFTER
            before = len(dropped)
            keys = self._by_page.get(page)
            if keys is None:  # its straddling blocks went with those of the page before
                continue
            for key in list(keys):
                cached = self._blocks[key]
                spans = _spans_in(page, key[1], cached.block)
                if whole or any(start < end and paddr < stop for start, stop in spans):
                    del self._blocks[key]
                    self._unindex(key, cached.block)
                    dropped.append(cached)
            if len(dropped) > before and page in self._by_page:
                self._store_hits[page] = self._store_hits.get(page, 0) + 1
        return dropped

    def invalidate_virtual(self, vaddr: int) -> list[CachedBlock]:
        """Drop every block whose guest-virtual bytes contain ``vaddr`` (a new debugger breakpoint,
        which must start its own block). A linear scan: breakpoints change rarely."""
        dropped = []
        for key, cached in list(self._blocks.items()):
            if key[0] <= vaddr < key[0] + max(cached.block.byte_size, 1):
                del self._blocks[key]
                self._unindex(key, cached.block)
                dropped.append(cached)
        return dropped

    def take_evicted(self) -> list[CachedBlock]:
        """Blocks evicted since the last call (their owners release what they hold)."""
        evicted, self.evicted = self.evicted, []
        return evicted

    def drain(self) -> list[CachedBlock]:
        """Remove and return every block."""
        blocks = list(self._blocks.values()) + self.take_evicted()
        self.clear()
        return blocks

    def stats(self) -> CacheStats:
        return CacheStats(self.hits, self.misses, len(self._blocks))

    def clear(self) -> None:
        self._blocks.clear()
        self._by_page.clear()
        self._store_hits.clear()


def _pages(phys: int, block: IRBlock) -> tuple[int, ...]:
    """The physical pages of the guest bytes of the block at ``phys``."""
    following = block.straddled_page
    return (phys >> 12,) if following is None else (phys >> 12, following)


def _spans_in(page: int, phys: int, block: IRBlock) -> list[tuple[int, int]]:
    """The physical bytes [start, stop) of the block at ``phys`` that are in ``page`` (one of its
    ``_pages``): a straddling last instruction has its first half up to the end of the block's
    page and its second half (STRADDLE bytes) at the start of the next one, which may be the same
    physical page (two virtual pages mapping one frame)."""
    spans = []
    if page == phys >> 12:
        stop = (page + 1) << 12 if block.next_page is not None else phys + max(block.byte_size, 1)
        spans.append((phys, stop))
    if page == block.next_page:
        spans.append((page << 12, (page << 12) + STRADDLE))
    return spans
