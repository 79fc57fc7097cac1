"""PLIC: the RISC-V platform-level interrupt controller of QEMU's ``virt`` board (SiFive layout).

Sources 1..num_sources-1 come in through ``set_irq`` (level-triggered gateways, as QEMU's
sifive_plic): a source is pending while its line is high and it is not claimed; a claim takes the
highest-priority enabled pending source above the context's threshold (ties to the lowest id) and
marks it claimed; completing it re-arms the gateway, so a line still high is pending again.
Contexts are, for each hart, its M-mode context then its S-mode context; each drives the hart's
mip.MEIP or mip.SEIP. State changes may come from device threads, hence the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from polyvm.core.errors import ConfigError
from polyvm.device.irq import InterruptTarget

PRIORITY_BASE = 0x0
PENDING_BASE = 0x1000
ENABLE_BASE = 0x2000
ENABLE_STRIDE = 0x80
CONTEXT_BASE = 0x200000
CONTEXT_STRIDE = 0x1000
SIZE = 0x600000
PRIORITY_MASK = 7
MIP_SEIP = 9
MIP_MEIP = 11
CONTEXT_BITS = (MIP_MEIP, MIP_SEIP)
"""The mip bit each context of a hart drives, in context order (M then S)."""


class Plic:
    """A PLIC with ``num_sources`` sources (source 0 does not exist) and two contexts per hart."""

    def __init__(self, targets: Sequence[InterruptTarget], num_sources: int = 96) -> None:
        if not 2 <= num_sources <= 1024:
            raise ConfigError(f"PLIC supports 2..1024 sources, got {num_sources}")
        if not targets:
            raise ConfigError("PLIC needs at least one hart")
        self.num_sources = num_sources
        self.targets = list(targets)
        self.num_contexts = len(CONTEXT_BITS) * len(self.targets)
        self.priority = [0] * num_sources
        self.enable = [0] * self.num_contexts
        self.threshold = [0] * self.num_contexts
        self.level = 0
        self.claimed = 0
        self._valid = ((1 << num_sources) - 1) & ~1
        self._output = [False] * self.num_contexts
        self._lock = threading.RLock()

    @property
    def pending(self) -> int:
        """Bit i set when source i is pending."""
        return self.level & ~self.claimed

    def set_irq(self, line: int, level: bool) -> None:
        if not 1 <= line < self.num_sources:
            raise ConfigError(f"PLIC source {line} out of range 1..{self.num_sources - 1}")
        with self._lock:
            if level:
                self.level |= 1 << line
            else:
                self.level &= ~(1 << line)
            self._update()

    def interrupt(self) -> int | None:
        """The PLIC drives hart pending bits directly, not a numbered line."""
        return None

    def read(self, offset: int, size: int) -> int:
        if size != 4 or offset % 4:
            return 0
        with self._lock:
            if offset < PENDING_BASE:
                source = (offset - PRIORITY_BASE) // 4
                return self.priority[source] if source < self.num_sources else 0
            if offset < ENABLE_BASE:
                return self._word(self.pending, offset - PENDING_BASE)
            if offset < CONTEXT_BASE:
                ctx, rel = divmod(offset - ENABLE_BASE, ENABLE_STRIDE)
                return self._word(self.enable[ctx], rel) if ctx < self.num_contexts else 0
            ctx, rel = divmod(offset - CONTEXT_BASE, CONTEXT_STRIDE)
            if ctx >= self.num_contexts:
                return 0
            if rel == 0:
                return self.threshold[ctx]
            if rel == 4:
                return self._claim(ctx)
            return 0

    def write(self, offset: int, val: int, size: int) -> None:
        if size != 4 or offset % 4:
            return
        with self._lock:
            if offset < PENDING_BASE:
                source = (offset - PRIORITY_BASE) // 4
                if 1 <= source < self.num_sources:
                    self.priority[source] = val & PRIORITY_MASK
            elif offset < ENABLE_BASE:
                return
            elif offset < CONTEXT_BASE:
                ctx, rel = divmod(offset - ENABLE_BASE, ENABLE_STRIDE)
                if ctx < self.num_contexts and rel < (self.num_sources + 31) // 32 * 4:
                    shift = 8 * rel
                    bits = (self.enable[ctx] & ~(0xFFFFFFFF << shift)) | ((val & 0xFFFFFFFF) << shift)
                    self.enable[ctx] = bits & self._valid
            else:
                ctx, rel = divmod(offset - CONTEXT_BASE, CONTEXT_STRIDE)
                if ctx >= self.num_contexts:
                    return
                if rel == 0:
                    self.threshold[ctx] = val & PRIORITY_MASK
                elif rel == 4 and 1 <= val < self.num_sources:
                    self.claimed &= ~(1 << val)
                else:
                    return
            self._update()

    def _word(self, bits: int, rel: int) -> int:
        return (bits >> (8 * rel)) & 0xFFFFFFFF

    def _best(self, ctx: int) -> int:
        """The source a claim by ``ctx`` would take now, or 0."""
        candidates = self.pending & self.enable[ctx]
        best, best_priority = 0, self.threshold[ctx]
        while candidates:
            low = candidates & -candidates
            source = low.bit_length() - 1
            if self.priority[source] > best_priority:
                best, best_priority = source, self.priority[source]
            candidates ^= low
        return best

    def _claim(self, ctx: int) -> int:
        source = self._best(ctx)
        if source:
            self.claimed |= 1 << source
            self._update()
        return source

    def _update(self) -> None:
        for ctx in range(self.num_contexts):
            level = self._best(ctx) != 0
            if level != self._output[ctx]:
                self._output[ctx] = level
                hart, kind = divmod(ctx, len(CONTEXT_BITS))
                self.targets[hart].set_interrupt_pending(CONTEXT_BITS[kind], level)
