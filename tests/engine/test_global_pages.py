"""Blocks fetched through global leaves (PTE G bit) are shared by every address space of their
paging mode: a new process finds the kernel's blocks without translating their fetches again, and
sfence.vma keeps or drops them as the privileged spec says for global mappings."""

from __future__ import annotations

import struct

import pytest

from polyvm import ExecMode, Interpreter, RiscvHart, VmConfig
from polyvm.mem.paging import PTE_G, Access, Priv
from tests.engine.address_spaces import LEAF, RAM, AddressSpaces, satp

KERNEL, USER = 0x4000_0000, 0x1000


@pytest.fixture
def two_processes() -> tuple[Interpreter, int, int]:
    """An S-mode interpreter and two roots: both map a global kernel page at KERNEL (the same
    frame) and a private page at USER (different frames)."""
    spaces = AddressSpaces()
    roots = spaces.table(), spaces.table()
    for index, root in enumerate(roots):
        spaces.map(root, KERNEL, RAM, LEAF | PTE_G)
        spaces.map(root, USER, RAM + 0x1000 * (index + 1))
    jump_self = struct.pack("<I", 0x0000006F)  # jal x0, 0
    for paddr in (RAM, RAM + 0x1000, RAM + 0x2000):
        spaces.mmu.ram.write(paddr, jump_self)
    hart = RiscvHart(0, spaces.mmu, lambda: 0)
    hart.priv = Priv.S
    spaces.mmu.set_context(Priv.S, Priv.S, False, False)
    spaces.mmu.set_satp(satp(roots[0], 1))
    return Interpreter(VmConfig().with_exec_mode(ExecMode.INTERPRETER), hart), *roots


def test_a_global_block_is_found_in_another_address_space_without_a_fetch(two_processes):
    engine, first, second = two_processes
    kernel, user = engine._lookup(KERNEL), engine._lookup(USER)
    assert kernel[3] and not user[3], "the entry says whether its leaf was global"
    assert KERNEL in engine.global_jump_cache and USER not in engine.global_jump_cache
    engine.mmu.set_satp(satp(second, 2))
    walks = engine.mmu.tlb_stats().misses
    assert engine._lookup(KERNEL) is kernel
    assert engine.mmu.tlb_stats().misses == walks
    other_user = engine._lookup(USER)
    assert other_user[2].block.phys_start == RAM + 0x2000 != user[2].block.phys_start


def test_sfence_of_an_address_space_keeps_global_blocks(two_processes):
    engine, first, second = two_processes
    engine._lookup(KERNEL), engine._lookup(USER)
    engine.hart.sfence_vma(0, 1, rs1=0, rs2=10, pc=0, index=0)
    assert USER not in engine.jump_cache
    assert KERNEL in engine.global_jump_cache
    engine.mmu.set_satp(satp(first, 3))
    engine._lookup(USER)
    engine.hart.sfence_vma(0, 1, rs1=0, rs2=10, pc=0, index=0)
    assert USER in engine.jump_cache, "a fence of another ASID leaves this one alone"


@pytest.mark.parametrize("rs1", [0, 10], ids=["all", "address"])
def test_sfence_of_all_address_spaces_or_of_the_address_drops_global_blocks(two_processes, rs1):
    engine, *_ = two_processes
    engine._lookup(KERNEL)
    engine.hart.sfence_vma(KERNEL, 0, rs1=rs1, rs2=0, pc=0, index=0)
    assert KERNEL not in engine.global_jump_cache and KERNEL not in engine.jump_cache


def test_a_global_non_leaf_pte_makes_the_mappings_below_it_global():
    spaces = AddressSpaces()
    root = spaces.table()
    spaces.map(root, KERNEL, RAM, table_flags=PTE_G)
    spaces.map(root, USER, RAM + 0x1000)
    spaces.mmu.set_satp(satp(root, 1))
    spaces.mmu.set_context(Priv.S, Priv.S, False, False)
    assert spaces.mmu.walk(KERNEL, Access.FETCH).global_
    assert not spaces.mmu.walk(USER, Access.FETCH).global_
