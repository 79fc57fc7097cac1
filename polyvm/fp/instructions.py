"""Every RV64 F and D computational instruction, by mnemonic, mapped to its semantic function.

`FpInstruction.execute` applies the register-file conventions around the pure semantics:
binary32 sources are unboxed and binary32 results NaN-boxed, 32-bit integer results are
sign-extended to 64 bits. Source kinds: "S" binary32 in an f register, "D" raw f register,
"X" integer register; destination kinds add "W", a sign-extended 32-bit integer result.
`uses_rm` marks instructions with an rm field (reserved rounding modes are illegal there, even
where the result is exact, such as FCVT.D.S); their semantic takes the resolved rm last.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from polyvm.fp import ops
from polyvm.fp.formats import box32, unbox32

MASK64 = (1 << 64) - 1


def _same(x: int) -> int:
    return x


def _sext32(x: int) -> int:
    return (x & 0xFFFF_FFFF) | (MASK64 ^ 0xFFFF_FFFF if x & 0x8000_0000 else 0)


def move32(x: int) -> tuple[int, int]:
    """FMV.X.W / FMV.W.X: the low 32 bits, untouched."""
    return x & 0xFFFF_FFFF, 0


def move64(x: int) -> tuple[int, int]:
    """FMV.X.D / FMV.D.X: all 64 bits, untouched."""
    return x & MASK64, 0


_READ: dict[str, Callable[[int], int]] = {"S": unbox32, "D": _same, "X": _same}
_WRITE: dict[str, Callable[[int], int]] = {"S": box32, "D": _same, "X": _same, "W": _sext32}


@dataclass(frozen=True)
class FpInstruction:
    """One instruction: its pure semantic function and how its operands map to registers."""

    mnemonic: str
    semantic: Callable[..., tuple[int, int]]
    sources: tuple[str, ...]
    dest: str
    uses_rm: bool
    execute: Callable[[Sequence[int], int], tuple[int, int]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        readers = tuple(_READ[kind] for kind in self.sources)
        write = _WRITE[self.dest]
        semantic = self.semantic
        uses_rm = self.uses_rm

        def execute(regs: Sequence[int], rm: int) -> tuple[int, int]:
            """Run on raw 64-bit register values (rs1, rs2, rs3 as needed) with a resolved rm."""
            args = [read(value) for read, value in zip(readers, regs, strict=False)]
            if uses_rm:
                args.append(rm)
            value, flags = semantic(*args)
            return write(value), flags

        object.__setattr__(self, "execute", execute)


# (mnemonic stem, operation name, number of f-register sources, has an rm field)
_FLOAT_RESULT = (
    ("fadd", "add", 2, True), ("fsub", "sub", 2, True), ("fmul", "mul", 2, True),
    ("fdiv", "div", 2, True), ("fsqrt", "sqrt", 1, True),
    ("fmadd", "madd", 3, True), ("fmsub", "msub", 3, True),
    ("fnmsub", "nmsub", 3, True), ("fnmadd", "nmadd", 3, True),
    ("fmin", "min", 2, False), ("fmax", "max", 2, False),
    ("fsgnj", "sgnj", 2, False), ("fsgnjn", "sgnjn", 2, False), ("fsgnjx", "sgnjx", 2, False),
)
_INT_RESULT = (
    ("feq", "eq", 2), ("flt", "lt", 2), ("fle", "le", 2), ("fclass", "class", 1),
)
# (mnemonic integer suffix, integer type name, integer-register kind of a result)
_INT_TYPES = (("w", "i32", "W"), ("wu", "u32", "W"), ("l", "i64", "X"), ("lu", "u64", "X"))


def _build() -> dict[str, FpInstruction]:
    rows: list[FpInstruction] = []
    for suffix, prefix, kind in (("s", "f32", "S"), ("d", "f64", "D")):
        def op(name: str, prefix: str = prefix) -> Callable[..., tuple[int, int]]:
            return getattr(ops, f"{prefix}_{name}")

        for stem, name, count, uses_rm in _FLOAT_RESULT:
            rows.append(FpInstruction(f"{stem}.{suffix}", op(name), (kind,) * count, kind, uses_rm))
        for stem, name, count in _INT_RESULT:
            rows.append(FpInstruction(f"{stem}.{suffix}", op(name), (kind,) * count, "X", False))
        for isuffix, itype, ikind in _INT_TYPES:
            to_int = op(f"to_{itype}")
            from_int = getattr(ops, f"{itype}_to_{prefix}")
            rows.append(FpInstruction(f"fcvt.{isuffix}.{suffix}", to_int, (kind,), ikind, True))
            rows.append(FpInstruction(f"fcvt.{suffix}.{isuffix}", from_int, ("X",), kind, True))
    rows += [
        FpInstruction("fcvt.s.d", ops.f64_to_f32, ("D",), "S", True),
        FpInstruction("fcvt.d.s", ops.f32_to_f64, ("S",), "D", True),
        FpInstruction("fmv.x.w", move32, ("D",), "W", False),
        FpInstruction("fmv.w.x", move32, ("X",), "S", False),
        FpInstruction("fmv.x.d", move64, ("D",), "X", False),
        FpInstruction("fmv.d.x", move64, ("X",), "D", False),
    ]
    return {row.mnemonic: row for row in rows}


INSTRUCTIONS: dict[str, FpInstruction] = _build()
