"""Interrupt wiring: level-triggered lines from devices to controllers, and from controllers to harts.

A device holds an ``IrqLine`` and sets its level; an interrupt controller (PLIC, later GIC/IOAPIC)
implements ``IrqSink`` for its inputs. Controllers drive harts through ``InterruptTarget``: a hart's
hardware-owned pending bits (RISC-V mip.MSIP/MTIP/MEIP/SEIP...) are set or cleared by number.
"""

from __future__ import annotations

from typing import Protocol


class IrqSink(Protocol):
    def set_irq(self, line: int, level: bool) -> None: ...


class InterruptTarget(Protocol):
    def set_interrupt_pending(self, bit: int, level: bool) -> None: ...


class IrqLine:
    """One level-triggered interrupt line into a sink."""

    def __init__(self, sink: IrqSink, line: int) -> None:
        self.sink = sink
        self.line = line
        self.level = False

    def set(self, level: bool) -> None:
        if level != self.level:
            self.level = level
            self.sink.set_irq(self.line, level)
