"""mip's SEIP under CSRRS/CSRRC: the read shows the PLIC's signal ORed in, but the write modifies
the software bit alone (privileged spec), so a set or clear of another bit never latches SEIP."""

import struct

import pytest

from polyvm import ExecMode, Interpreter, RiscvHart, SoftMmu, VmConfig
from polyvm.arch.riscv64 import csr as C
from polyvm.mem.paging import PagingMode

RAM = 0x8000_0000
T0 = 5


def csr_instruction(funct3: int, csr: int, rs1: int, rd: int = 0) -> int:
    return csr << 20 | rs1 << 15 | funct3 << 12 | rd << 7 | 0x73


def run_one(words: list[int], seip_line: bool, t0: int) -> RiscvHart:
    mmu = SoftMmu(1 << 20, PagingMode.NONE, ram_base=RAM)
    mmu.ram.write(RAM, b"".join(struct.pack("<I", w) for w in [*words, 0x0000006F]))
    hart = RiscvHart(0, mmu, lambda: 0)
    hart.pc = RAM
    hart.x[T0] = t0
    hart.set_interrupt_pending(9, seip_line)
    Interpreter(VmConfig().with_exec_mode(ExecMode.INTERPRETER), hart).run_slice(budget=1)
    return hart


@pytest.mark.parametrize("funct3, name", [(2, "csrrs"), (3, "csrrc")])
def test_set_or_clear_of_ssip_does_not_latch_the_plic_signal(funct3: int, name: str) -> None:
    hart = run_one([csr_instruction(funct3, C.MIP, T0, rd=6)], seip_line=True, t0=C.SSIP)
    assert hart.x[6] & C.SEIP, f"{name} reads the PLIC's signal"
    hart.set_interrupt_pending(9, False)
    assert not hart.mip & C.SEIP, f"{name} latched SEIP into the software bit"
    assert bool(hart.mip & C.SSIP) == (funct3 == 2)


def test_m_mode_still_sets_and_clears_the_software_seip() -> None:
    hart = run_one([csr_instruction(2, C.MIP, T0)], seip_line=False, t0=C.SEIP)
    assert hart.mip & C.SEIP
    hart.set_interrupt_pending(9, True)
    clear_with_write = 2 | 4  # csr_op's mode: kind 2 (clear) with the write bit
    hart.csr_op(clear_with_write, C.MIP, C.SEIP, hart.pc, 0)
    assert hart.mip & C.SEIP, "the PLIC's signal still shows after clearing the software bit"
    hart.set_interrupt_pending(9, False)
    assert not hart.mip & C.SEIP
