"""Seeded random generator of user-level RV64IMAC instruction sequences for differential tests.

A *sequence* is 20-60 instructions drawn from the table ``FORMS`` plus the register and
scratch-buffer state it starts from. A *program* is many sequences back to back, rendered as
one assembly file that a harness (Linux user ELF or bare-metal ELF) links in. Everything a
sequence touches lives in its own 512-byte output slot::

    slot + 0   .. 255   scratch buffer (random bytes; loads, stores and AMOs stay inside)
    slot + 256 .. 503   x1..x31: the initial values, overwritten with the final values
    slot + 504          completion marker (MARKER | sequence position), written last

While a sequence runs, ``sp`` holds the slot address and ``s0`` holds slot + 128; no generated
instruction writes them (bar c.addi16sp pairs that put sp back), so memory accesses use them as
base registers. Shared subroutines load and store the registers, so each sequence adds only six
instructions of its own around its body.

Forms are table entries: a template whose ``<kind>`` placeholders are filled by the operand
generator of that kind (``<kind.tag>`` repeats one value inside the form). Adding an
instruction family (e.g. F/D) is one more ``family(...)`` entry plus any new operand kinds.
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

BUF_SIZE = 256
SLOT_SIZE = 512
REGS_OFFSET = 256
MARKER_OFFSET = 504
S0_OFFSET = 128
MARKER = 0x600D_5EC0_0000_0000
MASK64 = (1 << 64) - 1
BASE_REGS = (2, 8)  # sp = slot, s0 = slot + S0_OFFSET: read freely, never written

_DEST_REGS = tuple(r for r in range(1, 32) if r not in BASE_REGS)
_C_DEST_REGS = tuple(r for r in range(8, 16) if r not in BASE_REGS)  # rd' of compressed forms
_C_SRC_REGS = tuple(range(8, 16))

EDGE64 = (
    0, 1, 2, MASK64, MASK64 - 1, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000,
    0x8000_0000_0000_0001, 0x8000_0000, 0x7FFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF_8000_0000,
    0xFFFF_FFFF_7FFF_FFFF, 0x1_0000_0000, 0x1_8000_0000, 31, 32, 63, 64, 0xFFFF_8000,
)
EDGE_IMM12 = (0, 1, -1, 2, 2047, -2048, 2046, -2047, 31, 32, 63, 64, 0x7FF, -0x800)
EDGE_SHAMT = (0, 1, 31, 32, 63)
EDGE_UIMM20 = (0, 1, 0x7FFFF, 0x80000, 0xFFFFF, 0xFFFFE, 0x00800)


@dataclass(frozen=True)
class Form:
    """One instruction (or short fixed idiom) template; lines are separated by ';'."""

    family: str
    template: str
    weight: float = 1.0
    rvc: bool = False


def family(name: str, template: str, ops: Iterable[str], weight: float = 1.0,
           rvc: bool = False) -> tuple[Form, ...]:
    """One Form per op, with ``{op}`` in the template replaced; ``weight`` is per form."""
    return tuple(Form(name, template.replace("{op}", op), weight, rvc) for op in ops)


ALU_RR = ("add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
          "addw", "subw", "sllw", "srlw", "sraw")
ALU_RI = ("addi", "slti", "sltiu", "xori", "ori", "andi", "addiw")
SHIFT64 = ("slli", "srli", "srai")
SHIFT32 = ("slliw", "srliw", "sraiw")
MUL_DIV = ("mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu",
           "mulw", "divw", "divuw", "remw", "remuw")
LOADS = {"lb": 1, "lbu": 1, "lh": 2, "lhu": 2, "lw": 4, "lwu": 4, "ld": 8}
STORES = {"sb": 1, "sh": 2, "sw": 4, "sd": 8}
BRANCHES = ("beq", "bne", "blt", "bge", "bltu", "bgeu")
AMO_OPS = ("amoswap", "amoadd", "amoxor", "amoand", "amoor", "amomin", "amomax",
           "amominu", "amomaxu")
FENCES = ("fence", "fence rw, rw", "fence iorw, iorw", "fence r, w", "fence.tso")
C_ALU_RR = ("c.sub", "c.xor", "c.or", "c.and", "c.subw", "c.addw")

FORMS: tuple[Form, ...] = (
    *family("alu", "{op} <rd>, <rs.1>, <rs.2>", ALU_RR, 1.0),
    *family("alu", "{op} <rd>, <rs.1>, <imm12>", ALU_RI, 1.0),
    *family("alu", "{op} <rd>, <rs.1>, <shamt6>", SHIFT64, 1.0),
    *family("alu", "{op} <rd>, <rs.1>, <shamt5>", SHIFT32, 1.0),
    Form("alu", "lui <rd>, <uimm20>", 1.0),
    Form("upper", "auipc <rd>, <uimm20>", 0.5),
    Form("pseudo", "li <rd>, <imm64>", 1.0),
    *family("muldiv", "{op} <rd>, <rs.1>, <rs.2>", MUL_DIV, 1.2),
    *(Form("load", f"{op} <rd>, <mem{w}>", 1.2) for op, w in LOADS.items()),
    *(Form("store", f"{op} <rs>, <mem{w}>", 1.2) for op, w in STORES.items()),
    *(Form("load", f"mv <at>, sp; {op} <at>, <off{w}>(<at>)", 0.2) for op, w in LOADS.items()),
    *family("fence", "{op}", FENCES, 0.05),
    *family("branch", "{op} <rs.1>, <rs.2>, <fwd>", BRANCHES, 0.6),
    *family("branch", "{op} <rs.1>, <rs.1>, <fwd>", BRANCHES, 0.15),
    Form("jump", "jal <rd>, <fwd>", 0.5),
    Form("jump", "lla <at>, <fwd>-<joff>; jalr <rd>, <joff>(<at>)", 0.4),
    Form("jump", "lla <at>, <fwd>-<joff>; jalr <rd>, <joff>+1(<at>)", 0.2),
    Form("jump", "lla <at>, <fwd>; jalr <at>, 0(<at>)", 0.2),
    *family("amo", "addi <at>, <amem4>; {op}.w<ord> <rd>, <rs>, (<at>)", AMO_OPS, 0.4),
    *family("amo", "addi <at>, <amem8>; {op}.d<ord> <rd>, <rs>, (<at>)", AMO_OPS, 0.4),
    *family("amo", "addi <at>, <amem4>; {op}.w <at>, <rs>, (<at>)", AMO_OPS, 0.1),
    *family("amo", "addi <at>, <amem8>; {op}.d <at>, <at>, (<at>)", AMO_OPS, 0.1),
    *(Form("lrsc", f"addi <at>, <amem{w}>; lr.{s}<ordlr> <rd.1>, (<at>); {mid}"
               f"sc.{s}<ordsc> <rd.2>, <rs>, (<at>)", 0.6)
      for s, w in (("w", 4), ("d", 8)) for mid in ("", "<alu>; ")),
    *(Form("lrsc", f"addi <at>, <amem{w}>; lr.{s} <rd.1>, (<at>); sc.{s} <rd.2>, <rs.1>, (<at>);"
               f" sc.{s} <rd.3>, <rs.2>, (<at>)", 0.3)
      for s, w in (("w", 4), ("d", 8))),
    Form("lrsc", "sc.d <rd>, <rs>, (<base>)", 0.2),
    # Compiler idioms that engines like to fuse or peephole (compare+branch, constant and
    # address building, address arithmetic folded into a load).
    *(Form("idiom", f"{cmp} <rw.1>, <rs.1>, {rhs}; {br} <rw.1>, <fwd>", 0.1)
      for cmp, rhs in (("slt", "<rs.2>"), ("sltu", "<rs.2>"), ("slti", "<imm12>"),
                       ("sltiu", "<imm12>"))
      for br in ("beqz", "bnez")),
    *(Form("idiom", f"{cmp} <crd.1>, <rs.1>, {rhs}; {br} <crd.1>, <fwd>", 0.05, rvc=True)
      for cmp, rhs in (("sltu", "<rs.2>"), ("sltiu", "<imm12>"))
      for br in ("c.beqz", "c.bnez")),
    *family("idiom", "lui <rw.1>, <uimm20>; {op} <rw.1>, <rw.1>, <imm12>", ("addi", "addiw"), 0.2),
    Form("idiom", "auipc <rw.1>, <uimm20>; addi <rw.1>, <rw.1>, <imm12>", 0.1),
    *(Form("idiom", f"addi <at>, sp, <off{w}>; {op} <rd>, 0(<at>)", 0.1) for op, w in LOADS.items()),
    *(Form("idiom", f"addi <at>, s0, -{S0_OFFSET}; {op} <rd>, <off{w}>(<at>)", 0.1)
      for op, w in LOADS.items()),
    Form("idiom", "addi <at>, sp, <off8>; ld <at>, 0(<at>)", 0.1),
    Form("compressed", "c.nop", 0.1, rvc=True),
    Form("compressed", "c.li <rw>, <imm6>", 0.5, rvc=True),
    Form("compressed", "c.lui <rw>, <clui>", 0.5, rvc=True),
    Form("compressed", "c.addi <rw>, <nzimm6>", 0.5, rvc=True),
    Form("compressed", "c.addiw <rw>, <imm6>", 0.5, rvc=True),
    Form("compressed", "c.addi4spn <crd>, sp, <nzuimm4spn>", 0.3, rvc=True),
    Form("compressed", "c.addi16sp sp, <nzimm16sp>; c.mv <rw>, sp; c.addi16sp sp, -(<nzimm16sp>)",
         0.2, rvc=True),
    Form("compressed", "c.slli <rw>, <nzshamt6>", 0.5, rvc=True),
    *family("compressed", "{op} <crd>, <nzshamt6>", ("c.srli", "c.srai"), 0.5, rvc=True),
    Form("compressed", "c.andi <crd>, <imm6>", 0.5, rvc=True),
    *family("compressed", "{op} <crd>, <crs>", C_ALU_RR, 0.5, rvc=True),
    Form("compressed", "c.mv <rw>, <rsnz>", 0.5, rvc=True),
    Form("compressed", "c.add <rw>, <rsnz>", 0.5, rvc=True),
    Form("compressed", "c.lw <crd>, <cmem4>", 0.5, rvc=True),
    Form("compressed", "c.ld <crd>, <cmem8>", 0.5, rvc=True),
    Form("compressed", "c.sw <crs>, <cmem4>", 0.5, rvc=True),
    Form("compressed", "c.sd <crs>, <cmem8>", 0.5, rvc=True),
    Form("compressed", "c.lwsp <rw>, <spmem4>", 0.5, rvc=True),
    Form("compressed", "c.ldsp <rw>, <spmem8>", 0.5, rvc=True),
    Form("compressed", "c.swsp <rs>, <spmem4>", 0.5, rvc=True),
    Form("compressed", "c.sdsp <rs>, <spmem8>", 0.5, rvc=True),
    Form("compressed", "c.j <fwd>", 0.3, rvc=True),
    *family("compressed", "{op} <crs>, <fwd>", ("c.beqz", "c.bnez"), 0.3, rvc=True),
    Form("compressed", "lla <at>, <fwd>; c.jr <at>", 0.2, rvc=True),
    Form("compressed", "lla <at>, <fwd>; c.jalr <at>", 0.2, rvc=True),
)

# Instructions allowed between LR and SC (the constrained-loop rules: base integer ALU only).
LRSC_INNER = tuple(f for f in FORMS if f.family == "alu")

_PLACEHOLDER = re.compile(r"<([a-z0-9]+)(?:\.\w+)?>")


def _edge_or(rng: random.Random, edges: Sequence[int], lo: int, hi: int) -> int:
    return rng.choice(edges) if rng.random() < 0.4 else rng.randint(lo, hi)


def _mem(width: int) -> Callable[[_FormBuilder], str]:
    """'off(base)' inside the buffer: naturally aligned half of the time, else any offset."""
    def operand(b: _FormBuilder) -> str:
        base, lo = ("sp", 0) if b.rng.random() < 0.5 else ("s0", -S0_OFFSET)
        off = b.rng.randrange(0, BUF_SIZE - width + 1, width if b.rng.random() < 0.5 else 1)
        return f"{lo + off}({base})"
    return operand


def _amem(width: int) -> Callable[[_FormBuilder], str]:
    """'base, off' for an addi that forms a width-aligned buffer address."""
    def operand(b: _FormBuilder) -> str:
        base, lo = ("sp", 0) if b.rng.random() < 0.5 else ("s0", -S0_OFFSET)
        return f"{base}, {lo + b.rng.randrange(0, BUF_SIZE, width)}"
    return operand


def _scaled(base: str, width: int, limit: int) -> Callable[[_FormBuilder], str]:
    """'off(base)' for compressed loads/stores: a multiple of width in [0, limit]."""
    return lambda b: f"{b.rng.randrange(0, limit + 1, width)}({base})"


def _reg(pool: Sequence[int], dest: bool, zero_p: float = 0.0) -> Callable[[_FormBuilder], str]:
    def operand(b: _FormBuilder) -> str:
        if zero_p and b.rng.random() < zero_p:
            return "x0"
        choices = [r for r in pool if r not in b.reserved] if dest else list(pool)
        return f"x{b.rng.choice(choices)}"
    return operand


def _nonzero(gen: Callable[[random.Random], int]) -> Callable[[random.Random], int]:
    def draw(rng: random.Random) -> int:
        while (value := gen(rng)) == 0:
            pass
        return value
    return draw


def _imm6(rng: random.Random) -> int:
    return _edge_or(rng, (0, 1, -1, 31, -32), -32, 31)


def _shamt6(rng: random.Random) -> int:
    return _edge_or(rng, EDGE_SHAMT, 0, 63)


def _clui(rng: random.Random) -> int:
    value = _nonzero(_imm6)(rng)
    return value & 0xFFFFF


def _imm64(rng: random.Random) -> int:
    value = random_value(rng)
    return value - (1 << 64) if value >> 63 else value


def _ints(draw: Callable[[random.Random], int]) -> Callable[[_FormBuilder], str]:
    return lambda b: str(draw(b.rng))


# Operand kinds: every <kind> in a template names one entry here.
OPERANDS: dict[str, Callable[[_FormBuilder], str]] = {
    "rd": _reg(_DEST_REGS, dest=True, zero_p=0.04),
    "rw": _reg(_DEST_REGS, dest=True),
    "at": _reg(_DEST_REGS, dest=True),
    "crd": _reg(_C_DEST_REGS, dest=True),
    "rs": _reg(range(32), dest=False),
    "rsnz": _reg(range(1, 32), dest=False),
    "crs": _reg(_C_SRC_REGS, dest=False),
    "base": lambda b: b.rng.choice(("sp", "s0")),
    "imm12": _ints(lambda r: _edge_or(r, EDGE_IMM12, -2048, 2047)),
    "imm6": _ints(_imm6),
    "nzimm6": _ints(_nonzero(_imm6)),
    "shamt6": _ints(_shamt6),
    "shamt5": _ints(lambda r: _edge_or(r, (0, 1, 15, 16, 31), 0, 31)),
    "nzshamt6": _ints(_nonzero(_shamt6)),
    "uimm20": _ints(lambda r: _edge_or(r, EDGE_UIMM20, 0, 0xFFFFF)),
    "clui": lambda b: hex(_clui(b.rng)),
    "nzuimm4spn": _ints(lambda r: r.randrange(4, 1024, 4)),
    # c.addi16sp takes -512..496; the pair's restoring -n must fit too.
    "nzimm16sp": _ints(lambda r: r.choice((-496, -16, 16, 496, r.randrange(-496, 497, 16) or 32))),
    "imm64": _ints(_imm64),
    "joff": _ints(lambda r: r.choice((0, 4, -4, 8, -16, 100, -100, 2040, -2048))),
    "ord": lambda b: b.rng.choice(("", ".aq", ".rl", ".aqrl")),
    # The spec advises against LR with only rl and SC with only aq.
    "ordlr": lambda b: b.rng.choice(("", ".aq", ".aqrl")),
    "ordsc": lambda b: b.rng.choice(("", ".rl", ".aqrl")),
    "fwd": lambda b: b.forward_label(),
    "alu": lambda b: b.nested(LRSC_INNER),
    **{f"mem{w}": _mem(w) for w in (1, 2, 4, 8)},
    **{f"amem{w}": _amem(w) for w in (4, 8)},
    **{f"off{w}": _ints(lambda r, w=w: r.randrange(0, BUF_SIZE - w + 1)) for w in (1, 2, 4, 8)},
    "cmem4": _scaled("s0", 4, BUF_SIZE - S0_OFFSET - 4),
    "cmem8": _scaled("s0", 8, BUF_SIZE - S0_OFFSET - 8),
    "spmem4": _scaled("sp", 4, BUF_SIZE - 4),
    "spmem8": _scaled("sp", 8, BUF_SIZE - 8),
}


def random_value(rng: random.Random) -> int:
    """A 64-bit value weighted toward edge cases."""
    pick = rng.random()
    if pick < 0.4:
        return rng.choice(EDGE64)
    if pick < 0.55:
        return rng.randint(-16, 16) & MASK64
    if pick < 0.7:
        return rng.randint(-(1 << 31), (1 << 31) - 1) & MASK64
    return rng.getrandbits(64)


class _FormBuilder:
    """Fills one Form's placeholders; destinations avoid registers reserved by <at>."""

    def __init__(self, seq: _SequenceBuilder) -> None:
        self.seq = seq
        self.rng = seq.rng
        self.reserved: set[int] = set(BASE_REGS)

    def forward_label(self) -> str:
        return self.seq.forward_label()

    def nested(self, forms: Sequence[Form]) -> str:
        form = self.rng.choice(forms)
        return "; ".join(self.render(form))

    def render(self, form: Form) -> tuple[str, ...]:
        values: dict[str, str] = {}
        text = form.template
        # Address temporaries first, so every destination chosen afterwards avoids them.
        for match in sorted(_PLACEHOLDER.finditer(text), key=lambda m: m[1] != "at"):
            if match[0] not in values:
                values[match[0]] = OPERANDS[match[1]](self)
                if match[1] == "at":
                    self.reserved.add(int(values[match[0]][1:]))
        text = _PLACEHOLDER.sub(lambda m: values[m[0]], text)
        return tuple(line.strip() for line in text.split(";"))


class _SequenceBuilder:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.position = 0
        self.labels: dict[int, list[str]] = {}
        self._next_label = 0

    def forward_label(self) -> str:
        name = f".Lq{self.seed}_{self._next_label}"
        self._next_label += 1
        target = self.position + 1 + self.rng.randint(0, 4)
        self.labels.setdefault(target, []).append(name)
        return name

    def body(self, forms: Sequence[Form], length: int) -> tuple[str, ...]:
        cum_weights = list(itertools.accumulate(f.weight for f in forms))
        lines: list[str] = []
        rvc = False
        count = 0
        while count < length:
            form = self.rng.choices(forms, cum_weights=cum_weights)[0]
            rendered = _FormBuilder(self).render(form)
            lines += [f"{name}:" for name in self.labels.pop(self.position, [])]
            if form.rvc != rvc:
                rvc = form.rvc
                lines.append(".option rvc" if rvc else ".option norvc")
            lines += rendered
            count += len(rendered)
            self.position += 1
        lines += [f"{name}:" for pos in sorted(self.labels) for name in self.labels[pos]]
        if rvc:
            lines.append(".option norvc")
        return tuple(lines)


def render_form(form: Form, seed: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """One instance of ``form`` on its own: its lines, and the labels its jumps target."""
    builder = _SequenceBuilder(seed)
    lines = _FormBuilder(builder).render(form)
    return lines, tuple(name for pending in builder.labels.values() for name in pending)


@dataclass(frozen=True)
class GenSequence:
    """One generated sequence: its seed, starting state and instruction lines."""

    seed: int
    init_regs: tuple[int, ...]  # 32 entries; x0, sp and s0 are 0 (set by the prologue)
    buffer: bytes
    body: tuple[str, ...]

    def listing(self) -> str:
        regs = "\n".join(f"#   x{i:<2} = {v:#018x}" for i, v in enumerate(self.init_regs)
                         if i and i not in BASE_REGS)
        return f"# sequence seed {self.seed}\n{regs}\n" + "\n".join(self.body)


def generate_sequence(seed: int, forms: Sequence[Form] = FORMS) -> GenSequence:
    """The sequence for ``seed``: same seed, same sequence, on every machine."""
    builder = _SequenceBuilder(seed)
    rng = builder.rng
    regs = tuple(0 if i == 0 or i in BASE_REGS else random_value(rng) for i in range(32))
    buffer = bytearray(rng.randbytes(BUF_SIZE))
    for word in range(BUF_SIZE // 8):
        if rng.random() < 0.3:
            buffer[word * 8:word * 8 + 8] = random_value(rng).to_bytes(8, "little")
    body = builder.body(forms, rng.randint(20, 60))
    return GenSequence(seed, regs, bytes(buffer), body)


def program_seeds(program_seed: int, count: int) -> list[int]:
    """Sequence seeds of program ``program_seed``: unique across programs below 10**6 each."""
    return [program_seed * 1_000_000 + i for i in range(count)]


def generate_program(program_seed: int, count: int) -> list[GenSequence]:
    return [generate_sequence(s) for s in program_seeds(program_seed, count)]


def marker(position: int) -> int:
    return MARKER | position


def _slot(position: int) -> str:
    return f"rvd_slot_{position}"


def _reg_slot(reg: int) -> str:
    return f"{REGS_OFFSET + 8 * (reg - 1)}(sp)"


# Shared subroutines, so each sequence adds only six instructions of its own around its body
# (an engine that translates code pays once for these, not once per sequence).
_SUBROUTINES = (
    "rvd_load:",  # sp = slot: s0 = slot + S0_OFFSET, x3..x31 from the slot; ra is loaded inline
    f"addi s0, sp, {S0_OFFSET}",
    *(f"ld x{r}, {_reg_slot(r)}" for r in _DEST_REGS if r != 1),
    "ret",
    "rvd_store:",  # x2..x31 to the slot (ra was stored inline), then the completion marker
    *(f"sd x{r}, {_reg_slot(r)}" for r in range(2, 32)),
    "lla t0, out_area",
    "sub t0, sp, t0",
    f"srli t0, t0, {SLOT_SIZE.bit_length() - 1}",
    f"li t1, {MARKER:#x}",
    "or t0, t0, t1",
    f"sd t0, {MARKER_OFFSET}(sp)",
    "ret",
)


def render_program(sequences: Sequence[GenSequence]) -> str:
    """Assembly for the shared part of a harness: code in .text.seq, slots in .data.seq.

    The code starts at ``seq_start`` and ends by jumping to ``harness_exit``; the slots lie
    between ``out_area`` and ``out_end``.
    """
    text = [".option norelax", ".option norvc", '.section .text.seq,"ax",@progbits',
            ".globl seq_start", "seq_start:"]
    for pos, seq in enumerate(sequences):
        text += [f"# sequence {pos}: seed {seq.seed}", f"lla sp, {_slot(pos)}", "call rvd_load",
                 f"ld ra, {_reg_slot(1)}", *seq.body, f"sd ra, {_reg_slot(1)}", "call rvd_store"]
    text += ["j harness_exit", *_SUBROUTINES, '.section .data.seq,"aw",@progbits',
             f".balign {SLOT_SIZE}", ".globl out_area", "out_area:"]
    for pos, seq in enumerate(sequences):
        quads = [int.from_bytes(seq.buffer[i:i + 8], "little") for i in range(0, BUF_SIZE, 8)]
        quads += seq.init_regs[1:] + (0,)
        text.append(f"{_slot(pos)}:")
        text += [".quad " + ", ".join(f"{q:#x}" for q in quads[i:i + 8])
                 for i in range(0, len(quads), 8)]
    text += [".globl out_end", "out_end:", ""]
    return "\n".join(text)


@dataclass(frozen=True)
class SlotState:
    """A sequence's final state as read from its output slot."""

    regs: tuple[int, ...]  # x0..x31 (x0 = 0)
    buffer: bytes
    marker: int


def parse_slots(data: bytes) -> list[SlotState]:
    """Split an output area into per-sequence states."""
    states = []
    for start in range(0, len(data) - SLOT_SIZE + 1, SLOT_SIZE):
        slot = data[start:start + SLOT_SIZE]
        regs = (0, *(int.from_bytes(slot[REGS_OFFSET + 8 * i:REGS_OFFSET + 8 * i + 8], "little")
                     for i in range(31)))
        states.append(SlotState(regs, slot[:BUF_SIZE],
                                int.from_bytes(slot[MARKER_OFFSET:SLOT_SIZE], "little")))
    return states


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequence", type=int, help="print one sequence (by its seed)")
    parser.add_argument("--program", type=int, help="print a whole program (by its seed)")
    parser.add_argument("--count", type=int, default=200, help="sequences per program")
    args = parser.parse_args(argv)
    if args.sequence is not None:
        print(generate_sequence(args.sequence).listing())
    if args.program is not None:
        print(render_program(generate_program(args.program, args.count)), end="")


if __name__ == "__main__":
    main()
