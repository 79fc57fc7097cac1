"""Drives a board's serial console from a test: run the board on a thread, wait for text, type."""

from __future__ import annotations

import threading
import time

from polyvm.core.protocols import RunResult


class ConsoleSession:
    def __init__(self, board, timeout: float) -> None:
        self.board = board
        self.result: RunResult | None = None
        self.deadline = time.monotonic() + timeout
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self.result = self.board.run(timeout=self.deadline - time.monotonic())

    @property
    def output(self) -> bytes:
        return bytes(self.board.console_output)

    def wait_for(self, text: bytes, after: int = 0) -> int:
        """Block until ``text`` appears at or after offset ``after``; returns where it ends."""
        while time.monotonic() < self.deadline and self._thread.is_alive():
            index = self.output.find(text, after)
            if index >= 0:
                return index + len(text)
            time.sleep(0.05)
        index = self.output.find(text, after)
        if index >= 0:
            return index + len(text)
        tail = self.output[-2000:].decode(errors="replace")
        raise AssertionError(f"{text!r} did not appear; console tail:\n{tail}")

    def run_command(self, command: str, prompt: bytes = b"# ") -> bytes:
        """Type a shell command and return what it printed before the next prompt."""
        start = len(self.output)
        self.board.uart.push_input(command.encode() + b"\n")
        echoed = self.wait_for(command.encode(), start)
        end = self.wait_for(prompt, echoed)
        printed = self.output[echoed : end - len(prompt)]
        printed = printed[: printed.rfind(b"\n") + 1]
        return printed.replace(b"\r\n", b"\n").lstrip(b"\n")

    def finish(self) -> RunResult | None:
        """Wait for the guest to power off (or the time limit)."""
        self._thread.join(max(0.0, self.deadline - time.monotonic()) + 5)
        if self._thread.is_alive():
            self.board.stop()
            self._thread.join()
        return self.result
