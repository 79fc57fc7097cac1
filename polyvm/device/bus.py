"""MmioMap: the physical bus of memory-mapped devices (seed section 5.3)."""

from __future__ import annotations

import bisect
import dataclasses

from polyvm.core.errors import ConfigError, InvalidAddress
from polyvm.core.protocols import MmioDevice


@dataclasses.dataclass
class MmioRegion:
    base: int
    size: int
    device: MmioDevice
    name: str

    @property
    def end(self) -> int:
        return self.base + self.size


class MmioMap:
    """Non-overlapping device windows, looked up by physical address."""

    def __init__(self) -> None:
        self._bases: list[int] = []
        self._regions: list[MmioRegion] = []

    def register(self, base: int, size: int, device: MmioDevice, name: str = "") -> None:
        if size <= 0:
            raise ConfigError(f"MMIO window at 0x{base:x} must have a positive size")
        name = name or type(device).__name__
        for region in self._regions:
            if base < region.end and region.base < base + size:
                raise ConfigError(
                    f"MMIO window {name} 0x{base:x}-0x{base + size:x} overlaps "
                    f"{region.name} 0x{region.base:x}-0x{region.end:x}"
                )
        index = bisect.bisect(self._bases, base)
        self._bases.insert(index, base)
        self._regions.insert(index, MmioRegion(base, size, device, name))

    def unregister(self, base: int) -> None:
        index = bisect.bisect_left(self._bases, base)
        if index == len(self._bases) or self._bases[index] != base:
            raise InvalidAddress(base, "no MMIO device registered at this base")
        del self._bases[index]
        del self._regions[index]

    def find(self, addr: int) -> MmioRegion | None:
        index = bisect.bisect(self._bases, addr) - 1
        if index >= 0:
            region = self._regions[index]
            if addr < region.end:
                return region
        return None

    def regions(self) -> list[MmioRegion]:
        return list(self._regions)

    def read(self, addr: int, size: int) -> int | None:
        """The device's value, or None when no device decodes ``addr``."""
        region = self.find(addr)
        if region is None or addr + size > region.end:
            return None
        return region.device.read(addr - region.base, size)

    def write(self, addr: int, val: int, size: int) -> bool:
        """True when a device took the write."""
        region = self.find(addr)
        if region is None or addr + size > region.end:
            return False
        region.device.write(addr - region.base, val, size)
        return True
