"""virtio-net over virtio-mmio with real loopback socket backends: identity and configuration,
transmit, receive with and without MRG_RXBUF, the receive backlog, and two cards linked together."""

from __future__ import annotations

import struct
import time

import pytest
from net_helpers import NetDriver

from polyvm.core.errors import ConfigError
from polyvm.device.irq import IrqLine
from polyvm.device.virtio import mmio
from polyvm.device.virtio.device import F_EVENT_IDX, F_INDIRECT_DESC, F_VERSION_1
from polyvm.device.virtio.net import (
    BACKLOG,
    F_MAC,
    F_MRG_RXBUF,
    F_STATUS,
    VirtioNet,
    VirtioNetMmio,
)
from polyvm.mem.ram import GuestRam
from polyvm.net import SocketBackend
from tests.devices.device_helpers import Lines

LINE = 5
TX_BUF, RX_BUF = 0x20000, 0x40000
FRAME = bytes(range(256)) * 4 + b"tail"
ALL = F_MAC | F_STATUS | F_MRG_RXBUF | F_VERSION_1 | F_EVENT_IDX | F_INDIRECT_DESC


class Card:
    """A virtio-net card on a transport on guest RAM, with a driver and its interrupt line."""

    def __init__(self, ram: GuestRam, backend: SocketBackend, features: int | None = None) -> None:
        self.ram = ram
        self.lines = Lines()
        self.net = VirtioNet(backend, "52:54:00:12:34:56")
        self.t = VirtioNetMmio(self.net, ram, IrqLine(self.lines, LINE))
        self.d = NetDriver(self.t, ram, features)

    def post(self, count: int, length: int, notify: bool = True) -> list[int]:
        """``count`` receive buffers of ``length`` bytes each, back to back from RX_BUF."""
        return [self.d.submit(0, [(self.addr(i, length), length, True)], notify) for i in range(count)]

    def addr(self, index: int, length: int) -> int:
        return self.ram.base + RX_BUF + index * length

    def poll_until_received(self, count: int = 1) -> list[tuple[int, int]]:
        """Poll like the machine loop until ``count`` receive buffers were used."""
        used: list[tuple[int, int]] = []
        deadline = time.monotonic() + 5
        while len(used) < count and time.monotonic() < deadline:
            self.t.poll()
            used += self.d.rings[0].used()
        return used


def receive_on(backend: SocketBackend) -> bytes:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        frames = backend.receive()
        if frames:
            [frame] = frames
            return frame
    raise AssertionError("nothing arrived over loopback")


def test_identity_features_and_config(ram: GuestRam, socket_pair) -> None:
    card = Card(ram, socket_pair[0])
    assert card.t.read(mmio.DEVICE_ID, 4) == 1
    assert card.d.offered == ALL
    assert card.d.status == 0x0F
    assert bytes(card.t.read(0x100 + i, 1) for i in range(6)) == bytes.fromhex("525400123456")
    assert card.t.read(0x106, 2) == 1  # VIRTIO_NET_S_LINK_UP


def test_transmit_strips_the_header_and_sends_the_frame(ram: GuestRam, socket_pair) -> None:
    local, peer = socket_pair
    card = Card(ram, local)
    head = card.d.transmit(ram.base + TX_BUF, bytes(12) + FRAME)
    assert card.d.rings[1].used() == [(head, 0)]
    assert card.d.ack() == mmio.INT_USED_BUFFER
    assert receive_on(peer) == FRAME


def test_transmit_gathers_a_chain_of_buffers(ram: GuestRam, socket_pair) -> None:
    local, peer = socket_pair
    card = Card(ram, local)
    base = ram.base + TX_BUF
    ram.write(base, bytes(12))
    ram.write(base + 0x1000, FRAME[:100])
    ram.write(base + 0x2000, FRAME[100:])
    rest = len(FRAME) - 100
    card.d.submit(1, [(base, 12, False), (base + 0x1000, 100, False), (base + 0x2000, rest, False)])
    assert receive_on(peer) == FRAME


def test_receive_without_mergeable_buffers(ram: GuestRam, socket_pair) -> None:
    local, peer = socket_pair
    card = Card(ram, local, ALL & ~F_MRG_RXBUF)
    [head] = card.post(1, 1526)
    peer.send(FRAME)
    assert card.poll_until_received() == [(head, 12 + len(FRAME))]
    packet = ram.read(card.addr(0, 1526), 12 + len(FRAME))
    assert packet == bytes(10) + struct.pack("<H", 1) + FRAME  # num_buffers is 1 with VERSION_1
    assert card.lines.high(LINE)
    assert card.d.ack() == mmio.INT_USED_BUFFER and not card.lines.high(LINE)


def test_receive_buffer_too_small_drops_the_frame(ram: GuestRam, socket_pair) -> None:
    local, peer = socket_pair
    card = Card(ram, local, ALL & ~F_MRG_RXBUF)
    heads = card.post(2, 2048)
    card.d.rings[0].put_desc(heads[0], card.addr(0, 2048), 64, 2)
    peer.send(FRAME)
    peer.send(b"small frame".ljust(60, b"\0"))
    used = card.poll_until_received(2)
    assert used == [(heads[0], 0), (heads[1], 72)]
    assert card.net.dropped == 1


def test_receive_merges_buffers(ram: GuestRam, socket_pair) -> None:
    local, peer = socket_pair
    card = Card(ram, local)
    heads = card.post(6, 256)
    peer.send(FRAME)
    used = card.poll_until_received(5)
    total = 12 + len(FRAME)
    assert used == [(heads[i], min(256, total - 256 * i)) for i in range(5)]
    packet = b"".join(ram.read(card.addr(i, 256), length) for i, (_, length) in enumerate(used))
    # flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, num_buffers
    assert struct.unpack_from("<BBHHHHH", packet) == (0, 0, 0, 0, 0, 0, 5)
    assert packet[12:] == FRAME


def test_frame_larger_than_the_whole_ring_is_dropped(ram: GuestRam, socket_pair) -> None:
    local, peer = socket_pair
    card = Card(ram, local)
    heads = card.post(16, 64)
    peer.send(FRAME)
    assert card.poll_until_received(16) == [(head, 0) for head in heads]
    assert card.net.dropped == 1 and not card.net.backlog
    [head] = card.post(1, 2048)
    peer.send(FRAME)
    assert card.poll_until_received() == [(head, 12 + len(FRAME))]


def test_frames_wait_for_buffers_and_the_backlog_is_bounded(ram: GuestRam, socket_pair) -> None:
    local, peer = socket_pair
    card = Card(ram, local)
    for index in range(3):
        peer.send(bytes([index]) * 100)
    deadline = time.monotonic() + 5
    while len(card.net.backlog) < 3 and time.monotonic() < deadline:
        card.t.poll()
    assert card.d.rings[0].used() == []
    heads = card.post(2, 1526)
    assert [head for head, _ in card.d.rings[0].used()] == heads
    assert ram.read(card.addr(1, 1526) + 12, 100) == b"\1" * 100
    assert len(card.net.backlog) == 1
    card.net.enqueue([b"x" * 60] * BACKLOG)
    assert card.net.dropped == 1 and len(card.net.backlog) == BACKLOG


def test_reset_forgets_the_backlog(ram: GuestRam, socket_pair) -> None:
    card = Card(ram, socket_pair[0])
    card.net.enqueue([b"y" * 60])
    card.t.write(mmio.STATUS, 0, 4)
    assert not card.net.backlog and card.net.negotiated == 0


def test_two_cards_linked_over_loopback(socket_pair) -> None:
    first, second = (Card(GuestRam(1 << 20, base=0x8000_0000), backend) for backend in socket_pair)
    [head] = second.post(1, 2048)
    for size in (60, 1514):
        frame = bytes((size + i) & 0xFF for i in range(size))
        first.d.transmit(first.ram.base + TX_BUF, bytes(12) + frame)
        [(used_head, length)] = second.poll_until_received()
        assert used_head == head and length == 12 + size
        assert second.ram.read(second.addr(0, 2048) + 12, size) == frame
        [head] = second.post(1, 2048)


BAD_MACS = ["52:54:00:12:34", "52:54:00:12:34:zz", "53:54:00:12:34:56", "5254:00:12:34:5"]


@pytest.mark.parametrize("mac", BAD_MACS)
def test_bad_mac_addresses_are_refused(mac: str, socket_pair) -> None:
    with pytest.raises(ConfigError):
        VirtioNet(socket_pair[0], mac)
