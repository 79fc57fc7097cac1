"""Compiling, after a run, the blocks it ran only in the Python tier, so later runs enter them
natively, and again with optimisations those it compiled quickly.

HYBRID compiles a block once it is hot; a Linux boot also runs ~20,000 blocks a few times each, and
a warm boot spent about a third of its guest thread translating those again and running them in
Python (benchmarks/boot.py). Compiling them during the run would cost the guest thread more than
it saves. So a run notes them (``note_cold_pages``: the pcs and bytes of each page's blocks, with
the hash of the page's bytes), and at exit starts a detached, low-priority precompiler
(``python -m polyvm.engine.jit.precompile``) that translates them from those bytes, compiles them
into the disk cache, and adds them to the native page records (native_pages.py): the next run with
the same bytes in those pages enters them natively from their first execution. A block's function
is named by its content key, so it is the code the run would have compiled for the same bytes.

A run also notes the blocks it compiled quickly (unoptimised, to get on with its run: they were
hot), which the precompiler compiles with LLVM's optimisations (the optimising backend, ~6 ms a
block instead of ~1): a warm Linux boot spent nearly all of its native time in unoptimised code,
and ran ~0.1 s faster with it optimised (benchmarks/boot.py). The blocks it ran only in Python
are compiled without (optimising the ~28,000 of a Linux boot as well kept a core busy for ~5
minutes after each first boot, and doubled the test suite's time). Records keep the better of two
functions for a block (``NativeEntry.tier``): optimised code replaces the quick code of the same
bytes, and a run's optimised regions stay.
"""

from __future__ import annotations

import atexit
import marshal
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PRECOMPILE_MIN = 1000
"""A process starts a precompiler only if it noted this many blocks (test runs of small guests
do not)."""
OPT_LEVEL = 2
"""The optimising backend's level (hybrid.py ``region_backend``, which links the optimised code
this compiles; the quick backend's is 0)."""
CHUNK_BLOCKS = 2048
"""Blocks one precompiler process compiles: LLVM's optimisation pipeline keeps ~90 KB a module it
ran on (llvmlite 0.50; closing its objects does not free it), ~3 GB for a Linux boot's ~36,000
blocks in one process, so each chunk is compiled by a fresh process image."""
FOLDER = "precompile"
"""Where listings wait in the object cache folder (the precompiler deletes its own)."""

ColdPage = tuple[int, bytes, list[tuple[int, bytes, bool]]]
"""A virtual page number, the hash of its bytes and the (pc, bytes, whether to optimise) of its
blocks."""

_noted: dict[str, dict[tuple[int, bytes], dict[int, tuple[bytes, bool]]]] = {}
"""Blocks noted by cache folder, then (page, digest), then pc."""


def note_cold_pages(folder: str, pages: list[ColdPage]) -> None:
    """Note blocks of ``pages`` to compile into the cache folder ``folder`` at exit (optimised if
    the run compiled them quickly, else not)."""
    if not _noted:
        atexit.register(precompile_at_exit)
    noted = _noted.setdefault(folder, {})
    for page, digest, blocks in pages:
        noted.setdefault((page, digest), {}).update((pc, (code, optimise)) for pc, code, optimise in blocks)


def take_noted(folder: str) -> list[ColdPage]:
    """The pages noted for ``folder`` (forgotten here)."""
    pages = _noted.pop(folder, {})
    return [(page, digest, [(pc, code, optimise) for pc, (code, optimise) in blocks.items()])
            for (page, digest), blocks in pages.items()]


def chunks(pages: list[ColdPage], size: int) -> list[list[ColdPage]]:
    """``pages`` in consecutive groups of about ``size`` blocks (a page's blocks stay together)."""
    groups: list[list[ColdPage]] = [[]]
    held = 0
    for page in pages:
        if held >= size:
            groups.append([])
            held = 0
        groups[-1].append(page)
        held += len(page[2])
    return groups


def precompile_at_exit() -> None:
    """Start a detached precompiler for each folder with PRECOMPILE_MIN noted blocks, given the
    listings of its chunks (CHUNK_BLOCKS each)."""
    for folder in list(_noted):
        listing = take_noted(folder)
        if sum(len(blocks) for _, _, blocks in listing) < PRECOMPILE_MIN:
            continue
        try:
            waiting = Path(folder) / FOLDER
            waiting.mkdir(exist_ok=True)
            files = []
            for chunk in chunks(listing, CHUNK_BLOCKS):
                with tempfile.NamedTemporaryFile("wb", dir=waiting, suffix=".list", delete=False) as file:
                    marshal.dump(chunk, file)
                files.append(file.name)
            subprocess.Popen([sys.executable, "-m", "polyvm.engine.jit.precompile", folder, *files],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
        except OSError:
            pass  # a cache: those blocks are compiled when they get hot


def precompile(folder: Path, pages: list[ColdPage]) -> int:
    """Compile the blocks of ``pages`` into the cache ``folder`` (unless it has their code),
    bundle them (object_bundles.py), and record them as the pages' native functions with where
    their bundles hold them: a later run finds them without the bundle index (whose rows it would
    otherwise read whole, ~0.1 s; benchmarks/boot.py). How many were recorded."""
    from polyvm.arch.riscv64.fuser import InstructionFuser
    from polyvm.arch.riscv64.translate import RiscvTranslator
    from polyvm.engine.jit.llvm_backend import LlvmBackend, object_code
    from polyvm.engine.jit.llvm_objects import host_target
    from polyvm.engine.jit.native_pages import NativeEntry
    from polyvm.engine.jit.object_bundles import make_bundles
    from polyvm.engine.jit.resume import check_compilable

    backends = {optimise: LlvmBackend(OPT_LEVEL if optimise else 0, folder) for optimise in (False, True)}
    translator = RiscvTranslator(InstructionFuser())
    compiled: list[tuple[int, bytes, list[NativeEntry]]] = []
    for page, digest, blocks in pages:
        entries = []
        for pc, code, optimise in blocks:
            backend = backends[optimise]
            block = translator.translate_bytes(pc, code)
            block.code = code
            try:
                check_compilable(block)
                name, text = backend.prepare(block)
                object_code(folder, name, text, backend.opt_level, host_target(backend.codegen_level).target)
            except (ValueError, RuntimeError):
                continue  # not resumable, or LLVM refused it: it stays in the Python tier
            entries.append(NativeEntry(pc, name, optimise, len(code), ()))
        compiled.append((page, digest, entries))
    names = backends[True].names
    make_bundles(folder, names.path, [entry.name for _, _, entries in compiled for entry in entries])
    for page, digest, entries in compiled:
        placed = [entry._replace(place=_plain(names.bundles.place(entry.name))) for entry in entries]
        names.native_pages.record(page, digest, placed)
    names.flush()  # a precompiler that runs itself again (main) does not get to its exit hooks
    return sum(len(entries) for _, _, entries in compiled)


def _plain(place: tuple | None) -> tuple | None:
    """A placement as a plain tuple (records are marshalled)."""
    return None if place is None else tuple(place)


def main() -> None:
    """The precompiler: the cache folder and listings (each deleted once read). It compiles the
    first listing's blocks, then runs itself again for the others (exec: a new process image)."""
    os.nice(19 - os.nice(0))
    folder, listing, *others = sys.argv[1:]
    pages = marshal.loads(Path(listing).read_bytes())
    Path(listing).unlink()
    precompile(Path(folder), pages)
    if others:
        os.execv(sys.executable, [sys.executable, "-m", "polyvm.engine.jit.precompile", folder, *others])


if __name__ == "__main__":
    main()
