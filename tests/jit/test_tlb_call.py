"""TLB_CALL (jit.py ``tlb_call``): an atomic that misses the native TLB has Python put its page there
and goes on natively; a page that may not enter the TLBs (a watched one) or a misaligned address
takes the memory side exit instead, and Python finishes the block with the same result."""

from __future__ import annotations

import struct

import pytest
from guest_code import RAM, link, machine, parcels, tools_available

from polyvm import VmConfig
from polyvm.arch.riscv64.translate import RiscvTranslator
from polyvm.arch.riscv64.traps import Cause, GuestTrap
from polyvm.engine.jit.context import Exit
from polyvm.engine.jit.jit import Jit

DATA = RAM + 0x10_0000
AMOADD_W = 0x00B6252F  # amoadd.w a0, a1, (a2)
JUMP_SELF = 0x0000006F
A0, A1, A2 = 10, 11, 12
T0, T1 = 5, 6


def run_amoadd(address: int, slow: bool) -> tuple[object, Jit, int]:
    """Run ``amoadd.w a0, a1, (a2)`` natively from an empty native TLB, with a2 = ``address`` and a1 = 5
    over the word 10 at DATA; (a0 or the trap, the JIT, the word at DATA after)."""
    hart, namespace = machine()
    ram = hart.mmu.ram
    ram.write(RAM, struct.pack("<II", AMOADD_W, JUMP_SELF))
    ram.write(DATA, struct.pack("<I", 10))
    if slow:
        hart.mmu.set_slow_pages({DATA >> 12})
    jit = Jit(VmConfig())
    jit.bind(namespace, ram.host_address)
    jit.state.regs[A1], jit.state.regs[A2] = 5, address

    def fetch16(pc: int) -> int:
        return ram.read_int(pc, 2)

    compiled = jit.compile(RiscvTranslator().translate(RAM, fetch16))
    jit.state.flush_tlb()
    try:
        jit.execute(compiled)
        result: object = jit.state.regs[A0]
    except GuestTrap as trap:
        result = trap.cause
    return result, jit, struct.unpack("<I", ram.read(DATA, 4))[0]


@pytest.mark.parametrize("slow", [False, True], ids=["tlb page", "watched page"])
def test_an_atomic_that_misses_the_tlb(slow):
    old, jit, word = run_amoadd(DATA, slow)
    assert (old, word) == (10, 15)
    assert (jit.tlb_calls, jit.exits[Exit.MEMORY]) == ((0, 1) if slow else (1, 0))


def test_a_misaligned_atomic_takes_the_side_exit_and_traps():
    cause, jit, word = run_amoadd(DATA + 2, slow=False)
    assert cause in (Cause.STORE_MISALIGNED, Cause.STORE_ACCESS)
    assert (jit.tlb_calls, jit.exits[Exit.MEMORY], word) == (0, 1, 10)


POLL_LOOP = """
.option norvc
.text
.globl loop
loop:
    lw a5, 0(t0)
    addi t1, t1, -1
    bnez t1, loop
.globl done
done:
    j done
"""


def test_a_loop_whose_address_does_not_change_calls_once():
    """A loop that only loads from one address (a polling loop) misses the native TLB at its first
    turn only: the call says it may write the TLB entry it was given, so LLVM does not keep the
    missing tag loaded before the loop (each turn would call back into Python)."""
    if not tools_available():
        pytest.skip("riscv64-unknown-elf binutils not installed")
    text, symbols = link(POLL_LOOP)
    hart, namespace = machine()
    hart.mmu.ram.write(RAM, text)
    jit = Jit(VmConfig())
    jit.bind(namespace, hart.mmu.ram.host_address)
    jit.state.regs[T0], jit.state.regs[T1] = DATA, 5000
    jit.compile(RiscvTranslator().translate(symbols["loop"], parcels(text)))
    jit.state.flush_tlb()
    assert jit.run(symbols["loop"], 10**9) == symbols["done"]
    assert jit.state.regs[T1] == 0
    assert (jit.tlb_calls, jit.exits[Exit.MEMORY]) == (1, 0)
