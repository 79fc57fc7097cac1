"""A software TLB (seed section 2.2): ASID-tagged entries, LRU eviction, real statistics.

A superpage's leaf is one entry, as in hardware TLBs: a Linux kernel maps its linear map with 2 MiB
leaves, and caching each 4 KiB piece apart made a warm Linux boot walk the page table again for
~5,000 pieces of leaves it had just walked (benchmarks/boot.py)."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Iterator
from itertools import chain

from polyvm.mem.leaf_index import LeafIndex


@dataclasses.dataclass
class TlbEntry:
    """One translation: of the 4 KiB virtual page ``vpn`` to ``ppn``, and (``level`` > 0) of every
    page of the superpage leaf containing it, each to the physical page at the same distance."""

    vpn: int
    ppn: int
    asid: int = 0
    valid: bool = True
    writable: bool = False
    executable: bool = False
    user: bool = False
    cacheable: bool = True
    readable: bool = True
    dirty: bool = False
    global_: bool = False
    level: int = 0
    """Page-table level the leaf was found at (0 = 4 KiB page)."""
    pte_addr: int = 0
    """Physical address of the leaf PTE (for A/D updates)."""


@dataclasses.dataclass
class TlbStats:
    hits: int = 0
    misses: int = 0
    evictions: int = 0

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class Tlb:
    """At most ``capacity`` entries; least recently used goes first. Global entries match every ASID."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[int, int | None], TlbEntry] = OrderedDict()
        self._by_leaf: LeafIndex[tuple[int, int | None]] = LeafIndex()
        """Keys of the entries by the leaf that made them (sfence of one address)."""
        self._superpage_levels: set[int] = set()
        """Levels of the superpage entries held since the last full flush (a superset)."""
        self.stats = TlbStats()

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, vpn: int, asid: int) -> TlbEntry | None:
        """The entry whose leaf maps page ``vpn`` for ``asid`` (a superpage's entry is for another
        of its pages when its ``vpn`` differs: ``piece`` gives the one for ``vpn``)."""
        entries = self._entries
        for key in chain(((vpn, asid), (vpn, None)), self._leaf_keys(vpn, asid)):
            entry = entries.get(key)
            if entry is not None and entry.valid:
                entries.move_to_end(key)
                self.stats.hits += 1
                return entry
        self.stats.misses += 1
        return None

    def _leaf_keys(self, vpn: int, asid: int) -> Iterator[tuple[int, int, int | None]]:
        """The keys a superpage entry mapping ``vpn`` for ``asid`` would have (made only when the
        4 KiB keys missed)."""
        for level in self._superpage_levels:
            leaf = vpn >> (9 * level)
            yield level, leaf, asid
            yield level, leaf, None

    @staticmethod
    def piece(entry: TlbEntry, vpn: int) -> TlbEntry:
        """``entry`` (found for ``vpn`` by ``lookup``) as the translation of page ``vpn`` itself."""
        if entry.vpn == vpn:
            return entry
        return dataclasses.replace(entry, vpn=vpn, ppn=entry.ppn + vpn - entry.vpn)

    def insert(self, entry: TlbEntry) -> None:
        asid = None if entry.global_ else entry.asid
        if entry.level:
            key: tuple = (entry.level, entry.vpn >> (9 * entry.level), asid)
            self._superpage_levels.add(entry.level)
        else:
            key = (entry.vpn, asid)
        if key in self._entries:
            old = self._entries[key]
            self._by_leaf.discard(old.vpn, old.level, key)
            self._entries.move_to_end(key)
        elif len(self._entries) >= self.capacity:
            old_key, old = self._entries.popitem(last=False)
            self._by_leaf.discard(old.vpn, old.level, old_key)
            self.stats.evictions += 1
        self._entries[key] = entry
        self._by_leaf.add(entry.vpn, entry.level, key)

    def flush_all(self) -> None:
        self._entries.clear()
        self._by_leaf.clear()
        self._superpage_levels.clear()

    def flush(self, vpn: int | None = None, asid: int | None = None) -> None:
        """sfence.vma semantics: by page, by ASID (global entries kept), both, or everything. A page
        flush drops every entry of a leaf containing ``vpn`` (all 4 KiB pieces of a superpage)."""
        if vpn is None and asid is None:
            self.flush_all()
            return
        keys = list(self._entries) if vpn is None else self._by_leaf.containing(vpn)
        for key in keys:
            entry = self._entries.get(key)
            if entry is None or (asid is not None and (entry.global_ or entry.asid != asid)):
                continue
            del self._entries[key]
            self._by_leaf.discard(entry.vpn, entry.level, key)
