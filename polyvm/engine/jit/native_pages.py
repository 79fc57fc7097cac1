"""Native page records: the native functions each code page had in earlier runs, by its bytes.

A warm Linux boot looked up ~36,000 blocks in Python (~28 us each: the translation store, the
recorded region, the function's address) mostly so that native code could enter them, a quarter
of the guest thread's time (benchmarks/boot.py). So a run records, for each virtual code page and
a hash of its bytes, the native functions its blocks had (``NativeEntry``); a later run that finds
the same bytes at that page puts them all in the native jump table at its first lookup there
(page_prefill.py), and builds a block's Python side only when it needs one.

A function's name is its content key (the pcs and bytes of its blocks, llvm_backend.py), so the
bytes that match the hash are the bytes each recorded function was compiled from.
"""

from __future__ import annotations

import functools
import hashlib
import marshal
from array import array
from pathlib import Path
from typing import NamedTuple

from polyvm.core.errors import VmError
from polyvm.devtools.batched_table import BatchedTable, sqlite_int


class NativeEntry(NamedTuple):
    """A recorded function: its head's pc, its name, whether it is optimised (which backend links
    it), the byte length of its head block, the (pc, byte length) of the blocks it inlined, and
    where a bundle holds it if the recorder knew (object_bundles.Placement's fields)."""

    pc: int
    name: str
    optimised: bool
    length: int
    members: tuple[tuple[int, int], ...]
    place: tuple[str, int, int | None, int | None] | None = None

    @property
    def tier(self) -> int:
        """How fast the function runs its blocks: 0 unoptimised, 1 optimised alone, 2 an optimised
        region (members inlined)."""
        return 1 + bool(self.members) if self.optimised else 0


def page_digest(page_code: bytes | memoryview) -> bytes:
    """The hash records are kept under (of a page's 4 KiB)."""
    return hashlib.blake2b(page_code, digest_size=16).digest()


FIELDS = len(NativeEntry._fields)
_as_entry = functools.partial(tuple.__new__, NativeEntry)


PAGE_FORMAT = 4
"""Marks a record stored as ``RecordedPage.stored`` makes it (records of other formats count as
none)."""


class StaleRecord(VmError):
    """A native page record whose entries do not agree with the rest of it (a damaged cache)."""


class RecordedPage:
    """A page record as prefilling reads it: the names and pcs (a u64 array's bytes) of its
    functions, those that a bundle holds at a known offset first, by bundle section (``groups``:
    bundle, section index, and the functions' offsets and own object files' sizes as u64 arrays'
    bytes), and the full entries in the same order, made when first asked for (``entries``, from
    field tuples by C calls). Prefilling a page's ~60 functions by their names took ~200 us of
    Python; by section offsets it is a few calls (benchmarks/boot.py)."""

    __slots__ = ("names", "pcs", "groups", "placed", "_stored_fields", "_entries")

    def __init__(self, names: tuple[str, ...], pcs: bytes, groups: tuple[tuple[str, int, bytes, bytes], ...],
                 stored_fields: bytes, entries: tuple[NativeEntry, ...] | None = None) -> None:
        self.names = names
        self.pcs = pcs
        self.groups = groups
        self.placed = sum(len(offsets) for _, _, offsets, _ in groups) // 8
        """How many functions (the first ones) the groups place."""
        self._stored_fields = stored_fields
        """The entries' field tuples, marshalled: read only when ``entries`` is asked for (most
        records a warm Linux boot reads never are; unmarshalling them all cost ~25 ms)."""
        self._entries = entries

    @classmethod
    def of(cls, entries: tuple[NativeEntry, ...]) -> RecordedPage:
        """The record of ``entries`` (reordered: grouped by bundle section, then the rest)."""
        sections: dict[tuple[str, int], list[NativeEntry]] = {}
        rest = []
        for entry in entries:
            place = entry.place
            if place is not None and place[2] is not None and place[3] is not None:
                sections.setdefault((place[0], place[2]), []).append(entry)
            else:
                rest.append(entry)
        ordered = tuple(entry for held in sections.values() for entry in held) + tuple(rest)
        groups = tuple((bundle, section, array("Q", [entry.place[3] for entry in held]).tobytes(),
                        array("Q", [entry.place[1] for entry in held]).tobytes())
                       for (bundle, section), held in sections.items())
        pcs = array("Q", [entry.pc for entry in ordered]).tobytes()
        return cls(tuple(entry.name for entry in ordered), pcs, groups,
                   marshal.dumps([tuple(entry) for entry in ordered]), ordered)

    @classmethod
    def stored_as(cls, value: object) -> RecordedPage | None:
        """The record ``stored`` made ``value`` (unmarshalled), if it is one whose parts agree (a
        record that does not is ignored rather than misread; its entries are checked when read)."""
        if type(value) is not tuple or len(value) != 5 or value[0] != PAGE_FORMAT:
            return None
        _, names, pcs, groups, stored_fields = value
        if (not names or len(pcs) != 8 * len(names) or type(stored_fields) is not bytes
                or any(len(offsets) != len(sizes) for _, _, offsets, sizes in groups)
                or sum(len(offsets) for _, _, offsets, _ in groups) > len(pcs)):
            return None
        return cls(names, pcs, groups, stored_fields)

    @property
    def entries(self) -> tuple[NativeEntry, ...]:
        """The full entries, in the order of ``names``; StaleRecord if the stored entries do not
        agree with the names (a damaged cache: the rest of the record was checked when read)."""
        if self._entries is None:
            try:
                fields = marshal.loads(self._stored_fields)
            except (ValueError, EOFError, TypeError):
                fields = None
            if (type(fields) is not list or len(fields) != len(self.names)
                    or any(len(each) != FIELDS or each[1] != name
                           for each, name in zip(fields, self.names, strict=True))):
                raise StaleRecord("a native page record's entries do not agree with its names: the JIT"
                                  " cache is damaged (delete its index folder, jit/index under the"
                                  " polyvm cache, to start it again)")
            self._entries = tuple(map(_as_entry, fields))
        return self._entries

    def stored(self) -> bytes:
        return marshal.dumps((PAGE_FORMAT, self.names, self.pcs, self.groups, self._stored_fields))


WINDOW = 64
"""Pages whose records one query reads (a warm Linux boot asked ~550 times, one page at a time).
Pages are virtual page numbers, below 2**52, which SQLite stores as they are."""


class NativePages:
    """The records in the name index's database ``path``, read a page at a time."""

    def __init__(self, path: Path) -> None:
        self.table = BatchedTable(
            path, "CREATE TABLE IF NOT EXISTS native_pages (page INTEGER, digest BLOB, entries BLOB,"
            " PRIMARY KEY (page, digest))", "INSERT OR REPLACE INTO native_pages VALUES (?, ?, ?)")
        self.read: dict[tuple[int, bytes], RecordedPage | None] = {}
        """Records asked for so far (None: none), with this process's additions."""
        self._windows: set[int] = set()
        """The windows of WINDOW pages whose records were read (``_stored``)."""
        self._stored: dict[tuple[int, bytes], bytes] = {}
        """Records of the windows read, as stored, until asked for."""

    def find(self, page: int, digest: bytes) -> tuple[NativeEntry, ...]:
        """The functions recorded for virtual ``page`` holding the bytes of ``digest``."""
        record = self.find_page(page, digest)
        return record.entries if record is not None else ()

    def find_page(self, page: int, digest: bytes) -> RecordedPage | None:
        """The record of virtual ``page`` holding the bytes of ``digest``, if there is one (the
        records of its window of WINDOW pages are read with it)."""
        key = (page, digest)
        if key in self.read:
            return self.read[key]
        window = page // WINDOW
        if window not in self._windows:
            first = window * WINDOW
            rows = self.table.query("SELECT page, digest, entries FROM native_pages"
                                    " WHERE page BETWEEN ? AND ?", (first, first + WINDOW - 1))
            self._stored.update(((found, found_digest), entries) for found, found_digest, entries in rows)
            self._windows.add(window)
        stored = self._stored.pop(key, None)
        try:
            record = RecordedPage.stored_as(marshal.loads(stored)) if stored is not None else None
        except (ValueError, EOFError, TypeError):
            record = None  # not a record this code wrote: a cache, so as if there were none
        self.read[key] = record
        return record

    def move(self, places: dict[str, tuple[str, int, int | None, int | None]]) -> int:
        """Have every record place the functions of ``places`` where it says (their ``place``); how
        many records changed. The bundler calls this when its regrouped bundles take names over:
        records that kept the old placements had each later run take those functions from the old
        bundles again, find them strays again and regroup them again (a warm Linux boot rewrote the
        same ~1,900 functions' bundle at every exit; benchmarks/boot.py)."""
        changed = 0
        for page, digest, stored in self.table.query("SELECT page, digest, entries FROM native_pages"):
            try:
                record = RecordedPage.stored_as(marshal.loads(stored))
                if record is None or places.keys().isdisjoint(record.names):
                    continue
                entries = record.entries
            except (ValueError, EOFError, TypeError, StaleRecord):
                continue
            moved = tuple(entry._replace(place=places.get(entry.name, entry.place)) for entry in entries)
            self.table.add((page, digest, RecordedPage.of(moved).stored()))
            changed += 1
        self.table.flush()
        return changed

    def record(self, page: int, digest: bytes, entries: list[NativeEntry]) -> None:
        """Add ``entries`` to the record of ``page`` with the bytes of ``digest``, written if that
        changed it. An entry replaces the one recorded at its pc unless that one's ``tier`` is
        higher: a run's quick code does not undo the precompiler's optimised code (precompile.py),
        nor that a run's optimised region."""
        known = {entry.pc: entry for entry in self.find(page, digest)}
        merged = dict(known)
        merged.update((entry.pc, entry) for entry in entries
                      if entry.pc not in known or entry.tier >= known[entry.pc].tier)
        if merged == known:
            return
        record = self.read[page, digest] = RecordedPage.of(tuple(merged.values()))
        self.table.add((sqlite_int(page), digest, record.stored()))
