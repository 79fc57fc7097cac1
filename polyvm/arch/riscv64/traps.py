"""Exceptions that carry guest control flow out of translated code into the run loop."""

from __future__ import annotations

import enum


class Cause(enum.IntEnum):
    """RISC-V synchronous exception causes (mcause with the interrupt bit clear)."""

    FETCH_MISALIGNED = 0
    FETCH_ACCESS = 1
    ILLEGAL_INSTRUCTION = 2
    BREAKPOINT = 3
    LOAD_MISALIGNED = 4
    LOAD_ACCESS = 5
    STORE_MISALIGNED = 6
    STORE_ACCESS = 7
    ECALL_U = 8
    ECALL_S = 9
    ECALL_M = 11
    FETCH_PAGE_FAULT = 12
    LOAD_PAGE_FAULT = 13
    STORE_PAGE_FAULT = 15


class Interrupt(enum.IntEnum):
    SSI = 1
    MSI = 3
    STI = 5
    MTI = 7
    SEI = 9
    MEI = 11


# Priority order for taking pending interrupts (privileged spec 3.1.9).
INTERRUPT_PRIORITY = (Interrupt.MEI, Interrupt.MSI, Interrupt.MTI, Interrupt.SEI, Interrupt.SSI,
                      Interrupt.STI)


class GuestTrap(Exception):  # noqa: N818 - a guest event, not a host error
    """A synchronous guest exception raised at instruction ``index`` of the running block."""

    def __init__(self, cause: int, tval: int, pc: int, index: int, in_block: bool = True) -> None:
        super().__init__(cause, tval, pc, index)
        self.cause = cause
        self.tval = tval
        self.pc = pc
        self.index = index
        self.in_block = in_block


class ExitSlice(Exception):  # noqa: N818 - control flow, not an error
    """Translated code asks the run loop to look at the hart again (mode change, interrupts, wfi)."""

    def __init__(self, pc: int) -> None:
        super().__init__(pc)
        self.pc = pc


class MachineHalt(Exception):  # noqa: N818 - control flow, not an error
    """The guest powered the machine off (HTIF exit, syscon); carries its exit code."""

    def __init__(self, exit_code: int, reason: str = "halted") -> None:
        super().__init__(exit_code, reason)
        self.exit_code = exit_code
        self.reason = reason
