"""IEEE 754 binary32/binary64 encodings: field layout, special values and RISC-V NaN boxing."""

from __future__ import annotations


class Format:
    """Constants of one binary interchange format, all derived from its field widths."""

    __slots__ = (
        "name", "width", "frac_bits", "precision", "bias", "emin", "emax", "qmin",
        "sign_shift", "sign_mask", "abs_mask", "exp_mask", "frac_mask", "implicit",
        "inf", "quiet", "canonical_nan", "max_finite",
    )

    def __init__(self, name: str, exp_bits: int, frac_bits: int) -> None:
        self.name = name
        self.width = 1 + exp_bits + frac_bits
        self.frac_bits = frac_bits
        self.precision = frac_bits + 1
        self.bias = (1 << (exp_bits - 1)) - 1
        self.emin = 1 - self.bias  # exponent of the smallest normal number
        self.emax = self.bias
        self.qmin = self.emin - frac_bits  # exponent of the smallest subnormal (one unit)
        self.sign_shift = self.width - 1
        self.sign_mask = 1 << self.sign_shift
        self.abs_mask = self.sign_mask - 1
        self.exp_mask = (1 << exp_bits) - 1
        self.frac_mask = (1 << frac_bits) - 1
        self.implicit = 1 << frac_bits
        self.inf = self.exp_mask << frac_bits
        self.quiet = 1 << (frac_bits - 1)
        self.canonical_nan = self.inf | self.quiet
        self.max_finite = self.inf - 1

    def __repr__(self) -> str:
        return f"Format({self.name})"

    def decode(self, bits: int) -> tuple[int, int]:
        """Significand and exponent of a finite value's magnitude: |x| = sig * 2**exp."""
        field = (bits >> self.frac_bits) & self.exp_mask
        frac = bits & self.frac_mask
        if field:
            return frac | self.implicit, field + self.qmin - 1
        return frac, self.qmin

    def is_nan(self, bits: int) -> bool:
        return (bits & self.abs_mask) > self.inf

    def is_snan(self, bits: int) -> bool:
        return (bits & self.abs_mask) > self.inf and not bits & self.quiet


F32 = Format("binary32", 8, 23)
F64 = Format("binary64", 11, 52)

BOX_MASK = 0xFFFF_FFFF_0000_0000


def box32(bits32: int) -> int:
    """NaN-box a binary32 pattern into a 64-bit floating-point register value."""
    return BOX_MASK | bits32


def unbox32(bits64: int) -> int:
    """The binary32 held in a 64-bit register, or the canonical NaN if it is not properly boxed."""
    if bits64 & BOX_MASK == BOX_MASK:
        return bits64 & 0xFFFF_FFFF
    return F32.canonical_nan
