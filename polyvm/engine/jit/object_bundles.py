"""Object bundles: the object files one run linked one by one, merged into a few objects for
later runs.

A warm Linux boot linked ~12,700 cached object files, one read, ``add_object_file`` and finalize
each (~80 us with the disk cache's bookkeeping: about a second of a 5 s boot; benchmarks/boot.py).
MCJIT adds one object merged from thousands in a few tens of milliseconds. So at exit a process that
linked at least BUNDLE_MIN loose objects of a cache folder starts a detached bundler
(``python -m polyvm.engine.jit.object_bundles``), which merges them, BUNDLE_MAX at a time, with
the system linker (``ld -r``, binutils) into ``bundles/<digest>.o`` and records in the cache's name
index which bundle holds each function (a name stays with the first bundle still on disk: a later,
bigger process does not scatter a boot's functions). A later process that needs a bundled function
adds its whole bundle once (llvm_backend.py) and finds the others there.

A process that took functions from bundles mostly made of others' (a test suite's bundles held a
Linux boot's functions, and the boot linked 32 bundles, 66 MB, for 27 MB of its own) regroups them
at exit: the bundler merges the functions it took from such bundles, in the order it took them,
into bundles that take those names over (``strays``), and the native page records place them
there from then on (native_pages.py ``move``). Bundles a process mostly used stay as they are, so
the few functions each run adds or drops do not make it bundle everything again.

A bundle is only an index over object files that exist anyway: one that is missing, unreadable or
lacks a function sends the lookup back to the loose file (or to a compile). Bundles are pruned
like object files (object_pruning.py).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from itertools import repeat
from pathlib import Path
from typing import NamedTuple

from polyvm.core.elf import SHN_LORESERVE, STT_FUNC, ElfFile
from polyvm.devtools.batched_table import BatchedTable
from polyvm.engine.jit.native_pages import NativePages

BUNDLE_MIN = 500
"""A process bundles the objects it linked loose from a folder only if there were this many (test
runs that link a few dozen leave them loose)."""
BUNDLE_MAX = 2048
"""Functions per bundle: a process that linked more (a test suite) makes several, in the order it
linked them, so a later run that needs some of them does not link all (one bundle of a test suite's
60,000 functions was 137 MB)."""
FOLDER = "bundles"
"""Where bundles go in the object cache folder."""
STRAY_SHARE = 0.5
"""A function taken from a bundle that the process used less than this share of (by the sizes of
its functions' own object files against the bundle's) is a stray."""
REGROUP_MIN_WASTE = 8 << 20
"""A process regroups its strays when the bundles they came from held this many bytes it did not
use (a few bundles' worth: a handful of strays in one bundle is not worth a linker run)."""
REGROUP = "regroup"
"""The bundler's fourth argument when its bundles take their names over."""


class Placement(NamedTuple):
    """Where a bundle holds a function: the bundle's file name, the size of the function's own
    object file, and the function's section index and offset in the bundle (None if unknown)."""

    bundle: str
    size: int
    section: int | None
    offset: int | None


class BundleIndex:
    """Which bundle holds each function, in the name index's database ``path``: ``place`` asks
    for one function (those in ``known``, which the name index fills with the placements of its
    regions' functions, need no query);
    ``bundles`` reads them all (the bundler; a test suite's runs record ~100,000, and reading those
    at start-up cost ~0.1 s of every ``polyvm run``; benchmarks/boot.py)."""

    QUERIES_BEFORE_ALL = 1000

    def __init__(self, path: Path) -> None:
        self.table = BatchedTable(
            path, "CREATE TABLE IF NOT EXISTS bundled (name TEXT PRIMARY KEY, bundle TEXT, size INTEGER,"
            " section INTEGER, offset INTEGER)", "INSERT OR REPLACE INTO bundled VALUES (?, ?, ?, ?, ?)")
        self.known: dict[str, Placement | None] = {}
        """Placements read so far (None: not bundled when asked)."""
        self.queries = 0
        self.complete = False
        """Whether the whole table was read into ``known``."""

    def place(self, name: str) -> Placement | None:
        """Where a bundle holds ``name``, if one does (once QUERIES_BEFORE_ALL names were asked
        for one by one, the rest of the table is read whole: JIT mode asks for every block)."""
        known = self.known
        if name in known or self.complete:
            return known.get(name)
        self.queries += 1
        if self.queries == self.QUERIES_BEFORE_ALL:
            known.update(self.bundles)
            self.complete = True
            return known.get(name)
        rows = self.table.query("SELECT bundle, size, section, offset FROM bundled WHERE name = ?",
                                (name,))
        place = known[name] = Placement(*rows[0]) if rows else None
        return place

    @property
    def bundles(self) -> dict[str, Placement]:
        """Every function name -> its placement."""
        rows = self.table.query("SELECT name, bundle, size, section, offset FROM bundled")
        return {name: Placement(*fields) for name, *fields in rows}

    def add(self, placements: list[tuple[str, int, tuple[int, int] | None]], bundle: str) -> None:
        """Record that ``bundle`` holds these (name, own object size, (section, offset) or None)."""
        for name, size, where in placements:
            self.table.add((name, bundle, size, *(where or (None, None))))
        self.table.flush()


_loose: dict[tuple[str, str], dict[str, None]] = {}
"""Functions whose object files this process linked one by one, in link order, by (cache folder,
name index database) paths (strings: a warm Linux boot notes ~13,000 functions, and hashing Path
objects for each cost microseconds)."""
_from_bundles: dict[tuple[str, str], list[tuple[Sequence[str], Sequence[int], str]]] = {}
"""Functions this process took from bundles, in the order it took them, as batches of names, the
sizes of their own object files and the bundle's path, by (cache folder, name index database)
paths (kept as given until exit: a warm Linux boot takes ~35,000 functions in ~1,000 batches)."""


def _noted(notes: dict, folder: str, index: str, new: Callable[[], dict | list]) -> dict | list:
    """The notes of ``folder`` and ``index`` in ``notes`` (``new()`` the first time; the first
    note starts the exit hook)."""
    if not _loose and not _from_bundles:
        atexit.register(bundle_at_exit)
    notes_here = notes.get((folder, index))
    if notes_here is None:
        notes_here = notes[folder, index] = new()
    return notes_here


def note_loose(folder: str, index: str, name: str) -> None:
    """``name``'s object file in cache folder ``folder`` was linked on its own (its bundle, if
    made, is recorded in the name index database ``index``)."""
    _noted(_loose, folder, index, dict)[name] = None


def note_bundled(folder: str, index: str, names: Sequence[str], sizes: Sequence[int], bundle: str) -> None:
    """The functions ``names`` (their own object files ``sizes`` bytes) were taken from the bundle
    at path ``bundle``."""
    _noted(_from_bundles, folder, index, list).append((names, sizes, bundle))


def _taken(batches: list[tuple[Sequence[str], Sequence[int], str]]) -> dict[str, tuple[int, str]]:
    """The functions of ``note_bundled``'s batches: name -> own object size, bundle path, in the
    order they were first taken."""
    used: dict[str, tuple[int, str]] = {}
    for names, sizes, bundle in batches:
        used.update(zip(names, zip(sizes, repeat(bundle), strict=False), strict=True))  # repeat is endless
    return used


def bundle_at_exit() -> None:
    """Start a detached bundler for each folder this process linked BUNDLE_MIN loose objects from,
    and one that regroups what it took from bundles if those were mostly others' functions (the
    process exits at once; the bundlers run the linker after)."""
    if shutil.which("ld") is None:
        return
    for (folder, index), names in _loose.items():
        if len(names) >= BUNDLE_MIN:
            _start_bundler(Path(folder), Path(index), list(names))
    for (folder, index), batches in _from_bundles.items():
        names, wasted = strays(_taken(batches))
        if wasted >= REGROUP_MIN_WASTE:
            _start_bundler(Path(folder), Path(index), names, REGROUP)
    _loose.clear()
    _from_bundles.clear()


def strays(used: dict[str, tuple[int, str]]) -> tuple[list[str], int]:
    """The functions of ``used`` (name -> own object size, bundle path) taken from bundles the
    process used less than STRAY_SHARE of, in order, and the bytes of those bundles it did not use."""
    used_bytes: dict[str, int] = {}
    for size, bundle in used.values():
        used_bytes[bundle] = used_bytes.get(bundle, 0) + size
    wasted = 0
    sparse = set()
    for bundle, size in used_bytes.items():
        try:
            whole = os.path.getsize(bundle)
        except OSError:
            continue
        if size < STRAY_SHARE * whole:
            sparse.add(bundle)
            wasted += whole - size
    return [name for name, (_, bundle) in used.items() if bundle in sparse], wasted


def _start_bundler(folder: Path, index: Path, names: list[str], *mode: str) -> None:
    """Hand ``names`` to a detached bundler through a file (the process need not wait for it);
    ``mode`` REGROUP makes its bundles take the names over."""
    bundles = folder / FOLDER
    try:
        bundles.mkdir(exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=bundles, suffix=".names", delete=False) as listing:
            listing.write("\n".join(names))
        subprocess.Popen(
            [sys.executable, "-m", "polyvm.engine.jit.object_bundles", str(folder), str(index),
             listing.name, *mode],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
    except OSError:
        pass  # a cache: the objects stay loose


def make_bundles(folder: Path, index: Path, names: list[str], take_over: bool = False) -> list[str]:
    """Merge the object files of ``names`` in ``folder`` (those still there), BUNDLE_MAX at a time
    in the order given, and record the bundles in the name index ``index`` (``take_over``: see
    ``make_bundle``); their file names."""
    unique = list(dict.fromkeys(names))
    made = []
    for first in range(0, len(unique), BUNDLE_MAX):
        bundle = make_bundle(folder, index, unique[first: first + BUNDLE_MAX], take_over)
        if bundle is not None:
            made.append(bundle)
    return made


def _present(folder: Path, names: list[str]) -> list[tuple[str, Path, int]]:
    """(name, path, size) of the object files of ``names`` that are in ``folder`` now."""
    present = []
    for name in dict.fromkeys(names):
        path = folder / f"{name}.o"
        try:
            present.append((name, path, path.stat().st_size))
        except FileNotFoundError:
            pass  # pruned, or never stored
    return present


def make_bundle(folder: Path, index: Path, names: list[str], take_over: bool = False) -> str | None:
    """Merge the object files of ``names`` in ``folder`` (those still there) into one bundle and
    record it in the name index ``index`` for the names no other bundle on disk holds yet (for all
    of them if ``take_over``); the bundle's file name, or None if there was nothing to merge or the
    linker failed (twice: the second time without the files pruned meanwhile)."""
    for _ in range(2):
        present = _present(folder, names)
        if not present:
            return None
        digest = hashlib.sha256("\n".join(name for name, _, _ in present).encode()).hexdigest()[:32]
        target = folder / FOLDER / f"{digest}.o"
        target.parent.mkdir(exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        anchor = target.with_suffix(f".{os.getpid()}.anchor.tmp")
        anchor.write_bytes(anchor_object(anchor_name(digest)))
        linked = subprocess.run(["ld", "-r", "-o", str(partial), str(anchor),
                                 *(str(path) for _, path, _ in present)], capture_output=True, check=False)
        anchor.unlink()
        if linked.returncode == 0:
            break
        partial.unlink(missing_ok=True)
    else:
        return None
    with open(partial, "rb") as written:
        os.fsync(written.fileno())  # whole on disk before its name is: a cut bundle is never linked
    partial.replace(target)
    placed = function_offsets(target)
    recorded = BundleIndex(index)
    holders = {name: place.bundle for name, place in recorded.bundles.items()}
    held = {bundle for bundle in set(holders.values()) if (target.parent / bundle).exists()}
    recorded.add([(name, size, placed.get(name)) for name, _, size in present
                  if take_over or holders.get(name) not in held]
                 + [(anchor_name(digest), 0, placed.get(anchor_name(digest)))], target.name)
    return target.name


def anchor_name(digest: str) -> str:
    """The name of the empty function linked first into the bundle ``<digest>.o``: unlike the
    others, no other object defines it, so MCJIT's address for it is this bundle's copy."""
    return f"polyvm_anchor_{digest}"


def anchor_object(name: str) -> bytes:
    """Object code of an empty function ``name``, in the section block functions go to."""
    from polyvm.engine.jit.llvm_objects import anchor_object as compiled  # LLVM only in the bundler

    return compiled(name)


def function_offsets(bundle: Path) -> dict[str, tuple[int, int]]:
    """(section index, offset in that section) of each function the object file ``bundle``
    defines. The loader places each section whole, so once the address of the bundle's anchor
    (``anchor_name``) is known, those of the functions in its section follow from their offsets
    (llvm_backend.py: asking MCJIT for each function's address cost ~7 us, ~0.12 s of a warm Linux
    boot; benchmarks/boot.py). A function's own address cannot serve: another bundle linked before
    may define it too, and MCJIT may answer with that copy."""
    return object_functions(bundle.read_bytes())


def object_functions(data: bytes) -> dict[str, tuple[int, int]]:
    """``function_offsets`` of the object file whose bytes are ``data``."""
    elf = ElfFile(data)
    symbols = elf.section(".symtab")
    if symbols is None:
        return {}
    return {symbol.name: (symbol.section, symbol.value) for symbol in elf.symbols(symbols)
            if symbol.type == STT_FUNC and 0 < symbol.section < SHN_LORESERVE}


def main() -> None:
    """The bundler: ``folder``, ``index``, a file of function names (deleted once read) and
    REGROUP if its bundles take the names over."""
    folder, index, listing = (Path(arg) for arg in sys.argv[1:4])
    names = listing.read_text().split()
    listing.unlink()
    take_over = sys.argv[4:] == [REGROUP]
    made = make_bundles(folder, index, names, take_over)
    if take_over and made:
        regrouped = set(names)
        NativePages(index).move({name: tuple(place) for name, place in BundleIndex(index).bundles.items()
                                 if name in regrouped and place.bundle in made})


if __name__ == "__main__":
    main()
