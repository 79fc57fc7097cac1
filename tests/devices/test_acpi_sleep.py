"""The hardware-reduced ACPI sleep registers: only SLP_TYP_S5 written with SLP_EN to the control
register powers off; Linux's wake-status clear, other sleep types and writes without SLP_EN do not."""

from __future__ import annotations

import pytest

from polyvm.device.acpi_sleep import SLEEP_CONTROL, SLEEP_STATUS, SLP_EN, SLP_TYP_S5, AcpiSleepRegisters

pytestmark = pytest.mark.timeout(10)
WAK_STS = 0x80


def sleep_control(sleep_type: int, enable: bool = True) -> int:
    return sleep_type << 2 | (SLP_EN if enable else 0)


@pytest.fixture
def registers() -> tuple[AcpiSleepRegisters, list[bool]]:
    offs: list[bool] = []
    return AcpiSleepRegisters(lambda: offs.append(True)), offs


def test_entering_s5_powers_off(registers):
    device, offs = registers
    device.write(SLEEP_STATUS, WAK_STS, 1)  # what Linux writes first
    assert offs == []
    device.write(SLEEP_CONTROL, sleep_control(SLP_TYP_S5), 1)
    assert offs == [True]


@pytest.mark.parametrize("offset, value", [
    (SLEEP_CONTROL, sleep_control(SLP_TYP_S5, enable=False)),
    (SLEEP_CONTROL, sleep_control(3)),  # another sleep type: ignored, as QEMU ignores it
    (SLEEP_CONTROL, sleep_control(0)),
    (SLEEP_STATUS, sleep_control(SLP_TYP_S5)),
])
def test_other_writes_do_nothing(registers, offset, value):
    device, offs = registers
    device.write(offset, value, 1)
    assert offs == []


def test_registers_read_zero(registers):
    device, _ = registers
    device.write(SLEEP_STATUS, WAK_STS, 1)
    assert (device.read(SLEEP_CONTROL, 1), device.read(SLEEP_STATUS, 1), device.interrupt()) == (0, 0, None)
