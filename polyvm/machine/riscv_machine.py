"""What every RISC-V board shares: RAM, harts with their engines, CLINT, the round-robin run loop.

Boards (spike, virt) add their devices and boot flow on top. The run loop gives each hart a turn
(a slice's worth of instructions), then polls timers and devices, delivers interrupts and idles
when every hart waits in wfi. It ends when the guest halts the machine or the caller's stop
condition holds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from polyvm.arch.riscv64.hart import RiscvHart
from polyvm.arch.riscv64.traps import MachineHalt
from polyvm.core.config import VmConfig
from polyvm.core.errors import ConfigError, UnsupportedError
from polyvm.core.gc_policy import collect_when_due, machine_starts, machine_stops
from polyvm.core.protocols import ExitReason, RunResult
from polyvm.core.types import ExecMode, GuestArch
from polyvm.device.bus import MmioMap
from polyvm.device.clint import Clint
from polyvm.engine.interpreter.engine import SLICE_INSTRUCTIONS, Interpreter
from polyvm.machine.clock import MachineClock
from polyvm.mem.code_tracker import CodeTracker
from polyvm.mem.pmp import ENTRIES as PMP_ENTRIES
from polyvm.mem.ram import GuestRam
from polyvm.mem.softmmu import SoftMmu

DRAM_BASE = 0x8000_0000
CLINT_BASE = 0x0200_0000
CLINT_SIZE = 0x10000
TURN_SLICES = 64
"""A hart's turn is one slice, followed by more while the slices end early (traps, xRET, mode and
CSR changes end a slice), until it has retired a full slice's instructions or run this many: a
hart that traps often (an SBI call is an ecall and an mret) is not starved by one spinning in a
loop. Before turns, such a boot hart under a busy host managed fewer instructions between two
timer interrupts than its timer handler needs, and a 2-hart Linux boot stalled in stop_machine."""


class RiscvMachine:
    """RAM at DRAM_BASE, ``config.num_vcpu`` harts, a CLINT, and a bus boards add devices to."""

    def __init__(self, config: VmConfig) -> None:
        if config.arch is not GuestArch.RISCV64:
            raise ConfigError(f"this board runs RISC-V 64 guests, not {config.arch.name}")
        if config.exec_mode is ExecMode.ACCELERATED:
            raise UnsupportedError(
                "accelerated (KVM) mode runs x86-64 guests on an x86-64 host; run RISC-V guests "
                "with ExecMode.INTERPRETER, JIT or HYBRID (--exec-mode interpreter|jit|hybrid)"
            )
        self.config = config
        self.ram = GuestRam(config.memory_size, DRAM_BASE)
        self.bus = MmioMap()
        self.harts: list[RiscvHart] = []
        self.code = CodeTracker()
        self.ram.write_hook = self.code.written
        self.clock = MachineClock(config.icount)
        for hart_id in range(config.num_vcpu):
            mmu = SoftMmu(ram=self.ram, bus=self.bus, tlb_size=config.tlb_size, code=self.code)
            self.harts.append(RiscvHart(hart_id, mmu, self._mtime, pmp_entries=PMP_ENTRIES))
            self.harts[-1].ticks_within = self.clock.ticks_within
        self.clock.instret_sources = [lambda h=h: h.instret for h in self.harts]
        self.clint = Clint(config.num_vcpu, self.harts, self.clock.mtime)
        self.bus.register(CLINT_BASE, CLINT_SIZE, self.clint, "clint")
        self.engines = [self._engine(hart) for hart in self.harts]
        self.console_output = bytearray()
        self._console_pending = bytearray()
        self.console_sink: Callable[[bytes], None] | None = None
        self.pollers: list[Callable[[], None]] = [self.clint.poll]
        self.drains: list[Callable[[], None]] = []
        """What hands on device output native code buffered (device/coalesced.py), called before
        the console output is handed to its sink."""
        self._stop = threading.Event()
        self.running = False
        self.exit_code: int | None = None

    def _engine(self, hart: RiscvHart) -> Interpreter:
        """The engine of ``config.exec_mode`` for ``hart`` (JIT and HYBRID: see engine/hybrid.py)."""
        mode = self.config.exec_mode
        if mode is ExecMode.INTERPRETER:
            return Interpreter(self.config, hart)
        from polyvm.engine.hybrid import HybridEngine  # llvmlite only loads when a JIT mode is used

        return HybridEngine(self.config, hart, compile_all=mode is ExecMode.JIT)

    def _mtime(self) -> int:
        return self.clint.mtime

    # --- console ----------------------------------------------------------------------------

    def console_write(self, data: bytes) -> None:
        """Console output: kept in ``console_output`` at once, given to ``console_sink`` at the
        end of the harts' turns while the machine runs (``_flush_console``), else at once (a
        debugger's single steps)."""
        self.console_output += data
        self._console_pending += data
        if not self.running:
            self._flush_console()

    def _flush_console(self) -> None:
        """Hand the console output of the last turns to ``console_sink`` in one piece, before the
        machine idles or returns (the command line's sink wrote and flushed each byte, ~7,500
        system calls of a Linux boot; benchmarks/boot.py)."""
        for drain in self.drains:
            drain()
        pending = self._console_pending
        if pending:
            self._console_pending = bytearray()
            if self.console_sink is not None:
                self.console_sink(bytes(pending))

    # --- memory helpers for embedding and tests -----------------------------------------------

    def read_phys(self, addr: int, length: int) -> bytes:
        return self.ram.read(addr, length)

    def write_phys(self, addr: int, data: bytes) -> None:
        self.ram.write(addr, data)

    def watch_ram_writes(self, pages: set[int], callback: Callable[[int, int], None]) -> None:
        """Route guest stores to these physical pages through ``callback`` (e.g. HTIF tohost)."""
        for hart in self.harts:
            hart.mmu.watch_pages(pages, callback)

    # --- running ----------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask a running machine to return from run() at its next slice boundary."""
        self._stop.set()

    def run(self, max_instructions: int | None = None, timeout: float | None = None) -> RunResult:
        """Run until the guest halts, ``stop()`` is called, or a limit is reached."""
        machine_starts()
        try:
            return self._run(max_instructions, timeout)
        finally:
            machine_stops()

    def _run(self, max_instructions: int | None, timeout: float | None) -> RunResult:
        self._stop.clear()
        self.running = True
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                self._service()
                collect_when_due()
                idle = True
                for engine in self.engines:
                    if self._take_turn(engine):
                        idle = False
                self._flush_console()
                if idle:
                    self._idle()
                executed = self.instructions_executed()
                if self._stop.is_set():
                    return RunResult(ExitReason.STOPPED, instructions=executed)
                if max_instructions is not None and executed >= max_instructions:
                    return RunResult(ExitReason.INSTRUCTION_LIMIT, instructions=executed)
                if deadline is not None and time.monotonic() >= deadline:
                    return RunResult(ExitReason.STOPPED, instructions=executed)
        except MachineHalt as halt:
            self.exit_code = halt.exit_code
            return RunResult(ExitReason.HALTED, halt.exit_code, self.instructions_executed(), halt.reason)
        finally:
            self.running = False
            for engine in self.engines:
                engine.run_ended()
            self._flush_console()

    def _take_turn(self, engine: Interpreter) -> bool:
        """Run ``engine``'s hart for its turn (see TURN_SLICES); False if it only waited in wfi."""
        hart = engine.hart
        end = hart.instret + SLICE_INSTRUCTIONS * engine.slice_scale
        ran = False
        for _ in range(TURN_SLICES):
            hart.take_pending_interrupt()
            if hart.waiting:
                if not hart.interrupt_waiting():
                    break
                hart.waiting = False
            ran = True
            engine.run_slice()
            if hart.instret >= end or self._stop.is_set():
                break
        if len(self.harts) > 1:
            # Other harts store while this one waits for its next turn: an SC after that could
            # succeed on a reservation another hart's store broke, so the reservation ends here
            # (SC may fail spuriously; LR/SC loops complete within a turn).
            hart.mmu.reservation = None
        return ran

    def _service(self) -> None:
        for poll in self.pollers:
            poll()

    def _idle(self) -> None:
        deadlines = []
        clint_deadline = self.clint.next_deadline()
        if clint_deadline is not None:
            deadlines.append(clint_deadline - self.clint.time_offset)
        for hart in self.harts:
            if hart.menvcfg >> 63 and hart.stimecmp != (1 << 64) - 1:
                deadlines.append(hart.stimecmp - self.clint.time_offset)
        self.clock.idle_until(min(deadlines) if deadlines else None)

    def instructions_executed(self) -> int:
        return sum(hart.instret for hart in self.harts)

    def stats(self) -> dict[str, object]:
        return {f"hart{i}": engine.stats() for i, engine in enumerate(self.engines)}
