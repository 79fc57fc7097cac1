"""Correctly rounded add, subtract, multiply, divide, square root and fused multiply-add.

Operands and results are raw bit patterns of one format; every NaN result is the canonical NaN.
Each function returns (result bits, fflags).
"""

from __future__ import annotations

from math import isqrt

from polyvm.fp.formats import Format
from polyvm.fp.rounding import DZ, NV, RDN, round_pack


def _nan_result(fmt: Format, *operands: int) -> tuple[int, int]:
    """Canonical NaN, with NV if any operand is a signalling NaN."""
    for x in operands:
        if fmt.is_snan(x):
            return fmt.canonical_nan, NV
    return fmt.canonical_nan, 0


def _exact_zero(fmt: Format, rm: int) -> int:
    """Sign of an exact zero sum of operands of opposite signs: -0 only when rounding down."""
    return fmt.sign_mask if rm == RDN else 0


def _sum(fmt: Format, sa: int, ma: int, ea: int, sb: int, mb: int, eb: int, rm: int):
    """Round (-1)**sa*ma*2**ea + (-1)**sb*mb*2**eb, both terms nonzero."""
    if ea > eb:
        ma <<= ea - eb
        ea = eb
    else:
        mb <<= eb - ea
    total = (-ma if sa else ma) + (-mb if sb else mb)
    if total > 0:
        return round_pack(fmt, 0, total, ea, rm)
    if total < 0:
        return round_pack(fmt, 1, -total, ea, rm)
    return _exact_zero(fmt, rm), 0


def add(fmt: Format, a: int, b: int, rm: int) -> tuple[int, int]:
    am = a & fmt.abs_mask
    bm = b & fmt.abs_mask
    inf = fmt.inf
    if am >= inf or bm >= inf:
        if am > inf or bm > inf:
            return _nan_result(fmt, a, b)
        if am == bm and a != b:
            return fmt.canonical_nan, NV
        return (a if am == inf else b), 0
    if not bm:
        if am:
            return a, 0
        return (a if a == b else _exact_zero(fmt, rm)), 0
    if not am:
        return b, 0
    ma, ea = fmt.decode(a)
    mb, eb = fmt.decode(b)
    s = fmt.sign_shift
    return _sum(fmt, a >> s, ma, ea, b >> s, mb, eb, rm)


def sub(fmt: Format, a: int, b: int, rm: int) -> tuple[int, int]:
    return add(fmt, a, b ^ fmt.sign_mask, rm)


def mul(fmt: Format, a: int, b: int, rm: int) -> tuple[int, int]:
    am = a & fmt.abs_mask
    bm = b & fmt.abs_mask
    inf = fmt.inf
    sign = (a ^ b) & fmt.sign_mask
    if am >= inf or bm >= inf:
        if am > inf or bm > inf:
            return _nan_result(fmt, a, b)
        if not am or not bm:
            return fmt.canonical_nan, NV
        return sign | inf, 0
    if not am or not bm:
        return sign, 0
    ma, ea = fmt.decode(a)
    mb, eb = fmt.decode(b)
    return round_pack(fmt, sign >> fmt.sign_shift, ma * mb, ea + eb, rm)


def div(fmt: Format, a: int, b: int, rm: int) -> tuple[int, int]:
    am = a & fmt.abs_mask
    bm = b & fmt.abs_mask
    inf = fmt.inf
    sign = (a ^ b) & fmt.sign_mask
    if am >= inf or bm >= inf:
        if am > inf or bm > inf:
            return _nan_result(fmt, a, b)
        if am == bm:
            return fmt.canonical_nan, NV
        return (sign | inf if am == inf else sign), 0
    if not bm:
        if not am:
            return fmt.canonical_nan, NV
        return sign | inf, DZ
    if not am:
        return sign, 0
    ma, ea = fmt.decode(a)
    mb, eb = fmt.decode(b)
    # At least precision+2 quotient bits, plus a sticky bit for a nonzero remainder.
    k = max(0, fmt.precision + 2 + mb.bit_length() - ma.bit_length())
    q, r = divmod(ma << k, mb)
    if r:
        q = (q << 1) | 1
        k += 1
    return round_pack(fmt, sign >> fmt.sign_shift, q, ea - eb - k, rm)


def sqrt(fmt: Format, a: int, rm: int) -> tuple[int, int]:
    am = a & fmt.abs_mask
    if am > fmt.inf:
        return _nan_result(fmt, a)
    if not am:
        return a, 0
    if a & fmt.sign_mask:
        return fmt.canonical_nan, NV
    if am == fmt.inf:
        return a, 0
    m, e = fmt.decode(a)
    if e & 1:
        m <<= 1
        e -= 1
    # At least precision+2 root bits, plus a sticky bit for an inexact root.
    k = max(0, fmt.precision + 3 - (m.bit_length() + 1) // 2)
    x = m << (2 * k)
    r = isqrt(x)
    e = e // 2 - k
    if r * r != x:
        r = (r << 1) | 1
        e -= 1
    return round_pack(fmt, 0, r, e, rm)


def fma(
    fmt: Format, negate_product: int, negate_addend: int, a: int, b: int, c: int, rm: int
) -> tuple[int, int]:
    """(-1)**negate_product * a * b + (-1)**negate_addend * c with a single rounding."""
    am = a & fmt.abs_mask
    bm = b & fmt.abs_mask
    cm = c & fmt.abs_mask
    inf = fmt.inf
    s = fmt.sign_shift
    if am > inf or bm > inf or cm > inf:
        # RISC-V: inf * 0 raises NV even when the addend is a quiet NaN.
        if (am == inf and not bm) or (bm == inf and not am):
            return fmt.canonical_nan, NV
        return _nan_result(fmt, a, b, c)
    ps = ((a ^ b) >> s) ^ negate_product
    cs = (c >> s) ^ negate_addend
    if am == inf or bm == inf:
        if not am or not bm or (cm == inf and cs != ps):
            return fmt.canonical_nan, NV
        return (ps << s) | inf, 0
    if cm == inf:
        return (cs << s) | inf, 0
    if not am or not bm:
        if cm:
            return (cs << s) | cm, 0
        return ((ps << s) if ps == cs else _exact_zero(fmt, rm)), 0
    ma, ea = fmt.decode(a)
    mb, eb = fmt.decode(b)
    if not cm:
        return round_pack(fmt, ps, ma * mb, ea + eb, rm)
    mc, ec = fmt.decode(c)
    return _sum(fmt, ps, ma * mb, ea + eb, cs, mc, ec, rm)
