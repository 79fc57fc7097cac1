"""A block whose last instruction straddles the end of its page takes that instruction's second
half from the next page: a store there, or a remap of that page, makes the block stale in every
emulated mode, as it does to the blocks of the next page itself."""

from __future__ import annotations

import struct

import pytest

from polyvm import ExecMode, InstructionLimit, Interpreter, RiscvHart, VmConfig
from polyvm.arch.riscv64.traps import Cause
from polyvm.engine.hybrid import HybridEngine
from polyvm.mem.paging import Priv
from tests.engine.address_spaces import LEAF, RAM, AddressSpaces, satp
from tests.modes import each_emulated_mode

A0 = 10
C_NOP = struct.pack("<H", 0x0001)
ADDI_A0_1, ADDI_A0_2 = 0x00150513, 0x00250513  # addi a0, a0, 1 / 2: they differ in the upper half
JUMP_SELF = struct.pack("<I", 0x0000006F)
CODE, NEXT = 0x1000, 0x2000
"""Virtual pages: the straddling instruction starts at CODE + 0xFFE, its upper half is at NEXT."""
START = CODE + 0xFFA
HANDLER = CODE + 0x800


def straddling_code(addi: int) -> tuple[bytes, bytes]:
    """The bytes of the last 6 of CODE's page (two c.nop and the addi's lower half) and the first
    6 of NEXT's (the addi's upper half and a jump to itself)."""
    word = struct.pack("<I", addi)
    return C_NOP + C_NOP + word[:2], word[2:] + JUMP_SELF


def make_engine(mode: ExecMode, spaces: AddressSpaces) -> Interpreter:
    hart = RiscvHart(0, spaces.mmu, lambda: 0)
    hart.stvec = HANDLER
    hart.medeleg = 1 << Cause.FETCH_PAGE_FAULT
    config = VmConfig().with_exec_mode(mode)
    if mode is ExecMode.INTERPRETER:
        return Interpreter(config, hart)
    return HybridEngine(config, hart, compile_all=mode is ExecMode.JIT)


class Pages:
    """CODE at frame RAM, NEXT at frame RAM + 0x1000 (or RAM + 0x2000 after ``remap``), in an S-mode
    Sv39 address space; both frames hold the upper half of the addi (of 1 and of 2)."""

    def __init__(self, mode: ExecMode) -> None:
        self.spaces = AddressSpaces()
        self.root = self.spaces.table()
        ram = self.spaces.mmu.ram
        lower, upper_1 = straddling_code(ADDI_A0_1)
        ram.write(RAM + 0xFFA, lower)
        ram.write(RAM + 0x1000, upper_1)
        ram.write(RAM + 0x2000, straddling_code(ADDI_A0_2)[1])
        ram.write(RAM + 0x800, JUMP_SELF)
        self.spaces.map(self.root, CODE, RAM)
        self.spaces.map(self.root, NEXT, RAM + 0x1000)
        self.vm = make_engine(mode, self.spaces)
        hart = self.vm.hart
        hart.satp = satp(self.root, 1)
        self.spaces.mmu.set_satp(hart.satp)
        hart.priv = Priv.S
        hart._sync_mmu()

    def run(self) -> int:
        """a0 after running from START through the addi (4 instructions, the last the jump)."""
        hart = self.vm.hart
        hart.pc = START
        hart.write_reg(A0, 0)
        self.vm.run(InstructionLimit(4))
        return hart.read_reg(A0)

    def remap(self, frame: int | None) -> None:
        """Map NEXT to ``frame`` (None: unmap it) without a fence."""
        self.spaces.map(self.root, NEXT, frame or 0, leaf_flags=LEAF if frame else 0)

    def hot(self) -> None:
        """Run the code until native code runs it too (in the native modes)."""
        for _ in range(3):
            assert self.run() == 1
            for background in getattr(self.vm, "compilers", {}).values():
                background.wait_idle()


@each_emulated_mode
def test_a_store_into_the_next_page_retranslates_the_straddling_block(mode):
    pages = Pages(mode)
    pages.hot()
    pages.vm.mmu.phys_write(RAM + 0x1000, ADDI_A0_2 >> 16, 2)
    assert pages.run() == 2


@each_emulated_mode
@pytest.mark.parametrize("fence", ["address", "all"])
def test_a_remap_of_the_next_page_retranslates_the_straddling_block(mode, fence):
    pages = Pages(mode)
    pages.hot()
    pages.remap(RAM + 0x2000)
    pages.vm.hart.sfence_vma(NEXT, 0, rs1=10 if fence == "address" else 0, rs2=0, pc=0, index=0)
    assert pages.run() == 2


@each_emulated_mode
def test_a_straddling_fetch_that_faulted_succeeds_once_the_page_is_mapped(mode):
    pages = Pages(mode)
    pages.remap(None)
    pages.vm.hart.sfence_vma(0, 0, rs1=0, rs2=0, pc=0, index=0)
    hart = pages.vm.hart
    pages.run()
    assert (hart.scause, hart.stval, hart.sepc) == (Cause.FETCH_PAGE_FAULT, NEXT, CODE + 0xFFE)
    pages.remap(RAM + 0x1000)
    hart.priv = Priv.S
    hart._sync_mmu()
    hart.pc = CODE + 0xFFE
    pages.vm.run(InstructionLimit(2))
    assert (hart.read_reg(A0), hart.pc) == (1, NEXT + 2), "mapped without a fence: the fault was not cached"


@each_emulated_mode
def test_a_store_into_the_straddled_bytes_of_a_frame_mapped_twice(mode):
    """CODE and NEXT map the same frame: the straddling instruction's second half is the frame's
    first two bytes."""
    pages = Pages(mode)
    ram = pages.spaces.mmu.ram
    ram.write(RAM, straddling_code(ADDI_A0_1)[1])
    pages.remap(RAM)
    pages.vm.hart.sfence_vma(0, 0, rs1=0, rs2=0, pc=0, index=0)
    pages.hot()
    pages.vm.mmu.phys_write(RAM, ADDI_A0_2 >> 16, 2)
    assert pages.run() == 2


def test_a_write_over_both_pages_of_a_straddling_block_drops_it_once():
    """A write that covers the end of the block's page and the start of the next one, where the
    block is the next page's only one (its last instruction jumps back): dropped, no KeyError."""
    pages = Pages(ExecMode.INTERPRETER)
    jump_back = struct.pack("<I", 0xFFDFF06F)  # jal x0, -4: from CODE + 0xFFE back to START
    ram = pages.spaces.mmu.ram
    ram.write(RAM + 0xFFA, C_NOP + C_NOP + jump_back[:2])
    ram.write(RAM + 0x1000, jump_back[2:])
    hart = pages.vm.hart
    hart.pc = START
    pages.vm.run(InstructionLimit(30))
    assert hart.pc in (START, START + 2, START + 4)
    assert pages.vm.block_cache.peek(START, RAM + 0xFFA) is not None
    pages.vm._code_written(RAM + 0xFF0, 0x20)
    assert pages.vm.block_cache.peek(START, RAM + 0xFFA) is None
