"""A TCP server for GDB (``target remote HOST:PORT``): one session at a time, on its own thread."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

from polyvm.core.errors import ConfigError, UnsupportedError
from polyvm.gdb.packets import ConnectionClosed, RspConnection
from polyvm.gdb.stub import GdbStub
from polyvm.service.runner import MachineRunner

ACCEPT_POLL = 0.2
REPLY_GRACE = 2.0
"""How long close() lets a session finish its reply (e.g. the exit status of a halted guest)."""


class GdbServer:
    """Listens on ``host:port`` (port 0 picks a free port, see ``port``) for ``runner``'s machine."""

    def __init__(self, runner: MachineRunner, port: int, host: str = "127.0.0.1",
                 on_kill: Callable[[], None] | None = None) -> None:
        if not hasattr(runner.board, "engines"):
            raise UnsupportedError("the GDB stub debugs the emulated RISC-V harts; accelerated mode "
                                   "(KVM, the microvm board) cannot be debugged with it yet")
        self.runner = runner
        self.on_kill = on_kill
        try:
            self.listener = socket.create_server((host, port))
        except OSError as err:
            raise ConfigError(f"cannot serve GDB on {host}:{port}: {err.strerror or err}") from err
        self.listener.settimeout(ACCEPT_POLL)
        self.host = host
        self.port: int = self.listener.getsockname()[1]
        self._closed = threading.Event()
        self._session: socket.socket | None = None
        self._stub: GdbStub | None = None
        self._thread = threading.Thread(target=self._serve, name="polyvm-gdb", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                sock, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            stub = GdbStub(RspConnection(sock), self.runner, self.on_kill)
            self._session, self._stub = sock, stub
            try:
                stub.serve()
            except (ConnectionClosed, OSError):
                pass
            finally:
                self._session = self._stub = None
                sock.close()
            if stub.killed:
                return

    def close(self) -> None:
        """Stop listening and end the current session (the guest is left running, as on detach)."""
        self._closed.set()
        session, stub = self._session, self._stub
        if stub is not None:
            stub.idle.wait(REPLY_GRACE)
        if session is not None:
            try:
                session.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.listener.close()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join()
