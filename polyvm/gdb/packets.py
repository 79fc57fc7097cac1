"""Framing of the GDB remote serial protocol: ``$data#checksum`` packets, ``+``/``-`` acknowledgements
and the out-of-band interrupt byte 0x03 (Ctrl-C) that GDB sends while the target runs."""

from __future__ import annotations

import select
import socket

INTERRUPT = 0x03
ESCAPED = b"$#}*"


class ConnectionClosed(Exception):  # noqa: N818 - the peer went away, an expected event
    """GDB closed the connection."""


def escape(data: bytes) -> bytes:
    out = bytearray()
    for byte in data:
        if byte in ESCAPED:
            out += bytes((0x7D, byte ^ 0x20))
        else:
            out.append(byte)
    return bytes(out)


def unescape(data: bytes) -> bytes:
    out = bytearray()
    it = iter(data)
    for byte in it:
        out.append(next(it, 0) ^ 0x20 if byte == 0x7D else byte)
    return bytes(out)


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


class RspConnection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.interrupted = False
        """A 0x03 arrived (read by ``read_packet`` or ``poll_interrupt``) and was not taken yet."""

    def _receive(self, timeout: float | None) -> bool:
        """Read what is available within ``timeout``; False if nothing came."""
        if timeout is not None:
            ready, _, _ = select.select([self.sock], [], [], timeout)
            if not ready:
                return False
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionClosed
        self.buffer += data
        return True

    def _take_out_of_band(self) -> None:
        """Drop acknowledgements and note interrupt bytes that precede the next packet."""
        while self.buffer and self.buffer[0] != ord("$"):
            if self.buffer[0] == INTERRUPT:
                self.interrupted = True
            del self.buffer[0]

    def poll_interrupt(self, timeout: float) -> bool:
        """While the guest runs: wait up to ``timeout`` for Ctrl-C; True (and consumed) if it came."""
        self._receive(timeout)
        self._take_out_of_band()
        interrupted, self.interrupted = self.interrupted, False
        return interrupted

    def read_packet(self) -> bytes:
        """The next packet's payload (acknowledged); blocks until one arrives."""
        while True:
            self._take_out_of_band()
            end = self.buffer.find(b"#")
            if self.buffer and end >= 0 and len(self.buffer) >= end + 3:
                payload = bytes(self.buffer[1:end])
                sent = self.buffer[end + 1 : end + 3]
                del self.buffer[: end + 3]
                try:
                    valid = int(sent, 16) == checksum(payload)
                except ValueError:
                    valid = False
                self.sock.sendall(b"+" if valid else b"-")
                if valid:
                    return unescape(payload)
                continue
            self._receive(None)

    def send_packet(self, data: bytes) -> None:
        body = escape(data)
        self.sock.sendall(b"$" + body + b"#" + b"%02x" % checksum(body))
