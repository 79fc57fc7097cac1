"""A console's coalesced port in native code (codegen.py ``memory_front``, device/coalesced.py):
once Python has seen a page reach the UART for loads and stores, native code reads LSR and writes
THR there without calling back, the bytes come out in order and the same as in the interpreter, and
a fence of the page, a regime switch, a read-only mapping or a state where THR writes do more (the
THR-empty interrupt on) send the accesses back to Python."""

from __future__ import annotations

import struct

import pytest
from guest_code import RAM, linked_engine, tools_available

from polyvm import ExecMode, InstructionLimit, RiscvHart, SoftMmu, VmConfig
from polyvm.arch.riscv64.csr import SUM
from polyvm.device.irq import IrqLine
from polyvm.device.uart16550 import IIR_THRI, Uart16550
from polyvm.engine.hybrid import HybridEngine
from polyvm.mem.paging import PTE_G, Priv
from tests.engine.address_spaces import LEAF, AddressSpaces, satp

UART = 0x1000_0000
MESSAGE = b"hello, port\n"
PRINTS = """
.option norvc
.text
.globl start
start:
    li s1, 0x10000000
    li s3, 20
again:
    la s2, message
next:
    lbu a0, 0(s2)
    beqz a0, printed
wait:
    lbu t0, 5(s1)
    andi t0, t0, 0x20
    beqz t0, wait
    sb a0, 0(s1)
    addi s2, s2, 1
    j next
printed:
    addi s3, s3, -1
    bnez s3, again
    li t0, 2
    sb t0, 1(s1)
    li t0, 'X'
    sb t0, 0(s1)
    sb zero, 1(s1)
    li t0, 'Y'
    sb t0, 0(s1)
    ebreak
.globl handler
handler:
    j handler
message:
    .string "hello, port\\n"
"""
"""Print MESSAGE 20 times as a polling driver does (wait for THR empty, write the byte), then write
one byte with the THR-empty interrupt on and one with it off again."""


class Lines:
    def __init__(self) -> None:
        self.levels: dict[int, bool] = {}

    def set_irq(self, line: int, level: bool) -> None:
        self.levels[line] = level


def _uart(mmu: SoftMmu) -> tuple[Uart16550, bytearray]:
    output = bytearray()
    uart = Uart16550(IrqLine(Lines(), 1), output.extend)
    mmu.bus.register(UART, 0x100, uart, "uart")
    return uart, output


@pytest.mark.parametrize("mode", [ExecMode.INTERPRETER, ExecMode.HYBRID, ExecMode.JIT])
def test_a_polling_console_driver_prints_the_same_in_every_mode(mode, tmp_path, monkeypatch):
    if not tools_available():
        pytest.skip("riscv64-unknown-elf binutils not installed")
    monkeypatch.setenv("POLYVM_CACHE", str(tmp_path))
    engine, symbols = linked_engine(PRINTS, mode)
    hart = engine.hart
    uart, output = _uart(hart.mmu)
    hart.pc = RAM
    for _ in range(200):
        engine.run(InstructionLimit(500))
        if hart.pc == symbols["handler"]:
            break
    uart.drain()
    assert bytes(output) == MESSAGE * 20 + b"XY"
    assert (uart.iir & 0x0F, uart.thr_pending) == (0x01, True), "no interrupt: IER is off again"
    if mode is ExecMode.JIT:
        accesses = 2 * 20 * len(MESSAGE) + 5
        assert engine.jit.memory_calls < 20, f"{engine.jit.memory_calls} of {accesses} accesses called back"


WRITE_THEN_READ = struct.pack("<III", 0x00A58023, 0x0055C603, 0x0000006F)
"""sb a0, 0(a1); lbu a2, 5(a1); j . (spins for the rest of the slice)"""
WRITE_READ_FLIP_WRITE = struct.pack("<IIIII", 0x00A58023, 0x0055C603, 0x1002B073, 0x00A58023, 0x0000006F)
"""sb a0, 0(a1); lbu a2, 5(a1); csrc sstatus, t0; sb a0, 0(a1); j ."""
CODE, CONSOLE, USER_CONSOLE = 0x4000_0000, 0x4000_2000, 0x4000_3000
FLIPPING = CODE + 0x100
DATA_LEAF, USER_DATA_LEAF = 0b11000111, 0b11010111  # V R W A D, and U
A0, A1, A2, T0 = 10, 11, 12, 5


@pytest.fixture
def kernel() -> tuple[HybridEngine, Uart16550, bytearray, list[int]]:
    """A JIT-mode engine in S-mode over two address spaces that map the code as a global kernel
    page and the UART at CONSOLE as a kernel page; the first also maps it at USER_CONSOLE as a
    user page."""
    spaces = AddressSpaces()
    roots = [spaces.table() for _ in range(2)]
    for root in roots:
        spaces.map(root, CODE, RAM, LEAF | PTE_G)
        spaces.map(root, CONSOLE, UART, DATA_LEAF)
    spaces.map(roots[0], USER_CONSOLE, UART, USER_DATA_LEAF)
    spaces.mmu.ram.write(RAM, WRITE_THEN_READ)
    spaces.mmu.ram.write(FLIPPING - CODE + RAM, WRITE_READ_FLIP_WRITE)
    uart, output = _uart(spaces.mmu)
    hart = RiscvHart(0, spaces.mmu, lambda: 0)
    hart.priv = Priv.S
    spaces.mmu.set_context(Priv.S, Priv.S, False, False)
    spaces.mmu.set_satp(satp(roots[0], 1))
    engine = HybridEngine(VmConfig().with_exec_mode(ExecMode.JIT), hart, compile_all=True)
    return engine, uart, output, roots


def put(engine: HybridEngine, byte: int, at: int = CONSOLE, code: int = CODE) -> tuple[int, int]:
    """Run ``code`` with a0 = ``byte`` and a1 = ``at``: a2 (LSR) and the memory calls it took."""
    hart, jit = engine.hart, engine.jit
    hart.pc, hart.x[A0], hart.x[A1], hart.x[A2] = code, byte, at, 0
    calls = jit.memory_calls
    engine.run_slice(8)
    return hart.x[A2], jit.memory_calls - calls


def test_the_port_is_used_until_a_fence_or_a_regime_switch(kernel):
    engine, uart, output, roots = kernel
    assert put(engine, ord("a")) == (0x60, 2), "Python saw the page for stores, then for loads"
    assert put(engine, ord("b")) == (0x60, 0)
    assert bytes(output) == b"a", "b waits in the port"
    engine.hart.sfence_vma(CONSOLE, 0, 10, 0, pc=0, index=0)
    assert put(engine, ord("c")) == (0x60, 2)
    assert bytes(output) == b"abc", "the Python write transmitted what the port held first"
    engine.mmu.set_satp(satp(roots[1], 2))
    assert put(engine, ord("d")) == (0x60, 2)
    uart.write(1, 0x02, 1)  # the THR-empty interrupt on: a THR write raises it
    assert put(engine, ord("e")) == (0x60, 1), "the load still goes natively"
    assert uart.iir & 0x0F == IIR_THRI
    uart.drain()
    assert bytes(output) == b"abcde"


def test_a_sum_flip_in_native_code_closes_the_port_of_a_user_page(kernel):
    """With mstatus.SUM set, S-mode code reaches the UART through a user page (a first run, which
    leaves SUM set, has every block entered and the port open); once native code clears SUM
    itself, a store there must fault instead of going to the port."""
    engine, uart, output, _ = kernel
    hart = engine.hart
    hart.mstatus |= SUM
    hart._sync_mmu()
    hart.mtvec, hart.x[T0] = CODE + 8, 0
    assert put(engine, ord("a"), USER_CONSOLE, FLIPPING) == (0x60, 2)
    hart.x[T0] = SUM
    put(engine, ord("b"), USER_CONSOLE, FLIPPING)
    assert (hart.priv, hart.mcause, hart.mepc, hart.mtval) == (Priv.M, 15, FLIPPING + 12, USER_CONSOLE)
    uart.drain()
    assert bytes(output) == b"aab"
