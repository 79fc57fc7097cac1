"""IR blocks: straight-line statements over 64-bit values, ending in one control transfer.

Values are ``Temp`` (defined once inside the block) or Python ints (constants). Guest state lives in
numbered *slots* read with GET and written with SET: general registers, and for frontends that need
them condition flags (one slot per flag, e.g. x86 CF/ZF or ARM NZCV) and partial registers (read with
EXTRACT, written back with DEPOSIT). Everything a backend cannot express with plain ops is a CALL to a
named helper (CSRs, atomics, FP, system instructions); helpers may raise a guest trap.

Precise faults: every guest instruction starts with an INSN marker carrying its pc and its index in
the block, so a backend knows the exact guest pc and how many instructions retired at any fault.
All arithmetic wraps at 64 bits; comparisons produce 0 or 1.
"""

from __future__ import annotations

import dataclasses
import enum


class Op(enum.Enum):
    INSN = "insn"          # aux=(pc, index): start of a guest instruction
    GET = "get"            # dst <- slot[aux]
    SET = "set"            # slot[aux] <- a
    MOV = "mov"
    ADD = "add"
    SUB = "sub"
    MUL = "mul"
    MULH = "mulh"          # high 64 bits, signed x signed
    MULHU = "mulhu"
    MULHSU = "mulhsu"
    DIV = "div"            # signed; x/0 = all ones, MIN/-1 = MIN (RISC-V; other frontends select)
    DIVU = "divu"
    REM = "rem"
    REMU = "remu"
    AND = "and"
    OR = "or"
    XOR = "xor"
    SHL = "shl"            # shift amounts are taken modulo 64 by the frontend
    SHR = "shr"
    SAR = "sar"
    SEXT = "sext"          # aux=bits: sign-extend the low bits
    ZEXT = "zext"          # aux=bits
    EXTRACT = "extract"    # aux=(lsb, bits): a bit field, zero-extended
    DEPOSIT = "deposit"    # aux=(lsb, bits): a with the field replaced by b's low bits
    EQ = "eq"
    NE = "ne"
    LT = "lt"              # signed
    GE = "ge"
    LTU = "ltu"
    GEU = "geu"
    SELECT = "select"      # a ? b : c
    LOAD = "load"          # aux=(size, signed): dst <- mem[a]
    STORE = "store"        # aux=size: mem[a] <- b
    CALL = "call"          # aux=helper name; dst optional
    JUMP = "jump"          # terminator: pc <- a
    BRANCH = "branch"      # terminator: pc <- a ? b : c  (b, c constants)
    EXIT = "exit"          # terminator: pc <- a, then return to the run loop (state may have changed)

    # Members are singletons compared by identity: hash them by identity too, in C. Enum's own
    # __hash__ is Python code, and translating a block hashed ops ~30 times (dict and set lookups in
    # the translator and the code generators; benchmarks/boot.py --cold-cache).
    __hash__ = object.__hash__


BINARY_OPS = {
    Op.ADD, Op.SUB, Op.MUL, Op.MULH, Op.MULHU, Op.MULHSU, Op.DIV, Op.DIVU, Op.REM, Op.REMU,
    Op.AND, Op.OR, Op.XOR, Op.SHL, Op.SHR, Op.SAR,
}
COMPARE_OPS = {Op.EQ, Op.NE, Op.LT, Op.GE, Op.LTU, Op.GEU}
TERMINATORS = {Op.JUMP, Op.BRANCH, Op.EXIT}


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class Temp:
    """A temp is the one object its builder made: identity is equality, and hashing is the C-level
    object hash (translating a block hashed temps ~100 times; benchmarks/boot.py --cold-cache)."""

    id: int

    def __repr__(self) -> str:
        return f"t{self.id}"

    def __reduce__(self) -> tuple:
        return Temp, (self.id,)


Value = Temp | int


@dataclasses.dataclass(slots=True)
class Stmt:
    op: Op
    dst: Temp | None
    args: tuple[Value, ...]
    aux: object = None

    def __repr__(self) -> str:
        lhs = f"{self.dst} = " if self.dst is not None else ""
        args = ", ".join(hex(a) if isinstance(a, int) else repr(a) for a in self.args)
        aux = f" [{self.aux}]" if self.aux is not None else ""
        return f"{lhs}{self.op.value} {args}{aux}"

    def __reduce__(self) -> tuple:
        """Pickled as a plain constructor call: the dataclass default looks the fields up for
        every statement (a cold Linux boot pickled ~300,000 for the compile server;
        benchmarks/boot.py --cold-cache)."""
        return Stmt, (self.op, self.dst, self.args, self.aux)


STRADDLE = 2
"""Bytes of the next page a block may take: the second half of a 32-bit last instruction that
starts in the block's page's last two bytes (the translator starts no instruction beyond)."""
UNFETCHABLE = -1
"""``IRBlock.next_page`` of a block whose last instruction's end could not be fetched."""


@dataclasses.dataclass
class IRBlock:
    """One translated guest block: ``stmts`` end with exactly one terminator."""

    start_pc: int
    stmts: list[Stmt]
    insn_count: int
    byte_size: int
    phys_page: int = 0
    """Physical page number of the guest code (for invalidation on stores and fence.i)."""
    phys_start: int = 0
    fused: int = 0
    """How many instruction pairs the fuser merged while building this block."""
    code: bytes | None = None
    """The guest bytes the block was translated from, when the frontend knows them exactly (what
    persistent caches key translations and native code by)."""
    next_page: int | None = None
    """Physical page number of the next page when the block's last instruction straddles the end
    of its page (its last bytes come from there: stores there and remaps of it invalidate the
    block), or UNFETCHABLE when they could not be fetched (the block raises the fetch fault)."""
    resumable: bool | None = None
    """Whether no temp is used across an instruction boundary (an INSN marker not directly after
    another: a fused pair shares one), so execution can resume at any instruction; None if not
    known yet (IRBuilder knows it for the blocks it builds)."""

    @property
    def straddled_page(self) -> int | None:
        """The physical page after the block's own that holds the end of its last instruction, if
        it straddles into one it could fetch (``next_page`` but for UNFETCHABLE)."""
        return None if self.next_page == UNFETCHABLE else self.next_page

    def successors(self) -> tuple[int, ...]:
        """The constant pcs the terminator may continue at (none for EXIT or computed jumps)."""
        term = self.stmts[-1]
        targets = term.args[1:] if term.op is Op.BRANCH else term.args if term.op is Op.JUMP else ()
        return tuple(target for target in targets if isinstance(target, int))

    def __str__(self) -> str:
        return "\n".join([f"block 0x{self.start_pc:x} ({self.insn_count} insns)"] + [
            f"  {stmt!r}" for stmt in self.stmts
        ])


class IRBuilder:
    """Appends statements, hands out fresh temps and notes whether a temp crosses an instruction
    boundary (``resumable``)."""

    def __init__(self) -> None:
        self.stmts: list[Stmt] = []
        self._next = 0
        self._floor = 0
        """Temps up to this id were defined before the current instruction."""
        self.resumable = True

    def temp(self) -> Temp:
        self._next += 1
        return Temp(self._next)

    def _add(self, stmt: Stmt) -> None:
        floor = self._floor
        for arg in stmt.args:
            if arg.__class__ is Temp and arg.id <= floor:
                self.resumable = False
        self.stmts.append(stmt)

    def emit(self, op: Op, *args: Value, aux: object = None, result: bool = True) -> Temp | None:
        dst = self.temp() if result else None
        self._add(Stmt(op, dst, args, aux))
        return dst

    def insn(self, pc: int, index: int) -> None:
        if not self.stmts or self.stmts[-1].op is not Op.INSN:
            self._floor = self._next
        self.stmts.append(Stmt(Op.INSN, None, (), (pc, index)))

    def get(self, slot: int) -> Value:
        return self.emit(Op.GET, aux=slot)

    def set(self, slot: int, value: Value) -> None:
        self._add(Stmt(Op.SET, None, (value,), slot))

    def op(self, op: Op, *args: Value, aux: object = None) -> Temp:
        return self.emit(op, *args, aux=aux)

    def load(self, addr: Value, size: int, signed: bool) -> Temp:
        return self.emit(Op.LOAD, addr, aux=(size, signed))

    def store(self, addr: Value, value: Value, size: int) -> None:
        self._add(Stmt(Op.STORE, None, (addr, value), size))

    def call(self, helper: str, *args: Value, result: bool = True) -> Temp | None:
        return self.emit(Op.CALL, *args, aux=helper, result=result)

    def jump(self, target: Value) -> None:
        self._add(Stmt(Op.JUMP, None, (target,)))

    def branch(self, cond: Value, taken: int, fallthrough: int) -> None:
        self._add(Stmt(Op.BRANCH, None, (cond, taken, fallthrough)))

    def exit(self, target: Value) -> None:
        self._add(Stmt(Op.EXIT, None, (target,)))
