"""x86 port I/O space: a table of port ranges to device models, plus two tiny test-harness ports.

Devices have the ``MmioDevice`` shape (``read(offset, size)``, ``write(offset, value, size)``), so the
same models serve the emulated buses and KVM I/O exits. Unclaimed ports read as all ones and ignore
writes, as on a PC.
"""

from __future__ import annotations

import bisect
from typing import Protocol

from polyvm.engine.kvm.api import IO_OUT, KvmRunIo


class PortDevice(Protocol):
    def read(self, offset: int, size: int) -> int: ...

    def write(self, offset: int, val: int, size: int) -> None: ...


class PortBus:
    """Port ranges, looked up by binary search on their start ports."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ranges: list[tuple[int, int, PortDevice]] = []

    def add(self, base: int, size: int, device: PortDevice) -> None:
        index = bisect.bisect(self._starts, base)
        self._starts.insert(index, base)
        self._ranges.insert(index, (base, base + size, device))

    def find(self, port: int) -> tuple[int, PortDevice] | None:
        index = bisect.bisect(self._starts, port) - 1
        if index >= 0:
            base, end, device = self._ranges[index]
            if port < end:
                return base, device
        return None

    def read(self, port: int, size: int) -> int:
        hit = self.find(port)
        if hit is None:
            return (1 << (8 * size)) - 1
        base, device = hit
        return device.read(port - base, size)

    def write(self, port: int, value: int, size: int) -> None:
        hit = self.find(port)
        if hit is not None:
            base, device = hit
            device.write(port - base, value, size)


def serve_io(ports: PortBus, io: KvmRunIo, page: memoryview) -> None:
    """Carry out one KVM_EXIT_IO (``count`` accesses of ``size`` bytes; data in the kvm_run ``page``)."""
    size, port, offset = io.size, io.port, io.data_offset
    out = io.direction == IO_OUT
    for _ in range(io.count):
        if out:
            ports.write(port, int.from_bytes(page[offset:offset + size], "little"), size)
        else:
            page[offset:offset + size] = ports.read(port, size).to_bytes(size, "little")
        offset += size


class DebugExit:
    """QEMU's isa-debug-exit idea: a write ends the run. Here the written value is the exit code as is."""

    def __init__(self) -> None:
        self.code: int | None = None

    def read(self, offset: int, size: int) -> int:
        return 0

    def write(self, offset: int, val: int, size: int) -> None:
        self.code = val


class ValuePort:
    """Collects every value the guest writes (results of test guests)."""

    def __init__(self) -> None:
        self.values: list[int] = []

    def read(self, offset: int, size: int) -> int:
        return 0

    def write(self, offset: int, val: int, size: int) -> None:
        self.values.append(val)
