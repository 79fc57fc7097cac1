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
from pathlib import Path
from typing import NamedTuple

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


def page_digest(page_code: bytes | memoryview) -> bytes:
    """The hash records are kept under (of a page's 4 KiB)."""
    return hashlib.blake2b(page_code, digest_size=16).digest()


FIELDS = len(NativeEntry._fields)
_as_entry = functools.partial(tuple.__new__, NativeEntry)


def _decode(records: list[tuple]) -> tuple[NativeEntry, ...]:
    """The entries of a record (field tuples made whole by C calls, not NativeEntry's own
    constructor: a warm Linux boot decodes ~40,000, and that took ~20 ms; benchmarks/boot.py)."""
    if all(len(fields) == FIELDS for fields in records):
        return tuple(map(_as_entry, records))
    return tuple(NativeEntry(*fields) for fields in records)


class NativePages:
    """The records in the name index's database ``path``, read a page at a time."""

    def __init__(self, path: Path) -> None:
        self.table = BatchedTable(
            path, "CREATE TABLE IF NOT EXISTS native_pages (page INTEGER, digest BLOB, entries BLOB,"
            " PRIMARY KEY (page, digest))", "INSERT OR REPLACE INTO native_pages VALUES (?, ?, ?)")
        self.read: dict[tuple[int, bytes], tuple[NativeEntry, ...]] = {}
        """Records asked for so far (empty: none), with this process's additions."""

    def find(self, page: int, digest: bytes) -> tuple[NativeEntry, ...]:
        """The functions recorded for virtual ``page`` holding the bytes of ``digest``."""
        key = (page, digest)
        entries = self.read.get(key)
        if entries is None:
            rows = self.table.query("SELECT entries FROM native_pages WHERE page = ? AND digest = ?",
                                    (sqlite_int(page), digest))
            try:
                entries = _decode(marshal.loads(rows[0][0])) if rows else ()
            except (ValueError, EOFError, TypeError):
                entries = ()  # not a record this code wrote: a cache, so as if there were none
            self.read[key] = entries
        return entries

    def record(self, page: int, digest: bytes, entries: list[NativeEntry], replace: bool = True) -> None:
        """Add ``entries`` to the record of ``page`` with the bytes of ``digest`` (an entry replaces
        one recorded at its pc, unless not ``replace``), written if that changed it."""
        known = {entry.pc: entry for entry in self.find(page, digest)}
        merged = dict(known)
        merged.update((entry.pc, entry) for entry in entries if replace or entry.pc not in known)
        if merged == known:
            return
        value = self.read[page, digest] = tuple(merged.values())
        self.table.add((sqlite_int(page), digest, marshal.dumps([tuple(entry) for entry in value])))
