"""The JIT compiler of seed section 4: compile decisions, the code cache, and running native code.

``Jit`` owns one hart's native state (slot array, TLBs, jump table; see context.py), compiles IR
blocks through the process-wide LLVM backend and runs them, either one block per Python call
(``execute``) or chained in the native dispatch loop (``run``). Side exits are finished in Python
with the interpreter tier's code (resume.py) through ``namespace``: the same names the interpreter's
generated code uses, with ``X`` rebound to the native slot array.
"""

from __future__ import annotations

import collections
import ctypes
import functools
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from polyvm.arch.riscv64.csr import SUM
from polyvm.arch.riscv64.hart import HART_CELLS, RiscvHart
from polyvm.arch.riscv64.traps import GuestTrap
from polyvm.core.config import VmConfig
from polyvm.device.coalesced import CoalescedPort
from polyvm.engine.jit.background import BackgroundCompiler
from polyvm.engine.jit.codegen import CALLED_HELPERS, STORE_CALL, dispatch_loop, fill_jumps, memory_front
from polyvm.engine.jit.context import (
    ADDR,
    BLOCK,
    CALL_VALUE,
    CELLS,
    HELPER_CALL,
    ICOUNT,
    INDEX,
    LIMIT,
    MEMORY_CALL,
    MEMORY_CALLBACK,
    REASON,
    RESERVATION,
    TLB_CALL,
    Exit,
    NativeState,
)
from polyvm.engine.jit.llvm_backend import LlvmBackend, NativeCode
from polyvm.engine.jit.native_csrs import cell
from polyvm.engine.jit.resume import Tails, check_compilable
from polyvm.ir.block import IRBlock
from polyvm.mem.paging import PageFault
from polyvm.mem.softmmu import BusError, SoftMmu

BLOCK_FUNCTION = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                  ctypes.c_uint64, ctypes.c_uint64)
RUN_FUNCTION = ctypes.PYFUNCTYPE(
    ctypes.c_uint64, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64
)
MEMORY_CALL_FUNCTION = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64,
                                        ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64)
"""``memory_call`` as native code calls it (context.py MEMORY_CALL): the context and RAM pointers and
four u64s."""
TLB_CALL_FUNCTION = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64,
                                     ctypes.c_void_p, ctypes.c_void_p)
"""``tlb_call`` as native code calls it (context.py TLB_CALL): the address, the op, mstatus, the TLB
entry that missed and guest RAM."""
TLB_CALL_REFUSED = 1
"""What ``tlb_call`` returns instead of a (page-aligned) delta when native code must take the memory
side exit."""
HELPER_CALL_FUNCTION = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64,
                                        ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64)
"""``helper_call`` as native code calls it (context.py HELPER_CALL): the context pointer and five u64s."""
CSR_CALL, SFENCE_CALL = CALLED_HELPERS["csr"], CALLED_HELPERS["sfence_vma"]
FILL_FUNCTION = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_void_p, ctypes.c_void_p,
                                 ctypes.c_uint64)
"""codegen.fill_jumps as Python calls it (``Jit.set_jumps``)."""
STATUS = cell("mstatus")
F0 = 32
BOX32 = 0xFFFF_FFFF_0000_0000
CANONICAL_NAN32 = 0x7FC0_0000
TlbView = tuple[dict[int, int], dict[int, int], ctypes.Array, dict[int, int], dict[int, int], ctypes.Array]
"""A data regime's read and write fast maps and its native TLB array, then the same of global pages
(``Jit.tlb_view``)."""


@dataclass(frozen=True)
class JitStats:
    blocks_compiled: int
    total_compile_time_ms: float
    code_cache_size: int
    """Bytes of object code of the blocks currently in the cache."""
    avg_compile_time_ms: float


class AdaptiveThreshold:
    """A compile threshold that follows how hot blocks are.

    ``update`` records a block's execution count, ``should_compile`` says whether the last one
    recorded reached the threshold, and ``adjust`` moves the threshold so that roughly between
    RAISE_ABOVE and LOWER_BELOW of recent candidates qualify: doubling it when too many blocks
    would be compiled (compile time dominates), halving it when too few (hot code stays slow).
    """

    RAISE_ABOVE = 0.5
    LOWER_BELOW = 0.1

    def __init__(self, initial: int = 50, minimum: int = 4, maximum: int = 100_000,
                 window: int = 64) -> None:
        self.current = max(minimum, min(maximum, initial))
        self.min = minimum
        self.max = maximum
        self.history: collections.deque[int] = collections.deque(maxlen=window)

    def update(self, count: int) -> None:
        self.history.append(count)

    def should_compile(self) -> bool:
        return bool(self.history) and self.history[-1] >= self.current

    def adjust(self) -> None:
        if not self.history:
            return
        hot = sum(count >= self.current for count in self.history) / len(self.history)
        if hot > self.RAISE_ABOVE:
            self.current = min(self.max, self.current * 2)
        elif hot < self.LOWER_BELOW:
            self.current = max(self.min, self.current // 2)


class CompiledBlock:
    """The handle ``compile`` returns: the block, its native code and its Python tails (and those
    of the members of a region, see HybridEngine)."""

    def __init__(self, block: IRBlock, native: NativeCode, tails: Tails, optimised: bool) -> None:
        self.block = block
        self.native = native
        self.tails = tails
        self.address = native.address
        self.members: dict[int, Tails] = {}
        """Tails of the blocks a region function inlined (codegen.py), by start pc."""
        self.optimised = optimised
        """Whether the code was compiled with LLVM's optimisation passes."""

    @functools.cached_property
    def call(self) -> ctypes._CFuncPtr:
        """The block's function, callable from Python (made on first use: the run loop enters
        blocks through the dispatch loop, and a ctypes function object per block costs)."""
        return BLOCK_FUNCTION(self.address)


class Jit:
    """Compiles and runs IR blocks natively for one hart."""

    ADJUST_EVERY = 64

    def __init__(self, config: VmConfig, namespace: dict | None = None, ram_address: int = 0,
                 opt_level: int = 2, cache_dir: Path | None = None) -> None:
        self.config = config
        self.state = NativeState()
        self.backend = LlvmBackend(opt_level, cache_dir)
        self.threshold = config.jit_threshold
        self.adaptive: AdaptiveThreshold | None = None
        self.cache: dict[int, CompiledBlock] = {}
        self.blocks_compiled = 0
        self.total_compile_ms = 0.0
        self._decisions = 0
        self.exits: collections.Counter[int] = collections.Counter()
        """Side exits finished in Python, by reason (``Exit`` values; dispatch-loop stops are not
        counted)."""
        self.memory_calls = 0
        """Loads and stores native code had ``memory_call`` do."""
        self.hart: RiscvHart | None = None
        self.pending_error: BaseException | None = None
        """What a call back from native code raised besides a guest fault (``_in_python``): native
        code took its side exit, and whoever ran it raises this (``raise_pending``) instead of
        running the tail."""
        self.tlb_calls = 0
        """Pages ``tlb_call`` put in the native TLBs."""
        self._calls = [MEMORY_CALL_FUNCTION(self.memory_call), HELPER_CALL_FUNCTION(self.helper_call),
                       TLB_CALL_FUNCTION(self.tlb_call)]
        """The ctypes functions native code calls (kept alive with the JIT)."""
        for word, function in zip((MEMORY_CALLBACK, HELPER_CALL, TLB_CALL), self._calls, strict=True):
            self.state.context[word] = ctypes.cast(function, ctypes.c_void_p).value
        self.state.context[MEMORY_CALL] = self.backend.compile_support(memory_front).address
        self._run = RUN_FUNCTION(self.backend.compile_support(dispatch_loop).address)
        self._fill = FILL_FUNCTION(self.backend.compile_support(fill_jumps).address)
        self._ports: dict[int, CoalescedPort | None] = {}
        """The coalesced port (device/coalesced.py) of the device at each physical page a memory
        call reached a device at (None: it has none, or it is not at the page's start)."""
        self._background: BackgroundCompiler | None = None
        self.bind(namespace or {}, ram_address)

    @classmethod
    def new(cls, config: VmConfig) -> Jit:
        return cls(config)

    def bind(self, namespace: dict, ram_address: int) -> None:
        """Use ``namespace`` (the interpreter's generated-code names) and guest RAM at ``ram_address``."""
        self.namespace = dict(namespace, X=self.state.regs)
        self.ram_address = ram_address
        hart = self.hart = namespace.get("H")
        if hart is not None:  # LR in native code and SC in Python (or the reverse) see one reservation
            address = self.state.context_address
            hart.mmu.share_reservation((ctypes.c_uint64 * 1).from_address(address + 8 * RESERVATION))
            hart.share_cells((ctypes.c_uint64 * len(HART_CELLS)).from_address(address + 8 * CELLS))
        for compiled in self.cache.values():
            compiled.tails = Tails(compiled.block, self.namespace)

    def set_fast_maps(self, rd: dict[int, int], wr: dict[int, int]) -> None:
        """The MMU switched its fast page maps (a new translation regime): follow, flush the TLBs."""
        self.namespace["RD"] = rd
        self.namespace["WR"] = wr
        self.state.flush_tlb()

    # --- compile decisions ---------------------------------------------------------------------

    def set_compile_threshold(self, threshold: int) -> None:
        self.threshold = threshold
        if self.adaptive is not None:
            self.adaptive.current = threshold

    def enable_adaptive_threshold(self) -> None:
        self.adaptive = AdaptiveThreshold(self.threshold)

    def should_compile(self, exec_count: int) -> bool:
        """Whether a block executed ``exec_count`` times should be compiled now."""
        if self.adaptive is None:
            return exec_count >= self.threshold
        self.adaptive.update(exec_count)
        self._decisions += 1
        if self._decisions % self.ADJUST_EVERY == 0:
            self.adaptive.adjust()
            self.threshold = self.adaptive.current
        return self.adaptive.should_compile()

    # --- the code cache ------------------------------------------------------------------------

    def compile(self, block: IRBlock) -> CompiledBlock:
        """Compile ``block`` natively and enter it in the cache and the jump table; a block that may
        not get native code (``check_compilable``) raises ValueError."""
        check_compilable(block)
        return self._install(block, self.backend.compile_block(block))

    def compile_async(self, block: IRBlock) -> bool:
        """Queue ``block`` for the background compiler; ``install_ready`` enters it once done."""
        if self._background is None:
            self._background = BackgroundCompiler(self.backend)
        return self._background.submit(block)

    def install_ready(self) -> int:
        """Enter finished background compiles in the cache and the jump table; how many."""
        if self._background is None:
            return 0
        ready = self._background.collect()
        for block, native in ready:
            self._install(block, native)
        return len(ready)

    def wait_for_compiles(self) -> None:
        """Block until the background compiler is idle (tests, benchmarks, shutdown)."""
        if self._background is not None:
            self._background.wait_idle()

    def _install(self, block: IRBlock, native: NativeCode) -> CompiledBlock:
        compiled = CompiledBlock(block, native, Tails(block, self.namespace), self.backend.opt_level > 0)
        self.cache[block.start_pc] = compiled
        self.state.set_jump(block.start_pc, native.address)
        self.blocks_compiled += 1
        self.total_compile_ms += native.compile_ms
        return compiled

    def set_jumps(self, pcs: ctypes.Array, addresses: ctypes.Array, shared: bool = False) -> None:
        """``NativeState.set_jump`` for each pc of ``pcs`` and address of ``addresses`` (u64
        arrays), in one native call."""
        table = self.state.writable_jumps(shared)
        self._fill(ctypes.addressof(table), len(table) // 2, ctypes.addressof(pcs),
                   ctypes.addressof(addresses), len(pcs))

    def get_compiled(self, pc: int) -> CompiledBlock | None:
        return self.cache.get(pc)

    def flush_code_cache(self) -> None:
        """Forget every compiled block (their machine code stays mapped: the engine is never freed)."""
        self.cache.clear()
        self.state.flush_jumps()
        if self._background is not None:
            self._background.invalidate()

    def compile_stats(self) -> JitStats:
        count = self.blocks_compiled
        return JitStats(
            blocks_compiled=count,
            total_compile_time_ms=self.total_compile_ms,
            code_cache_size=sum(c.native.code_size for c in self.cache.values()),
            avg_compile_time_ms=self.total_compile_ms / count if count else 0.0,
        )

    # --- running -------------------------------------------------------------------------------

    def execute(self, compiled: CompiledBlock) -> int:
        """Run one compiled block (finishing side exits in Python); returns the next pc.

        The block is entered with no blocks left, so it stops (BUDGET) instead of chaining on."""
        state = self.state
        ctx = state.context
        pc = compiled.call(state.regs_address, self.ram_address, state.context_address, ctx[ICOUNT], 0)
        if ctx[REASON] == Exit.BUDGET:
            ctx[REASON] = 0
        elif ctx[REASON]:
            pc = self.finish_exit(compiled, pc)
        return pc

    def run(self, pc: int, max_instructions: int) -> int:
        """Chain compiled blocks natively from ``pc`` until about ``max_instructions`` retired or
        a pc without native code is reached; returns that pc. (A block pushed out of the
        direct-mapped jump table by another is entered again on its next miss.)"""
        state = self.state
        ctx = state.context
        ctx[LIMIT] = ctx[ICOUNT] + max_instructions
        while True:
            pc = self._run(state.regs_address, self.ram_address, state.context_address, pc)
            reason = ctx[REASON]
            if reason == Exit.LOOKUP and pc in self.cache:
                ctx[REASON] = 0
                state.set_jump(pc, self.cache[pc].address)
                continue
            if reason in (Exit.LOOKUP, Exit.BUDGET):
                ctx[REASON] = 0
                return pc
            pc = self.finish_exit(self.cache[ctx[BLOCK]] if reason != Exit.EXIT_CHECK else None, pc)
            if ctx[ICOUNT] >= ctx[LIMIT]:
                return pc

    def finish_exit(self, compiled: CompiledBlock | None, pc: int) -> int:
        """Complete what native code left to Python; counts the block's remaining instructions.

        A guest trap raised by the tail propagates with ICOUNT already counting the instructions
        before the exit (the trap's index counts from the block start)."""
        ctx = self.state.context
        reason = Exit(ctx[REASON])
        ctx[REASON] = 0
        self.exits[reason] += 1
        if reason is Exit.EXIT_CHECK:
            return self.namespace["XC"](pc)
        self.raise_pending()
        index = ctx[INDEX]
        view = self.tlb_view() if reason is Exit.MEMORY else None
        pc = compiled.tails.function(index)()
        ctx[ICOUNT] += compiled.block.insn_count - index
        if view is not None:
            self.refill(ctx[ADDR] >> 12, view)
        return pc

    def memory_call(self, _ctx: int, _ram: int, addr: int, op: int, value: int, icount: int) -> int:
        """Native code's slow path for a load or store (context.py MEMORY_CALL): the hart's MMU
        does the access, and the native TLBs take the page (``refill``). A load's value goes in
        CALL_VALUE. Refused (the memory side exit, before anything happened): an access that
        crosses a page (its first half could reach a device before the second faults), and one
        after native code flipped mstatus.SUM (the MMU learns of it when native code returns).
        Through here, a console write or a TLB miss costs a few microseconds instead of a side
        exit and a Python tail (benchmarks/boot.py). See ``_in_python`` for the rest."""
        return self._in_python(icount, (PageFault, BusError), self._access, addr, op, value)

    def _access(self, hart: RiscvHart, addr: int, op: int, value: int) -> bool:
        size = op & (STORE_CALL - 1)
        ctx = self.state.context
        if (addr & 0xFFF) + size > 4096 or bool(ctx[STATUS] & SUM) != hart.mmu.sum:
            return False
        mmu = hart.mmu
        if op & STORE_CALL:
            mmu.store(addr, value & ((1 << (8 * size)) - 1), size)
            device = addr >> 12 in mmu.io_wr
        else:
            ctx[CALL_VALUE] = mmu.load(addr, size)
            device = addr >> 12 in mmu.io_rd
        self.memory_calls += 1
        if device:  # in no RAM map: nothing to refill
            self._publish_port(mmu, addr >> 12)
        else:
            self.refill(addr >> 12)
        return True

    def _publish_port(self, mmu: SoftMmu, vpn: int) -> None:
        """Virtual page ``vpn`` reached a device: if the current regime's device maps have it for
        loads and stores alike, and the device has a coalesced port, native code may use the port
        there (``NativeState.publish_port``; a Linux boot's ~15,000 console accesses called back)."""
        page = mmu.io_rd.get(vpn)
        if page is None or mmu.io_wr.get(vpn) != page:
            return
        port = self._ports.get(page, False)
        if port is False:
            region = mmu.bus.find(page)
            at_start = region is not None and region.base == page
            found = getattr(region.device, "coalesced_port", None) if at_start else None
            port = self._ports[page] = found if isinstance(found, CoalescedPort) else None
        if port is not None:
            self.state.publish_port(vpn, port)

    def tlb_call(self, addr: int, op: int, mstatus: int, _entry: int, _ram: int) -> int:
        """Native code's TLB refill for an access of a loop or an atomic that missed the TLB
        (context.py TLB_CALL): the MMU translates the aligned access as ``memory_call`` would (A and
        D bits and the PMP included) without doing it, its page goes in the regime's native TLB
        (also from the global pages' one, as native code copies their hits), and the RAM delta is
        returned. TLB_CALL_REFUSED, the memory side exit, when the access is misaligned or faults,
        its page may not be in the TLB (a device, code or watched page), native code flipped
        mstatus.SUM (``mstatus`` is its value now: the call may come before native code stored it),
        or the walk wrote a PTE: native code was told the call writes no guest memory (only the TLB
        entry it gives), so it may still use guest memory it loaded before the call. A Linux
        boot's loops and atomics left native code ~6,000 times for such misses, ~26 us each
        (benchmarks/boot.py)."""
        size, write = op & (STORE_CALL - 1), bool(op & STORE_CALL)
        hart, state = self.hart, self.state
        if (hart is None or self.pending_error is not None or addr & (size - 1)
                or bool(mstatus & SUM) != hart.mmu.sum):
            return TLB_CALL_REFUSED
        mmu = hart.mmu
        walked = mmu.pte_writes
        try:
            mmu.fill(addr, size, write)
            if mmu.pte_writes != walked:
                return TLB_CALL_REFUSED
            vpn = addr >> 12
            self.refill(vpn)
            delta = state.tlb_entry(vpn, write)
            if delta is None:
                delta = state.tlb_entry(vpn, write, state.global_tlbs)
                if delta is None:
                    return TLB_CALL_REFUSED
                state.fill(vpn, delta, write)
        except (PageFault, BusError):
            return TLB_CALL_REFUSED
        except BaseException as error:  # a ctypes callback would print it and return 0, a delta
            self.pending_error = error
            return TLB_CALL_REFUSED
        self.tlb_calls += 1
        return delta

    def helper_call(self, _ctx: int, op: int, x: int, y: int, pc: int, icount: int) -> int:
        """Native code having Python do a helper (context.py HELPER_CALL, codegen.py
        ``helper_call``): ``op`` holds the helper's kind (codegen.CALLED_HELPERS) in bits 0-7, its
        small arguments from bit 8 and the instruction's index in the block from bit 32; ``x``
        and ``y`` are its values. 2 (instead of 0) when done and the hart has an exit pending, as
        the Python tail's exit check would find it, or when entries left the jump tables (an
        sfence.vma that dropped code pages' translations: native code must not go on into blocks
        a region inlined, and ``HybridEngine._ran`` finds regions only while some list holds them).
        See ``_in_python``."""
        state = self.state
        state.jumps_dropped = False
        status = self._in_python(icount, (GuestTrap,), self._helper, op, x, y, pc)
        return 2 if status == 0 and (self.hart.exit_pending or state.jumps_dropped) else status

    def _helper(self, hart: RiscvHart, op: int, x: int, y: int, pc: int) -> bool:
        kind, index = op & 0xFF, op >> 32
        if kind == CSR_CALL:
            self.state.context[CALL_VALUE] = hart.csr_op(op >> 20 & 0xF, op >> 8 & 0xFFF, y, pc, index)
        elif kind == SFENCE_CALL:
            hart.sfence_vma(x, y, op >> 8 & 1, op >> 9 & 1, pc, index)
        else:
            return False
        return True

    def _in_python(self, icount: int, faults: tuple[type[BaseException], ...],
                   work: Callable[..., bool], *args: int) -> int:
        """What native code calls back for: ``work(hart, *args)`` with the hart's instret at the
        block's start, as a Python tail would have it (``icount`` counts from where ICOUNT was
        last reset, which the hybrid loop does at each native entry). 0 when done; 1 when native
        code must take its side exit instead: ``work`` refused (returned False), raised one of
        ``faults`` (nothing happened yet: the tail repeats it and traps), or raised anything else,
        kept in ``pending_error`` (a ctypes callback would print it and go on)."""
        try:
            hart = self.hart
            if hart is None or self.pending_error is not None:
                return 1
            hart.instret += icount
            try:
                done = work(hart, *args)
            finally:
                hart.instret -= icount
        except faults:
            return 1
        except BaseException as error:
            self.pending_error = error
            return 1
        return 0 if done else 1

    def raise_pending(self) -> None:
        """Raise what a call back from native code raised, if anything (after its side exit)."""
        error, self.pending_error = self.pending_error, None
        if error is not None:
            raise error

    def tlb_view(self) -> TlbView:
        """The current data regime's fast maps and native TLBs, then the global pages' maps and
        native TLBs, for ``refill`` after a memory side exit's tail (which may switch regimes after
        its access: Linux's user-memory copies end with the SUM write that switches back)."""
        namespace, state, hart = self.namespace, self.state, self.hart
        shared = (hart.mmu.global_rd, hart.mmu.global_wr) if hart is not None else ({}, {})
        return (namespace.get("RD", {}), namespace.get("WR", {}), state.tlbs, *shared, state.global_tlbs)

    def refill(self, vpn: int, view: TlbView | None = None) -> None:
        """Copy the fast-map entries of ``vpn`` (filled by the slow path) into the TLBs of the same
        regime, and those of the global maps into the global pages' TLBs: ``view``'s
        (``tlb_view``), by default the current ones."""
        read, write, table, global_read, global_write, global_table = view or self.tlb_view()
        fill = self.state.fill
        for maps, writes, tlbs in ((read, False, table), (write, True, table),
                                   (global_read, False, global_table), (global_write, True, global_table)):
            delta = maps.get(vpn)
            if delta is not None:
                fill(vpn, delta, writes, tlbs)

    # --- floating-point registers (raw 64-bit slots, binary32 NaN-boxed) -----------------------

    def read_freg(self, idx: int) -> float:
        return struct.unpack("<d", struct.pack("<Q", self.state.regs[F0 + idx]))[0]

    def write_freg(self, idx: int, val: float) -> None:
        self.state.regs[F0 + idx] = struct.unpack("<Q", struct.pack("<d", val))[0]

    def read_freg_f32(self, idx: int) -> float:
        raw = self.state.regs[F0 + idx]
        bits = raw & 0xFFFF_FFFF if raw & BOX32 == BOX32 else CANONICAL_NAN32
        return struct.unpack("<f", struct.pack("<I", bits))[0]

    def write_freg_f32(self, idx: int, val: float) -> None:
        self.state.regs[F0 + idx] = BOX32 | struct.unpack("<I", struct.pack("<f", val))[0]
