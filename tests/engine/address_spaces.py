"""Sv39 page tables built in guest RAM for tests that run several address spaces."""

from __future__ import annotations

from polyvm import SoftMmu
from polyvm.mem.paging import PagingMode

RAM = 0x8000_0000
LEAF = 0b11001011  # V R X A D


class AddressSpaces:
    """Sv39 page tables in the top of a small RAM, one root per address space."""

    def __init__(self) -> None:
        self.mmu = SoftMmu(4 << 20, PagingMode.SV39, ram_base=RAM)
        self.next_table = RAM + (4 << 20)

    def table(self) -> int:
        self.next_table -= 4096
        return self.next_table

    def map(self, root: int, vaddr: int, paddr: int, leaf_flags: int = LEAF, table_flags: int = 0) -> None:
        """A 4 KiB leaf; missing tables are made with ``table_flags`` on their non-leaf PTEs."""
        ram, table = self.mmu.ram, root
        for level in (2, 1):
            slot = table + ((vaddr >> (12 + 9 * level)) & 0x1FF) * 8
            entry = ram.read_int(slot, 8)
            if not entry & 1:
                entry = ((self.table() >> 12) << 10) | 1 | table_flags
                ram.write_int(slot, entry, 8)
            table = (entry >> 10) << 12
        ram.write_int(table + ((vaddr >> 12) & 0x1FF) * 8, ((paddr >> 12) << 10) | leaf_flags, 8)


def satp(root: int, asid: int) -> int:
    return (8 << 60) | (asid << 44) | (root >> 12)
