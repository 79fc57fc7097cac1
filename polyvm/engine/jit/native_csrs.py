"""The CSR accesses native code does itself instead of leaving to Python (hart.csr_op's semantics).

A Linux boot runs some 90,000 csrrs/csrrc on sstatus (the SIE toggles of local_irq_save/restore
around every critical section) and tens of thousands of accesses to the trap CSRs (sscratch, sepc,
scause, stval and OpenSBI's machine-mode ones); as helper side exits they were half of all native
exits (benchmarks/boot.py). The hart keeps these CSRs and its privilege level in cells inside the
JIT's context block (hart.HART_CELLS, context.CELLS), so generated code reads and writes them in
place. It leaves to Python (``Exit.HELPER``, before the instruction did anything) whenever the
access needs more than that: too low a privilege level (the illegal-instruction trap), a status
write that changes anything but the global interrupt enables and SUM (the other translation bits,
the previous-mode fields; SUM only when the context block holds the TLBs of the regime it switches
to, context.py FLIPPED_TLBS), or one that sets an enable while an interrupt may be pending (it
may become deliverable; ``RiscvHart.possible_interrupts`` says whether one may be: Linux's ~32,000
local_irq_restore calls of a boot mostly find none). What stays native never makes
``exit_pending`` true, so the block's exit check is a plain jump there.
``_BlockCodegen.csr`` emits the accesses this table describes.
"""

from __future__ import annotations

from dataclasses import dataclass

from polyvm.arch.riscv64 import csr as C
from polyvm.arch.riscv64.hart import HART_CELLS, TRAP_CSRS
from polyvm.engine.jit.context import CELLS


@dataclass(frozen=True)
class NativeCsr:
    """How native code accesses one CSR: the context word holding it, the privilege level it needs
    and the bits a write may change; a status view also computes SD and keeps the rest of
    mstatus (``view`` masks what reads show)."""

    word: int
    level: int
    writable: int
    view: int | None = None


def cell(name: str) -> int:
    """The context word of hart cell ``name``."""
    return CELLS + HART_CELLS.index(name)


def _native(number: int, name: str, writable: int, view: int | None = None) -> NativeCsr:
    return NativeCsr(cell(name), number >> 8 & 3, writable, view)


PRIV = cell("priv")
POSSIBLE_INTERRUPTS = cell("possible_interrupts")
NATIVE_CSRS: dict[int, NativeCsr] = {
    C.SSTATUS: _native(C.SSTATUS, "mstatus", C.SSTATUS_WRITABLE, C.SSTATUS_VIEW),
    C.MSTATUS: _native(C.MSTATUS, "mstatus", C.MSTATUS_WRITABLE | C.FS_MASK, C.M64),
    **{number: _native(number, name, mask) for number, (name, mask) in TRAP_CSRS.items()},
    C.MHARTID: _native(C.MHARTID, "hart_id", 0),
    C.MISA: _native(C.MISA, "misa", 0),
}
"""The CSR accesses native code does, by CSR number; the privilege level each needs is the one its
number encodes (as hart._csr_permitted reads it). Those with no writable bits are only read natively
(OpenSBI reads mhartid and misa ~2,200 times a Linux boot; benchmarks/boot.py): writes go to Python
(``native_access``)."""


def native_access(mode: int, number: int) -> bool:
    """Whether native code does the access of ``hart.csr_op(mode, number, ...)`` itself (a write
    when ``mode & 4``)."""
    csr = NATIVE_CSRS.get(number)
    return csr is not None and (csr.writable != 0 or not mode & 4)
