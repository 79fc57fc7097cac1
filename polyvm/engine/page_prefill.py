"""Entering a page's recorded native functions at its first lookup (the HYBRID and JIT engines).

A warm Linux boot looked up ~36,000 blocks in Python only so that native code could enter them. The
native page records (jit/native_pages.py) say which functions an earlier run had on a virtual page
with given bytes; ``PagePrefill`` puts them all in the current native jump table when the engine
first looks up a block in that page (``_prefill``), with a ``PrefilledBlock`` placeholder in the
entered lists, and builds a function's Python side (its tails) only when a side exit needs it
(``_materialise``) or when Python translates its block (``_install_prefilled``). It also writes the
records (``record_native_pages``) and notes for the precompiler (jit/precompile.py) the blocks a
HYBRID run ran only in Python.

Coherence: a prefilled page is code for the engine (a store into it drops its functions, and the
page is looked for again with its new bytes, up to PAGE_VERSIONS); sfence.vma, flushes and dropped
jump tables drop prefilled functions like other jumps, and their pages are looked for again.

``PagePrefill`` is a mixin of HybridEngine (hybrid.py), whose jump tables, entered lists, backends
and ``_install`` it uses.
"""

from __future__ import annotations

import ctypes
import functools
from array import array
from collections.abc import Callable, Hashable
from itertools import compress, count, repeat
from typing import NamedTuple

from polyvm.core.config import VmConfig
from polyvm.engine.interpreter.block_cache import CachedBlock
from polyvm.engine.jit.jit import CompiledBlock
from polyvm.engine.jit.llvm_backend import NativeCode
from polyvm.engine.jit.llvm_objects import PREFIX
from polyvm.engine.jit.native_pages import NativeEntry, RecordedPage, page_digest
from polyvm.engine.jit.object_bundles import Placement
from polyvm.engine.jit.precompile import note_cold_pages
from polyvm.ir.block import IRBlock
from polyvm.mem.paging import PageFault
from polyvm.mem.softmmu import BusError

PAGE = 12
_as_placement = functools.partial(tuple.__new__, Placement)
"""A recorded placement's fields as a Placement (a C call, as RecordedPage makes its entries)."""
PAGE_VERSIONS = 4
"""Versions of a page's bytes looked for in the native page records, at most (a page that mixes
code and data the guest keeps writing would make a new one at every store)."""


def _version(versions: list[tuple[bytes, bytes]], blocks: list[IRBlock]) -> bytes | None:
    """The hash of the latest of a page's ``versions`` (bytes, hash) that holds the bytes of all
    ``blocks`` where they were made from, if any."""
    for page_code, digest in reversed(versions):
        if all(page_code[block.phys_start & 0xFFF:][:len(block.code)] == block.code for block in blocks):
            return digest
    return None


class PrefilledPage(NamedTuple):
    """A page record as it was entered: the record, and the physical page and bytes it was
    entered for."""

    record: RecordedPage
    ppn: int
    page_code: bytes


class PrefilledBlock(NamedTuple):
    """What the entered lists hold for a prefilled function until the Python side of its blocks is
    needed (a side exit: ``PagePrefill._materialise``): its code's address and object size, and
    its page's record and place in it (made by C calls: a warm Linux boot prefills ~35,000;
    benchmarks/boot.py)."""

    address: int
    size: int
    page: PrefilledPage
    index: int

    @property
    def entry(self) -> NativeEntry:
        return self.page.record.entries[self.index]

    @property
    def ppn(self) -> int:
        return self.page.ppn

    @property
    def page_code(self) -> bytes:
        return self.page.page_code

    @property
    def native(self) -> NativeCode:
        return NativeCode(self.address, self.entry.name, 0.0, self.size)


_prefilled = functools.partial(tuple.__new__, PrefilledBlock)


PageSet = tuple[dict[int, PrefilledBlock], ctypes.Array, ctypes.Array]
"""What ``PagePrefill._page_set`` makes."""


def _words(values: array) -> ctypes.Array:
    """A u64 array's items as a ctypes array over the same memory (made from ~100 arguments, each
    of a Linux boot's ~550 page sets took ~30 us; benchmarks/boot.py)."""
    return (ctypes.c_uint64 * len(values)).from_buffer(values)


class PagePrefill:
    """The native page records' side of HybridEngine (see the module docstring)."""

    def _init_prefills(self, config: VmConfig) -> None:
        """Set up the engine's prefill state (before the interpreter's set-up selects a regime)."""
        names = self.jit.backend.names
        self.native_pages = names.native_pages if names is not None and config.enable_jit else None
        """The native page records (native_pages.py), if there is a disk cache."""
        self._prefilled_by_regime: dict[Hashable, set[int]] = {}
        """Virtual pages looked for in the native page records, by the regime (or global pages'
        key) whose jump table their functions went to (kept like ``_entered_by_regime``)."""
        self.prefilled: set[int] = set()
        self.global_prefilled: set[int] = set()
        self._prefills: dict[int, dict[Hashable, set[int]]] = {}
        """The pcs prefilled by physical page and regime: a store into the page drops them."""
        self._prefilled_pages: dict[Hashable, set[int]] = {}
        """The physical pages of ``_prefills`` by regime (Linux's ~40 fences of an address space a
        boot each asked every page's regimes whether they were the address space's: ~20 ms)."""
        self._unrecorded: list[tuple[IRBlock, CompiledBlock]] = []
        """Blocks given native code since ``record_native_pages`` last ran, and their handles."""
        self._cold: list[CachedBlock] = []
        """HYBRID: blocks translated without native code since ``record_native_pages`` last ran."""
        self._page_sets: dict[tuple[int, int, bytes], PageSet] = {}
        """``_page_set`` by virtual and physical page and hash of the page's bytes."""
        self._found: dict[str, tuple[int, int]] = {}
        """Recorded functions looked up by name so far, with their (address, object size) ((0, 0):
        not in the disk cache)."""
        self._versions: dict[tuple[int, int], list[tuple[bytes, bytes]]] = {}
        """(virtual, physical) page -> its bytes and their hash each time it was looked for in
        the records (``_prefill``), at most PAGE_VERSIONS."""
        self._seen_as: dict[int, set[int]] = {}
        """Physical page -> the virtual pages it was seen at (``_versions``)."""
        self.prefilled_blocks = 0
        """Functions entered from native page records."""
        self.materialised = 0
        """Prefilled functions whose Python side a side exit needed (``_materialise``)."""
        self.prefills_dropped = 0
        """Prefills a store into their page dropped."""

    def _select_prefilled(self, regime: Hashable, shared: Hashable) -> None:
        """The regime (and global pages' key) whose jump tables are current changed."""
        prefilled = self._prefilled_by_regime
        self.prefilled = prefilled.setdefault(regime, set())
        self.global_prefilled = prefilled.setdefault(shared, set())

    def _keep_prefills(self, kept: set[Hashable]) -> None:
        """Only the jump tables of ``kept`` are left: the others' prefills go."""
        self._prefilled_by_regime = {key: pages for key, pages in self._prefilled_by_regime.items()
                                     if key in kept}
        self._release_prefills(lambda key: key not in kept)

    def _forget_prefills(self, regimes: Callable[[Hashable], bool]) -> None:
        """The jump tables of the regimes ``regimes`` accepts were emptied."""
        for key, pages in self._prefilled_by_regime.items():
            if regimes(key):
                pages.clear()
        self._release_prefills(regimes)

    def _look_again(self, pages: set[int]) -> None:
        """Virtual ``pages`` are looked for in the records again at their next lookup."""
        for prefilled in self._prefilled_by_regime.values():
            prefilled -= pages

    def _lookup(self, pc: int) -> tuple:
        """The interpreter's lookup; the first in a virtual page (per jump table) also enters
        the functions the native page records have for the page's bytes (``_prefill``)."""
        entry = super()._lookup(pc)
        if self._first_in_page(pc, entry[3]):
            self._prefill(pc, entry[2].block.phys_page, entry[3])
            if entry[2].native is None:  # translated before the page was prefilled
                self._install_prefilled(entry[2])
        return entry

    def _first_in_page(self, pc: int, shared: bool) -> bool:
        """Whether ``pc`` is the first lookup in its page for the current regime's jump table (or
        the global pages' one if ``shared``) since the page was last looked for in the records
        (it is not from now on)."""
        if self.native_pages is None:
            return False
        pages = self.global_prefilled if shared else self.prefilled
        if pc >> PAGE in pages:
            return False
        pages.add(pc >> PAGE)
        return True

    def _entered_by_prefill(self, pc: int) -> bool:
        """For the run loop's first lookup in a page: prefill the page before translating
        anything there, and say whether native code can now enter ``pc`` with no translation
        (the first block of each of the ~800 pages a warm Linux boot enters was translated before
        its page was prefilled, ~0.05 s; benchmarks/boot.py). Fetch faults are left to the lookup."""
        mmu = self.mmu
        try:
            phys = mmu.fetch_paddr(pc)
        except (PageFault, BusError):
            return False
        if not self._first_in_page(pc, mmu.leaf_global):
            return False
        self._prefill(pc, phys >> PAGE, mmu.leaf_global)
        return self._enterable(pc)

    def _prefill(self, pc: int, ppn: int, shared: bool) -> None:
        """Enter in the current regime's jump table (or the global pages' one if ``shared``) the
        functions recorded for ``pc``'s page with its bytes now (physical page ``ppn``), except at
        pcs entered already (and nothing while breakpoints are set); the page becomes code for them
        (a store into it drops them). The page's bytes are kept as one of its versions, under which
        its functions are recorded (``record_native_pages``)."""
        mmu = self.mmu
        ram = mmu.ram
        if mmu.pmp.splits(ppn) or not ram.contains(ppn << PAGE, 1 << PAGE):
            return
        try:
            mmu.fetch_paddr(pc)  # the leaf that maps the page, for sfence.vma (_pcs_by_leaf)
        except (PageFault, BusError):
            return
        level = mmu.leaf_level
        start = (ppn << PAGE) - ram.base
        page_code = bytes(ram.u8[start: start + (1 << PAGE)])
        versions = self._versions.setdefault((pc >> PAGE, ppn), [])
        if not versions:
            self._seen_as.setdefault(ppn, set()).add(pc >> PAGE)
        if versions and versions[-1][0] == page_code:  # each process of a Linux boot enters busybox's pages
            digest = versions[-1][1]
        else:
            digest = page_digest(page_code)
            if len(versions) < PAGE_VERSIONS:
                versions.append((page_code, digest))
        record = self.native_pages.find_page(pc >> PAGE, digest)
        if record is None or self.breakpoints:
            return
        page = self._page_sets.get((pc >> PAGE, ppn, digest))
        if page is None:
            page = self._page_sets[pc >> PAGE, ppn, digest] = self._page_set(record, ppn, page_code)
            unplaced = record.entries[record.placed:] if record.placed < len(record.names) else ()
            placed = [entry._replace(place=place) for entry in unplaced
                      if entry.place is None and (place := self._placement(entry.name)) is not None]
            if placed:
                self.native_pages.record(pc >> PAGE, digest, placed)
        sentinels, pcs_array, addresses = page
        if not sentinels:
            return
        entered = self.global_entered if shared else self.entered
        prefills = self._prefills.setdefault(ppn, {})
        pcs = prefills.get(self.regime_keys[shared])
        if pcs is None:
            pcs = prefills[self.regime_keys[shared]] = set()
            self._prefilled_pages.setdefault(self.regime_keys[shared], set()).add(ppn)
            mmu.code.ref(ppn)
        if entered.keys().isdisjoint(sentinels):
            entered.update(sentinels)
            self.jit.set_jumps(pcs_array, addresses, shared)
            entering = sentinels.keys()
        else:
            set_jump = self.jit.state.set_jump
            entering = [at for at in sentinels if at not in entered]
            for at in entering:
                entered[at] = sentinels[at]
                set_jump(at, sentinels[at].address, shared)
        self._pcs_by_leaf.update(pc >> PAGE, level, entering)
        pcs.update(entering)
        self.prefilled_blocks += len(entering)

    def _page_set(self, record: RecordedPage, ppn: int, page_code: bytes) -> PageSet:
        """The placeholders of the recorded functions of a page's bytes that the disk cache has,
        by pc, and their pcs and addresses as arrays for ``Jit.set_jumps`` (made once for every
        jump table the page is entered in: each process of a Linux boot enters busybox's). Those
        a bundle holds at a known offset are found a bundle section at a time, the rest by name."""
        addresses: list[int] = []
        sizes = array("Q")
        done = 0
        for bundle, section, offsets, own_sizes in record.groups:
            held = len(offsets) // 8
            found = self.jit.backend.placed_functions(bundle, section, record.names[done:done + held],
                                                      array("Q", offsets), array("Q", own_sizes))
            if found is None:
                found = [address for address, _ in self._codes(record.entries[done:done + held])]
            addresses += found
            sizes.frombytes(own_sizes)
            done += held
        if done < len(record.names):
            for address, size in self._codes(record.entries[done:]):
                addresses.append(address)
                sizes.append(size)
        page = PrefilledPage(record, ppn, page_code)
        places = zip(addresses, sizes, repeat(page), count(), strict=False)  # repeat and count: endless
        pcs = array("Q", record.pcs)
        blocks = zip(pcs, map(_prefilled, places), strict=True)
        if 0 in addresses:  # functions the disk cache no longer has
            held = [address != 0 for address in addresses]
            sentinels = dict(compress(blocks, held))
            pcs, addresses = array("Q", compress(pcs, held)), list(compress(addresses, held))
        else:
            sentinels = dict(blocks)
        return sentinels, _words(pcs), _words(array("Q", addresses))

    def _codes(self, entries: tuple[NativeEntry, ...]) -> list[tuple[int, int]]:
        """(address, object size) of each recorded function of ``entries`` ((0, 0): not in the disk
        cache), found by name."""
        found = self._found
        fresh = [entry for entry in entries if entry.name not in found]
        for optimised, backend in ((False, self.quick_backend), (True, self.region_backend)):
            wanted = [(entry.name, None if entry.place is None else _as_placement(entry.place))
                      for entry in fresh if entry.optimised == optimised]
            if wanted:
                linked = backend.find_many(wanted)
                found.update((name, linked.get(name, (0, 0))) for name, _ in wanted)
        return [found[entry.name] for entry in entries]

    def _placement(self, name: str) -> tuple[str, int, int, int] | None:
        """Where a bundle holds function ``name``, if this process found it in one at a known
        offset: kept in the native page records, so that a later run does not ask the bundle index
        for each of the ~40,000 functions a warm Linux boot prefills (~0.1 s; benchmarks/boot.py)."""
        place = self.jit.backend.names.bundles.known.get(name)
        return tuple(place) if place is not None and place.offset is not None else None

    def _install_prefilled(self, cached: CachedBlock) -> bool:
        """Give a new translation the function prefilled at its pc (if its bytes are those the
        function was entered for), and its members' translations; the handle replaces the
        placeholder in the entered list."""
        block = cached.block
        pc = block.start_pc
        entered = self.entered if type(self.entered.get(pc)) is PrefilledBlock else self.global_entered
        prefilled = entered.get(pc)
        if type(prefilled) is not PrefilledBlock or self._recording_members:
            return False
        entry, page_code = prefilled.entry, prefilled.page_code
        if prefilled.ppn != block.phys_page or block.code != page_code[pc & 0xFFF:][:entry.length]:
            return False
        recorded = [(at, page_code[at & 0xFFF:][:length]) for at, length in entry.members]
        members = self._member_translations(recorded)
        if members is None:
            return False
        if entry.place is not None:  # recorded again with the handle (record_native_pages)
            self.jit.backend.names.bundles.known.setdefault(entry.name, _as_placement(entry.place))
        self._install(cached, prefilled.native, members, entry.optimised)
        entered[pc] = cached.native
        return True

    def _materialise(self, prefilled: PrefilledBlock) -> CompiledBlock:
        """The handle of a prefilled function, its blocks translated from the page's bytes it
        was entered for (they may have been overwritten since, while it ran); it replaces the
        placeholder in the entered lists."""
        entry, page_code, ppn = prefilled.entry, prefilled.page_code, prefilled.ppn
        block = self._page_block(entry.pc, entry.length, ppn, page_code)
        compiled = CompiledBlock(block, prefilled.native, self._tails(block), entry.optimised)
        for pc, length in entry.members:
            compiled.members[pc] = self._tails(self._page_block(pc, length, ppn, page_code))
        for entered in (self.entered, self.global_entered):
            if entered.get(entry.pc) is prefilled:
                entered[entry.pc] = compiled
        self.materialised += 1
        return compiled

    def _page_block(self, pc: int, length: int, ppn: int, page_code: bytes) -> IRBlock:
        """The translation of the ``length`` bytes at ``pc`` in ``page_code`` (physical page
        ``ppn``): the translation store's if it has it, else a new one."""
        offset = pc & 0xFFF
        code = page_code[offset: offset + length]
        found = self.translations.find(pc, page_code)
        if found is not None and found.code == code:
            block = found.block
            block.rebuild = lambda: self._retranslate(pc, code)
        else:
            block = self.translator.translate_bytes(pc, code)
        block.phys_page = ppn
        block.phys_start = (ppn << PAGE) | offset
        block.code = code
        return block

    def run_ended(self) -> None:
        self.record_native_pages()

    def record_native_pages(self) -> None:
        """Record the functions of the blocks given native code since the last call in the native
        page records of their pages, under the latest version of the page's bytes looked for in the
        records (``_prefill``) that their blocks were made from: the next run enters them when it
        looks there with the same bytes. Blocks are taken when they get their code, not from the
        block cache at the end: Linux overwrites its init code once booted, and OpenSBI's blocks
        are flushed long before. Note for the precompiler (precompile.py), the same way, the blocks
        whose code is unoptimised, and in HYBRID those translated without native code."""
        installed, self._unrecorded = self._unrecorded, []
        translated, self._cold = self._cold, []
        if self.native_pages is None:
            return
        pages: dict[tuple[int, int], tuple[list[tuple[NativeEntry, list[IRBlock]]], list[IRBlock]]] = {}
        for block, compiled in installed:
            if not compiled.native.name.startswith(PREFIX):
                continue
            blocks = [block, *(tails.block for tails in compiled.members.values())]
            if any(each.code is None for each in blocks):
                continue
            name = compiled.native.name
            entry = NativeEntry(block.start_pc, name, compiled.optimised, len(block.code),
                                tuple((each.start_pc, len(each.code)) for each in blocks[1:]),
                                self._placement(name))
            pages.setdefault((block.start_pc >> PAGE, block.phys_page), ([], []))[0].append((entry, blocks))
        for cached in translated:
            block = cached.block
            if cached.native is None:
                pages.setdefault((block.start_pc >> PAGE, block.phys_page), ([], []))[1].append(block)
        cold = []
        for (vpn, ppn), (natives, python) in pages.items():
            versions = self._versions.get((vpn, ppn), [])
            recorded: dict[bytes, list[NativeEntry]] = {}
            noted: dict[bytes, list[tuple[int, bytes, bool]]] = {}
            for entry, blocks in natives:
                digest = _version(versions, blocks)
                if digest is not None:
                    recorded.setdefault(digest, []).append(entry)
                    if not entry.optimised:
                        noted.setdefault(digest, []).append((blocks[0].start_pc, blocks[0].code, True))
            for digest, entries in recorded.items():
                self.native_pages.record(vpn, digest, entries)
            for block in python:
                digest = _version(versions, [block])
                if digest is not None:
                    noted.setdefault(digest, []).append((block.start_pc, block.code, False))
            cold.extend((vpn, digest, blocks) for digest, blocks in noted.items())
        if cold:
            note_cold_pages(str(self.jit.backend.cache_dir), cold)

    def _code_written(self, paddr: int, size: int) -> None:
        """A store into a prefilled page drops its prefills' functions (only those of blocks it
        overlaps go from the translations, but a page's record holds for its bytes as they were).
        The page is looked for in the records again at its next lookup (with its new bytes), until
        PAGE_VERSIONS were: Linux patches code in pages it ran already while it boots."""
        super()._code_written(paddr, size)
        pages = range(paddr >> PAGE, ((paddr + size - 1) >> PAGE) + 1)
        seen_as, versions = self._seen_as, self._versions
        for ppn in pages if seen_as else ():
            self._look_again({vpn for vpn in seen_as.get(ppn, ()) if len(versions[vpn, ppn]) < PAGE_VERSIONS})
        for ppn in pages if self._prefills else ():
            prefills = self._prefills.pop(ppn, None)
            if prefills is not None:
                for key, pcs in prefills.items():
                    self._prefilled_pages[key].discard(ppn)
                    self._drop_native_jumps(pcs)
                    self.mmu.code.unref(ppn)
                    self.prefills_dropped += 1
                self._look_again({pc >> PAGE for pcs in prefills.values() for pc in pcs})

    def _release_prefills(self, regimes: Callable[[Hashable], bool]) -> None:
        """Forget the prefills of the regimes ``regimes`` accepts (their jump tables were emptied):
        their pages stop being code for them."""
        for key in [key for key in self._prefilled_pages if regimes(key)]:
            for ppn in self._prefilled_pages.pop(key):
                prefills = self._prefills[ppn]
                del prefills[key]
                self.mmu.code.unref(ppn)
                if not prefills:
                    del self._prefills[ppn]
