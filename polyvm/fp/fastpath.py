"""A provably exact fast path for the common case of the five basic operations under RNE.

When both operands are normal numbers, the rounding mode is round-to-nearest-even and the host's
correctly rounded binary64 result is itself a normal number (strictly above the smallest normal, so
it is not tiny even before rounding), the host result is the IEEE result and the only flag that
can be raised is NX. NX is decided exactly: by the TwoSum error term for add/sub and by comparing
exact rationals (float.as_integer_ratio) for mul/div/sqrt. binary32 operations are computed in
binary64 and rounded once more to binary32: for +, -, *, / and sqrt that double rounding is
innocuous because 53 >= 2*24 + 2 (Figueroa 1995), and NX is set when either rounding was inexact.
Anything else returns None and the caller uses the soft-float (polyvm.fp.arith). The differential
test against qemu-riscv64 (tests/fp) exercises both paths.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable

NX = 1
_Q, _D = struct.Struct("<Q"), struct.Struct("<d")
_I, _F = struct.Struct("<I"), struct.Struct("<f")
MIN_NORMAL_64, MAX_64 = 2.2250738585072014e-308, 1.7976931348623157e308
MIN_NORMAL_32, MAX_32 = 1.1754943508222875e-38, 3.4028234663852886e38

Exactness = Callable[[float, float, float], bool]


def _add_exact(x: float, y: float, r: float) -> bool:
    t = r - x
    return (x - (r - t)) + (y - t) == 0.0


def _sub_exact(x: float, y: float, r: float) -> bool:
    return _add_exact(x, -y, r)


def _mul_exact(x: float, y: float, r: float) -> bool:
    (xn, xd), (yn, yd), (rn, rd) = x.as_integer_ratio(), y.as_integer_ratio(), r.as_integer_ratio()
    return rn * xd * yd == xn * yn * rd


def _div_exact(x: float, y: float, r: float) -> bool:
    return _mul_exact(r, y, x)


def _sqrt_exact(x: float, _: float, r: float) -> bool:
    return _mul_exact(r, r, x)


_BINARY: dict[str, tuple[Callable[[float, float], float], Exactness]] = {
    "add": (lambda x, y: x + y, _add_exact),
    "sub": (lambda x, y: x - y, _sub_exact),
    "mul": (lambda x, y: x * y, _mul_exact),
    "div": (lambda x, y: x / y, _div_exact),
    "sqrt": (lambda x, _: math.sqrt(x) if x > 0 else math.nan, _sqrt_exact),
}


def fast64(op: str) -> Callable[[int, int], tuple[int, int] | None]:
    compute, exact = _BINARY[op]

    def run(a: int, b: int) -> tuple[int, int] | None:
        if not (0 < (a >> 52) & 0x7FF < 0x7FF and 0 < (b >> 52) & 0x7FF < 0x7FF):
            return None
        x, y = _D.unpack(_Q.pack(a))[0], _D.unpack(_Q.pack(b))[0]
        r = compute(x, y)
        if not MIN_NORMAL_64 < abs(r) <= MAX_64:
            return None
        return _Q.unpack(_D.pack(r))[0], 0 if exact(x, y, r) else NX

    return run


def fast32(op: str) -> Callable[[int, int], tuple[int, int] | None]:
    compute, exact = _BINARY[op]

    def run(a: int, b: int) -> tuple[int, int] | None:
        if not (0 < (a >> 23) & 0xFF < 0xFF and 0 < (b >> 23) & 0xFF < 0xFF):
            return None
        x, y = _F.unpack(_I.pack(a))[0], _F.unpack(_I.pack(b))[0]
        wide = compute(x, y)
        if not MIN_NORMAL_32 < abs(wide) < MAX_32:
            return None
        r = _F.unpack(_F.pack(wide))[0]
        if not MIN_NORMAL_32 < abs(r) <= MAX_32:
            return None
        inexact = r != wide or not exact(x, y, wide)
        return _I.unpack(_F.pack(r))[0], NX if inexact else 0

    return run


def accelerate(slow: Callable[..., tuple[int, int]], fast: Callable[[int, int], tuple[int, int] | None],
               unary: bool = False) -> Callable[..., tuple[int, int]]:
    """``slow(a, [b,] rm)`` with the fast path tried first under RNE."""
    if unary:
        def run_unary(a: int, rm: int) -> tuple[int, int]:
            if rm == 0:
                result = fast(a, a)
                if result is not None:
                    return result
            return slow(a, rm)
        return run_unary

    def run(a: int, b: int, rm: int) -> tuple[int, int]:
        if rm == 0:
            result = fast(a, b)
            if result is not None:
                return result
        return slow(a, b, rm)

    return run
