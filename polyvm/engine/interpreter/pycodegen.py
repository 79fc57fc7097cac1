"""Turns an IRBlock into the source of one Python function, then into a code object.

Why source generation: on this machine, decoding and dispatching each guest instruction in Python
runs near 1.7 guest MIPS; a block compiled to one Python function with guest registers held in
local variables runs several times faster (see benchmarks/RESULTS.md). The generated function:

* loads every guest slot the block reads into locals, and stores each slot it writes as it writes
  it (so state is precise when a guest trap propagates: the trap carries the pc and the instruction
  index of the faulting instruction). Without a ``try`` around the body and a write-back at each
  exit, the source ``compile()`` reads is ~20% smaller and ~16% faster to compile (a cold Linux boot
  compiles ~36,000 blocks; benchmarks/boot.py --cold-cache). A block that loops on itself keeps its
  slots in locals and writes them back when it leaves, or when a guest trap propagates;
* inlines single-use pure expressions into their consumer;
* does loads and stores through the fast page maps ``RD``/``WR`` (virtual page -> RAM delta) and the
  typed RAM views, falling back to the hart's slow-path helpers for misses, misalignment and MMIO;
* turns a block that branches back to its own start into a bounded ``for`` loop.

Globals the code expects in its namespace: ``X`` (slot list), ``M``/``S`` masks, ``RD``/``WR``,
the RAM views ``U8``..``U64``/``S8``..``S64``, ``H`` (the hart, for instret), ``Trap`` (the guest
trap exception), ``XC`` (exit check), slow-path loads ``L1``..``L8``/``L1s``..``L8s``, stores
``W1``..``W8``, arithmetic helpers ``_mulh`` etc., and every helper named by CALL statements.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from types import CodeType, FunctionType

from polyvm.ir.block import COMPARE_OPS, IRBlock, Op, Stmt, Temp

LOOP_LIMIT = 256
SHIFT = {1: 0, 2: 1, 4: 2, 8: 3}
VIEW_BITS = {1: "8", 2: "16", 4: "32", 8: "64"}

INFIX = {Op.AND: "&", Op.OR: "|", Op.XOR: "^"}
WRAPPING = {Op.ADD: "+", Op.SUB: "-", Op.MUL: "*"}
HELPER_OPS = {
    Op.MULH: "_mulh", Op.MULHU: "_mulhu", Op.MULHSU: "_mulhsu", Op.DIV: "_div", Op.DIVU: "_divu",
    Op.REM: "_rem", Op.REMU: "_remu",
}
UNSIGNED_COMPARE = {Op.EQ: "==", Op.NE: "!=", Op.LTU: "<", Op.GEU: ">="}
SIGNED_COMPARE = {Op.LT: "<", Op.GE: ">="}
S64 = 1 << 63


def _const(value: int) -> str:
    return str(value)


class _Emitter:
    def __init__(self, block: IRBlock) -> None:
        self.block = block
        self.lines: list[str] = []
        self.depth = 1
        self.uses: Counter[Temp] = Counter()
        self.expr: dict[Temp, tuple[str, frozenset[int]]] = {}
        self.pending: set[Temp] = set()
        self.pc = block.start_pc
        self.index = 0
        self.write_through = True
        """Whether SET also stores the slot (else the block writes its slots back at its end)."""
        for stmt in block.stmts:
            for arg in stmt.args:
                if isinstance(arg, Temp):
                    self.uses[arg] += 1

    def line(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)

    def val(self, arg: Temp | int) -> tuple[str, frozenset[int]]:
        if isinstance(arg, int):
            return _const(arg), frozenset()
        self.uses[arg] -= 1
        if self.uses[arg] <= 0:
            self.pending.discard(arg)
        return self.expr[arg]

    def define(self, dst: Temp, text: str, reads: frozenset[int]) -> None:
        if self.uses[dst] > 1 and not (text.isidentifier() or text.isdigit()):
            self.line(f"t{dst.id} = {text}")
            self.expr[dst] = (f"t{dst.id}", frozenset())
        else:
            self.expr[dst] = (text, reads)
            self.pending.add(dst)

    def flush_readers(self, slot: int) -> None:
        """Before slot ``slot`` changes, pin pending expressions that still read its old value."""
        for temp in sorted(self.pending, key=lambda t: t.id):
            text, reads = self.expr[temp]
            if slot in reads:
                self.line(f"t{temp.id} = {text}")
                self.expr[temp] = (f"t{temp.id}", frozenset())
                self.pending.discard(temp)

    def where(self) -> str:
        return f"{self.pc}, {self.index}"

    # --- statements ----------------------------------------------------------------------------

    def pure(self, stmt: Stmt) -> None:
        op = stmt.op
        args = [self.val(a) for a in stmt.args]
        reads = frozenset().union(*(r for _, r in args)) if args else frozenset()
        texts = [t for t, _ in args]
        if op is Op.GET:
            self.expr[stmt.dst] = (f"r{stmt.aux}", frozenset({stmt.aux}))
            self.pending.add(stmt.dst)
            return
        if op is Op.MOV:
            text = texts[0]
        elif op in WRAPPING:
            if op is not Op.MUL and stmt.args[1] == 0:
                text = texts[0]
            else:
                text = f"(({texts[0]} {WRAPPING[op]} {texts[1]}) & M)"
        elif op in INFIX:
            text = f"({texts[0]} {INFIX[op]} {texts[1]})"
        elif op is Op.SHL:
            text = f"(({texts[0]} << {texts[1]}) & M)"
        elif op is Op.SHR:
            text = f"({texts[0]} >> {texts[1]})"
        elif op is Op.SAR:
            text = f"(((({texts[0]} ^ S) - S) >> {texts[1]}) & M)"
        elif op in HELPER_OPS:
            text = f"{HELPER_OPS[op]}({texts[0]}, {texts[1]})"
        elif op is Op.SEXT:
            bits = stmt.aux
            sign = 1 << (bits - 1)
            text = f"(((({texts[0]} & {(1 << bits) - 1}) ^ {sign}) - {sign}) & M)"
        elif op is Op.ZEXT:
            text = f"({texts[0]} & {(1 << stmt.aux) - 1})"
        elif op is Op.EXTRACT:
            lsb, bits = stmt.aux
            text = f"(({texts[0]} >> {lsb}) & {(1 << bits) - 1})"
        elif op is Op.DEPOSIT:
            lsb, bits = stmt.aux
            field = ((1 << bits) - 1) << lsb
            text = f"(({texts[0]} & {~field & ((1 << 64) - 1)}) | (({texts[1]} << {lsb}) & {field}))"
        elif op in UNSIGNED_COMPARE:
            text = f"({texts[0]} {UNSIGNED_COMPARE[op]} {texts[1]})"
        elif op in SIGNED_COMPARE:
            text = f"(({self._flip(stmt.args[0], texts[0])}) {SIGNED_COMPARE[op]} "
            text += f"({self._flip(stmt.args[1], texts[1])}))"
        elif op is Op.SELECT:
            text = f"({texts[1]} if {texts[0]} else {texts[2]})"
        else:
            raise ValueError(f"not a pure op: {op}")
        self.define(stmt.dst, text, reads)

    @staticmethod
    def _flip(arg: Temp | int, text: str) -> str:
        return _const(arg ^ S64) if isinstance(arg, int) else f"{text} ^ S"

    def load(self, stmt: Stmt) -> None:
        size, signed = stmt.aux
        addr, _ = self.val(stmt.args[0])
        self.line(f"a = {addr}")
        self.line("d = RD.get(a >> 12)")
        misaligned = f" or a & {size - 1}" if size > 1 else ""
        slow = f"L{size}{'s' if signed else ''}(a, {self.where()})"
        view = f"{'S' if signed else 'U'}{VIEW_BITS[size]}[(a + d) >> {SHIFT[size]}]"
        if signed:
            view += " & M"
        dst = f"t{stmt.dst.id}"
        self.line(f"{dst} = {slow} if d is None{misaligned} else {view}")
        self.expr[stmt.dst] = (dst, frozenset())

    def store(self, stmt: Stmt) -> None:
        size = stmt.aux
        addr, _ = self.val(stmt.args[0])
        value, _ = self.val(stmt.args[1])
        self.line(f"a = {addr}")
        self.line("d = WR.get(a >> 12)")
        misaligned = f" or a & {size - 1}" if size > 1 else ""
        self.line(f"if d is None{misaligned}: W{size}(a, {value}, {self.where()})")
        mask = "" if size == 8 else f" & {(1 << (8 * size)) - 1}"
        self.line(f"else: U{VIEW_BITS[size]}[(a + d) >> {SHIFT[size]}] = {value}{mask}")

    def call(self, stmt: Stmt) -> None:
        args = ", ".join(self.val(a)[0] for a in stmt.args)
        text = f"{stmt.aux.replace('.', '_')}({args})"
        if stmt.dst is None:
            self.line(text)
        else:
            self.line(f"t{stmt.dst.id} = {text}")
            self.expr[stmt.dst] = (f"t{stmt.dst.id}", frozenset())

    def set(self, stmt: Stmt) -> None:
        value, _ = self.val(stmt.args[0])
        self.flush_readers(stmt.aux)
        if value != f"r{stmt.aux}":
            through = f"X[{stmt.aux}] = " if self.write_through else ""
            self.line(f"r{stmt.aux} = {through}{value}")


def _slots(block: IRBlock) -> tuple[list[int], list[int], list[int]]:
    """The slots ``block`` reads before writing them, reads or writes, and writes."""
    read, touched, written = set(), set(), set()
    for stmt in block.stmts:
        if stmt.op is Op.GET:
            touched.add(stmt.aux)
            if stmt.aux not in written:
                read.add(stmt.aux)
        elif stmt.op is Op.SET:
            touched.add(stmt.aux)
            written.add(stmt.aux)
    return sorted(read), sorted(touched), sorted(written)


def generate_source(block: IRBlock, name: str, loops: bool = True) -> str:
    """The Python source of a function ``name()`` that runs ``block`` and returns the next pc.

    ``loops=False`` keeps a block that branches to itself one pass per call, so every pass is a
    dispatch of its own, as in native code (the instruction-count clock needs the same slice
    boundaries in every execution mode)."""
    em = _Emitter(block)
    read, touched, written = _slots(block)
    body = block.stmts[:-1]
    term = block.stmts[-1]
    loop_back = loops and term.op is Op.BRANCH and block.start_pc in (term.args[1], term.args[2])
    if loop_back:
        em.depth = 3
        em.write_through = False
    for stmt in body:
        op = stmt.op
        if op is Op.INSN:
            em.pc, em.index = stmt.aux
        elif op is Op.LOAD:
            em.load(stmt)
        elif op is Op.STORE:
            em.store(stmt)
        elif op is Op.CALL:
            em.call(stmt)
        elif op is Op.SET:
            em.set(stmt)
        else:
            em.pure(stmt)

    out = [f"def {name}():"]
    out += [f"    r{s} = X[{s}]" for s in (touched if loop_back else read)]
    n = block.insn_count
    if loop_back:
        writeback = [f"X[{s}] = r{s}" for s in written]
        cond, _ = em.val(term.args[0])
        taken, fall = term.args[1], term.args[2]
        stay = cond if taken == block.start_pc else f"not {cond}"
        leave = fall if taken == block.start_pc else taken
        out += ["    k = 0", f"    nxt = {block.start_pc}", "    try:",
                f"        for k in range({LOOP_LIMIT}):"]
        out += em.lines
        out += [f"            if not ({stay}):", f"                nxt = {leave}", "                break"]
        out += ["    except Trap:", f"        H.instret += k * {n}"]
        out += ["        " + w for w in writeback] + ["        raise"]
        out += [f"    H.instret += k * {n}"]
        out += ["    " + w for w in writeback] + ["    return nxt"]
        return "\n".join(out) + "\n"

    if term.op is Op.BRANCH:
        cond, _ = em.val(term.args[0])
        ret = f"return {term.args[1]} if {cond} else {term.args[2]}"
    else:
        target, _ = em.val(term.args[0])
        if not target.isidentifier() and not target.isdigit():
            em.line(f"nxt = {target}")
            target = "nxt"
        ret = f"return XC({target})" if term.op is Op.EXIT else f"return {target}"
    out += em.lines
    out.append("    " + ret)
    return "\n".join(out) + "\n"


def arithmetic_helpers() -> dict[str, object]:
    """The RISC-V-defined multiply-high and division helpers the generated code calls."""
    m = (1 << 64) - 1

    def signed(v: int) -> int:
        return v - (1 << 64) if v >> 63 else v

    def mulh(a: int, b: int) -> int:
        return ((signed(a) * signed(b)) >> 64) & m

    def mulhu(a: int, b: int) -> int:
        return (a * b) >> 64

    def mulhsu(a: int, b: int) -> int:
        return ((signed(a) * b) >> 64) & m

    def div(a: int, b: int) -> int:
        if b == 0:
            return m
        sa, sb = signed(a), signed(b)
        q = abs(sa) // abs(sb)
        return (-q if (sa < 0) != (sb < 0) else q) & m

    def divu(a: int, b: int) -> int:
        return a // b if b else m

    def rem(a: int, b: int) -> int:
        if b == 0:
            return a
        sa, sb = signed(a), signed(b)
        r = abs(sa) % abs(sb)
        return (-r if sa < 0 else r) & m

    def remu(a: int, b: int) -> int:
        return a % b if b else a

    return {
        "_mulh": mulh, "_mulhu": mulhu, "_mulhsu": mulhsu, "_div": div, "_divu": divu,
        "_rem": rem, "_remu": remu,
    }


def compile_block(block: IRBlock, namespace: dict, loops: bool = True) -> object:
    """Compile ``block`` into a function whose globals are ``namespace`` (``loops``: see
    generate_source)."""
    return python_function(block_code(block, loops), namespace)


def block_code(block: IRBlock, loops: bool = True) -> CodeType:
    """The code object of ``block``'s function (kept by translation_store.py): the function's own,
    not the module's that defines it, which unmarshals in half the time (a warm Linux boot
    unmarshals ~36,000; benchmarks/boot.py)."""
    source = generate_source(block, f"b_{block.start_pc:x}", loops)
    module = compile(source, f"<block 0x{block.start_pc:x}>", "exec")
    (function,) = (const for const in module.co_consts if isinstance(const, CodeType))
    return function


def python_function(code: CodeType, namespace: dict) -> FunctionType:
    """The function of ``code`` (from ``block_code``) with ``namespace`` as its globals."""
    return FunctionType(code, namespace)


class DeferredFunction:
    """The function of a code object that ``load`` gives (unmarshalling it), made when first
    called or ``resolve``d: a warm Linux boot runs ~12,500 of its stored blocks natively from their
    first execution, and their Python functions are never needed (benchmarks/boot.py)."""

    __slots__ = ("load", "namespace", "function")

    def __init__(self, load: Callable[[], CodeType], namespace: dict) -> None:
        self.load = load
        self.namespace = namespace
        self.function: FunctionType | None = None

    def __call__(self) -> int:
        return self.resolve()()

    def resolve(self) -> FunctionType:
        if self.function is None:
            self.function = python_function(self.load(), self.namespace)
        return self.function


assert COMPARE_OPS == set(UNSIGNED_COMPARE) | set(SIGNED_COMPARE)
