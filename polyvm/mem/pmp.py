"""Physical memory protection (RISC-V privileged spec, "Physical Memory Protection"): the pmpcfg and
pmpaddr CSRs of one hart and the check every guest access makes against them.

Entries are decoded into ``rules`` (lowest-numbered first) whenever a CSR changes. The
lowest-numbered entry that matches any byte of an access decides it, and it must match every byte.
M-mode accesses are only checked against locked entries, and succeed when no entry matches. S- and
U-mode accesses fail when no entry matches, as soon as the hart implements PMP at all (QEMU does the
same, which is why firmware such as OpenSBI and our guests' start-up code open memory to S-mode
with an entry of their own). A hart built with no entries (``entries=0``, unit tests that drive a
bare hart) checks nothing.

The fast paths (the MMU's fast page maps, the JIT's TLBs and jump tables) only take pages that one
entry grants as a whole (``page_allows``). A page an entry boundary crosses takes the slow path on
every access, where ``allows`` checks each one, and its code runs one instruction a block
(``splits``: translations are shared by every privilege level). A CSR write calls ``on_change``,
and the hart then drops its translations and fast maps.
"""

from __future__ import annotations

from collections.abc import Callable

from polyvm.mem.paging import Access, Priv

ENTRIES = 64
"""PMP entries a hart of the virt and spike boards implements (OpenSBI counts them at boot)."""
ADDRESS_BITS = 54
"""pmpaddr holds physical address bits 55..2."""
R, W, X, A_SHIFT, L = 1, 2, 4, 3, 0x80
OFF, TOR, NA4, NAPOT = range(4)
CFG_WRITABLE = 0x9F
"""Bits of a pmpcfg byte that exist: R, W, X, A and L."""
NEEDED = {Access.LOAD: R, Access.STORE: W, Access.FETCH: X}
PAGE = 4096


class Pmp:
    """The PMP state of one hart with ``entries`` entries (0, 16 or 64)."""

    def __init__(self, entries: int = ENTRIES) -> None:
        self.entries = entries
        self.checked = entries > 0
        """Whether accesses are checked at all (a hart with PMP entries)."""
        self.cfg = [0] * entries
        """One configuration byte per entry."""
        self.addr = [0] * entries
        self.rules: list[tuple[int, int, int, bool]] = []
        """(first byte, end byte (exclusive), R/W/X bits, locked) of each active entry, in order."""
        self._page_decisions: dict[int, bool] = {}
        """``allows`` of accesses within pages no entry boundary crosses, by page, access and
        privilege (``_page_decision``); emptied when the rules change. A Linux boot checks ~25,000
        slow-path accesses, a device register's each time, against OpenSBI's entries
        (benchmarks/boot.py)."""
        self.on_change: Callable[[], None] = lambda: None

    # --- CSRs ----------------------------------------------------------------------------------

    def read_cfg(self, register: int) -> int:
        """pmpcfg``register`` (even on RV64): the bytes of entries 4 * register .. + 7."""
        first = 4 * register
        return sum(self.cfg[first + n] << (8 * n) for n in range(8) if first + n < self.entries)

    def write_cfg(self, register: int, value: int) -> None:
        """Write pmpcfg``register``: locked entries keep their byte; R=0 W=1, a reserved
        combination, reads back as no access."""
        first = 4 * register
        for n in range(8):
            entry = first + n
            if entry >= self.entries or self.cfg[entry] & L:
                continue
            byte = value >> (8 * n) & CFG_WRITABLE
            if byte & (R | W) == W:
                byte &= ~(R | W)
            self.cfg[entry] = byte
        self._decode()

    def read_addr(self, entry: int) -> int:
        return self.addr[entry] if entry < self.entries else 0

    def write_addr(self, entry: int, value: int) -> None:
        """Write pmpaddr``entry``, unless the entry is locked or is the base of a locked TOR
        entry above it."""
        if entry >= self.entries or self.cfg[entry] & L:
            return
        above = entry + 1
        if above < self.entries and self.cfg[above] & L and self._mode(above) == TOR:
            return
        self.addr[entry] = value & ((1 << ADDRESS_BITS) - 1)
        self._decode()

    def _mode(self, entry: int) -> int:
        return self.cfg[entry] >> A_SHIFT & 3

    def _decode(self) -> None:
        rules = []
        for entry in range(self.entries):
            mode = self._mode(entry)
            address = self.addr[entry]
            if mode == TOR:
                start, end = (self.addr[entry - 1] << 2 if entry else 0), address << 2
            elif mode == NA4:
                start, end = address << 2, (address << 2) + 4
            elif mode == NAPOT:
                ones = (~address & -~address).bit_length() - 1  # trailing one bits
                start = (address & ~((1 << ones) - 1)) << 2
                end = start + (1 << (ones + 3))
            else:
                continue
            if start < end:
                cfg = self.cfg[entry]
                rules.append((start, end, cfg & (R | W | X), bool(cfg & L)))
        self.rules = rules
        self._page_decisions.clear()
        self.on_change()

    # --- checks --------------------------------------------------------------------------------

    def allows(self, paddr: int, size: int, access: Access, priv: Priv) -> bool:
        """Whether an access of ``size`` bytes at ``paddr`` is allowed at privilege ``priv``."""
        if not self.checked:
            return True
        if (paddr & (PAGE - 1)) + size <= PAGE:
            decision = self._page_decision(paddr >> 12, access, priv)
            if decision is not None:
                return decision
        return self._decides(paddr, paddr + size, access, priv)

    def page_allows(self, ppn: int, access: Access, priv: Priv) -> bool:
        """Whether every access of this kind to physical page ``ppn`` is allowed (one entry
        covers the whole page, or none touches it in M-mode), so it may take a fast path."""
        if not self.checked:
            return True
        decision = self._page_decision(ppn, access, priv)
        if decision is not None:
            return decision
        return self._decides(ppn * PAGE, ppn * PAGE + PAGE, access, priv)

    def _page_decision(self, ppn: int, access: Access, priv: Priv) -> bool | None:
        """The decision for every access within page ``ppn`` (kept), or None if an entry boundary
        crosses the page."""
        key = ppn << 4 | access << 2 | priv
        decision = self._page_decisions.get(key)
        if decision is None and not self.splits(ppn):
            decision = self._page_decisions[key] = self._decides(ppn * PAGE, ppn * PAGE + PAGE, access, priv)
        return decision

    def splits(self, ppn: int) -> bool:
        """Whether an entry's boundary lies inside physical page ``ppn``, so that what an access
        may do there depends on where in the page it is (for some privilege level)."""
        first, end = ppn * PAGE, ppn * PAGE + PAGE
        return self.checked and any(start < end and last > first and (first < start or end > last)
                                    for start, last, _, _ in self.rules)

    def _decides(self, start: int, end: int, access: Access, priv: Priv) -> bool:
        if not self.checked:
            return True
        for first, last, rights, locked in self.rules:
            if start < last and end > first:
                if start < first or end > last:
                    return False
                if priv == Priv.M and not locked:
                    return True
                return bool(rights & NEEDED[access])
        return priv == Priv.M
