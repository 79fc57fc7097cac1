"""An i8042 keyboard controller with no keyboard or mouse behind it: enough for Linux to probe it and to
reset the machine through it (``reboot=k``: command 0xFE on port 0x64 pulses the CPU reset line).

Registered at port 0x60 with five ports: offset 0 is the data port, offset 4 the status (read) and
command (write) port. Replies to controller commands queue in the output buffer and raise IRQ 1 when
the configuration byte enables it. A reset - command 0xFE, or an output-port write (0xD1) that clears
bit 0 - calls ``on_reset``, which stops the VM as Firecracker does.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable

from polyvm.device.irq import IrqLine

DATA, STATUS = 0, 4
STATUS_OUTPUT_FULL, STATUS_SYSTEM, STATUS_COMMAND = 0x01, 0x04, 0x08
CONFIG_KBD_INT, CONFIG_SYSTEM, CONFIG_KBD_DISABLED, CONFIG_AUX_DISABLED = 0x01, 0x04, 0x10, 0x20
CMD_READ_CONFIG, CMD_WRITE_CONFIG = 0x20, 0x60
CMD_AUX_DISABLE, CMD_AUX_ENABLE, CMD_AUX_TEST = 0xA7, 0xA8, 0xA9
CMD_SELF_TEST, CMD_KBD_TEST, CMD_KBD_DISABLE, CMD_KBD_ENABLE = 0xAA, 0xAB, 0xAD, 0xAE
CMD_READ_OUTPUT, CMD_WRITE_OUTPUT, CMD_WRITE_AUX = 0xD0, 0xD1, 0xD4
CMD_PULSE_RESET = 0xFE
SELF_TEST_OK, INTERFACE_OK, AUX_ABSENT = 0x55, 0x00, 0xFF
OUTPUT_PORT_RESET_HIGH = 0x01
KBD_ACK, KBD_RESET, KBD_RESET_OK = 0xFA, 0xFF, 0xAA


class I8042:
    """The controller; ``on_reset`` is called (on the vCPU thread) when the guest resets the machine."""

    def __init__(self, irq: IrqLine, on_reset: Callable[[], None]) -> None:
        self.irq = irq
        self.on_reset = on_reset
        self._lock = threading.Lock()
        self.config = CONFIG_SYSTEM | CONFIG_KBD_INT
        self.status = STATUS_SYSTEM
        self.output: collections.deque[int] = collections.deque()
        self._pending: int | None = None
        """A command waiting for its data byte (0x60, 0xD1, 0xD4)."""

    def read(self, offset: int, size: int) -> int:
        with self._lock:
            if offset == STATUS:
                return self.status | (STATUS_OUTPUT_FULL if self.output else 0)
            if offset == DATA:
                value = self.output.popleft() if self.output else 0
                self._update_irq()
                return value
            return 0xFF

    def write(self, offset: int, val: int, size: int) -> None:
        reset = False
        with self._lock:
            if offset == STATUS:
                self.status |= STATUS_COMMAND
                reset = self._command(val & 0xFF)
            elif offset == DATA:
                self.status &= ~STATUS_COMMAND
                reset = self._data(val & 0xFF)
            self._update_irq()
        if reset:
            self.on_reset()

    def _command(self, command: int) -> bool:
        if command == CMD_READ_CONFIG:
            self.output.append(self.config)
        elif command in (CMD_WRITE_CONFIG, CMD_WRITE_OUTPUT, CMD_WRITE_AUX):
            self._pending = command
        elif command == CMD_SELF_TEST:
            self.output.append(SELF_TEST_OK)
        elif command == CMD_KBD_TEST:
            self.output.append(INTERFACE_OK)
        elif command == CMD_AUX_TEST:
            self.output.append(AUX_ABSENT)
        elif command == CMD_KBD_DISABLE:
            self.config |= CONFIG_KBD_DISABLED
        elif command == CMD_KBD_ENABLE:
            self.config &= ~CONFIG_KBD_DISABLED
        elif command == CMD_AUX_DISABLE:
            self.config |= CONFIG_AUX_DISABLED
        elif command == CMD_AUX_ENABLE:
            self.config &= ~CONFIG_AUX_DISABLED
        elif command == CMD_READ_OUTPUT:
            self.output.append(OUTPUT_PORT_RESET_HIGH)
        elif command == CMD_PULSE_RESET:
            return True
        return False

    def _data(self, value: int) -> bool:
        pending, self._pending = self._pending, None
        if pending == CMD_WRITE_CONFIG:
            self.config = value
        elif pending == CMD_WRITE_OUTPUT:
            return not value & OUTPUT_PORT_RESET_HIGH
        elif pending is None:
            # a byte for the (absent) keyboard: acknowledge it, and answer a reset like a keyboard would
            self.output.append(KBD_ACK)
            if value == KBD_RESET:
                self.output.append(KBD_RESET_OK)
        return False

    def _update_irq(self) -> None:
        self.irq.set(bool(self.output) and bool(self.config & CONFIG_KBD_INT))
