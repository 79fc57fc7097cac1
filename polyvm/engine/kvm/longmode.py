"""Entering x86-64 long mode directly, as a loader does for a 64-bit kernel: identity-mapped page tables
with 2 MiB pages, a flat GDT (kernel and user segments for flat test binaries, or the Linux boot
protocol's __BOOT_CS/__BOOT_DS), and the CR0/CR4/EFER bits of paging mode.

Layout in low guest RAM: GDT at 0x500, PML4 at 0x1000, PDPT at 0x2000, one page directory per GiB from
0x3000. Every level sets the user bit, so ring-3 code can run from the same identity mapping.
"""

from __future__ import annotations

from polyvm.engine.kvm.api import KvmSegment, KvmSregs
from polyvm.mem.ram import GuestRam

GDT_ADDRESS = 0x500
PML4_ADDRESS = 0x1000
PDPT_ADDRESS = 0x2000
PD_ADDRESS = 0x3000
MAPPED_GIB = 4
"""Identity-map the whole 32-bit space, so future MMIO devices below 4 GiB are reachable too."""

KERNEL_CS, KERNEL_DS, USER_DS, USER_CS = 0x08, 0x10, 0x18, 0x20
GDT = (
    0,
    0x00AF_9B00_0000_FFFF,  # 0x08 kernel code: 64-bit, DPL 0
    0x00CF_9300_0000_FFFF,  # 0x10 kernel data
    0x00CF_F300_0000_FFFF,  # 0x18 user data: DPL 3
    0x00AF_FB00_0000_FFFF,  # 0x20 user code: 64-bit, DPL 3
)
BOOT_CS, BOOT_DS = 0x10, 0x18
BOOT_GDT = (
    0,
    0,
    0x00AF_9B00_0000_FFFF,  # 0x10 __BOOT_CS: 64-bit code, DPL 0
    0x00CF_9300_0000_FFFF,  # 0x18 __BOOT_DS: flat 4 GiB data
)
"""The GDT the Linux boot protocol asks for (boot.rst, "64-bit boot protocol")."""
PTE_PRESENT, PTE_WRITE, PTE_USER, PTE_LARGE = 0x1, 0x2, 0x4, 0x80
TABLE_FLAGS = PTE_PRESENT | PTE_WRITE | PTE_USER

CR0_PE, CR0_MP, CR0_ET, CR0_NE, CR0_WP, CR0_AM, CR0_PG = 1, 2, 0x10, 0x20, 1 << 16, 1 << 18, 1 << 31
CR4_PAE, CR4_OSFXSR, CR4_OSXMMEXCPT = 0x20, 0x200, 0x400
EFER_SCE, EFER_LME, EFER_LMA = 0x1, 0x100, 0x400


def write_page_tables(ram: GuestRam) -> None:
    """Identity-map the first ``MAPPED_GIB`` GiB with 2 MiB pages."""
    ram.write_int(PML4_ADDRESS, PDPT_ADDRESS | TABLE_FLAGS, 8)
    for gib in range(MAPPED_GIB):
        directory = PD_ADDRESS + gib * 0x1000
        ram.write_int(PDPT_ADDRESS + 8 * gib, directory | TABLE_FLAGS, 8)
        entries = b"".join(
            (((gib << 30) | (i << 21)) | TABLE_FLAGS | PTE_LARGE).to_bytes(8, "little") for i in range(512))
        ram.write(directory, entries)


def write_gdt(ram: GuestRam, gdt: tuple[int, ...] = GDT) -> None:
    ram.write(GDT_ADDRESS, b"".join(d.to_bytes(8, "little") for d in gdt))


def _segment(selector: int, code: bool) -> KvmSegment:
    dpl = selector & 3
    return KvmSegment(base=0, limit=0xFFFF_FFFF, selector=selector, type=0xB if code else 0x3, present=1,
                      dpl=dpl, db=0 if code else 1, s=1, l=1 if code else 0, g=1)


def enter_long_mode(sregs: KvmSregs, code_selector: int = KERNEL_CS, data_selector: int = KERNEL_DS,
                    gdt: tuple[int, ...] = GDT) -> None:
    """Set ``sregs`` (as read from a fresh vCPU) to 64-bit ring 0 with paging on the tables above,
    the selectors being those of ``gdt`` (written by ``write_gdt``)."""
    sregs.cs = _segment(code_selector, code=True)
    for name in ("ds", "es", "fs", "gs", "ss"):
        setattr(sregs, name, _segment(data_selector, code=False))
    sregs.gdt.base = GDT_ADDRESS
    sregs.gdt.limit = 8 * len(gdt) - 1
    sregs.cr3 = PML4_ADDRESS
    sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT
    sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG
    sregs.efer = EFER_SCE | EFER_LME | EFER_LMA
