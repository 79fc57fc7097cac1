"""Paging modes and the RISC-V Sv39/Sv48 page-table walker (privileged spec 1.12, section 4.3-4.5).

The walker is pure logic over two callbacks that read and write 8-byte PTEs by physical address, so
the SoftMmu, the GDB stub and tests share it. A/D bits are updated by the walker (hardware update, as
QEMU's RISC-V targets do); superpages must be aligned; PTE bits 63:54 (Svnapot/Svpbmt, not
implemented) are reserved and fault.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

from polyvm.mem.tlb import TlbEntry


class PagingMode(enum.Enum):
    """(These enums hash in C, as ``object`` and ``int`` do: ``Enum.__hash__`` is Python code, and
    translation-regime keys hold them. Walking the per-regime state of an ``OrderedDict`` hashes
    every key, 355,000 enum hashes in a warm Linux boot; benchmarks/boot.py.)"""

    __hash__ = object.__hash__  # members compare by identity
    NONE = "none"
    SV39 = "sv39"
    SV48 = "sv48"
    AARCH64_UPA = "aarch64"
    LONG_MODE_64 = "long_mode_64"


class Access(enum.IntEnum):
    __hash__ = int.__hash__
    FETCH = 0
    LOAD = 1
    STORE = 2


class Priv(enum.IntEnum):
    __hash__ = int.__hash__
    U = 0
    S = 1
    M = 3


RISCV_LEVELS = {PagingMode.SV39: 3, PagingMode.SV48: 4}
SATP_MODES = {0: PagingMode.NONE, 8: PagingMode.SV39, 9: PagingMode.SV48}

PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_G, PTE_A, PTE_D = (1 << i for i in range(8))
PTE_RESERVED = 0x3FF << 54


class PageFault(Exception):
    """A translation failed; ``access_fault`` distinguishes a PTE fetch outside memory."""

    def __init__(self, vaddr: int, access: Access, access_fault: bool = False) -> None:
        super().__init__(vaddr, access, access_fault)
        self.vaddr = vaddr
        self.access = access
        self.access_fault = access_fault


class PteMemoryError(Exception):
    """Raised by a PTE reader when the PTE address is not backed by memory."""


def riscv_walk(
    mode: PagingMode,
    root_ppn: int,
    asid: int,
    vaddr: int,
    access: Access,
    priv: Priv,
    sum_: bool,
    mxr: bool,
    read_pte: Callable[[int], int],
    write_pte: Callable[[int, int], None],
) -> TlbEntry:
    """Walk the page table for ``vaddr``; return the leaf as a 4 KiB TLB entry or raise PageFault.

    The access is checked against the leaf (U bit, SUM, MXR included) before A/D are set, so a
    refused access never marks a page accessed.
    """
    levels = RISCV_LEVELS[mode]
    va_bits = 12 + 9 * levels
    top = vaddr >> (va_bits - 1)
    if top not in (0, (1 << (65 - va_bits)) - 1):
        raise PageFault(vaddr, access)
    table = root_ppn << 12
    level = levels - 1
    inherited_global = 0  # a non-leaf G bit makes every mapping below it global
    while True:
        pte_addr = table + ((vaddr >> (12 + 9 * level)) & 0x1FF) * 8
        try:
            pte = read_pte(pte_addr)
        except PteMemoryError:
            raise PageFault(vaddr, access, access_fault=True) from None
        if not pte & PTE_V or (pte & (PTE_R | PTE_W)) == PTE_W or pte & PTE_RESERVED:
            raise PageFault(vaddr, access)
        if pte & (PTE_R | PTE_X):
            break
        inherited_global |= pte & PTE_G
        level -= 1
        if level < 0:
            raise PageFault(vaddr, access)
        table = ((pte >> 10) & ((1 << 44) - 1)) << 12
    ppn = (pte >> 10) & ((1 << 44) - 1)
    low_mask = (1 << (9 * level)) - 1
    if ppn & low_mask:
        raise PageFault(vaddr, access)
    vpn = vaddr >> 12
    entry = TlbEntry(
        vpn=vpn,
        ppn=ppn | (vpn & low_mask),
        asid=asid,
        readable=bool(pte & PTE_R),
        writable=bool(pte & PTE_W),
        executable=bool(pte & PTE_X),
        user=bool(pte & PTE_U),
        global_=bool((pte | inherited_global) & PTE_G),
        dirty=True,
        level=level,
        pte_addr=pte_addr,
    )
    if not riscv_permits(entry, access, priv, sum_, mxr):
        raise PageFault(vaddr, access)
    wanted = PTE_A | (PTE_D if access == Access.STORE else 0)
    if pte & wanted != wanted:
        pte |= wanted
        try:
            write_pte(pte_addr, pte)
        except PteMemoryError:
            raise PageFault(vaddr, access, access_fault=True) from None
    entry.dirty = bool(pte & PTE_D)
    return entry


def riscv_permits(entry: TlbEntry, access: Access, priv: Priv, sum_: bool, mxr: bool) -> bool:
    """The leaf permission rules that depend on the effective privilege, SUM and MXR."""
    if priv == Priv.U:
        if not entry.user:
            return False
    elif entry.user and (access == Access.FETCH or not sum_):
        return False
    if access == Access.FETCH:
        return entry.executable
    if access == Access.LOAD:
        return entry.readable or (mxr and entry.executable)
    return entry.writable and entry.dirty
