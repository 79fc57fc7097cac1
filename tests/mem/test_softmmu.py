"""SoftMmu, TLB and Sv39/Sv48 walks on page tables built in guest RAM."""

import pytest

from polyvm import InvalidAddress, MemoryAccessError, PagingMode, SoftMmu, TlbEntry, UnsupportedError
from polyvm.mem.paging import Access, PageFault, Priv

RAM = 0x8000_0000
V, R, W, X, U, G, A, D = (1 << i for i in range(8))


def pte(paddr: int, flags: int) -> int:
    return ((paddr >> 12) << 10) | flags


class Tables:
    """A tiny page-table builder: tables are allocated from the top of a 4 MiB RAM."""

    def __init__(self, mode: PagingMode = PagingMode.SV39):
        self.mmu = SoftMmu(4 << 20, mode, ram_base=RAM, tlb_size=8)
        self.levels = 3 if mode == PagingMode.SV39 else 4
        self.next_table = RAM + (4 << 20)
        self.root = self.alloc()
        self.mmu.set_satp(((8 if mode == PagingMode.SV39 else 9) << 60) | (self.root >> 12))
        self.mmu.set_context(Priv.S, Priv.S, False, False)

    def alloc(self) -> int:
        self.next_table -= 4096
        return self.next_table

    def map(self, vaddr: int, paddr: int, flags: int, level: int = 0) -> int:
        table = self.root
        for lvl in range(self.levels - 1, level, -1):
            slot = table + ((vaddr >> (12 + 9 * lvl)) & 0x1FF) * 8
            entry = self.mmu.ram.read_int(slot, 8)
            if not entry & V:
                entry = pte(self.alloc(), V)
                self.mmu.ram.write_int(slot, entry, 8)
            table = (entry >> 10) << 12
        slot = table + ((vaddr >> (12 + 9 * level)) & 0x1FF) * 8
        self.mmu.ram.write_int(slot, pte(paddr, flags), 8)
        return slot


def test_bare_mode_reads_and_writes_physical_ram():
    mmu = SoftMmu(1 << 20, PagingMode.NONE, ram_base=RAM)
    mmu.write(RAM + 0x10, 0x1122334455667788, 8)
    assert mmu.read(RAM + 0x10, 4) == 0x55667788
    assert mmu.read(RAM + 0x13, 2) == 0x4455
    mmu.write_bulk(RAM + 0xFFE, b"abcd")
    assert mmu.read_bulk(RAM + 0xFFE, 4) == b"abcd"
    with pytest.raises(InvalidAddress, match="0x1000"):
        mmu.read(0x1000, 4)


@pytest.mark.parametrize("mode", [PagingMode.AARCH64_UPA, PagingMode.LONG_MODE_64])
def test_unimplemented_paging_modes_are_clear_errors(mode):
    with pytest.raises(UnsupportedError, match=mode.name):
        SoftMmu(1 << 20, mode)


@pytest.mark.parametrize("mode", [PagingMode.SV39, PagingMode.SV48])
def test_walk_4k_page_sets_accessed_and_dirty(mode):
    t = Tables(mode)
    slot = t.map(0x4000_1000, RAM + 0x5000, V | R | W)
    t.mmu.write(0x4000_1008, 0xABCD, 2)
    assert t.mmu.ram.read_int(RAM + 0x5008, 2) == 0xABCD
    assert t.mmu.ram.read_int(slot, 8) & (A | D) == A | D
    assert t.mmu.virt_to_phys(0x4000_1234) == RAM + 0x5234


def test_load_sets_only_accessed_then_store_sets_dirty():
    t = Tables()
    slot = t.map(0x1000, RAM + 0x3000, V | R | W)
    t.mmu.read(0x1000, 8)
    assert t.mmu.ram.read_int(slot, 8) & (A | D) == A
    t.mmu.write(0x1000, 1, 8)
    assert t.mmu.ram.read_int(slot, 8) & (A | D) == A | D


def test_superpages_and_misaligned_superpage_faults():
    t = Tables()
    t.map(0x4020_0000, RAM + 0x20_0000, V | R, level=1)
    assert t.mmu.translate(0x4021_2345, Access.LOAD) == RAM + 0x21_2345
    t.map(0x4040_0000, RAM + 0x1000, V | R, level=1)
    with pytest.raises(PageFault):
        t.mmu.translate(0x4040_0000, Access.LOAD)
    t.map(0xC000_0000, 0x8000_0000, V | R | X, level=2)
    assert t.mmu.translate(0xC012_3456, Access.FETCH) == 0x8012_3456



def test_a_superpage_leaf_is_one_tlb_entry_for_all_its_pages():
    """Pages of a 2 MiB leaf after the first are translated from the leaf's one TLB entry (no walk:
    the PTE changed under it is not seen), each at its own physical page; a store to a piece of a
    leaf cached clean walks again to set D; tlb_lookup answers for the page asked about."""
    t = Tables()
    slot = t.map(0x4020_0000, RAM + 0x20_0000, V | R | W | A, level=1)
    mmu = t.mmu
    assert mmu.translate(0x4020_1000, Access.LOAD) == RAM + 0x20_1000
    t.mmu.ram.write_int(slot, pte(RAM + 0x40_0000, V | R | W | A), 8)
    assert mmu.translate(0x4030_0123, Access.LOAD) == RAM + 0x30_0123
    assert mmu.translate(0x4020_0000, Access.LOAD) == RAM + 0x20_0000
    assert len(mmu.tlb) == 1
    assert mmu.tlb_stats().misses == 1
    piece = mmu.tlb_lookup(0x4030_0000 >> 12, mmu.asid)
    assert (piece.vpn, piece.ppn) == (0x4030_0000 >> 12, (RAM + 0x30_0000) >> 12)
    assert mmu.translate(0x4025_0000, Access.STORE) == RAM + 0x45_0000  # walked: the new PTE
    assert mmu.ram.read_int(slot, 8) & D


@pytest.mark.parametrize(
    "flags, access, priv, sum_, mxr, allowed",
    [
        (V | R, Access.STORE, Priv.S, False, False, False),
        (V | R | W, Access.FETCH, Priv.S, False, False, False),
        (V | X, Access.LOAD, Priv.S, False, False, False),
        (V | X, Access.LOAD, Priv.S, False, True, True),
        (V | R | U, Access.LOAD, Priv.S, False, False, False),
        (V | R | U, Access.LOAD, Priv.S, True, False, True),
        (V | X | U, Access.FETCH, Priv.S, True, False, False),
        (V | R, Access.LOAD, Priv.U, False, False, False),
        (V | R | U, Access.LOAD, Priv.U, False, False, True),
        (V | W, Access.LOAD, Priv.S, False, False, False),
        (R | W, Access.LOAD, Priv.S, False, False, False),
        (V | R | (1 << 60), Access.LOAD, Priv.S, False, False, False),
    ],
)
def test_permission_rules(flags, access, priv, sum_, mxr, allowed):
    t = Tables()
    t.map(0x2000, RAM + 0x2000, flags)
    t.mmu.set_context(priv, priv, sum_, mxr)
    if allowed:
        assert t.mmu.translate(0x2000, access) == RAM + 0x2000
    else:
        with pytest.raises(PageFault):
            t.mmu.translate(0x2000, access)


def test_refused_access_does_not_set_accessed_bit():
    t = Tables()
    slot = t.map(0x2000, RAM + 0x2000, V | R)
    with pytest.raises(MemoryAccessError):
        t.mmu.write(0x2000, 1, 4)
    assert not t.mmu.ram.read_int(slot, 8) & A


def test_non_canonical_address_faults():
    t = Tables()
    with pytest.raises(PageFault):
        t.mmu.translate(0x0000_0080_0000_0000, Access.LOAD)


def test_tlb_caches_until_sfence():
    t = Tables()
    slot = t.map(0x5000, RAM + 0x6000, V | R | W | A | D)
    assert t.mmu.translate(0x5000, Access.LOAD) == RAM + 0x6000
    t.mmu.ram.write_int(slot, pte(RAM + 0x7000, V | R | W | A | D), 8)
    assert t.mmu.translate(0x5000, Access.LOAD) == RAM + 0x6000
    t.mmu.sfence_vma(0x5000, None)
    assert t.mmu.translate(0x5000, Access.LOAD) == RAM + 0x7000


def test_sfence_of_one_address_drops_the_whole_superpage_leaf_and_only_it():
    t = Tables()
    slot = t.map(0x4020_0000, RAM + 0x20_0000, V | R | W | A | D, level=1)
    t.map(0x5000, RAM + 0x6000, V | R | W | A | D)
    for vaddr in (0x4020_0000, 0x4030_0000, 0x5000):
        t.mmu.load(vaddr, 8)
    t.mmu.ram.write_int(slot, pte(RAM + 0x40_0000, V | R | W | A | D), 8)
    t.mmu.sfence_vma(0x4021_0000, None)
    assert 0x4020_0000 >> 12 not in t.mmu.rd and 0x4030_0000 >> 12 not in t.mmu.rd
    assert 0x5000 >> 12 in t.mmu.rd
    assert t.mmu.translate(0x4030_0000, Access.LOAD) == RAM + 0x50_0000
    assert t.mmu.translate(0x4020_0000, Access.LOAD) == RAM + 0x40_0000



def test_every_sfence_of_a_page_drops_what_the_maps_took_since_the_last_one():
    """sfence.vma of a page that no map holds changes nothing; a page filled again after a fence
    (in any map, of any regime) is dropped by the next fence of it, again and again."""
    t = Tables()
    slot = t.map(0x5000, RAM + 0x6000, V | R | W | X | A | D | U)
    mmu = t.mmu
    mmu.sfence_vma(0x5000, None)
    for target in (0x7000, 0x8000, 0x9000):
        for priv, sum_ in ((Priv.U, False), (Priv.S, True)):
            mmu.set_context(priv, priv, sum_, False)
            mmu.load(0x5000, 8)
            mmu.store(0x5008, 1, 8)
            if priv == Priv.U:
                mmu.fetch_paddr(0x5010)
        mmu.ram.write_int(slot, pte(RAM + target, V | R | W | X | A | D | U), 8)
        mmu.sfence_vma(0x5000, None)
        for priv, sum_ in ((Priv.U, False), (Priv.S, True)):
            mmu.set_context(priv, priv, sum_, False)
            assert 0x5 not in mmu.rd and 0x5 not in mmu.wr and 0x5 not in mmu.fx
            if priv == Priv.U:
                assert mmu.fetch_paddr(0x5010) == RAM + target + 0x10
            mmu.store(0x5008, target, 8)
            assert mmu.ram.read_int(RAM + target + 8, 8) == target


def test_global_pages_are_translated_once_for_every_address_space():
    """A page whose leaf has the G bit, filled in one address space, is served in another without
    a translation (not a non-global one); a fence of its address (any ASID) drops it everywhere,
    a fence of an ASID alone keeps it, as the privileged spec says of global mappings."""
    t = Tables()
    mmu, ram = t.mmu, t.mmu.ram
    first_root = t.root
    global_slots = [t.map(0x5000, RAM + 0x6000, V | R | W | G | A | D)]
    t.map(0x7000, RAM + 0x8000, V | R | W | A | D)
    t.root = second_root = t.alloc()
    global_slots.append(t.map(0x5000, RAM + 0x6000, V | R | W | G | A | D))
    t.map(0x7000, RAM + 0x9000, V | R | W | A | D)
    for paddr in (0x6000, 0x8000, 0x9000, 0xA000):
        ram.write_int(RAM + paddr, paddr, 8)

    def space(asid: int, root: int) -> None:
        mmu.set_satp((8 << 60) | (asid << 44) | (root >> 12))

    space(1, first_root)
    assert (mmu.load(0x5000, 8), mmu.load(0x7000, 8)) == (0x6000, 0x8000)
    mmu.store(0x5008, 1, 8)
    space(2, second_root)
    stats = mmu.tlb_stats()
    lookups = stats.hits + stats.misses
    assert mmu.load(0x5000, 8) == 0x6000 and stats.hits + stats.misses == lookups, "no translation"
    mmu.store(0x5008, 2, 8)
    assert mmu.load(0x7000, 8) == 0x9000, "its own translation"
    for slot in global_slots:
        ram.write_int(slot, pte(RAM + 0xA000, V | R | W | G | A | D), 8)
    mmu.sfence_vma(None, 2)
    lookups = stats.hits + stats.misses
    assert mmu.load(0x5000, 8) == 0x6000 and stats.hits + stats.misses == lookups, (
        "an ASID's fence keeps global translations")
    mmu.sfence_vma(0x5000, None)
    assert mmu.load(0x5000, 8) == 0xA000
    space(1, first_root)
    assert mmu.load(0x5000, 8) == 0xA000 and ram.read_int(RAM + 0x6008, 8) == 2

def test_tlb_stats_and_eviction_honour_size():
    t = Tables()
    for page in range(12):
        t.map(0x10_0000 + page * 4096, RAM + page * 4096, V | R | A)
    for page in range(12):
        t.mmu.translate(0x10_0000 + page * 4096, Access.LOAD)
    stats = t.mmu.tlb_stats()
    assert len(t.mmu.tlb) == 8
    assert stats.misses == 12 and stats.evictions == 4
    t.mmu.translate(0x10_0000 + 11 * 4096, Access.LOAD)
    assert t.mmu.tlb_stats().hits == 1
    assert 0 < t.mmu.tlb_stats().hit_rate < 1


def test_tlb_asids_and_global_entries():
    mmu = SoftMmu(1 << 20, PagingMode.NONE, ram_base=RAM, tlb_size=4)
    mmu.tlb_insert(TlbEntry(vpn=5, ppn=50, asid=1))
    mmu.tlb_insert(TlbEntry(vpn=6, ppn=60, asid=1, global_=True))
    assert mmu.tlb_lookup(5, 1).ppn == 50
    assert mmu.tlb_lookup(5, 2) is None
    assert mmu.tlb_lookup(6, 7).ppn == 60
    mmu.tlb.flush(asid=1)
    assert mmu.tlb_lookup(5, 1) is None
    assert mmu.tlb_lookup(6, 1) is not None
    mmu.flush_tlb_all()
    assert mmu.tlb_lookup(6, 1) is None


def test_atomics_and_reservation_rules():
    mmu = SoftMmu(1 << 20, PagingMode.NONE, ram_base=RAM)
    addr = RAM + 0x100
    mmu.write(addr, 5, 8)
    assert mmu.atomic_cas(addr, 5, 9) == 5 and mmu.read(addr, 8) == 9
    assert mmu.atomic_cas(addr, 5, 1) == 9 and mmu.read(addr, 8) == 9
    assert not mmu.atomic_sc(addr, 3)
    assert mmu.atomic_lr(addr) == 9
    assert not mmu.atomic_sc(addr + 8, 3)
    assert not mmu.atomic_sc(addr, 3)
    mmu.atomic_lr(addr)
    assert mmu.atomic_sc(addr, 3) and mmu.read(addr, 8) == 3


def test_page_crossing_store_faults_before_writing_anything():
    t = Tables()
    t.map(0x8000, RAM + 0x8000, V | R | W)
    t.map(0x9000, RAM + 0x9000, V | R)
    with pytest.raises(MemoryAccessError):
        t.mmu.write(0x8FFE, 0xFFFFFFFF, 4)
    assert t.mmu.ram.read_int(RAM + 0x8FFE, 2) == 0


def test_amos_enter_their_page_in_the_store_map_like_stores():
    from polyvm import RiscvHart

    t = Tables()
    t.map(0x5000, RAM + 0x6000, V | R | W | A | D)
    t.map(0x7000, RAM + 0x8000, V | R | W | A | D)
    hart = RiscvHart(0, t.mmu, lambda: 0)
    t.mmu.set_context(Priv.S, Priv.S, False, False)
    t.mmu.ram.write_int(RAM + 0x6008, 40, 8)
    assert hart.amo("amoadd", 0x5008, 2, 8, 0x1000, 0) == 40
    assert t.mmu.ram.read_int(RAM + 0x6008, 8) == 42
    t.mmu.store(0x7000, 1, 8)
    assert 0x5 in t.mmu.wr and 0x7 in t.mmu.wr
    assert t.mmu.wr[0x5] == t.mmu.ram.offset(RAM + 0x6000) - 0x5000


def test_a_page_becoming_code_drops_only_the_store_translations_into_it():
    t = Tables()
    t.map(0x5000, RAM + 0x6000, V | R | W | A | D)
    t.map(0x7000, RAM + 0x6000, V | R | W | A | D)
    t.map(0x9000, RAM + 0xA000, V | R | W | A | D)
    for vaddr in (0x5000, 0x7000, 0x9000):
        t.mmu.store(vaddr, 1, 8)
    t.mmu.set_context(Priv.S, Priv.S, True, False)
    t.mmu.store(0x5000, 2, 8)
    t.mmu.code.ref((RAM + 0xB000) >> 12)
    t.mmu.set_context(Priv.S, Priv.S, False, False)
    assert set(t.mmu.wr) == {0x5, 0x7, 0x9}, "another page became code: nothing to forget"
    t.mmu.code.ref((RAM + 0x6000) >> 12)
    assert set(t.mmu.wr) == {0x9}, "both aliases of the code page go"
    t.mmu.set_context(Priv.S, Priv.S, True, False)
    assert set(t.mmu.wr) == set(), "in every regime"
    t.mmu.store(0x7000, 3, 8)
    assert 0x7 not in t.mmu.wr, "stores to code stay on the slow path"


def test_fetch_map_serves_fetches_until_sfence_satp_or_privilege_change():
    """fetch_paddr keeps a page's fetch translation per fetch regime: a remapped page is seen after
    sfence.vma (of its address or of all), another address space or privilege has its own map,
    and a PMP write (flush_tlb_all) empties them."""
    t = Tables()
    slot = t.map(0x5000, RAM + 0x6000, V | R | X | A)
    t.map(0x4020_0000, RAM + 0x20_0000, V | R | X | A | G, level=1)
    mmu = t.mmu
    assert mmu.fetch_paddr(0x5010) == RAM + 0x6010 and 0x5 in mmu.fx
    assert mmu.fetch_paddr(0x4030_0000) == RAM + 0x30_0000
    assert (mmu.leaf_level, mmu.leaf_global) == (1, True)
    assert mmu.fetch_paddr(0x5020) == RAM + 0x6020 and (mmu.leaf_level, mmu.leaf_global) == (0, False)
    mmu.ram.write_int(slot, pte(RAM + 0x7000, V | R | X | A), 8)
    assert mmu.fetch_paddr(0x5010) == RAM + 0x6010, "stale until sfence.vma, as the spec allows"
    mmu.sfence_vma(0x5000, None)
    assert mmu.fetch_paddr(0x5010) == RAM + 0x7010
    mmu.sfence_vma(0x4020_0000, None)  # the superpage's pieces go with its leaf
    assert 0x4030_0000 >> 12 not in mmu.fx
    mmu.set_context(Priv.U, Priv.U, False, False)
    with pytest.raises(PageFault):
        mmu.fetch_paddr(0x5010)  # not a user page: U has its own map
    mmu.set_context(Priv.S, Priv.S, False, False)
    assert 0x5 in mmu.fx
    mmu.flush_tlb_all()
    assert not mmu.fx


class Registers:
    """A device page: reads return the offset plus ``base``; writes are kept."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.writes: list[tuple[int, int]] = []

    def read(self, offset: int, size: int) -> int:
        return self.base + offset

    def write(self, offset: int, val: int, size: int) -> None:
        self.writes.append((offset, val))

    def interrupt(self) -> None:
        return None


def test_device_pages_skip_translation_until_sfence_or_a_regime_change():
    """Device pages' translations are kept per regime (``io_rd``/``io_wr``) and go with the fast
    maps: after sfence.vma of the page a remapped page reaches its new device, and another
    privilege level is checked anew."""
    t = Tables()
    first, second = Registers(0x100), Registers(0x200)
    t.mmu.bus.register(0x1000_0000, 0x1000, first)
    t.mmu.bus.register(0x1000_1000, 0x1000, second)
    slot = t.map(0x5000_0000, 0x1000_0000, V | R | W)
    assert t.mmu.load(0x5000_0008, 4) == 0x108
    t.mmu.store(0x5000_0010, 7, 4)
    assert 0x5000_0 in t.mmu.io_rd and 0x5000_0 in t.mmu.io_wr
    walks = t.mmu.tlb_stats().misses
    assert t.mmu.load(0x5000_0020, 4) == 0x120 and t.mmu.tlb_stats().misses == walks
    t.mmu.ram.write_int(slot, pte(0x1000_1000, V | R | W | A | D), 8)
    assert t.mmu.load(0x5000_0008, 4) == 0x108, "no sfence.vma yet: the old translation holds"
    t.mmu.sfence_vma(0x5000_0000, None)
    assert t.mmu.load(0x5000_0008, 4) == 0x208
    t.mmu.store(0x5000_0010, 9, 4)
    assert first.writes == [(0x10, 7)] and second.writes == [(0x10, 9)]
    t.mmu.set_context(Priv.U, Priv.U, False, False)
    with pytest.raises(PageFault):
        t.mmu.load(0x5000_0008, 4)


def test_fencing_one_address_space_keeps_the_fast_maps_of_the_others():
    """sfence.vma x0, asid empties the fast and fetch maps of that ASID's regimes only; a remapped
    page of that address space is then translated anew, the other's keeps its translation."""
    t = Tables()
    satp = (8 << 60) | (t.root >> 12)
    slot = t.map(0x1000, RAM + 0x3000, V | R | W | A | D)
    t.mmu.ram.write_int(RAM + 0x3000, 0x33, 8)
    t.mmu.ram.write_int(RAM + 0x4000, 0x44, 8)
    t.mmu.set_satp(satp | 1 << 44)
    assert t.mmu.load(0x1000, 8) == 0x33
    first = t.mmu.regime
    t.mmu.set_satp(satp | 2 << 44)
    assert t.mmu.load(0x1000, 8) == 0x33
    t.mmu.ram.write_int(slot, pte(RAM + 0x4000, V | R | W | A | D), 8)
    t.mmu.sfence_vma(None, 2)
    assert t.mmu.load(0x1000, 8) == 0x44, "address space 2 translates anew"
    assert 0x1 in t.mmu._regimes[first][0], "address space 1 keeps its fast map (no fence for it)"
    t.mmu.sfence_vma(None, 1)
    assert 0x1 not in t.mmu._regimes[first][0]
