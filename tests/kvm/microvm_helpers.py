"""Running the project's bzImage guests on the microvm board in tests."""

from __future__ import annotations

import threading
import time

from polyvm.core.protocols import RunResult
from polyvm.engine.kvm.vcpu_thread import install_kick_handler
from polyvm.machine.microvm import MicrovmBoard

from .x86_guests import build_bzimage


def run_guest(config, name: str, timeout: float = 20.0, **kwargs):
    """Boot guests/x86_64/bzimage/<name>.c; returns the board (closed), run result, console text, seconds."""
    with MicrovmBoard(config, kernel=build_bzimage(name), **kwargs) as board:
        start = time.perf_counter()
        result = board.run(timeout=timeout)
        elapsed = time.perf_counter() - start
    return board, result, board.console_output.decode(), elapsed


class BackgroundRun:
    """A board running on its own thread (for tests that talk to the guest meanwhile); leaving the
    ``with`` block stops the run if the guest has not ended it, and joins the thread."""

    def __init__(self, board: MicrovmBoard, timeout: float) -> None:
        self.board = board
        self.result: RunResult | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(timeout,), daemon=True)

    def _run(self, timeout: float) -> None:
        try:
            self.result = self.board.run(timeout=timeout)
        except BaseException as error:  # handed to the test by join()
            self.error = error

    def __enter__(self) -> BackgroundRun:
        install_kick_handler()  # run() can install it only on the main thread
        self._thread.start()
        return self

    def join(self, timeout: float) -> RunResult:
        """The run's result once the guest ended it within ``timeout`` seconds."""
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the guest did not end the run"
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result

    def __exit__(self, *exc_info: object) -> None:
        self.board.stop()
        self._thread.join()
