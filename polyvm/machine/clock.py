"""Guest time: the 10 MHz machine timer, from the host clock or from the instruction count.

With ``icount`` the timer advances one tick per ten retired instructions of all harts (and jumps
ahead while every hart waits in wfi), so a run is reproducible bit for bit, like QEMU's -icount.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

TIMEBASE_HZ = 10_000_000
INSTRUCTIONS_PER_TICK = 10


class MachineClock:
    def __init__(self, icount: bool, instret_sources: Sequence[Callable[[], int]] = ()) -> None:
        self.icount = icount
        self.instret_sources = list(instret_sources)
        self.warp = 0
        self._start = time.monotonic_ns()

    def mtime(self) -> int:
        if self.icount:
            total = sum(source() for source in self.instret_sources)
            return total // INSTRUCTIONS_PER_TICK + self.warp
        return (time.monotonic_ns() - self._start) * TIMEBASE_HZ // 1_000_000_000

    def ticks_within(self, instructions: int) -> int:
        """An upper bound of the ticks that pass while harts retire ``instructions``: exact with
        ``icount``; on the host clock, those of a millisecond, about what a slice takes (a later
        timer interrupt is taken at the slice's end, as with any event during a slice)."""
        if self.icount:
            return instructions // INSTRUCTIONS_PER_TICK + 1
        return TIMEBASE_HZ // 1000

    def idle_until(self, deadline: int | None, max_seconds: float = 0.01) -> None:
        """All harts wait: jump virtual time to ``deadline``, or sleep a little on the host clock."""
        now = self.mtime()
        if self.icount:
            if deadline is not None and deadline > now:
                self.warp += deadline - now
            return
        if deadline is None:
            time.sleep(max_seconds)
        elif deadline > now:
            time.sleep(min(max_seconds, (deadline - now) / TIMEBASE_HZ))
