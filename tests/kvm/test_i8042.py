"""The i8042 model: what Linux's probe reads back, and the two ways a guest resets the machine."""

import pytest

from polyvm.device.irq import IrqLine
from polyvm.engine.kvm.i8042 import DATA, I8042, STATUS

pytestmark = pytest.mark.timeout(10)


class Lines:
    def __init__(self) -> None:
        self.levels: dict[int, bool] = {}

    def set_irq(self, line: int, level: bool) -> None:
        self.levels[line] = level


@pytest.fixture
def controller():
    resets: list[bool] = []
    lines = Lines()
    device = I8042(IrqLine(lines, 1), lambda: resets.append(True))
    return device, resets, lines


def test_probe_sequence(controller):
    device, resets, lines = controller
    assert device.read(STATUS, 1) & 0x01 == 0  # output buffer empty
    device.write(STATUS, 0xAA, 1)  # controller self test
    assert device.read(STATUS, 1) & 0x01 and lines.levels[1]
    assert device.read(DATA, 1) == 0x55 and not lines.levels[1]
    device.write(STATUS, 0x20, 1)
    config = device.read(DATA, 1)
    device.write(STATUS, 0x60, 1)
    device.write(DATA, config & ~0x01, 1)  # keyboard interrupt off
    device.write(STATUS, 0x20, 1)
    assert device.read(DATA, 1) == config & ~0x01
    device.write(STATUS, 0xA9, 1)
    assert device.read(DATA, 1) == 0xFF  # no aux port
    assert resets == []


def test_pulse_reset_command(controller):
    device, resets, _ = controller
    device.write(STATUS, 0xFE, 1)
    assert resets == [True]


def test_output_port_write_clearing_reset_line(controller):
    device, resets, _ = controller
    device.write(STATUS, 0xD1, 1)
    device.write(DATA, 0x01, 1)
    assert resets == []
    device.write(STATUS, 0xD1, 1)
    device.write(DATA, 0x00, 1)
    assert resets == [True]


def test_keyboard_bytes_are_acknowledged(controller):
    device, _, _ = controller
    device.write(DATA, 0xFF, 1)
    assert [device.read(DATA, 1), device.read(DATA, 1)] == [0xFA, 0xAA]
