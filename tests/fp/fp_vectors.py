"""Test vectors for the FP differential test, weighted toward the values where IEEE 754 and
RISC-V rules bite: signed zeros, subnormal and normal boundaries, infinities, quiet, signalling
and payload NaNs, one-ulp neighbours, rounding ties, overflow and underflow thresholds, and the
edges of the integer conversion ranges. Operands are raw 64-bit register values.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from polyvm.fp import F32, F64, INSTRUCTIONS, ROUNDING_MODES, Format, box32
from polyvm.fp.arith import div, mul, sub
from polyvm.fp.rounding import RTZ, round_pack

MASK64 = (1 << 64) - 1


def _from_value(fmt: Format, value: float) -> int:
    """Bits of a number exactly representable in fmt (a Python float or int)."""
    if value == 0:
        return 0
    sign = fmt.sign_mask if value < 0 else 0
    mag = abs(value)
    exp = 0
    while mag >= 2:
        mag /= 2
        exp += 1
    while mag < 1:
        mag *= 2
        exp -= 1
    frac = int((mag - 1) * (1 << fmt.frac_bits))
    return sign | ((exp + fmt.bias) << fmt.frac_bits) | frac


def float_specials(fmt: Format) -> list[int]:
    """Special magnitudes and their one-ulp neighbours, with both signs."""
    p = fmt.precision
    anchors = [1.0, 2.0, 0.5, 1.5, 2.5, 3.0, 0.75, 10.0, 2.0 ** (p - 1), 2.0**p]
    anchors += [2.0**31, 2.0**32, 2.0**63, 2.0**64, 2.0**53, 2.0**24]
    if fmt is F64:
        anchors += [2.0**31 - 0.5, 2.0**31 + 0.5, 2.0**31 - 1.5, 2.0**32 - 0.5, 2.0**32 + 0.5,
                    2.0**31 - 1, 2.0**32 - 1, 2.0**31 + 1]
        # binary32 thresholds, for narrowing: smallest normal and subnormal, half of the
        # latter, the largest finite value and the point where rounding overflows.
        anchors += [2.0**-126, 2.0**-149, 2.0**-150, (2 - 2.0**-23) * 2.0**127,
                    (2 - 2.0**-24) * 2.0**127, 2.0**-126 * (1 - 2.0**-25)]
    mags = {0, 1, 2, 3, fmt.implicit - 2, fmt.implicit - 1, fmt.implicit, fmt.implicit + 1,
            fmt.implicit * 2 - 1, fmt.implicit * 2, fmt.max_finite, fmt.max_finite - 1, fmt.inf,
            fmt.canonical_nan, fmt.canonical_nan | 1, fmt.inf | fmt.frac_mask, fmt.inf | 1,
            fmt.inf | (fmt.quiet - 1), fmt.inf | (fmt.quiet >> 1)}
    for value in anchors:
        bits = _from_value(fmt, value)
        mags |= {bits - 1, bits, bits + 1}
    # Near the overflow and underflow thresholds of products and quotients of moderate values.
    for field in (1, 2, fmt.bias // 2, fmt.bias // 2 + 1, fmt.bias + fmt.bias // 2,
                  fmt.exp_mask - 2, fmt.exp_mask - 1):
        base = field << fmt.frac_bits
        mags |= {base, base | 1, base | fmt.frac_mask}
    return sorted(m | sign for m in mags for sign in (0, fmt.sign_mask))


def core_specials(fmt: Format) -> list[int]:
    """The few values whose every combination a three-operand instruction is tried on."""
    mags = (0, 1, fmt.implicit, fmt.bias << fmt.frac_bits, fmt.max_finite, fmt.inf)
    nans = [fmt.canonical_nan, fmt.inf | 1]
    return [m | sign for m in mags for sign in (0, fmt.sign_mask)] + nans


def int_specials() -> list[int]:
    """Integer register values at conversion boundaries, including ties at both precisions."""
    values = {0, 1, 2, 3, 7}
    for k in (23, 24, 25, 31, 32, 52, 53, 54, 62, 63, 64):
        base = 1 << k
        values |= {base - 1, base, base + 1, base + 2, base + 3}
    values |= {(1 << 24) + 1 << 8, ((1 << 24) + 3) << 39, (1 << 53) + 1 << 10}
    return sorted({v & MASK64 for v in values} | {-v & MASK64 for v in values})


class OperandGenerator:
    """Random operands of one register kind, mixing specials, raw bits and structured values."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.specials = {F32: float_specials(F32), F64: float_specials(F64)}
        self.ints = int_specials()

    def fraction(self, fmt: Format) -> int:
        rng = self.rng
        r = rng.random()
        bits = fmt.frac_bits
        if r < 0.4:
            return rng.getrandbits(bits)
        if r < 0.6:  # few bits set: exact results, ties
            return sum(1 << rng.randrange(bits) for _ in range(rng.randrange(4)))
        if r < 0.8:  # nearly all ones: carries
            return fmt.frac_mask ^ sum(1 << rng.randrange(bits) for _ in range(rng.randrange(3)))
        low = rng.randrange(1, bits + 1)
        return rng.getrandbits(low) << (bits - low) if rng.random() < 0.5 else rng.getrandbits(low)

    def exponent(self, fmt: Format) -> int:
        rng = self.rng
        r = rng.random()
        top = fmt.exp_mask
        p = fmt.precision
        if r < 0.35:
            return rng.randrange(top)
        if r < 0.6:
            return max(0, min(top - 1, fmt.bias + rng.randint(-p - 3, p + 3)))
        if r < 0.8:
            return rng.randint(0, p + 3)
        return rng.randint(top - p - 3, top - 1)

    def structured(self, fmt: Format) -> int:
        sign = fmt.sign_mask if self.rng.random() < 0.5 else 0
        return sign | (self.exponent(fmt) << fmt.frac_bits) | self.fraction(fmt)

    def float_bits(self, fmt: Format) -> int:
        r = self.rng.random()
        if r < 0.2:
            return self.rng.choice(self.specials[fmt])
        if r < 0.27:
            return self.rng.getrandbits(fmt.width)
        return self.structured(fmt)

    def near(self, fmt: Format, x: int) -> int:
        """x or -x moved by a few ulps, or with a close exponent and a fresh fraction."""
        rng = self.rng
        sign = fmt.sign_mask if rng.random() < 0.5 else 0
        mag = x & fmt.abs_mask
        if rng.random() < 0.5:
            mag = max(0, min(fmt.inf, mag + rng.randint(-3, 3)))
        else:
            field = (mag >> fmt.frac_bits) + rng.randint(-fmt.precision - 3, fmt.precision + 3)
            field = max(0, min(fmt.exp_mask - 1, field))
            mag = (field << fmt.frac_bits) | self.fraction(fmt)
        return sign | mag

    def threshold_partner(self, fmt: Format, x: int, quotient: bool) -> int:
        """A y whose product (or quotient) with x lands near the underflow or overflow edge."""
        rng = self.rng
        ex = ((x >> fmt.frac_bits) & fmt.exp_mask) - fmt.bias
        target = rng.choice((fmt.emin, fmt.emin - fmt.precision, fmt.emax)) + rng.randint(-3, 3)
        ey = ex - target if quotient else target - ex
        field = max(0, min(fmt.exp_mask - 1, ey + fmt.bias))
        sign = fmt.sign_mask if rng.random() < 0.5 else 0
        return sign | (field << fmt.frac_bits) | self.fraction(fmt)

    def edge(self, fmt: Format, target: Format) -> int:
        """A value of fmt where a result in target rounds across the underflow or overflow
        threshold: the leading target.precision bits all ones, then a random or tie tail."""
        rng = self.rng
        p = target.precision
        exp = rng.choice((target.emin - 1, target.emin - 2, target.emin - p, target.emax))
        tail_bits = fmt.precision - p
        head = (1 << p) - 1 - (rng.random() < 0.2)
        tail = 0
        if tail_bits:
            tail = rng.choice((rng.getrandbits(tail_bits), 1 << (tail_bits - 1), 1))
        return round_pack(fmt, rng.getrandbits(1), head << tail_bits | tail,
                          exp - fmt.precision + 1, RTZ)[0]

    def operands(self, stem: str, fmt: Format, arity: int) -> tuple[int, int, int]:
        """Random float operands, biased per instruction toward cancellation, ties and results
        near the underflow and overflow thresholds."""
        rng = self.rng
        if stem == "fcvt" and fmt is F64 and rng.random() < 0.3:
            return self.edge(F64, F32), 0, 0
        a = self.float_bits(fmt)
        r = rng.random()
        if r < 0.35:
            b = self.float_bits(fmt)
        elif r < 0.7:
            b = self.near(fmt, a)
        else:
            b = self.threshold_partner(fmt, a, quotient=stem == "fdiv")
        rm = rng.choice(ROUNDING_MODES)
        fmt_mask = (1 << fmt.width) - 1
        if stem in ("fmul", "fdiv") and rng.random() < 0.2:  # exact result just off the edge
            edge = rng.choice((fmt.implicit, fmt.max_finite, fmt.implicit - 1))
            if stem == "fmul":
                b = (div(fmt, edge, a, rm)[0] + rng.randint(-2, 2)) & fmt_mask
            else:
                a = (mul(fmt, b, edge, rm)[0] + rng.randint(-2, 2)) & fmt_mask
        if arity < 3:
            return a, b, 0
        product = mul(fmt, a, b, rm)[0]
        r = rng.random()
        if r < 0.3:
            c = self.float_bits(fmt)
        elif r < 0.6:  # cancel most of the product
            c = self.near(fmt, product)
        elif r < 0.8:
            c = self.near(fmt, a if rng.random() < 0.5 else b)
        else:
            c = sub(fmt, self.edge(fmt, fmt), product, rm)[0]
        return a, b, c

    def integer(self) -> int:
        rng = self.rng
        r = rng.random()
        if r < 0.25:
            return rng.choice(self.ints)
        if r < 0.5:
            value = rng.getrandbits(rng.randint(1, 64))
        elif r < 0.75:  # a random head, then one tie or near-tie bit pattern, then zeros
            head = rng.getrandbits(rng.choice((24, 25, 53, 54))) | 1
            value = ((head << 1 | 1) << rng.randint(0, 8)) + rng.randint(-1, 1)
        else:
            value = rng.getrandbits(64)
        if rng.random() < 0.5:
            value = -value
        if rng.random() < 0.3:  # only the low 32 bits matter for .w/.wu sources
            value = (value & 0xFFFF_FFFF) | (rng.getrandbits(32) << 32)
        return value & MASK64


def _box(kind: str, rng: random.Random, bits: int) -> int:
    """Register value of a binary32 source: usually NaN-boxed, sometimes deliberately not."""
    if kind != "S" or rng.random() >= 0.03:
        return box32(bits) if kind == "S" else bits
    return (rng.getrandbits(32) << 32 | bits) & MASK64


def _special_combinations(gen: OperandGenerator, kind: str, fmt: Format, arity: int) -> list:
    """(rm, operands) drawn only from special values: every single operand under every rounding
    mode, every pair of `float_specials`, every triple of `core_specials`."""
    if kind == "X":
        return [(rm, (x,)) for x in gen.ints for rm in ROUNDING_MODES]
    if arity == 1:
        return [(rm, (x,)) for x in gen.specials[fmt] for rm in ROUNDING_MODES]
    if arity == 2:
        specials = gen.specials[fmt]
        return [(gen.rng.choice(ROUNDING_MODES), (a, b)) for a in specials for b in specials]
    core = core_specials(fmt)
    return [(gen.rng.choice(ROUNDING_MODES), (a, b, c)) for a in core for b in core for c in core]


def vectors(mnemonic: str, count: int, seed: int) -> Iterator[tuple[int, int, int, int]]:
    """(rm, rs1, rs2, rs3) for one instruction: first combinations of special values (all of
    them when half of count allows, else a sample), then random vectors."""
    ins = INSTRUCTIONS[mnemonic]
    rng = random.Random(f"{seed}:{mnemonic}")
    gen = OperandGenerator(rng)
    kind = ins.sources[0]
    fmt = F32 if kind == "S" or mnemonic in ("fmv.x.w", "fmv.w.x") else F64
    stem = mnemonic.split(".")[0]
    specials = _special_combinations(gen, kind, fmt, len(ins.sources))
    produced = 0
    for rm, operands in rng.sample(specials, min(len(specials), count // 2)):
        produced += 1
        a, b, c = (*(_box(kind, rng, x) for x in operands), 0, 0, 0)[:3]
        yield rm, a, b, c
    while produced < count:
        produced += 1
        rm = rng.choice(ROUNDING_MODES)
        if kind == "X":
            yield rm, gen.integer(), 0, 0
            continue
        a, b, c = gen.operands(stem, fmt, len(ins.sources))
        if kind == "D" and fmt is F32:  # fmv.x.w reads a raw register
            a |= rng.getrandbits(32) << 32
        yield rm, _box(kind, rng, a), _box(kind, rng, b), _box(kind, rng, c)
