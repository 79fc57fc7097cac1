"""LR and SC run inside native code (codegen ``load_reserved`` / ``store_conditional``) with the
reservation in the context block, which the hart's SoftMmu shares: results, memory and the
reservation match the interpreter tier's Python (``RiscvHart.lr``/``sc``) whichever side runs
which instruction, and they leave native code only for TLB misses and misalignment."""

from __future__ import annotations

from collections import Counter

import pytest
from test_native_amo import A0, A1, A2, A3, AROUND, DATA, RAM, addi, pair, sext

from polyvm.arch.riscv64.traps import Cause
from polyvm.engine.jit.context import Exit

M64 = (1 << 64) - 1
A6 = 16


def lr(size: int, rd: int, rs1: int) -> int:
    return 0x02 << 27 | rs1 << 15 | (2 if size == 4 else 3) << 12 | rd << 7 | 0x2F


def sc(size: int, rd: int, rs1: int, rs2: int) -> int:
    return 0x03 << 27 | rs2 << 20 | rs1 << 15 | (2 if size == 4 else 3) << 12 | rd << 7 | 0x2F


@pytest.fixture(scope="module")
def jit():
    from polyvm import VmConfig
    from polyvm.engine.jit.jit import Jit

    return Jit(VmConfig())


@pytest.mark.parametrize("size", [4, 8])
def test_lr_then_sc_succeeds_natively(jit, size):
    p = pair(jit, [lr(size, A0, A1), addi(A0, A0, 1), sc(size, A3, A1, A0)])
    jit.state.fill(DATA >> 12, -RAM, write=False)
    p.write(DATA, AROUND)
    p.write(DATA + 8, (0xFFFF_FFFF_FFFF_FFFF).to_bytes(8, "little"))
    p.set_reg(A1, DATA + 8)
    assert p.run() == ("pc", RAM + 12)
    assert p.jit.state.regs[A3] == 0, "the SC stored"
    assert p.jit.state.regs[A0] == (sext(M64, size) + 1) & M64
    assert p.nat.mmu.reservation is None and p.ref.mmu.reservation is None
    assert jit.exits == Counter()


@pytest.mark.parametrize("offset", [None, 8])
def test_sc_without_the_reservation_fails_natively(jit, offset):
    """No reservation at all, or one on another word: the SC writes nothing and returns 1."""
    words = [sc(8, A3, A1, A2)] if offset is None else [lr(8, A0, A6), sc(8, A3, A1, A2)]
    p = pair(jit, words)
    jit.state.fill(DATA >> 12, -RAM, write=False)
    p.write(DATA, AROUND)
    p.set_reg(A1, DATA + 8)
    p.set_reg(A6, DATA + 16)
    p.set_reg(A2, 0x1234)
    p.run()
    assert p.jit.state.regs[A3] == 1
    assert p.nat.mmu.ram.read(DATA, len(AROUND)) == AROUND
    assert jit.exits == Counter()


def test_native_lr_and_python_sc_share_the_reservation(jit):
    """The data page only in the read TLB, and kept out of the write TLB (watched): LR runs
    natively, SC leaves for Python, which must see the reservation the native LR made."""
    p = pair(jit, [lr(8, A0, A1), sc(8, A3, A1, A2)], write_tlb=False)
    jit.state.fill(DATA >> 12, -RAM, write=False)
    p.nat.mmu.set_slow_pages({DATA >> 12})
    p.write(DATA, AROUND)
    p.set_reg(A1, DATA + 8)
    p.set_reg(A2, 0x77)
    p.run()
    assert p.jit.state.regs[A3] == 0
    assert p.nat.mmu.ram.read(DATA + 8, 8) == (0x77).to_bytes(8, "little")
    assert jit.exits == Counter({Exit.MEMORY: 1})


def test_python_lr_and_native_sc_share_the_reservation(jit):
    p = pair(jit, [lr(4, A0, A1)], write_tlb=False)
    p.write(DATA, AROUND)
    p.set_reg(A1, DATA + 8)
    p.run()
    assert p.nat.mmu.reservation == DATA + 8, "Python's LR reserved (the read TLB was empty)"
    store = pair(jit, [sc(4, A3, A1, A2)])
    store.nat.mmu.reservation = DATA + 8
    store.write(DATA, AROUND)
    store.set_reg(A1, DATA + 8)
    store.set_reg(A2, 0x5555_0001)
    store.ref.mmu.reservation = DATA + 8
    store.run()
    assert store.jit.state.regs[A3] == 0 and store.nat.mmu.reservation is None
    assert store.nat.mmu.ram.read(DATA + 8, 4) == (0x5555_0001).to_bytes(4, "little")
    assert jit.exits == Counter()


@pytest.mark.parametrize(("word", "cause"), [(lr(8, A0, A1), Cause.LOAD_MISALIGNED),
                                             (sc(8, A3, A1, A2), Cause.STORE_MISALIGNED)])
def test_misaligned_lr_and_sc_trap_at_their_instruction(jit, word, cause):
    p = pair(jit, [addi(A2, A2, 1), word])
    jit.state.fill(DATA >> 12, -RAM, write=False)
    p.set_reg(A1, DATA + 4)
    assert p.run() == ("trap", cause, DATA + 4, RAM + 4, 1)
    assert jit.exits == Counter({Exit.MEMORY: 1})
