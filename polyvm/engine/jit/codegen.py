"""IR blocks as LLVM IR text: one function per block, chained natively, and the dispatch entry.

Every block becomes ``i64 block(ptr regs, ptr ram, ptr ctx, i64 icount, i64 blocks)`` returning the
pc to continue at: ``regs`` is the hart's slot array, ``ram`` the host address of guest RAM, ``ctx``
the context block (layout in context.py), ``icount`` and ``blocks`` the ICOUNT and BLOCKS words
kept in registers while blocks chain (BLOCKS already counts this block). Semantics match pycodegen
bit for bit: 64-bit wrap, 0/1 comparisons, RISC-V division by zero and overflow, shifts by 64 or
more. (Text, not llvmlite.ir objects: building and printing those cost about 3 ms per block, more
than LLVM's fast code generator.)

Guest slots live in SSA values inside the block and are stored back at its end. Loads and stores
take an inline fast path through the direct-mapped TLBs in the context block. What the native
code does not do itself leaves it through a *side exit*:

* a load or store that misses the TLB or is misaligned (size > 1) first calls the context's
  MEMORY_CALL (``memory_front``, then jit.py ``memory_call``: the Python slow path, device
  registers included) and goes
  on; only when that fails (a fault) does it leave -> ``Exit.MEMORY`` with the guest address; so
  do atomics (AMO, LR, SC) on a miss, and every access of a region function (see ``access``);
* a CALL of a helper -> ``Exit.HELPER``, except CSR accesses and sfence.vma, which call back into
  Python (``CALLED_HELPERS``, ``helper_call``), and the AMO, LR and SC helpers (``INLINE_HELPERS``):
  an AMO runs inline as one ``atomicrmw`` on a write-TLB hit, LR on a read-TLB hit and SC on a
  write-TLB hit with the reservation in the context block; they take the memory side exit otherwise.
  Accesses to the status and trap CSRs (native_csrs.py) run inline too unless they need Python.

Exit protocol (the precise boundary): a side exit stores the slots as they were at the start of
the guest instruction it belongs to (the first INSN marker of a fused pair), writes REASON, INDEX
(that instruction's index in the block), PC, ADDR, BLOCK (the block's start pc) and REGION (the
start pc of the function's own block, see below), stores ICOUNT (with INDEX added) and BLOCKS and
returns PC. Nothing of that instruction has happened yet (an
instruction does at most one memory access and nothing observable precedes its CALLs), so Python
resumes by running the rest of the block, from INDEX, in the interpreter tier (resume.py). Native
code is never entered mid-block.

Chaining (direct threading): a block that ends normally adds its instruction count to ``icount``
and, unless ICOUNT reached LIMIT or ``blocks`` is 0 (then REASON = ``Exit.BUDGET``), looks its
successor up in the current jump tables (word JUMPS, then GLOBAL_JUMPS) and enters it with a
``musttail`` call, one indirect jump per block exit (a branch has one per target), so the host
predicts each exit on its own instead of all blocks sharing the dispatch loop's one call site
(tests/jit/test_jit_dispatch.py and benchmarks/run.py --mode jit measure it). A miss in both
tables stores REASON = ``Exit.LOOKUP``. Every way out stores ICOUNT and BLOCKS, so the slice stops
where the interpreter's would.

Regions: a block's function may inline *member* blocks (``block_function``'s ``members``, blocks of
the same page its branches reach, chosen by the caller) and runs a branch back to its own start as
a native loop, slots and counters in registers; each inlined block still counts as one block and
checks the budget before it starts. A side exit inside a member names the member in BLOCK and the
function's own block in REGION; whoever installs a region drops it with any of its members.

Functions are ``nounwind``: without unwind tables an object is one code section, and MCJIT's
mappings of consecutive objects merge, where code plus .eh_frame per block ran a Linux boot in JIT
mode into the kernel's limit of 65,530 mappings per process ("Unable to allocate section memory").

An EXIT terminator stores REASON = ``Exit.EXIT_CHECK`` after the normal block end so the caller
runs the exit check.
"""

from __future__ import annotations

from collections.abc import Sequence

from polyvm.arch.riscv64 import csr as C
from polyvm.arch.riscv64.hart import GLOBAL_ENABLES
from polyvm.device.coalesced import CAPACITY, CLOSED, FIELD_WORDS
from polyvm.engine.jit.context import (
    ADDR,
    BLOCK,
    BLOCKS,
    CALL_VALUE,
    FLIPPED_TLBS,
    GLOBAL_JUMP_ENTRIES,
    GLOBAL_JUMPS,
    GLOBAL_TLBS,
    HELPER_CALL,
    ICOUNT,
    INDEX,
    JUMP_ENTRIES,
    JUMPS,
    LIMIT,
    MEMORY_CALL,
    MEMORY_CALLBACK,
    PC,
    PORT,
    PORT_PAGE,
    PORT_TLBS,
    READ_TLB,
    REASON,
    REGION,
    RESERVATION,
    TLB_CALL,
    TLB_ENTRIES,
    TLBS,
    WRITE_TLB,
    Exit,
)
from polyvm.engine.jit.native_csrs import (
    NATIVE_CSRS,
    POSSIBLE_INTERRUPTS,
    PRIV,
    NativeCsr,
    cell,
    native_access,
)
from polyvm.ir.block import IRBlock, Op, Stmt, Temp

M64 = (1 << 64) - 1
MSTATUS = cell("mstatus")
MIN64 = 1 << 63
SIMPLE = {Op.ADD: "add", Op.SUB: "sub", Op.MUL: "mul", Op.AND: "and", Op.OR: "or", Op.XOR: "xor"}
COMPARES = {Op.EQ: "eq", Op.NE: "ne", Op.LTU: "ult", Op.GEU: "uge", Op.LT: "slt", Op.GE: "sge"}
MUL_HIGH = {Op.MULH: ("sext", "sext"), Op.MULHU: ("zext", "zext"), Op.MULHSU: ("sext", "zext")}
SHIFTS = {Op.SHL: "shl", Op.SHR: "lshr", Op.SAR: "ashr"}
AMO_RMW = {"amoswap": "xchg", "amoadd": "add", "amoxor": "xor", "amoand": "and", "amoor": "or",
           "amomin": "min", "amomax": "max", "amominu": "umin", "amomaxu": "umax"}
"""The LLVM ``atomicrmw`` operation of each RISC-V AMO (hart.AMO_OPS): at the access width it
stores op(old, value) and returns old, as hart.amo does; min/max compare signed, the u forms not.
One instruction does load, operation and store; ``monotonic``, the weakest ordering, is enough: the
harts of a machine take turns (riscv_machine), so the aq/rl bits have nothing to order."""
AMO_HELPERS = {f"{kind}_{size}": (rmw, size) for kind, rmw in AMO_RMW.items() for size in (4, 8)}
"""Helper name (translate.py ``atomic``: kind_size) -> (atomicrmw operation, access size)."""
EMPTY_RESERVATION = -1
"""context.EMPTY as LLVM spells it: no reservation."""
INLINE_HELPERS = {**dict.fromkeys(AMO_HELPERS, "amo"), "lr": "load_reserved", "sc": "store_conditional"}
"""Helpers native code does itself on a TLB hit -> the _BlockCodegen method that emits them."""
LIKELY = "!0"
METADATA = f'{LIKELY} = !{{!"branch_weights", i32 1000, i32 1}}'
ARGS = "ptr noalias %regs, ptr noalias %ram, ptr noalias %ctx"
COUNTERS = "i64 %icount, i64 %blocks"
CALLED_HELPERS = {"csr": 0, "sfence_vma": 1}
"""Helpers native code has Python do through HELPER_CALL, by the kind number ``helper_call`` passes
(jit.py ``helper_call``): a side exit and a Python tail cost ~8 us more each, for ~9,000 CSR accesses
and sfence.vma a warm Linux boot does in native code (benchmarks/boot.py)."""
PYTHON_CSRS = frozenset({C.FFLAGS, C.FRM, C.FCSR, C.SATP, *range(C.PMPCFG0, C.PMPADDR63 + 1)})
"""CSRs whose accesses still take the helper side exit: the FP ones (native code keeps their slots
in registers) and those whose writes flush translations and jump tables (satp, PMP)."""
STORE_CALL = 16
"""Set in MEMORY_CALL's ``op`` argument (the access size otherwise) for a store."""
REGION_COPIES = 6
"""Copies of member blocks one region function may inline (its code grows with each)."""

Value = int | str
"""A Python int (a constant) or the name of an SSA value."""


def lit(value: Value) -> str:
    """An operand: SSA names as they are, ints in LLVM's signed spelling."""
    if isinstance(value, str):
        return value
    value &= M64
    return str(value - (1 << 64) if value >> 63 else value)


class _BlockCodegen:
    """Emits one block's function: the block alone, or a region (see ``region``)."""

    def __init__(self, block: IRBlock, members: dict[int, IRBlock]) -> None:
        self.head = block
        self.members = members
        self.block = block
        """The block whose statements are being emitted (a region emits several)."""
        self.lines: list[str] = []
        self.count = 0
        self.temps: dict[Temp, Value] = {}
        self.slots: dict[int, Value] = {}
        self.dirty: dict[int, Value] = {}
        self.resume: tuple[int, int, dict[int, Value]] = (block.start_pc, 0, {})
        """(pc, index, dirty slots) at the last precise instruction boundary."""
        self.icount = "%icount"
        self.blocks = "%blocks"
        """The counters at the start of the block being emitted (SSA names)."""
        self.copies = 0
        self.loops = False
        """Whether this is a region function (``region``): loads and stores leave on a miss."""
        self.latches: list[tuple[str, str, str, dict[int, Value]]] = []
        """Back edges to the region's head: (label, icount, blocks, slots)."""

    # --- output --------------------------------------------------------------------------------

    def new(self, text: str) -> str:
        self.count += 1
        name = f"%v{self.count}"
        self.lines.append(f"  {name} = {text}")
        return name

    def put(self, text: str) -> None:
        self.lines.append(f"  {text}")

    def label(self, stem: str) -> str:
        self.count += 1
        return f"{stem}{self.count}"

    def word(self, index: int) -> str:
        return self.new(f"getelementptr i64, ptr %ctx, i64 {index}")

    def set_word(self, index: int, value: Value) -> None:
        self.put(f"store i64 {lit(value)}, ptr {self.word(index)}, align 8")

    def load_word(self, index: int) -> str:
        return self.new(f"load i64, ptr {self.word(index)}, align 8")

    # --- guest state ---------------------------------------------------------------------------

    def val(self, arg: Temp | int) -> Value:
        return arg if isinstance(arg, int) else self.temps[arg]

    def get(self, slot: int) -> Value:
        if slot not in self.slots:
            ptr = self.new(f"getelementptr i64, ptr %regs, i64 {slot}")
            self.slots[slot] = self.new(f"load i64, ptr {ptr}, align 8")
        return self.slots[slot]

    def store_slots(self, slots: dict[int, Value]) -> None:
        for slot, value in sorted(slots.items()):
            ptr = self.new(f"getelementptr i64, ptr %regs, i64 {slot}")
            self.put(f"store i64 {lit(value)}, ptr {ptr}, align 8")

    def stop(self, icount: Value, reason: Exit | None, pc: Value) -> None:
        """Store the counters (and ``reason``) and return ``pc`` to whoever entered the chain."""
        self.set_word(ICOUNT, icount)
        self.set_word(BLOCKS, self.blocks)
        if reason is not None:
            self.set_word(REASON, int(reason))
        self.put(f"ret i64 {lit(pc)}")

    def chain(self, icount: str, target: Value) -> None:
        """Enter ``target``'s block (musttail) unless the budget is spent or the jump table misses."""
        over = self.new(f"icmp uge i64 {icount}, {self.load_word(LIMIT)}")
        spent = self.new(f"or i1 {over}, {self.new(f'icmp eq i64 {self.blocks}, 0')}")
        done, look = self.label("spent"), self.label("look")
        self.put(f"br i1 {spent}, label %{done}, label %{look}")
        self.lines.append(f"{done}:")
        self.stop(icount, Exit.BUDGET, target)
        self.lines.append(f"{look}:")
        t = lit(target)
        half = self.new(f"lshr i64 {t}, 1")
        go, shared, miss = self.label("go"), self.label("global"), self.label("miss")
        own, glob = self.label("own_probe"), self.label("global_probe")
        self.lines.append(_probe_text(own, JUMPS, JUMP_ENTRIES, half, t, go, shared))
        self.lines.append(f"{shared}:")
        self.lines.append(_probe_text(glob, GLOBAL_JUMPS, GLOBAL_JUMP_ENTRIES, half, t, go, miss))
        self.lines.append(f"{miss}:")
        self.stop(icount, Exit.LOOKUP, target)
        self.lines.append(f"{go}:")
        item = self.new(f"phi ptr [%{own}_item, %{look}], [%{glob}_item, %{shared}]")
        code_ptr = self.new(f"getelementptr i64, ptr {item}, i64 1")
        code = self.new(f"inttoptr i64 {self.new(f'load i64, ptr {code_ptr}, align 8')} to ptr")
        left = self.new(f"sub i64 {self.blocks}, 1")
        result = self.new(f"musttail call i64 {code}({ARGS}, i64 {icount}, i64 {left})")
        self.put(f"ret i64 {result}")

    def side_exit(self, ok: str | None, reason: Exit, addr: Value) -> str | None:
        """Leave at the last instruction boundary unless ``ok`` (always leave if ``ok`` is None);
        the label the code goes on at (None if it always leaves)."""
        cont = None
        if ok is not None:
            out, cont = self.label("exit"), self.label("ok")
            self.put(f"br i1 {ok}, label %{cont}, label %{out}, !prof {LIKELY}")
            self.lines.append(f"{out}:")
        pc, index, slots = self.resume
        for word, value in ((INDEX, index), (PC, pc), (ADDR, addr), (BLOCK, self.block.start_pc),
                            (REGION, self.head.start_pc)):
            self.set_word(word, value)
        self.store_slots(slots)
        self.stop(self.new(f"add i64 {self.icount}, {index}") if index else self.icount, reason, pc)
        if cont is not None:
            self.lines.append(f"{cont}:")
        return cont

    # --- statements ----------------------------------------------------------------------------

    def emit(self, name: str) -> str:
        if not self.members and not self.self_loop():
            self.lines.append(f"define i64 @{name}({ARGS}, {COUNTERS}) nounwind {{")
            self.lines.append("entry:")
            self.body()
        else:
            self.lines.append(f"define i64 @{name}({ARGS}, i64 %icount0, i64 %blocks0) nounwind {{")
            self.lines.append("entry:")
            self.region()
        self.lines.append("}")
        return "\n".join(self.lines)

    def self_loop(self) -> bool:
        term = self.block.stmts[-1]
        return term.op is Op.BRANCH and self.block.start_pc in term.args[1:]

    def region(self) -> None:
        """The head block with its members inlined where it branches to them (a tree of copies,
        at most REGION_COPIES), and branches back to the head as a native loop: the slots the
        region touches and the counters are phis at ``head``, so they stay in host registers
        across passes. Every block still counts as one and checks the budget before it starts,
        as when it was chained (benchmarks/run.py: cpu_mix's hot loops are one or two blocks)."""
        self.loops = True
        stmts = [stmt for block in (self.head, *self.members.values()) for stmt in block.stmts]
        touched = sorted({s.aux for s in stmts if s.op in (Op.GET, Op.SET)})
        written = {s.aux for s in stmts if s.op is Op.SET}
        initial = {slot: self.get(slot) for slot in touched}
        self.put("br label %head")
        self.lines.append("head:")
        phis = len(self.lines)
        self.slots = {slot: f"%s{slot}" for slot in touched}
        self.dirty = {slot: f"%s{slot}" for slot in touched if slot in written}
        self.resume = (self.head.start_pc, 0, dict(self.dirty))
        self.body()

        def phi(name: str, first: Value, values: list[Value]) -> str:
            pairs = zip(values, self.latches, strict=True)
            edges = "".join(f", [ {lit(v)}, %{latch[0]} ]" for v, latch in pairs)
            return f"  {name} = phi i64 [ {lit(first)}, %entry ]{edges}"

        back = [phi("%icount", "%icount0", [latch[1] for latch in self.latches]),
                phi("%blocks", "%blocks0", [latch[2] for latch in self.latches])]
        back += [phi(f"%s{slot}", initial[slot], [latch[3][slot] for latch in self.latches])
                 for slot in touched]
        self.lines[phis:phis] = back

    def body(self) -> None:
        previous = None
        self.checked_exit = True
        for stmt in self.block.stmts:
            op = stmt.op
            if op is Op.INSN:
                if previous is not Op.INSN:
                    pc, index = stmt.aux
                    self.resume = (pc, index, dict(self.dirty))
            elif op is Op.GET:
                self.temps[stmt.dst] = self.get(stmt.aux)
            elif op is Op.SET:
                self.slots[stmt.aux] = self.dirty[stmt.aux] = self.val(stmt.args[0])
            elif op is Op.LOAD:
                self.load(stmt)
            elif op is Op.STORE:
                self.store(stmt)
            elif op is Op.CALL and stmt.aux in INLINE_HELPERS:
                getattr(self, INLINE_HELPERS[stmt.aux])(stmt)
            elif op is Op.CALL and stmt.aux == "csr" and native_access(stmt.args[0], stmt.args[1]):
                self.csr(stmt, NATIVE_CSRS[stmt.args[1]])
            elif op is Op.CALL and stmt.aux in CALLED_HELPERS and _called(stmt):
                self.helper_call(stmt)
            elif op is Op.CALL:
                self.side_exit(None, Exit.HELPER, 0)
                return
            elif op in (Op.JUMP, Op.BRANCH, Op.EXIT):
                self.terminate(stmt)
            else:
                self.temps[stmt.dst] = self.pure(stmt)
            previous = op

    def terminate(self, stmt: Stmt) -> None:
        icount = self.new(f"add i64 {self.icount}, {self.block.insn_count}")
        if stmt.op is Op.EXIT and self.checked_exit is True:
            self.store_slots(self.dirty)
            self.stop(icount, Exit.EXIT_CHECK, self.val(stmt.args[0]))
        elif stmt.op is Op.EXIT and self.checked_exit:
            pending = self.new(f"icmp eq i64 {self.checked_exit}, 2")
            check, go = self.label("check"), self.label("go")
            self.put(f"br i1 {pending}, label %{check}, label %{go}")
            slots, dirty = dict(self.slots), dict(self.dirty)
            self.lines.append(f"{check}:")
            self.store_slots(self.dirty)
            self.stop(icount, Exit.EXIT_CHECK, self.val(stmt.args[0]))
            self.lines.append(f"{go}:")
            self.slots, self.dirty = slots, dirty
            self.edge(icount, self.val(stmt.args[0]))
        elif stmt.op in (Op.JUMP, Op.EXIT):
            self.edge(icount, self.val(stmt.args[0]))
        else:
            cond = self.new(f"icmp ne i64 {lit(self.val(stmt.args[0]))}, 0")
            taken, fall = self.label("taken"), self.label("fall")
            self.put(f"br i1 {cond}, label %{taken}, label %{fall}")
            slots, dirty = dict(self.slots), dict(self.dirty)
            for label, target in ((taken, stmt.args[1]), (fall, stmt.args[2])):
                self.lines.append(f"{label}:")
                self.slots, self.dirty = dict(slots), dict(dirty)
                self.edge(icount, self.val(target))

    def edge(self, icount: str, target: Value) -> None:
        """Continue at ``target`` with ``icount`` retired: back to the region's head, into a copy
        of a member, or out through the jump table."""
        back = target == self.head.start_pc and (self.members or self.self_loop())
        inline = target in self.members and self.copies < REGION_COPIES
        if not back and not inline:
            self.store_slots(self.dirty)
            self.chain(icount, target)
            return
        over = self.new(f"icmp uge i64 {icount}, {self.load_word(LIMIT)}")
        spent = self.new(f"or i1 {over}, {self.new(f'icmp eq i64 {self.blocks}, 0')}")
        done, go = self.label("spent"), self.label("next")
        self.put(f"br i1 {spent}, label %{done}, label %{go}")
        self.lines.append(f"{done}:")
        self.store_slots(self.dirty)
        self.stop(icount, Exit.BUDGET, target)
        self.lines.append(f"{go}:")
        left = self.new(f"sub i64 {self.blocks}, 1")
        if back:
            self.latches.append((go, icount, left, dict(self.slots)))
            self.put("br label %head")
            return
        self.copies += 1
        saved = (self.block, self.icount, self.blocks, self.temps, self.resume)
        self.block, self.icount, self.blocks, self.temps = self.members[target], icount, left, {}
        self.resume = (target, 0, dict(self.dirty))
        self.body()
        self.block, self.icount, self.blocks, self.temps, self.resume = saved

    def tlb_entry(self, addr: Value, size: int, tlb: int, word: int = TLBS) -> tuple[str, str]:
        """(hit, TLB entry pointer) of a ``size``-byte access at ``addr`` in the TLBs at context
        ``word`` (the regime's, or GLOBAL_TLBS): hit when the entry's tag is ``addr``'s page and
        the access is aligned."""
        a = lit(addr)
        vpn = self.new(f"lshr i64 {a}, 12")
        slot = self.new(f"shl i64 {self.new(f'and i64 {vpn}, {TLB_ENTRIES - 1}')}, 1")
        tlbs = self.new(f"inttoptr i64 {self.load_word(word)} to ptr")
        entry = self.new(f"getelementptr i64, ptr {tlbs}, i64 {self.new(f'add i64 {slot}, {tlb}')}")
        ok = self.new(f"icmp eq i64 {self.new(f'load i64, ptr {entry}, align 8')}, {vpn}")
        if size > 1:
            aligned = self.new(f"icmp eq i64 {self.new(f'and i64 {a}, {size - 1}')}, 0")
            ok = self.new(f"and i1 {ok}, {aligned}")
        return ok, entry

    def ram_pointer(self, addr: Value, entry: str) -> str:
        """The host address of ``addr`` through its (hit) TLB ``entry``."""
        delta = self.new(f"load i64, ptr {self.new(f'getelementptr i64, ptr {entry}, i64 1')}, align 8")
        return self.new(f"getelementptr i8, ptr %ram, i64 {self.new(f'add i64 {lit(addr)}, {delta}')}")

    def host_pointer(self, addr: Value, size: int, tlb: int) -> str:
        """The host address of a ``size``-byte access at ``addr``: through the TLB, else through
        the RAM delta TLB_CALL gives once it put the page in the TLB, else (it refused) the memory
        side exit. The call is declared to touch only the TLB entry it is given (and memory native
        code cannot see), so LLVM still hoists context loads out of loops (the context pointer is
        ``noalias``) but loads the entry again after the call: a polling loop whose address missed
        at its first turn called back at every turn while the tag loaded before the loop was kept
        (tests/jit/test_tlb_call.py); it reads guest RAM (a page walk reads the page tables), so
        native code stores to RAM what it wrote before it. What it writes besides, other TLB entries,
        only adds translations; what it reads that native code may have changed, mstatus (SUM), it
        gets as an argument."""
        ok, entry = self.tlb_entry(addr, size, tlb)
        hit, miss, joined = self.label("hit"), self.label("miss"), self.label("joined")
        self.put(f"br i1 {ok}, label %{hit}, label %{miss}, !prof {LIKELY}")
        self.lines.append(f"{miss}:")
        call = self.new(f"inttoptr i64 {self.load_word(TLB_CALL)} to ptr")
        op = size | (STORE_CALL if tlb == WRITE_TLB else 0)
        status = self.load_word(MSTATUS)
        delta = self.new(f"call i64 {call}(i64 {lit(addr)}, i64 {op}, i64 {status}, ptr {entry}, "
                         "ptr readonly %ram) memory(argmem: readwrite, inaccessiblemem: readwrite) nounwind")
        aligned = self.new(f"icmp eq i64 {self.new(f'and i64 {delta}, 4095')}, 0")
        came_from = self.side_exit(aligned, Exit.MEMORY, addr)
        called = self.new(f"getelementptr i8, ptr %ram, i64 {self.new(f'add i64 {lit(addr)}, {delta}')}")
        self.put(f"br label %{joined}")
        self.lines.append(f"{hit}:")
        found = self.ram_pointer(addr, entry)
        self.put(f"br label %{joined}")
        self.lines.append(f"{joined}:")
        return self.new(f"phi ptr [ {found}, %{hit} ], [ {called}, %{came_from} ]")

    def access(self, addr: Value, size: int, value: Value | None = None) -> str | None:
        """A load (``value`` None; returns the i{8*size} it read) or a store of ``value``: through
        the TLB, else through the context's MEMORY_CALL, else (it failed) the memory side exit.
        The call gets ``%ctx`` and ``%ram``, so LLVM assumes it reads and writes both (the Python
        side does: device writes into RAM, the reservation word, CALL_VALUE).

        A miss in the regime's TLB probes the global pages' one (GLOBAL_TLBS, context.py) before
        the call, off the hit path (with the probe before the branch, unoptimised code ran cpu_mix
        ~10% slower; benchmarks/run.py --mode jit), and a hit there is copied into the regime's TLB:
        loops and atomics probe only that one, and without the copy a warm Linux boot left native
        code ~8,000 more times for kernel pages the global TLB had (benchmarks/boot.py).

        Region functions (loops) only have TLB_CALL put the page in the TLB (``host_pointer``): a
        MEMORY_CALL in a loop, even on its cold path, keeps LLVM from hoisting the context and TLB
        loads out of it (benchmarks/run.py --mode jit: cpu_mix 0.57 -> 0.45 of QEMU's speed with
        calls in its loops)."""
        tlb = WRITE_TLB if value is not None else READ_TLB
        if self.loops:
            return self.direct(self.host_pointer(addr, size, tlb), size, value)
        bits = 8 * size
        ok, entry = self.tlb_entry(addr, size, tlb)
        fast, probe, shared, slow, joined = map(self.label, ("fast", "probe", "shared", "slow", "joined"))
        self.put(f"br i1 {ok}, label %{fast}, label %{probe}, !prof {LIKELY}")
        self.lines.append(f"{probe}:")
        shared_ok, shared_entry = self.tlb_entry(addr, size, tlb, GLOBAL_TLBS)
        self.put(f"br i1 {shared_ok}, label %{shared}, label %{slow}, !prof {LIKELY}")
        self.lines.append(f"{shared}:")
        shared_delta = self.new(f"getelementptr i64, ptr {shared_entry}, i64 1")
        delta = self.new(f"load i64, ptr {shared_delta}, align 8")
        self.put(f"store i64 {self.new(f'lshr i64 {lit(addr)}, 12')}, ptr {entry}, align 8")
        self.put(f"store i64 {delta}, ptr {self.new(f'getelementptr i64, ptr {entry}, i64 1')}, align 8")
        host = self.new(f"getelementptr i8, ptr %ram, i64 {self.new(f'add i64 {lit(addr)}, {delta}')}")
        shared_read = self.direct(host, size, value)
        self.put(f"br label %{joined}")
        self.lines.append(f"{slow}:")
        call = self.new(f"inttoptr i64 {self.load_word(MEMORY_CALL)} to ptr")
        op = size | (STORE_CALL if value is not None else 0)
        status = self.new(f"call i64 {call}(ptr %ctx, ptr %ram, i64 {lit(addr)}, i64 {op}, "
                          f"i64 {lit(value if value is not None else 0)}, i64 {lit(self.icount)})")
        came_from = self.side_exit(self.new(f"icmp eq i64 {status}, 0"), Exit.MEMORY, addr)
        called = None
        if value is None:
            called = self.load_word(CALL_VALUE)
            if size < 8:
                called = self.new(f"trunc i64 {called} to i{bits}")
        self.put(f"br label %{joined}")
        self.lines.append(f"{fast}:")
        read = self.direct(self.ram_pointer(addr, entry), size, value)
        self.put(f"br label %{joined}")
        self.lines.append(f"{joined}:")
        if value is None:
            return self.new(f"phi i{bits} [ {read}, %{fast} ], [ {shared_read}, %{shared} ], "
                            f"[ {called}, %{came_from} ]")
        return None

    def direct(self, ptr: str, size: int, value: Value | None) -> str | None:
        """Load the i{8*size} at host pointer ``ptr`` (``value`` None; returns it), or store
        ``value`` there."""
        bits = 8 * size
        if value is None:
            return self.new(f"load i{bits}, ptr {ptr}, align {size}")
        stored = lit(value) if size == 8 else self.new(f"trunc i64 {lit(value)} to i{bits}")
        self.put(f"store i{bits} {stored}, ptr {ptr}, align {size}")
        return None

    def load(self, stmt: Stmt) -> None:
        size, signed = stmt.aux
        value = self.access(self.val(stmt.args[0]), size)
        if size < 8:
            value = self.new(f"{'sext' if signed else 'zext'} i{8 * size} {value} to i64")
        self.temps[stmt.dst] = value

    def store(self, stmt: Stmt) -> None:
        self.access(self.val(stmt.args[0]), stmt.aux, self.val(stmt.args[1]))

    def amo(self, stmt: Stmt) -> None:
        """``CALL amoX_size(addr, value, pc, index)`` inline: hart.amo's result, the old value
        (sign-extended from 32 bits for size 4), with op(old, value) stored in its place.

        Exact because of what a write-TLB hit means: the page is writable RAM (never a code,
        watched or MMIO page) whose store translation already succeeded, so hart.amo would
        translate, read and write just these bytes with no other effect. A miss has TLB_CALL try
        to put the page there (``host_pointer``); a misaligned address or a refused call takes the
        memory side exit, and the Python tail runs hart.amo, which traps or does the access."""
        operation, size = AMO_HELPERS[stmt.aux]
        addr, value = (self.val(arg) for arg in stmt.args[:2])
        ptr = self.host_pointer(addr, size, WRITE_TLB)
        bits = 8 * size
        operand = lit(value) if size == 8 else self.new(f"trunc i64 {lit(value)} to i{bits}")
        old = self.new(f"atomicrmw {operation} ptr {ptr}, i{bits} {operand} monotonic, align {size}")
        self.temps[stmt.dst] = old if size == 8 else self.new(f"sext i{bits} {old} to i64")

    def load_reserved(self, stmt: Stmt) -> None:
        """``CALL lr(addr, size, pc, index)`` inline on a read-TLB hit: hart.lr's value, and the
        reservation (the context's RESERVATION word, which the hart's SoftMmu shares) on the
        access's RAM offset."""
        size = stmt.args[1]
        ptr = self.host_pointer(self.val(stmt.args[0]), size, READ_TLB)
        value = self.new(f"load i{8 * size}, ptr {ptr}, align {size}")
        self.set_word(RESERVATION, self.ram_offset(ptr))
        self.temps[stmt.dst] = value if size == 8 else self.new(f"sext i{8 * size} {value} to i64")

    def store_conditional(self, stmt: Stmt) -> None:
        """``CALL sc(addr, value, size, pc, index)`` inline on a write-TLB hit: store iff the
        reservation is on this address, end the reservation, result 0 if stored else 1 (hart.sc).
        Branch-free: a failed SC stores the old value back, which nothing can observe (a write-TLB
        page is plain RAM, and the harts take turns)."""
        size = stmt.args[2]
        bits = 8 * size
        ptr = self.host_pointer(self.val(stmt.args[0]), size, WRITE_TLB)
        held = self.new(f"icmp eq i64 {self.load_word(RESERVATION)}, {self.ram_offset(ptr)}")
        self.set_word(RESERVATION, EMPTY_RESERVATION)
        value = lit(self.val(stmt.args[1]))
        if size < 8:
            value = self.new(f"trunc i64 {value} to i{bits}")
        old = self.new(f"load i{bits}, ptr {ptr}, align {size}")
        self.put(f"store i{bits} {self.new(f'select i1 {held}, i{bits} {value}, i{bits} {old}')}, "
                 f"ptr {ptr}, align {size}")
        self.temps[stmt.dst] = self.new(f"select i1 {held}, i64 0, i64 1")

    def csr(self, stmt: Stmt, csr: NativeCsr) -> None:
        """``CALL csr(mode, number, source, pc, index)`` inline (native_csrs.py): hart.csr_op's
        result, and its write when that only changes interrupt enables (setting one only while no
        interrupt is possible) and SUM (if the context block has the flipped regime's TLBs: they
        become current, context.py) or sets a trap CSR; the helper side exit otherwise. The
        block's EXIT after it then needs no exit check."""
        mode = stmt.args[0]
        permitted = self.new(f"icmp uge i64 {self.load_word(PRIV)}, {csr.level}")
        old = self.load_word(csr.word)
        value = old if csr.view is None else self.status_view(old, csr.view)
        self.temps[stmt.dst] = value
        self.checked_exit = False
        if not mode & 4:
            self.side_exit(permitted, Exit.HELPER, 0)
            return
        source = lit(self.val(stmt.args[2]))
        if mode & 3 == 0:
            new = source
        elif mode & 3 == 1:
            new = self.new(f"or i64 {value}, {source}")
        else:
            new = self.new(f"and i64 {value}, {self.new(f'xor i64 {source}, -1')}")
        if csr.view is None:
            self.side_exit(permitted, Exit.HELPER, 0)
            self.set_word(csr.word, self.new(f"and i64 {new}, {lit(csr.writable)}"))
            return
        enables = csr.writable & GLOBAL_ENABLES
        free = enables | C.SUM
        changed = self.new(f"xor i64 {old}, {new}")
        others = self.new(f"and i64 {changed}, {lit(csr.writable & ~free)}")
        raised = self.new(f"and i64 {self.new(f'and i64 {changed}, {new}')}, {enables}")
        possible = self.new(f"select i1 {self.new(f'icmp eq i64 {raised}, 0')}, i64 0, "
                            f"i64 {self.load_word(POSSIBLE_INTERRUPTS)}")
        flips = self.new(f"icmp ne i64 {self.new(f'and i64 {changed}, {C.SUM}')}, 0")
        flipped = self.load_word(FLIPPED_TLBS)
        stuck = self.new(f"and i1 {flips}, {self.new(f'icmp eq i64 {flipped}, 0')}")
        quiet = self.new(f"icmp eq i64 {self.new(f'or i64 {others}, {possible}')}, 0")
        stays = self.new(f"and i1 {quiet}, {self.new(f'xor i1 {stuck}, true')}")
        self.side_exit(self.new(f"and i1 {permitted}, {stays}"), Exit.HELPER, 0)
        kept = self.new(f"and i64 {old}, {lit(~free)}")
        self.set_word(csr.word, self.new(f"or i64 {kept}, {self.new(f'and i64 {new}, {free}')}"))
        current = self.load_word(TLBS)
        self.set_word(TLBS, self.new(f"select i1 {flips}, i64 {flipped}, i64 {current}"))
        self.set_word(FLIPPED_TLBS, self.new(f"select i1 {flips}, i64 {current}, i64 {flipped}"))

    def helper_call(self, stmt: Stmt) -> None:
        """A CALLED_HELPERS helper through the context's HELPER_CALL (jit.py ``helper_call``,
        which gives the hart the instret a Python tail would): ``csr(mode, number, source, pc,
        index)`` (its result in CALL_VALUE) or ``sfence_vma(vaddr, asid, rs1, rs2, pc, index)``;
        the helper side exit when it was refused (the tail traps). The block's EXIT after it runs
        the exit check only if the call said so (status 2: the hart has an exit pending, or the
        call dropped jump-table entries, when what runs next must be looked up anew: jit.py
        ``helper_call``). Most of a Linux boot's ~4,000 sfence.vma drop none and go on natively
        (each stop is a return to Python; benchmarks/boot.py)."""
        args = stmt.args
        if stmt.aux == "csr":
            mode, number, source, pc, index = args
            op, x, y = CALLED_HELPERS["csr"] | number << 8 | mode << 20, 0, self.val(source)
        else:
            vaddr, asid, rs1, rs2, pc, index = args
            op = CALLED_HELPERS["sfence_vma"] | bool(rs1) << 8 | bool(rs2) << 9
            x, y = self.val(vaddr), self.val(asid)
        call = self.new(f"inttoptr i64 {self.load_word(HELPER_CALL)} to ptr")
        status = self.new(f"call i64 {call}(ptr %ctx, i64 {op | index << 32}, i64 {lit(x)}, i64 {lit(y)}, "
                          f"i64 {lit(pc)}, i64 {lit(self.icount)})")
        self.side_exit(self.new(f"icmp ne i64 {status}, 1"), Exit.HELPER, 0)
        if stmt.dst is not None:
            self.temps[stmt.dst] = self.load_word(CALL_VALUE)
        self.checked_exit = status

    def status_view(self, status: str, view: int) -> str:
        """hart._mstatus_value (SD set when FS or XS is all ones) masked by ``view``."""
        dirty = [self.new(f"icmp eq i64 {self.new(f'and i64 {status}, {mask}')}, {mask}")
                 for mask in (C.FS_MASK, C.XS_MASK)]
        any_dirty = self.new(f"or i1 {dirty[0]}, {dirty[1]}")
        sd = self.new(f"select i1 {any_dirty}, i64 {lit(C.SD)}, i64 0")
        return self.new(f"and i64 {self.new(f'or i64 {status}, {sd}')}, {lit(view)}")

    def ram_offset(self, ptr: str) -> str:
        """The guest-RAM offset of host pointer ``ptr``."""
        host = self.new(f"ptrtoint ptr {ptr} to i64")
        return self.new(f"sub i64 {host}, {self.new('ptrtoint ptr %ram to i64')}")

    def pure(self, stmt: Stmt) -> Value:
        op = stmt.op
        args = [self.val(a) for a in stmt.args]
        a = lit(args[0])
        if op is Op.MOV:
            return args[0]
        if op in SIMPLE:
            return self.new(f"{SIMPLE[op]} i64 {a}, {lit(args[1])}")
        if op in COMPARES:
            return self.new(f"zext i1 {self.new(f'icmp {COMPARES[op]} i64 {a}, {lit(args[1])}')} to i64")
        if op in SHIFTS:
            return self.shift(op, a, args[1])
        if op in MUL_HIGH:
            ext_a, ext_b = MUL_HIGH[op]
            wide = self.new(f"mul i128 {self.new(f'{ext_a} i64 {a} to i128')}, "
                            f"{self.new(f'{ext_b} i64 {lit(args[1])} to i128')}")
            return self.new(f"trunc i128 {self.new(f'lshr i128 {wide}, 64')} to i64")
        if op in (Op.DIV, Op.DIVU, Op.REM, Op.REMU):
            return self.divide(op, a, lit(args[1]))
        if op is Op.SEXT:
            bits = stmt.aux
            if bits >= 64:
                return args[0]
            return self.new(f"sext i{bits} {self.new(f'trunc i64 {a} to i{bits}')} to i64")
        if op is Op.ZEXT:
            return args[0] if stmt.aux >= 64 else self.new(f"and i64 {a}, {lit((1 << stmt.aux) - 1)}")
        if op is Op.EXTRACT:
            lsb, bits = stmt.aux
            if lsb >= 64:
                return 0
            return self.new(f"and i64 {self.new(f'lshr i64 {a}, {lsb}')}, {lit((1 << bits) - 1)}")
        if op is Op.DEPOSIT:
            lsb, bits = stmt.aux
            field = (((1 << bits) - 1) << lsb) & M64
            if not field:
                return args[0]
            kept = self.new(f"and i64 {a}, {lit(~field)}")
            moved = self.new(f"and i64 {self.new(f'shl i64 {lit(args[1])}, {lsb}')}, {lit(field)}")
            return self.new(f"or i64 {kept}, {moved}")
        if op is Op.SELECT:
            cond = self.new(f"icmp ne i64 {a}, 0")
            return self.new(f"select i1 {cond}, i64 {lit(args[1])}, i64 {lit(args[2])}")
        raise ValueError(f"not a pure op: {op}")

    def shift(self, op: Op, value: str, amount: Value) -> Value:
        """Python shift semantics: amounts of 64 or more give 0 (or the sign, for SAR)."""
        name = SHIFTS[op]
        if isinstance(amount, int):
            if amount < 64:
                return self.new(f"{name} i64 {value}, {amount}")
            return self.new(f"ashr i64 {value}, 63") if op is Op.SAR else 0
        big = self.new(f"icmp uge i64 {amount}, 64")
        if op is Op.SAR:
            return self.new(f"ashr i64 {value}, {self.new(f'select i1 {big}, i64 63, i64 {amount}')}")
        shifted = self.new(f"{name} i64 {value}, {self.new(f'and i64 {amount}, 63')}")
        return self.new(f"select i1 {big}, i64 0, i64 {shifted}")

    def divide(self, op: Op, a: str, d: str) -> str:
        """RISC-V: x/0 = all ones, x%0 = x; MIN/-1 = MIN, MIN%-1 = 0 (never LLVM's UB cases)."""
        zero = self.new(f"icmp eq i64 {d}, 0")
        if op in (Op.DIVU, Op.REMU):
            safe = self.new(f"select i1 {zero}, i64 1, i64 {d}")
            result = self.new(f"{'udiv' if op is Op.DIVU else 'urem'} i64 {a}, {safe}")
            by_zero = "-1" if op is Op.DIVU else a
            return self.new(f"select i1 {zero}, i64 {by_zero}, i64 {result}")
        overflow = self.new(f"and i1 {self.new(f'icmp eq i64 {a}, {lit(MIN64)}')}, "
                            f"{self.new(f'icmp eq i64 {d}, -1')}")
        safe = self.new(f"select i1 {self.new(f'or i1 {zero}, {overflow}')}, i64 1, i64 {d}")
        if op is Op.DIV:
            quotient = self.new(f"sdiv i64 {a}, {safe}")
            result = self.new(f"select i1 {overflow}, i64 {lit(MIN64)}, i64 {quotient}")
            return self.new(f"select i1 {zero}, i64 -1, i64 {result}")
        result = self.new(f"select i1 {overflow}, i64 0, i64 {self.new(f'srem i64 {a}, {safe}')}")
        return self.new(f"select i1 {zero}, i64 {a}, i64 {result}")


def _called(stmt: Stmt) -> bool:
    """Whether the CALLED_HELPERS call ``stmt`` goes through HELPER_CALL: not an access to one of
    PYTHON_CSRS."""
    return stmt.aux != "csr" or stmt.args[1] not in PYTHON_CSRS


def block_function(block: IRBlock, name: str, members: Sequence[IRBlock] = ()) -> str:
    """The LLVM IR text of ``block``'s native function ``name`` (uses METADATA); ``members`` are
    blocks it may inline where it branches to them (a region; none may contain ``block``)."""
    return _BlockCodegen(block, {member.start_pc: member for member in members}).emit(name)


def _probe_text(prefix: str, table_word: int, entries: int, half: str, pc: str, hit: str, miss: str) -> str:
    """IR lines that look ``pc`` (``half`` is pc >> 1) up in the jump table of ``entries`` entries
    in context word ``table_word``, defining ``%{prefix}_item``, then branch to ``hit`` or ``miss``
    (the dispatch loop's and every chaining block's probe)."""
    return f"""  %{prefix}_index = and i64 {half}, {entries - 1}
  %{prefix}_pair = shl i64 %{prefix}_index, 1
  %{prefix}_ptr = getelementptr i64, ptr %ctx, i64 {table_word}
  %{prefix}_word = load i64, ptr %{prefix}_ptr, align 8
  %{prefix}_table = inttoptr i64 %{prefix}_word to ptr
  %{prefix}_item = getelementptr i64, ptr %{prefix}_table, i64 %{prefix}_pair
  %{prefix}_tag = load i64, ptr %{prefix}_item, align 8
  %{prefix}_hit = icmp eq i64 %{prefix}_tag, {pc}
  br i1 %{prefix}_hit, label %{hit}, label %{miss}"""


def dispatch_loop(name: str) -> str:
    """``i64 run(regs, ram, ctx, pc)``: enter the block the jump tables have for ``pc`` (the
    regime's own, then the global pages') with the counters of ICOUNT and BLOCKS; blocks chain until
    one exits, the tables miss (REASON = LOOKUP), ICOUNT reaches LIMIT or BLOCKS reaches 0 (REASON =
    BUDGET). Returns the pc."""
    return f"""define i64 @{name}({ARGS}, i64 %start) nounwind {{
entry:
  %half = lshr i64 %start, 1
{_probe_text("own", JUMPS, JUMP_ENTRIES, "%half", "%start", "found", "shared")}
shared:
{_probe_text("global", GLOBAL_JUMPS, GLOBAL_JUMP_ENTRIES, "%half", "%start", "found", "miss")}
found:
  %item = phi ptr [%own_item, %entry], [%global_item, %shared]
  %code_ptr = getelementptr i64, ptr %item, i64 1
  %code = load i64, ptr %code_ptr, align 8
  %block = inttoptr i64 %code to ptr
  %icount_ptr = getelementptr i64, ptr %ctx, i64 {ICOUNT}
  %icount = load i64, ptr %icount_ptr, align 8
  %blocks_ptr = getelementptr i64, ptr %ctx, i64 {BLOCKS}
  %blocks = load i64, ptr %blocks_ptr, align 8
  %blocks_left = sub i64 %blocks, 1
  %next = call i64 %block({ARGS}, i64 %icount, i64 %blocks_left)
  ret i64 %next
miss:
  %reason_ptr = getelementptr i64, ptr %ctx, i64 {REASON}
  store i64 {int(Exit.LOOKUP)}, ptr %reason_ptr, align 8
  ret i64 %start
}}"""


def fill_jumps(name: str) -> str:
    """``void fill(table, entries, pcs, addresses, count)``: enter ``count`` pcs and their native
    addresses in a jump table of ``entries`` slots (NativeState.set_jump's slots, in one call: a
    warm Linux boot enters ~160,000 recorded functions, ~1 us each from Python; HybridEngine._prefill,
    benchmarks/boot.py)."""
    return f"""define void @{name}(ptr %table, i64 %entries, ptr %pcs, ptr %addresses, i64 %count) nounwind {{
entry:
  %none = icmp eq i64 %count, 0
  br i1 %none, label %done, label %loop
loop:
  %i = phi i64 [0, %entry], [%next, %loop]
  %pc_ptr = getelementptr i64, ptr %pcs, i64 %i
  %pc = load i64, ptr %pc_ptr, align 8
  %address_ptr = getelementptr i64, ptr %addresses, i64 %i
  %address = load i64, ptr %address_ptr, align 8
  %half = lshr i64 %pc, 1
  %index = urem i64 %half, %entries
  %slot = shl i64 %index, 1
  %tag_ptr = getelementptr i64, ptr %table, i64 %slot
  store i64 %pc, ptr %tag_ptr, align 8
  %code_ptr = getelementptr i64, ptr %tag_ptr, i64 1
  store i64 %address, ptr %code_ptr, align 8
  %next = add i64 %i, 1
  %more = icmp ult i64 %next, %count
  br i1 %more, label %loop, label %done
done:
  ret void
}}"""


def memory_front(name: str) -> str:
    """``i64 call(ctx, ram, addr, op, value, icount)``, the context's MEMORY_CALL: a one-byte store
    to the write register or load of the status register of PORT (device/coalesced.py) at
    PORT_PAGE, while the port allows it and the data regime is still PORT_TLBS's, is done here
    (the byte appended to the port's data, or the status value put in CALL_VALUE; 0 returned);
    anything else goes to MEMORY_CALLBACK, Python's slow path."""
    def word(field: str) -> str:
        return f"""  %{field}_ptr = getelementptr i64, ptr %port, i64 {FIELD_WORDS[field]}
  %{field} = load i64, ptr %{field}_ptr, align 8"""

    def context(word: int, value: str) -> str:
        return f"""  %{value}_ptr = getelementptr i64, ptr %ctx, i64 {word}
  %{value} = load i64, ptr %{value}_ptr, align 8"""

    return f"""define i64 @{name}(ptr %ctx, ptr %ram, i64 %addr, i64 %op, i64 %value, i64 %icount) nounwind {{
entry:
  %page = lshr i64 %addr, 12
{context(PORT_PAGE, "port_page")}
  %on_page = icmp eq i64 %page, %port_page
  br i1 %on_page, label %regime, label %python
regime:
{context(TLBS, "tlbs")}
{context(PORT_TLBS, "port_tlbs")}
  %same = icmp eq i64 %tlbs, %port_tlbs
  br i1 %same, label %in_port, label %python
in_port:
{context(PORT, "port_word")}
  %port = inttoptr i64 %port_word to ptr
  %offset = and i64 %addr, 4095
  %is_store = icmp eq i64 %op, {STORE_CALL | 1}
  br i1 %is_store, label %storing, label %loading
storing:
{word("write_offset")}
{word("write_open")}
{word("count")}
  %at_write = icmp eq i64 %offset, %write_offset
  %open = icmp ne i64 %write_open, 0
  %room = icmp ult i64 %count, {CAPACITY}
  %writable = and i1 %at_write, %open
  %append = and i1 %writable, %room
  br i1 %append, label %appended, label %python
appended:
  %data = getelementptr i64, ptr %port, i64 {FIELD_WORDS["data"]}
  %slot = getelementptr i8, ptr %data, i64 %count
  %byte = trunc i64 %value to i8
  store i8 %byte, ptr %slot, align 1
  %more = add i64 %count, 1
  store i64 %more, ptr %count_ptr, align 8
  ret i64 0
loading:
{word("read_offset")}
{word("read_value")}
  %is_load = icmp eq i64 %op, 1
  %at_read = icmp eq i64 %offset, %read_offset
  %known = icmp ne i64 %read_value, {CLOSED - (1 << 64)}
  %readable = and i1 %is_load, %at_read
  %answer = and i1 %readable, %known
  br i1 %answer, label %answered, label %python
answered:
  %value_ptr = getelementptr i64, ptr %ctx, i64 {CALL_VALUE}
  store i64 %read_value, ptr %value_ptr, align 8
  ret i64 0
python:
{context(MEMORY_CALLBACK, "callback_word")}
  %callback = inttoptr i64 %callback_word to ptr
  %result = tail call i64 %callback(ptr %ctx, ptr %ram, i64 %addr, i64 %op, i64 %value, i64 %icount)
  ret i64 %result
}}"""
