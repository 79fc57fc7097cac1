"""RISC-V AMOs (amoswap .. amomaxu, .w and .d) run inside native code (codegen ``_BlockCodegen.amo``).

Native results are compared bit for bit with the interpreter tier's generated Python, which runs
``RiscvHart.amo``: the destination register, the memory word and the bytes around it, every slot,
the next pc or the trap, and the instructions counted. An AMO whose page is in the native write TLB
must not leave native code; a misaligned one, or one whose page is not in the write TLB, leaves
through the memory side exit and Python runs (or traps) it. Instructions are encoded here, so
no assembler is needed.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from guest_code import RAM, machine, parcels

from polyvm import RiscvHart, VmConfig
from polyvm.arch.riscv64.hart import AMO_OPS
from polyvm.arch.riscv64.translate import RiscvTranslator
from polyvm.arch.riscv64.traps import Cause, GuestTrap
from polyvm.engine.hybrid import HybridEngine
from polyvm.engine.interpreter.engine import Interpreter
from polyvm.engine.interpreter.pycodegen import compile_block
from polyvm.engine.jit.context import ICOUNT, Exit
from polyvm.engine.jit.jit import CompiledBlock, Jit

M64 = (1 << 64) - 1
DATA = RAM + 0x10_0000
T0, A0, A1, A2, A3, A4, A5 = 5, 10, 11, 12, 13, 14, 15
FUNCT5 = {"amoadd": 0x00, "amoswap": 0x01, "amoxor": 0x04, "amoor": 0x08, "amoand": 0x0C,
          "amomin": 0x10, "amomax": 0x14, "amominu": 0x18, "amomaxu": 0x1C}
VALUES = (0, 1, 2, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0001, 0x7FFF_FFFF_FFFF_FFFF,
          1 << 63, M64, 0xDEAD_BEEF_8000_0001)
"""Operands around the 32- and 64-bit sign bits and carries; upper halves test the .w truncation."""
AROUND = bytes(range(0xA0, 0xB8))
"""What surrounds the AMO's word at DATA + 8 (it must stay as it is)."""


def amo(kind: str, size: int, rd: int, rs1: int, rs2: int) -> int:
    return (FUNCT5[kind] << 27 | rs2 << 20 | rs1 << 15 | (2 if size == 4 else 3) << 12
            | rd << 7 | 0x2F)


def addi(rd: int, rs1: int, imm: int) -> int:
    return (imm & 0xFFF) << 20 | rs1 << 15 | rd << 7 | 0x13


def sd(rs2: int, rs1: int, imm: int) -> int:
    return (imm >> 5 & 0x7F) << 25 | rs2 << 20 | rs1 << 15 | 3 << 12 | (imm & 0x1F) << 7 | 0x23


def bne(rs1: int, rs2: int, offset: int) -> int:
    o = offset & 0x1FFF
    return ((o >> 12) << 31 | (o >> 5 & 0x3F) << 25 | rs2 << 20 | rs1 << 15 | 1 << 12
            | (o >> 1 & 0xF) << 8 | (o >> 11 & 1) << 7 | 0x63)


def jal(rd: int, offset: int) -> int:
    o = offset & 0x1F_FFFF
    return ((o >> 20) << 31 | (o >> 1 & 0x3FF) << 21 | (o >> 11 & 1) << 20 | (o >> 12 & 0xFF) << 12
            | rd << 7 | 0x6F)


def text(words: list[int]) -> bytes:
    return b"".join(word.to_bytes(4, "little") for word in words)


def sext(value: int, size: int) -> int:
    sign = 1 << (8 * size - 1)
    return ((value & (2 * sign - 1)) ^ sign) - sign & M64


def outcome(run: Callable[[], int]) -> tuple:
    try:
        return ("pc", run())
    except GuestTrap as trap:
        return ("trap", trap.cause, trap.tval, trap.pc, trap.index)


@dataclass
class Pair:
    """One block on a reference hart (pycodegen) and natively on a second hart bound to a Jit."""

    jit: Jit
    ref: RiscvHart
    nat: RiscvHart
    python: Callable[[], int]
    compiled: CompiledBlock

    def set_reg(self, reg: int, value: int) -> None:
        self.ref.x[reg] = self.jit.state.regs[reg] = value & M64

    def write(self, addr: int, data: bytes) -> None:
        for hart in (self.ref, self.nat):
            hart.mmu.ram.write(addr, data)

    def run(self) -> tuple:
        """Both sides once: the native outcome, after checking it, its slots and memory match."""
        expected = outcome(self.python)
        got = outcome(lambda: self.jit.execute(self.compiled))
        assert got == expected
        assert list(self.jit.state.regs) == self.ref.x
        assert self.nat.mmu.ram.read(DATA, 4096) == self.ref.mmu.ram.read(DATA, 4096)
        return got


@pytest.fixture(scope="module")
def jit() -> Jit:
    return Jit(VmConfig())


def pair(jit: Jit, words: list[int], write_tlb: bool = True) -> Pair:
    """``words`` at RAM as one block; the data page in the native write TLB if ``write_tlb``."""
    ref, ref_ns = machine()
    nat, nat_ns = machine()
    jit.bind(nat_ns, nat.mmu.ram.host_address)
    jit.flush_code_cache()
    jit.state.flush_tlb()
    jit.exits.clear()
    jit.state.regs[:] = [0] * len(jit.state.regs)
    if write_tlb:
        jit.state.fill(DATA >> 12, -RAM, write=True)
    code = text(words)
    block = RiscvTranslator().translate(RAM, parcels(code))
    result = Pair(jit, ref, nat, compile_block(block, ref_ns), jit.compile(block))
    result.write(RAM, code)
    return result


@pytest.mark.parametrize("size", [4, 8])
@pytest.mark.parametrize("kind", sorted(AMO_OPS))
def test_every_amo_matches_python_natively(jit, kind, size):
    p = pair(jit, [amo(kind, size, A0, A1, A2), addi(A3, A0, 1)])
    p.set_reg(A1, DATA + 8)
    mask = (1 << (8 * size)) - 1
    for old, value in itertools.product(VALUES, VALUES):
        p.write(DATA, AROUND)
        p.write(DATA + 8, (old & mask).to_bytes(size, "little"))
        p.set_reg(A0, 0x5555)
        p.set_reg(A2, value)
        assert p.run() == ("pc", RAM + 8), (hex(old), hex(value))
        assert p.jit.state.regs[A0] == sext(old, size)
    assert jit.exits == Counter(), "an AMO on a page in the write TLB stays in native code"


SPOT_CHECKS = [
    # kind, size, memory before, rs2, memory after (rd gets the old value, sign-extended)
    ("amoadd", 4, 0xFFFF_FFFF, 2, 1),
    ("amoadd", 8, M64, 2, 1),
    ("amoswap", 4, 5, 0x1_0000_0007, 7),
    ("amoxor", 8, 0xF0F0, 0xFFFF, 0x0F0F),
    ("amoand", 4, 0x8000_00FF, 0xFFFF_FFFF_8000_000F, 0x8000_000F),
    ("amoor", 4, 0x8000_0000, 0x1_0000_0001, 0x8000_0001),
    ("amomin", 4, 0x8000_0000, 1, 0x8000_0000),
    ("amominu", 4, 0x8000_0000, 1, 1),
    ("amomax", 4, 0xFFFF_FFFF, 0xFFFF_FFFF_0000_0000, 0),
    ("amomaxu", 4, 0xFFFF_FFFF, 0, 0xFFFF_FFFF),
    ("amomin", 8, 1 << 63, 0, 1 << 63),
    ("amomax", 8, 1 << 63, 0, 0),
    ("amominu", 8, 1 << 63, 0x8000_0000, 0x8000_0000),
    ("amomaxu", 8, 1 << 63, 1, 1 << 63),
]


@pytest.mark.parametrize(("kind", "size", "before", "operand", "after"), SPOT_CHECKS)
@pytest.mark.parametrize("rd", [A0, 0])
def test_amo_results_by_hand(jit, kind, size, before, operand, after, rd):
    p = pair(jit, [amo(kind, size, rd, A1, A2)])
    p.write(DATA, AROUND)
    p.write(DATA + 8, before.to_bytes(size, "little"))
    p.set_reg(A1, DATA + 8)
    p.set_reg(A2, operand)
    p.run()
    assert p.nat.mmu.ram.read(DATA + 8, size) == after.to_bytes(size, "little")
    assert p.nat.mmu.ram.read(DATA + 8 + size, 8) == AROUND[8 + size:16 + size]
    assert p.jit.state.regs[A0] == (sext(before, size) if rd else 0)
    assert jit.exits == Counter()


@pytest.mark.parametrize("size", [4, 8])
def test_misaligned_amo_traps_at_its_instruction(jit, size):
    p = pair(jit, [addi(T0, T0, 1), amo("amoadd", size, A0, A1, A2), addi(A3, A3, 1)])
    p.write(DATA, AROUND)
    p.set_reg(A0, 0x5555)
    p.set_reg(A1, DATA + 8 + size // 2)
    p.set_reg(A2, 3)
    icount = jit.state.context[ICOUNT]
    assert p.run() == ("trap", Cause.STORE_MISALIGNED, DATA + 8 + size // 2, RAM + 4, 1)
    assert jit.state.context[ICOUNT] - icount == 1, "only the addi before the AMO retired"
    assert p.jit.state.regs[T0] == 1 and p.jit.state.regs[A0] == 0x5555
    assert jit.exits == Counter({Exit.MEMORY: 1})


@pytest.mark.parametrize("read_tlb", [False, True])
def test_amo_outside_the_write_tlb_takes_the_slow_path(jit, read_tlb):
    """Without a write-TLB entry (a read-TLB one does not do) TLB_CALL has Python put the page in
    the write TLB, and the AMO runs natively: same result."""
    p = pair(jit, [amo("amomaxu", 8, A0, A1, A2), addi(A3, A0, 1)], write_tlb=False)
    if read_tlb:
        jit.state.fill(DATA >> 12, -RAM, write=False)
    p.write(DATA, AROUND)
    p.set_reg(A1, DATA + 8)
    p.set_reg(A2, M64)
    icount, calls = jit.state.context[ICOUNT], jit.tlb_calls
    assert p.run() == ("pc", RAM + 8)
    assert jit.state.context[ICOUNT] - icount == 2
    assert p.nat.mmu.ram.read(DATA + 8, 8) == M64.to_bytes(8, "little")
    assert p.jit.state.regs[A3] == int.from_bytes(AROUND[8:16], "little") + 1
    assert (jit.exits, jit.tlb_calls - calls) == (Counter(), 1)


LOOPS = 50


def loop_program() -> bytes:
    """A store to the data page (so its page enters the write TLB), LOOPS passes of AMOs, then a
    misaligned AMO that traps to a handler spinning at HANDLER."""
    return text([
        addi(T0, 0, LOOPS),                 # RAM + 0
        sd(0, A1, 8),                       # RAM + 4: the page becomes writable in the fast maps
        amo("amoadd", 4, A0, A1, A2),       # RAM + 8: loop
        amo("amomaxu", 8, A3, A4, T0),      # RAM + 12
        amo("amoswap", 4, 0, A1, T0),       # RAM + 16
        amo("amomin", 8, A0, A4, A2),       # RAM + 20
        addi(T0, T0, -1),                   # RAM + 24
        bne(T0, 0, -20),                    # RAM + 28
        amo("amoor", 8, A3, A5, A2),        # RAM + 32: misaligned
        jal(0, 0),                          # RAM + 36: HANDLER
    ])


HANDLER = RAM + 36


def run_engine(engine_type: type[Interpreter], **options: bool) -> tuple[Interpreter, tuple]:
    hart, _ = machine()
    hart.mmu.ram.write(RAM, loop_program())
    engine = engine_type(VmConfig().with_icount(), hart, **options)
    for reg, value in ((A1, DATA), (A2, 0xFFFF_FFFF_8000_0003), (A4, DATA + 16), (A5, DATA + 4)):
        hart.write_reg(reg, value)
    hart.pc, hart.mtvec = RAM, HANDLER
    engine.run_slice()
    state = (hart.pc, hart.instret, hart.mepc, hart.mcause, hart.mtval,
             [hart.read_reg(r) for r in range(32)], hart.mmu.ram.read(DATA, 64))
    return engine, state


def test_amo_loop_in_the_jit_engine_matches_the_interpreter():
    """A whole slice under the instruction-count clock: JIT mode (every block native, and the loop
    compiled to a region in the background) against the interpreter, and the AMOs stay native."""
    _, expected = run_engine(Interpreter)
    engine, got = run_engine(HybridEngine, compile_all=True)
    assert got == expected
    pc, instret, mepc, mcause, mtval, *_ = got
    assert (pc, mepc, mcause, mtval) == (HANDLER, RAM + 32, Cause.STORE_MISALIGNED, DATA + 4)
    assert instret == 2 + 6 * LOOPS, "the slice ends at the trap, the misaligned AMO not retired"
    assert engine.native_blocks >= LOOPS
    assert engine.jit.exits == Counter({Exit.MEMORY: 1}), "the misaligned AMO"
    assert engine.jit.memory_calls == 1, "the store's TLB miss"
