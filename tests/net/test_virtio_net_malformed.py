"""Malformed guest rings on virtio-net never raise on the host: the transport sets
DEVICE_NEEDS_RESET (or the packet is dropped when only its contents are wrong)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from net_helpers import NEXT, WRITE, NetDriver

from polyvm.device.irq import IrqLine
from polyvm.device.virtio import mmio
from polyvm.device.virtio.net import MAX_FRAME, VirtioNet, VirtioNetMmio
from polyvm.mem.ram import GuestRam
from polyvm.net import SocketBackend
from tests.devices.device_helpers import Lines

BUF = 0x20000


def card(ram: GuestRam, backend: SocketBackend) -> tuple[VirtioNetMmio, NetDriver]:
    transport = VirtioNetMmio(VirtioNet(backend), ram, IrqLine(Lines(), 1))
    return transport, NetDriver(transport, ram)


def needs_reset(transport: VirtioNetMmio, reason: str) -> bool:
    status = transport.read(mmio.STATUS, 4)
    return bool(status & mmio.STATUS_NEEDS_RESET) and reason in (transport.error or "")


def test_transmit_buffer_outside_ram(ram: GuestRam, socket_pair) -> None:
    t, d = card(ram, socket_pair[0])
    d.submit(1, [(ram.end - 8, 64, False)])
    assert needs_reset(t, "outside RAM")
    assert socket_pair[1].receive() == []


def test_transmit_descriptor_loop(ram: GuestRam, socket_pair) -> None:
    t, d = card(ram, socket_pair[0])
    ring = d.rings[1]
    ring.put_desc(0, ram.base + BUF, 12, NEXT, 1)
    ring.put_desc(1, ram.base + BUF, 60, NEXT, 0)
    ring.make_available(0)
    t.write(mmio.QUEUE_NOTIFY, 1, 4)
    assert needs_reset(t, "loop")


@pytest.mark.parametrize("length", [0, 5, 12, 12 + MAX_FRAME + 1])
def test_transmit_without_a_frame_is_dropped(ram: GuestRam, socket_pair, length: int) -> None:
    t, d = card(ram, socket_pair[0])
    head = d.submit(1, [(ram.base + BUF, length, False)])
    assert d.rings[1].used() == [(head, 0)]
    assert t.device.dropped == 1 and not needs_reset(t, "")
    assert socket_pair[1].receive() == []


def test_receive_buffer_that_is_not_writable(ram: GuestRam, socket_pair) -> None:
    t, d = card(ram, socket_pair[0])
    d.submit(0, [(ram.base + BUF, 2048, False)])
    t.device.enqueue([b"z" * 60])
    t.poll()
    assert needs_reset(t, "device-writable")


def test_receive_after_reset_works_again(ram: GuestRam, socket_pair) -> None:
    t, d = card(ram, socket_pair[0])
    d.submit(0, [(ram.end - 100, 2048, True)])
    t.device.enqueue([b"z" * 60])
    t.poll()
    assert needs_reset(t, "outside RAM")
    t, d = card(ram, socket_pair[0])
    head = d.submit(0, [(ram.base + BUF, 2048, True)])
    t.device.enqueue([b"z" * 60])
    t.poll()
    assert d.rings[0].used() == [(head, 72)]


descriptor = st.tuples(
    st.sampled_from([0x8000_0000, 0x8002_0000, 0x800F_FF00, 0x8010_0000, 0, (1 << 64) - 16]),
    st.sampled_from([0, 1, 11, 12, 60, 256, 1526, 0x10000, 0xFFFFFFFF]),
    st.integers(0, 7),
    st.integers(0, 20),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tables=st.lists(st.lists(descriptor, min_size=1, max_size=6), min_size=2, max_size=2),
    heads=st.lists(st.tuples(st.integers(0, 1), st.integers(0, 20)), max_size=8),
    frames=st.lists(st.binary(max_size=1600), max_size=4),
)
def test_random_rings_never_raise(socket_pair, tables, heads, frames) -> None:
    ram = GuestRam(1 << 20, base=0x8000_0000)
    t, d = card(ram, socket_pair[0])
    for ring, table in zip(d.rings, tables, strict=True):
        for index, (addr, length, flags, nxt) in enumerate(table):
            ring.put_desc(index, addr, length, flags & (NEXT | WRITE | 4), nxt)
    t.device.enqueue(frames)
    for queue, head in heads:
        d.rings[queue].make_available(head)
        t.write(mmio.QUEUE_NOTIFY, queue, 4)
        t.poll()
    assert len(t.device.backlog) <= len(frames)
    socket_pair[1].receive()
