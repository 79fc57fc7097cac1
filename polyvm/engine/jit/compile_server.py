"""A child process that runs LLVM for the background compiler, so compiling never competes with
the guest for the GIL.

Measured with benchmarks/boot.py --mode hybrid (Linux boot, 2 cores): with LLVM in a thread of the
guest's own process the boot took three times as long as with no compiling at all, although the
thread spent most of its time inside LLVM; in a separate process compiling is nearly free for the
guest thread, which only links the finished object code (about 0.03 ms per block).

Protocol, both directions: frames of a 4-byte little-endian length and a pickle. Requests are
``(request_id, (block, members, cache folder or None, name or None), opt_level)``: the child makes
the LLVM IR text itself (codegen.py; that was a tenth of a cold Linux boot in the guest's process),
names it (the given name, else a hash of the text), and compiles it and stores the object code in
the disk cache unless the cache has that name.
Replies are ``(request_id, name, object_code or None, milliseconds, error)``. The child reads
requests on a thread of its own so the parent's writes never wait for a compile, and compiles
waiting requests lowest optimisation level first: the first tier's quick compiles (a few ms) are
what the guest waits for in the Python tier, optimised recompiles of code already native (~20 ms
each) can wait.

    python3 -m polyvm.engine.jit.compile_server
"""

from __future__ import annotations

import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from polyvm.ir.block import IRBlock

HEADER = struct.Struct("<I")


def write_frame(stream: BinaryIO, message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def read_frame(stream: BinaryIO) -> object | None:
    """The next message, or None at end of stream."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    data = stream.read(HEADER.unpack(header)[0])
    return pickle.loads(data)


Reply = tuple[int, str, "bytes | None", float, str]
Region = tuple["IRBlock", "Sequence[IRBlock]", "str | None", "str | None"]
"""A request's payload: a block, its region members, the disk cache folder and the function's name
(None: named by a hash of its text)."""


class CompileServer:
    """The parent's side: starts the child, sends module texts, routes each reply to the queue its
    request named (several engines share one server)."""

    def __init__(self) -> None:
        self.failure: str | None = None
        """Why the child stopped answering (it died), if it did."""
        self._routes: dict[int, queue.Queue[Reply]] = {}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "polyvm.engine.jit.compile_server"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self._write_lock = threading.Lock()
        self._reader = threading.Thread(target=self._read_replies, name="polyvm-jit-replies",
                                        daemon=True)
        self._reader.start()

    def submit(self, request_id: int, region: Region, opt_level: int, replies: queue.Queue[Reply]) -> None:
        """Compile ``region`` at ``opt_level``; its reply arrives on ``replies`` (an error reply if
        the server is gone)."""
        with self._write_lock:
            if self.failure is None:
                self._routes[request_id] = replies
                try:
                    write_frame(self._process.stdin, (request_id, region, opt_level))
                    return
                except OSError as exc:
                    self._routes.pop(request_id)
                    self.failure = f"the JIT compile server is gone ({exc})"
        replies.put((request_id, "", None, 0.0, self.failure))

    def _read_replies(self) -> None:
        while (reply := read_frame(self._process.stdout)) is not None:
            with self._write_lock:
                route = self._routes.pop(reply[0], None)
            if route is not None:
                route.put(reply)
        stderr = self._process.stderr.read().decode(errors="replace").strip()
        with self._write_lock:
            self.failure = f"the JIT compile server exited ({self._process.wait()}): {stderr[-500:]}"
            routes, self._routes = self._routes, {}
        for request_id, route in routes.items():
            route.put((request_id, "", None, 0.0, self.failure))

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.stdin.close()
            self._process.wait(timeout=10)


def serve() -> None:
    """The child: make, name, compile and store each requested region, lowest level first."""
    from polyvm.engine.jit.codegen import block_function
    from polyvm.engine.jit.llvm_backend import object_code
    from polyvm.engine.jit.llvm_objects import codegen_level, host_target, named_module

    requests: queue.PriorityQueue[tuple[int, int, int, Region]] = queue.PriorityQueue()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    end = (1 << 30, 0, 0, None)

    def read_requests() -> None:
        arrival = 0
        while (request := read_frame(stdin)) is not None:
            request_id, region, opt_level = request
            arrival += 1
            requests.put((opt_level, arrival, request_id, region))
        requests.put(end)

    threading.Thread(target=read_requests, daemon=True).start()
    while (request := requests.get()) is not end:
        opt_level, _, request_id, (block, members, folder, given_name) = request
        start = time.perf_counter()
        name, data, error = "", None, ""
        try:
            name, text = named_module(block_function(block, "NAME", members), opt_level, given_name)
            data = object_code(Path(folder) if folder is not None else None, name, text, opt_level,
                               host_target(codegen_level(opt_level)).target)
        except (RuntimeError, ValueError) as exc:
            error = str(exc)
        write_frame(stdout, (request_id, name, data, (time.perf_counter() - start) * 1000, error))


if __name__ == "__main__":
    os.nice(5)
    serve()
