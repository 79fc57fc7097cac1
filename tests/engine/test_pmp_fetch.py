"""A PMP entry that takes execute permission from the middle of a block: the block's first
instructions run and the fetch of the next one faults, in every emulated mode, although the whole
block was translated (and run) before the entry was set, or ran hot in a privilege level the entry
does not bind. (QEMU 7.2 keeps running such a block, so guests/riscv64/isa/pmp.S cannot test this
against it.)"""

from __future__ import annotations

import struct

from polyvm import ExecMode, InstructionLimit, Interpreter, RiscvHart, SoftMmu, VmConfig
from polyvm.arch.riscv64 import csr as C
from polyvm.arch.riscv64.traps import Cause
from polyvm.engine.hybrid import HybridEngine
from polyvm.mem.paging import PagingMode, Priv
from polyvm.mem.pmp import NA4, NAPOT, R, W, X
from tests.modes import each_emulated_mode

RAM = 0x8000_0000
A0 = 10
PROGRAM = [0x00100513, 0x00150513, 0x00150513, 0x0000006F]  # a0 = 1; a0 += 1; a0 += 1; j .
JUMP_SELF = 0x0000006F


LOOP = [0x00150513, 0xFFDFF06F]  # a0 += 1; j .-4


def engine(mode: ExecMode, program: list[int] = PROGRAM) -> Interpreter:
    mmu = SoftMmu(1 << 20, PagingMode.NONE, ram_base=RAM)
    mmu.ram.write(RAM, b"".join(struct.pack("<I", w) for w in program))
    mmu.ram.write(RAM + 0x800, struct.pack("<I", JUMP_SELF))
    hart = RiscvHart(0, mmu, lambda: 0, pmp_entries=16)
    hart.mtvec = RAM + 0x800
    hart.pmp.write_addr(15, (1 << 54) - 1)
    hart.pmp.write_cfg(2, (NAPOT << 3 | R | W | X) << 56)
    config = VmConfig().with_exec_mode(mode)
    if mode is ExecMode.INTERPRETER:
        return Interpreter(config, hart)
    return HybridEngine(config, hart, compile_all=mode is ExecMode.JIT)


def run_in(engine: Interpreter, priv: Priv, instructions: int) -> None:
    hart = engine.hart
    hart.priv = priv
    hart._sync_mmu()
    hart.pc = RAM
    hart.write_reg(A0, 0)
    engine.run(InstructionLimit(instructions))


@each_emulated_mode
def test_execute_permission_taken_from_inside_a_translated_block(mode):
    vm = engine(mode)
    hart = vm.hart
    run_in(vm, Priv.S, 4)
    assert (hart.read_reg(A0), hart.pc, hart.priv) == (3, RAM + 12, Priv.S)
    hart.pmp.write_addr(0, (RAM + 8) >> 2)
    hart.pmp.write_cfg(0, NA4 << 3 | R)
    run_in(vm, Priv.S, 4)
    assert hart.read_reg(A0) == 2, "the two instructions before the entry ran"
    assert (hart.priv, hart.mcause, hart.mepc, hart.mtval) == (Priv.M, Cause.FETCH_ACCESS, RAM + 8, RAM + 8)
    assert hart.mstatus & C.MPP_MASK == int(Priv.S) << C.MPP_SHIFT


@each_emulated_mode
def test_code_hot_in_m_on_a_split_page_is_fetch_checked_in_s(mode):
    """M may run the whole loop (the entry is not locked); once native code made it hot, S may still
    not run its second instruction."""
    vm = engine(mode, LOOP)
    hart = vm.hart
    hart.pmp.write_addr(0, (RAM + 4) >> 2)
    hart.pmp.write_cfg(0, NA4 << 3 | R)
    run_in(vm, Priv.M, 20_000)
    for background in getattr(vm, "compilers", {}).values():
        background.wait_idle()
    run_in(vm, Priv.M, 20_000)
    if mode is not ExecMode.INTERPRETER:
        assert all(cached.native for cached in vm.block_cache._blocks.values()), "the loop runs natively"
    assert hart.read_reg(A0) >= 10_000 and hart.priv == Priv.M
    run_in(vm, Priv.S, 10)
    assert hart.read_reg(A0) == 1
    assert (hart.priv, hart.mcause, hart.mepc) == (Priv.M, Cause.FETCH_ACCESS, RAM + 4)
