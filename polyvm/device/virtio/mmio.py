"""The virtio-mmio transport (virtio 1.x section 4.2), version 2 or legacy version 1 per device.

Registers are 32-bit; the device configuration space at 0x100 may be read and written at any width.
Anything malformed the driver does to a queue (bad size, rings or buffers outside RAM, descriptor
loops...) sets DEVICE_NEEDS_RESET and raises a configuration-change interrupt; the reason is kept
in ``error``. The interrupt line is high while InterruptStatus is non-zero.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from polyvm.core.errors import ConfigError
from polyvm.device.irq import IrqLine
from polyvm.device.virtio.device import (
    F_EVENT_IDX,
    F_INDIRECT_DESC,
    F_VERSION_1,
    TRANSPORT_FEATURES,
    VirtioDevice,
)
from polyvm.device.virtio.queue import MalformedRing, SplitQueue
from polyvm.mem.ram import GuestRam

SIZE = 0x200
MAGIC = 0x74726976
VENDOR_ID = 0x554D4551
CONFIG_OFFSET = 0x100

MAGIC_VALUE = 0x000
VERSION = 0x004
DEVICE_ID = 0x008
VENDOR = 0x00C
DEVICE_FEATURES = 0x010
DEVICE_FEATURES_SEL = 0x014
DRIVER_FEATURES = 0x020
DRIVER_FEATURES_SEL = 0x024
GUEST_PAGE_SIZE = 0x028
QUEUE_SEL = 0x030
QUEUE_NUM_MAX = 0x034
QUEUE_NUM = 0x038
QUEUE_ALIGN = 0x03C
QUEUE_PFN = 0x040
QUEUE_READY = 0x044
QUEUE_NOTIFY = 0x050
INTERRUPT_STATUS = 0x060
INTERRUPT_ACK = 0x064
STATUS = 0x070
QUEUE_DESC_LOW = 0x080
QUEUE_DESC_HIGH = 0x084
QUEUE_DRIVER_LOW = 0x090
QUEUE_DRIVER_HIGH = 0x094
QUEUE_DEVICE_LOW = 0x0A0
QUEUE_DEVICE_HIGH = 0x0A4
SHM_LEN_LOW = 0x0B0
SHM_BASE_HIGH = 0x0BC
CONFIG_GENERATION = 0x0FC

QUEUE_ADDRESS_REGISTERS = {
    QUEUE_DESC_LOW: ("desc_addr", 0),
    QUEUE_DESC_HIGH: ("desc_addr", 32),
    QUEUE_DRIVER_LOW: ("driver_addr", 0),
    QUEUE_DRIVER_HIGH: ("driver_addr", 32),
    QUEUE_DEVICE_LOW: ("device_addr", 0),
    QUEUE_DEVICE_HIGH: ("device_addr", 32),
}
"""Version-2 ring address registers: the SplitQueue attribute and the half they set."""

STATUS_ACKNOWLEDGE = 1
STATUS_DRIVER = 2
STATUS_DRIVER_OK = 4
STATUS_FEATURES_OK = 8
STATUS_NEEDS_RESET = 0x40
STATUS_FAILED = 0x80
INT_USED_BUFFER = 1
INT_CONFIG_CHANGE = 2


class VirtioMmio:
    """A virtio-mmio window serving ``device``, doing DMA into ``ram``, interrupting on ``irq``."""

    def __init__(self, device: VirtioDevice, ram: GuestRam, irq: IrqLine, version: int = 2) -> None:
        if version not in (1, 2):
            raise ConfigError(f"virtio-mmio version must be 1 (legacy) or 2, got {version}")
        self.device = device
        self.ram = ram
        self.irq = irq
        self.version = version
        self.queues = [SplitQueue(ram, size) for size in device.queue_sizes]
        self.config_generation = 0
        self._lock = threading.RLock()
        self.reset()

    @property
    def legacy(self) -> bool:
        return self.version == 1

    def offered_features(self) -> int:
        features = self.device.device_features() | TRANSPORT_FEATURES
        return features & ~F_VERSION_1 if self.legacy else features

    def reset(self) -> None:
        with self._lock:
            self.status = 0
            self.device_features_sel = 0
            self.driver_features = 0
            self.driver_features_sel = 0
            self.queue_sel = 0
            self.guest_page_size = 4096
            self.interrupt_status = 0
            self.error: str | None = None
            self._legacy_pfn = [0] * len(self.queues)
            self._legacy_align = [4096] * len(self.queues)
            for queue in self.queues:
                queue.reset()
            self.device.reset()
            self.irq.set(False)

    def config_changed(self) -> None:
        """A device back end changed its configuration space (capacity, read-only...)."""
        with self._lock:
            self.config_generation = (self.config_generation + 1) & 0xFFFFFFFF
            self._interrupt(INT_CONFIG_CHANGE)

    def interrupt(self) -> int | None:
        return self.irq.line if self.irq.level else None

    def _queue(self) -> SplitQueue | None:
        return self.queues[self.queue_sel] if self.queue_sel < len(self.queues) else None

    def read(self, offset: int, size: int) -> int:
        with self._lock:
            if offset >= CONFIG_OFFSET:
                config = self.device.config_space()
                start = offset - CONFIG_OFFSET
                return int.from_bytes(config[start : start + size].ljust(size, b"\0"), "little")
            if size != 4 or offset % 4:
                return 0
            return self._read_register(offset)

    def _read_register(self, offset: int) -> int:
        queue = self._queue()
        if offset == MAGIC_VALUE:
            return MAGIC
        if offset == VERSION:
            return self.version
        if offset == DEVICE_ID:
            return self.device.device_id
        if offset == VENDOR:
            return VENDOR_ID
        if offset == DEVICE_FEATURES:
            return (self.offered_features() >> (32 * self.device_features_sel)) & 0xFFFFFFFF
        if offset == QUEUE_NUM_MAX:
            return queue.max_size if queue else 0
        if offset == QUEUE_READY and not self.legacy:
            return int(bool(queue and queue.ready))
        if offset == QUEUE_PFN and self.legacy:
            return self._legacy_pfn[self.queue_sel] if queue else 0
        if offset == INTERRUPT_STATUS:
            return self.interrupt_status
        if offset == STATUS:
            return self.status
        if offset == CONFIG_GENERATION and not self.legacy:
            return self.config_generation
        if SHM_LEN_LOW <= offset <= SHM_BASE_HIGH and not self.legacy:
            return 0xFFFFFFFF  # no shared-memory regions: every length and base reads as -1
        return 0

    def write(self, offset: int, val: int, size: int) -> None:
        with self._lock:
            if offset >= CONFIG_OFFSET:
                data = (val & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
                self.device.write_config(offset - CONFIG_OFFSET, data)
            elif size == 4 and offset % 4 == 0:
                self._write_register(offset, val & 0xFFFFFFFF)

    def _write_register(self, offset: int, val: int) -> None:
        queue = self._queue()
        if offset == DEVICE_FEATURES_SEL:
            self.device_features_sel = val
        elif offset == DRIVER_FEATURES_SEL:
            self.driver_features_sel = val
        elif offset == DRIVER_FEATURES:
            if self.driver_features_sel < 2 and not self.status & STATUS_FEATURES_OK:
                shift = 32 * self.driver_features_sel
                kept = self.driver_features & ~(0xFFFFFFFF << shift)
                self.driver_features = kept | (val << shift)
        elif offset == QUEUE_SEL:
            self.queue_sel = val
        elif offset == QUEUE_NOTIFY:
            self._notify(val)
        elif offset == INTERRUPT_ACK:
            self.interrupt_status &= ~val
            self.irq.set(self.interrupt_status != 0)
        elif offset == STATUS:
            self._write_status(val & 0xFF)
        elif offset == GUEST_PAGE_SIZE and self.legacy:
            self.guest_page_size = val
        elif queue is not None:
            self._write_queue_register(queue, offset, val)

    def _write_queue_register(self, queue: SplitQueue, offset: int, val: int) -> None:
        if offset == QUEUE_NUM:
            if not queue.ready:
                queue.size = val
        elif self.legacy:
            if offset == QUEUE_ALIGN:
                self._legacy_align[self.queue_sel] = val
            elif offset == QUEUE_PFN:
                self._set_legacy_pfn(queue, val)
        elif offset == QUEUE_READY:
            if val & 1:
                self._guarded(self._enable_queue, queue)
            else:
                queue.ready = False
        elif offset in QUEUE_ADDRESS_REGISTERS and not queue.ready:
            name, shift = QUEUE_ADDRESS_REGISTERS[offset]
            old = getattr(queue, name)
            setattr(queue, name, (old & ~(0xFFFFFFFF << shift)) | (val << shift))

    def _set_legacy_pfn(self, queue: SplitQueue, pfn: int) -> None:
        self._legacy_pfn[self.queue_sel] = pfn
        if pfn == 0:
            queue.reset()
            return
        align = self._legacy_align[self.queue_sel]
        if align == 0 or align & (align - 1):
            self._needs_reset(f"legacy queue alignment {align} is not a power of two")
            return
        queue.desc_addr = pfn * self.guest_page_size
        queue.driver_addr = queue.desc_addr + 16 * queue.size
        avail_end = queue.driver_addr + 6 + 2 * queue.size
        queue.device_addr = (avail_end + align - 1) & ~(align - 1)
        self._guarded(self._enable_queue, queue)

    def _enable_queue(self, queue: SplitQueue) -> None:
        queue.validate()
        queue.event_idx = bool(self.driver_features & F_EVENT_IDX)
        queue.indirect = bool(self.driver_features & F_INDIRECT_DESC)
        queue.ready = True

    def _write_status(self, val: int) -> None:
        if val == 0:
            self.reset()
            return
        if val & STATUS_FEATURES_OK and not self.status & STATUS_FEATURES_OK:
            unknown = self.driver_features & ~self.offered_features()
            modern_without_v1 = not self.legacy and not self.driver_features & F_VERSION_1
            if unknown or modern_without_v1:
                val &= ~STATUS_FEATURES_OK
        self.status = (self.status & STATUS_NEEDS_RESET) | val

    def _notify(self, index: int) -> None:
        if index >= len(self.queues) or not self.status & STATUS_DRIVER_OK:
            return
        if self.status & STATUS_NEEDS_RESET:
            return
        queue = self.queues[index]
        if queue.ready:
            self._guarded(self._process, index)

    def _process(self, index: int) -> None:
        queue = self.queues[index]
        queue.validate()
        self.device.process(index, queue)
        if queue.should_notify():
            self._interrupt(INT_USED_BUFFER)

    def _guarded(self, action: Callable[[Any], None], argument: object) -> None:
        """Run a queue action; a malformed ring puts the device into DEVICE_NEEDS_RESET."""
        try:
            action(argument)
        except MalformedRing as error:
            self._needs_reset(str(error))

    def _needs_reset(self, reason: str) -> None:
        self.error = reason
        for queue in self.queues:
            queue.ready = False
        self.status |= STATUS_NEEDS_RESET
        self.config_changed()

    def _interrupt(self, bit: int) -> None:
        self.interrupt_status |= bit
        self.irq.set(True)
