"""Malformed guest rings never raise on the host and never touch the image outside its bytes: the
transport sets DEVICE_NEEDS_RESET, raises a configuration-change interrupt, and recovers on reset."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from device_helpers import Lines, VirtioDriver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polyvm.device.irq import IrqLine
from polyvm.device.virtio import VirtioBlock, VirtioMmio, mmio
from polyvm.device.virtio.block import T_IN, T_OUT
from polyvm.device.virtio.device import F_VERSION_1
from polyvm.mem.ram import GuestRam

LINE = 3
HDR, BUF, STATUS = 0x10000, 0x11000, 0x1F000
NEXT, WRITE, INDIRECT = 1, 2, 4


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "disk.img"
    path.write_bytes(b"\x5a" * 8192)
    return path


def rig(ram: GuestRam, image: Path, **driver) -> tuple[VirtioMmio, VirtioDriver, Lines]:
    lines = Lines()
    transport = VirtioMmio(VirtioBlock(image), ram, IrqLine(lines, LINE))
    return transport, VirtioDriver(transport, ram, **driver), lines


def assert_needs_reset(transport: VirtioMmio, lines: Lines, reason: str) -> None:
    assert transport.read(mmio.STATUS, 4) & mmio.STATUS_NEEDS_RESET
    assert transport.read(mmio.INTERRUPT_STATUS, 4) & mmio.INT_CONFIG_CHANGE
    assert lines.high(LINE)
    assert transport.error is not None and reason in transport.error


def header(ram: GuestRam, kind: int, sector: int = 0) -> None:
    ram.write(ram.base + HDR, struct.pack("<IIQ", kind, 0, sector))


def test_descriptor_loop(ram: GuestRam, image: Path) -> None:
    t, d, lines = rig(ram, image)
    header(ram, T_IN)
    d.put_desc(0, ram.base + HDR, 16, NEXT, 1)
    d.put_desc(1, ram.base + BUF, 512, NEXT, 0)
    d.submit(0)
    assert_needs_reset(t, lines, "loop")
    assert d.used() == []


def test_buffer_outside_ram(ram: GuestRam, image: Path) -> None:
    t, d, lines = rig(ram, image)
    header(ram, T_IN)
    d.submit(d.chain([(ram.base + HDR, 16, False), (ram.end - 256, 512, True)]))
    assert_needs_reset(t, lines, "outside RAM")


def test_head_index_past_queue_size(ram: GuestRam, image: Path) -> None:
    t, d, lines = rig(ram, image)
    d.submit(40)
    assert_needs_reset(t, lines, "descriptor index 40")


def test_next_index_past_queue_size(ram: GuestRam, image: Path) -> None:
    t, d, lines = rig(ram, image)
    header(ram, T_IN)
    d.put_desc(0, ram.base + HDR, 16, NEXT, 999)
    d.submit(0)
    assert_needs_reset(t, lines, "descriptor index 999")


def test_avail_index_running_ahead(ram: GuestRam, image: Path) -> None:
    t, d, lines = rig(ram, image)
    ram.write_int(ram.base + d.AVAIL + 2, 100, 2)
    t.write(mmio.QUEUE_NOTIFY, 0, 4)
    assert_needs_reset(t, lines, "ahead")


@pytest.mark.parametrize("size", [12, 512, 0])
def test_bad_queue_sizes(ram: GuestRam, image: Path, size: int) -> None:
    t, _, lines = rig(ram, image, size=size)
    assert_needs_reset(t, lines, "queue size")
    assert t.read(mmio.QUEUE_READY, 4) == 0


def test_ring_outside_ram(ram: GuestRam, image: Path) -> None:
    t, _, lines = rig(ram, image)
    t.write(mmio.STATUS, 0, 4)
    t.write(mmio.QUEUE_DESC_LOW, 0x1000, 4)
    t.write(mmio.QUEUE_READY, 1, 4)
    assert_needs_reset(t, lines, "descriptor table")


@pytest.mark.parametrize(
    ("table_flags", "inner_flags", "features", "reason"),
    [
        (INDIRECT | NEXT, WRITE, None, "indirect table"),
        (INDIRECT, INDIRECT, None, "not allowed"),
        (INDIRECT, WRITE, F_VERSION_1, "not allowed"),
    ],
)
def test_bad_indirect_tables(
    ram: GuestRam, image: Path, table_flags: int, inner_flags: int, features, reason: str
) -> None:
    t, d, lines = rig(ram, image, features=features)
    d.put_desc(0, ram.base + BUF, 16, inner_flags, table=0x8000)
    d.put_desc(0, ram.base + 0x8000, 16, table_flags, 1)
    d.submit(0)
    assert_needs_reset(t, lines, reason)


def test_readable_after_writable_and_missing_status_byte(ram: GuestRam, image: Path) -> None:
    t, d, lines = rig(ram, image)
    header(ram, T_IN)
    d.submit(d.chain([(ram.base + BUF, 512, True), (ram.base + HDR, 16, False)]))
    assert_needs_reset(t, lines, "readable descriptor after")
    t.device.close()
    t, d, lines = rig(ram, image)
    d.submit(d.chain([(ram.base + HDR, 16, False)]))
    assert_needs_reset(t, lines, "status byte")


def test_needs_reset_ignores_notifies_until_driver_resets(ram: GuestRam, image: Path) -> None:
    t, d, _ = rig(ram, image)
    d.submit(40)
    header(ram, T_IN)
    d.submit(d.chain([(ram.base + HDR, 16, False), (ram.base + STATUS, 1, True)]))
    assert d.used() == []
    d = VirtioDriver(t, ram)
    assert t.read(mmio.STATUS, 4) == 0x0F and t.error is None
    d.submit(d.chain([(ram.base + HDR, 16, False), (ram.base + STATUS, 1, True)]))
    assert d.used() == [(0, 1)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    table=st.binary(min_size=16 * 16, max_size=16 * 16),
    heads=st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=20),
    avail_idx=st.integers(0, 0xFFFF),
    kind=st.sampled_from([T_IN, T_OUT, 4, 8, 77]),
    sector=st.integers(0, (1 << 64) - 1),
)
def test_random_rings_never_raise(
    image: Path, table: bytes, heads: list[int], avail_idx: int, kind: int, sector: int
) -> None:
    ram = GuestRam(1 << 20, base=0)
    t, d, _ = rig(ram, image)
    header(ram, kind, sector)
    ram.write(d.DESC, table)
    for i, head in enumerate(heads):
        ram.write_int(d.AVAIL + 4 + 2 * i, head, 2)
    ram.write_int(d.AVAIL + 2, avail_idx, 2)
    t.write(mmio.QUEUE_NOTIFY, 0, 4)
    assert t.read(mmio.STATUS, 4) & ~mmio.STATUS_NEEDS_RESET == 0x0F
    assert image.stat().st_size == 8192
    t.device.close()
