"""virtio-net (device id 1) over virtio-mmio, moving Ethernet frames to and from a host backend.

Features: MAC, STATUS (link always up) and MRG_RXBUF; no checksum or segmentation offload, so every
frame carries a complete checksum and fits the usual MTU. Each frame is preceded by the
virtio_net_hdr: 12 bytes with VERSION_1 or MRG_RXBUF (its last field is num_buffers, 1 on every
received frame unless MRG_RXBUF spreads it over more buffers), 10 bytes for a legacy driver without
MRG_RXBUF.

Transmit: every chain on queue 1 is gathered, the header stripped and the frame sent. Receive:
frames the backend returns wait in a bounded backlog until the driver makes receive buffers
available on queue 0; with MRG_RXBUF a frame spreads over as many buffers as it needs, otherwise a
buffer too small for its frame is returned empty and the frame dropped (as are frames larger than
a full ring of buffers). Frames that arrive while
the backlog is full are dropped and counted in ``dropped``. ``VirtioNetMmio.poll`` (a machine
poller, run on the vCPU thread) moves frames from the backend into the guest.
"""

from __future__ import annotations

import collections
import struct

from polyvm.core.errors import ConfigError
from polyvm.device.irq import IrqLine
from polyvm.device.virtio.device import F_VERSION_1, VirtioDevice
from polyvm.device.virtio.mmio import VirtioMmio
from polyvm.device.virtio.queue import DescriptorChain, MalformedRing, SplitQueue
from polyvm.mem.ram import GuestRam
from polyvm.net.backend import NetBackend

DEVICE_ID = 1
QUEUE_SIZE = 256
RX_QUEUE, TX_QUEUE = 0, 1
F_MAC = 1 << 5
F_MRG_RXBUF = 1 << 15
F_STATUS = 1 << 16
S_LINK_UP = 1
HDR_LEGACY, HDR_V1 = 10, 12
NUM_BUFFERS = struct.Struct("<H")
MAX_FRAME = 65535
"""Largest frame accepted in either direction (no GSO is offered, so real frames are far smaller)."""
BACKLOG = 256
"""Received frames held while the guest has no receive buffers; more are dropped."""


def parse_mac(text: str) -> bytes:
    """``52:54:00:12:34:56`` as six bytes."""
    parts = text.split(":")
    try:
        mac = bytes(int(part, 16) for part in parts)
    except ValueError:
        mac = b""
    if len(mac) != 6 or any(len(part) != 2 for part in parts):
        raise ConfigError(f"MAC address {text!r} is not six hex bytes like 52:54:00:12:34:56")
    if mac[0] & 1:
        raise ConfigError(f"MAC address {text!r} is a multicast address")
    return mac


class VirtioNet(VirtioDevice):
    """A network card sending and receiving through ``backend`` with hardware address ``mac``."""

    device_id = DEVICE_ID
    queue_sizes = (QUEUE_SIZE, QUEUE_SIZE)

    def __init__(self, backend: NetBackend, mac: str | bytes = "52:54:00:12:34:56") -> None:
        self.backend = backend
        self.mac = parse_mac(mac) if isinstance(mac, str) else bytes(mac)
        if len(self.mac) != 6:
            raise ConfigError(f"MAC address must be 6 bytes, got {len(self.mac)}")
        self.negotiated = 0
        self.backlog: collections.deque[bytes] = collections.deque()
        self.dropped = 0

    @property
    def mergeable(self) -> bool:
        return bool(self.negotiated & F_MRG_RXBUF)

    @property
    def header_len(self) -> int:
        return HDR_V1 if self.negotiated & (F_VERSION_1 | F_MRG_RXBUF) else HDR_LEGACY

    def device_features(self) -> int:
        return F_MAC | F_STATUS | F_MRG_RXBUF

    def config_space(self) -> bytes:
        return self.mac + struct.pack("<H", S_LINK_UP)

    def reset(self) -> None:
        self.negotiated = 0
        self.backlog.clear()

    def close(self) -> None:
        self.backend.close()

    def enqueue(self, frames: list[bytes]) -> None:
        """Frames from the backend, kept until the guest has room for them."""
        for frame in frames:
            if len(self.backlog) >= BACKLOG or len(frame) > MAX_FRAME:
                self.dropped += 1
            else:
                self.backlog.append(frame)

    def handle(self, queue_index: int, chain: DescriptorChain, ram: GuestRam) -> int:
        """Transmit one chain (the receive queue is served by ``process``)."""
        size = chain.readable_len
        if self.header_len < size <= self.header_len + MAX_FRAME:
            self.backend.send(chain.read(ram)[self.header_len :])
        else:
            self.dropped += 1
        return 0

    def process(self, queue_index: int, queue: SplitQueue) -> None:
        if queue_index == TX_QUEUE:
            super().process(queue_index, queue)
            return
        while self.backlog and self._deliver(self.backlog[0], queue):
            self.backlog.popleft()

    def _deliver(self, frame: bytes, queue: SplitQueue) -> bool:
        """Put one frame into receive buffers; False (and nothing consumed) when they run out."""
        header = bytes(self.header_len)
        packet_len = len(header) + len(frame)
        if not self.mergeable:
            chain = queue.pop()
            if chain is None:
                return False
            if self._receive_buffer(chain).writable_len < packet_len:
                self.dropped += 1
                queue.push(chain.head, 0)
            else:
                if self.header_len == HDR_V1:  # VERSION_1 without MRG_RXBUF: num_buffers must be 1
                    header = header[:-2] + NUM_BUFFERS.pack(1)
                chain.write(queue.ram, 0, header + frame)
                queue.push(chain.head, packet_len)
            return True
        start = queue.last_avail
        chains: list[DescriptorChain] = []
        room = 0
        while room < packet_len:
            chain = queue.pop()
            if chain is None and len(chains) == queue.size:
                self.dropped += 1  # the whole ring cannot hold this frame
                for full in chains:
                    queue.push(full.head, 0)
                return True
            if chain is None:
                queue.last_avail = start
                return False
            chains.append(self._receive_buffer(chain))
            room += chain.writable_len
        packet = header[:-2] + NUM_BUFFERS.pack(len(chains)) + frame
        offset = 0
        for chain in chains:
            count = min(chain.writable_len, len(packet) - offset)
            chain.write(queue.ram, 0, packet[offset : offset + count])
            queue.push(chain.head, count)
            offset += count
        return True

    @staticmethod
    def _receive_buffer(chain: DescriptorChain) -> DescriptorChain:
        if not chain.writable_len:
            raise MalformedRing("receive buffer without device-writable descriptors")
        return chain


class VirtioNetMmio(VirtioMmio):
    """A virtio-mmio window serving one ``VirtioNet``; ``poll`` brings in received frames."""

    def __init__(self, net: VirtioNet, ram: GuestRam, irq: IrqLine, version: int = 2) -> None:
        super().__init__(net, ram, irq, version)
        self.net = net

    def _process(self, index: int) -> None:
        self.net.negotiated = self.driver_features
        super()._process(index)

    def poll(self) -> None:
        """Move frames from the backend into the backlog and from there into receive buffers."""
        frames = self.net.backend.receive()
        with self._lock:
            self.net.enqueue(frames)
            if self.net.backlog:
                self._notify(RX_QUEUE)
