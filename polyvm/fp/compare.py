"""Operations that select, compare, classify or re-sign values without rounding.

Each function returns (result, fflags): a bit pattern for min/max/sign injection, 0/1 for the
comparisons and the 10-bit class mask for classify.
"""

from __future__ import annotations

from polyvm.fp.formats import Format
from polyvm.fp.rounding import NV


def _order_key(fmt: Format, x: int) -> int:
    """An integer that orders non-NaN values numerically, with -0 just below +0."""
    mag = x & fmt.abs_mask
    return -mag - 1 if x & fmt.sign_mask else mag


def _value_key(fmt: Format, x: int) -> int:
    """An integer that orders non-NaN values numerically, with -0 equal to +0."""
    mag = x & fmt.abs_mask
    return -mag if x & fmt.sign_mask else mag


def _select(fmt: Format, a: int, b: int, want_max: bool) -> tuple[int, int]:
    """IEEE 754-2019 minimumNumber/maximumNumber as RISC-V F 2.2 defines FMIN/FMAX."""
    a_nan = fmt.is_nan(a)
    b_nan = fmt.is_nan(b)
    if a_nan or b_nan:
        flags = NV if fmt.is_snan(a) or fmt.is_snan(b) else 0
        if a_nan and b_nan:
            return fmt.canonical_nan, flags
        return (b if a_nan else a), flags
    a_first = _order_key(fmt, a) >= _order_key(fmt, b)
    return (a if a_first == want_max else b), 0


def fmin(fmt: Format, a: int, b: int) -> tuple[int, int]:
    return _select(fmt, a, b, False)


def fmax(fmt: Format, a: int, b: int) -> tuple[int, int]:
    return _select(fmt, a, b, True)


def _compare(fmt: Format, a: int, b: int, quiet: bool) -> tuple[int, int] | None:
    """The (0, flags) result of a comparison with a NaN operand, else None."""
    if fmt.is_nan(a) or fmt.is_nan(b):
        if quiet and not (fmt.is_snan(a) or fmt.is_snan(b)):
            return 0, 0
        return 0, NV
    return None


def feq(fmt: Format, a: int, b: int) -> tuple[int, int]:
    return _compare(fmt, a, b, True) or (int(_value_key(fmt, a) == _value_key(fmt, b)), 0)


def flt(fmt: Format, a: int, b: int) -> tuple[int, int]:
    return _compare(fmt, a, b, False) or (int(_value_key(fmt, a) < _value_key(fmt, b)), 0)


def fle(fmt: Format, a: int, b: int) -> tuple[int, int]:
    return _compare(fmt, a, b, False) or (int(_value_key(fmt, a) <= _value_key(fmt, b)), 0)


def fclass(fmt: Format, a: int) -> tuple[int, int]:
    """The FCLASS mask: one bit of -inf, -normal, -subnormal, -0, +0, +subnormal, +normal, +inf,
    sNaN, qNaN (bits 0..9)."""
    mag = a & fmt.abs_mask
    if mag > fmt.inf:
        return (1 << 9 if a & fmt.quiet else 1 << 8), 0
    if mag == fmt.inf:
        bit = 7
    elif mag >= fmt.implicit:
        bit = 6
    elif mag:
        bit = 5
    else:
        bit = 4
    return 1 << (7 - bit if a & fmt.sign_mask else bit), 0


def fsgnj(fmt: Format, a: int, b: int) -> tuple[int, int]:
    return (a & fmt.abs_mask) | (b & fmt.sign_mask), 0


def fsgnjn(fmt: Format, a: int, b: int) -> tuple[int, int]:
    return (a & fmt.abs_mask) | (~b & fmt.sign_mask), 0


def fsgnjx(fmt: Format, a: int, b: int) -> tuple[int, int]:
    return a ^ (b & fmt.sign_mask), 0
