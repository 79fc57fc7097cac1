"""RISC-V rounding modes, accrued-exception flags, and the single rounding step of every operation.

Every arithmetic result is first computed exactly as (-1)**sign * sig * 2**exp with Python integers,
then rounded once by `round_pack`. Tininess is detected after rounding, as the F extension mandates.
"""

from __future__ import annotations

from polyvm.fp.formats import Format

RNE, RTZ, RDN, RUP, RMM = 0, 1, 2, 3, 4
ROUNDING_MODES = (RNE, RTZ, RDN, RUP, RMM)

NV, DZ, OF, UF, NX = 16, 8, 4, 2, 1


def round_increment(rm: int, sign: int, odd: int, rem: int, half: int) -> bool:
    """Whether a truncated magnitude moves up one unit; rem (nonzero) is the discarded part and
    half the weight of one half unit."""
    if rm == RNE:
        return rem > half or (rem == half and odd)
    if rm == RMM:
        return rem >= half
    if rm == RDN:
        return sign == 1
    if rm == RUP:
        return sign == 0
    return False


def overflows_to_inf(rm: int, sign: int) -> bool:
    """Whether an overflowing result becomes infinity (else the largest finite number)."""
    return rm == RNE or rm == RMM or (rm == RDN and sign == 1) or (rm == RUP and sign == 0)


def _reaches_min_normal(sig: int, n: int, p: int, rm: int, sign: int) -> bool:
    """Whether sig (n bits) rounded to p bits with an unbounded exponent carries into n+1 bits."""
    shift = n - p
    if shift <= 0 or sig >> shift != (1 << p) - 1:
        return False
    rem = sig & ((1 << shift) - 1)
    return rem != 0 and round_increment(rm, sign, 1, rem, 1 << (shift - 1))


def round_pack(fmt: Format, sign: int, sig: int, exp: int, rm: int) -> tuple[int, int]:
    """Round the nonzero exact value (-1)**sign * sig * 2**exp to fmt: (bits, fflags)."""
    n = sig.bit_length()
    lsb = exp + n - fmt.precision
    if lsb < fmt.qmin:
        lsb = fmt.qmin
    shift = lsb - exp
    flags = 0
    if shift <= 0:
        mant = sig << -shift
    else:
        mant = sig >> shift
        rem = sig & ((1 << shift) - 1)
        if rem:
            flags = NX
            if round_increment(rm, sign, mant & 1, rem, 1 << (shift - 1)):
                mant += 1
            top = exp + n - 1
            if top < fmt.emin and not (
                top == fmt.emin - 1 and _reaches_min_normal(sig, n, fmt.precision, rm, sign)
            ):
                flags |= UF
    # A carry out of the significand lands in the exponent field, as does a subnormal rounding up.
    mag = ((lsb - fmt.qmin) << fmt.frac_bits) + mant
    if mag >= fmt.inf:
        flags |= OF | NX
        mag = fmt.inf if overflows_to_inf(rm, sign) else fmt.max_finite
    return (sign << fmt.sign_shift) | mag, flags
