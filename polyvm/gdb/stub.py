"""One GDB remote-serial-protocol session over a RISC-V machine (all-stop mode).

Harts are GDB threads (thread id = hart id + 1). While GDB is connected the machine is stopped
except between a continue and the next stop: a breakpoint or watchpoint (engine hooks, see
polyvm.engine.debug), the guest halting (``W`` reply with its exit code), or Ctrl-C (SIGINT).
Single steps run one instruction of one hart on this thread. Memory is read and written through the
selected hart's SoftMmu, i.e. at virtual addresses as that hart sees them now; a fault gives E14.
Breakpoints live in the engines, never in guest memory. Unknown packets get the empty reply.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from polyvm.arch.riscv64.traps import MachineHalt
from polyvm.core.errors import ExecutionError, VmError
from polyvm.engine.debug import WATCH_KINDS, DebugStop, Watchpoint
from polyvm.gdb.packets import RspConnection
from polyvm.gdb.registers import GENERAL_COUNT, read_register, target_xml, write_register
from polyvm.mem.paging import PageFault
from polyvm.mem.softmmu import BusError
from polyvm.service.runner import MachineRunner

SIGINT, SIGTRAP, SIGABRT = 2, 5, 6
POLL_SECONDS = 0.02
M64 = (1 << 64) - 1
SUPPORTED = "PacketSize=4000;qXfer:features:read+;swbreak+;hwbreak+;vContSupported+"
MEMORY_FAULT = "E14"
BAD_REQUEST = "E22"


class GdbStub:
    def __init__(self, conn: RspConnection, runner: MachineRunner,
                 on_kill: Callable[[], None] | None = None) -> None:
        self.conn = conn
        self.runner = runner
        self.engines = runner.board.engines
        self.on_kill = on_kill
        self.g_hart = 0
        """Hart whose registers and memory g/G/p/P/m/M/X use (Hg)."""
        self.c_hart = 0
        """Hart a step runs (Hc)."""
        self.watchpoints: list[Watchpoint] = []
        self.killed = False
        self.finished = False
        self._released = False
        self._event: tuple[int, DebugStop] | None = None
        self.idle = threading.Event()
        """Set while waiting for GDB's next packet (every reply has been sent)."""
        self._xml = target_xml().encode()
        self.last_stop = self._stop_reply(SIGTRAP, 0)
        self.commands: dict[str, Callable[[str], str | None]] = {
            "?": lambda _: self.last_stop, "g": self._read_registers, "G": self._write_registers,
            "p": self._read_register, "P": self._write_register, "m": self._read_memory,
            "M": self._write_memory_hex, "X": self._write_memory_binary, "c": self._continue_at,
            "C": lambda args: self._continue_at(args.partition(";")[2]), "s": self._step_at,
            "S": lambda args: self._step_at(args.partition(";")[2]), "Z": self._insert, "z": self._remove,
            "H": self._select_thread, "T": self._thread_alive, "D": self._detach, "k": self._kill,
            "q": self._query, "Q": lambda _: "", "v": self._v_packet,
        }

    # --- session --------------------------------------------------------------------------------

    def serve(self) -> None:
        """Answer packets until GDB detaches, kills or disconnects (ConnectionClosed, OSError)."""
        for engine in self.engines:
            engine.on_debug_stop = self._debug_stop
        self.runner.pause()
        try:
            while not self.finished:
                self.idle.set()
                packet = self.conn.read_packet().decode("latin-1")
                self.idle.clear()
                reply = self.handle(packet)
                if reply is not None:
                    self.conn.send_packet(reply.encode("latin-1"))
        finally:
            self._release()

    def handle(self, packet: str) -> str | None:
        handler = self.commands.get(packet[:1])
        if handler is None:
            return ""
        try:
            return handler(packet[1:])
        except (ValueError, IndexError):
            return BAD_REQUEST

    def _release(self) -> None:
        """Leave the machine as GDB found it: no breakpoints or watchpoints, running (QEMU does the
        same on detach and disconnect) unless GDB killed it or the guest has ended."""
        if self._released:
            return
        self._released = True
        self.runner.pause()  # GDB may have gone away while the guest ran: change hooks stopped
        for engine in self.engines:
            for pc in list(engine.breakpoints):
                engine.remove_breakpoint(pc)
            engine.set_watchpoints([])
            engine.on_debug_stop = None
        if not self.killed and not self.runner.halted and self.runner.error is None:
            self.runner.resume()

    def _debug_stop(self, engine, stop: DebugStop) -> None:
        """On the run thread: a breakpoint or watchpoint hit ends the run at this slice."""
        if self._event is None:
            self._event = (engine.hart.hart_id, stop)
        self.runner.board.stop()

    # --- replies --------------------------------------------------------------------------------

    def _stop_reply(self, signal: int, hart: int, extra: str = "") -> str:
        self.g_hart = self.c_hart = hart
        self.last_stop = f"T{signal:02x}{extra}thread:{hart + 1:x};"
        return self.last_stop

    def _exit_reply(self) -> str:
        runner = self.runner
        if runner.error is not None:
            self.last_stop = f"X{SIGABRT:02x}"
        else:
            self.last_stop = f"W{(runner.result.exit_code or 0) & 0xFF:02x}"
        return self.last_stop

    def _hart(self, index: int):
        return self.engines[index].hart

    # --- registers ------------------------------------------------------------------------------

    def _read_registers(self, _: str) -> str:
        hart = self._hart(self.g_hart)
        return "".join(read_register(hart, n).hex() for n in range(GENERAL_COUNT))

    def _write_registers(self, args: str) -> str:
        data = bytes.fromhex(args)
        hart = self._hart(self.g_hart)
        for n in range(min(GENERAL_COUNT, len(data) // 8)):
            write_register(hart, n, data[8 * n : 8 * n + 8])
        return "OK"

    def _read_register(self, args: str) -> str:
        value = read_register(self._hart(self.g_hart), int(args, 16))
        return "E01" if value is None else value.hex()

    def _write_register(self, args: str) -> str:
        number, _, value = args.partition("=")
        written = write_register(self._hart(self.g_hart), int(number, 16), bytes.fromhex(value))
        return "OK" if written else "E01"

    # --- memory ---------------------------------------------------------------------------------

    def _read_memory(self, args: str) -> str:
        addr, length = (int(field, 16) for field in args.split(","))
        mmu = self._hart(self.g_hart).mmu
        data = bytearray()
        for offset in range(length):
            try:
                data.append(mmu.load((addr + offset) & M64, 1))
            except (PageFault, BusError, VmError):
                break
        return data.hex() if data or not length else MEMORY_FAULT

    def _write(self, addr: int, data: bytes) -> str:
        mmu = self._hart(self.g_hart).mmu
        try:
            for offset, byte in enumerate(data):
                mmu.store((addr + offset) & M64, byte, 1)
        except (PageFault, BusError, VmError):
            return MEMORY_FAULT
        return "OK"

    def _write_memory_hex(self, args: str) -> str:
        where, _, data = args.partition(":")
        return self._write(int(where.split(",")[0], 16), bytes.fromhex(data))

    def _write_memory_binary(self, args: str) -> str:
        where, _, data = args.partition(":")
        addr, length = (int(field, 16) for field in where.split(","))
        return self._write(addr, data.encode("latin-1")[:length])

    # --- breakpoints and watchpoints ------------------------------------------------------------

    def _points(self, args: str) -> tuple[int, int, int]:
        kind, addr, size = args.split(";")[0].split(",")
        return int(kind), int(addr, 16), int(size, 16)

    def _insert(self, args: str) -> str:
        kind, addr, size = self._points(args)
        if kind in (0, 1):
            for engine in self.engines:
                engine.insert_breakpoint(addr)
        elif kind in (2, 3, 4):
            self.watchpoints.append(Watchpoint(addr, size, WATCH_KINDS[kind - 2]))
            self._apply_watchpoints()
        else:
            return ""
        return "OK"

    def _remove(self, args: str) -> str:
        kind, addr, size = self._points(args)
        if kind in (0, 1):
            for engine in self.engines:
                engine.remove_breakpoint(addr)
        elif kind in (2, 3, 4):
            watch = Watchpoint(addr, size, WATCH_KINDS[kind - 2])
            if watch in self.watchpoints:
                self.watchpoints.remove(watch)
            self._apply_watchpoints()
        else:
            return ""
        return "OK"

    def _apply_watchpoints(self) -> None:
        for engine in self.engines:
            engine.set_watchpoints(self.watchpoints)

    # --- threads --------------------------------------------------------------------------------

    def _thread_index(self, text: str, current: int) -> int | None:
        """Hart index of a thread id (-1 all and 0 any keep ``current``); None if there is none."""
        number = int(text, 16) if text not in ("-1", "") else 0
        if number == 0:
            return current
        return number - 1 if number <= len(self.engines) else None

    def _select_thread(self, args: str) -> str:
        which, text = args[:1], args[1:]
        index = self._thread_index(text, self.g_hart if which == "g" else self.c_hart)
        if index is None or which not in ("g", "c"):
            return BAD_REQUEST
        if which == "g":
            self.g_hart = index
        else:
            self.c_hart = index
        return "OK"

    def _thread_alive(self, args: str) -> str:
        return "OK" if 1 <= int(args, 16) <= len(self.engines) else "E01"

    # --- queries --------------------------------------------------------------------------------

    def _query(self, args: str) -> str:
        name, _, rest = args.partition(":")
        if name == "Supported":
            return SUPPORTED
        if name == "Xfer" and rest.startswith("features:read:target.xml:"):
            offset, length = (int(field, 16) for field in rest.rsplit(":", 1)[1].split(","))
            chunk = self._xml[offset : offset + length]
            return ("l" if offset + length >= len(self._xml) else "m") + chunk.decode("latin-1")
        if args == "fThreadInfo":
            return "m" + ",".join(f"{n + 1:x}" for n in range(len(self.engines)))
        if args == "sThreadInfo":
            return "l"
        if args == "C":
            return f"QC{self.g_hart + 1:x}"
        if args == "Attached":
            return "1"
        if args.startswith("ThreadExtraInfo,"):
            index = int(args.split(",")[1], 16) - 1
            hart = self._hart(index)
            return f"hart {hart.hart_id} ({hart.priv.name}-mode)".encode().hex()
        return ""

    def _v_packet(self, args: str) -> str | None:
        if args == "Cont?":
            return "vCont;c;C;s;S;t"
        if args.startswith("Cont;"):
            actions = [action.partition(":") for action in args[5:].split(";")]
            for action, _, thread in actions:
                if action[:1] in ("s", "S"):
                    index = self._thread_index(thread, self.c_hart)
                    return BAD_REQUEST if index is None else self._step(index)
            if any(action[:1] in ("c", "C") for action, _, _ in actions):
                return self._continue()
            return self.last_stop
        if args.startswith("Kill"):
            self._kill("")
            return "OK"
        return ""

    # --- execution ------------------------------------------------------------------------------

    def _set_pc(self, args: str) -> None:
        if args:
            self._hart(self.c_hart).pc = int(args, 16) & M64

    def _continue_at(self, args: str) -> str:
        self._set_pc(args)
        return self._continue()

    def _step_at(self, args: str) -> str:
        self._set_pc(args)
        return self._step(self.c_hart)

    def _step(self, index: int) -> str:
        if self.runner.halted:
            return self._exit_reply()
        return self._step_once(index) or self._stop_reply(SIGTRAP, index)

    def _step_once(self, index: int) -> str | None:
        """Run one instruction of hart ``index``. Returns the stop reply if that was an event (a
        watchpoint, reported after the access; the guest halting), None for a plain step."""
        engine = self.engines[index]
        try:
            stop = engine.step_instruction()
            if stop is not None:
                engine.step_instruction(watch=False)
                return self._stop_reply(SIGTRAP, index, f"{stop.kind}:{stop.addr:x};")
        except MachineHalt as halt:
            self.runner.record_halt(halt.exit_code)
            return self._exit_reply()
        return None

    def _continue(self) -> str:
        for index, engine in enumerate(self.engines):
            hart = engine.hart
            if hart.pc in engine.breakpoints and not hart.waiting:
                # Continuing from a breakpoint runs its instruction first, as GDB expects.
                event = self._step_once(index)
                if event is not None:
                    return event
        self._event = None
        try:
            self.runner.resume()
        except ExecutionError:
            return self._exit_reply()
        interrupted = False
        while self.runner.running:
            if self.conn.poll_interrupt(POLL_SECONDS):
                self.runner.pause()
                interrupted = True
        return self._after_run(interrupted)

    def _after_run(self, interrupted: bool) -> str:
        if self.runner.halted or self.runner.error is not None:
            return self._exit_reply()
        if self._event is not None:
            index, stop = self._event
            if stop.kind == "swbreak":
                return self._stop_reply(SIGTRAP, index, "swbreak:;")
            try:
                self.engines[index].step_instruction(watch=False)
            except MachineHalt as halt:
                self.runner.record_halt(halt.exit_code)
                return self._exit_reply()
            return self._stop_reply(SIGTRAP, index, f"{stop.kind}:{stop.addr:x};")
        return self._stop_reply(SIGINT if interrupted else SIGTRAP, self.c_hart)

    def _detach(self, _: str) -> str:
        """The guest runs again before GDB hears OK (and perhaps looks at it)."""
        self.finished = True
        self._release()
        return "OK"

    def _kill(self, _: str) -> None:
        self.killed = self.finished = True
        if self.on_kill is not None:
            self.on_kill()
