"""VirtualMachine (seed section 1.5): a board plus a worker thread that runs it.

``new`` builds the board ``config`` asks for (by default ``spike`` for RISC-V 64 guests and the KVM
``microvm`` for x86-64 ones; see polyvm.machine.boards) and loads its images; ``boot()`` starts the
guest on a worker thread and returns. ``wait()`` blocks until the guest ends the run itself and
returns how it ended; ``stop()`` asks the run loop to return, waits for it, then flushes and closes
the disks: a stopped machine cannot boot again.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from polyvm.core.config import VmConfig
from polyvm.core.errors import ExecutionError
from polyvm.core.protocols import RunResult
from polyvm.machine.boards import BootImages, create_board, default_board
from polyvm.machine.virt import Drive
from polyvm.service.runner import MachineRunner


class VirtualMachine:
    """``kernel`` (and ``initrd``, ``bios``, ``append``) on ``board``, with virtio ``drives`` (disk
    image paths or Drives) on the boards that have a virtio bus (virt, microvm)."""

    def __init__(self, config: VmConfig, kernel: str | Path | None = None, board: str | None = None, *,
                 initrd: str | Path | None = None, bios: str | Path | None = None, append: str = "",
                 drives: Sequence[Drive | str | Path] = ()) -> None:
        self.config = config
        disks = [drive if isinstance(drive, Drive) else Drive(str(drive)) for drive in drives]
        self.board = create_board(config, board or default_board(config.arch),
                                  BootImages(kernel, initrd, bios, append), disks)
        self.runner = MachineRunner(self.board)
        self._stopped = False

    @classmethod
    def new(cls, config: VmConfig, kernel: str | Path | None = None, board: str | None = None, *,
            initrd: str | Path | None = None, bios: str | Path | None = None, append: str = "",
            drives: Sequence[Drive | str | Path] = ()) -> VirtualMachine:
        return cls(config, kernel, board, initrd=initrd, bios=bios, append=append, drives=drives)

    def boot(self) -> None:
        if self._stopped:
            raise ExecutionError("the virtual machine is stopped (its disks are closed): create a new one")
        if self.is_running():
            raise ExecutionError("the virtual machine is already running")
        self.runner.resume()

    def stop(self) -> None:
        """Stop the guest if it runs, then flush and close the board's disks (idempotent)."""
        self.runner.pause()
        if not self._stopped:
            self._stopped = True
            close = getattr(self.board, "close", None)
            if close is not None:
                close()

    def is_running(self) -> bool:
        return self.runner.running

    @property
    def result(self) -> RunResult | None:
        """How the last run ended (None before the first run has ended)."""
        return self.runner.result

    def wait(self, timeout: float | None = None) -> RunResult | None:
        """Wait for the guest to end the run (at most ``timeout`` seconds); how it ended, or None
        while it still runs."""
        self.runner.wait(timeout)
        if self.runner.error is not None:
            raise ExecutionError(f"the guest run failed: {self.runner.error!r}") from self.runner.error
        return None if self.is_running() else self.runner.result
