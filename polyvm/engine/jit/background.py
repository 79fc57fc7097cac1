"""Compiling blocks while the guest keeps running.

The guest thread hands a hot block (with its region's members) to the compile server, a child
process that makes its LLVM IR and runs LLVM (compile_server.py says why not a thread); blocks whose
object code is already in this process or the disk cache are linked at once (found by their
content, without making their text: llvm_backend.py). Finished code is installed later
by the thread that runs the guest (``collect``): the jump table is never written while native code
may be reading it. Results of a generation that ``invalidate`` ended (code cache flushes) are
dropped instead of installed.
"""

from __future__ import annotations

import dataclasses
import itertools
import queue
from collections.abc import Sequence

from polyvm.engine.jit.compile_server import CompileServer, Reply
from polyvm.engine.jit.llvm_backend import LlvmBackend, NativeCode
from polyvm.engine.jit.resume import check_compilable
from polyvm.ir.block import IRBlock

_server: list[CompileServer] = []
"""The compile server every engine of this process shares (started on first use)."""
_request_ids = itertools.count()
IN_PROCESS_COMPILES = 8
"""Unoptimised compiles a process does itself before it starts the compile server. A warm Linux
boot compiles a handful of blocks that its cache cannot hold (they straddle pages), late in the
boot: the server, started then, answered after the prompt and those blocks ran ~22,000 times in
the Python tier; and a starting server slows the guest's thread by ~50 ms on a 2-core host
(benchmarks/boot.py). A quick compile takes a few milliseconds here."""
_compiled_here = itertools.count()


def _portable(block: IRBlock) -> IRBlock:
    """A plain IRBlock with ``block``'s fields (a stored block's lazy parts do not pickle)."""
    return IRBlock(**{field.name: getattr(block, field.name) for field in dataclasses.fields(IRBlock)})


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
        self._waiting: dict[int, tuple[int, IRBlock, Sequence[IRBlock]]] = {}
        """Requests out at the server: id -> (generation, block, region members)."""
        self._done: list[tuple[int, IRBlock, NativeCode | None]] = []
        self._replies: queue.Queue[Reply] = queue.Queue()

    def submit(self, block: IRBlock, members: Sequence[IRBlock] = ()) -> bool:
        """Queue ``block`` (a region with ``members``, see codegen.py, each checked with
        ``check_compilable`` by the caller) unless it is queued already or was refused; True if
        queued."""
        pc = block.start_pc
        if pc in self.pending or pc in self.refused:
            return False
        self.pending.add(pc)
        try:
            check_compilable(block)
        except ValueError:
            self._done.append((self.generation, block, None))
            return True
        known = self.backend.known_code(block, members)
        if known is not None:
            # Hot now, so a later run installs it when it first translates the block, although
            # its code was compiled before for another reason (JIT mode compiles every block alone,
            # as HYBRID's quick compiles do: without this, a JIT-mode run stopped HYBRID from ever
            # recording those blocks, and warm Linux boots ran ~0.6M Python-tier blocks, not ~0.1M).
            self.backend.remember_region(block, members)
            self._done.append((self.generation, block, known))
            return True
        if not _server and self.backend.opt_level == 0 and next(_compiled_here) < IN_PROCESS_COMPILES:
            try:
                native = self.backend.compile_block(block, members)
            except (RuntimeError, OSError) as error:  # LLVM refused it, or the disk cache failed:
                self.errors.append(str(error))  # refused, as the server would have said
                native = None
            else:
                self.backend.remember_region(block, members)
            self._done.append((self.generation, block, native))
            return True
        request_id = next(_request_ids)
        self._waiting[request_id] = (self.generation, block, members)
        if not _server:
            _server.append(CompileServer())
        folder = str(self.backend.cache_dir) if self.backend.cache_dir is not None else None
        region = (_portable(block), [_portable(member) for member in members], folder,
                  self.backend.function_name(block, members))
        _server[0].submit(request_id, region, self.backend.opt_level, self._replies)
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
                request_id, name, data, compile_ms, error = self._replies.get(block=block)
                block = False
                generation, ir_block, members = self._waiting.pop(request_id)
                if data is None:
                    self.errors.append(error)
                    self._done.append((generation, ir_block, None))
                else:
                    self.backend.remember_region(ir_block, members)
                    native = self.backend.load(name, data, compile_ms, stored=True)
                    self._done.append((generation, ir_block, native))
        except queue.Empty:
            pass
