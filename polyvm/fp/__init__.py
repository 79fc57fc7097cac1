"""Exact RISC-V F/D floating-point semantics as pure functions on bit patterns.

Shared by the interpreter and the JIT (as a helper call). Results are computed exactly with
Python integers and rounded once; see `polyvm.fp.ops` for the functions, `polyvm.fp.instructions`
for the mnemonic table, and tests/fp for the differential test against qemu-riscv64.
"""

from polyvm.fp.formats import F32, F64, Format, box32, unbox32
from polyvm.fp.instructions import INSTRUCTIONS, FpInstruction
from polyvm.fp.rounding import DZ, NV, NX, OF, RDN, RMM, RNE, ROUNDING_MODES, RTZ, RUP, UF

__all__ = [
    "DZ", "F32", "F64", "INSTRUCTIONS", "NV", "NX", "OF", "RDN", "RMM", "RNE", "ROUNDING_MODES",
    "RTZ", "RUP", "UF", "Format", "FpInstruction", "box32", "unbox32",
]
