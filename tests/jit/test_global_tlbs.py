"""The native TLBs of global pages: a kernel page (G bit, not a user page) that one address space's
native code reached is reached natively by every other one's, whatever mstatus.SUM, until a fence of
its address or of everything (context.py GLOBAL_TLBS, codegen.py ``access``)."""

from __future__ import annotations

import struct

import pytest

from polyvm import ExecMode, RiscvHart, VmConfig
from polyvm.arch.riscv64.csr import SUM
from polyvm.engine.hybrid import HybridEngine
from polyvm.mem.paging import PTE_G, PTE_U, Priv
from tests.engine.address_spaces import LEAF, RAM, AddressSpaces, satp

CODE, KERNEL_DATA, USER_DATA, SHARED_USER = 0x4000_0000, 0x4000_1000, 0x1000, 0x2000
DATA_LEAF = 0b11000111  # V R W A D
A0, A1 = 10, 11


@pytest.fixture
def kernel() -> tuple[HybridEngine, list[int]]:
    """A JIT-mode engine in S-mode and two address spaces sharing a global kernel code page and a
    global kernel data page; each has its own user page at USER_DATA, and both a global user page
    at SHARED_USER. The code loads a0 from the address in a1, then spins."""
    spaces = AddressSpaces()
    roots = [spaces.table(), spaces.table()]
    for index, root in enumerate(roots):
        spaces.map(root, CODE, RAM, LEAF | PTE_G)
        spaces.map(root, KERNEL_DATA, RAM + 0x1000, DATA_LEAF | PTE_G)
        spaces.map(root, USER_DATA, RAM + 0x2000 + 0x1000 * index, DATA_LEAF | PTE_U)
        spaces.map(root, SHARED_USER, RAM + 0x4000, DATA_LEAF | PTE_G | PTE_U)
    ram = spaces.mmu.ram
    ram.write(RAM, struct.pack("<II", 0x0005B503, 0x0000006F))  # ld a0, 0(a1); jal x0, 0
    for paddr, value in ((RAM + 0x1000, 11), (RAM + 0x2000, 22), (RAM + 0x3000, 33), (RAM + 0x4000, 44)):
        ram.write_int(paddr, value, 8)
    hart = RiscvHart(0, spaces.mmu, lambda: 0)
    hart.priv = Priv.S
    spaces.mmu.set_context(Priv.S, Priv.S, False, False)
    spaces.mmu.set_satp(satp(roots[0], 1))
    engine = HybridEngine(VmConfig().with_exec_mode(ExecMode.JIT), hart, compile_all=True)
    return engine, roots


def load(engine: HybridEngine, address: int) -> tuple[int, int]:
    """Run the code with a1 = ``address``: the value loaded and the memory calls it took."""
    hart, jit = engine.hart, engine.jit
    hart.pc, hart.x[A1], hart.x[A0] = CODE, address, 0
    calls = jit.memory_calls
    engine.run_slice(8)
    return hart.x[A0], jit.memory_calls - calls


def test_a_kernel_page_one_address_space_reached_is_native_in_every_other(kernel):
    engine, roots = kernel
    assert load(engine, KERNEL_DATA) == (11, 1)
    assert load(engine, KERNEL_DATA) == (11, 0), "the regime's own TLB"
    engine.mmu.set_satp(satp(roots[1], 2))
    assert engine.jit.state.tlb_entry(KERNEL_DATA >> 12, False) is None
    assert load(engine, KERNEL_DATA) == (11, 0), "the global pages' TLB"
    assert engine.jit.state.tlb_entry(KERNEL_DATA >> 12, False) is not None, "copied into the regime's"
    engine.hart.mstatus |= SUM
    engine.hart._sync_mmu()
    assert load(engine, KERNEL_DATA) == (11, 0), "SUM does not matter to kernel pages"
    assert load(engine, USER_DATA) == (33, 1), "a user page is the address space's own"
    assert load(engine, SHARED_USER) == (44, 1)
    engine.mmu.set_satp(satp(roots[0], 1))
    assert load(engine, USER_DATA) == (22, 1)
    assert load(engine, SHARED_USER) == (44, 1), "a global user page is not in the global TLBs"


@pytest.mark.parametrize("fence", [(KERNEL_DATA, 0, 10, 0), (0, 0, 0, 0)], ids=["address", "all"])
def test_a_fence_of_the_address_or_of_everything_drops_a_global_page(kernel, fence):
    engine, roots = kernel
    assert load(engine, KERNEL_DATA) == (11, 1)
    engine.mmu.set_satp(satp(roots[1], 2))
    engine.hart.sfence_vma(*fence, pc=0, index=0)
    assert load(engine, KERNEL_DATA) == (11, 1)


def test_a_fence_of_an_address_space_keeps_global_pages(kernel):
    engine, roots = kernel
    assert load(engine, KERNEL_DATA) == (11, 1)
    engine.hart.sfence_vma(0, 1, 0, 10, pc=0, index=0)
    engine.mmu.set_satp(satp(roots[1], 2))
    assert load(engine, KERNEL_DATA) == (11, 0)
