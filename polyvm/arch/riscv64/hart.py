"""One RISC-V hart: architectural state, CSRs, traps and interrupts, and the helpers that
translated code calls (slow-path loads/stores, atomics, CSR access, system instructions).

State layout: ``x`` is the slot list the IR uses (slots 0-31 = x0-x31; x0 stays 0). Values are
held as unsigned 64-bit Python ints. ``instret`` counts retired instructions; the run loop adds a
block's count after the block returns, so inside a block ``instret + index`` is exact.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

from polyvm.arch.riscv64 import csr as C
from polyvm.arch.riscv64.traps import INTERRUPT_PRIORITY, Cause, ExitSlice, GuestTrap
from polyvm.core.errors import InvalidAddress
from polyvm.fp.instructions import INSTRUCTIONS as FP_INSTRUCTIONS
from polyvm.mem.paging import Access, PageFault, Priv
from polyvm.mem.pmp import Pmp
from polyvm.mem.softmmu import BusError, SoftMmu

M64 = C.M64
PAGE_FAULT_CAUSE = {Access.FETCH: Cause.FETCH_PAGE_FAULT, Access.LOAD: Cause.LOAD_PAGE_FAULT,
                    Access.STORE: Cause.STORE_PAGE_FAULT}
ACCESS_FAULT_CAUSE = {Access.FETCH: Cause.FETCH_ACCESS, Access.LOAD: Cause.LOAD_ACCESS,
                      Access.STORE: Cause.STORE_ACCESS}
AMO_OPS: dict[str, Callable[[int, int, int], int]] = {
    "amoswap": lambda old, val, bits: val,
    "amoadd": lambda old, val, bits: old + val,
    "amoxor": lambda old, val, bits: old ^ val,
    "amoand": lambda old, val, bits: old & val,
    "amoor": lambda old, val, bits: old | val,
    "amomin": lambda old, val, bits: min(_signed(old, bits), _signed(val, bits)),
    "amomax": lambda old, val, bits: max(_signed(old, bits), _signed(val, bits)),
    "amominu": lambda old, val, bits: min(old, val),
    "amomaxu": lambda old, val, bits: max(old, val),
}


def _signed(value: int, bits: int) -> int:
    sign = 1 << (bits - 1)
    return (value & (sign - 1)) - (value & sign)


def _sext(value: int, size: int) -> int:
    return _signed(value, 8 * size) & M64


GLOBAL_ENABLES = C.MIE_BIT | C.SIE_BIT
"""mstatus bits that only gate interrupts (no effect on translation)."""
DATA_ACCESS_BITS = C.SUM | C.MXR
"""mstatus bits that only change what loads and stores may access (not fetches, so not the block
lookup either)."""

HART_CELLS = ("priv", "mstatus", "sscratch", "sepc", "scause", "stval", "mscratch", "mepc", "mcause",
              "mtval", "possible_interrupts", "hart_id", "misa")
"""Hart state kept in u64 cells (``RiscvHart.cells``) rather than attributes, so that native code
can share them: the JIT puts the cells in its context block (``share_cells``) and reads and writes
the CSRs among them itself (jit/native_csrs.py)."""
PRIV_BY_LEVEL = {int(level): level for level in Priv}
TRAP_CSRS = {C.SSCRATCH: ("sscratch", M64), C.SEPC: ("sepc", M64 & ~1), C.SCAUSE: ("scause", M64),
             C.STVAL: ("stval", M64), C.MSCRATCH: ("mscratch", M64), C.MEPC: ("mepc", M64 & ~1),
             C.MCAUSE: ("mcause", M64), C.MTVAL: ("mtval", M64)}
"""The trap CSRs: plain registers (hart cells), each with the mask of the bits a write keeps."""


class _Cell:
    """A hart attribute stored in the hart's cell of the same name (HART_CELLS)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.index = HART_CELLS.index(name)

    def __get__(self, hart: RiscvHart, owner: type | None = None) -> int:
        return hart.cells[self.index]

    def __set__(self, hart: RiscvHart, value: int) -> None:
        hart.cells[self.index] = value


class _PrivCell(_Cell):
    """The privilege level's cell, read back as a ``Priv``."""

    def __get__(self, hart: RiscvHart, owner: type | None = None) -> Priv:
        return PRIV_BY_LEVEL[hart.cells[self.index]]


class RiscvHart:
    """Architectural state and privileged behaviour of one RV64IMAC hart with M, S and U modes."""

    priv = _PrivCell()
    mstatus = _Cell()
    sscratch, sepc, scause, stval = _Cell(), _Cell(), _Cell(), _Cell()
    mscratch, mepc, mcause, mtval = _Cell(), _Cell(), _Cell(), _Cell()
    possible_interrupts = _Cell()
    """The mie-enabled interrupts that may be pending before the current slice ends (a superset,
    ``expect_interrupts``): while it is 0 no interrupt can become deliverable, so setting a global
    enable needs no check (native code does such writes itself, jit/native_csrs.py)."""
    hart_id, misa = _Cell(), _Cell()
    """mhartid and misa, constant: cells so that native code reads them itself."""

    def __init__(self, hart_id: int, mmu: SoftMmu, mtime: Callable[[], int], pmp_entries: int = 0) -> None:
        self.cells = (ctypes.c_uint64 * len(HART_CELLS))()
        self.hart_id = hart_id
        self.mmu = mmu
        self.mtime = mtime
        self.x: list[int] = [0] * 64
        self.pc = 0
        self.priv = Priv.M
        self.instret = 0
        self.waiting = False
        """Set by wfi until an interrupt is pending."""
        self.exit_pending = False
        self.mstatus = C.UXL_SXL_64
        self.misa = C.MISA_BASE | C.MISA_FD
        self.fflags = 0
        self.frm = 0
        self.medeleg = self.mideleg = self.mie = 0
        self.mip_sw = 0
        """Software-writable pending bits (SSIP, STIP, SEIP)."""
        self.mip_hw = 0
        """Pending bits driven by devices (MSIP, MTIP from the CLINT; MEIP, SEIP from the PLIC)."""
        self.possible_interrupts = M64
        self.ticks_within: Callable[[int], int] = lambda instructions: instructions
        """An upper bound of the ``mtime`` ticks that pass while the hart retires this many
        instructions (the machine's clock sets it)."""
        self.mtvec = self.stvec = self.mepc = self.sepc = 0
        self.mcause = self.scause = self.mtval = self.stval = 0
        self.mscratch = self.sscratch = 0
        self.mcounteren = self.scounteren = self.mcountinhibit = 0
        self.menvcfg = self.senvcfg = 0
        self.stimecmp = M64
        self.satp = 0
        self.pmp = mmu.pmp = Pmp(pmp_entries)
        self.pmp.on_change = self._protection_changed
        self.on_protection_change: Callable[[], None] = lambda: None
        """Called when the PMP changed: translated code must be fetched and checked again."""
        self.cycle_offset = self.instret_offset = 0
        self.has_time_csr = True
        """QEMU's spike board has no ``time`` CSR (rdtime traps); its virt board has one."""
        self.on_sfence: Callable[[int | None, int | None], None] = lambda vaddr, asid: None
        """Called after sfence.vma with its address and ASID (None for all addresses, all ASIDs
        and global mappings)."""
        self._csr_read = self._build_csr_reads()
        self._csr_write = self._build_csr_writes()
        self._sync_mmu()

    def share_cells(self, cells: ctypes.Array) -> None:
        """Keep the HART_CELLS state in ``cells`` (u64s in that order) from now on."""
        ctypes.memmove(cells, self.cells, ctypes.sizeof(self.cells))
        self.cells = cells

    # --- register access (seed ExecutionEngine) ------------------------------------------------

    def read_reg(self, idx: int) -> int:
        return int(self.x[idx]) if idx else 0

    def write_reg(self, idx: int, value: int) -> None:
        if idx:
            self.x[idx] = value & M64

    def set_interrupt_pending(self, bit: int, level: bool) -> None:
        """Device wiring (InterruptTarget): drive a hardware pending bit of mip."""
        if level:
            self.mip_hw |= 1 << bit
            self.possible_interrupts |= (1 << bit) & self.mie
        else:
            self.mip_hw &= ~(1 << bit)

    def expect_interrupts(self, instructions: int) -> None:
        """Set ``possible_interrupts`` for a slice of at most ``instructions``: what is pending now,
        and STIP if the Sstc timer may reach ``stimecmp`` by the slice's end. (The other bits only
        change in Python: devices through ``set_interrupt_pending``, software through CSR writes,
        which end the slice.)"""
        possible = self.mip_sw | self.mip_hw
        if self.menvcfg & C.MENVCFG_STCE and self.mtime() + self.ticks_within(instructions) >= self.stimecmp:
            possible |= C.STIP
        self.possible_interrupts = possible & self.mie

    @property
    def mip(self) -> int:
        value = self.mip_sw | self.mip_hw
        if self.menvcfg & C.MENVCFG_STCE:
            value &= ~C.STIP
            if self.mtime() >= self.stimecmp:
                value |= C.STIP
        return value

    # --- MMU context ---------------------------------------------------------------------------

    def _sync_mmu(self) -> None:
        mstatus = self.mstatus
        data_priv = self.priv
        if mstatus & C.MPRV and self.priv == Priv.M:
            data_priv = Priv((mstatus >> C.MPP_SHIFT) & 3)
        self.mmu.set_context(self.priv, data_priv, bool(mstatus & C.SUM), bool(mstatus & C.MXR))

    # --- traps and interrupts ------------------------------------------------------------------

    def take_trap(self, cause: int, tval: int, pc: int, interrupt: bool = False) -> None:
        """Enter the trap handler for ``cause`` raised at ``pc`` (privileged spec 3.1.6-3.1.7)."""
        deleg = self.mideleg if interrupt else self.medeleg
        code = cause | (1 << 63) if interrupt else cause
        self.waiting = False
        self.mmu.reservation = None
        if self.priv != Priv.M and (deleg >> cause) & 1:
            st = self.mstatus
            st = (st & ~C.SPP_BIT) | (C.SPP_BIT if self.priv == Priv.S else 0)
            st = (st & ~C.SPIE_BIT) | (C.SPIE_BIT if st & C.SIE_BIT else 0)
            self.mstatus = st & ~C.SIE_BIT
            self.scause, self.sepc, self.stval = code, pc, tval & M64
            self.priv = Priv.S
            base = self.stvec & ~3
            self.pc = base + 4 * cause if interrupt and self.stvec & 1 else base
        else:
            st = self.mstatus
            st = (st & ~C.MPP_MASK) | (int(self.priv) << C.MPP_SHIFT)
            st = (st & ~C.MPIE_BIT) | (C.MPIE_BIT if st & C.MIE_BIT else 0)
            self.mstatus = st & ~C.MIE_BIT
            self.mcause, self.mepc, self.mtval = code, pc, tval & M64
            self.priv = Priv.M
            base = self.mtvec & ~3
            self.pc = base + 4 * cause if interrupt and self.mtvec & 1 else base
        self._sync_mmu()

    def pending_interrupt(self) -> int | None:
        """The interrupt to take now, if any (global enables, delegation, priority)."""
        pending = self.mip & self.mie
        if not pending:
            return None
        m_enabled = self.priv < Priv.M or self.mstatus & C.MIE_BIT
        s_enabled = self.priv < Priv.S or (self.priv == Priv.S and self.mstatus & C.SIE_BIT)
        m_pending = pending & ~self.mideleg if m_enabled else 0
        s_pending = pending & self.mideleg if s_enabled else 0
        for irq in INTERRUPT_PRIORITY:
            if m_pending >> irq & 1:
                return int(irq)
        for irq in INTERRUPT_PRIORITY:
            if s_pending >> irq & 1:
                return int(irq)
        return None

    def interrupt_waiting(self) -> bool:
        """wfi resumes when any enabled-in-mie interrupt is pending, whatever the global enables."""
        return bool(self.mip & self.mie)

    def take_pending_interrupt(self) -> bool:
        irq = self.pending_interrupt()
        if irq is None:
            return False
        self.take_trap(irq, 0, self.pc, interrupt=True)
        return True

    # --- slow paths for translated code --------------------------------------------------------

    def _fault(self, exc: Exception, vaddr: int, access: Access, pc: int, index: int) -> GuestTrap:
        if isinstance(exc, PageFault) and not exc.access_fault:
            return GuestTrap(PAGE_FAULT_CAUSE[access], exc.vaddr, pc, index)
        if isinstance(exc, PageFault):
            return GuestTrap(ACCESS_FAULT_CAUSE[access], exc.vaddr, pc, index)
        return GuestTrap(ACCESS_FAULT_CAUSE[access], vaddr, pc, index)

    def load(self, vaddr: int, size: int, pc: int, index: int) -> int:
        try:
            return self.mmu.load(vaddr, size)
        except (PageFault, BusError) as exc:
            raise self._fault(exc, vaddr, Access.LOAD, pc, index) from None

    def store(self, vaddr: int, value: int, size: int, pc: int, index: int) -> None:
        try:
            self.mmu.store(vaddr, value & ((1 << (8 * size)) - 1), size)
        except (PageFault, BusError) as exc:
            raise self._fault(exc, vaddr, Access.STORE, pc, index) from None

    def _atomic_paddr(self, vaddr: int, size: int, pc: int, index: int, access: Access) -> int:
        if vaddr & (size - 1):
            cause = Cause.LOAD_MISALIGNED if access == Access.LOAD else Cause.STORE_MISALIGNED
            raise GuestTrap(cause, vaddr, pc, index)
        try:
            return self.mmu.access_paddr(vaddr, access, size)
        except PageFault as exc:
            raise self._fault(exc, vaddr, access, pc, index) from None

    def _phys(self, action: Callable[[], int | None], vaddr: int, access: Access, pc: int,
              index: int) -> int | None:
        try:
            return action()
        except BusError as exc:
            raise self._fault(exc, vaddr, access, pc, index) from None

    def lr(self, vaddr: int, size: int, pc: int, index: int) -> int:
        paddr = self._atomic_paddr(vaddr, size, pc, index, Access.LOAD)
        value = self._phys(lambda: self.mmu.phys_read(paddr, size), vaddr, Access.LOAD, pc, index)
        self.mmu.reservation = paddr
        return _sext(value, size)

    def sc(self, vaddr: int, value: int, size: int, pc: int, index: int) -> int:
        paddr = self._atomic_paddr(vaddr, size, pc, index, Access.STORE)
        held = self.mmu.reservation == paddr
        self.mmu.reservation = None
        if not held:
            return 1
        self._phys(lambda: self.mmu.phys_write(paddr, value, size), vaddr, Access.STORE, pc, index)
        return 0

    def amo(self, kind: str, vaddr: int, value: int, size: int, pc: int, index: int) -> int:
        paddr = self._atomic_paddr(vaddr, size, pc, index, Access.STORE)
        mmu = self.mmu
        mmu.note_store_page(vaddr, paddr)
        old = self._phys(lambda: mmu.phys_read(paddr, size), vaddr, Access.STORE, pc, index)
        bits = 8 * size
        new = AMO_OPS[kind](old, value & ((1 << bits) - 1), bits) & ((1 << bits) - 1)
        mmu.phys_write(paddr, new, size)
        return _sext(old, size)

    # --- system instructions -------------------------------------------------------------------

    def illegal(self, encoding: int, pc: int, index: int) -> None:
        raise GuestTrap(Cause.ILLEGAL_INSTRUCTION, encoding, pc, index)

    def fetch_fault(self, vaddr: int, pc: int, index: int) -> None:
        """The second half of an instruction could not be fetched: page fault or access fault."""
        try:
            self.mmu.access_paddr(vaddr, Access.FETCH, 2)
        except PageFault as exc:
            raise self._fault(exc, vaddr, Access.FETCH, pc, index) from None
        raise GuestTrap(Cause.FETCH_ACCESS, vaddr, pc, index)

    def ecall(self, pc: int, index: int) -> None:
        cause = {Priv.U: Cause.ECALL_U, Priv.S: Cause.ECALL_S, Priv.M: Cause.ECALL_M}[self.priv]
        raise GuestTrap(cause, 0, pc, index)

    def ebreak(self, pc: int, index: int) -> None:
        raise GuestTrap(Cause.BREAKPOINT, pc, pc, index)

    def _illegal_here(self, pc: int, index: int) -> GuestTrap:
        encoding = self.mmu.phys_read(self.mmu.translate(pc, Access.FETCH), 4)
        if encoding & 3 != 3:
            encoding &= 0xFFFF
        return GuestTrap(Cause.ILLEGAL_INSTRUCTION, encoding, pc, index)

    def mret(self, pc: int, index: int) -> int:
        if self.priv != Priv.M:
            raise self._illegal_here(pc, index)
        st = self.mstatus
        new_priv = Priv((st >> C.MPP_SHIFT) & 3)
        st = (st & ~C.MIE_BIT) | (C.MIE_BIT if st & C.MPIE_BIT else 0)
        st = (st | C.MPIE_BIT) & ~C.MPP_MASK
        if new_priv != Priv.M:
            st &= ~C.MPRV
        self.mstatus = st
        self.priv = new_priv
        self._sync_mmu()
        self.exit_pending = True
        return self.mepc

    def sret(self, pc: int, index: int) -> int:
        if self.priv == Priv.U or (self.priv == Priv.S and self.mstatus & C.TSR):
            raise self._illegal_here(pc, index)
        st = self.mstatus
        new_priv = Priv.S if st & C.SPP_BIT else Priv.U
        st = (st & ~C.SIE_BIT) | (C.SIE_BIT if st & C.SPIE_BIT else 0)
        st = (st | C.SPIE_BIT) & ~C.SPP_BIT & ~C.MPRV
        self.mstatus = st
        self.priv = new_priv
        self._sync_mmu()
        self.exit_pending = True
        return self.sepc

    def wfi(self, next_pc: int, pc: int, index: int) -> None:
        if self.priv == Priv.U or (self.priv == Priv.S and self.mstatus & C.TW):
            raise self._illegal_here(pc, index)
        if not self.interrupt_waiting():
            self.waiting = True
        self.exit_pending = True

    def sfence_vma(self, vaddr: int, asid: int, rs1: int, rs2: int, pc: int, index: int) -> None:
        if self.priv == Priv.U or (self.priv == Priv.S and self.mstatus & C.TVM):
            raise self._illegal_here(pc, index)
        address, space = vaddr if rs1 else None, asid & 0xFFFF if rs2 else None
        self.mmu.sfence_vma(address, space)
        self.on_sfence(address, space)

    def fence_i(self, next_pc: int, pc: int, index: int) -> None:
        """Nothing to flush: stores and DMA into translated code already dropped it (CodeTracker).
        The block still ends here, so the next instruction is fetched from memory as it is now."""
        self.exit_pending = True

    # --- floating point ------------------------------------------------------------------------

    def fp_enable(self, dirty: int, pc: int, index: int) -> None:
        """F/D loads and stores: illegal while mstatus.FS is Off; a load makes FS Dirty."""
        if not self.mstatus & C.FS_MASK:
            raise self._illegal_here(pc, index)
        if dirty:
            self.mstatus |= C.FS_MASK

    def _fp_helper(self, mnemonic: str) -> Callable[..., int]:
        spec = FP_INSTRUCTIONS[mnemonic]
        execute, uses_rm = spec.execute, spec.uses_rm

        def run(a: int, b: int, c: int, rm: int, pc: int, index: int) -> int:
            if not self.mstatus & C.FS_MASK:
                raise self._illegal_here(pc, index)
            if uses_rm:
                if rm == 7:
                    rm = self.frm
                if rm > 4:
                    raise self._illegal_here(pc, index)
            value, flags = execute((a, b, c), rm)
            self.fflags |= flags
            self.mstatus |= C.FS_MASK
            return value

        return run

    def exit_check(self, next_pc: int) -> int:
        """End of a block that may have changed hart state: leave the slice if it did."""
        if self.exit_pending:
            self.exit_pending = False
            raise ExitSlice(next_pc)
        return next_pc

    # --- CSRs ----------------------------------------------------------------------------------

    def csr_op(self, mode: int, number: int, source: int, pc: int, index: int) -> int:
        """csrrw/csrrs/csrrc (and immediates): ``mode`` = kind | write << 2 | read << 3."""
        kind, writes = mode & 3, bool(mode & 4)
        reader = self._csr_read.get(number)
        if reader is None or not self._csr_permitted(number, writes):
            raise self._illegal_here(pc, index)
        old = reader(index)
        if writes:
            base = old
            if number == C.MIP:
                # CSRRS/CSRRC modify SEIP's software bit alone, not its OR with the PLIC's signal
                # (privileged spec, mip): else OpenSBI's csr_set(mip, SSIP) during a pending
                # external interrupt latched SEIP for good, an endless storm of empty claims.
                base = (old & ~C.SEIP) | (self.mip_sw & C.SEIP)
            new = source if kind == 0 else (base | source if kind == 1 else base & ~source)
            writer = self._csr_write.get(number)
            if writer is None:
                raise self._illegal_here(pc, index)
            before = (self.priv, self.mstatus, self.satp, self.mie, self.mideleg, self.menvcfg)
            writer(new & M64)
            after = (self.priv, self.mstatus, self.satp, self.mie, self.mideleg, self.menvcfg)
            if number in (C.MIP, C.SIP, C.STIMECMP) or before[2:] != after[2:] or before[0] != after[0]:
                self._sync_mmu()
                self.exit_pending = True
            elif before[1] != after[1]:
                changed = before[1] ^ after[1]
                if changed & ~(GLOBAL_ENABLES | DATA_ACCESS_BITS):
                    self._sync_mmu()
                    self.exit_pending = True
                else:
                    # Only MIE/SIE, SUM or MXR changed (Linux toggles SIE around every critical
                    # section and SUM around every user-memory copy, tens of thousands of times a
                    # boot). SUM/MXR select the data regime from the next access on, here and in
                    # native code (its TLBs follow the MMU's regime). The slice goes on unless an
                    # enable was set and that made an interrupt deliverable, which is then taken
                    # after this instruction. (Clearing an enable makes nothing deliverable;
                    # native code does such writes itself, jit/native_csrs.py.)
                    if changed & DATA_ACCESS_BITS:
                        self._sync_mmu()
                    if after[1] & ~before[1] & GLOBAL_ENABLES and self.pending_interrupt() is not None:
                        self.exit_pending = True
        return old & M64

    def _csr_permitted(self, number: int, writes: bool) -> bool:
        if writes and number >> 10 == 3:
            return False
        if self.priv < (number >> 8) & 3:
            return False
        if C.FFLAGS <= number <= C.FCSR and not self.mstatus & C.FS_MASK:
            return False
        if number == C.TIME and not self.has_time_csr:
            return False
        if number == C.SATP and self.priv == Priv.S and self.mstatus & C.TVM:
            return False
        if number == C.STIMECMP and self.priv == Priv.S:
            return bool(self.menvcfg & C.MENVCFG_STCE and self.mcounteren & 2)
        if C.CYCLE <= number <= C.HPMCOUNTER31 and self.priv < Priv.M:
            bit = 1 << (number - C.CYCLE)
            if not self.mcounteren & bit:
                return False
            if self.priv == Priv.U and not self.scounteren & bit:
                return False
        return True

    def read_csr(self, number: int) -> int:
        """Debugger/API access: the CSR's value without privilege checks (VmError if unknown)."""
        reader = self._csr_read.get(number)
        if reader is None:
            raise InvalidAddress(number, "no such CSR")
        return reader(0) & M64

    def write_csr(self, number: int, value: int) -> None:
        writer = self._csr_write.get(number)
        if writer is None:
            raise InvalidAddress(number, "CSR is not writable")
        writer(value & M64)
        self._sync_mmu()

    def _instret_now(self, index: int) -> int:
        return self.instret + index

    def _build_csr_reads(self) -> dict[int, Callable[[int], int]]:
        r: dict[int, Callable[[int], int]] = {
            C.MSTATUS: lambda i: self._mstatus_value(),
            C.SSTATUS: lambda i: self._mstatus_value() & C.SSTATUS_VIEW,
            C.MISA: lambda i: self.misa,
            C.MEDELEG: lambda i: self.medeleg,
            C.MIDELEG: lambda i: self.mideleg,
            C.MIE: lambda i: self.mie,
            C.SIE: lambda i: self.mie & self.mideleg,
            C.MIP: lambda i: self.mip,
            C.SIP: lambda i: self.mip & self.mideleg,
            C.MTVEC: lambda i: self.mtvec,
            C.STVEC: lambda i: self.stvec,
            **{number: lambda i, name=name: getattr(self, name) for number, (name, _) in TRAP_CSRS.items()},
            C.MCOUNTEREN: lambda i: self.mcounteren,
            C.SCOUNTEREN: lambda i: self.scounteren,
            C.MCOUNTINHIBIT: lambda i: self.mcountinhibit,
            C.MENVCFG: lambda i: self.menvcfg,
            C.SENVCFG: lambda i: self.senvcfg,
            C.STIMECMP: lambda i: self.stimecmp,
            C.SATP: lambda i: self.satp,
            C.MHARTID: lambda i: self.hart_id,
            C.MVENDORID: lambda i: 0,
            C.MARCHID: lambda i: 0,
            C.MIMPID: lambda i: 0,
            C.MCONFIGPTR: lambda i: 0,
            C.MCYCLE: lambda i: self._instret_now(i) + self.cycle_offset,
            C.MINSTRET: lambda i: self._instret_now(i) + self.instret_offset,
            C.CYCLE: lambda i: self._instret_now(i) + self.cycle_offset,
            C.INSTRET: lambda i: self._instret_now(i) + self.instret_offset,
            C.TIME: lambda i: self.mtime(),
            C.FFLAGS: lambda i: self.fflags,
            C.FRM: lambda i: self.frm,
            C.FCSR: lambda i: (self.frm << 5) | self.fflags,
        }
        for n in range(3, 32):
            r[C.HPMCOUNTER3 + n - 3] = lambda i: 0
            r[C.MHPMCOUNTER3 + n - 3] = lambda i: 0
            r[C.MHPMEVENT3 + n - 3] = lambda i: 0
        for n in range(0, 16, 2):
            r[C.PMPCFG0 + n] = lambda i, n=n: self.pmp.read_cfg(n)
        for n in range(64):
            r[C.PMPADDR0 + n] = lambda i, n=n: self.pmp.read_addr(n)
        return r

    def _mstatus_value(self) -> int:
        st = self.mstatus
        if st & C.FS_MASK == C.FS_MASK or st & C.XS_MASK == C.XS_MASK:
            st |= C.SD
        return st

    def _build_csr_writes(self) -> dict[int, Callable[[int], None]]:
        def setter(name: str, mask: int = M64) -> Callable[[int], None]:
            def write(value: int) -> None:
                setattr(self, name, value & mask)
            return write

        def tvec(name: str) -> Callable[[int], None]:
            def write(value: int) -> None:
                if value & 3 < 2:
                    setattr(self, name, value)
            return write

        w: dict[int, Callable[[int], None]] = {
            C.MSTATUS: self._write_mstatus,
            C.SSTATUS: lambda v: self._write_mstatus(
                (self.mstatus & ~C.SSTATUS_WRITABLE) | (v & C.SSTATUS_WRITABLE)),
            C.MISA: lambda v: None,
            C.MEDELEG: setter("medeleg", C.DELEGABLE_EXCEPTIONS),
            C.MIDELEG: setter("mideleg", C.S_INTERRUPTS),
            C.MIE: setter("mie", C.ALL_INTERRUPTS),
            C.SIE: lambda v: setattr(self, "mie",
                                     (self.mie & ~self.mideleg) | (v & self.mideleg)),
            C.MIP: self._write_mip,
            C.SIP: lambda v: setattr(self, "mip_sw",
                                     (self.mip_sw & ~(C.SSIP & self.mideleg))
                                     | (v & C.SSIP & self.mideleg)),
            C.MTVEC: tvec("mtvec"),
            C.STVEC: tvec("stvec"),
            **{number: setter(name, mask) for number, (name, mask) in TRAP_CSRS.items()},
            C.MCOUNTEREN: setter("mcounteren", 0xFFFFFFFF),
            C.SCOUNTEREN: setter("scounteren", 0xFFFFFFFF),
            C.MCOUNTINHIBIT: setter("mcountinhibit", 0xFFFFFFFD),
            C.MENVCFG: setter("menvcfg", C.ENVCFG_FIOM | C.MENVCFG_STCE),
            C.SENVCFG: setter("senvcfg", C.ENVCFG_FIOM),
            C.STIMECMP: setter("stimecmp"),
            C.SATP: self._write_satp,
            C.MCYCLE: lambda v: setattr(self, "cycle_offset", v - self.instret),
            C.MINSTRET: lambda v: setattr(self, "instret_offset", v - self.instret),
            C.FFLAGS: lambda v: self._write_fcsr(self.frm << 5 | (v & 0x1F)),
            C.FRM: lambda v: self._write_fcsr(((v & 7) << 5) | self.fflags),
            C.FCSR: self._write_fcsr,
        }
        for n in range(3, 32):
            w[C.MHPMCOUNTER3 + n - 3] = lambda v: None
            w[C.MHPMEVENT3 + n - 3] = lambda v: None
        for n in range(0, 16, 2):
            w[C.PMPCFG0 + n] = lambda v, n=n: self.pmp.write_cfg(n, v)
        for n in range(64):
            w[C.PMPADDR0 + n] = lambda v, n=n: self.pmp.write_addr(n, v)
        return w

    def _write_mstatus(self, value: int) -> None:
        mpp = (value >> C.MPP_SHIFT) & 3
        if mpp == 2:
            value = value & ~C.MPP_MASK
        writable = C.MSTATUS_WRITABLE | (C.FS_MASK if self.misa & C.MISA_FD else 0)
        self.mstatus = (self.mstatus & ~writable) | (value & writable) | C.UXL_SXL_64

    def _write_fcsr(self, value: int) -> None:
        self.fflags = value & 0x1F
        self.frm = (value >> 5) & 7
        self.mstatus |= C.FS_MASK

    def _write_mip(self, value: int) -> None:
        writable = C.MIP_SOFTWARE_WRITABLE
        if self.menvcfg & C.MENVCFG_STCE:
            writable &= ~C.STIP
        self.mip_sw = (self.mip_sw & ~writable) | (value & writable)

    def _write_satp(self, value: int) -> None:
        mode = value >> 60
        if mode not in (0, 8, 9):
            return
        if mode == 0:
            value = 0
        self.satp = value
        if mode:
            self.mmu.set_satp(value)
        else:
            self.mmu.set_satp(0)

    def _protection_changed(self) -> None:
        """A PMP CSR changed what may be accessed: cached translations and fast maps go, and the
        slice ends."""
        self.mmu.flush_tlb_all()
        self.on_protection_change()
        self.exit_pending = True

    # --- helpers exported to translated code ---------------------------------------------------

    def helpers(self) -> dict[str, object]:
        """Names the generated code calls, bound to this hart."""
        h: dict[str, object] = {
            "illegal": self.illegal, "fetch_fault": self.fetch_fault, "ecall": self.ecall,
            "ebreak": self.ebreak, "mret": self.mret, "sret": self.sret, "wfi": self.wfi,
            "sfence_vma": self.sfence_vma, "fence_i": self.fence_i, "csr": self.csr_op,
            "lr": self.lr, "sc": self.sc, "XC": self.exit_check, "H": self, "X": self.x,
            "Trap": GuestTrap,
        }
        load, store = self.load, self.store
        for size in (1, 2, 4, 8):
            h[f"L{size}"] = lambda a, pc, i, size=size: load(a, size, pc, i)
            h[f"L{size}s"] = lambda a, pc, i, size=size: _sext(load(a, size, pc, i), size)
            h[f"W{size}"] = lambda a, v, pc, i, size=size: store(a, v, size, pc, i)
        h["fp_enable"] = self.fp_enable
        for mnemonic in FP_INSTRUCTIONS:
            h["fp_" + mnemonic.replace(".", "_")] = self._fp_helper(mnemonic)
        for kind in AMO_OPS:
            for size in (4, 8):
                h[f"{kind}_{size}"] = (
                    lambda a, v, pc, i, kind=kind, size=size: self.amo(kind, a, v, size, pc, i)
                )
        return h
