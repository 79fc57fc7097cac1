"""VmService (seed section 6): one virtual machine behind an asyncio API.

The guest runs on a worker thread (MachineRunner), so the event loop stays responsive: ``start``,
``pause`` and ``resume`` return as soon as the run loop has started or stopped (pause within one
slice, well under 50 ms), and ``stats()`` reads live counters while the guest runs.

Boards (polyvm.machine.boards): ``spike`` runs RISC-V 64 bare-metal programs (the default for
GuestArch.RISCV64), ``virt`` RISC-V firmware and kernels, ``microvm`` x86-64 bzImages on KVM with
ExecMode.ACCELERATED (the default for GuestArch.X86_64). On microvm, pause kicks every vCPU thread out
of KVM_RUN and resume enters KVM_RUN again with the state KVM kept; instructions are not counted (the
hardware runs them): ``stats()`` has the KVM exits by reason instead.

Devices: block devices are virtio-blk drives of the ``virt`` and ``microvm`` boards. They are added or
removed before ``start()`` (the board is rebuilt with the new drive list); the boards have no
hot-plug, so doing so once the guest has started raises a DeviceError saying so. Network devices
need a host back end (``netdev``, spelled as the CLI's -netdev: a UDP socket link or a tap device).
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import shutil
import tempfile
import time
import weakref
from pathlib import Path

from polyvm.core.config import VmConfig
from polyvm.core.errors import ConfigError, DeviceError, ExecutionError, UnsupportedError
from polyvm.machine.boards import BootImages, create_board, default_board, require_virtio
from polyvm.machine.virt import Drive
from polyvm.net.cli_spec import parse_nics
from polyvm.service.runner import MachineRunner

DEFAULT_BIOS = Path("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin")


class VmState(enum.Enum):
    CREATED = "created"
    """Built, never started."""
    RUNNING = "running"
    PAUSED = "paused"
    """Stopped by pause() or by a debugger; resume() continues."""
    HALTED = "halted"
    """The guest powered the machine off itself."""
    STOPPED = "stopped"
    """stop() was called: disks are flushed and closed."""
    FAILED = "failed"
    """The run loop raised an error (see VmService.error)."""


@dataclasses.dataclass(frozen=True)
class PerformanceStats:
    instructions_executed: int
    jit_blocks_compiled: int
    """Blocks compiled to native code (0 with the interpreter)."""
    tlb_hit_rate: float
    cache_hit_rate: float
    """Share of block dispatches that found translated code (1 - translations / dispatches)."""
    uptime_ms: int
    """Wall-clock time since start(), frozen by stop()."""
    kvm_exits: dict[str, int] = dataclasses.field(default_factory=dict)
    """Accelerated mode (microvm): KVM exits of every vCPU by reason (the instruction count is 0)."""


def _rate(hits: int, misses: int) -> float:
    total = hits + misses
    return hits / total if total else 0.0


class VmService:
    """Create with ``await VmService.new(config, kernel_bytes, initrd_bytes)``."""

    def __init__(self, config: VmConfig, workdir: Path, kernel: Path, initrd: Path | None, board: str,
                 bios: str | Path | None, append: str) -> None:
        self.config = config
        self.board_name = board
        self._workdir = workdir
        self._kernel, self._initrd, self._bios, self._append = kernel, initrd, bios, append
        self._drives: dict[str, str] = {}
        self._nics: dict[str, tuple[str, str]] = {}
        self.board = self._build_board()
        self.runner = MachineRunner(self.board)
        self._started_at: float | None = None
        self._stopped_at: float | None = None
        self._gdb = None

    @classmethod
    async def new(cls, config: VmConfig, kernel: bytes, initrd: bytes | None = None, board: str | None = None,
                  *, bios: str | Path | None = "default", append: str = "") -> VmService:
        """Build the machine with ``kernel`` loaded (a bare-metal ELF on spike; on virt the next
        stage after ``bios``: OpenSBI by default, None to run ``kernel`` itself in M-mode; a bzImage
        on microvm). ``board`` defaults to the one for ``config.arch``."""
        board = board or default_board(config.arch)
        workdir = Path(tempfile.mkdtemp(prefix="polyvm-service-"))
        kernel_path = workdir / "kernel"
        kernel_path.write_bytes(kernel)
        initrd_path = None
        if initrd is not None:
            initrd_path = workdir / "initrd"
            initrd_path.write_bytes(initrd)
        if bios == "default":
            bios = DEFAULT_BIOS if board == "virt" else None
        try:
            service = await asyncio.to_thread(cls, config, workdir, kernel_path, initrd_path, board, bios,
                                              append)
        except BaseException:
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        weakref.finalize(service, shutil.rmtree, workdir, True)
        return service

    def _build_board(self):
        netdevs = [f"{netdev},id={name}" for name, (netdev, _) in self._nics.items()]
        devices = [f"virtio-net-device,netdev={name},mac={mac}" for name, (_, mac) in self._nics.items()]
        return create_board(self.config, self.board_name,
                            BootImages(self._kernel, self._initrd, self._bios, self._append),
                            [Drive(path) for path in self._drives.values()], parse_nics(netdevs, devices))

    def _close_board(self) -> None:
        """Flush and close disk images (boards without disks have no close())."""
        close = getattr(self.board, "close", None)
        if close is not None:
            close()

    def _rebuild(self) -> None:
        self._close_board()
        self.board = self._build_board()
        self.runner = MachineRunner(self.board)
        if self._gdb is not None:
            self._gdb.runner = self.runner

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        state = self.state()
        if state is not VmState.CREATED:
            raise ExecutionError(f"cannot start: the virtual machine is {state.value} "
                                 "(start() runs a new machine once; use resume() after pause())")
        self._started_at = time.monotonic()
        self.runner.resume()

    async def pause(self) -> None:
        state = self.state()
        if state is not VmState.RUNNING:
            raise ExecutionError(f"cannot pause: the virtual machine is {state.value}")
        await asyncio.to_thread(self.runner.pause)

    async def resume(self) -> None:
        state = self.state()
        if state is not VmState.PAUSED:
            raise ExecutionError(f"cannot resume: the virtual machine is {state.value}")
        self.runner.resume()

    async def stop(self) -> None:
        """Stop the guest, flush and close its disks. Stopping twice is harmless."""
        self.disable_gdb_debugging()
        if self._stopped_at is not None:
            return
        await asyncio.to_thread(self.runner.pause)
        await asyncio.to_thread(self._close_board)
        self._stopped_at = time.monotonic()
        shutil.rmtree(self._workdir, ignore_errors=True)

    async def wait(self, timeout: float | None = None) -> VmState:
        """Wait until the guest halts (or ``timeout`` seconds pass); returns the state then."""
        await asyncio.to_thread(self.runner.wait, timeout)
        return self.state()

    # --- status ---------------------------------------------------------------------------------

    def state(self) -> VmState:
        runner = self.runner
        if self._stopped_at is not None:
            return VmState.STOPPED
        if runner.error is not None:
            return VmState.FAILED
        if runner.halted:
            return VmState.HALTED
        if runner.running:
            return VmState.RUNNING
        if self._started_at is None and runner.result is None:
            return VmState.CREATED
        return VmState.PAUSED

    def is_running(self) -> bool:
        return self.state() is VmState.RUNNING

    @property
    def exit_code(self) -> int | None:
        """The guest's exit code once it has halted."""
        return self.runner.result.exit_code if self.runner.halted else None

    @property
    def power_event(self) -> str:
        """How the guest ended the run once it has halted ("poweroff", "reset", "htif exit")."""
        return self.runner.result.event if self.runner.halted else ""

    @property
    def error(self) -> BaseException | None:
        return self.runner.error

    @property
    def console_output(self) -> bytes:
        return bytes(self.board.console_output)

    def stats(self) -> PerformanceStats:
        tlb_hits = tlb_misses = dispatches = translations = 0
        for engine in getattr(self.board, "engines", ()):  # the emulated modes' engines, one per hart
            tlb = engine.mmu.tlb_stats()
            tlb_hits, tlb_misses = tlb_hits + tlb.hits, tlb_misses + tlb.misses
            dispatches += engine.dispatches
            translations += engine.blocks_translated
        exit_stats = getattr(self.board, "exit_stats", None)  # accelerated mode
        uptime = 0.0
        if self._started_at is not None:
            uptime = (self._stopped_at or time.monotonic()) - self._started_at
        return PerformanceStats(
            instructions_executed=self.board.instructions_executed(),
            jit_blocks_compiled=0,
            tlb_hit_rate=_rate(tlb_hits, tlb_misses),
            cache_hit_rate=_rate(max(dispatches - translations, 0), min(translations, dispatches)),
            uptime_ms=int(uptime * 1000),
            kvm_exits={} if exit_stats is None else exit_stats(),
        )

    # --- devices --------------------------------------------------------------------------------

    def _before_start(self, action: str) -> None:
        state = self.state()
        if state is not VmState.CREATED:
            raise DeviceError(f"cannot {action} while the virtual machine is {state.value}: the "
                              f"{self.board_name} board has no device hot-plug; change devices "
                              "before start()")

    def add_block_device(self, name: str, file_path: str | Path) -> None:
        """Attach a raw disk image as a virtio-blk drive (virt and microvm boards, before start())."""
        require_virtio(self.board_name)
        self._before_start(f"add block device {name!r}")
        if name in self._drives or name in self._nics:
            raise DeviceError(f"a device named {name!r} exists already")
        path = Path(file_path)
        if not path.is_file():
            raise DeviceError(f"disk image {path} does not exist or is not a regular file")
        self._drives[name] = str(path)
        try:
            self._rebuild()
        except BaseException:
            del self._drives[name]
            self._rebuild()
            raise

    def add_network_device(self, name: str, mac: bytes | list[int] | tuple[int, ...],
                           netdev: str | None = None) -> None:
        """A virtio-net card on the host back end ``netdev`` (the CLI's -netdev spelling without
        ``id``: ``socket,local=HOST:PORT,remote=HOST:PORT`` or ``tap,ifname=IF``)."""
        if len(bytes(mac)) != 6:
            raise ConfigError(f"a MAC address has 6 bytes, got {len(bytes(mac))}")
        if netdev is None:
            raise UnsupportedError(
                f"cannot add network device {name!r} without a host back end: pass netdev="
                "'socket,local=HOST:PORT,remote=HOST:PORT' or 'tap,ifname=IF' (user-mode "
                "networking is not implemented)")
        require_virtio(self.board_name)
        self._before_start(f"add network device {name!r}")
        if name in self._drives or name in self._nics:
            raise DeviceError(f"a device named {name!r} exists already")
        self._nics[name] = (netdev, ":".join(f"{byte:02x}" for byte in bytes(mac)))
        try:
            self._rebuild()
        except BaseException:
            del self._nics[name]
            self._rebuild()
            raise

    def remove_device(self, name: str) -> None:
        if name not in self._drives and name not in self._nics:
            names = ", ".join([*self._drives, *self._nics]) or "none"
            raise DeviceError(f"no device named {name!r} (devices: {names})")
        self._before_start(f"remove device {name!r}")
        self._drives.pop(name, None)
        self._nics.pop(name, None)
        self._rebuild()

    def devices(self) -> dict[str, str]:
        """Added devices: name -> disk image path or network back end."""
        return {**self._drives, **{name: netdev for name, (netdev, _) in self._nics.items()}}

    # --- debugging ------------------------------------------------------------------------------

    def enable_gdb_debugging(self, port: int, host: str = "127.0.0.1") -> int:
        """Serve the GDB remote protocol on ``host:port`` (0 picks a free port); returns the port."""
        from polyvm.gdb.server import GdbServer

        if self._gdb is not None:
            raise ConfigError(f"GDB debugging is enabled already (port {self._gdb.port})")
        self._gdb = GdbServer(self.runner, port, host, on_kill=self._killed_by_debugger)
        self._gdb.start()
        return self._gdb.port

    def disable_gdb_debugging(self) -> None:
        if self._gdb is not None:
            self._gdb.close()
            self._gdb = None

    @property
    def gdb_port(self) -> int | None:
        return None if self._gdb is None else self._gdb.port

    def _killed_by_debugger(self) -> None:
        self.runner.pause()
        self._close_board()
        self._stopped_at = time.monotonic()
