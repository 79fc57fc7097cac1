"""SoftMmu (seed section 2): virtual-to-physical translation, TLB, physical bus access, atomics.

Besides the seed API it keeps the *fast page maps* that translated code uses on its hot path:
dicts from virtual page number to ``delta`` (RAM offset = vaddr + delta) for loads (``rd``) and
stores (``wr``), one pair per data-translation regime (satp, effective privilege, SUM, MXR). They
are filled on the slow path after a successful translation of a RAM page and emptied by TLB
flushes like QEMU's softmmu TLB: a flush of one address (sfence.vma rs1) drops just the pages of
the leaf that contains it (every 4 KiB piece of a superpage the fast maps hold), others everything.
Pages holding translated code (``code``, a CodeTracker shared by the machine) never enter ``wr``, so
stores to them reach the slow path, which reports them.

The *device maps* (``io_rd``, ``io_wr``, per regime likewise) hold the translations of device pages
(virtual page -> physical page address) that the PMP grants whole: a load or store there skips the
translation and goes to the bus. Nothing native reads them; they are emptied with the fast maps. A
Linux boot's console makes ~15,000 register accesses, each a full translation before
(benchmarks/boot.py).
"""

from __future__ import annotations

import ctypes
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from itertools import chain, repeat
from typing import NamedTuple

from polyvm.core.errors import ConfigError, InvalidAddress, MemoryAccessError, UnsupportedError
from polyvm.core.recent import recently_used
from polyvm.device.bus import MmioMap
from polyvm.mem.code_tracker import CodeTracker
from polyvm.mem.leaf_index import LeafIndex
from polyvm.mem.paging import (
    RISCV_LEVELS,
    SATP_MODES,
    Access,
    PageFault,
    PagingMode,
    Priv,
    PteMemoryError,
    riscv_permits,
    riscv_walk,
)
from polyvm.mem.pmp import Pmp
from polyvm.mem.ram import GuestRam
from polyvm.mem.tlb import Tlb, TlbEntry, TlbStats

PAGE = 4096
M64 = (1 << 64) - 1
NO_RESERVATION = M64
MAX_REGIMES = 16
MAX_FAST_PAGES = 1 << 16
MAX_CONTEXT_KEYS = 4096
"""Contexts whose regime keys are kept (``_regime_keys``; a guest that runs many processes makes
new ones with every address space)."""


class BusError(Exception):
    """A physical access that no RAM or device decodes (a guest access fault)."""

    def __init__(self, paddr: int) -> None:
        super().__init__(paddr)
        self.paddr = paddr


class FetchRegime(NamedTuple):
    """``fetch_regime`` of a translated fetch: what decides which block a virtual pc is."""

    mode: PagingMode
    asid: int
    root_ppn: int
    priv: Priv


class DataRegime(NamedTuple):
    """``SoftMmu.regime`` of translated loads and stores: what decides their fast maps."""

    mode: PagingMode
    asid: int
    root_ppn: int
    priv: Priv
    sum: bool
    mxr: bool


def in_address_space(regime: Hashable, asid: int) -> bool:
    """Whether the fetch or data regime ``regime`` translates in address space ``asid`` (its
    non-global pages are those ``sfence.vma x0, asid`` fences)."""
    return isinstance(regime, (FetchRegime, DataRegime)) and regime.asid == asid


class SoftMmu:
    """Translation and memory access for one hart, over RAM and an MMIO bus shared by all harts."""

    def __init__(
        self,
        phys_mem_size: int = 0,
        paging_mode: PagingMode = PagingMode.NONE,
        *,
        ram: GuestRam | None = None,
        ram_base: int = 0,
        bus: MmioMap | None = None,
        tlb_size: int = 256,
        code: CodeTracker | None = None,
    ) -> None:
        if paging_mode in (PagingMode.AARCH64_UPA, PagingMode.LONG_MODE_64):
            raise UnsupportedError(f"paging mode {paging_mode.name} is not implemented yet")
        if ram is None:
            if phys_mem_size <= 0:
                raise ConfigError(f"physical memory size must be positive, got {phys_mem_size}")
            ram = GuestRam(phys_mem_size, ram_base)
        self.ram = ram
        self.bus = bus if bus is not None else MmioMap()
        self.tlb = Tlb(tlb_size)
        self.mode = paging_mode
        self.root_ppn = 0
        self.asid = 0
        self.priv = Priv.M if paging_mode == PagingMode.NONE else Priv.S
        self.fetch_priv = self.priv
        self.sum = False
        self.mxr = False
        self.jit_mode = False
        self.code = code if code is not None else CodeTracker()
        self.code.on_new_page(self.forget_stores_to)
        self.watched_pages: set[int] = set()
        self.on_watched_write: Callable[[int, int], None] | None = None
        self.on_regime_change: Callable[[], None] | None = None
        self.slow_pages: set[int] = set()
        """Virtual pages whose loads and stores always take the slow path (debugger watchpoints)."""
        self._regimes: OrderedDict[tuple, tuple[dict[int, int], dict[int, int]]] = OrderedDict()
        self.rd: dict[int, int] = {}
        self.wr: dict[int, int] = {}
        self._device_maps: OrderedDict[tuple, tuple[dict[int, int], dict[int, int]]] = OrderedDict()
        self.io_rd: dict[int, int] = {}
        self.io_wr: dict[int, int] = {}
        self._global_maps: OrderedDict[tuple, tuple[dict[int, int], dict[int, int]]] = OrderedDict()
        self.global_rd: dict[int, int] = {}
        self.global_wr: dict[int, int] = {}
        """The read and write fast maps of global pages (the G bit: the same translation in every
        address space) that are not user pages, for the current privilege and MXR, whatever the
        ASID, root and SUM (which only matters to user pages): each process's regime takes the
        kernel's pages from them instead of translating each again (~6,700 translations of a warm
        Linux boot, ~1,200 of them page walks; benchmarks/boot.py)."""
        self._fetch_maps: OrderedDict[tuple, dict[int, tuple[int, int, bool]]] = OrderedDict()
        self.fx: dict[int, tuple[int, int, bool]] = {}
        """The fetch map of the current fetch regime (``fetch_paddr``): virtual page -> (physical
        minus virtual address, leaf level, leaf global)."""
        self._reservation = (ctypes.c_uint64 * 1)(NO_RESERVATION)
        """The LR reservation as a RAM offset (see ``reservation``), in memory native code may
        share (``share_reservation``)."""
        self.pmp = Pmp(0)
        """The hart's physical memory protection (its hart replaces this unchecked one)."""
        self.regime: tuple = ("bare", Priv.M)
        """Key of the current data-translation regime (whose fast maps ``rd``/``wr`` are)."""
        self.leaf_level = 0
        """Page-table level of the leaf of the last translation (0: a 4 KiB page)."""
        self.pte_writes = 0
        """PTE updates (A and D bits) page walks made, so far."""
        self.leaf_global = False
        """Whether the leaf of the last translation was global (G bit: the same in every address
        space of this paging mode)."""
        self.leaf_user = False
        """Whether the leaf of the last load or store translation was a user page (U bit)."""
        self.fetch_key: Hashable = None
        self.global_fetch_key: Hashable = None
        """``fetch_regime()`` and ``global_fetch_regime()`` as of the last regime change (its
        listeners read them instead of making the keys again: ~3,400 changes a Linux boot)."""
        self._maps_listed: list[dict] | None = None
        """``_all_fast_maps`` until a regime's maps are made."""
        self._keys_by_context: dict[tuple, tuple[tuple, tuple, tuple, tuple, tuple]] = {}
        """``_regime_keys`` by context."""
        self._flipped_key: tuple = self.regime
        self.global_key: Hashable = None
        """The key of the global maps ``global_rd``/``global_wr`` (the native TLBs of global pages
        follow it: jit/context.py GLOBAL_TLBS)."""
        self._superpage_pieces: LeafIndex[int] = LeafIndex()
        """The pages of superpage leaves the fast maps hold."""
        self._store_frames: dict[int, set[int]] = {}
        """Physical page -> the virtual pages whose fast store translation (in some regime) leads
        there, since the last full clear (a superset)."""
        self._mapped_pages: set[int] = set()
        """Virtual pages some fast, device or fetch map may hold (a superset: entered at every
        fill, left by sfence.vma of the page and full clears)."""
        self._select_regime()

    @property
    def reservation(self) -> int | None:
        """The physical address this hart's LR reserved, or None."""
        offset = self._reservation[0]
        return None if offset == NO_RESERVATION else (offset + self.ram.base) & M64

    @reservation.setter
    def reservation(self, paddr: int | None) -> None:
        self._reservation[0] = NO_RESERVATION if paddr is None else (paddr - self.ram.base) & M64

    def share_reservation(self, cell: ctypes.Array) -> None:
        """Keep the reservation in ``cell`` (one u64) from now on (a JIT's context word)."""
        cell[0] = self._reservation[0]
        self._reservation = cell

    # --- configuration -------------------------------------------------------------------------

    def enable_jit_mode(self) -> None:
        self.jit_mode = True

    def disable_jit_mode(self) -> None:
        self.jit_mode = False

    def set_page_table_base(self, base: int) -> None:
        self.root_ppn = base >> 12
        self._select_regime()

    def set_satp(self, satp: int) -> None:
        """Apply a RISC-V satp value (mode, ASID, root PPN); unsupported modes are ignored."""
        mode = SATP_MODES.get(satp >> 60)
        if mode is None:
            return
        self.mode = mode
        self.asid = (satp >> 44) & 0xFFFF
        self.root_ppn = satp & ((1 << 44) - 1)
        self._select_regime()

    def set_context(self, fetch_priv: Priv, data_priv: Priv, sum_: bool, mxr: bool) -> None:
        """The hart's privilege for fetches and for loads/stores (MPRV), and mstatus.SUM/MXR."""
        if (fetch_priv, data_priv, sum_, mxr) != (self.fetch_priv, self.priv, self.sum, self.mxr):
            self.fetch_priv, self.priv, self.sum, self.mxr = fetch_priv, data_priv, sum_, mxr
            self._select_regime()

    def translating(self, priv: Priv) -> bool:
        return self.mode != PagingMode.NONE and priv != Priv.M

    def fetch_regime(self) -> tuple:
        """Key of the instruction-fetch translation regime (for per-regime block lookup)."""
        if not self.translating(self.fetch_priv):
            return ("bare", self.fetch_priv)
        return FetchRegime(self.mode, self.asid, self.root_ppn, self.fetch_priv)

    def global_fetch_regime(self) -> tuple:
        """Key of what the fetch regime shares with every address space: its global pages, which
        are the same whatever the satp's ASID and root (the privileged spec's G bit)."""
        if not self.translating(self.fetch_priv):
            return ("bare", "global")
        return (self.mode, self.fetch_priv, "global")

    def _regime_key(self, sum_: bool) -> tuple:
        """The data regime's key for the current context with mstatus.SUM = ``sum_``."""
        if self.translating(self.priv):
            return DataRegime(self.mode, self.asid, self.root_ppn, self.priv, sum_, self.mxr)
        return ("bare", self.priv)

    def sum_flipped_regime(self) -> tuple:
        """The key of the data regime that differs from the current one only in mstatus.SUM (the
        current one's if SUM does not matter to it), as of the last regime change."""
        return self._flipped_key

    def _regime_keys(self) -> tuple[tuple, tuple, tuple, tuple, tuple]:
        """The fetch, global fetch, data, global data and SUM-flipped data regimes' keys of the
        current context, made once per context (a Linux boot changes regime ~3,400 times between
        a few dozen contexts; making the keys was a third of each change; benchmarks/boot.py)."""
        context = (self.mode, self.asid, self.root_ppn, self.fetch_priv, self.priv, self.sum, self.mxr)
        keys = self._keys_by_context.get(context)
        if keys is None:
            if len(self._keys_by_context) >= MAX_CONTEXT_KEYS:
                self._keys_by_context.clear()
            key = self._regime_key(self.sum)
            shared = (self.mode, self.priv, self.mxr, "global") if type(key) is DataRegime else key
            keys = self._keys_by_context[context] = (self.fetch_regime(), self.global_fetch_regime(), key,
                                                     shared, self._regime_key(not self.sum))
        return keys

    def _select_regime(self) -> None:
        self.fetch_key, self.global_fetch_key, key, shared, self._flipped_key = self._regime_keys()
        self.fx = recently_used(self._fetch_maps, self.fetch_key, self._new_fetch_map, MAX_REGIMES)
        self.regime = key
        maps = recently_used(self._regimes, key, self._new_maps, MAX_REGIMES)
        self.rd, self.wr = maps
        self.io_rd, self.io_wr = recently_used(self._device_maps, key, self._new_maps, MAX_REGIMES)
        self.global_key = shared
        self.global_rd, self.global_wr = recently_used(self._global_maps, shared, self._new_maps, MAX_REGIMES)
        if self.on_regime_change is not None:
            self.on_regime_change()

    # --- TLB (seed section 2.2) ----------------------------------------------------------------

    def tlb_lookup(self, vpn: int, asid: int) -> TlbEntry | None:
        entry = self.tlb.lookup(vpn, asid)
        return None if entry is None else Tlb.piece(entry, vpn)

    def tlb_insert(self, entry: TlbEntry) -> None:
        self.tlb.insert(entry)

    def flush_tlb_all(self) -> None:
        self.tlb.flush_all()
        self._clear_fast_maps()

    def flush_tlb_addr(self, addr: int) -> None:
        self.sfence_vma(addr, None)

    def flush_tlb(self, addr: int | None = None) -> None:
        if addr is None:
            self.flush_tlb_all()
        else:
            self.flush_tlb_addr(addr)

    def sfence_vma(self, addr: int | None, asid: int | None) -> None:
        """RISC-V sfence.vma with rs1/rs2 honoured for the TLB; the fast maps (of every regime, so
        whatever the ASID) lose the pages of the leaf containing ``addr``, or everything."""
        if addr is None:
            self.tlb.flush(None, asid)
            if asid is None:
                self._clear_fast_maps()
            else:
                self.clear_address_space(asid)
            return
        vpn = addr >> 12
        self.tlb.flush(vpn, asid)
        pages = ({vpn} | self._superpage_pieces.pop_containing(vpn)) & self._mapped_pages
        if pages:  # most of a Linux boot's ~4,000 fence a page no map has (update_mmu_cache)
            self._mapped_pages -= pages
            self.forget_fast_pages(pages)

    def clear_address_space(self, asid: int) -> None:
        """Empty the fast, device and fetch maps of the regimes of address space ``asid`` (Linux
        fences a whole address space ~40 times a boot; emptying every regime's maps each time,
        the kernel's included, cost thousands of page translations again; benchmarks/boot.py)."""
        for maps in (self._regimes, self._device_maps):
            for regime, (rd, wr) in maps.items():
                if in_address_space(regime, asid):
                    rd.clear()
                    wr.clear()
        for regime, fetch in self._fetch_maps.items():
            if in_address_space(regime, asid):
                fetch.clear()

    def _new_maps(self) -> tuple[dict[int, int], dict[int, int]]:
        """A regime's empty read and write fast maps (virtual page -> RAM delta); the list of all
        maps is made again."""
        self._maps_listed = None
        return {}, {}

    def _new_fetch_map(self) -> dict[int, tuple[int, int, bool]]:
        self._maps_listed = None
        return {}

    def _all_fast_maps(self) -> list[dict]:
        """The read and write fast maps and the fetch maps of every regime kept (~70 in a Linux
        boot), listed by C loops, kept until a regime's maps are made (a regime's maps are dropped
        only then; a Linux boot's ~1,100 fences of a mapped page listed them each time)."""
        if self._maps_listed is None:
            pairs = chain(self._regimes.values(), self._device_maps.values(), self._global_maps.values())
            self._maps_listed = [*chain.from_iterable(pairs), *self._fetch_maps.values()]
        return self._maps_listed

    def forget_fast_pages(self, pages: set[int]) -> None:
        """Drop these virtual pages from the fast maps (and fetch maps) of every regime, popped by
        C loops (a Linux boot's ~1,000 sfence.vma of a mapped page took ~25 us each through Python
        loops; benchmarks/boot.py)."""
        maps = self._all_fast_maps()
        for vpn in pages:
            deque(map(dict.pop, maps, repeat(vpn), repeat(None)), 0)

    def tlb_stats(self) -> TlbStats:
        return self.tlb.stats

    def _clear_fast_maps(self) -> None:
        for fast in self._all_fast_maps():
            fast.clear()
        self._superpage_pieces.clear()
        self._store_frames.clear()
        self._mapped_pages.clear()

    def _filled(self, vpn: int) -> None:
        """A fast map got ``vpn``: remember it (``_mapped_pages``), and as a piece of its leaf if
        that is a superpage."""
        self._mapped_pages.add(vpn)
        if self.leaf_level:
            self._superpage_pieces.add(vpn, self.leaf_level, vpn)

    def forget_stores_to(self, ppn: int) -> None:
        """Physical page ``ppn`` became code: the virtual pages whose stores went there fast leave
        the fast maps (through ``forget_fast_pages``, which a JIT follows). Emptying every store
        map instead cost a Linux boot ~20,000 native TLB misses (549 new code pages;
        benchmarks/boot.py)."""
        pages = self._store_frames.pop(ppn, None)
        if pages:
            self.forget_fast_pages(pages)

    def clear_store_maps(self) -> None:
        """Forget fast store translations (a page became code or watched: stores must see it)."""
        for maps in (self._regimes, self._global_maps):
            for _, wr in maps.values():
                wr.clear()

    def watch_pages(self, pages: set[int], callback: Callable[[int, int], None]) -> None:
        """Send guest stores to these physical pages through the slow path, then to ``callback``."""
        self.watched_pages |= pages
        self.on_watched_write = callback
        self.clear_store_maps()

    def set_slow_pages(self, pages: set[int]) -> None:
        """Keep these virtual pages out of the fast maps of every regime from now on."""
        self.slow_pages = set(pages)
        self.forget_fast_pages(pages)

    # --- translation (seed section 2.3) --------------------------------------------------------

    def _read_pte(self, paddr: int) -> int:
        ram = self.ram
        if ram.base <= paddr and paddr + 8 <= ram.end and self.pmp.allows(paddr, 8, Access.LOAD, Priv.S):
            return ram.u64[(paddr - ram.base) >> 3]
        raise PteMemoryError(paddr)

    def _write_pte(self, paddr: int, value: int) -> None:
        ram = self.ram
        if ram.base <= paddr and paddr + 8 <= ram.end:
            ram.u64[(paddr - ram.base) >> 3] = value
            self.pte_writes += 1
            return
        raise PteMemoryError(paddr)

    def translate(self, vaddr: int, access: Access) -> int:
        """Physical address of ``vaddr`` for this access in the current context, or PageFault."""
        priv = self.fetch_priv if access == Access.FETCH else self.priv
        if not self.translating(priv):
            self.leaf_level = 0
            self.leaf_global = self.leaf_user = False
            return vaddr
        entry = self.tlb.lookup(vaddr >> 12, self.asid)
        if entry is None or not riscv_permits(entry, access, priv, self.sum, self.mxr):
            entry = self.walk(vaddr, access, priv)
            self.tlb.insert(entry)
        self.leaf_level = entry.level
        self.leaf_global = entry.global_
        self.leaf_user = entry.user
        return (entry.ppn << 12) + vaddr - (entry.vpn << 12)  # the entry may be another piece of its leaf

    def fetch_paddr(self, vaddr: int) -> int:
        """``access_paddr`` of a 2-byte instruction fetch at ``vaddr`` (and ``leaf_level`` and
        ``leaf_global`` set), through the current regime's fetch map: pages of RAM whose
        translation and PMP check hold for every fetch in them. The fast maps' invalidations
        cover it (sfence.vma, satp and privilege changes, PMP writes). A warm Linux boot fetches
        ~55,000 times through the interpreter's block lookup (benchmarks/boot.py)."""
        entry = self.fx.get(vaddr >> 12)
        if entry is not None:
            delta, self.leaf_level, self.leaf_global = entry
            return vaddr + delta
        paddr = self.access_paddr(vaddr, Access.FETCH, 2)
        ram = self.ram
        if (
            ram.base <= paddr < ram.end
            and len(self.fx) < MAX_FAST_PAGES
            and self.pmp.page_allows(paddr >> 12, Access.FETCH, self.fetch_priv)
        ):
            self.fx[vaddr >> 12] = ((paddr & ~0xFFF) - (vaddr & ~0xFFF), self.leaf_level, self.leaf_global)
            self._filled(vaddr >> 12)
        return paddr

    def access_paddr(self, vaddr: int, access: Access, size: int) -> int:
        """``translate``, and the access of ``size`` bytes there checked against the PMP (an
        access fault, as PageFault with ``access_fault``, if refused)."""
        paddr = self.translate(vaddr, access)
        pmp = self.pmp
        if pmp.checked and not pmp.allows(paddr, size, access,
                                          self.fetch_priv if access == Access.FETCH else self.priv):
            raise PageFault(vaddr, access, access_fault=True)
        return paddr

    def walk(self, vaddr: int, access: Access, priv: Priv | None = None) -> TlbEntry:
        if self.mode not in RISCV_LEVELS:
            raise UnsupportedError(f"no page-table walker for {self.mode.name}")
        return riscv_walk(
            self.mode,
            self.root_ppn,
            self.asid,
            vaddr,
            access,
            self.priv if priv is None else priv,
            self.sum,
            self.mxr,
            self._read_pte,
            self._write_pte,
        )

    def walk_page_table(self, vaddr: int, write: bool) -> TlbEntry:
        """Seed API: the leaf for ``vaddr``, as a VmError when the walk faults."""
        try:
            if not self.translating(self.priv):
                return TlbEntry(vpn=vaddr >> 12, ppn=vaddr >> 12, readable=True, writable=True,
                                executable=True, dirty=True)
            return self.walk(vaddr, Access.STORE if write else Access.LOAD)
        except PageFault as fault:
            raise MemoryAccessError(vaddr, "page fault during page-table walk") from fault

    def virt_to_phys(self, vaddr: int) -> int:
        try:
            return self.translate(vaddr, Access.LOAD)
        except PageFault as fault:
            raise InvalidAddress(vaddr, "no valid translation") from fault

    # --- physical access -----------------------------------------------------------------------

    def phys_read(self, paddr: int, size: int) -> int:
        ram = self.ram
        if ram.base <= paddr and paddr + size <= ram.end:
            off = paddr - ram.base
            return int.from_bytes(ram.bytes[off : off + size], "little")
        value = self.bus.read(paddr, size)
        if value is None:
            raise BusError(paddr)
        return value & ((1 << (8 * size)) - 1)

    def phys_write(self, paddr: int, value: int, size: int) -> None:
        ram = self.ram
        if ram.base <= paddr and paddr + size <= ram.end:
            if self.code.pages:
                self.code.written(paddr, size)
            off = paddr - ram.base
            ram.bytes[off : off + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
            if self.watched_pages and self.on_watched_write is not None and (
                paddr >> 12 in self.watched_pages
                or (paddr + size - 1) >> 12 in self.watched_pages
            ):
                self.on_watched_write(paddr, size)
            return
        if not self.bus.write(paddr, value, size):
            raise BusError(paddr)

    # --- guest-virtual access with fast-map refill (the translated code's slow path) -------------

    def load(self, vaddr: int, size: int) -> int:
        """Read ``size`` bytes at ``vaddr``; misaligned and page-crossing reads are split."""
        if (vaddr & 0xFFF) + size > PAGE:
            first = PAGE - (vaddr & 0xFFF)
            low = self.load(vaddr, first)
            high = self.load((vaddr + first) & 0xFFFFFFFFFFFFFFFF, size - first)
            return low | (high << (8 * first))
        device = self.io_rd.get(vaddr >> 12)
        if device is not None:
            return self.phys_read(device | (vaddr & 0xFFF), size)
        shared = self._from_global(vaddr >> 12, False)
        if shared is not None:
            return self.phys_read(self.ram.base + vaddr + shared, size)
        paddr = self.access_paddr(vaddr, Access.LOAD, size)
        if not self.note_load_page(vaddr, paddr) and self._device_page(vaddr, paddr, Access.LOAD, self.io_rd):
            self.io_rd[vaddr >> 12] = paddr & ~0xFFF
            self._filled(vaddr >> 12)
        return self.phys_read(paddr, size)

    def note_load_page(self, vaddr: int, paddr: int) -> bool:
        """``vaddr`` was just translated for a load from ``paddr``: enter its page in the read map
        if loads there may take the fast path (plain RAM the PMP grants whole, not watched by the
        debugger); whether it did."""
        ram = self.ram
        if (
            ram.base <= paddr < ram.end
            and vaddr >> 12 not in self.slow_pages
            and len(self.rd) < MAX_FAST_PAGES
            and self.pmp.page_allows(paddr >> 12, Access.LOAD, self.priv)
        ):
            delta = self.rd[vaddr >> 12] = ((paddr - ram.base) & ~0xFFF) - (vaddr & ~0xFFF)
            if self.leaf_global and not self.leaf_user and len(self.global_rd) < MAX_FAST_PAGES:
                self.global_rd[vaddr >> 12] = delta
            self._filled(vaddr >> 12)
            return True
        return False

    def fill(self, vaddr: int, size: int, write: bool) -> None:
        """Translate a load or store of ``size`` bytes at ``vaddr`` as ``load`` or ``store`` would
        (A and D bits, the PMP and PageFault included) and enter its page in the read or write
        map if it may go there, without the access itself."""
        if self._from_global(vaddr >> 12, write) is not None:
            return
        paddr = self.access_paddr(vaddr, Access.STORE if write else Access.LOAD, size)
        if write:
            self.note_store_page(vaddr, paddr)
        else:
            self.note_load_page(vaddr, paddr)

    def _from_global(self, vpn: int, write: bool) -> int | None:
        """The RAM delta of page ``vpn`` for stores (``write``) or loads if the global maps have
        it, entered in the current regime's write or read map as well (``load``, ``store`` and
        ``fill`` take a global page so). The page is in _mapped_pages, and a store's frame in
        _store_frames, since the global map was filled: both go only when it does."""
        shared = (self.global_wr if write else self.global_rd).get(vpn)
        own = self.wr if write else self.rd
        if shared is None or len(own) >= MAX_FAST_PAGES:
            return None
        own[vpn] = shared
        return shared

    def _device_page(self, vaddr: int, paddr: int, access: Access, device_map: dict[int, int]) -> bool:
        """Whether the translation of ``vaddr`` to ``paddr`` may enter ``device_map`` (the current
        regime's device map for ``access``): a page outside RAM that the PMP grants whole for it,
        not one the debugger watches."""
        ram = self.ram
        return (
            not ram.base <= paddr < ram.end
            and vaddr >> 12 not in self.slow_pages
            and len(device_map) < MAX_FAST_PAGES
            and self.pmp.page_allows(paddr >> 12, access, self.priv)
        )

    def store(self, vaddr: int, value: int, size: int) -> None:
        if (vaddr & 0xFFF) + size > PAGE:
            first = PAGE - (vaddr & 0xFFF)
            second = (vaddr + first) & 0xFFFFFFFFFFFFFFFF
            # Both pages are translated before either is written, so a fault changes nothing.
            self.access_paddr(second, Access.STORE, size - first)
            self.access_paddr(vaddr, Access.STORE, first)
            self.store(vaddr, value & ((1 << (8 * first)) - 1), first)
            self.store(second, value >> (8 * first), size - first)
            return
        device = self.io_wr.get(vaddr >> 12)
        if device is not None:
            self.phys_write(device | (vaddr & 0xFFF), value, size)
            return
        shared = self._from_global(vaddr >> 12, True)
        if shared is not None:
            self.phys_write(self.ram.base + vaddr + shared, value, size)
            return
        paddr = self.access_paddr(vaddr, Access.STORE, size)
        self.note_store_page(vaddr, paddr)
        if self._device_page(vaddr, paddr, Access.STORE, self.io_wr):
            self.io_wr[vaddr >> 12] = paddr & ~0xFFF
            self._filled(vaddr >> 12)
        self.phys_write(paddr, value, size)

    def note_store_page(self, vaddr: int, paddr: int) -> None:
        """``vaddr`` was just translated for a store to ``paddr``: enter its page in the store map
        if stores there may take the fast path (plain RAM, not code, not watched)."""
        ram = self.ram
        if (
            ram.base <= paddr < ram.end
            and paddr >> 12 not in self.code.pages
            and paddr >> 12 not in self.watched_pages
            and vaddr >> 12 not in self.slow_pages
            and len(self.wr) < MAX_FAST_PAGES
            and self.pmp.page_allows(paddr >> 12, Access.STORE, self.priv)
        ):
            delta = self.wr[vaddr >> 12] = ((paddr - ram.base) & ~0xFFF) - (vaddr & ~0xFFF)
            if self.leaf_global and not self.leaf_user and len(self.global_wr) < MAX_FAST_PAGES:
                self.global_wr[vaddr >> 12] = delta
            self._filled(vaddr >> 12)
            frames = self._store_frames.get(paddr >> 12)
            if frames is None:
                frames = self._store_frames[paddr >> 12] = set()
            frames.add(vaddr >> 12)

    # --- seed MMU API --------------------------------------------------------------------------

    def _api(self, vaddr: int, action: Callable[[], int | None]) -> int | None:
        try:
            return action()
        except PageFault as fault:
            raise MemoryAccessError(vaddr, f"page fault ({fault.access.name.lower()})") from fault
        except BusError as err:
            raise InvalidAddress(err.paddr, "no RAM or device at this physical address") from err

    def read(self, addr: int, size: int) -> int:
        return self._api(addr, lambda: self.load(addr, size))

    def write(self, addr: int, val: int, size: int) -> None:
        self._api(addr, lambda: self.store(addr, val, size))

    def read_bulk(self, addr: int, length: int) -> bytes:
        return bytes(self.read((addr + i) & 0xFFFFFFFFFFFFFFFF, 1) for i in range(length))

    def write_bulk(self, addr: int, data: bytes) -> None:
        for i, byte in enumerate(data):
            self.write((addr + i) & 0xFFFFFFFFFFFFFFFF, byte, 1)

    def atomic_cas(self, addr: int, expected: int, new: int, size: int = 8) -> int:
        """Compare-and-swap; returns the old value (the swap happened iff it equals ``expected``)."""
        old = self.read(addr, size)
        if old == expected:
            self.write(addr, new, size)
        return old

    def atomic_lr(self, addr: int, size: int = 8) -> int:
        value = self.read(addr, size)
        self.reservation = self.virt_to_phys(addr)
        return value

    def atomic_sc(self, addr: int, val: int, size: int = 8) -> bool:
        """Store iff this hart holds a reservation on ``addr``; any SC ends the reservation."""
        paddr = self.virt_to_phys(addr)
        held = self.reservation == paddr
        self.reservation = None
        if held:
            self.write(addr, val, size)
        return held
