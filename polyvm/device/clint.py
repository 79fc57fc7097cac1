"""CLINT: the RISC-V core-local interruptor of QEMU's ``virt`` board (SiFive layout).

Per hart: a software-interrupt register ``msip`` (drives mip.MSIP) and a timer compare register
``mtimecmp`` (mip.MTIP is the level ``mtime >= mtimecmp``); one shared ``mtime`` counter taken
from a host time source plus an offset that guest writes to ``mtime`` adjust. The 64-bit registers
may also be accessed as 32-bit halves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from polyvm.core.errors import ConfigError
from polyvm.device.irq import InterruptTarget

MSIP_BASE = 0x0
MTIMECMP_BASE = 0x4000
MTIME = 0xBFF8
SIZE = 0x10000
MIP_MSIP = 3
MIP_MTIP = 7
_MASK64 = (1 << 64) - 1


def _extract(value: int, shift: int, size: int) -> int:
    return (value >> (8 * shift)) & ((1 << (8 * size)) - 1)


def _merge(old: int, val: int, shift: int, size: int) -> int:
    mask = ((1 << (8 * size)) - 1) << (8 * shift)
    return (old & ~mask) | ((val << (8 * shift)) & mask)


class Clint:
    """The CLINT for ``num_harts`` harts; ``time_source()`` returns the free-running tick count."""

    def __init__(
        self,
        num_harts: int,
        targets: Sequence[InterruptTarget],
        time_source: Callable[[], int],
    ) -> None:
        if not 1 <= num_harts <= 4095:
            raise ConfigError(f"CLINT supports 1..4095 harts, got {num_harts}")
        if len(targets) != num_harts:
            raise ConfigError(f"CLINT needs one interrupt target per hart, got {len(targets)}")
        self.num_harts = num_harts
        self.targets = list(targets)
        self.time_source = time_source
        self.time_offset = 0
        self.msip = [0] * num_harts
        self.mtimecmp = [_MASK64] * num_harts
        self._mtip = [False] * num_harts

    @property
    def mtime(self) -> int:
        return (self.time_source() + self.time_offset) & _MASK64

    def read(self, offset: int, size: int) -> int:
        if offset < MSIP_BASE + 4 * self.num_harts:
            hart, shift = divmod(offset - MSIP_BASE, 4)
            return _extract(self.msip[hart], shift, size) if shift + size <= 4 else 0
        if MTIMECMP_BASE <= offset < MTIMECMP_BASE + 8 * self.num_harts:
            hart, shift = divmod(offset - MTIMECMP_BASE, 8)
            return _extract(self.mtimecmp[hart], shift, size) if shift + size <= 8 else 0
        if MTIME <= offset < MTIME + 8 and offset + size <= MTIME + 8:
            return _extract(self.mtime, offset - MTIME, size)
        return 0

    def write(self, offset: int, val: int, size: int) -> None:
        if offset < MSIP_BASE + 4 * self.num_harts:
            hart, shift = divmod(offset - MSIP_BASE, 4)
            if shift == 0:
                self.msip[hart] = val & 1
                self.targets[hart].set_interrupt_pending(MIP_MSIP, bool(val & 1))
        elif MTIMECMP_BASE <= offset < MTIMECMP_BASE + 8 * self.num_harts:
            hart, shift = divmod(offset - MTIMECMP_BASE, 8)
            if shift + size <= 8:
                self.mtimecmp[hart] = _merge(self.mtimecmp[hart], val, shift, size)
                self._update(hart, self.mtime)
        elif MTIME <= offset and offset + size <= MTIME + 8:
            now = self.time_source()
            wanted = _merge((now + self.time_offset) & _MASK64, val, offset - MTIME, size)
            self.time_offset = wanted - now
            self.poll()

    def interrupt(self) -> int | None:
        """The CLINT drives hart pending bits directly, not a numbered line."""
        return None

    def poll(self) -> None:
        """Re-evaluate every hart's MTIP against the current ``mtime`` (call periodically)."""
        now = self.mtime
        for hart in range(self.num_harts):
            self._update(hart, now)

    def next_deadline(self) -> int | None:
        """The smallest ``mtimecmp`` (in ``mtime`` ticks) whose MTIP is not yet raised, if any."""
        waiting = [cmp for cmp, on in zip(self.mtimecmp, self._mtip, strict=True) if not on]
        deadline = min(waiting, default=_MASK64)
        return None if deadline == _MASK64 else deadline

    def _update(self, hart: int, now: int) -> None:
        level = now >= self.mtimecmp[hart]
        if level != self._mtip[hart]:
            self._mtip[hart] = level
            self.targets[hart].set_interrupt_pending(MIP_MTIP, level)
