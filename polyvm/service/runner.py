"""Runs a board's run loop on a worker thread that any thread can pause and resume.

``pause()`` asks the run loop to return, which it does at its next slice boundary (a slice is at
most SLICE_INSTRUCTIONS per hart, well under 50 ms; on KVM, as soon as every vCPU thread has been
kicked out of KVM_RUN), and waits for the thread. ``resume()`` calls ``run()`` again on a new thread:
the run loop keeps all guest state in the board (or in KVM's vCPUs), so the guest continues exactly
where it stopped. A board whose run() needs preparing on the thread that starts it (KVM's vCPU kick
signal handler, which only the main thread can install) has ``prepare_run_thread()``, called first.
VmService, VirtualMachine and the GDB stub share one runner per board.
"""

from __future__ import annotations

import threading

from polyvm.core.errors import ExecutionError
from polyvm.core.protocols import ExitReason, RunResult

JOIN_POLL = 0.005


class MachineRunner:
    def __init__(self, board) -> None:
        self.board = board
        self.result: RunResult | None = None
        """How the last run() returned (STOPPED after a pause, HALTED when the guest powered off)."""
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    @property
    def halted(self) -> bool:
        """The guest ended its run itself (HTIF exit, syscon or ACPI poweroff, reset, triple fault):
        it cannot run again."""
        return self.result is not None and self.result.reason in (ExitReason.HALTED, ExitReason.RESET)

    def resume(self) -> None:
        """Run the guest on a worker thread (nothing happens if it is running already)."""
        with self._lock:
            if self.running:
                return
            if self.error is not None:
                raise ExecutionError(f"the guest run failed: {self.error!r}") from self.error
            if self.halted:
                how = ", ".join(filter(None, [self.result.event, f"exit code {self.result.exit_code}"]))
                raise ExecutionError(f"the guest has halted ({how}); it cannot run again")
            prepare = getattr(self.board, "prepare_run_thread", None)
            if prepare is not None:
                prepare()
            thread = threading.Thread(target=self._run, name="polyvm-vcpu", daemon=True)
            thread.start()
            self._thread = thread

    def _run(self) -> None:
        try:
            self.result = self.board.run()
        except BaseException as err:  # reported by resume() and VmService.state()
            self.error = err

    def pause(self) -> None:
        """Stop the run loop at its next slice boundary and wait until it has returned."""
        with self._lock:
            thread = self._thread
            while thread is not None and thread.is_alive():
                # Repeated: a run() that has only just started clears an earlier stop request.
                self.board.stop()
                thread.join(JOIN_POLL)

    def record_halt(self, exit_code: int) -> None:
        """The guest halted outside run() (during a debugger's single step)."""
        self.board.exit_code = exit_code
        self.result = RunResult(ExitReason.HALTED, exit_code, self.board.instructions_executed())

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the run loop returns on its own; True if it is not running."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.running
