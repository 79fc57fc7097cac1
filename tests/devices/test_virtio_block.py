"""virtio-blk over virtio-mmio (v2 and legacy v1): identity, features, config, and every request."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from device_helpers import Lines, VirtioDriver

from polyvm.core.errors import DeviceError
from polyvm.device.irq import IrqLine
from polyvm.device.virtio import VirtioBlock, VirtioBlockMmio, VirtioMmio, mmio
from polyvm.device.virtio.block import (
    F_BLK_SIZE,
    F_FLUSH,
    F_RO,
    F_SEG_MAX,
    S_IOERR,
    S_OK,
    S_UNSUPP,
    T_FLUSH,
    T_GET_ID,
    T_IN,
    T_OUT,
)
from polyvm.device.virtio.device import F_EVENT_IDX, F_INDIRECT_DESC, F_VERSION_1
from polyvm.mem.ram import GuestRam

SECTORS = 64
LINE = 8
HDR, BUF, STATUS = 0x10000, 0x11000, 0x1F000


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "disk.img"
    path.write_bytes(bytes(i % 251 for i in range(SECTORS * 512)))
    return path


class Rig:
    """A block device on a transport on guest RAM, with a driver and the interrupt line."""

    def __init__(self, ram: GuestRam, block: VirtioBlock, version: int = 2, **driver) -> None:
        self.ram = ram
        self.lines = Lines()
        self.block = block
        self.t = VirtioBlockMmio(block, ram, IrqLine(self.lines, LINE), version=version)
        self.d = VirtioDriver(self.t, ram, **driver)

    def request(self, kind: int, sector: int, length: int, payload: bytes = b"") -> tuple[int, int]:
        """Submit one request; returns (status byte, used length)."""
        base = self.ram.base
        self.ram.write(base + HDR, struct.pack("<IIQ", kind, 0, sector) + payload)
        self.ram.write(base + STATUS, b"\xff")
        buffers = [(base + HDR, 16 + len(payload), False)]
        if length:
            buffers.append((base + BUF, length, True))
        buffers.append((base + STATUS, 1, True))
        head = self.d.chain(buffers)
        self.d.submit(head)
        [(used_id, used_len)] = self.d.used()
        assert used_id == head
        return self.ram.read(base + STATUS, 1)[0], used_len

    def data(self, length: int) -> bytes:
        return self.ram.read(self.ram.base + BUF, length)


def test_identity_features_and_config(ram: GuestRam, image: Path) -> None:
    rig = Rig(ram, VirtioBlock(image))
    t = rig.t
    assert t.read(mmio.MAGIC_VALUE, 4) == 0x74726976
    assert (t.read(mmio.VERSION, 4), t.read(mmio.DEVICE_ID, 4)) == (2, 2)
    assert t.read(mmio.VENDOR, 4) == 0x554D4551
    offered = rig.d.read64(mmio.DEVICE_FEATURES, mmio.DEVICE_FEATURES_SEL)
    wanted = F_SEG_MAX | F_BLK_SIZE | F_FLUSH | F_VERSION_1 | F_EVENT_IDX | F_INDIRECT_DESC
    assert offered == wanted
    assert rig.d.status == 0x0F
    assert t.read(mmio.QUEUE_NUM_MAX, 4) == 256 and t.read(mmio.QUEUE_READY, 4) == 1
    assert t.read(0x100, 8) == SECTORS == rig.block.capacity()
    assert t.read(0x104, 4) == 0 and t.read(0x100, 1) == SECTORS
    assert t.read(0x10C, 4) == 254
    assert t.read(0x114, 4) == 512
    assert t.read(0x1F0, 4) == 0
    assert t.read(0xB0, 4) == 0xFFFFFFFF, "no shared-memory region 0"


def test_read_write_flush_round_trip(ram: GuestRam, image: Path) -> None:
    rig = Rig(ram, VirtioBlock(image))
    assert rig.request(T_IN, 2, 1024) == (S_OK, 1025)
    assert rig.data(1024) == image.read_bytes()[1024:2048]
    assert rig.lines.high(LINE)
    assert rig.d.ack() == mmio.INT_USED_BUFFER
    assert not rig.lines.high(LINE)
    payload = b"\xab" * 512
    assert rig.request(T_OUT, 5, 0, payload) == (S_OK, 1)
    assert rig.request(T_FLUSH, 0, 0) == (S_OK, 1)
    content = image.read_bytes()
    assert content[5 * 512 : 6 * 512] == payload
    assert content[: 5 * 512] == bytes(i % 251 for i in range(5 * 512))
    rig.block.close()
    rig.block.close()


def test_bounds_and_unaligned_lengths_are_io_errors(ram: GuestRam, image: Path) -> None:
    before = image.read_bytes()
    rig = Rig(ram, VirtioBlock(image))
    assert rig.request(T_IN, SECTORS - 1, 1024)[0] == S_IOERR
    assert rig.request(T_IN, 1 << 60, 512)[0] == S_IOERR
    assert rig.request(T_IN, 0, 100)[0] == S_IOERR
    assert rig.request(T_OUT, SECTORS, 0, b"x" * 512)[0] == S_IOERR
    assert rig.request(T_OUT, 0, 0, b"x" * 100)[0] == S_IOERR
    assert rig.request(T_IN, SECTORS - 1, 512) == (S_OK, 513)
    rig.block.close()
    assert image.read_bytes() == before


def test_readonly_device_refuses_writes(ram: GuestRam, image: Path) -> None:
    before = image.read_bytes()
    block = VirtioBlock(image, readonly=True)
    rig = Rig(ram, block)
    assert rig.d.read64(mmio.DEVICE_FEATURES, mmio.DEVICE_FEATURES_SEL) & F_RO
    assert rig.request(T_OUT, 0, 0, b"y" * 512) == (S_IOERR, 1)
    assert rig.request(T_FLUSH, 0, 0)[0] == S_OK
    block.set_readonly(False)
    assert not block.device_features() & F_RO
    block.set_readonly(True)
    block.close()
    assert image.read_bytes() == before


def test_get_id_and_unsupported_requests(ram: GuestRam, image: Path) -> None:
    rig = Rig(ram, VirtioBlock(image, serial="polyvm-disk0"))
    assert rig.request(T_GET_ID, 0, 20) == (S_OK, 21)
    assert rig.data(20) == b"polyvm-disk0".ljust(20, b"\0")
    assert rig.request(11, 0, 0) == (S_UNSUPP, 1)


def test_legacy_transport(ram: GuestRam, image: Path) -> None:
    rig = Rig(ram, VirtioBlock(image), version=1)
    assert rig.t.read(mmio.VERSION, 4) == 1
    assert not rig.d.features & F_VERSION_1
    assert rig.t.read(mmio.QUEUE_PFN, 4) == (ram.base + VirtioDriver.DESC) // 4096
    assert rig.request(T_IN, 1, 512) == (S_OK, 513)
    assert rig.data(512) == image.read_bytes()[512:1024]


def test_indirect_descriptors(ram: GuestRam, image: Path) -> None:
    rig = Rig(ram, VirtioBlock(image))
    base = ram.base
    table = 0x8000
    ram.write(base + HDR, struct.pack("<IIQ", T_IN, 0, 3))
    rig.d.put_desc(0, base + HDR, 16, 1, 1, table=table)
    rig.d.put_desc(1, base + BUF, 512, 3, 2, table=table)
    rig.d.put_desc(2, base + STATUS, 1, 2, 0, table=table)
    rig.d.put_desc(0, base + table, 48, 4)
    rig.d.submit(0)
    assert rig.d.used() == [(0, 513)]
    assert rig.data(512) == image.read_bytes()[1536:2048]
    assert rig.d.status & mmio.STATUS_NEEDS_RESET == 0


def test_event_idx_suppresses_and_requests_interrupts(ram: GuestRam, image: Path) -> None:
    rig = Rig(ram, VirtioBlock(image))
    used_event = ram.base + VirtioDriver.AVAIL + 4 + 2 * rig.d.size
    avail_event = ram.base + VirtioDriver.USED + 4 + 8 * rig.d.size
    ram.write_int(used_event, 5, 2)
    rig.request(T_IN, 0, 512)
    assert not rig.lines.high(LINE)
    assert ram.read_int(avail_event, 2) == 1
    ram.write_int(used_event, 1, 2)
    rig.request(T_IN, 0, 512)
    assert rig.lines.high(LINE)


def test_no_interrupt_flag_without_event_idx(ram: GuestRam, image: Path) -> None:
    rig = Rig(ram, VirtioBlock(image), features=F_VERSION_1)
    ram.write_int(ram.base + VirtioDriver.AVAIL, 1, 2)
    rig.request(T_IN, 0, 512)
    assert not rig.lines.high(LINE)
    ram.write_int(ram.base + VirtioDriver.AVAIL, 0, 2)
    rig.request(T_IN, 0, 512)
    assert rig.lines.high(LINE)


def test_feature_negotiation_refuses_unknown_bits_and_modern_without_v1(ram: GuestRam, image: Path) -> None:
    t = VirtioMmio(VirtioBlock(image), ram, IrqLine(Lines(), LINE))
    assert VirtioDriver(t, ram, features=F_VERSION_1 | (1 << 40)).status & 8 == 0
    assert VirtioDriver(t, ram, features=F_FLUSH).status & 8 == 0
    assert VirtioDriver(t, ram, features=F_FLUSH | F_VERSION_1).status & 8 == 8


def test_host_errors_name_the_image(tmp_path: Path, image: Path) -> None:
    missing = tmp_path / "missing.img"
    with pytest.raises(DeviceError, match="missing.img"):
        VirtioBlock(missing)
    with pytest.raises(DeviceError, match="is a directory"):
        VirtioBlock(tmp_path)
    empty = tmp_path / "empty.img"
    empty.write_bytes(b"")
    with pytest.raises(DeviceError, match="empty.img"):
        VirtioBlock(empty)
    first = VirtioBlock(image)
    with pytest.raises(DeviceError, match="locked"):
        VirtioBlock(image)
    with pytest.raises(DeviceError, match="locked"):
        VirtioBlock(image, readonly=True)
    first.close()
    VirtioBlock(image, readonly=True).close()
