"""The interpreter engine (seed section 3): runs a RISC-V hart by executing IR blocks compiled to
Python functions, found through a per-regime jump cache in front of the BlockCache.

The dispatch loop (``run_slice``) is the hot path measured by benchmarks/run.py: it looks a block up
by virtual pc, calls it, and counts its instructions; everything else (traps, interrupts, mode
changes, wfi) arrives as an exception and is handled outside the loop.

Debugger hooks (polyvm.engine.debug, used by polyvm.gdb): ``breakpoints``, ``set_watchpoints``,
``step_instruction`` and ``on_debug_stop``. They cost nothing on the hot loop: breakpoint pcs never
enter the jump cache, so only ``_lookup`` checks them.
"""

from __future__ import annotations

import functools
import struct
import time
from collections import OrderedDict
from collections.abc import Callable

from polyvm.arch.riscv64.fuser import InstructionFuser
from polyvm.arch.riscv64.hart import RiscvHart
from polyvm.arch.riscv64.translate import RiscvTranslator
from polyvm.arch.riscv64.traps import Cause, ExitSlice, GuestTrap
from polyvm.core.config import VmConfig
from polyvm.core.protocols import ExitCondition, RunResult
from polyvm.core.recent import recently_used
from polyvm.engine.debug import MEMORY_HELPERS, DebugStop, Watchpoint, watch_helpers
from polyvm.engine.interpreter.block_cache import BlockCache, CachedBlock
from polyvm.engine.interpreter.pycodegen import arithmetic_helpers, block_code, compile_block, python_function
from polyvm.engine.interpreter.translation_store import translation_store
from polyvm.ir.block import STRADDLE, UNFETCHABLE, IRBlock, Stmt
from polyvm.mem.leaf_index import LeafIndex
from polyvm.mem.paging import Access, PageFault
from polyvm.mem.softmmu import PAGE, BusError, in_address_space

SLICE_BLOCKS = 2048
"""Blocks run between two looks at interrupts, devices and stop requests."""
SLICE_INSTRUCTIONS = 50_000
"""...or fewer when a slice has retired this many instructions (fair round-robin between harts:
a hart spinning in a self-loop block retires far more instructions per block)."""
JUMP_CACHES_KEPT = 64
"""Jump caches of this many fetch regimes (address spaces) are kept, the most recently used
(core/recent.py); the others' blocks are looked up in the block cache again."""


class Interpreter:
    """Executes one hart. ``run_slice`` is what machines call in their round-robin loop."""

    slice_scale = 1
    """A slice retires up to SLICE_INSTRUCTIONS times this (native engines run longer slices)."""

    def __init__(self, config: VmConfig, hart: RiscvHart) -> None:
        self.config = config
        self.hart = hart
        self.mmu = hart.mmu
        self.fuser = InstructionFuser()
        self.translator = RiscvTranslator(self.fuser)
        self.block_cache = BlockCache()
        self.namespace: dict = {"M": (1 << 64) - 1, "S": 1 << 63}
        self.namespace.update(arithmetic_helpers())
        self.namespace.update(hart.helpers())
        ram = self.mmu.ram
        for bits in ("8", "16", "32", "64"):
            self.namespace["U" + bits] = getattr(ram, "u" + bits)
            self.namespace["S" + bits] = getattr(ram, "s" + bits)
        self._jump_caches: OrderedDict[tuple, dict[int, tuple]] = OrderedDict()
        """Jump caches by fetch regime, and by ``SoftMmu.global_fetch_regime`` for blocks fetched
        through global leaves (entries: function, instruction count, CachedBlock, global), of the
        JUMP_CACHES_KEPT most recently used."""
        self.jump_cache: dict[int, tuple] = {}
        self.global_jump_cache: dict[int, tuple] = {}
        """Blocks on global pages: every address space of the paging mode shares them, so a new
        process or ASID finds the kernel's blocks without translating their fetches again (a Linux
        boot looked up ~86,000 kernel blocks again that way; benchmarks/boot.py)."""
        self._pcs_by_leaf: LeafIndex[int] = LeafIndex()
        """Jump-cache pcs by the page-table leaf that translated their fetch (of any regime; a
        superset: dropped entries are not removed), for sfence.vma."""
        self.self_loops = not config.icount
        """Self-looping blocks run many passes per dispatch, except under the instruction-count
        clock, whose slice boundaries must not depend on the execution mode."""
        self.translations = translation_store(f"loops={self.self_loops}")
        self.blocks_translated = 0
        self.stored_hits = 0
        """Translations taken from the translation store (counted in blocks_translated too)."""
        self.dispatches = 0
        """Blocks dispatched by run_slice (counted once per slice, off the hot path)."""
        self.mmu.on_regime_change = self._regime_changed
        self.mmu.code.add_listener(self._code_written)
        hart.on_sfence = self._sfence
        hart.on_protection_change = self.flush
        self.breakpoints: set[int] = set()
        """Debugger breakpoints (virtual pcs); change them with insert/remove_breakpoint."""
        self.watchpoints: list[Watchpoint] = []
        self.on_debug_stop: Callable[[Interpreter, DebugStop], None] | None = None
        """Called on the run thread when a breakpoint or watchpoint ends a slice."""
        self._memory_helpers = {name: self.namespace[name] for name in MEMORY_HELPERS}
        self._regime_changed()

    # --- seed API ------------------------------------------------------------------------------

    @classmethod
    def new(cls, config: VmConfig, hart: RiscvHart) -> Interpreter:
        return cls(config, hart)

    def enable_block_cache(self, max_size: int) -> None:
        self.block_cache.enabled = True
        self.block_cache.max_size = max_size

    def disable_block_cache(self) -> None:
        self.block_cache.enabled = False
        self.flush()

    def read_reg(self, idx: int) -> int:
        return self.hart.read_reg(idx)

    def write_reg(self, idx: int, val: int) -> None:
        self.hart.write_reg(idx, val)

    def read_freg(self, idx: int) -> float:
        return struct.unpack("<d", struct.pack("<Q", self.hart.x[32 + idx]))[0]

    def write_freg(self, idx: int, val: float) -> None:
        self.hart.x[32 + idx] = struct.unpack("<Q", struct.pack("<d", val))[0]

    def execute_block(self, block: IRBlock) -> None:
        """Run one already-translated block at the hart's pc (traps are taken, not raised)."""
        function = compile_block(block, self.namespace, self.self_loops)
        hart = self.hart
        try:
            hart.pc = function()
            hart.instret += block.insn_count
        except ExitSlice as exit_:
            hart.instret += block.insn_count
            hart.pc = exit_.pc
        except GuestTrap as trap:
            hart.instret += trap.index
            hart.take_trap(trap.cause, trap.tval, trap.pc)

    def run(self, cond: ExitCondition) -> RunResult:
        """Run until ``cond`` says stop (checked between slices). Machine halts propagate."""
        start = self.hart.instret
        while True:
            reason = cond.should_exit(self.hart.instret - start)
            if reason is not None:
                return RunResult(reason, instructions=self.hart.instret - start)
            self.step()

    def step(self) -> None:
        """One slice with interrupt delivery and wfi idling (single-hart use without a board)."""
        hart = self.hart
        hart.take_pending_interrupt()
        if hart.waiting:
            if not hart.interrupt_waiting():
                time.sleep(0.001)
                return
            hart.waiting = False
        self.run_slice()

    # --- the hot loop --------------------------------------------------------------------------

    def run_slice(self, budget: int = SLICE_BLOCKS) -> None:
        """Run up to ``budget`` blocks (or SLICE_INSTRUCTIONS) from hart.pc; traps are taken,
        exits end the slice."""
        hart = self.hart
        jc = self.jump_cache
        get = jc.get
        pc = hart.pc
        entry = None
        limit = hart.instret + SLICE_INSTRUCTIONS
        dispatched = 0
        try:
            for dispatched in range(1, budget + 1):  # noqa: B007 - counted after the loop
                entry = get(pc)
                if entry is None:
                    entry = self._lookup(pc)
                pc = entry[0]()
                hart.instret += entry[1]
                if hart.instret >= limit:
                    break
            hart.pc = pc
        except ExitSlice as exit_:
            hart.instret += entry[1]
            hart.pc = exit_.pc
        except DebugStop as stop:
            hart.instret += stop.index
            hart.pc = stop.pc
            if self.on_debug_stop is not None:
                self.on_debug_stop(self, stop)
        except GuestTrap as trap:
            if trap.in_block:
                hart.instret += trap.index
            hart.take_trap(trap.cause, trap.tval, trap.pc)
        self.dispatches += dispatched

    def _lookup(self, pc: int) -> tuple:
        if pc in self.breakpoints:
            raise DebugStop(pc, 0, "swbreak", pc, in_block=False)
        entry = self.global_jump_cache.get(pc)
        if entry is not None:
            self.jump_cache[pc] = entry
            return entry
        phys = self._fetch_phys(pc)
        mmu = self.mmu
        level, shared = mmu.leaf_level, mmu.leaf_global
        cached = self.block_cache.lookup(pc, phys)
        if cached is not None and cached.block.next_page is not None and not self._same_next_page(cached):
            self._discard(cached)
            cached = None
        if cached is None:
            cached = self._translate(pc, phys)
        cached.exec_count += 1
        jumpable = self.block_cache.enabled
        next_page = cached.block.next_page
        if next_page is not None and jumpable:
            # Its last instruction's end is fetched through the next page's leaf too: sfence.vma
            # of either drops it, and only address spaces that map both pages globally share it.
            # One whose end could not be fetched is looked up at each run (its trap may have had
            # the page mapped, with or without a fence).
            jumpable = next_page != UNFETCHABLE
            if jumpable:
                self._next_frame(pc)
                self._pcs_by_leaf.add((pc >> 12) + 1, mmu.leaf_level, pc)
                shared = shared and mmu.leaf_global
        entry = (cached.function, cached.block.insn_count, cached, shared)
        if jumpable:
            self.jump_cache[pc] = entry
            if shared:
                self.global_jump_cache[pc] = entry
            self._pcs_by_leaf.add(pc >> 12, level, pc)
        return entry

    def _same_next_page(self, cached: CachedBlock) -> bool:
        """Whether the next page of a block that straddles its page's end still maps (for fetch)
        to the physical page the block was translated from."""
        paddr = self._next_frame(cached.block.start_pc)
        return (UNFETCHABLE if paddr is None else paddr >> 12) == cached.block.next_page

    def _discard(self, cached: CachedBlock) -> None:
        """Drop one translation (its next page was remapped)."""
        block = cached.block
        self._release(self.block_cache.invalidate_block(block.start_pc, block.phys_start))
        self._drop_jumps({block.start_pc})

    def _fetch_phys(self, pc: int) -> int:
        """Physical address of the instruction at ``pc``, or the guest's fetch fault."""
        mmu = self.mmu
        try:
            phys = mmu.fetch_paddr(pc)
        except PageFault as fault:
            cause = Cause.FETCH_ACCESS if fault.access_fault else Cause.FETCH_PAGE_FAULT
            raise GuestTrap(cause, pc, pc, 0, in_block=False) from None
        except BusError:
            raise GuestTrap(Cause.FETCH_ACCESS, pc, pc, 0, in_block=False) from None
        if not mmu.ram.contains(phys, 2):
            raise GuestTrap(Cause.FETCH_ACCESS, pc, pc, 0, in_block=False)
        return phys

    def _translate(self, pc: int, phys: int) -> CachedBlock:
        split = self.mmu.pmp.splits(phys >> 12)
        block, function = (None, None) if split else self._stored_translation(pc, phys)
        if block is None:
            # A page PMP entries split gets blocks of one instruction, each fetch checked when it
            # is looked up (a translation serves every privilege level), and nothing is stored.
            block = self._build_block(pc, phys, limit=1 if split else None)
            python = block_code(block, self.self_loops)
            function = python_function(python, self.namespace)
            if block.code is not None and not self.breakpoints:
                self.translations.add(block, python)
        self.blocks_translated += 1
        cached = self.block_cache.insert(pc, block, phys, function)
        evicted = self.block_cache.take_evicted()
        if evicted:
            # Their pages may stop being code: jump-cache entries would run them unchecked.
            self._release(evicted)
            self._drop_jumps({old.block.start_pc for old in evicted})
        if self.block_cache.enabled:
            self.mmu.code.ref(phys >> 12)
            if block.straddled_page is not None:
                self.mmu.code.ref(block.straddled_page)
        return cached

    def _stored_translation(self, pc: int, phys: int) -> tuple[IRBlock | None, object]:
        """The translation store's block and function for the code at ``pc`` (phys), if it has one."""
        ram = self.mmu.ram
        if self.breakpoints or not ram.contains(phys, 2):
            return None, None
        page = phys - ram.base - (phys & 0xFFF)
        found = self.translations.find(pc, ram.u8[page: page + PAGE], functools.partial(self._after_page, pc))
        if found is None:
            return None, None
        self.stored_hits += 1
        block = found.block
        block.phys_start = phys
        block.phys_page = phys >> 12
        if (pc & 0xFFF) + block.byte_size > PAGE:
            block.next_page = self._next_frame(pc) >> 12  # the store compared its bytes: it maps
        block.code = found.code
        block.rebuild = lambda: self._retranslate(pc, found.code)
        return block, self._stored_function(pc, found.code, found.python)

    def _after_page(self, pc: int) -> bytes:
        """The bytes a block at ``pc`` whose last instruction straddles the end of its page takes
        from the next one (STRADDLE), as fetched now; none if that fetch faults or leaves RAM."""
        paddr = self._next_frame(pc)
        return b"" if paddr is None else self.mmu.ram.read(paddr, STRADDLE)

    def _next_frame(self, pc: int) -> int | None:
        """The physical address of the start of the page after ``pc``'s as fetched now (and the
        MMU's ``leaf_level`` and ``leaf_global`` of it), if that fetch neither faults nor leaves RAM."""
        mmu = self.mmu
        try:
            paddr = mmu.access_paddr((((pc >> 12) + 1) << 12) & ((1 << 64) - 1), Access.FETCH, STRADDLE)
        except (PageFault, BusError):
            return None
        return paddr if mmu.ram.contains(paddr, STRADDLE) else None

    def _stored_function(self, pc: int, code: bytes, python: object) -> Callable[[], int]:
        """The function of the stored translation at ``pc`` made from ``code``, whose Python code
        ``find`` gave (a code object, or still marshalled)."""
        if type(python) is bytes:
            python = self.translations.code_object(pc, code)
        return python_function(python, self.namespace)

    def _retranslate(self, pc: int, code: bytes) -> list[Stmt]:
        """The statements of a stored block: a translation of the bytes it was stored with."""
        return self.translator.translate_bytes(pc, code).stmts

    def _build_block(self, pc: int, phys: int, limit: int | None = None) -> IRBlock:
        """A new translation of the code at ``pc`` (phys); its ``code`` is the guest bytes it was
        made from: those of its page, and the second half of a last instruction that straddles the
        page's end (the translator starts no instruction in the next page). None when a page PMP
        rules split or a fetch left RAM: then it is not stored."""
        mmu = self.mmu
        ram = mmu.ram
        page_end = (phys | 0xFFF) + 1
        delta = phys - pc
        checked = mmu.pmp.splits(phys >> 12)
        span = [phys, True]
        after_page = bytearray()
        next_page: list[int | None] = [None]

        def fetch16(vaddr: int) -> int | None:
            paddr = vaddr + delta
            if paddr >= page_end or checked:
                # The second half of an instruction that straddles the page boundary, or a parcel
                # of a page PMP rules split.
                span[1] = span[1] and not checked
                straddling = paddr >= page_end
                try:
                    paddr = mmu.access_paddr(vaddr & ((1 << 64) - 1), Access.FETCH, 2)
                except PageFault:
                    paddr = None
                fetched = paddr is not None and ram.contains(paddr, 2)
                if straddling:
                    next_page[0] = paddr >> 12 if fetched else UNFETCHABLE
                if not fetched:
                    span[1] = False
                    return None
                parcel = ram.u16[(paddr - ram.base) >> 1]
                after_page.extend(parcel.to_bytes(2, "little"))
                return parcel
            if not ram.contains(paddr, 2):
                span[1] = False
                return None
            span[0] = max(span[0], paddr + 2)
            return ram.u16[(paddr - ram.base) >> 1]

        block = self.translator.translate(pc, fetch16, limit=limit, stop_at=self.breakpoints)
        block.phys_start = phys
        block.phys_page = phys >> 12
        straddles = (phys & 0xFFF) + block.byte_size > PAGE or not block.byte_size  # or ends in a fault
        block.next_page = next_page[0] if straddles else None
        code = ram.read(phys, span[0] - phys) + after_page if span[1] and limit is None else None
        block.code = code if code is not None and len(code) == block.byte_size else None
        return block

    # --- debugger hooks (polyvm.engine.debug) --------------------------------------------------

    def insert_breakpoint(self, pc: int) -> None:
        """Stop before the instruction at virtual ``pc``; translations containing it are dropped."""
        self.breakpoints.add(pc)
        self._release(self.block_cache.invalidate_virtual(pc))
        self._flush_jump_caches()

    def remove_breakpoint(self, pc: int) -> None:
        """Blocks split at ``pc`` stay valid (just shorter), so nothing is invalidated."""
        self.breakpoints.discard(pc)

    def set_watchpoints(self, watches: list[Watchpoint]) -> None:
        """Stop before loads/stores that overlap ``watches`` (their pages leave the fast maps)."""
        self.watchpoints = list(watches)
        self.mmu.set_slow_pages({page for watch in watches for page in watch.pages()})
        self._install_memory_helpers(bool(watches))

    def _install_memory_helpers(self, watching: bool) -> None:
        helpers = self._memory_helpers
        self.namespace.update(watch_helpers(helpers, self.watchpoints) if watching else helpers)

    def step_instruction(self, watch: bool = True) -> DebugStop | None:
        """Run exactly the instruction at the hart's pc (no interrupts, nothing cached), taking its
        trap if it raises one. Returns the DebugStop when a watchpoint stopped it before its access
        (nothing changed); ``watch=False`` runs it with watchpoints suppressed."""
        hart = self.hart
        if not watch:
            self._install_memory_helpers(False)
        try:
            block = self._build_block(hart.pc, self._fetch_phys(hart.pc), limit=1)
            hart.pc = compile_block(block, self.namespace)()
            hart.instret += block.insn_count
        except ExitSlice as exit_:
            hart.instret += 1
            hart.pc = exit_.pc
        except DebugStop as stop:
            hart.pc = stop.pc
            return stop
        except GuestTrap as trap:
            if trap.in_block:
                hart.instret += trap.index
            hart.take_trap(trap.cause, trap.tval, trap.pc)
        finally:
            if not watch:
                self._install_memory_helpers(bool(self.watchpoints))
        return None

    # --- invalidation --------------------------------------------------------------------------

    def _regime_changed(self) -> None:
        mmu = self.mmu
        self.namespace["RD"] = mmu.rd
        self.namespace["WR"] = mmu.wr
        caches = self._jump_caches
        self.jump_cache = recently_used(caches, mmu.fetch_key, dict, JUMP_CACHES_KEPT)
        self.global_jump_cache = recently_used(caches, mmu.global_fetch_key, dict, JUMP_CACHES_KEPT)

    def _flush_jump_caches(self) -> None:
        for cache in self._jump_caches.values():
            cache.clear()
        self._pcs_by_leaf.clear()

    def _drop_jumps(self, pcs: set[int]) -> None:
        """Forget the jump-cache entries of these virtual pcs in every regime (each cache is
        intersected with them first: most regimes hold none of a page's pcs, and popping each pc
        from each cache was ~0.1 s of a warm Linux boot's sfence.vma; benchmarks/boot.py)."""
        for cache in self._jump_caches.values():
            for pc in cache.keys() & pcs:
                del cache[pc]

    def _sfence(self, vaddr: int | None, asid: int | None = None) -> None:
        """sfence.vma: entries whose page may have been remapped go. With an address, those whose
        fetch was translated by the leaf containing it (a 4 KiB page or a superpage); a Linux boot
        fences single addresses thousands of times (benchmarks/boot.py). With only an ASID, the
        entries of that ASID's regimes (global ones stay, as the privileged spec says)."""
        if vaddr is not None:
            pcs = self._pcs_by_leaf.pop_containing(vaddr >> 12)
            if pcs:  # most of a Linux boot's: no block came through that leaf
                self._drop_jumps(pcs)
        elif asid is None:
            self._flush_jump_caches()
        else:
            self._flush_address_space(asid)

    def _flush_address_space(self, asid: int) -> None:
        """Empty the jump caches of the translated regimes of ``asid`` (global ones stay)."""
        for key, cache in self._jump_caches.items():
            if in_address_space(key, asid):
                cache.clear()

    def _release(self, dropped: list[CachedBlock]) -> None:
        code = self.mmu.code
        for cached in dropped:
            code.unref(cached.block.phys_page)
            if cached.block.straddled_page is not None:
                code.unref(cached.block.straddled_page)

    def _code_written(self, paddr: int, size: int) -> None:
        dropped = self.block_cache.invalidate_range(paddr, size)
        if dropped:
            self._release(dropped)
            self._drop_jumps({cached.block.start_pc for cached in dropped})

    def flush(self) -> None:
        """Forget every translation (disabling the cache, or an embedder's explicit request)."""
        self._release(self.block_cache.drain())
        self._flush_jump_caches()

    def run_ended(self) -> None:
        """The machine's ``run`` returned. The interpreter keeps nothing for later runs here (its
        translation store writes at exit); the native engine records its pages' code."""

    def stats(self) -> dict[str, object]:
        return {
            "blocks_translated": self.blocks_translated,
            "dispatches": self.dispatches,
            "block_cache": self.block_cache.stats(),
            "fuser": self.fuser.stats(),
            "stored_translations_used": self.stored_hits,
            "tlb": self.mmu.tlb_stats(),
        }

