"""The split virtqueue (virtio 1.x section 2.7, and the legacy layout): descriptor table, available
ring, used ring, descriptor chains with NEXT, WRITE and INDIRECT, and VIRTIO_F_EVENT_IDX.

Everything read from guest memory is checked: a ring or buffer outside RAM, a descriptor index past
the queue size, a chain longer than the queue (a loop), nested or misaligned indirect tables, a
readable descriptor after a writable one, or an avail index that runs more than a queue ahead raise
``MalformedRing``; the transport then marks the device DEVICE_NEEDS_RESET instead of failing.
"""

from __future__ import annotations

import dataclasses

from polyvm.mem.ram import GuestRam

DESC_SIZE = 16
DESC_F_NEXT = 1
DESC_F_WRITE = 2
DESC_F_INDIRECT = 4
AVAIL_F_NO_INTERRUPT = 1
USED_F_NO_NOTIFY = 1
USED_ELEM_SIZE = 8


class MalformedRing(Exception):
    """The guest driver put something into a virtqueue that the device cannot follow."""


@dataclasses.dataclass
class DescriptorChain:
    """One request: the head index and its device-readable then device-writable buffers."""

    head: int
    readable: list[tuple[int, int]] = dataclasses.field(default_factory=list)
    writable: list[tuple[int, int]] = dataclasses.field(default_factory=list)

    @property
    def readable_len(self) -> int:
        return sum(length for _, length in self.readable)

    @property
    def writable_len(self) -> int:
        return sum(length for _, length in self.writable)

    def read(self, ram: GuestRam) -> bytes:
        """All device-readable bytes, concatenated."""
        return b"".join(ram.read(addr, length) for addr, length in self.readable)

    def write(self, ram: GuestRam, offset: int, data: bytes) -> None:
        """Scatter ``data`` into the device-writable buffers starting ``offset`` bytes in."""
        if offset + len(data) > self.writable_len:
            raise MalformedRing("response larger than the writable buffers")
        view = memoryview(data)
        for addr, length in self.writable:
            if not view:
                return
            if offset >= length:
                offset -= length
                continue
            count = min(length - offset, len(view))
            ram.write(addr + offset, view[:count])
            view = view[count:]
            offset = 0


class SplitQueue:
    """One virtqueue; the transport sets ``size``, the three ring addresses and ``ready``."""

    def __init__(self, ram: GuestRam, max_size: int) -> None:
        self.ram = ram
        self.max_size = max_size
        self.event_idx = False
        self.indirect = False
        self.reset()

    def reset(self) -> None:
        self.size = self.max_size
        self.ready = False
        self.desc_addr = 0
        self.driver_addr = 0
        self.device_addr = 0
        self.last_avail = 0
        self.used_idx = 0
        self._signalled_used = 0

    def validate(self) -> None:
        """Check the size and ring placement before the queue is used."""
        size = self.size
        if not 0 < size <= self.max_size or size & (size - 1):
            raise MalformedRing(f"queue size {size} is not a power of two in 1..{self.max_size}")
        rings = (
            ("descriptor table", self.desc_addr, DESC_SIZE * size, 16),
            ("available ring", self.driver_addr, 6 + 2 * size, 2),
            ("used ring", self.device_addr, 6 + USED_ELEM_SIZE * size, 4),
        )
        for name, addr, length, align in rings:
            if addr % align or not self.ram.contains(addr, length):
                raise MalformedRing(f"{name} at 0x{addr:x} ({length} bytes) is not aligned RAM")

    def _u16(self, addr: int) -> int:
        return self.ram.read_int(addr, 2)

    def avail_idx(self) -> int:
        return self._u16(self.driver_addr + 2)

    def has_work(self) -> bool:
        return self.avail_idx() != self.last_avail

    def pop(self) -> DescriptorChain | None:
        """The next available chain, or None when the driver has made nothing more available."""
        avail = self.avail_idx()
        if avail == self.last_avail:
            self._publish_avail_event()
            return None
        if (avail - self.last_avail) & 0xFFFF > self.size:
            raise MalformedRing(f"avail idx {avail} is more than a queue ahead of {self.last_avail}")
        slot = self.driver_addr + 4 + 2 * (self.last_avail % self.size)
        head = self._u16(slot)
        self.last_avail = (self.last_avail + 1) & 0xFFFF
        self._publish_avail_event()
        return self._walk(head)

    def _publish_avail_event(self) -> None:
        if self.event_idx:
            self.ram.write_int(self.device_addr + 4 + USED_ELEM_SIZE * self.size, self.last_avail, 2)

    def _descriptor(self, table: int, count: int, index: int) -> tuple[int, int, int, int]:
        if index >= count:
            raise MalformedRing(f"descriptor index {index} outside a table of {count}")
        raw = self.ram.read(table + DESC_SIZE * index, DESC_SIZE)
        return (
            int.from_bytes(raw[0:8], "little"),
            int.from_bytes(raw[8:12], "little"),
            int.from_bytes(raw[12:14], "little"),
            int.from_bytes(raw[14:16], "little"),
        )

    def _walk(self, head: int) -> DescriptorChain:
        chain = DescriptorChain(head)
        table, count, index = self.desc_addr, self.size, head
        budget, indirect_seen = self.size, False
        while True:
            budget -= 1
            if budget < 0:
                raise MalformedRing(f"descriptor chain from {head} is longer than its table (loop?)")
            addr, length, flags, nxt = self._descriptor(table, count, index)
            if flags & DESC_F_INDIRECT:
                if not self.indirect or indirect_seen:
                    raise MalformedRing("indirect descriptor not allowed here")
                if flags & DESC_F_NEXT or length == 0 or length % DESC_SIZE:
                    raise MalformedRing(f"indirect table of {length} bytes with flags 0x{flags:x}")
                if not self.ram.contains(addr, length):
                    raise MalformedRing(f"indirect table at 0x{addr:x} is outside RAM")
                table, count, index = addr, length // DESC_SIZE, 0
                budget, indirect_seen = count, True
                continue
            if not self.ram.contains(addr, length):
                raise MalformedRing(f"buffer 0x{addr:x}+{length} is outside RAM")
            if flags & DESC_F_WRITE:
                chain.writable.append((addr, length))
            elif chain.writable:
                raise MalformedRing("device-readable descriptor after a writable one")
            else:
                chain.readable.append((addr, length))
            if not flags & DESC_F_NEXT:
                return chain
            index = nxt

    def push(self, head: int, written: int) -> None:
        """Return chain ``head`` to the driver with ``written`` bytes of response."""
        slot = self.device_addr + 4 + USED_ELEM_SIZE * (self.used_idx % self.size)
        self.ram.write_int(slot, head, 4)
        self.ram.write_int(slot + 4, written, 4)
        self.used_idx = (self.used_idx + 1) & 0xFFFF
        self.ram.write_int(self.device_addr + 2, self.used_idx, 2)

    def should_notify(self) -> bool:
        """Whether the used buffers pushed since the last call deserve an interrupt."""
        old, new = self._signalled_used, self.used_idx
        self._signalled_used = new
        if old == new:
            return False
        if self.event_idx:
            used_event = self._u16(self.driver_addr + 4 + 2 * self.size)
            return (new - used_event - 1) & 0xFFFF < (new - old) & 0xFFFF
        return not self._u16(self.driver_addr) & AVAIL_F_NO_INTERRUPT
