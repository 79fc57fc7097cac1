"""Compiling blocks while the guest keeps running.

The guest thread turns a hot block into LLVM IR text (cheap) and hands it to the compile server,
a child process running LLVM (compile_server.py says why not a thread); blocks whose object code
is already in this process or the disk cache are linked at once (most found by their content,
without making their text: llvm_backend.py). Finished code is installed later
by the thread that runs the guest (``collect``): the jump table is never written while native code
may be reading it. Results of a generation that ``invalidate`` ended (code cache flushes) are
dropped instead of installed.
"""

from __future__ import annotations

import itertools
import queue
from collections.abc import Sequence

from polyvm.engine.jit.compile_server import CompileServer, Reply
from polyvm.engine.jit.llvm_backend import LlvmBackend, NativeCode
from polyvm.engine.jit.resume import check_boundaries
from polyvm.ir.block import IRBlock

_server: list[CompileServer] = []
"""The compile server every engine of this process shares (started on first use)."""
_request_ids = itertools.count()


class BackgroundCompiler:
    """Compiles submitted blocks through ``backend``'s naming and disk cache, LLVM in a server."""

    def __init__(self, backend: LlvmBackend) -> None:
        self.backend = backend
        self.generation = 0
        self.pending: set[int] = set()
        self.refused: set[int] = set()
        """Start pcs of blocks the native backend cannot compile (never submitted again)."""
        self.errors: list[str] = []
        """Why the compile server could not compile blocks (kept for --stats and tests)."""
        self._waiting: dict[int, tuple[int, IRBlock, str]] = {}
        """Requests out at the server: id -> (generation, block, function name)."""
        self._done: list[tuple[int, IRBlock, NativeCode | None]] = []
        self._replies: queue.Queue[Reply] = queue.Queue()

    def submit(self, block: IRBlock, members: Sequence[IRBlock] = ()) -> bool:
        """Queue ``block`` (a region with ``members``, see codegen.py, each checked with
        ``check_boundaries`` by the caller) unless it is queued already or was refused; True if
        queued."""
        pc = block.start_pc
        if pc in self.pending or pc in self.refused:
            return False
        self.pending.add(pc)
        try:
            check_boundaries(block)
        except ValueError:
            self._done.append((self.generation, block, None))
            return True
        known = self.backend.known_code(block, members)
        if known is None:
            name, text = self.backend.prepare(block, members)
            known = self.backend.lookup(name)
        if known is not None:
            self._done.append((self.generation, block, known))
            return True
        request_id = next(_request_ids)
        self._waiting[request_id] = (self.generation, block, name)
        if not _server:
            _server.append(CompileServer())
        _server[0].submit(request_id, text, self.backend.opt_level, self._replies)
        return True

    def invalidate(self) -> None:
        """Drop every result not yet collected, and everything still being compiled."""
        self.generation += 1
        self.pending.clear()
        self.refused.clear()

    def collect(self) -> list[tuple[IRBlock, NativeCode]]:
        """Finished compiles of the current generation (call from the thread running the guest)."""
        self._receive(block=False)
        ready = []
        done, self._done = self._done, []
        for generation, block, native in done:
            if generation != self.generation:
                continue
            self.pending.discard(block.start_pc)
            if native is None:
                self.refused.add(block.start_pc)
            else:
                ready.append((block, native))
        return ready

    def wait_idle(self) -> None:
        """Block until every submitted block has been compiled (tests, shutdown)."""
        while self._waiting:
            self._receive(block=True)

    def _receive(self, block: bool) -> None:
        """Link the object code of the replies that have arrived (wait for one if ``block``)."""
        try:
            while self._waiting:
                request_id, data, compile_ms, error = self._replies.get(block=block)
                block = False
                generation, ir_block, name = self._waiting.pop(request_id)
                if data is None:
                    self.errors.append(error)
                    self._done.append((generation, ir_block, None))
                else:
                    self._done.append((generation, ir_block, self.backend.load(name, data, compile_ms)))
        except queue.Empty:
            pass
