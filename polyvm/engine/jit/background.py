"""Compiling blocks in a worker thread while the guest keeps running.

LLVM's passes and code generator release the GIL (measured: the main thread keeps about two thirds
of its speed while a worker compiles), so hot blocks are handed to one daemon worker and installed
later by the thread that runs the guest: the jump table is never written while native code may be
reading it. Results of a generation that ``invalidate`` ended (code cache flushes, self-modifying
code) are dropped instead of installed.
"""

from __future__ import annotations

import queue
import threading

from polyvm.engine.jit.llvm_backend import LlvmBackend, NativeCode
from polyvm.engine.jit.resume import check_boundaries
from polyvm.ir.block import IRBlock


class BackgroundCompiler:
    """One worker thread compiling submitted blocks through ``backend``."""

    def __init__(self, backend: LlvmBackend) -> None:
        self.backend = backend
        self.generation = 0
        self.pending: set[int] = set()
        self.refused: set[int] = set()
        """Start pcs of blocks the native backend cannot compile (never submitted again)."""
        self._todo: queue.Queue[tuple[int, IRBlock]] = queue.Queue()
        self._done: queue.Queue[tuple[int, IRBlock, NativeCode | None]] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="polyvm-jit", daemon=True)
        self._thread.start()

    def submit(self, block: IRBlock) -> bool:
        """Queue ``block`` unless it is queued already or was refused; True if queued."""
        pc = block.start_pc
        if pc in self.pending or pc in self.refused:
            return False
        self.pending.add(pc)
        self._todo.put((self.generation, block))
        return True

    def invalidate(self) -> None:
        """Drop every result not yet collected, and everything still being compiled."""
        self.generation += 1
        self.pending.clear()
        self.refused.clear()

    def collect(self) -> list[tuple[IRBlock, NativeCode]]:
        """Finished compiles of the current generation (call from the thread running the guest)."""
        ready = []
        while True:
            try:
                generation, block, native = self._done.get_nowait()
            except queue.Empty:
                return ready
            if generation != self.generation:
                continue
            self.pending.discard(block.start_pc)
            if native is None:
                self.refused.add(block.start_pc)
            else:
                ready.append((block, native))

    def wait_idle(self) -> None:
        """Block until every submitted block has been compiled (tests, shutdown)."""
        self._todo.join()

    def _work(self) -> None:
        while True:
            generation, block = self._todo.get()
            try:
                check_boundaries(block)
                native = self.backend.compile_block(block)
            except ValueError:
                native = None
            self._done.put((generation, block, native))
            self._todo.task_done()
