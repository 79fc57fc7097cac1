"""The seed's traits (section 1.4) as typing protocols, plus exit conditions and reasons."""

from __future__ import annotations

import dataclasses
import enum
from typing import Protocol, runtime_checkable


@runtime_checkable
class MMU(Protocol):
    """Guest-virtual memory access as one hart sees it."""

    def read(self, addr: int, size: int) -> int: ...
    def write(self, addr: int, val: int, size: int) -> None: ...
    def read_bulk(self, addr: int, length: int) -> bytes: ...
    def write_bulk(self, addr: int, data: bytes) -> None: ...
    def flush_tlb(self, addr: int | None = None) -> None: ...
    def set_page_table_base(self, base: int) -> None: ...


@runtime_checkable
class Instruction(Protocol):
    """One decoded guest instruction."""

    def next_pc(self) -> int: ...
    def size(self) -> int: ...
    def is_branch(self) -> bool: ...
    def is_jump(self) -> bool: ...
    def is_trap(self) -> bool: ...


@runtime_checkable
class Decoder(Protocol):
    """Turns guest bytes at a pc into an Instruction (None when the fetch itself faults)."""

    def decode_insn(self, mmu: MMU, pc: int) -> Instruction | None: ...


@runtime_checkable
class MmioDevice(Protocol):
    """A memory-mapped device. Reads may have side effects (e.g. a UART receive register)."""

    def read(self, offset: int, size: int) -> int: ...
    def write(self, offset: int, val: int, size: int) -> None: ...
    def interrupt(self) -> int | None: ...


class ExitReason(enum.Enum):
    """Why a run returned to its caller."""

    HALTED = "halted"
    """The guest asked the machine to stop (HTIF exit, syscon poweroff)."""
    INSTRUCTION_LIMIT = "instruction_limit"
    BREAKPOINT = "breakpoint"
    STOPPED = "stopped"
    """The host asked the run to stop (VirtualMachine.stop, Ctrl-A x, pause)."""
    RESET = "reset"
    ERROR = "error"


@dataclasses.dataclass
class RunResult:
    """What a run ended with: the reason, the guest's exit code when it gave one, instructions run,
    and the power event when the guest ended the run itself."""

    reason: ExitReason
    exit_code: int | None = None
    instructions: int = 0
    event: str = ""
    """How the guest ended the run in the board's words ("poweroff", "reset"); empty otherwise."""


class ExitCondition(Protocol):
    """Decides, between blocks, whether a run should return to its caller."""

    def should_exit(self, instructions: int) -> ExitReason | None: ...


@dataclasses.dataclass
class InstructionLimit:
    """Exit after at least ``limit`` instructions (checked at block boundaries)."""

    limit: int

    def should_exit(self, instructions: int) -> ExitReason | None:
        return ExitReason.INSTRUCTION_LIMIT if instructions >= self.limit else None


class RunForever:
    """Never exit on its own; the guest or the host ends the run."""

    def should_exit(self, instructions: int) -> ExitReason | None:
        return None


@runtime_checkable
class ExecutionEngine(Protocol):
    """Runs guest code for one vCPU."""

    def execute_block(self, block: object) -> None: ...
    def run(self, cond: ExitCondition) -> RunResult: ...
    def read_reg(self, idx: int) -> int: ...
    def write_reg(self, idx: int, val: int) -> None: ...
    def read_freg(self, idx: int) -> float: ...
    def write_freg(self, idx: int, val: float) -> None: ...
