"""The SiFive test (syscon) power device and the Goldfish RTC."""

from __future__ import annotations

from device_helpers import Clock, Lines

from polyvm.device.goldfish_rtc import (
    ALARM_HIGH,
    ALARM_LOW,
    ALARM_STATUS,
    CLEAR_ALARM,
    CLEAR_INTERRUPT,
    IRQ_ENABLED,
    TIME_HIGH,
    TIME_LOW,
    GoldfishRtc,
)
from polyvm.device.irq import IrqLine
from polyvm.device.syscon import Syscon


def test_syscon_commands() -> None:
    events: list[tuple[str, int]] = []
    syscon = Syscon(lambda event, code: events.append((event, code)))
    syscon.write(0, 0x5555, 4)
    syscon.write(0, (3 << 16) | 0x3333, 4)
    syscon.write(0, 0x7777, 4)
    syscon.write(0, 0x1234, 4)
    syscon.write(4, 0x5555, 4)
    assert events == [("poweroff", 0), ("poweroff", 3), ("reset", 0)]
    assert syscon.read(0, 4) == 0


def test_rtc_time_is_latched_and_settable() -> None:
    clock = Clock(0x1_2345_6789_ABCD)
    rtc = GoldfishRtc(IrqLine(Lines(), 11), clock)
    low = rtc.read(TIME_LOW, 4)
    clock.now += 1 << 40
    assert (rtc.read(TIME_HIGH, 4) << 32) | low == 0x1_2345_6789_ABCD
    rtc.write(TIME_HIGH, 7, 4)
    rtc.write(TIME_LOW, 9, 4)
    assert rtc.now() == (7 << 32) | 9


def test_rtc_alarm_fires_once_and_interrupt_needs_enable_and_clear() -> None:
    lines = Lines()
    clock = Clock(1000)
    rtc = GoldfishRtc(IrqLine(lines, 11), clock)
    rtc.write(ALARM_HIGH, 0, 4)
    rtc.write(ALARM_LOW, 2000, 4)
    assert rtc.read(ALARM_STATUS, 4) == 1
    clock.now = 2500
    rtc.poll()
    assert rtc.read(ALARM_STATUS, 4) == 0 and not lines.high(11)
    rtc.write(IRQ_ENABLED, 1, 4)
    assert lines.high(11) and rtc.interrupt() == 11
    rtc.write(CLEAR_INTERRUPT, 1, 4)
    assert not lines.high(11)
    rtc.write(ALARM_LOW, 9000, 4)
    rtc.write(CLEAR_ALARM, 1, 4)
    clock.now = 10_000
    rtc.poll()
    assert not lines.high(11)
