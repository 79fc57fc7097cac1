"""The JIT and HYBRID engines: the interpreter tier plus native blocks run by the JIT's dispatch loop.

``HybridEngine`` is an ``Interpreter`` (same surface for boards, the debugger and ``--stats``) whose
hart registers live in the JIT's native slot array: ``hart.x`` *is* that array, so both tiers and
every helper see one copy of the guest state and nothing is copied at a tier switch.

* HYBRID: blocks start in the Python tier, which counts their executions; once the JIT says a block
  is hot (``Jit.should_compile``: the configured threshold, adaptive when enabled) it is compiled in
  the background, alone, without LLVM's optimisation passes (a few ms against ~23 ms for an
  optimised region: a cold Linux boot waits for these in the slow Python tier, 42 s with optimised
  first compiles, 28 s with quick ones; benchmarks/boot.py --cold-cache) and run natively from then
  on.
* JIT (``compile_all``): every block is compiled (synchronously, without LLVM's optimisation
  passes) before its first execution; the Python tier only finishes side exits and runs the few
  blocks the native backend refuses.
* Both: code that stays hot is recompiled as an optimised region in the background: where native
  slices stop is a sample of where the guest spends its time, and a block sampled PROMOTE_SAMPLES
  times is promoted. Regions of an earlier run (optimised ones first) are installed when their
  head is first translated (``_install_recorded_region``), so code that was hot before runs
  natively from its first execution.

* Both, with a disk cache: a page whose bytes an earlier run recorded native functions for
  (native_pages.py; HYBRID's Python-tier blocks are compiled after the run, precompile.py) gets
  them all in the native jump table at its first lookup (``_prefill``); a block's Python side is
  built only when a side exit or the Python tier needs it.

Under the instruction-count clock a slice ends at exactly the points where the interpreter's slice
ends (``budget`` blocks, the instruction limit, a trap or an ExitSlice), counted the same way, so
interrupts arrive at the same instruction in every mode (otherwise slices are NATIVE_SLICE_SCALE
times longer); instret stays exact (inside a block ``instret`` is the block start,
as the interpreter keeps it, so tails and helpers see the same values).

Coherence: native code is keyed by (virtual pc, physical pc) like the block cache and dropped with
the interpreter's translations (code writes, eviction, breakpoints); the native jump table follows
the interpreter's jump caches (regime changes, sfence.vma); the native TLBs are kept per data
regime like the MMU's fast maps and lose what those lose (pages flushed by sfence.vma or whose
stores reach a page that becomes code, everything on full flushes and when a page is watched).
While breakpoints or watchpoints are set the engine runs as a plain interpreter.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterable, Sequence

from polyvm.arch.riscv64.csr import SUM
from polyvm.arch.riscv64.decoder import STORES, decode
from polyvm.arch.riscv64.hart import RiscvHart
from polyvm.arch.riscv64.translate import LOAD_SIZES
from polyvm.arch.riscv64.traps import ExitSlice, GuestTrap
from polyvm.core.config import VmConfig
from polyvm.devtools.cache import cache_dir
from polyvm.engine.interpreter.block_cache import CachedBlock
from polyvm.engine.interpreter.engine import SLICE_BLOCKS, SLICE_INSTRUCTIONS, Interpreter
from polyvm.engine.interpreter.pycodegen import DeferredFunction
from polyvm.engine.jit.background import BackgroundCompiler
from polyvm.engine.jit.context import (
    ADDR,
    BLOCK,
    BLOCKS,
    ICOUNT,
    INDEX,
    LIMIT,
    REASON,
    REGION,
    Exit,
)
from polyvm.engine.jit.jit import STATUS, CompiledBlock, Jit
from polyvm.engine.jit.llvm_backend import LlvmBackend, NativeCode
from polyvm.engine.jit.resume import Tails, check_compilable
from polyvm.engine.page_prefill import PagePrefill, PrefilledBlock
from polyvm.ir.block import IRBlock
from polyvm.mem.paging import PageFault
from polyvm.mem.softmmu import in_address_space

MMU_FLUSHES = ("_clear_fast_maps", "clear_store_maps")
"""SoftMmu methods that drop fast-map entries wholesale: the native TLBs are emptied after them
(``forget_fast_pages``, which drops single pages and which ``set_slow_pages`` uses, is followed page
by page; ``clear_address_space`` an address space's regimes)."""
SIDE_EXITS = (int(Exit.MEMORY), int(Exit.HELPER))
EXIT_CHECK, MEMORY = int(Exit.EXIT_CHECK), int(Exit.MEMORY)
NATIVE_SLICE_SCALE = 4
"""Without the instruction-count clock, slices are this many times longer than the interpreter's:
native code runs a 2,048-block slice in a few microseconds, about what the Python work around each
slice costs (benchmarks/run.py --mode hybrid). Under icount every mode keeps the interpreter's
slices, so interrupts arrive at the same instructions."""
HOT_CHECK_EVERY = 16
"""HYBRID asks the JIT about a Python-tier block every this many of its runs (the threshold is
then effectively rounded up to a multiple of this)."""
REGION_DEPTH = 3
"""An optimised region inlines the blocks of its head's page that its branches reach within
this many steps (codegen.py; benchmarks/run.py --mode hybrid: cpu_mix's hot loops)."""
JIT_REGION_OPT_LEVEL = 1
"""LLVM's pipeline for JIT mode's optimised regions: O1's code ran cpu_mix as fast as O2's once
installed (1,968-1,985 against 1,926-1,954 MIPS) and compiles sooner, so a run reaches that speed
earlier (benchmarks/run.py --mode jit --cold-cache). HYBRID's regions and the precompiler's code
(the Linux boot's) stay at O2."""
PROMOTE_SAMPLES = 4
"""A block's quick code is replaced by an optimised region once this many native slices stopped in
it (benchmarks/run.py --mode jit: cpu_mix's loops are promoted within a few milliseconds, and an
optimised region runs them about 2.5x faster than unoptimised code)."""
PAGE = 12


ACCESS_SIZES = {**{name: (size, False) for name, (size, _) in LOAD_SIZES.items()},
                **{name: (1 << width, True) for width, name in STORES.items()}}
"""Integer load and store mnemonics -> (access size, whether a store)."""


def first_access(block: IRBlock) -> tuple[int, bool] | None:
    """(size, whether a store) of the access of ``block``'s first instruction if it is an integer
    load or store, decoded from the block's bytes (a stored block builds its statements by
    translating all of it again: translation_store.StoredIRBlock)."""
    code = block.code
    if code is None or len(code) < 2:
        return None
    insn = decode(int.from_bytes(code[:4], "little"), block.start_pc)
    return ACCESS_SIZES.get(insn.name) if insn is not None else None


def _followed(method: Callable[..., None], follow: Callable[..., None]) -> Callable[..., None]:
    """``method``, then ``follow`` with the same arguments: how the native TLBs follow what the
    MMU drops from its fast maps (MMU_FLUSHES, single pages, address spaces)."""

    def both(*args: object) -> None:
        method(*args)
        follow(*args)

    return both


class HybridEngine(PagePrefill, Interpreter):
    """Runs one hart in the Python tier and natively; ``compile_all`` selects JIT over HYBRID."""

    def __init__(self, config: VmConfig, hart: RiscvHart, compile_all: bool = False) -> None:
        self.compile_all = compile_all
        objects = cache_dir() / "jit"
        objects.mkdir(parents=True, exist_ok=True)
        self.jit = Jit(config, opt_level=0 if compile_all else 2, cache_dir=objects)
        self.quick_backend = self.jit.backend if compile_all else LlvmBackend(0, objects)
        """The first tier's compiler: no optimisation passes, a few ms per region."""
        self.region_backend = LlvmBackend(JIT_REGION_OPT_LEVEL, objects) if compile_all else self.jit.backend
        """Optimised regions for code that stays hot (about ten times the compile time)."""
        if config.enable_jit and not compile_all:
            self.jit.enable_adaptive_threshold()
        state = self.jit.state
        state.regs[:] = [int(value) for value in hart.x]
        hart.x = state.regs
        self.entered: dict[int, CompiledBlock] = {}
        """Every block entered in the current regime's native jump table since its last flush, by
        pc (a superset of the direct-mapped table: the blocks native code may have run and
        side-exited from)."""
        self.global_entered: dict[int, CompiledBlock] = {}
        """The same for the current table of blocks on global pages."""
        self._entered_by_regime: dict[Hashable, dict[int, CompiledBlock]] = {}
        """``entered`` of every regime whose native jump table is kept, and ``global_entered`` of
        every global pages' table."""
        self.compilers: dict[bool, BackgroundCompiler] = {}
        """Background compilers of quick (False) and optimised (True) regions."""
        self.waiting: dict[tuple[int, bool], tuple[CachedBlock, list[CachedBlock]]] = {}
        """Blocks handed to a background compiler with their region's members, by id of their IR
        block and whether optimised."""
        self.holders: dict[int, list[tuple[CachedBlock, CachedBlock]]] = {}
        """(member, region head) pairs by id of the member: a dropped member drops the region."""
        self.code_cache_size = 0
        self.native_blocks = 0
        """Blocks entered by native code (side exits finished in Python included)."""
        self.python_blocks = 0
        """Blocks run wholly by the Python tier."""
        self.slice_scale = 1 if config.icount else NATIVE_SLICE_SCALE
        self._recording_members = False
        """Set while ``_install_recorded_region`` translates a region's members."""
        self._prefill_samples: dict[int, int] = {}
        """Samples of pcs of prefilled unoptimised functions so far (``_sample_prefilled``)."""
        self.dropped: dict[tuple[int, int], CompiledBlock | PrefilledBlock] = {}
        """Blocks that left the jump tables since native code was last entered, by (id of the
        entered dict they left, pc): see ``_ran``."""
        self._first_accesses: dict[int, tuple[IRBlock, tuple[int, bool] | None]] = {}
        """``first_access`` of the blocks memory side exits were at, by id of the block (kept
        with it)."""
        self._init_prefills(config)
        super().__init__(config, hart)
        self.jit.bind(self.namespace, self.mmu.ram.host_address)
        self.jit.namespace = self.namespace
        state, mmu = self.jit.state, self.mmu
        for name in MMU_FLUSHES:
            setattr(mmu, name, _followed(getattr(mmu, name), lambda *_: state.flush_tlb()))
        mmu.forget_fast_pages = _followed(mmu.forget_fast_pages, state.forget_pages)
        mmu.clear_address_space = _followed(
            mmu.clear_address_space,
            lambda asid: state.flush_tlbs(functools.partial(in_address_space, asid=asid)))

    # --- the run loop --------------------------------------------------------------------------

    def run_slice(self, budget: int = SLICE_BLOCKS) -> None:
        """Like ``Interpreter.run_slice`` (same stopping points under icount), native blocks chained.

        The Python-tier branch is the interpreter's loop plus one attribute test and a counter:
        it runs most blocks of a Linux boot (benchmarks/boot.py --mode hybrid)."""
        if self.breakpoints or self.watchpoints:
            super().run_slice(budget)
            return
        self._install_ready()
        budget *= self.slice_scale
        hart = self.hart
        hart.expect_interrupts(SLICE_INSTRUCTIONS * self.slice_scale)
        jit = self.jit
        ctx = jit.state.context
        regs, ram, context = jit.state.regs_address, jit.ram_address, jit.state.context_address
        run = jit._run
        mmu = self.mmu
        limit = hart.instret + SLICE_INSTRUCTIONS * self.slice_scale
        left = budget
        python = 0
        pending = 0  # instructions to count if an ExitSlice ends what runs (the interpreter's rule)
        pc = hart.pc
        dropped = self.dropped
        has_jump = jit.state.has_jump
        try:
            while left > 0 and hart.instret < limit:
                entry = self.jump_cache.get(pc)
                if entry is None and not self._enterable(pc) and not self._entered_by_prefill(pc):
                    entry = self._lookup(pc)
                if entry is not None:
                    cached = entry[2]
                    compiled = cached.native
                    if compiled is None:
                        count = cached.exec_count + 1
                        cached.exec_count = count
                        if not count % HOT_CHECK_EVERY:
                            self._consider(cached)
                        pending = entry[1]
                        left -= 1
                        python += 1
                        pc = entry[0]()
                        hart.instret += pending
                        continue
                    if not has_jump(pc, compiled.address, entry[3]):  # entered: the lists have it
                        self._enter(pc, compiled, entry[3])
                if dropped:
                    dropped.clear()
                ctx[ICOUNT] = 0
                ctx[LIMIT] = limit - hart.instret
                ctx[BLOCKS] = left
                pc = run(regs, ram, context, pc)
                reason = ctx[REASON]
                ctx[REASON] = 0
                if (ctx[STATUS] & SUM != 0) != mmu.sum:
                    hart._sync_mmu()  # native code flipped SUM (context.py FLIPPED_TLBS)
                self.native_blocks += left - ctx[BLOCKS]
                left = ctx[BLOCKS]
                hart.instret += ctx[ICOUNT]
                if reason == EXIT_CHECK:
                    pending = 0
                    pc = self.namespace["XC"](pc)
                elif reason in SIDE_EXITS:
                    head = ctx[REGION]
                    region = self.entered[head] if jit.state.uses_own_jump(head) else self._ran(head)
                    if type(region) is PrefilledBlock:
                        region = self._materialise(region)
                    tails = region.tails if ctx[BLOCK] == ctx[REGION] else region.members[ctx[BLOCK]]
                    index = ctx[INDEX]
                    hart.instret -= index
                    if jit.pending_error is not None:
                        jit.raise_pending()
                    pending = tails.block.insn_count
                    jit.exits[reason] += 1  # the int: Exit(reason) costs ~1 us a side exit
                    again = self._rerun_at(tails.block, index, ctx[ADDR]) if reason == MEMORY else None
                    if again is not None:  # native code runs the block again from its start
                        pc, pending = again, 0
                        left += 1  # it counted the block already
                        self.native_blocks -= 1
                    elif reason == MEMORY:
                        view = jit.tlb_view()
                        pc = tails.function(index)()
                        jit.refill(ctx[ADDR] >> 12, view)
                    else:
                        pc = tails.function(index)()
                    hart.instret += pending
            hart.pc = pc
        except ExitSlice as exit_:
            hart.instret += pending
            hart.pc = exit_.pc
        except GuestTrap as trap:
            if trap.in_block:
                hart.instret += trap.index
            hart.take_trap(trap.cause, trap.tval, trap.pc)
        self.python_blocks += python
        self.dispatches += budget - left
        self._sample(hart.pc)

    def _enterable(self, pc: int) -> bool:
        """Whether native code can run ``pc`` with no Python lookup: the entered lists have a
        function there (a prefilled one, mostly: Python reaching it after a side exit or a trap
        would otherwise translate its block, ~125 us; benchmarks/boot.py). It goes back into its
        jump table if another pc's function took its slot since (the tables are direct-mapped: a
        warm Linux boot left native code ~1,150 times for such a pc, and each first time Python
        translated the block)."""
        state = self.jit.state
        for entered, shared in ((self.entered, False), (self.global_entered, True)):
            found = entered.get(pc)
            if found is not None:
                if not state.has_jump(pc, found.address, shared):
                    state.set_jump(pc, found.address, shared)
                return True
        return False

    def _rerun_at(self, block: IRBlock, index: int, addr: int) -> int | None:
        """After a memory side exit at the first instruction of ``block`` (a function's own block or
        a member it inlined: nothing of the block has happened), an integer load or store
        (``first_access``): give the native TLBs the page of its access at ``addr`` as the access
        would translate it, and return the block's start, where native code goes on instead of
        Python finishing the block. A loop's first store into each new page (Linux's memset) took
        ~2,000 such tails a warm boot (benchmarks/boot.py). None, and the tail runs, unless the
        access is aligned and its page can now enter the native TLBs (not a fault, a device, a
        code page or a watched one)."""
        if index:
            return None
        known = self._first_accesses.get(id(block))
        if known is None or known[0] is not block:
            known = self._first_accesses[id(block)] = (block, first_access(block))
        access = known[1]
        if access is None:
            return None
        size, write = access
        if addr & (size - 1):
            return None
        try:
            self.mmu.fill(addr, size, write)
        except PageFault:
            return None
        self.jit.refill(addr >> 12)
        return block.start_pc if self.jit.state.tlb_entry(addr >> 12, write) is not None else None

    def _ran(self, head: int) -> CompiledBlock:
        """The region function ``head`` that native code ran, when the regime's own jump table no
        longer has it: the global pages' one, or one that a load or store native code had
        ``memory_call`` do dropped from the tables while it ran (a store into its own code). Its
        side exit still finishes in its tails, as the interpreter finishes a block whose code it
        overwrote. (Native code looks in the own table first, and nothing enters blocks while it
        runs: an own entry dropped during the run is the one that ran.)"""
        dropped = self.dropped
        return (dropped.get((id(self.entered), head)) or dropped.get((id(self.global_entered), head))
                or self.global_entered[head])

    def _enter(self, pc: int, compiled: CompiledBlock, shared: bool) -> None:
        """Let native code enter ``compiled`` at ``pc``: put it in the current regime's jump
        table, or in the global pages' table if ``shared``."""
        (self.global_entered if shared else self.entered)[pc] = compiled
        self.jit.state.set_jump(pc, compiled.address, shared)

    def _translate(self, pc: int, phys: int) -> CachedBlock:
        """A new translation; JIT mode compiles it natively at once (unless the backend refuses).
        In both modes a block that an earlier run compiled as a region gets that region's code from
        the disk cache before it first runs (``_install_recorded_region``)."""
        cached = super()._translate(pc, phys)
        if self.config.enable_jit and (self._install_prefilled(cached)
                                       or self._install_recorded_region(cached)):
            return cached
        if not self.compile_all and cached.block.code is not None and self.native_pages is not None:
            self._cold.append(cached)
        if self.compile_all:
            block = cached.block
            try:
                check_compilable(block)
                self._install(cached, self.jit.backend.compile_block(block), optimised=False)
                return cached
            except ValueError:
                pass
        if type(cached.function) is DeferredFunction:
            cached.function = cached.function.resolve()
        return cached

    def _stored_function(self, pc: int, code: bytes, python: object) -> Callable[[], int]:
        """Stored Python code stays marshalled until the block runs in the Python tier: blocks
        that get native code at translation (``_translate``) never need it."""
        if type(python) is bytes:
            return DeferredFunction(functools.partial(self.translations.code_object, pc, code),
                                    self.namespace)
        return super()._stored_function(pc, code, python)

    def _install_recorded_region(self, cached: CachedBlock) -> bool:
        """Install the region an earlier run compiled with ``cached`` as its head (optimised if it
        has one), if the disk cache has it and its members' code is the same now (they are
        translated here, from the translation store, without their own recorded regions): code
        that was hot before runs natively from its first execution."""
        return (self._install_recorded(cached, self.region_backend, optimised=True)
                or self._install_recorded(cached, self.quick_backend, optimised=False))

    def _install_recorded(self, cached: CachedBlock, backend: LlvmBackend, optimised: bool) -> bool:
        """Install ``backend``'s region for head ``cached`` with the members it was last compiled
        with, if their code is the same now and the disk cache has the region's code."""
        if self._recording_members or self.breakpoints:
            return False
        recorded = backend.recorded_members(cached.block)
        members = self._member_translations(recorded) if recorded is not None else None
        if members is None:
            return False
        native = backend.known_code(cached.block, [member.block for member in members])
        if native is None:
            return False
        self._install(cached, native, members, optimised)
        return True

    def _member_translations(self, recorded: Iterable[tuple[int, bytes]]) -> list[CachedBlock] | None:
        """The current translations of a region's members, given as the (pc, bytes) it was compiled
        with (translated here if need be, without their own recorded regions); None if one's bytes
        differ now or its fetch faults."""
        members = []
        self._recording_members = True
        try:
            for pc, code in recorded:
                entry = self.jump_cache.get(pc) or self._lookup(pc)
                if entry[2].block.code != code:
                    return None
                members.append(entry[2])
        except GuestTrap:
            return None
        finally:
            self._recording_members = False
        return members

    def _consider(self, cached: CachedBlock) -> None:
        """HYBRID: every HOT_CHECK_EVERY Python-tier runs of a block, ask the JIT whether it is hot."""
        if not self.compile_all and self.jit.should_compile(cached.exec_count):
            self._compile_region(cached, optimised=False)

    def _sample(self, pc: int) -> None:
        """A native slice stopped at ``pc``; promote its block to an optimised region once sampled
        often enough (the samples are counted in ``exec_count``, which native blocks do not use
        otherwise: ``_install`` of quick code starts it again)."""
        entry = self.jump_cache.get(pc)
        if entry is None:
            self._sample_prefilled(pc)
            return
        if entry[2].native is None:
            return
        cached = entry[2]
        cached.exec_count += 1
        if cached.exec_count == PROMOTE_SAMPLES and not cached.native.optimised:
            self._compile_region(cached, optimised=True)

    def _sample_prefilled(self, pc: int) -> None:
        """A native slice stopped at ``pc``, in a prefilled function Python never looked up: its
        unoptimised code is promoted as a translated block's is, once sampled PROMOTE_SAMPLES times
        (its block translated then; the region takes the members Python has translated: also
        translating the prefilled ones made bigger regions that compiled later and ran cpu_mix
        slower). Before, a run whose page records held only quick code for a guest's loops ran them
        so for good: cpu_mix at ~700 MIPS instead of ~1,950 (benchmarks/run.py --mode jit, on a
        cache of earlier short runs)."""
        found = self.entered.get(pc) or self.global_entered.get(pc)
        if type(found) is not PrefilledBlock or found.entry.optimised:
            return
        samples = self._prefill_samples.get(pc, 0) + 1
        if samples < PROMOTE_SAMPLES:
            self._prefill_samples[pc] = samples
            return
        self._prefill_samples.pop(pc, None)
        try:
            cached = self._lookup(pc)[2]  # translated, and given the function prefilled there
        except GuestTrap:  # the fetch faults now: the next lookup takes the trap
            return
        if cached.native is not None and not cached.native.optimised:
            self._compile_region(cached, optimised=True)

    def _compile_region(self, cached: CachedBlock, optimised: bool) -> None:
        """Hand ``cached`` and its region's members to the quick or the optimising compiler (a
        quick region an earlier run compiled for this head is installed at once instead)."""
        if not optimised and self._install_recorded(cached, self.quick_backend, optimised=False):
            return
        background = self.compilers.get(optimised)
        if background is None:
            backend = self.region_backend if optimised else self.quick_backend
            background = self.compilers[optimised] = BackgroundCompiler(backend)
        block = cached.block
        if block.start_pc in background.pending or block.start_pc in background.refused:
            return
        # Quick code is the block alone (a self-loop still loops natively; successors chain):
        # inlining members made each quick compile several blocks' worth of LLVM work, and the
        # compile server was the bottleneck of a cold Linux boot (23.8 s -> 21.4 s,
        # benchmarks/boot.py --cold-cache; the warm boot stayed at 5.1 s).
        members = self._members(cached) if optimised else []
        if background.submit(block, [member.block for member in members]):
            self.waiting[id(block), optimised] = (cached, members)

    def _members(self, cached: CachedBlock) -> list[CachedBlock]:
        """The current translations of the blocks of ``cached``'s page its branches reach within
        REGION_DEPTH steps (whole in the page, so mapped with it, and resumable)."""
        head = cached.block
        if self.mmu.pmp.splits(head.phys_page):
            return []  # every fetch there is checked on its own: no block may run the next one
        offset = head.phys_start - head.start_pc
        members: dict[int, CachedBlock] = {}
        frontier = [head]
        for _ in range(REGION_DEPTH):
            reached = []
            for block in frontier:
                for target in block.successors():
                    if (target == head.start_pc or target in members
                            or target >> PAGE != head.start_pc >> PAGE):
                        continue
                    entry = self.jump_cache.get(target)
                    if entry is None:
                        continue
                    member = entry[2].block
                    if (member.phys_start - member.start_pc != offset
                            or (member.phys_start & 0xFFF) + member.byte_size > 1 << PAGE):
                        continue
                    try:
                        check_compilable(member)
                    except ValueError:
                        continue
                    members[target] = entry[2]
                    reached.append(member)
            frontier = reached
        return list(members.values())

    def _install_ready(self) -> None:
        """Install finished background compiles whose block is still the current translation (and
        has no optimised code already: a quick compile may finish after an optimised one)."""
        peek = self.block_cache.peek
        for optimised, background in self.compilers.items():
            for block, native in background.collect():
                cached, members = self.waiting.pop((id(block), optimised), (None, []))
                if cached is None or (not optimised and cached.native and cached.native.optimised):
                    continue
                if all(peek(c.block.start_pc, c.block.phys_start) is c for c in (cached, *members)):
                    self._install(cached, native, members, optimised)

    def _install(self, cached: CachedBlock, native: NativeCode, members: Sequence[CachedBlock] = (),
                 optimised: bool = True) -> None:
        """Make ``native`` ``cached``'s code; code it replaces (JIT mode's first compile) leaves the
        native jump tables, so native code enters the new code from the next dispatch on."""
        block = cached.block
        replaced = cached.native
        if replaced is not None:
            self.code_cache_size -= replaced.native.code_size
            self._drop_native_jumps({block.start_pc})
        tails = self._tails
        cached.native = compiled = CompiledBlock(block, native, tails(block), optimised)
        if self.native_pages is not None:
            self._unrecorded.append((block, compiled))
        if not optimised:
            cached.exec_count = 0
        for member in members:
            compiled.members[member.block.start_pc] = tails(member.block)
            self.holders.setdefault(id(member), []).append((member, cached))
        entry = self.jump_cache.get(block.start_pc)
        if entry is not None and entry[2] is cached:
            self._enter(block.start_pc, compiled, entry[3])
        jit = self.jit
        jit.blocks_compiled += 1
        jit.total_compile_ms += native.compile_ms
        self.code_cache_size += native.code_size

    def _tails(self, block: IRBlock) -> Tails:
        return Tails(block, self.namespace, self.translations)

    # --- coherence -----------------------------------------------------------------------------

    def _regime_changed(self) -> None:
        super()._regime_changed()
        mmu = self.mmu
        regime, shared = mmu.fetch_key, mmu.global_fetch_key
        self.regime_keys = (regime, shared)
        state = self.jit.state
        fresh = regime not in state.jump_tables
        state.select_jumps(regime, shared)
        entered = self._entered_by_regime
        self.entered = entered.setdefault(regime, {})
        self.global_entered = entered.setdefault(shared, {})
        self._select_prefilled(regime, shared)
        if fresh and (self.entered or self.prefilled):
            # Its table was dropped (context.py JUMP_TABLES_KEPT) before the lists below noticed.
            self.entered.clear()
            self._forget_prefills(lambda key: key == regime)
        if len(entered) > len(state.jump_tables) + len(state.global_tables):
            # Regimes whose native jump tables were dropped (context.py JUMP_TABLES_KEPT) start
            # afresh when they come back: their lists go too.
            kept = {key for key in entered if key in state.jump_tables or key in state.global_tables}
            self._entered_by_regime = {key: entered[key] for key in kept}
            self._keep_prefills(kept)
        state.switch_tlbs(mmu.regime, mmu.sum_flipped_regime())
        state.select_global_tlbs(mmu.global_key)

    def _flush_jump_caches(self) -> None:
        super()._flush_jump_caches()
        self._forget_jumps()

    def _forget_jumps(self) -> None:
        for entered in self._entered_by_regime.values():
            entered.clear()
        self.jit.state.flush_jumps()
        self._forget_prefills(lambda key: True)

    def _flush_address_space(self, asid: int) -> None:
        super()._flush_address_space(asid)
        self.jit.state.flush_jumps(functools.partial(in_address_space, asid=asid))
        for regime, entered in self._entered_by_regime.items():
            if in_address_space(regime, asid):
                entered.clear()
        self._forget_prefills(functools.partial(in_address_space, asid=asid))

    def _drop_jumps(self, pcs: set[int]) -> None:
        super()._drop_jumps(pcs)
        self._drop_native_jumps(pcs)
        self._look_again({pc >> PAGE for pc in pcs})  # sfence.vma remaps pages

    def _drop_native_jumps(self, pcs: set[int]) -> None:
        """Forget ``pcs`` in the native jump tables that have them: those whose ``entered`` lists
        them (``_enter`` is the only writer of the tables). Probing every table for every pc took
        ~0.15 s of a warm Linux boot, mostly for sfence.vma (benchmarks/boot.py)."""
        drop, dropped = self.jit.state.drop_jump, self.dropped
        for key, entered in self._entered_by_regime.items():
            for pc in entered.keys() & pcs:
                drop(key, pc)
                dropped[id(entered), pc] = entered.pop(pc)

    def _release(self, dropped: list[CachedBlock]) -> None:
        """Dropped translations take their native code with them; compiles still in flight for
        them are discarded by ``_install_ready`` (their block is no longer current)."""
        super()._release(dropped)
        if not dropped:
            return
        regions = []
        for cached in dropped:
            for member, head in self.holders.pop(id(cached), ()):
                tails = head.native.members.get(member.block.start_pc) if head.native else None
                if member is cached and tails is not None and tails.block is member.block:
                    regions.append(head)
        for cached in (*dropped, *regions):
            compiled = cached.native
            if compiled is not None:
                self.code_cache_size -= compiled.native.code_size
                cached.native = None
        self._drop_native_jumps({cached.block.start_pc for cached in (*dropped, *regions)})

    def stats(self) -> dict[str, object]:
        jit = self.jit.compile_stats()
        return dict(
            super().stats(),
            tiers={"native_blocks": self.native_blocks, "python_blocks": self.python_blocks,
                   "prefilled_functions": self.prefilled_blocks, "materialised": self.materialised,
                   "prefills_dropped": self.prefills_dropped},
            jit={
                "blocks_compiled": jit.blocks_compiled,
                "compile_time_ms": round(jit.total_compile_time_ms, 1),
                "code_cache_size": self.code_cache_size,
                "exits": {Exit(reason).name: n for reason, n in self.jit.exits.items()},
                "memory_calls": self.jit.memory_calls,
            },
        )
