"""VirtualMachine (seed section 1.5): a board plus a worker thread that runs it.

``boot()`` loads nothing new: the board was built (and its images loaded) by ``new``; it starts the
guest on a worker thread and returns. ``stop()`` asks the run loop to return and waits for it;
``wait()`` blocks until the guest halts on its own and returns how the run ended.
"""

from __future__ import annotations

import threading
from pathlib import Path

from polyvm.core.config import VmConfig
from polyvm.core.errors import ConfigError, ExecutionError
from polyvm.core.protocols import RunResult


class VirtualMachine:
    def __init__(self, config: VmConfig, kernel: str | Path | None = None, board: str = "spike") -> None:
        self.config = config
        self.board = _create_board(board, config, kernel)
        self._thread: threading.Thread | None = None
        self.result: RunResult | None = None
        self.error: BaseException | None = None

    @classmethod
    def new(cls, config: VmConfig, kernel: str | Path | None = None, board: str = "spike") -> VirtualMachine:
        return cls(config, kernel, board)

    def boot(self) -> None:
        if self.is_running():
            raise ExecutionError("the virtual machine is already running")
        self._thread = threading.Thread(target=self._run, name="polyvm-vcpu", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.result = self.board.run()
        except BaseException as err:  # reported to the caller through wait()
            self.error = err

    def stop(self) -> None:
        if self._thread is not None:
            self.board.stop()
            self._thread.join()

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> RunResult | None:
        if self._thread is not None:
            self._thread.join(timeout)
        if self.error is not None:
            raise ExecutionError(f"the guest run failed: {self.error!r}") from self.error
        return self.result


def _create_board(name: str, config: VmConfig, kernel: str | Path | None):
    from polyvm.machine.spike import SpikeBoard

    if name != "spike":
        raise ConfigError(f"unknown board {name!r} (available: spike)")
    if kernel is None:
        raise ConfigError("the spike board needs a kernel (an ELF with tohost/fromhost)")
    return SpikeBoard(config, kernel)
