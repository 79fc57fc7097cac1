"""Loads and stores that native code hands to Python (jit.py ``memory_call``): device registers and
TLB misses go on natively, a fault leaves at the instruction's boundary without doing the access
twice, and an error a device raises reaches whoever ran the code."""

from __future__ import annotations

import pytest
from guest_code import RAM, link, machine, parcels, tools_available

from polyvm import VmConfig
from polyvm.arch.riscv64.translate import RiscvTranslator
from polyvm.arch.riscv64.traps import Cause, GuestTrap
from polyvm.engine.interpreter.pycodegen import compile_block
from polyvm.engine.jit.context import Exit
from polyvm.engine.jit.jit import Jit

DEVICE = 0x1000_0000
DATA = RAM + 0x10_0000
NOTHING = 0x2000_0000
"""No RAM and no device there: an access faults."""
CODE = """
.option norvc
.text
.globl start
start:
    lw t0, 0(s1)
    sw t0, 4(s1)
    sd t0, 0(s0)
    ld t1, 0(s0)
    add a0, t0, t1
    lw a1, 0(s2)
    add a2, a1, a0
    j done
.globl fault
fault = start + 20
.globl done
done:
    ebreak
"""
A0, A1, A2, S0, S1, S2 = 10, 11, 12, 8, 9, 18


class Register:
    """A device with one register: reads return ``value`` (or raise ``error``), writes are kept."""

    def __init__(self, value: int, error: Exception | None = None) -> None:
        self.value = value
        self.error = error
        self.reads = 0
        self.writes: list[int] = []

    def read(self, offset: int, size: int) -> int:
        self.reads += 1
        if self.error is not None:
            raise self.error
        return self.value

    def write(self, offset: int, val: int, size: int) -> None:
        self.writes.append(val)

    def interrupt(self) -> int | None:
        return None


@pytest.fixture(scope="module")
def code():
    if not tools_available():
        pytest.skip("riscv64-unknown-elf binutils not installed")
    return link(CODE)


def _run(code, device: Register, target: int, native: bool) -> tuple[list[int], Jit | None]:
    """Run the block at ``start`` once, natively or in the Python tier, with s2 = ``target``; the
    registers after it, and the JIT that ran it."""
    text, symbols = code
    hart, namespace = machine()
    hart.mmu.bus.register(DEVICE, 0x100, device, "register")
    hart.mmu.ram.write(RAM, text)
    hart.mmu.ram.write(DATA + 0x1000, (0x1234).to_bytes(4, "little"))
    block = RiscvTranslator().translate(symbols["start"], parcels(text))
    jit = None
    if native:
        jit = Jit(VmConfig())
        jit.bind(namespace, hart.mmu.ram.host_address)
        regs = jit.state.regs
        run = jit.compile(block)
        start = lambda: jit.execute(run)  # noqa: E731
    else:
        regs = hart.x
        start = compile_block(block, namespace)
    regs[S0], regs[S1], regs[S2] = DATA, DEVICE, target
    assert start() == symbols["done"]
    return list(regs), jit


def test_device_registers_and_tlb_misses_stay_native(code):
    python_device, native_device = Register(0x55), Register(0x55)
    expected, _ = _run(code, python_device, DATA + 0x1000, native=False)
    regs, jit = _run(code, native_device, DATA + 0x1000, native=True)
    assert regs == expected
    assert regs[A2] == 0x1234 + 2 * 0x55
    assert (native_device.reads, native_device.writes) == (1, [0x55])
    assert (python_device.reads, python_device.writes) == (1, [0x55])
    assert jit.exits[Exit.MEMORY] == 0
    assert jit.memory_calls >= 4, "two device accesses and the RAM pages' first accesses"


def test_a_fault_leaves_at_its_instruction_after_the_accesses_before_it(code):
    device = Register(0x55)
    with pytest.raises(GuestTrap) as trap:
        _run(code, device, NOTHING, native=True)
    fault = code[1]["fault"]
    assert (trap.value.cause, trap.value.tval, trap.value.pc) == (Cause.LOAD_ACCESS, NOTHING, fault)
    assert (device.reads, device.writes) == (1, [0x55]), "the device saw each access once"


def test_an_error_a_device_raises_reaches_the_caller_once(code):
    device = Register(0, error=RuntimeError("device broke"))
    with pytest.raises(RuntimeError, match="device broke"):
        _run(code, device, DATA + 0x1000, native=True)
    assert device.reads == 1, "the access is not repeated by the Python tail"
