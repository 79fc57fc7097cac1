"""Conversions between the two formats and between floating point and 32/64-bit integers,
with the RISC-V saturation rules for out-of-range and NaN inputs.

Each function returns (result, fflags). Integer results and operands are unsigned bit patterns of
the integer width; integer operands are taken from the low `width` bits of a register value.
"""

from __future__ import annotations

from polyvm.fp.formats import Format
from polyvm.fp.rounding import NV, NX, round_increment, round_pack


def to_int(fmt: Format, width: int, signed: int, a: int, rm: int) -> tuple[int, int]:
    """Round a to an integer of `width` bits; NaN gives the largest value and out-of-range
    values clamp, both with NV and without NX."""
    mask = (1 << width) - 1
    lo, hi = (-(1 << (width - 1)), (1 << (width - 1)) - 1) if signed else (0, mask)
    mag = a & fmt.abs_mask
    sign = a >> fmt.sign_shift
    if mag > fmt.inf:
        return hi & mask, NV
    if mag == fmt.inf:
        return (lo if sign else hi) & mask, NV
    sig, exp = fmt.decode(a)
    flags = 0
    if exp >= 0:
        value = sig << exp
    else:
        value = sig >> -exp
        rem = sig & ((1 << -exp) - 1)
        if rem:
            flags = NX
            if round_increment(rm, sign, value & 1, rem, 1 << (-exp - 1)):
                value += 1
    if sign:
        value = -value
    if value < lo:
        return lo & mask, NV
    if value > hi:
        return hi & mask, NV
    return value & mask, flags


def from_int(fmt: Format, width: int, signed: int, x: int, rm: int) -> tuple[int, int]:
    """Round the integer in the low `width` bits of x (two's complement if signed) to fmt."""
    value = x & ((1 << width) - 1)
    if not value:
        return 0, 0
    if signed and value >> (width - 1):
        return round_pack(fmt, 1, (1 << width) - value, 0, rm)
    return round_pack(fmt, 0, value, 0, rm)


def convert(src: Format, dst: Format, a: int, rm: int) -> tuple[int, int]:
    """Convert between formats: exact when widening, one rounding when narrowing."""
    mag = a & src.abs_mask
    sign = a >> src.sign_shift
    if mag > src.inf:
        return dst.canonical_nan, NV if src.is_snan(a) else 0
    if mag == src.inf:
        return (sign << dst.sign_shift) | dst.inf, 0
    if not mag:
        return sign << dst.sign_shift, 0
    sig, exp = src.decode(a)
    return round_pack(dst, sign, sig, exp, rm)
