"""Spot checks of polyvm.fp against the RISC-V F/D rules, and of binary64 round-to-nearest
results against the host's IEEE arithmetic (independent of the qemu differential test)."""

from __future__ import annotations

import math
import struct
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polyvm.fp import INSTRUCTIONS, box32, ops, unbox32
from polyvm.fp.rounding import DZ, NV, NX, OF, RDN, RMM, RNE, RTZ, RUP, UF


def d(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def s(x: float) -> int:
    return box32(struct.unpack("<I", struct.pack("<f", x))[0])


QNAN_S, QNAN_D = box32(0x7FC00000), 0x7FF8_0000_0000_0000
SNAN_S, SNAN_D = box32(0x7F800001), 0x7FF0_0000_0000_0001
INF_D, MAX_D = 0x7FF0_0000_0000_0000, 0x7FEF_FFFF_FFFF_FFFF
NEG = 0xFFFF_FFFF_0000_0000

CASES = [
    # mnemonic, rm, operands, result, fflags
    ("fmin.s", RNE, (SNAN_S, s(1.0)), s(1.0), NV),
    ("fmax.d", RNE, (QNAN_D, d(-2.0)), d(-2.0), 0),
    ("fmin.d", RNE, (QNAN_D, SNAN_D), QNAN_D, NV),
    ("fmin.d", RNE, (d(0.0), d(-0.0)), d(-0.0), 0),
    ("fmax.s", RNE, (s(-0.0), s(0.0)), s(0.0), 0),
    ("feq.d", RNE, (QNAN_D, d(1.0)), 0, 0),
    ("feq.d", RNE, (SNAN_D, d(1.0)), 0, NV),
    ("flt.d", RNE, (QNAN_D, d(1.0)), 0, NV),
    ("fle.s", RNE, (s(-0.0), s(0.0)), 1, 0),
    ("flt.s", RNE, (s(-0.0), s(0.0)), 0, 0),
    ("fclass.d", RNE, (d(-0.0),), 1 << 3, 0),
    ("fclass.d", RNE, (1,), 1 << 5, 0),
    ("fclass.s", RNE, (SNAN_S,), 1 << 8, 0),
    ("fclass.s", RNE, (0x7FC00000,), 1 << 9, 0),  # not NaN-boxed: reads as the canonical NaN
    ("fsgnjn.s", RNE, (0x3F800000, s(1.0)), box32(0xFFC00000), 0),
    ("fsgnjx.d", RNE, (d(-3.0), d(-1.0)), d(3.0), 0),
    ("fadd.d", RDN, (d(1.0), d(-1.0)), d(-0.0), 0),
    ("fadd.d", RUP, (d(1.0), d(-1.0)), d(0.0), 0),
    ("fadd.d", RDN, (d(-0.0), d(-0.0)), d(-0.0), 0),
    ("fsub.d", RNE, (d(-0.0), d(0.0)), d(-0.0), 0),
    ("fadd.s", RNE, (s(1.0), s(2.0**-24)), s(1.0), NX),
    ("fadd.s", RMM, (s(1.0), s(2.0**-24)), s(1.0 + 2.0**-23), NX),
    ("fadd.d", RNE, (INF_D, INF_D | 1 << 63), QNAN_D, NV),
    ("fmul.d", RNE, (MAX_D, d(2.0)), INF_D, OF | NX),
    ("fmul.d", RTZ, (MAX_D, d(2.0)), MAX_D, OF | NX),
    ("fmul.d", RDN, (MAX_D, d(2.0)), MAX_D, OF | NX),
    ("fmul.d", RDN, (MAX_D, d(-2.0)), INF_D | 1 << 63, OF | NX),
    # Tininess after rounding: rounds up to the smallest normal, so no underflow.
    ("fmul.d", RMM, (0x3FF0_0000_0000_0001, 0x800F_FFFF_FFFF_FFFF), 0x8010_0000_0000_0000, NX),
    ("fmul.d", RTZ, (0x3FF0_0000_0000_0001, 0x800F_FFFF_FFFF_FFFF), 0x800F_FFFF_FFFF_FFFF, UF | NX),
    ("fmul.d", RNE, (d(2.0**-1000), d(2.0**-100)), 0, UF | NX),
    ("fdiv.d", RNE, (d(1.0), d(-0.0)), INF_D | 1 << 63, DZ),
    ("fdiv.d", RNE, (d(0.0), d(0.0)), QNAN_D, NV),
    ("fsqrt.d", RNE, (d(-0.0),), d(-0.0), 0),
    ("fsqrt.d", RNE, (d(-1.0),), QNAN_D, NV),
    ("fsqrt.s", RNE, (s(2.0),), s(math.sqrt(2.0)), NX),
    ("fmadd.d", RNE, (INF_D, d(0.0), QNAN_D), QNAN_D, NV),
    ("fmadd.d", RNE, (d(2.0), d(3.0), d(1.0)), d(7.0), 0),
    ("fmsub.d", RNE, (d(2.0), d(3.0), d(1.0)), d(5.0), 0),
    ("fnmsub.d", RNE, (d(2.0), d(3.0), d(1.0)), d(-5.0), 0),
    ("fnmadd.d", RNE, (d(2.0), d(3.0), d(1.0)), d(-7.0), 0),
    ("fnmadd.d", RNE, (d(0.0), d(1.0), d(0.0)), d(-0.0), 0),
    ("fnmsub.d", RNE, (d(0.0), d(1.0), d(0.0)), d(0.0), 0),
    ("fmadd.d", RNE, (d(1.0 + 2.0**-30), d(1.0 - 2.0**-30), d(-1.0)), d(-(2.0**-60)), 0),
    ("fcvt.w.s", RNE, (QNAN_S | 1 << 31,), 0x7FFF_FFFF, NV),
    ("fcvt.w.d", RNE, (INF_D | 1 << 63,), NEG | 0x8000_0000, NV),
    ("fcvt.w.d", RNE, (d(-2.0**31 - 0.5),), NEG | 0x8000_0000, NX),
    ("fcvt.w.d", RDN, (d(-2.0**31 - 0.5),), NEG | 0x8000_0000, NV),
    ("fcvt.wu.d", RTZ, (d(-0.5),), 0, NX),
    ("fcvt.wu.d", RNE, (d(-1.0),), 0, NV),
    ("fcvt.wu.d", RNE, (d(3e9),), NEG | 3_000_000_000, 0),
    ("fcvt.wu.d", RNE, (QNAN_D,), (1 << 64) - 1, NV),
    ("fcvt.l.d", RNE, (d(-(2.0**63)),), 1 << 63, 0),
    ("fcvt.l.d", RNE, (d(2.0**63),), (1 << 63) - 1, NV),
    ("fcvt.lu.s", RUP, (s(2.5),), 3, NX),
    ("fcvt.l.d", RMM, (d(-2.5),), (1 << 64) - 3, NX),
    ("fcvt.l.d", RNE, (d(-2.5),), (1 << 64) - 2, NX),
    ("fcvt.s.w", RNE, (0xDEAD_BEEF_0000_0000,), s(0.0), 0),
    ("fcvt.s.wu", RNE, (0xFFFF_FFFF,), s(2.0**32), NX),
    ("fcvt.d.l", RTZ, ((1 << 64) - 1,), d(-1.0), 0),
    ("fcvt.s.l", RNE, ((1 << 24) + 1,), s(2.0**24), NX),
    ("fcvt.s.d", RNE, (SNAN_D,), QNAN_S, NV),
    ("fcvt.s.d", RNE, (d(1e300),), box32(0x7F800000), OF | NX),
    ("fcvt.d.s", RNE, (box32(1),), d(2.0**-149), 0),
    ("fmv.x.w", RNE, (box32(0x8000_0000),), NEG | 0x8000_0000, 0),
    ("fmv.x.w", RNE, (0x1234_5678_7FFF_FFFF,), 0x7FFF_FFFF, 0),
    ("fmv.w.x", RNE, (0x1234_5678_9ABC_DEF0,), box32(0x9ABC_DEF0), 0),
]


@pytest.mark.parametrize(("mnemonic", "rm", "operands", "result", "flags"), CASES)
def test_spec_case(mnemonic: str, rm: int, operands: tuple[int, ...], result: int, flags: int):
    assert INSTRUCTIONS[mnemonic].execute(operands, rm) == (result, flags)


def test_nan_boxing() -> None:
    assert box32(0x3F80_0000) == 0xFFFF_FFFF_3F80_0000
    assert unbox32(0xFFFF_FFFF_3F80_0000) == 0x3F80_0000
    assert unbox32(0xFFFF_FFFE_3F80_0000) == 0x7FC0_0000
    assert unbox32(0x3F80_0000) == 0x7FC0_0000


finite_or_special = st.floats(allow_nan=True, allow_infinity=True)


def _host(x: float) -> int:
    return d(x) if x == x else QNAN_D  # every NaN result is the canonical NaN


def _host_op(fn, *args: float) -> int | None:
    try:
        return _host(fn(*args))
    except (ZeroDivisionError, ValueError, OverflowError):
        return None


@given(finite_or_special, finite_or_special)
def test_binary64_nearest_matches_host(a: float, b: float) -> None:
    cases = (
        (ops.f64_add, lambda x, y: x + y),
        (ops.f64_sub, lambda x, y: x - y),
        (ops.f64_mul, lambda x, y: x * y),
        (ops.f64_div, lambda x, y: x / y),
    )
    for semantic, host in cases:
        want = _host_op(host, a, b)
        if want is not None:
            assert semantic(d(a), d(b), RNE)[0] == want
    if a >= 0:
        assert ops.f64_sqrt(d(a), RNE)[0] == _host(math.sqrt(a))


def _exact_nearest(value: Fraction) -> int | None:
    """binary64 bits of an exact rational rounded to nearest-even (CPython's int division is
    correctly rounded), or None if it overflows."""
    try:
        return d(value.numerator / value.denominator)
    except OverflowError:
        return None


finite64 = st.floats(allow_nan=False, allow_infinity=False)


@given(finite64, finite64, finite64)
def test_binary64_fused_multiply_add_is_rounded_once(a: float, b: float, c: float) -> None:
    exact = Fraction(a) * Fraction(b) + Fraction(c)
    want = _exact_nearest(exact)
    if want is not None and exact != 0:
        assert ops.f64_madd(d(a), d(b), d(c), RNE)[0] == want
        assert ops.f64_nmadd(d(a), d(b), d(c), RNE)[0] == want ^ (1 << 63)


finite32 = st.floats(width=32, allow_nan=False, allow_infinity=False)


@given(finite32, finite32)
def test_binary32_nearest_matches_host_double_rounding(a: float, b: float) -> None:
    # binary64 holds 2*24+2 bits, so rounding an exact binary32 sum, difference, product or
    # quotient first to binary64 and then to binary32 equals rounding it once.
    cases = (
        (ops.f32_add, a + b), (ops.f32_sub, a - b), (ops.f32_mul, a * b),
        (ops.f32_div, a / b if b else None),
    )
    for semantic, host in cases:
        if host is None or abs(host) >= 3.4028235677973366e38:  # rounds to infinity
            continue
        want = struct.unpack("<I", struct.pack("<f", host))[0]
        assert semantic(s(a) & 0xFFFF_FFFF, s(b) & 0xFFFF_FFFF, RNE)[0] == want
