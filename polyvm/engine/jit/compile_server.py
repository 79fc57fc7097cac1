"""A child process that runs LLVM for the background compiler, so compiling never competes with
the guest for the GIL.

Measured with benchmarks/boot.py --mode hybrid (Linux boot, 2 cores): with LLVM in a thread of the
guest's own process the boot took three times as long as with no compiling at all, although the
thread spent most of its time inside LLVM; in a separate process compiling is nearly free for the
guest thread, which only links the finished object code (about 0.03 ms per block).

Protocol, both directions: frames of a 4-byte little-endian length and a pickle. Requests are
``(request_id, module_text, opt_level)``; replies ``(request_id, object_code or None,
milliseconds, error)``. The child reads requests on a thread of its own so the parent's writes
never wait for a compile, and compiles waiting requests lowest optimisation level first: the first
tier's quick compiles (a few ms) are what the guest waits for in the Python tier, optimised
recompiles of code already native (~20 ms each) can wait.

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
from typing import BinaryIO

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


Reply = tuple[int, "bytes | None", float, str]


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

    def submit(self, request_id: int, module_text: str, opt_level: int, replies: queue.Queue[Reply]) -> None:
        """Compile ``module_text`` at ``opt_level``; its reply arrives on ``replies`` (an error
        reply if the server is gone)."""
        with self._write_lock:
            if self.failure is None:
                self._routes[request_id] = replies
                try:
                    write_frame(self._process.stdin, (request_id, module_text, opt_level))
                    return
                except OSError as exc:
                    self._routes.pop(request_id)
                    self.failure = f"the JIT compile server is gone ({exc})"
        replies.put((request_id, None, 0.0, self.failure))

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
            route.put((request_id, None, 0.0, self.failure))

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.stdin.close()
            self._process.wait(timeout=10)


def serve() -> None:
    """The child: compile every request with a target machine like the parent's engines use."""
    from polyvm.engine.jit.llvm_backend import compile_object, create_target

    targets = {level: create_target(level) for level in (0, 2)}
    requests: queue.PriorityQueue[tuple[int, int, int, str]] = queue.PriorityQueue()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    end = (1 << 30, 0, 0, "")

    def read_requests() -> None:
        arrival = 0
        while (request := read_frame(stdin)) is not None:
            request_id, text, opt_level = request
            arrival += 1
            requests.put((opt_level, arrival, request_id, text))
        requests.put(end)

    threading.Thread(target=read_requests, daemon=True).start()
    while (request := requests.get()) is not end:
        opt_level, _, request_id, text = request
        start = time.perf_counter()
        try:
            reply = (request_id, compile_object(text, opt_level, targets[0 if opt_level == 0 else 2]), "")
        except RuntimeError as exc:
            reply = (request_id, None, str(exc))
        write_frame(stdout, (reply[0], reply[1], (time.perf_counter() - start) * 1000, reply[2]))


if __name__ == "__main__":
    os.nice(5)
    serve()
