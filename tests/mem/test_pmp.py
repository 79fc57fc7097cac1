"""Pmp: pmpcfg/pmpaddr decoding, locking and the access rules (guests/riscv64/isa/pmp.S runs the
same rules against QEMU)."""

import random

import pytest

from polyvm.mem.paging import Access, Priv
from polyvm.mem.pmp import NA4, NAPOT, TOR, L, Pmp, R, W, X

RAM = 0x8000_0000


def configure(pmp: Pmp, entry: int, cfg: int, addr: int) -> None:
    pmp.write_addr(entry, addr)
    register = entry // 8 * 2
    shift = 8 * (entry % 8)
    pmp.write_cfg(register, pmp.read_cfg(register) & ~(0xFF << shift) | cfg << shift)


def napot(base: int, size: int) -> int:
    return (base >> 2) | ((size >> 3) - 1)


def test_napot_tor_and_na4_ranges_and_priorities():
    pmp = Pmp()
    configure(pmp, 0, NAPOT << 3 | R, napot(RAM, 0x1000))
    configure(pmp, 1, 0, (RAM + 0x2000) >> 2)
    configure(pmp, 2, TOR << 3 | R | W, (RAM + 0x2800) >> 2)
    configure(pmp, 3, NA4 << 3 | X, (RAM + 0x3000) >> 2)
    assert pmp.rules == [(RAM, RAM + 0x1000, R, False), (RAM + 0x2000, RAM + 0x2800, R | W, False),
                         (RAM + 0x3000, RAM + 0x3004, X, False)]
    assert pmp.allows(RAM + 8, 8, Access.LOAD, Priv.S)
    assert not pmp.allows(RAM + 8, 8, Access.STORE, Priv.U)
    assert pmp.allows(RAM + 8, 8, Access.STORE, Priv.M), "M ignores unlocked entries"
    assert pmp.allows(RAM + 0x27F8, 8, Access.STORE, Priv.S)
    assert not pmp.allows(RAM + 0x2800, 8, Access.LOAD, Priv.S), "no entry matches an S access"
    assert pmp.allows(RAM + 0x2800, 8, Access.LOAD, Priv.M), "no entry matches an M access"
    assert pmp.allows(RAM + 0x3000, 4, Access.FETCH, Priv.S)
    assert not pmp.allows(RAM + 0x3000, 8, Access.FETCH, Priv.S), "the match must cover every byte"
    assert not pmp.allows(RAM + 0x3000, 8, Access.FETCH, Priv.M), "even in M"


def test_pages_take_the_fast_path_only_when_one_entry_decides_all_of_them():
    pmp = Pmp()
    configure(pmp, 0, TOR << 3 | R, (RAM + 0x1800) >> 2)
    configure(pmp, 1, NAPOT << 3 | R | W | X, (1 << 54) - 1)
    ppn = RAM >> 12
    assert pmp.page_allows(ppn, Access.LOAD, Priv.S), "entry 0 covers page 0 whole"
    assert not pmp.page_allows(ppn, Access.STORE, Priv.S)
    assert not pmp.page_allows(ppn + 1, Access.LOAD, Priv.S), "entry 0 ends inside page 1"
    assert pmp.page_allows(ppn + 2, Access.STORE, Priv.S)


def test_locked_entries_bind_m_mode_and_ignore_writes():
    pmp = Pmp()
    configure(pmp, 1, TOR << 3 | R | L, (RAM + 0x1000) >> 2)
    assert not pmp.allows(0x100, 8, Access.STORE, Priv.M)
    assert pmp.allows(0x100, 8, Access.LOAD, Priv.M)
    pmp.write_addr(1, 0)
    pmp.write_addr(0, 0x40)
    pmp.write_cfg(0, 0)
    assert pmp.read_addr(1) == (RAM + 0x1000) >> 2
    assert pmp.read_addr(0) == 0, "the base of a locked TOR entry is locked too"
    assert pmp.read_cfg(0) == (TOR << 3 | R | L) << 8


def test_writes_changes_and_unimplemented_entries():
    pmp = Pmp(16)
    changes = []
    pmp.on_change = lambda: changes.append(1)
    pmp.write_cfg(0, W | 0x60)
    assert pmp.read_cfg(0) == 0, "R=0 W=1 is reserved; bits 5-6 do not exist"
    pmp.write_addr(20, 5)
    assert pmp.read_addr(20) == 0 and pmp.read_cfg(4) == 0
    assert changes == [1]


@pytest.mark.parametrize("access", list(Access))
def test_a_hart_without_entries_checks_nothing(access):
    pmp = Pmp(0)
    assert pmp.allows(0, 8, access, Priv.U) and pmp.page_allows(0, access, Priv.U)


def test_decisions_kept_per_page_are_those_of_the_rules():
    """``allows`` and ``page_allows`` keep the decision of a page no boundary crosses; every access
    and page, across random rules and rule changes, gets what the rules themselves decide."""
    rng = random.Random(5)
    pmp = Pmp(16)
    for _round in range(30):
        for entry in range(4):
            mode = rng.choice([TOR, NA4, NAPOT, 0])
            base = RAM + rng.randrange(0, 0x10000, 4)
            addr = napot(base & ~0xFFF, 0x1000 << rng.randrange(3)) if mode == NAPOT else base >> 2
            configure(pmp, entry, mode << 3 | rng.randrange(8) | rng.choice([0, 0, L]), addr)
        for _ in range(200):
            paddr = RAM + rng.randrange(0, 0x12000)
            size = rng.choice([1, 2, 4, 8])
            access, priv = rng.choice(list(Access)), rng.choice(list(Priv))
            assert pmp.allows(paddr, size, access, priv) == pmp._decides(paddr, paddr + size, access, priv)
            page = paddr & ~0xFFF
            assert pmp.page_allows(page >> 12, access, priv) == pmp._decides(page, page + 4096, access, priv)
