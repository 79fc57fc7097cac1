"""A minimal two-queue virtio-mmio driver for virtio-net tests (negotiates features, places the
receive and transmit rings in guest RAM, posts receive buffers and transmits frames), and a way to
open host sockets and tap devices inside a test-made network namespace."""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from polyvm.device.virtio import mmio
from polyvm.device.virtio.mmio import VirtioMmio
from polyvm.mem.ram import GuestRam

QUEUE_AREA = 0x4000
"""Each queue gets a 16 KiB area: descriptors, then the available ring, then the used ring."""
NEXT, WRITE = 1, 2
LIBC = ctypes.CDLL(None, use_errno=True)
T = TypeVar("T")


class Ring:
    """One split queue's driver side."""

    def __init__(self, ram: GuestRam, base: int, size: int) -> None:
        self.ram = ram
        self.size = size
        self.desc, self.avail, self.used_ring = base, base + 0x1000, base + 0x2000
        self.next_desc = 0
        self.avail_idx = 0
        self.used_seen = 0

    def put_desc(self, index: int, addr: int, length: int, flags: int, nxt: int = 0) -> None:
        raw = addr.to_bytes(8, "little") + length.to_bytes(4, "little")
        self.ram.write(self.desc + 16 * index, raw + flags.to_bytes(2, "little") + nxt.to_bytes(2, "little"))

    def chain(self, buffers: list[tuple[int, int, bool]]) -> int:
        """Descriptors for (guest address, length, device-writable) buffers; returns the head."""
        head = self.next_desc
        for i, (addr, length, writable) in enumerate(buffers):
            index = (head + i) % self.size
            flags = (WRITE if writable else 0) | (NEXT if i < len(buffers) - 1 else 0)
            self.put_desc(index, addr, length, flags, (index + 1) % self.size)
        self.next_desc = (head + len(buffers)) % self.size
        return head

    def make_available(self, head: int) -> None:
        self.ram.write_int(self.avail + 4 + 2 * (self.avail_idx % self.size), head, 2)
        self.avail_idx = (self.avail_idx + 1) & 0xFFFF
        self.ram.write_int(self.avail + 2, self.avail_idx, 2)

    def used(self) -> list[tuple[int, int]]:
        """Used elements (id, len) returned since the last call."""
        used_idx = self.ram.read_int(self.used_ring + 2, 2)
        out = []
        while self.used_seen != used_idx:
            slot = self.used_ring + 4 + 8 * (self.used_seen % self.size)
            out.append((self.ram.read_int(slot, 4), self.ram.read_int(slot + 4, 4)))
            self.used_seen = (self.used_seen + 1) & 0xFFFF
        return out


class NetDriver:
    """Brings a virtio-net transport to DRIVER_OK with ``features`` (default: all offered)."""

    def __init__(self, transport: VirtioMmio, ram: GuestRam, features: int | None = None,
                 size: int = 16) -> None:
        self.t = transport
        self.ram = ram
        self.t.write(mmio.STATUS, 0, 4)
        self.t.write(mmio.STATUS, mmio.STATUS_ACKNOWLEDGE | mmio.STATUS_DRIVER, 4)
        offered = 0
        for half in range(2):
            self.t.write(mmio.DEVICE_FEATURES_SEL, half, 4)
            offered |= self.t.read(mmio.DEVICE_FEATURES, 4) << (32 * half)
        self.offered = offered
        self.features = offered if features is None else features
        for half in range(2):
            self.t.write(mmio.DRIVER_FEATURES_SEL, half, 4)
            self.t.write(mmio.DRIVER_FEATURES, (self.features >> (32 * half)) & 0xFFFFFFFF, 4)
        self.t.write(mmio.STATUS, self.status | mmio.STATUS_FEATURES_OK, 4)
        self.rings = [Ring(ram, ram.base + QUEUE_AREA * index, size) for index in range(2)]
        for index, ring in enumerate(self.rings):
            self.t.write(mmio.QUEUE_SEL, index, 4)
            self.t.write(mmio.QUEUE_NUM, size, 4)
            for reg, addr in ((mmio.QUEUE_DESC_LOW, ring.desc), (mmio.QUEUE_DRIVER_LOW, ring.avail),
                              (mmio.QUEUE_DEVICE_LOW, ring.used_ring)):
                self.t.write(reg, addr & 0xFFFFFFFF, 4)
                self.t.write(reg + 4, addr >> 32, 4)
            self.t.write(mmio.QUEUE_READY, 1, 4)
        self.t.write(mmio.STATUS, self.status | mmio.STATUS_DRIVER_OK, 4)

    @property
    def status(self) -> int:
        return self.t.read(mmio.STATUS, 4)

    def submit(self, queue: int, buffers: list[tuple[int, int, bool]], notify: bool = True) -> int:
        ring = self.rings[queue]
        head = ring.chain(buffers)
        ring.make_available(head)
        if notify:
            self.t.write(mmio.QUEUE_NOTIFY, queue, 4)
        return head

    def transmit(self, addr: int, packet: bytes) -> int:
        """Place header+frame at guest address ``addr`` and send it as one readable buffer."""
        self.ram.write(addr, packet)
        return self.submit(1, [(addr, len(packet), False)])

    def ack(self) -> int:
        status = self.t.read(mmio.INTERRUPT_STATUS, 4)
        self.t.write(mmio.INTERRUPT_ACK, status, 4)
        return status


CLONE_NEWNET = 0x40000000


def in_netns(name: str, action: Callable[[], T]) -> T:
    """Run ``action`` on a thread that joined network namespace ``name`` (made by ``ip netns add``):
    sockets and tap devices it opens live in that namespace and keep working from any thread."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            with open(f"/var/run/netns/{name}") as handle:
                if LIBC.setns(handle.fileno(), CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns failed")
            result["value"] = action()
        except BaseException as error:  # re-raised on the caller's thread
            result["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def ping_each(session: Any, address: str, count: int) -> None:
    """``count`` single pings from a guest's busybox shell (a ConsoleSession), each answered within
    10 s. ``ping -c N`` is not used: once a reply came back, busybox waits only about two round
    trips (at least 1 s) for the last one, too short for guests slowed down by a busy host."""
    for seq in range(1, count + 1):
        output = session.run_command(f"ping -c 1 -W 10 {address}")
        assert b"1 packets received" in output, f"ping {seq} of {count} to {address}: {output!r}"
