"""The SiFive test device ("sifive,test1", a syscon) through which QEMU ``virt`` guests power off.

A 32-bit write to offset 0 of 0x5555 powers off with exit code 0, (code << 16) | 0x3333 powers
off with that exit code, and 0x7777 resets; Linux's syscon-poweroff/-reboot and OpenSBI use it.
Other values are ignored and reads return 0.
"""

from __future__ import annotations

from collections.abc import Callable

SIZE = 0x1000
PASS = 0x5555
FAIL = 0x3333
RESET = 0x7777


class Syscon:
    """Reports ``on_power("poweroff", exit_code)`` or ``on_power("reset", 0)``."""

    def __init__(self, on_power: Callable[[str, int], None]) -> None:
        self.on_power = on_power

    def read(self, offset: int, size: int) -> int:
        return 0

    def write(self, offset: int, val: int, size: int) -> None:
        if offset != 0 or size < 2:
            return
        command = val & 0xFFFF
        if command == PASS:
            self.on_power("poweroff", 0)
        elif command == FAIL:
            self.on_power("poweroff", (val >> 16) & 0xFFFF)
        elif command == RESET:
            self.on_power("reset", 0)

    def interrupt(self) -> int | None:
        return None
