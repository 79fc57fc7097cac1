"""Status and trap CSR accesses run inside native code (codegen ``_BlockCodegen.csr``,
native_csrs.py) with the hart's cells in the context block.

Every CSR of NATIVE_CSRS, through every csrr* form, at every privilege level and over status values
and sources that do and do not touch more than the interrupt enables, is run natively and by the
interpreter tier's Python (``RiscvHart.csr_op`` and the exit check): the destination register, every
hart cell, the next pc, the trap or the end of the slice must match. An access leaves native code
exactly when Python has more to do than read or write the cell: a trap, a status write that changes
more than the enables, or one that raises an enable while an interrupt may be pending.
"""

from __future__ import annotations

import itertools

import pytest
from test_native_amo import A0, A1, RAM, outcome, pair

from polyvm import VmConfig
from polyvm.arch.riscv64 import csr as C
from polyvm.arch.riscv64.hart import GLOBAL_ENABLES, TRAP_CSRS
from polyvm.arch.riscv64.traps import ExitSlice
from polyvm.engine.jit.context import FLIPPED_TLBS, TLBS, Exit
from polyvm.engine.jit.jit import Jit
from polyvm.engine.jit.native_csrs import NATIVE_CSRS
from polyvm.mem.paging import Priv

M64 = (1 << 64) - 1
FUNCT3 = {"csrrw": 1, "csrrs": 2, "csrrc": 3, "csrrwi": 5, "csrrsi": 6, "csrrci": 7}
STATUS = (C.UXL_SXL_64, C.UXL_SXL_64 | C.SIE_BIT | C.MIE_BIT | C.SUM,
          C.UXL_SXL_64 | C.FS_MASK | C.SPP_BIT | C.SPIE_BIT | 3 << C.MPP_SHIFT)
"""mstatus before the access: enables off, enables and SUM on, FS dirty (so SD reads as set)."""
TRAP_CELLS = [name for name, _ in TRAP_CSRS.values()]
SOURCES = (0, C.SIE_BIT, C.SIE_BIT | C.MIE_BIT, C.SUM, C.SIE_BIT | C.SUM, 2 << C.MPP_SHIFT, M64,
           0x8000_0000_1234_5679)


def csr(name: str, number: int, rd: int, rs1: int) -> int:
    return number << 20 | rs1 << 15 | FUNCT3[name] << 12 | rd << 7 | 0x73


def guarded(run):
    try:
        return outcome(run)
    except ExitSlice as exit_:
        return ("exit", exit_.pc)


def expected_native(priv: Priv, number: int, name: str, rs1: int, old: int, source: int,
                    possible: int) -> bool:
    """Whether the access should stay in native code (the rule native_csrs.py states)."""
    spec = NATIVE_CSRS[number]
    if priv < spec.level:
        return False
    writes = name.endswith("w") or name.endswith("wi") or rs1 != 0
    if not writes:
        return True
    if not spec.writable:
        # No writable bits (mhartid, misa): Python does the write through HELPER_CALL without a side
        # exit, unless the write is illegal (a read-only CSR number: bits 11:10 set).
        return number >> 10 != 3
    if spec.view is None:
        return True
    value = (old | (C.SD if old & C.FS_MASK == C.FS_MASK else 0)) & spec.view
    kind = FUNCT3[name] & 3
    new = source if kind == 1 else (value | source if kind == 2 else value & ~source)
    enables = spec.writable & GLOBAL_ENABLES
    return not ((old ^ new) & spec.writable & ~enables) and not (new & ~old & enables and possible)


@pytest.fixture(scope="module")
def jit() -> Jit:
    return Jit(VmConfig())


@pytest.mark.parametrize("number", sorted(NATIVE_CSRS), ids=hex)
@pytest.mark.parametrize("name", sorted(FUNCT3))
def test_csr_access_matches_python(jit, number, name):
    immediate = name.endswith("i")
    for field in (0, 2, 31) if immediate else (A1, 0):
        p = pair(jit, [csr(name, number, A0, field)])
        for priv, old, source, pending in itertools.product((Priv.U, Priv.S, Priv.M), STATUS,
                                                            (field,) if immediate else SOURCES,
                                                            (C.STIP, 0)):
            for hart in (p.ref, p.nat):
                hart.priv, hart.mstatus = priv, old
                for cell in TRAP_CELLS:
                    setattr(hart, cell, 0x5555_0000_0000_0000 | number)
                hart.mie, hart.mideleg, hart.mip_sw = C.STIP, C.STIP, pending
                hart.expect_interrupts(1)
            p.set_reg(A1, source)
            p.set_reg(A0, 0xA0A0)
            jit.exits.clear()
            expected = guarded(p.python)
            got = guarded(lambda p=p: p.jit.execute(p.compiled))
            context = (hex(number), name, field, priv, hex(old), hex(source), pending)
            assert got == expected, context
            assert list(p.jit.state.regs) == p.ref.x, context
            assert list(p.nat.cells) == list(p.ref.cells), context
            written = source if immediate or field else 0
            stayed = not jit.exits[Exit.HELPER]
            assert stayed == expected_native(priv, number, name, field, old, written, pending), context
            if stayed and got[0] == "pc":
                assert got == ("pc", RAM + 4)


def test_cells_are_shared_with_the_context_block(jit):
    """The hart bound to a Jit keeps its HART_CELLS in the context block: a native write is the
    hart's value, and a Python write is what native code reads."""
    p = pair(jit, [csr("csrrw", C.SSCRATCH, A0, A1)])
    p.nat.priv = Priv.S
    p.nat.sscratch = 0x1234
    p.set_reg(A1, 0xBEEF)
    jit.execute(p.compiled)
    assert jit.state.regs[A0] == 0x1234
    assert p.nat.sscratch == 0xBEEF
    assert p.nat.priv is Priv.S


@pytest.mark.parametrize("number", [C.SSTATUS, C.MSTATUS], ids=hex)
def test_sum_flips_stay_native_and_switch_to_the_flipped_regimes_tlbs(number):
    """Given the TLBs of the regime with SUM flipped (context.py FLIPPED_TLBS), a status write that
    flips SUM (and nothing but the enables besides) stays native and swaps the two TLB words;
    without them it leaves to Python."""
    jit = Jit(VmConfig())
    for flipped, (name, start) in itertools.product((None, "SUM on"), (("csrrs", 0), ("csrrc", C.SUM))):
        p = pair(jit, [csr(name, number, A0, A1)])
        jit.state.switch_tlbs("SUM off", flipped)
        before = (jit.state.context[TLBS], jit.state.context[FLIPPED_TLBS])
        for hart in (p.ref, p.nat):
            hart.priv, hart.mstatus = Priv.S if number == C.SSTATUS else Priv.M, C.UXL_SXL_64 | start
        p.set_reg(A1, C.SUM)
        assert guarded(lambda p=p: jit.execute(p.compiled)) == guarded(p.python)
        assert list(p.nat.cells) == list(p.ref.cells)
        native = flipped is not None
        assert jit.exits[Exit.HELPER] == (not native), (flipped, name)
        after = (jit.state.context[TLBS], jit.state.context[FLIPPED_TLBS])
        assert after == (before[::-1] if native else before), (flipped, name)
        jit.state.switch_tlbs("reset", None)
