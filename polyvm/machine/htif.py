"""HTIF, the Berkeley host-target interface of Spike: ``tohost``/``fromhost`` words in guest RAM.

The guest writes a command to ``tohost``: device 0 command 0 with bit 0 set ends the run with exit
code ``value >> 1``; device 1 command 1 prints the low byte on the console (then the host
acknowledges through ``fromhost``); device 0 syscall-proxy requests (an even pointer) get -ENOSYS
written into the request's return slot, so a program waiting for them does not hang.
"""

from __future__ import annotations

from collections.abc import Callable

from polyvm.arch.riscv64.traps import MachineHalt
from polyvm.mem.ram import GuestRam

ENOSYS = 38


class Htif:
    def __init__(self, ram: GuestRam, tohost: int, fromhost: int | None,
                 console: Callable[[bytes], None]) -> None:
        self.ram = ram
        self.tohost = tohost
        self.fromhost = fromhost
        self.console = console

    def pages(self) -> set[int]:
        return {self.tohost >> 12}

    def on_write(self, paddr: int, size: int) -> None:
        """Called after any store to the tohost page; acts when tohost itself was written."""
        if not (paddr < self.tohost + 8 and self.tohost < paddr + size):
            return
        command = self.ram.read_int(self.tohost, 8)
        if command == 0:
            return
        device, cmd, payload = command >> 56, (command >> 48) & 0xFF, command & ((1 << 48) - 1)
        self.ram.write_int(self.tohost, 0, 8)
        if device == 0 and cmd == 0:
            if payload & 1:
                raise MachineHalt(payload >> 1, "htif exit")
            self._refuse_syscall(payload)
            self._acknowledge(device, cmd, 1)
        elif device == 1 and cmd == 1:
            self.console(bytes([payload & 0xFF]))
            self._acknowledge(device, cmd, 0x100 | (payload & 0xFF))

    def _refuse_syscall(self, pointer: int) -> None:
        if self.ram.contains(pointer, 8):
            self.ram.write_int(pointer, (-ENOSYS) & ((1 << 64) - 1), 8)

    def _acknowledge(self, device: int, cmd: int, payload: int) -> None:
        if self.fromhost is not None:
            self.ram.write_int(self.fromhost, (device << 56) | (cmd << 48) | payload, 8)
