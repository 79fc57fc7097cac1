"""Protocol implementations the device tests observe (hart pending bits, IRQ sink, clock) and a
minimal virtio-mmio driver that builds rings in guest RAM."""

from __future__ import annotations

from polyvm.device.virtio import mmio
from polyvm.device.virtio.mmio import VirtioMmio
from polyvm.mem.ram import GuestRam


class Hart:
    """The ``InterruptTarget`` side of a hart: hardware-owned mip bits set and cleared by number."""

    def __init__(self) -> None:
        self.mip = 0

    def set_interrupt_pending(self, bit: int, level: bool) -> None:
        self.mip = self.mip | (1 << bit) if level else self.mip & ~(1 << bit)

    def pending(self, bit: int) -> bool:
        return bool(self.mip >> bit & 1)


class Lines:
    """An ``IrqSink`` that remembers the level of each of its lines."""

    def __init__(self) -> None:
        self.levels: dict[int, bool] = {}

    def set_irq(self, line: int, level: bool) -> None:
        self.levels[line] = level

    def high(self, line: int) -> bool:
        return self.levels.get(line, False)


class Clock:
    """A settable time source."""

    def __init__(self, now: int = 0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


class VirtioDriver:
    """A minimal virtio-mmio driver: negotiates features, places one split queue in guest RAM, and
    submits descriptor chains the way a guest kernel would (or malformed ones, for the tests)."""

    DESC, AVAIL, USED = 0x1000, 0x3000, 0x4000

    def __init__(
        self, transport: VirtioMmio, ram: GuestRam, features: int | None = None, size: int = 16
    ) -> None:
        self.m = mmio
        self.t = transport
        self.ram = ram
        self.base = ram.base
        self.size = size
        self.next_desc = 0
        self.avail_idx = 0
        self.used_seen = 0
        self.t.write(mmio.STATUS, 0, 4)
        self.t.write(mmio.STATUS, mmio.STATUS_ACKNOWLEDGE | mmio.STATUS_DRIVER, 4)
        offered = self.read64(mmio.DEVICE_FEATURES, mmio.DEVICE_FEATURES_SEL)
        self.features = offered if features is None else features
        for half in range(2):
            self.t.write(mmio.DRIVER_FEATURES_SEL, half, 4)
            self.t.write(mmio.DRIVER_FEATURES, (self.features >> (32 * half)) & 0xFFFFFFFF, 4)
        self.t.write(mmio.STATUS, self.status | mmio.STATUS_FEATURES_OK, 4)
        self.t.write(mmio.QUEUE_SEL, 0, 4)
        self.t.write(mmio.QUEUE_NUM, size, 4)
        if self.t.version == 1:
            self.t.write(mmio.GUEST_PAGE_SIZE, 4096, 4)
            self.t.write(mmio.QUEUE_ALIGN, 4096, 4)
            self.t.write(mmio.QUEUE_PFN, (self.base + self.DESC) // 4096, 4)
            self.AVAIL = self.DESC + 16 * size
            self.USED = (self.AVAIL + 6 + 2 * size + 4095) & ~4095
        else:
            for reg, addr in (
                (mmio.QUEUE_DESC_LOW, self.DESC),
                (mmio.QUEUE_DRIVER_LOW, self.AVAIL),
                (mmio.QUEUE_DEVICE_LOW, self.USED),
            ):
                self.t.write(reg, (self.base + addr) & 0xFFFFFFFF, 4)
                self.t.write(reg + 4, (self.base + addr) >> 32, 4)
            self.t.write(mmio.QUEUE_READY, 1, 4)
        self.t.write(mmio.STATUS, self.status | mmio.STATUS_DRIVER_OK, 4)

    @property
    def status(self) -> int:
        return self.t.read(self.m.STATUS, 4)

    def read64(self, reg: int, sel: int) -> int:
        value = 0
        for half in range(2):
            self.t.write(sel, half, 4)
            value |= self.t.read(reg, 4) << (32 * half)
        return value

    def put_desc(
        self, index: int, addr: int, length: int, flags: int, nxt: int = 0, table: int | None = None
    ) -> None:
        where = self.base + (self.DESC if table is None else table) + 16 * index
        self.ram.write(
            where,
            addr.to_bytes(8, "little")
            + length.to_bytes(4, "little")
            + flags.to_bytes(2, "little")
            + nxt.to_bytes(2, "little"),
        )

    def chain(self, buffers: list[tuple[int, int, bool]]) -> int:
        """Descriptors for (guest address, length, device-writable) buffers; returns the head."""
        head = self.next_desc
        for i, (addr, length, writable) in enumerate(buffers):
            index = (head + i) % self.size
            last = i == len(buffers) - 1
            flags = (2 if writable else 0) | (0 if last else 1)
            self.put_desc(index, addr, length, flags, (index + 1) % self.size)
        self.next_desc = (head + len(buffers)) % self.size
        return head

    def submit(self, head: int, notify: bool = True) -> None:
        slot = self.base + self.AVAIL + 4 + 2 * (self.avail_idx % self.size)
        self.ram.write_int(slot, head, 2)
        self.avail_idx = (self.avail_idx + 1) & 0xFFFF
        self.ram.write_int(self.base + self.AVAIL + 2, self.avail_idx, 2)
        if notify:
            self.t.write(self.m.QUEUE_NOTIFY, 0, 4)

    def used(self) -> list[tuple[int, int]]:
        """Used elements (id, len) returned since the last call."""
        used_idx = self.ram.read_int(self.base + self.USED + 2, 2)
        out = []
        while self.used_seen != used_idx:
            slot = self.base + self.USED + 4 + 8 * (self.used_seen % self.size)
            out.append((self.ram.read_int(slot, 4), self.ram.read_int(slot + 4, 4)))
            self.used_seen = (self.used_seen + 1) & 0xFFFF
        return out

    def ack(self) -> int:
        status = self.t.read(self.m.INTERRUPT_STATUS, 4)
        self.t.write(self.m.INTERRUPT_ACK, status, 4)
        return status
