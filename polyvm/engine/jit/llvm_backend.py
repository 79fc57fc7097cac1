"""The LLVM side of the JIT: process-wide MCJIT engines that turn IR text into native code.

MCJIT engines live for the whole process (freeing one crashed this host); each compile adds one
module to one of them. codegen.py writes the text, llvm_objects.py compiles it.

Functions are named by their content key: a hash of the guest bytes and pcs of their blocks, the
optimisation level, the host (LLVM version, CPU, features) and the code that makes their text
(functions of blocks that do not know their bytes, and the dispatch loop, by a hash of their text).
Compiling the same block twice in a process returns the first address, and with a
``cache_dir`` the object code is kept on disk under that name, so a later process (a second boot
of the same guest) links it instead of running LLVM's passes and code generator. Object code is
linked with MCJIT's add_object_file (about 0.03 ms), whoever compiled it; the functions a run linked
one by one are bundled into one object for the next run (object_bundles.py).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
import pickle
import threading
import time
from array import array
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from polyvm.devtools.batched_table import BatchedTable, sqlite_int, versioned_path
from polyvm.engine.interpreter.translation_store import code_version, sources_version
from polyvm.engine.jit.codegen import block_function
from polyvm.engine.jit.llvm_objects import (
    LLVM_SET_UP,
    PREFIX,
    codegen_level,
    compile_object,
    host_description,
    host_target,
    named_module,
)
from polyvm.engine.jit.mapped_code import map_code
from polyvm.engine.jit.native_pages import NativePages
from polyvm.engine.jit.object_bundles import FOLDER as BUNDLES
from polyvm.engine.jit.object_bundles import (
    BundleIndex,
    Placement,
    anchor_name,
    note_bundled,
    note_loose,
    object_functions,
)
from polyvm.engine.jit.object_pruning import prune_daily, touch
from polyvm.ir.block import IRBlock

if TYPE_CHECKING:
    import llvmlite.binding as llvm

M64 = (1 << 64) - 1


class NativeCode(NamedTuple):
    """A compiled function: its native address, name, compile time and object file size (a
    NamedTuple: a warm Linux boot makes ~13,000, and a frozen dataclass is slower to build)."""

    address: int
    name: str
    compile_ms: float
    code_size: int


def complete_object(data: bytes) -> bool:
    """Whether ``data`` is an ELF object whose section header table (the end of what ``ld`` and
    LLVM write) is all there: MCJIT crashes the process on a truncated object, such as a cache file
    a power loss cut short."""
    if len(data) < 64 or data[:4] != b"\x7fELF":
        return False
    table = int.from_bytes(data[0x28:0x30], "little")
    entry_size = int.from_bytes(data[0x3A:0x3C], "little")
    entries = int.from_bytes(data[0x3C:0x3E], "little")
    return table + entry_size * entries <= len(data)


def cached_object(folder: Path, name: str) -> bytes | None:
    """The object code of ``name`` in the disk cache ``folder``, if there and whole (marked used)."""
    path = folder / f"{name}.o"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if not complete_object(data):
        return None
    touch(path)
    return data


def object_code(folder: Path | None, name: str, text: str, opt_level: int,
                target: llvm.TargetMachine) -> bytes:
    """The object code of function ``name`` (module ``text``): the disk cache ``folder``'s if it
    has it (another process or an earlier run may have compiled it), else compiled now and kept
    there."""
    data = cached_object(folder, name) if folder is not None else None
    if data is None:
        data = compile_object(text, opt_level, target)
        if folder is not None:
            store_object(folder, name, data)
    return data


def store_object(folder: Path, name: str, data: bytes) -> None:
    """Keep object code in the disk cache, written atomically under a temporary name of this
    process and thread (two writers may store the same function at once: the last rename wins, and
    both wrote the same bytes)."""
    path = folder / f"{name}.o"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)


JIT_SOURCES = ("engine/jit/codegen.py", "engine/jit/context.py", "engine/jit/llvm_objects.py",
               "engine/jit/native_csrs.py", "arch/riscv64/csr.py", "arch/riscv64/hart.py")
"""Code (relative to the polyvm package) that determines a block function's text besides the
translator's: the code generator, the context block's layout and the CSR semantics native code
inlines (masks, the hart's cells), and how LLVM compiles it (llvm_objects.py)."""


@functools.cache
def jit_code_version() -> str:
    """A hash of JIT_SOURCES and the translation code version (see ``_content_key``)."""
    return sources_version(code_version().encode(), JIT_SOURCES)


class NameIndex:
    """The members each region head was last compiled with (and the name of that region's
    function), which bundle holds each function and the native page records (native_pages.py),
    kept in the disk cache's folder for this code version. The regions are read whole when opened,
    with the bundle placements of their functions; other placements are asked for one by one
    (object_bundles.BundleIndex). Functions need no index to be found: a block's is named by its
    content key (``LlvmBackend.function_name``)."""

    def __init__(self, folder: Path) -> None:
        index = folder / "index"  # not among the object files: globbing those is slow
        index.mkdir(exist_ok=True)
        path = self.path = versioned_path(index, "names", jit_code_version())
        self.region_table = BatchedTable(
            path, "CREATE TABLE IF NOT EXISTS regions (head TEXT PRIMARY KEY, level INTEGER, pc INTEGER,"
            " members BLOB, function TEXT)", "INSERT OR REPLACE INTO regions VALUES (?, ?, ?, ?, ?)")
        self.regions: dict[str, bytes | None] = {}
        """Head key -> pickled [(pc, code)] of the members (None: not recorded), for the heads asked
        about or recorded by this process."""
        self.head_pcs: dict[int, set[int]] = {}
        """The pcs of the recorded heads by optimisation level: most blocks are none, and this
        tells without a key."""
        self.bundles = BundleIndex(path)
        self.native_pages = NativePages(path)
        for level, pc in self.region_table.query("SELECT level, pc FROM regions"):
            self.head_pcs.setdefault(level, set()).add(pc & M64)

    def members(self, head: str) -> list[tuple[int, bytes]] | None:
        """The members recorded for ``head``, if any; the bundle placement of its function becomes
        known with them. (Reading every region at start-up took ~45 ms of each ``polyvm run`` with
        ~11,000 recorded; benchmarks/boot.py.)"""
        if head not in self.regions:
            rows = self.region_table.query(
                "SELECT members, function, bundle, size, section, offset FROM regions"
                " LEFT JOIN bundled ON bundled.name = regions.function WHERE head = ?", (head,))
            members, function, *place = rows[0] if rows else (None, None, None)
            self.regions[head] = members
            if place[0] is not None:
                self.bundles.known.setdefault(function, Placement(*place))
        members = self.regions[head]
        return pickle.loads(members) if members is not None else None

    def flush(self) -> None:
        """Write what waits to be written (at exit by itself: atexit)."""
        for table in (self.region_table, self.bundles.table, self.native_pages.table):
            table.flush()

    def put_members(self, head: str, level: int, pc: int, members: list[tuple[int, bytes]],
                    function: str) -> None:
        data = pickle.dumps(members)
        if self.regions.get(head) != data:
            self.regions[head] = data
            self.head_pcs.setdefault(level, set()).add(pc)
            self.region_table.add((head, level, sqlite_int(pc), data, function))


@functools.cache
def _name_index(folder: Path) -> NameIndex:
    return NameIndex(folder)


LOOSE_MAPPED_MAX = 1024
"""Loose object files a process maps (mapped_code.py) before MCJIT links the rest: each mapping is
a kernel memory area (vm.max_map_count is 65,530 by default), and a cold Linux boot links ~36,000."""
_loose_mapped = itertools.count()
"""Counts the loose objects every engine of the process tried to map (``next`` is atomic): past
the limit, an object is linked without reading its symbols first."""


class _Engine:
    """One MCJIT engine (made at its first use: a warm run may need none) and the code it linked
    or mapped, alive until the process ends."""

    def __init__(self, level: int) -> None:
        self.level = level
        self._mcjit: llvm.ExecutionEngine | None = None
        self.lock = threading.Lock()
        """MCJIT is not thread-safe: one object added at a time."""
        self.functions: dict[str, tuple[int, int]] = {}
        """Function name -> (address, object code size)."""
        self.objects: list[tuple[llvm.ObjectFileRef, bytes]] = []
        """Linked objects with the bytes they were read from (LLVM keeps pointing into them)."""
        self.bundles: set[str] = set()
        """Paths of the bundles (object_bundles.py) linked whole by MCJIT (strings: hashing a Path costs
        microseconds, and a warm Linux boot asks ~16k times; benchmarks/boot.py)."""
        self.broken: set[str] = set()
        """Bundles that could not be read or were not whole (never tried again)."""
        self.anchors: dict[str, int] = {}
        """Where the section of each bundle anchor asked for starts in memory, by anchor name."""
        self.mapped: dict[str, dict[int | None, int]] = {}
        """Paths of the bundles mapped as they are (mapped_code.py), with where their code
        sections start, by section index."""
        self.loose_mapped = 0
        """Loose object files this engine mapped (LOOSE_MAPPED_MAX counts the process's)."""

    @property
    def engine(self) -> llvm.ExecutionEngine:
        """The MCJIT engine (made now the first time; the caller holds ``lock``)."""
        if self._mcjit is None:
            import llvmlite.binding as llvm

            target = host_target(self.level).target
            with LLVM_SET_UP:
                self._mcjit = llvm.create_mcjit_compiler(llvm.parse_assembly(""), target)
        return self._mcjit

    def add(self, name: str, data: bytes, path: Path | None = None) -> tuple[int, int]:
        """Object code defining ``name`` (once per name) mapped from its file ``path`` if it can
        run unlinked (``_map_loose``), else linked; its (address, size)."""
        with self.lock:
            known = self.functions.get(name)
            if known is None:
                address = self._map_loose(name, data, path) if path is not None else 0
                if not address:
                    self._link(data)
                    address = self.engine.get_function_address(name)
                known = self.functions[name] = (address, len(data))
        return known

    def _map_loose(self, name: str, data: bytes, path: Path) -> int:
        """Where function ``name`` of the object file ``path`` (whose bytes are ``data``) runs once
        its code is mapped (mapped_code.py), or 0 if it was not."""
        if next(_loose_mapped) >= LOOSE_MAPPED_MAX:
            return 0
        place = object_functions(data).get(name)
        starts = map_code(str(path)) if place is not None else None
        if starts is None or place[0] not in starts:
            return 0
        self.loose_mapped += 1
        return starts[place[0]] + place[1]

    def from_bundle_many(self, bundle: str, functions: list[tuple[str, Placement]],
                         anchor: tuple[str, Placement | None]) -> dict[str, tuple[int, int]]:
        """(address, size) of the ``functions`` (name, where ``bundle`` holds it) that ``bundle``
        defines, by name; the bundle is mapped (mapped_code.py) or else linked first if it is not
        yet (none if it cannot be read). A function the process linked on its own before keeps
        that address: both copies are the same code. In a mapped bundle, an address is its
        section's plus its offset; in a linked one, that of the bundle's ``anchor`` (name,
        placement) plus the distance between their offsets, if they share a section
        (object_bundles.function_offsets)."""
        with self.lock:
            starts = self._section_starts(bundle, anchor)
            if starts is None:
                return {}
            found = {}
            for name, place in functions:
                known = self.functions.get(name)
                if known is None:
                    start = starts.get(place.section)
                    address = start + place.offset if start is not None and place.offset is not None else 0
                    if not address and bundle in self.bundles:
                        address = self.engine.get_function_address(name)
                    if not address:
                        continue
                    known = self.functions[name] = (address, place.size)
                found[name] = known
        return found

    def section_start(self, bundle: str, section: int, anchor: tuple[str, Placement | None]) -> int | None:
        """Where section ``section`` of ``bundle`` starts in memory, if known (see
        ``from_bundle_many``: a linked bundle's only through its ``anchor``)."""
        with self.lock:
            starts = self._section_starts(bundle, anchor)
        return None if starts is None else starts.get(section)

    def _section_starts(self, bundle: str,
                        anchor: tuple[str, Placement | None]) -> dict[int | None, int] | None:
        """Where ``bundle``'s sections start, by index: all of a mapped bundle's, the anchor's of a
        linked one (``_open_bundle`` first); None if it cannot be read."""
        starts = self._open_bundle(bundle)
        if starts is not None and not starts:
            starts = self._anchor_section(anchor)
        return starts

    def _open_bundle(self, bundle: str) -> dict[int | None, int] | None:
        """Where ``bundle``'s code sections start, by section index, if it is mapped (mapping it
        now if it can be); {} if it is linked (linking it now); None if it cannot be read."""
        starts = self.mapped.get(bundle)
        if starts is not None or bundle in self.bundles:
            return starts or {}
        if bundle in self.broken:
            return None
        starts = map_code(bundle)
        if starts is not None:
            touch(Path(bundle))
            self.mapped[bundle] = starts
            return starts
        try:
            data = Path(bundle).read_bytes()
        except OSError:
            data = b""
        if not complete_object(data):
            self.broken.add(bundle)
            return None
        touch(Path(bundle))
        self._link(data)
        self.bundles.add(bundle)
        return {}

    def _anchor_section(self, anchor: tuple[str, Placement | None]) -> dict[int | None, int]:
        """Where the linked section holding ``anchor`` (name, placement) starts, by its index."""
        name, place = anchor
        if place is None or place.offset is None:
            return {}
        base = self.anchors.get(name)
        if base is None:
            base = self.anchors[name] = self.engine.get_function_address(name) - place.offset
        return {place.section: base}

    def _link(self, data: bytes) -> None:
        import llvmlite.binding as llvm

        obj = llvm.ObjectFileRef.from_data(data)
        self.engine.add_object_file(obj)
        self.engine.finalize_object()
        self.objects.append((obj, data))


class LlvmBackend:
    """Compiles through process-wide MCJIT engines, adding one object file per function.

    ``opt_level`` 0 skips the optimisation passes and uses LLVM's fast instruction selector (about
    an eighth of the compile time); levels 1-3 run the new pass manager's O1-O3 pipeline and the
    full code generator. Each code generator level has its own engine; their code calls each other
    freely (addresses are process-wide). ``cache_dir`` keeps object code on disk across processes.

    ``prepare`` / ``lookup`` / ``load`` split a compile so that LLVM can run elsewhere (the compile
    server process of background.py) and only the linking happens here.
    """

    _engines: dict[int, _Engine] = {}
    _engines_lock = threading.Lock()

    @classmethod
    def _engine(cls, level: int) -> _Engine:
        """The process's engine for code generator ``level`` (made once: freeing one crashes)."""
        with cls._engines_lock:
            engine = cls._engines.get(level)
            if engine is None:
                engine = cls._engines[level] = _Engine(level)
        return engine

    def __init__(self, opt_level: int = 2, cache_dir: Path | None = None) -> None:
        self.opt_level = opt_level
        self.cache_dir = cache_dir
        self.codegen_level = codegen_level(opt_level)
        self.host = host_description(self.codegen_level, cache_dir)
        self.engine = self._engine(self.codegen_level)
        self.disk_hits = 0
        self.names = _name_index(cache_dir) if cache_dir is not None else None
        self.bundle_folder = str(cache_dir / BUNDLES) if cache_dir is not None else ""
        self.notes = (str(cache_dir), str(self.names.path)) if cache_dir is not None else ("", "")
        """The cache folder and name index paths the object bundles' notes go under."""
        self.bundle_engine = self._engine(0)
        """Where bundles are linked (see ``_bundled``)."""
        self._bundle_files: dict[str, tuple[str, tuple[str, Placement | None]]] = {}
        """Bundle file name -> its path and its anchor's name and placement (a warm Linux boot
        looks up ~35,000 bundled functions; benchmarks/boot.py)."""
        self.key_seed = hashlib.sha256(f"{self.host.host}|{opt_level}|{jit_code_version()}".encode())
        """What starts every content key (copied per key)."""
        self._last_head: tuple[IRBlock | None, str | None] = (None, None)
        """The block ``_head_key`` last keyed, and its key."""
        if cache_dir is not None:
            prune_daily(cache_dir)

    def compile_block(self, block: IRBlock, members: Sequence[IRBlock] = ()) -> NativeCode:
        """``block``'s function (a region with ``members``, see codegen.py)."""
        start = time.perf_counter()
        known = self.known_code(block, members)
        if known is not None:
            return known
        name, text = self.prepare(block, members)
        return self._finish(name, text, start)

    def compile_support(self, function: Callable[[str], str]) -> NativeCode:
        """One of codegen's fixed functions (``dispatch_loop``, ``fill_jumps``, ``memory_front``)
        compiled, named by its text (the disk cache has it after the first run)."""
        start = time.perf_counter()
        return self._finish(*named_module(function("NAME"), self.opt_level, host=self.host), start)

    def known_code(self, block: IRBlock, members: Sequence[IRBlock] = ()) -> NativeCode | None:
        """``block``'s code if this process or the disk cache has it under its content-key name
        (the text is not made)."""
        name = self.function_name(block, members)
        return self.lookup(name) if name is not None else None

    def function_name(self, block: IRBlock, members: Sequence[IRBlock] = ()) -> str | None:
        """The name of ``block``'s function (with ``members``): its content key, which determines
        its text (None without a disk cache, or for a block that does not know its guest bytes:
        such functions are named by a hash of their text). Named so, a function needs no index to
        be found: a table of text-hash names by content key took a third of the start-up of every
        ``polyvm run`` once test runs had filled it (benchmarks/boot.py)."""
        key = self._content_key(block, members) if members else self._head_key(block)
        return f"{PREFIX}{key}" if key is not None else None

    def prepare(self, block: IRBlock, members: Sequence[IRBlock] = ()) -> tuple[str, str]:
        """The function name (``function_name``, else a hash of the text) and module text of
        ``block``."""
        return named_module(block_function(block, "NAME", members), self.opt_level,
                            self.function_name(block, members), self.host)

    def remember_region(self, block: IRBlock, members: Sequence[IRBlock]) -> None:
        """Note that hot ``block`` was compiled with ``members``: its recorded members
        (``recorded_members``). Only regions compiled because they were hot are recorded: JIT
        mode's compile of every block (``compile_block``) is not, else a later run would install
        native code for every block it translates."""
        head = self._head_key(block)
        if head is not None:
            recorded = [(member.start_pc, member.code) for member in members]
            self.names.put_members(head, self.opt_level, block.start_pc, recorded,
                                   self.function_name(block, members))

    def recorded_members(self, block: IRBlock) -> list[tuple[int, bytes]] | None:
        """(pc, code) of the members ``block`` was last compiled with as a region head, if ever
        (so a later run can set up the same region before the block runs)."""
        if self.names is None or block.start_pc not in self.names.head_pcs.get(self.opt_level, ()):
            return None
        head = self._head_key(block)
        return self.names.members(head) if head is not None else None

    def _head_key(self, block: IRBlock) -> str | None:
        """``_content_key`` of ``block`` alone, kept for the block last asked about: a recorded head
        is asked for by ``recorded_members`` and then, with no members, by ``known_code``."""
        last, key = self._last_head
        if last is not block:
            key = self._content_key(block, ())
            self._last_head = (block, key)
        return key

    def _content_key(self, block: IRBlock, members: Sequence[IRBlock]) -> str | None:
        """A hash of what determines the text of ``block``'s function, or None if a block does not
        know the guest bytes it came from."""
        if self.names is None:
            return None
        digest = self.key_seed.copy()
        for each in (block, *members):
            if each.code is None:
                return None
            digest.update(f"|{each.start_pc:x}:{len(each.code)}:".encode())
            digest.update(each.code)
        return digest.hexdigest()[:32]

    def lookup(self, name: str) -> NativeCode | None:
        """``name``'s code if this process or the disk cache has it (linked now if from disk)."""
        start = time.perf_counter()
        known = self.engine.functions.get(name) or self._bundled(name)
        if known is None:
            data = cached_object(self.cache_dir, name) if self.cache_dir is not None else None
            if data is None:
                return None
            known = self._add_loose(name, data)
            self.disk_hits += 1
        return NativeCode(known[0], name, (time.perf_counter() - start) * 1000, known[1])

    def find_many(self, wanted: Sequence[tuple[str, Placement | None]]) -> dict[str, tuple[int, int]]:
        """(address, size) of the functions ``wanted`` (name, where a bundle holds it if the caller
        knows) that this process or the disk cache has (as ``lookup``), by name; the bundled ones
        linked a bundle at a time (native_pages.py: a warm Linux boot prefills ~35,000 functions,
        and asking for each alone cost ~0.2 s more; benchmarks/boot.py)."""
        functions = self.engine.functions
        known = {name: functions[name] for name, _ in wanted if name in functions}
        if len(known) < len(wanted):
            known.update(self._bundled_many([pair for pair in wanted if pair[0] not in known]))
            for name, _ in wanted:
                if name not in known:
                    native = self.lookup(name)  # its own object file, if the disk cache has it
                    if native is not None:
                        known[name] = (native.address, native.code_size)
        return known

    def placed_functions(self, bundle: str, section: int, names: Sequence[str], offsets: array,
                         sizes: array) -> list[int] | None:
        """The addresses of the functions ``names`` that bundle file ``bundle`` holds in section
        ``section`` at ``offsets`` (their own object files being ``sizes`` bytes), as ``find_many``
        would find them, if that section's start is known (None: not mappable, or linked apart from
        its anchor); one addition each instead of a lookup by name (page_prefill.py)."""
        if self.names is None:
            return None
        path, anchor = self._bundle_file(bundle)
        start = self.bundle_engine.section_start(path, section, anchor)
        if start is None:
            return None
        note_bundled(*self.notes, names, sizes, path)
        self.disk_hits += len(names)
        return list(map(start.__add__, offsets))

    def _bundled(self, name: str) -> tuple[int, int] | None:
        """``name`` from the bundle the name index says holds it, if any (object_bundles.py)."""
        return self._bundled_many([(name, None)]).get(name)

    def _bundled_many(self, wanted: list[tuple[str, Placement | None]]) -> dict[str, tuple[int, int]]:
        """(address, size) of those of the functions ``wanted`` (name, placement if known: else
        the name index is asked) that bundles hold, by name, linked a bundle at a time
        (object_bundles.py). Placements the caller knew and the index had not read are kept there."""
        if self.names is None:
            return {}
        bundles = self.names.bundles
        place, placed = bundles.place, bundles.known
        by_bundle: dict[str, list[tuple[str, Placement]]] = {}
        for name, where in wanted:
            if where is None:
                where = place(name)
                if where is None:
                    continue
            elif name not in placed:
                placed[name] = where
            held = by_bundle.get(where.bundle)
            if held is None:
                held = by_bundle[where.bundle] = []
            held.append((name, where))
        found: dict[str, tuple[int, int]] = {}
        for bundle, held in by_bundle.items():
            path, anchor = self._bundle_file(bundle)
            linked = self.bundle_engine.from_bundle_many(path, held, anchor)
            if self.engine is not self.bundle_engine:
                functions = self.engine.functions
                for name, known in linked.items():
                    functions.setdefault(name, known)
            taken = [(name, where.size) for name, where in held if name in linked]
            note_bundled(*self.notes, [name for name, _ in taken], [size for _, size in taken], path)
            self.disk_hits += len(linked)
            found.update(linked)
        return found

    def _bundle_file(self, bundle: str) -> tuple[str, tuple[str, Placement | None]]:
        """The path of the bundle file ``bundle`` and its anchor's name and placement. A bundle
        holds functions of both code generator levels; every bundle is linked into the level-0
        engine, once per process (linking objects does not depend on the level)."""
        where = self._bundle_files.get(bundle)
        if where is None:
            anchor = anchor_name(bundle.removesuffix(".o"))
            where = self._bundle_files[bundle] = (os.path.join(self.bundle_folder, bundle),
                                                  (anchor, self.names.bundles.place(anchor)))
        return where

    def _add_loose(self, name: str, data: bytes) -> tuple[int, int]:
        """Map or link one function's own object file (and note it for a bundle at exit)."""
        if self.names is not None:
            note_loose(*self.notes, name)
        path = self.cache_dir / f"{name}.o" if self.cache_dir is not None else None
        return self.engine.add(name, data, path)

    def load(self, name: str, data: bytes, compile_ms: float, stored: bool = False) -> NativeCode:
        """Link object code compiled elsewhere (and keep it in the disk cache unless ``stored``
        there already)."""
        if not stored and self.cache_dir is not None:
            store_object(self.cache_dir, name, data)
        address, size = self._add_loose(name, data)
        return NativeCode(address, name, compile_ms, size)

    def _finish(self, name: str, text: str, start: float) -> NativeCode:
        known = self.lookup(name)
        if known is not None:
            return NativeCode(known.address, name, (time.perf_counter() - start) * 1000, known.code_size)
        data = compile_object(text, self.opt_level, host_target(self.codegen_level).target)
        return self.load(name, data, (time.perf_counter() - start) * 1000)
