"""Guest RAM: one anonymous mmap, lazily populated by the host kernel, shared by every engine.

Python code reads it through typed memoryviews (``u8``..``u64`` and signed ``s8``..``s64``, indexed by
offset // width), native JIT code through ``host_address``, KVM through the same mapping.
"""

from __future__ import annotations

import ctypes
import mmap
from collections.abc import Callable

from polyvm.core.errors import ConfigError, InvalidAddress


class GuestRam:
    """A block of guest physical RAM at ``base`` of ``size`` bytes."""

    def __init__(self, size: int, base: int = 0) -> None:
        if size <= 0 or size % 4096:
            raise ConfigError(f"RAM size must be a positive multiple of 4 KiB, got {size}")
        self.size = size
        self.base = base
        self.end = base + size
        self._map = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        self.bytes = memoryview(self._map)
        self.u8 = self.bytes
        self.u16 = self.bytes.cast("H")
        self.u32 = self.bytes.cast("I")
        self.u64 = self.bytes.cast("Q")
        self.s8 = self.bytes.cast("b")
        self.s16 = self.bytes.cast("h")
        self.s32 = self.bytes.cast("i")
        self.s64 = self.bytes.cast("q")
        self.host_address: int = ctypes.addressof(ctypes.c_char.from_buffer(self._map))
        self.write_hook: Callable[[int, int], None] | None = None
        """Told of every write made through ``write``/``write_int`` (device DMA, loaders, HTIF)."""

    def contains(self, addr: int, length: int = 1) -> bool:
        return self.base <= addr and addr + length <= self.end

    def offset(self, addr: int, length: int = 1) -> int:
        """RAM offset of a physical address range, or InvalidAddress if it is not all RAM."""
        if not self.contains(addr, length):
            raise InvalidAddress(addr, f"{length} bytes not inside RAM 0x{self.base:x}-0x{self.end:x}")
        return addr - self.base

    def read(self, addr: int, length: int) -> bytes:
        off = self.offset(addr, length)
        return bytes(self.bytes[off : off + length])

    def write(self, addr: int, data: bytes | bytearray | memoryview) -> None:
        off = self.offset(addr, len(data))
        self.bytes[off : off + len(data)] = data
        if self.write_hook is not None:
            self.write_hook(addr, len(data))

    def read_int(self, addr: int, size: int) -> int:
        off = self.offset(addr, size)
        return int.from_bytes(self.bytes[off : off + size], "little")

    def write_int(self, addr: int, value: int, size: int) -> None:
        off = self.offset(addr, size)
        self.bytes[off : off + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
        if self.write_hook is not None:
            self.write_hook(addr, size)
