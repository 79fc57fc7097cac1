"""A device register window that native code may use without calling back into Python.

KVM's coalesced MMIO buffers guest writes to a device region in a ring that the VMM reads later,
instead of exiting for each one. ``CoalescedPort`` is that idea for one data register and one
status register, which is what a polled console needs: a Linux boot writes ~7,000 console bytes,
each after reading the line status, and every one of those accesses was a call from native code
into Python (~3 us each; benchmarks/boot.py).

The device owns the port and keeps it true to its state: ``write_open`` is set only while a write
to ``write_offset`` would do nothing but transmit its byte, and ``read_value`` holds what reading
``read_offset`` returns while that read changes nothing (``CLOSED`` otherwise). Native code
(jit/codegen.py ``memory_front``) appends written bytes to ``data``; the device transmits them
(``drained``) before it handles any other access, so the bytes keep their order with the rest of
its work, and whoever runs the machine drains it at the end of each round of turns.
"""

from __future__ import annotations

import ctypes

CAPACITY = 256
"""Bytes native code may buffer before its writes call back again (then the device drains)."""
CLOSED = (1 << 64) - 1
"""``read_value`` when reading the status register must go to the device."""


class CoalescedPort(ctypes.Structure):
    """The window's state, read and written by native code (its layout is codegen's)."""

    _fields_ = [
        ("write_offset", ctypes.c_uint64),
        ("write_open", ctypes.c_uint64),
        ("read_offset", ctypes.c_uint64),
        ("read_value", ctypes.c_uint64),
        ("count", ctypes.c_uint64),
        ("data", ctypes.c_uint8 * CAPACITY),
    ]

    def __init__(self, write_offset: int, read_offset: int) -> None:
        super().__init__(write_offset, 0, read_offset, CLOSED, 0)

    def drained(self) -> bytes:
        """The bytes native code wrote since the last call (the port is empty again)."""
        count = self.count
        if not count:
            return b""
        self.count = 0
        return bytes(self.data[:count])


FIELD_WORDS = {name: getattr(CoalescedPort, name).offset // 8 for name, _ in CoalescedPort._fields_}
"""Each field's place in u64 words from the start (``data`` starts on a word)."""
