"""Helpers for the GDB tests: the debug guest, Debian's gdb-multiarch in batch mode, and a minimal
remote-protocol client for what a batch script cannot do."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

from polyvm.devtools.baremetal import build_baremetal

REPO = Path(__file__).resolve().parents[2]
GDB = shutil.which("gdb-multiarch")


def target_elf() -> Path:
    """guests/gdb/target.c built with symbols and DWARF."""
    return build_baremetal(REPO / "guests" / "gdb" / "target.c", debug=True)


def gdb_command(elf: Path, port: int, commands: list[str], batch: bool = True) -> list[str]:
    argv = [GDB, "-q", "-nx"] + (["-batch"] if batch else [])
    argv += ["-ex", "set confirm off", "-ex", f"file {elf}", "-ex", f"target remote 127.0.0.1:{port}"]
    for command in commands:
        argv += ["-ex", command]
    return argv


def run_gdb(elf: Path, port: int, commands: list[str], timeout: float = 60) -> str:
    """Run gdb-multiarch on ``commands`` against the stub; its whole output (stdout and stderr)."""
    done = subprocess.run(gdb_command(elf, port, commands), capture_output=True, text=True,
                          timeout=timeout)
    return done.stdout + done.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RspClient:
    """Sends packets and reads replies the way GDB does (acknowledged, checksummed)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buffer = b""

    def send(self, payload: str) -> None:
        body = payload.encode("latin-1")
        self.sock.sendall(b"$" + body + b"#" + b"%02x" % (sum(body) & 0xFF))

    def request(self, payload: str) -> str:
        self.send(payload)
        return self.reply()

    def reply(self) -> str:
        while True:
            start = self.buffer.find(b"$")
            end = self.buffer.find(b"#", start)
            if start >= 0 and end >= 0 and len(self.buffer) >= end + 3:
                payload = self.buffer[start + 1 : end]
                self.buffer = self.buffer[end + 3 :]
                self.sock.sendall(b"+")
                return payload.decode("latin-1")
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("the stub closed the connection")
            self.buffer += data

    def close(self) -> None:
        self.sock.close()
