"""The native state one hart's compiled code works on: the guest slot array and the context block.

Both are plain ctypes arrays of u64 so Python reads and writes them by index and native code by
address. The context block, in u64 words::

    [0] REASON   why native code returned (0: it did not exit; see ``Exit``)
    [1] INDEX    index in the block of the instruction to resume at (exits only)
    [2] PC       guest pc of that instruction
    [3] ICOUNT   instructions retired by native code (blocks add to it; Python may reset it)
    [4] ADDR     guest address of a memory access that left the fast path
    [5] LIMIT    the dispatch loop stops once ICOUNT reaches LIMIT
    [6] BLOCK    start pc of the block that made a side exit
    [7] BLOCKS   blocks the dispatch loop may still enter; it stops when this reaches 0 (decremented
                 on entry, so a loop started with 0 never stops for it)
    [8] JUMPS    host address of the current jump table: JUMP_ENTRIES pairs (guest pc, native
                 block address)
    [9] REGION   start pc of the region function (codegen.py) that made a side exit: BLOCK's
                 own, or the block whose function inlined BLOCK
    [10] RESERVATION  the hart's LR reservation as a RAM offset (``EMPTY``: none); the hart's
                 SoftMmu keeps its reservation in this word too (``share_reservation``)
    [11] GLOBAL_JUMPS  host address of the jump table of blocks on global pages, shared by every
                 regime of the current paging mode and privilege (probed after JUMPS misses)
    [12] TLBS    host address of the current data regime's TLBs: the read TLB (TLB_ENTRIES pairs:
                 tag = virtual page number, RAM delta) at READ_TLB, the write TLB at WRITE_TLB
    [13] FLIPPED_TLBS  host address of the TLBs of the data regime that differs from the current
                 one only in mstatus.SUM, or 0 (none given): native code that flips SUM swaps TLBS
                 and FLIPPED_TLBS itself instead of leaving to Python (``switch_tlbs``)
    [14] MEMORY_CALL  host address of the function native code calls for a load or store that
                 misses the TLB (``i64 call(ctx, ram, addr, op, value, icount)``, op = size | 16
                 for a store; it returns 0 once the access is done, else the code takes the memory
                 side exit): codegen's ``memory_front``, which does the access itself when it is one
                 of PORT's, else calls MEMORY_CALLBACK
    [15] CALL_VALUE  the value a load through MEMORY_CALL or a HELPER_CALL CSR access read
    [16] HELPER_CALL  host address of the function native code calls for a helper it leaves to
                 Python without leaving itself (codegen.py CALLED_HELPERS: CSR accesses, sfence.vma;
                 ``i64 call(ctx, op, x, y, pc, icount)``): 0 once done, 2 once done if the hart
                 then has an exit pending, 1 if refused or trapped (nothing happened: the helper
                 side exit)
    [17] GLOBAL_TLBS  host address of the TLBs of global pages (same layout as TLBS), shared by
                 every address space whose data accesses have the current paging mode, privilege
                 and mstatus.MXR: native code probes them when TLBS misses (``select_global_tlbs``)
    [18] TLB_CALL  host address of the function native code calls when an access of a loop or an
                 atomic misses the TLB (``i64 call(addr, op, mstatus, entry, ram)``, op as MEMORY_CALL's,
                 declared to write only the TLB entry that missed and memory native code does not
                 see, and to read guest RAM): the access's RAM delta once its page is in the TLBs
                 (page-aligned), else 1 (the memory side exit)
    [19] PORT_PAGE  the virtual page number at which the data regime of PORT_TLBS reaches the
                 device whose coalesced port (device/coalesced.py) is PORT, for loads and stores
                 alike (``EMPTY``: none; ``publish_port``)
    [20] PORT_TLBS  the TLBS word PORT_PAGE holds for: native code that flips mstatus.SUM switches
                 to another regime by itself
    [21] PORT    host address of that device's CoalescedPort
    [22] MEMORY_CALLBACK  host address of the Python slow path MEMORY_CALL calls (jit.py
                 ``memory_call``, same arguments and result)
    [23 ..]      HART_CELLS (hart.py): privilege level, mstatus and the trap CSRs the hart keeps
                 here once the JIT is bound to it (``share_cells``), for native_csrs.py

A TLB pair is valid when its tag equals the virtual page number; ``EMPTY`` (all ones) is never a
page number. The delta is the same one the Python fast maps hold: RAM offset = vaddr + delta.
Tables are direct-mapped, indexed by ``vpn % TLB_ENTRIES`` and ``(pc >> 1) % JUMP_ENTRIES`` (or
GLOBAL_JUMP_ENTRIES).

There is one jump table per translation regime (``select_jumps``), like the interpreter's jump
caches: a trap into the kernel and the return to user code switch tables instead of emptying one
(a Linux boot changes regime tens of thousands of times; benchmarks/boot.py). Blocks fetched through
global leaves (the kernel's) go in a table all address spaces share instead, so a new process does
not send each kernel block back to Python once more. The TLBs are kept per data regime the same way
(``switch_tlbs`` points TLBS at the new regime's): the kernel toggles mstatus.SUM around every user
access, and an emptied TLB costs one side exit per page touched. Pages of global leaves that are
not user pages (the kernel's) also go in GLOBAL_TLBS, as the MMU's global maps hold them
(softmmu.py): a new process reaches the kernel's pages natively instead of calling back once per
page (~6,000 calls a Linux boot; benchmarks/boot.py). Those toggles stay in native code
when FLIPPED_TLBS is set (codegen's ``csr``); whoever runs native code then brings the MMU's regime
up to date from mstatus when it returns (``HybridEngine.run_slice``). As a helper side exit each
toggle had cost ~30 us of Python (the exit, the tail, ``csr_op`` and the regime switch), 8,400 a
Linux boot (benchmarks/boot.py).

Plain loads and stores that miss the TLB call back into Python (MEMORY_CALL, jit.py ``memory_call``)
and go on natively: the slow path, device registers (the console's) and TLB refills no longer end
the native run. Only an access that faults, or raises something else, takes the side exit. Loops
and atomics only have TLB_CALL put the page in the TLBs (jit.py ``tlb_call``): a call that LLVM
must assume writes memory keeps it from hoisting loads out of loops (codegen.py ``access``).
A console's status reads and data writes do not call back at all once Python has seen the page
reach it (PORT_PAGE): codegen's ``memory_front`` does them on the device's coalesced port. Anything
that drops TLB entries or switches regimes forgets that page, as the TLBs forget theirs.
"""

from __future__ import annotations

import collections
import ctypes
import enum
import functools
from collections.abc import Callable, Hashable

from polyvm.arch.riscv64.hart import HART_CELLS
from polyvm.core.recent import recently_used

SLOTS = 64
TLB_ENTRIES = 4096
"""Pages in each read and write TLB: with 1,024 a fourth of a Linux boot's native TLB misses
were slots another page held (benchmarks/boot.py)."""
JUMP_ENTRIES = 16384
"""Jump-table entries per regime: a Linux boot enters ~29,000 kernel blocks; with 4,096 entries it
left native code for a jump-table miss 183k times, with 16,384 135k (benchmarks/boot.py)."""
GLOBAL_JUMP_ENTRIES = 1 << 20
"""Entries of a table of blocks on global pages (there are a few such tables, one per paging mode
and privilege; 16 MB each, emptied only when written since: ``filled_globals``): a warm Linux boot
prefills ~40,000 kernel functions (page_prefill.py), and with 65,536 entries other functions had
taken the slots of ~5,500 that it ran, each then found and translated in Python
(benchmarks/boot.py). With 16,384 entries, a fourth of the jump-table misses that left native code
were slots another block held."""
EMPTY = (1 << 64) - 1

JUMP_TABLES_KEPT = 32
"""Jump tables of the most recently used regimes kept; older ones are dropped."""
TLBS_KEPT = 16
"""TLBs of the most recently used data regimes kept (the MMU keeps 16 regimes' fast maps)."""

(REASON, INDEX, PC, ICOUNT, ADDR, LIMIT, BLOCK, BLOCKS, JUMPS, REGION, RESERVATION, GLOBAL_JUMPS,
 TLBS, FLIPPED_TLBS, MEMORY_CALL, CALL_VALUE, HELPER_CALL, GLOBAL_TLBS, TLB_CALL, PORT_PAGE, PORT_TLBS,
 PORT, MEMORY_CALLBACK) = range(23)
CELLS = 23
CONTEXT_WORDS = CELLS + len(HART_CELLS)
READ_TLB, WRITE_TLB = 0, 2 * TLB_ENTRIES
"""Where the read and write TLBs start in a regime's TLB array (TLBS)."""


class Exit(enum.IntEnum):
    """Values of the REASON word."""

    NONE = 0
    MEMORY = 1
    """A load or store missed the TLB or was misaligned and MEMORY_CALL did not do it (a fault,
    or an atomic access): resume at INSN in Python (slow path)."""
    HELPER = 2
    """The instruction at INDEX needs a Python helper (CALL): resume there in Python."""
    EXIT_CHECK = 3
    """The block ended with an EXIT terminator: the returned pc is final, run the exit check."""
    LOOKUP = 4
    """Dispatch loop only: no native code for the returned pc in the jump table."""
    BUDGET = 5
    """Dispatch loop only: ICOUNT reached LIMIT, or BLOCKS reached 0."""


def empty(table: ctypes.Array) -> None:
    """Empty a TLB or jump table: every byte 0xFF, so every tag is EMPTY, which no vpn and no
    (even) pc equals; a value is only read under a matching tag."""
    ctypes.memset(table, 0xFF, ctypes.sizeof(table))


def _empty_table(pairs: int) -> ctypes.Array:
    """A new empty table, over a bytearray filled as it is made (a zeroed ctypes array emptied
    afterwards took 10 ms instead of 3 for each 16 MB global table)."""
    return (ctypes.c_uint64 * (2 * pairs)).from_buffer(bytearray(b"\xff") * (16 * pairs))


_new_tlbs = functools.partial(_empty_table, 2 * TLB_ENTRIES)
_new_jumps = functools.partial(_empty_table, JUMP_ENTRIES)
_new_global_jumps = functools.partial(_empty_table, GLOBAL_JUMP_ENTRIES)


class SpareTables:
    """Tables of regimes no longer kept, emptied again for the next new regime: a new table is
    fresh memory the kernel must fault in (~0.15 ms a 256 KB jump table, ~3 us to empty a used one;
    a Linux boot's processes made ~120 tables, benchmarks/boot.py)."""

    def __init__(self, make: Callable[[], ctypes.Array]) -> None:
        self.make = make
        self.spares: list[ctypes.Array] = []
        self.give = self.spares.append

    def take(self) -> ctypes.Array:
        if not self.spares:
            return self.make()
        table = self.spares.pop()
        empty(table)
        return table


def _tlb_slot(vpn: int, write: bool) -> int:
    """Index of ``vpn``'s tag in a regime's TLB array."""
    return (WRITE_TLB if write else READ_TLB) + 2 * (vpn % TLB_ENTRIES)


def _jump_slot(table: ctypes.Array, pc: int) -> int:
    """Index of ``pc``'s tag in ``table`` (a regime's or a global pages' jump table)."""
    return 2 * ((pc >> 1) % (len(table) // 2))


class NativeState:
    """One hart's slot array and context block, kept alive as long as native code may use them.

    Flushes empty a table with one memset (a Linux boot flushes tens of thousands of times: regime
    changes, sfence.vma, code writes; benchmarks/boot.py)."""

    def __init__(self) -> None:
        self.regs = (ctypes.c_uint64 * SLOTS)()
        self.context = (ctypes.c_uint64 * CONTEXT_WORDS)()
        self.regs_address = ctypes.addressof(self.regs)
        self.context_address = ctypes.addressof(self.context)
        self.context[RESERVATION] = EMPTY
        self.context[PORT_PAGE] = EMPTY
        self.jump_tables: collections.OrderedDict[Hashable, ctypes.Array] = collections.OrderedDict()
        self.global_tables: dict[Hashable, ctypes.Array] = {}
        """Jump tables of blocks on global pages, by ``SoftMmu.global_fetch_regime``: those never
        written share ``unwritten_globals``."""
        self.unwritten_globals = _new_global_jumps()
        """The empty table of every global pages' key nothing was entered for (each table takes
        16 MB and ~10 ms to make, and a Linux boot enters blocks in two of its four: the bare and
        user keys have no global pages; benchmarks/boot.py)."""
        self.global_key: Hashable = None
        """The key of the current global pages' table."""
        self.filled_globals: set[Hashable] = set()
        """Keys of the global pages' tables written since they were last empty (a Linux boot
        empties every table ~140 times while OpenSBI sets up PMP, before the kernel's table has
        anything in it)."""
        self._spare_jumps, self._spare_tlbs = SpareTables(_new_jumps), SpareTables(_new_tlbs)
        self.jumps: ctypes.Array = _new_jumps()
        self.tlb_regime: Hashable = None
        """The data regime whose TLBs are current (TLBS)."""
        self.tlbs = _new_tlbs()
        self.context[TLBS] = ctypes.addressof(self.tlbs)
        self.flipped_regime: Hashable = None
        """The regime of FLIPPED_TLBS (None: the word is 0); its table is kept in ``tlb_tables``."""
        self.tlb_tables: collections.OrderedDict[Hashable, ctypes.Array] = collections.OrderedDict()
        """The TLBs of the most recently used regimes, the current one's included (read then
        write)."""
        self.global_tlb_tables: dict[Hashable, ctypes.Array] = {}
        """The TLBs of global pages by the MMU's key of its global maps (a few: one per paging mode,
        privilege and MXR)."""
        self.global_tlbs: ctypes.Array = _new_tlbs()
        """The current one (GLOBAL_TLBS)."""
        self.select_global_tlbs(None)
        self.jumps_dropped = False
        """Set when an entry leaves a jump table (``drop_jump``, ``flush_jumps``); whoever wants to
        know whether some did while native code called back (jit.py ``helper_call``) clears it."""
        self.flush_tlb()
        self.select_jumps(None, None)

    @property
    def reason(self) -> Exit:
        return Exit(self.context[REASON])

    def publish_port(self, vpn: int, port: ctypes.Structure) -> None:
        """Virtual page ``vpn`` of the current data regime reaches the device of coalesced
        ``port`` for loads and stores: native code may use the port there (PORT_PAGE)."""
        context = self.context
        context[PORT] = ctypes.addressof(port)
        context[PORT_TLBS] = context[TLBS]
        context[PORT_PAGE] = vpn

    def flush_tlb(self) -> None:
        """Empty the TLBs of every regime (the current and flipped ones are kept, emptied), and
        those of global pages."""
        self.context[PORT_PAGE] = EMPTY
        for table in self.global_tlb_tables.values():
            empty(table)
        kept = collections.OrderedDict()
        if self.flipped_regime is not None:
            flipped = self.tlb_tables[self.flipped_regime]
            empty(flipped)
            kept[self.flipped_regime] = flipped
        empty(self.tlbs)
        kept[self.tlb_regime] = self.tlbs
        self.tlb_tables = kept

    def flush_tlbs(self, regimes: Callable[[Hashable], bool]) -> None:
        """Empty the TLBs of the data regimes ``regimes`` accepts (an address space's: the others
        keep theirs, as their fast maps do, and so do global pages)."""
        self.context[PORT_PAGE] = EMPTY
        for regime, table in self.tlb_tables.items():
            if regimes(regime):
                empty(table)

    def forget_pages(self, pages: set[int]) -> None:
        """Drop these virtual page numbers from the TLBs of every regime (slots found once for all
        the ~15 tables: a Linux boot's ~1,000 sfence.vma of mapped pages come here)."""
        self.context[PORT_PAGE] = EMPTY
        slots = [(vpn, _tlb_slot(vpn, False), _tlb_slot(vpn, True)) for vpn in pages]
        for table in (*self.tlb_tables.values(), *self.global_tlb_tables.values()):
            for vpn, read, write in slots:
                if table[read] == vpn:
                    table[read] = EMPTY
                if table[write] == vpn:
                    table[write] = EMPTY

    def switch_tlbs(self, regime: Hashable, flipped: Hashable = None) -> None:
        """Make ``regime``'s TLBs current (empty ones the first time), and those of ``flipped``,
        the regime with mstatus.SUM flipped, the ones native code switches to by itself (None:
        SUM writes leave native code). Both tables are the most recently used, so neither is
        dropped before the next switch (TLBS_KEPT >= 2)."""
        if regime == self.tlb_regime and flipped == self.flipped_regime:
            return
        self.context[PORT_PAGE] = EMPTY
        spare = self._spare_tlbs
        table = recently_used(self.tlb_tables, regime, spare.take, TLBS_KEPT, spare.give)
        self.tlbs = table
        self.tlb_regime = regime
        self.context[TLBS] = ctypes.addressof(table)
        self.flipped_regime = flipped
        self.context[FLIPPED_TLBS] = 0 if flipped is None else ctypes.addressof(
            recently_used(self.tlb_tables, flipped, spare.take, TLBS_KEPT, spare.give))

    def select_global_tlbs(self, key: Hashable) -> None:
        """Make the TLBs of global pages of the MMU's global maps ``key`` current (empty ones the
        first time)."""
        table = self.global_tlb_tables.get(key)
        if table is None:
            table = self.global_tlb_tables[key] = _new_tlbs()
        self.global_tlbs = table
        self.context[GLOBAL_TLBS] = ctypes.addressof(table)

    def fill(self, vpn: int, delta: int, write: bool, table: ctypes.Array | None = None) -> None:
        """Enter ``vpn -> delta`` (RAM offset = vaddr + delta) in the read or write TLB of
        ``table`` (a regime's TLB array; the current one by default)."""
        tlbs = self.tlbs if table is None else table
        slot = _tlb_slot(vpn, write)
        tlbs[slot] = vpn
        tlbs[slot + 1] = delta & EMPTY

    def tlb_entry(self, vpn: int, write: bool, table: ctypes.Array | None = None) -> int | None:
        """The RAM delta for ``vpn`` in the read or write TLB of ``table`` (the current regime's by
        default), if there."""
        tlbs = self.tlbs if table is None else table
        slot = _tlb_slot(vpn, write)
        return tlbs[slot + 1] if tlbs[slot] == vpn else None

    def set_jump(self, pc: int, address: int, shared: bool = False) -> None:
        """Enter ``pc -> address`` in the current regime's jump table, or in its global pages'
        table if ``shared``."""
        jumps = self.writable_jumps(shared)
        slot = _jump_slot(jumps, pc)
        jumps[slot] = pc
        jumps[slot + 1] = address

    def writable_jumps(self, shared: bool) -> ctypes.Array:
        """The jump table ``set_jump(..., shared)`` writes (a global one is then no longer empty;
        the first write to one gets it its own table instead of the shared unwritten one)."""
        if not shared:
            return self.jumps
        if self.global_jumps is self.unwritten_globals:
            self.global_jumps = self.global_tables[self.global_key] = _new_global_jumps()
            self.context[GLOBAL_JUMPS] = ctypes.addressof(self.global_jumps)
        self.filled_globals.add(self.global_key)
        return self.global_jumps

    def has_jump(self, pc: int, address: int, shared: bool = False) -> bool:
        """Whether ``set_jump(pc, address, shared)`` would change nothing."""
        jumps = self.global_jumps if shared else self.jumps
        slot = _jump_slot(jumps, pc)
        return jumps[slot] == pc and jumps[slot + 1] == address

    def uses_own_jump(self, pc: int) -> bool:
        """Whether native code entering ``pc`` now takes the regime's own entry (it is probed
        before the global pages' table)."""
        return self.jumps[_jump_slot(self.jumps, pc)] == pc

    def select_jumps(self, regime: Hashable, shared: Hashable) -> None:
        """Make ``regime``'s jump table current, and the table of global pages ``shared`` (new,
        empty ones the first time)."""
        spare = self._spare_jumps
        table = recently_used(self.jump_tables, regime, spare.take, JUMP_TABLES_KEPT, spare.give)
        self.jumps = table
        self.context[JUMPS] = ctypes.addressof(table)
        self.global_key = shared
        self.global_jumps = self.global_tables.setdefault(shared, self.unwritten_globals)
        self.context[GLOBAL_JUMPS] = ctypes.addressof(self.global_jumps)

    def drop_jump(self, key: Hashable, pc: int) -> None:
        """Forget guest ``pc`` in the jump table of regime ``key`` (``select_jumps``'s ``regime``
        or ``shared``), if that table is kept and holds it (``jumps_dropped`` is set either way: the
        entered lists held it)."""
        self.jumps_dropped = True
        table = self.jump_tables.get(key)
        if table is None:
            table = self.global_tables.get(key)
            if table is None:
                return
        slot = _jump_slot(table, pc)
        if table[slot] == pc:
            table[slot] = EMPTY

    def flush_jumps(self, regimes: Callable[[Hashable], bool] | None = None) -> None:
        """Empty every jump table, or only the tables of the regimes ``regimes`` accepts (then
        the global pages' tables stay)."""
        self.jumps_dropped = True
        for regime, table in self.jump_tables.items():
            if regimes is None or regimes(regime):
                empty(table)
        if regimes is None:
            for key in self.filled_globals:
                if key in self.global_tables:
                    empty(self.global_tables[key])
            self.filled_globals.clear()
