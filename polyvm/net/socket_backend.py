"""A UDP datagram link between polyvm instances (QEMU's ``-netdev dgram`` / ``socket,udp=``): each
Ethernet frame is one datagram sent to ``remote``; frames are received on ``local``."""

from __future__ import annotations

import socket

from polyvm.core.errors import DeviceError
from polyvm.net.backend import MAX_BATCH, MAX_FRAME_BYTES

Address = tuple[str, int]


class SocketBackend:
    """Sends to ``remote`` and receives on ``local`` (both ``(host, port)``), non-blocking."""

    def __init__(self, local: Address, remote: Address) -> None:
        self.local = local
        self.remote = remote
        try:
            family = socket.getaddrinfo(local[0], local[1], type=socket.SOCK_DGRAM)[0][0]
        except socket.gaierror as error:
            raise DeviceError(f"socket netdev: cannot resolve {local[0]!r}: {error.strerror}") from None
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self._sock.bind(local)
        except OSError as error:
            self._sock.close()
            raise DeviceError(f"socket netdev: cannot bind {local[0]}:{local[1]}: {error.strerror}") from None
        self._sock.setblocking(False)

    @property
    def address(self) -> Address:
        """The bound local address (useful with port 0)."""
        host, port = self._sock.getsockname()[:2]
        return host, port

    def send(self, frame: bytes) -> None:
        try:
            self._sock.sendto(frame, self.remote)
        except OSError:
            pass  # nobody listening, or the socket buffer is full: the frame is lost, as on a wire

    def receive(self) -> list[bytes]:
        frames = []
        for _ in range(MAX_BATCH):
            try:
                frames.append(self._sock.recv(MAX_FRAME_BYTES))
            except ConnectionError:
                continue  # an ICMP error reported for an earlier send
            except OSError:  # EAGAIN: nothing more; anything else: the socket was closed
                break
        return frames

    def close(self) -> None:
        self._sock.close()
