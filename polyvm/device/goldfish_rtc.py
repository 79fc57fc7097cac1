"""The Goldfish real-time clock ("google,goldfish-rtc") of QEMU's ``virt`` board.

Time is nanoseconds since the Unix epoch from the host clock plus an offset the guest may set.
Reading TIME_LOW latches TIME_HIGH, so the two halves form one consistent value. Writing
ALARM_LOW arms an alarm at (ALARM_HIGH << 32) | ALARM_LOW; ``poll()`` fires it once the time has
passed, raising the interrupt when IRQ_ENABLED is set, until CLEAR_INTERRUPT.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from polyvm.device.irq import IrqLine

SIZE = 0x1000
TIME_LOW = 0x00
TIME_HIGH = 0x04
ALARM_LOW = 0x08
ALARM_HIGH = 0x0C
IRQ_ENABLED = 0x10
CLEAR_ALARM = 0x14
ALARM_STATUS = 0x18
CLEAR_INTERRUPT = 0x1C


class GoldfishRtc:
    """The RTC; ``clock()`` returns host nanoseconds since the epoch (default ``time.time_ns``)."""

    def __init__(self, irq: IrqLine, clock: Callable[[], int] = time.time_ns) -> None:
        self.irq = irq
        self.clock = clock
        self.offset = 0
        self.time_high = 0
        self.alarm_high = 0
        self.alarm: int | None = None
        self.irq_enabled = False
        self.irq_pending = False

    def now(self) -> int:
        return self.clock() + self.offset

    def read(self, offset: int, size: int) -> int:
        if offset == TIME_LOW:
            now = self.now()
            self.time_high = now >> 32
            return now & 0xFFFFFFFF
        if offset == TIME_HIGH:
            return self.time_high & 0xFFFFFFFF
        if offset == ALARM_LOW:
            return (self.alarm or 0) & 0xFFFFFFFF
        if offset == ALARM_HIGH:
            return ((self.alarm or 0) >> 32) & 0xFFFFFFFF
        if offset == IRQ_ENABLED:
            return int(self.irq_enabled)
        if offset == ALARM_STATUS:
            return int(self.alarm is not None)
        return 0

    def write(self, offset: int, val: int, size: int) -> None:
        val &= 0xFFFFFFFF
        if offset == TIME_HIGH:
            self.time_high = val
        elif offset == TIME_LOW:
            self.offset = ((self.time_high << 32) | val) - self.clock()
        elif offset == ALARM_HIGH:
            self.alarm_high = val
        elif offset == ALARM_LOW:
            self.alarm = (self.alarm_high << 32) | val
        elif offset == IRQ_ENABLED:
            self.irq_enabled = bool(val & 1)
        elif offset == CLEAR_ALARM:
            self.alarm = None
        elif offset == CLEAR_INTERRUPT:
            self.irq_pending = False
        self.poll()

    def poll(self) -> None:
        """Fire an armed alarm whose time has come and refresh the interrupt line."""
        if self.alarm is not None and self.now() >= self.alarm:
            self.alarm = None
            self.irq_pending = True
        self.irq.set(self.irq_pending and self.irq_enabled)

    def interrupt(self) -> int | None:
        return self.irq.line if self.irq.level else None
