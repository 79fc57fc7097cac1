"""The native TLBs are kept per data regime: switching regimes keeps each one's entries, and page
flushes reach the saved ones too."""

import ctypes
import struct
from pathlib import Path

import pytest
from guest_code import RAM, link, tools_available

from polyvm import ExecMode, InstructionLimit, RiscvHart, SoftMmu, VmConfig
from polyvm.arch.riscv64 import csr as C
from polyvm.engine.hybrid import HybridEngine
from polyvm.engine.jit.context import FLIPPED_TLBS, JUMP_TABLES_KEPT, TLBS, TLBS_KEPT, Exit, NativeState
from polyvm.mem.paging import PagingMode, Priv


def test_regime_switch_saves_and_restores_tlbs():
    state = NativeState()
    state.switch_tlbs("kernel")
    state.fill(0x80200, 0x1000, write=False)
    state.fill(0x80201, 0x2000, write=True)
    state.switch_tlbs("kernel+sum")
    assert state.tlb_entry(0x80200, False) is None and state.tlb_entry(0x80201, True) is None
    state.fill(0x10, 0x3000, write=False)
    state.switch_tlbs("kernel")
    assert state.tlb_entry(0x80200, False) == 0x1000 and state.tlb_entry(0x80201, True) == 0x2000
    assert state.tlb_entry(0x10, False) is None
    state.switch_tlbs("kernel+sum")
    assert state.tlb_entry(0x10, False) == 0x3000


def test_page_flushes_reach_saved_regimes():
    state = NativeState()
    state.switch_tlbs("a")
    state.fill(0x5, 0x1000, write=False)
    state.fill(0x6, 0x2000, write=False)
    state.fill(0x7, 0x3000, write=True)
    state.switch_tlbs("b")
    state.forget_pages({0x5, 0x7})
    state.switch_tlbs("a")
    assert state.tlb_entry(0x5, False) is None
    assert state.tlb_entry(0x6, False) == 0x2000
    assert state.tlb_entry(0x7, True) is None


def test_full_flush_forgets_every_regime():
    state = NativeState()
    state.switch_tlbs("a")
    state.fill(0x5, 0x1000, write=False)
    state.switch_tlbs("b")
    state.flush_tlb()
    state.switch_tlbs("a")
    assert state.tlb_entry(0x5, False) is None


SUM_COPY_LOOP = Path(__file__).parents[2] / "guests/riscv64/jit/sum_copy_loop.S"


@pytest.mark.skipif(not tools_available(), reason="needs riscv64-unknown-elf binutils")
@pytest.mark.parametrize("mode", [ExecMode.JIT, ExecMode.HYBRID])
def test_user_copies_between_sum_writes_stay_native(mode):
    """S-mode code in the shape of Linux's user-memory copies (set SUM, load from a user page, clear
    SUM) runs in native code: SUM writes switch to the TLBs of the flipped regime themselves
    (context.py FLIPPED_TLBS), and a memory side exit refills the TLBs of the regime its access ran
    in, not of the one the rest of the block switched to. The MMU follows every native SUM write,
    and a user load with SUM clear still faults."""
    text, symbols = link(SUM_COPY_LOOP.read_text())
    mmu = SoftMmu(1 << 22, PagingMode.NONE, ram_base=RAM)
    mmu.ram.write(RAM, text)
    root, middle, leaves, user_page = RAM + 0x20000, RAM + 0x21000, RAM + 0x22000, RAM + 0x10000
    for address, value in ((root + 8 * 2, (RAM >> 12) << 10 | 0xCF),  # kernel gigapage, VA = PA
                           (root, (middle >> 12) << 10 | 1), (middle, (leaves >> 12) << 10 | 1),
                           (leaves + 8, (user_page >> 12) << 10 | 0xD7),  # VA 0x1000, user RW
                           (user_page, 7), (RAM + 0x30100, 5)):
        mmu.ram.write(address, struct.pack("<Q", value))
    hart = RiscvHart(0, mmu, lambda: 0)
    hart.mtvec = symbols["handler"]
    engine = HybridEngine(VmConfig().with_exec_mode(mode), hart, compile_all=mode is ExecMode.JIT)
    hart.priv = Priv.S
    hart.csr_op(4, C.SATP, 8 << 60 | root >> 12, 0, 0)
    hart.write_reg(3, RAM + 0x30000)
    hart.pc = RAM
    state = engine.jit.state
    while hart.priv != Priv.M:
        engine.run(InstructionLimit(500))
        assert bool(hart.mstatus & C.SUM) == mmu.sum
        assert state.context[TLBS] == ctypes.addressof(state.tlb_tables[mmu.regime])
        assert state.context[FLIPPED_TLBS] == ctypes.addressof(state.tlb_tables[mmu.sum_flipped_regime()])
    assert (hart.read_reg(12), hart.read_reg(15)) == (7 * 3000, 5 * 3000)
    assert (hart.mcause, hart.mepc) == (13, symbols["bad"])
    assert engine.jit.exits[Exit.MEMORY] < 20 and not engine.jit.exits[Exit.HELPER]


def test_native_state_is_kept_for_recent_address_spaces_only():
    """Jump tables, TLBs and the lists of blocks entered in them stay bounded however many
    address spaces a guest runs (context.py JUMP_TABLES_KEPT and TLBS_KEPT)."""
    mmu = SoftMmu(1 << 22, PagingMode.NONE, ram_base=RAM)
    hart = RiscvHart(0, mmu, lambda: 0)
    engine = HybridEngine(VmConfig().with_exec_mode(ExecMode.HYBRID), hart)
    hart.priv = Priv.S
    hart._sync_mmu()
    for asid in range(3 * JUMP_TABLES_KEPT):
        mmu.set_satp(8 << 60 | asid << 44 | (RAM >> 12) + 0x100)
    state = engine.jit.state
    assert len(state.jump_tables) == JUMP_TABLES_KEPT and len(state.tlb_tables) <= TLBS_KEPT
    assert len(engine._entered_by_regime) <= JUMP_TABLES_KEPT + len(state.global_tables)
