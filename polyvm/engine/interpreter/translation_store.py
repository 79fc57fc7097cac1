"""A persistent cache of translations, keyed by the guest code bytes they were made from.

Translating a block (decode, IR, Python source, ``compile``) costs about 0.3 ms; a Linux boot
translates some 35,000 blocks, so translation alone was ~40% of a boot (benchmarks/boot.py). A
translation is a pure function of the block's virtual pc, the 16-bit parcels the translator fetched
and this code base (the translator, the IR, the Python code generator and the Python version), so it
is stored under exactly those: a later run, or a later boot in this run, that finds the same bytes at
the same pc takes the stored Python code object instead of translating again.

Stored blocks come back as ``StoredIRBlock``: their statements are made again from the stored bytes
on first use (only blocks the JIT compiles or side-exits from need them), and the function is the
unmarshalled code object run in the engine's namespace. Entries are kept in one SQLite file per
code version under the polyvm cache (batched_table.py), read a virtual page at a time when a block
of that page is first looked for.

Page records make that read one query and one unmarshalling: at exit, the blocks a run used in a
virtual page are written as one record, keyed by a hash of the page's bytes when the run first
looked in it. A later run that finds the page with the same bytes takes the record; a block the
record lacks sends it to the page's rows as before. (Reading rows took ~0.3 s of a warm Linux boot's
~36,000 lookups; benchmarks/boot.py.)
"""

from __future__ import annotations

import array
import atexit
import hashlib
import importlib.util
import marshal
from collections.abc import Callable, Sequence
from pathlib import Path
from types import CodeType
from typing import NamedTuple

import polyvm
from polyvm.devtools.batched_table import BatchedTable, sqlite_int, versioned_path
from polyvm.devtools.cache import cache_dir
from polyvm.ir.block import IRBlock, Stmt

TRANSLATION_SOURCES = ("arch/riscv64/decoder.py", "arch/riscv64/fuser.py", "arch/riscv64/translate.py",
                       "ir", "fp/instructions.py", "engine/interpreter/pycodegen.py",
                       "engine/interpreter/translation_store.py", "engine/jit/resume.py")
"""The code a translation depends on (relative to the polyvm package); its hash is the version.
(The hart's helpers are called by the names and arguments translate.py gives them.)"""


def sources_version(seed: bytes, sources: Sequence[str]) -> str:
    """A hash of ``seed`` and the files ``sources`` names (relative to the polyvm package; a folder
    stands for its Python files), with their paths."""
    root = Path(polyvm.__file__).parent
    digest = hashlib.sha256(seed)
    for name in sources:
        path = root / name
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:24]


def code_version() -> str:
    """A hash of TRANSLATION_SOURCES and the Python bytecode magic: the store of any other
    version is never used (and is deleted when a store opens)."""
    return sources_version(importlib.util.MAGIC_NUMBER, TRANSLATION_SOURCES)


M64 = (1 << 64) - 1
RECORD_SLACK = 2
"""A page's record is rewritten with just the blocks a run used there when it holds more than this
many times as many: records had gathered the blocks of a whole test suite's runs, and a warm Linux
boot read 135 MB of them for the 36,000 blocks it uses (benchmarks/boot.py)."""


def _stored_fields(insn_count: int, byte_size: int, fused: int, resumable: bool,
                   successors: tuple[int, ...], python: object) -> tuple:
    """A block's fields as rows and page records hold them (successors packed, code marshalled:
    ``python`` may be already)."""
    packed = array.array("Q", successors).tobytes()
    code = python if type(python) is bytes else marshal.dumps(python)
    return insn_count, byte_size, fused, resumable, packed, code


class StoredIRBlock(IRBlock):
    """An IRBlock read from the store; ``stmts`` comes from ``rebuild`` (a translation of the same
    bytes) when first used. What the JIT asks of most blocks (``resumable``, ``successors``) is
    stored with them, so hot blocks and their region members need no ``stmts``; so are the Python
    tails that finish blocks after native side exits (``find_tail``)."""

    rebuild: Callable[[], list[Stmt]]
    stored_successors: tuple[int, ...]

    def successors(self) -> tuple[int, ...]:
        return self.stored_successors

    def __getattr__(self, name: str) -> object:
        if name != "stmts":
            raise AttributeError(name)
        stmts = self.stmts = self.rebuild()
        return stmts


class Translation(NamedTuple):
    """What ``find`` returns: the block (phys fields and ``rebuild`` not set), the guest bytes it
    was translated from and its Python code object (marshalled if read from the store)."""

    block: StoredIRBlock
    code: bytes
    python: object


class TranslationStore:
    """Translations of one code-generator setting (``variant``) in the store file ``folder`` has
    for this code version; files of other versions are deleted."""

    def __init__(self, folder: Path, variant: str) -> None:
        path = versioned_path(folder, "translations", code_version())
        self.variant = variant
        self.table = BatchedTable(
            path,
            "CREATE TABLE IF NOT EXISTS blocks (variant TEXT, pc INTEGER, code BLOB,"
            " insn_count INTEGER, byte_size INTEGER, fused INTEGER, resumable INTEGER,"
            " successors BLOB, python BLOB,"
            " PRIMARY KEY (variant, pc, code))",
            "INSERT OR IGNORE INTO blocks VALUES (?,?,?,?,?,?,?,?,?)",
        )
        self.index: dict[int, list[tuple[bytes, int | tuple]]] = {}
        """pc -> (code, row id) of the stored entries of the pages read so far (``_read_page``),
        (code, fields) once their fields are read, and (code, (fields of ``Translation``)) for
        those this process added."""
        self.pages_read: set[int] = set()
        self.tails = BatchedTable(
            path,
            "CREATE TABLE IF NOT EXISTS tails (variant TEXT, pc INTEGER, code BLOB, tail INTEGER,"
            " python BLOB, PRIMARY KEY (variant, pc, code, tail))",
            "INSERT OR IGNORE INTO tails VALUES (?,?,?,?,?)",
        )
        self.tail_index: dict[tuple[int, bytes, int], int | object] = {
            (pc & M64, code, tail): row for pc, code, tail, row in self.tails.query(
                "SELECT pc, code, tail, rowid FROM tails WHERE variant = ?", (variant,))
        }
        """(pc, code, instruction index) -> row id, or the code object of a tail this process added."""
        self.records = BatchedTable(
            path,
            "CREATE TABLE IF NOT EXISTS pages (variant TEXT, page INTEGER, digest BLOB, entries BLOB,"
            " PRIMARY KEY (variant, page, digest))",
            "INSERT OR REPLACE INTO pages VALUES (?,?,?,?)",
        )
        self.page_digests: dict[int, bytes] = {}
        """Virtual page -> hash of its bytes when this run first looked in it."""
        self.recorded: dict[int, dict[tuple[int, bytes], tuple]] = {}
        """Virtual page -> the entries of the record it was read from, by (pc, code), their fields
        as rows hold them (a record may hold blocks of many runs: only those a run uses are
        unmarshalled)."""
        self.rows_read: set[int] = set()
        """Pages whose rows were read (all of them but those read from a record, until a block
        their record lacks is looked for)."""
        self.used: dict[int, dict[tuple[int, bytes], tuple]] = {}
        """Virtual page -> the entries this run found or added there, by (pc, code): its record."""
        atexit.register(self.flush)

    def find(self, pc: int, page_code: bytes | memoryview,
             beyond: Callable[[], bytes] = bytes) -> Translation | None:
        """The stored translation at ``pc`` whose code is a prefix of the guest bytes at ``pc``,
        if any; ``page_code`` holds the bytes of ``pc``'s whole page, and ``beyond()`` the first
        bytes fetched after it (asked for only by a block whose last instruction straddles the
        page's end: its code is compared with both)."""
        page = pc >> 12
        if page not in self.pages_read:
            self._read_page(page, page_code)
        found = self._match(pc, page_code, beyond)
        if found is None and page not in self.rows_read:
            self._read_rows(page, page_code)  # the page's record lacks it
            found = self._match(pc, page_code, beyond)
        if found is None:
            return None
        code, (insn_count, byte_size, fused, resumable, successors, python) = found
        self.used.setdefault(page, {})[pc, code] = found[1]
        block = StoredIRBlock.__new__(StoredIRBlock)
        block.__dict__.update(start_pc=pc, insn_count=insn_count, byte_size=byte_size,
                              phys_page=0, phys_start=0, fused=fused, resumable=bool(resumable),
                              stored_successors=successors)
        return Translation(block, code, python)

    def _match(self, pc: int, page_code: bytes | memoryview,
               beyond: Callable[[], bytes]) -> tuple[bytes, tuple] | None:
        """The indexed (code, fields) at ``pc`` whose code is at ``pc`` in ``page_code`` (and
        ``beyond()``; fields read and decoded now if they were not; the Python code stays
        marshalled)."""
        entries = self.index.get(pc, ())
        code_at = page_code[pc & 0xFFF:]
        straddling = None
        for position, (code, entry) in enumerate(entries):
            if len(code) > len(code_at):
                if straddling is None:
                    straddling = bytes(code_at) + beyond()
                matches = straddling[: len(code)] == code
            else:
                matches = code_at[: len(code)] == code
            if matches:
                if type(entry) is int:
                    entry = self._read_fields([entry]).get(entry)
                    if entry is None:
                        return None
                insn_count, byte_size, fused, resumable, successors, python = entry
                if type(successors) is bytes:
                    entry = (insn_count, byte_size, fused, resumable, tuple(array.array("Q", successors)),
                             python)
                    entries[position] = (code, entry)
                return code, entry
        return None

    def code_object(self, pc: int, code: bytes) -> CodeType:
        """The Python code object of the block ``find`` found at ``pc`` made from ``code``,
        unmarshalled once per process (every hart's block cache, and a block translated again
        after a code write, share it; records keep the marshalled bytes)."""
        entries = self.index[pc]
        for position, (stored, fields) in enumerate(entries):
            if stored == code:
                python = fields[5]
                if type(python) is bytes:
                    python = marshal.loads(python)
                    entries[position] = (stored, (*fields[:5], python))
                return python
        raise KeyError(f"no stored block at 0x{pc:x} made from those bytes")

    def _read_page(self, page: int, page_code: bytes | memoryview) -> None:
        """Index the stored blocks of virtual page ``page``: from its record for these bytes if
        there is one, else from its rows."""
        self.pages_read.add(page)
        digest = self.page_digests[page] = hashlib.blake2b(page_code, digest_size=16).digest()
        found = self.records.query("SELECT entries FROM pages WHERE variant = ? AND page = ? AND digest = ?",
                                   (self.variant, sqlite_int(page), digest))
        if not found:
            self._read_rows(page, page_code)
            return
        recorded = self.recorded[page] = {}
        index = self.index
        for pc, code, *fields in marshal.loads(found[0][0]):  # fields as rows hold them: decoded when used
            recorded[pc, code] = fields = tuple(fields)
            entries = index.get(pc)
            if entries is None:
                index[pc] = [(code, fields)]
            else:
                entries.append((code, fields))

    def _read_rows(self, page: int, page_code: bytes | memoryview) -> None:
        """Index the stored rows of blocks starting in virtual page ``page`` and read the fields of
        those whose code is in ``page_code`` now: two queries a page, whatever else the store holds
        for those addresses (other guests' code, other builds of this one: reading every block of
        a page of OpenSBI's took ~1 ms, reading the whole index ~0.3 s per run)."""
        self.rows_read.add(page)
        first = page << 12
        index = self.index
        matching: dict[int, tuple[list, int]] = {}
        """Row id -> (its pc's entries, its position there), for the rows whose code is there."""
        for pc, code, row in self.table.query(
                "SELECT pc, code, rowid FROM blocks WHERE variant = ? AND pc BETWEEN ? AND ?",
                (self.variant, sqlite_int(first), sqlite_int(first | 0xFFF))):
            pc &= M64
            entries = index.get(pc)
            if entries is None:
                entries = index[pc] = []
            offset = pc & 0xFFF
            if page_code[offset: offset + len(code)] == code:
                matching[row] = (entries, len(entries))
            entries.append((code, row))
        for row, fields in self._read_fields(list(matching)).items():
            entries, position = matching[row]
            entries[position] = (entries[position][0], fields)

    def _read_fields(self, rows: list[int]) -> dict[int, tuple]:
        """The stored fields of these row ids, by row id."""
        if not rows:
            return {}
        return {row: tuple(fields) for row, *fields in self.table.query(
            "SELECT rowid, insn_count, byte_size, fused, resumable, successors, python FROM blocks"
            f" WHERE rowid IN ({','.join('?' * len(rows))})", tuple(rows))}

    def add(self, block: IRBlock, python: object) -> None:
        """Keep ``block`` (translated from ``block.code`` at its start pc) and its Python code."""
        pc, code = block.start_pc, block.code
        fields = (block.insn_count, block.byte_size, block.fused, block.resumable, block.successors(), python)
        self.index.setdefault(pc, []).append((code, fields))
        self.used.setdefault(pc >> 12, {})[pc, code] = fields
        self.table.add((self.variant, sqlite_int(pc), code, *_stored_fields(*fields)))

    def find_tail(self, pc: int, code: bytes, index: int) -> object | None:
        """The Python code object of the tail from instruction ``index`` of the block at ``pc``
        translated from ``code`` (resume.py), if stored."""
        entry = self.tail_index.get((pc, code, index))
        if isinstance(entry, int):
            ((python,),) = self.tails.query("SELECT python FROM tails WHERE rowid = ?", (entry,))
            entry = self.tail_index[pc, code, index] = marshal.loads(python)
        return entry

    def add_tail(self, pc: int, code: bytes, index: int, python: object) -> None:
        self.tail_index[pc, code, index] = python
        self.tails.add((self.variant, sqlite_int(pc), code, index, marshal.dumps(python)))

    def flush(self) -> None:
        """Write what waits: rows, tails, and the records of pages where this run used blocks its
        record did not have, or far fewer than it has (RECORD_SLACK)."""
        for page, used in self.used.items():
            digest = self.page_digests.get(page)
            recorded = self.recorded.get(page, {})
            new = used.keys() - recorded.keys()
            bloated = len(recorded) > RECORD_SLACK * len(used)
            if digest is None or not (new or bloated):
                continue
            if bloated:
                recorded = {key: recorded[key] for key in used.keys() & recorded.keys()}
            self.recorded[page] = recorded
            for key in new:
                recorded[key] = _stored_fields(*used[key])
            entries = [(pc, code, *fields) for (pc, code), fields in recorded.items()]
            self.records.add((self.variant, sqlite_int(page), digest, marshal.dumps(entries)))
        self.used.clear()
        self.table.flush()
        self.tails.flush()
        self.records.flush()


_stores: dict[str, TranslationStore] = {}


def translation_store(variant: str) -> TranslationStore:
    """The process's store for ``variant`` in the polyvm cache folder (one connection each)."""
    store = _stores.get(variant)
    if store is None:
        store = _stores[variant] = TranslationStore(cache_dir(), variant)
    return store
