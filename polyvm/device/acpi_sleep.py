"""The sleep control and status registers of a hardware-reduced ACPI platform (ACPI 6.5, 4.8.3.7),
laid out as QEMU's Generic Event Device has them: one byte each, control at offset 0, status at
offset 1.

OSPM enters sleep state Sx by writing the SLP_TYP value of the DSDT's ``\\_Sx`` package (bits 2-4)
together with SLP_EN (bit 5) to the control register; before that Linux clears the wake status by
writing WAK_STS (bit 7) to the status register. The board only has S5, soft off: a write of
SLP_TYP_S5 with SLP_EN calls ``on_power_off``; other values are ignored, as QEMU ignores them. Both
registers read as 0 (the machine never wakes, so WAK_STS is never set).
"""

from __future__ import annotations

from collections.abc import Callable

SLEEP_CONTROL, SLEEP_STATUS = 0, 1
SIZE = 2
SLP_TYP_SHIFT, SLP_TYP_MASK = 2, 0x7
SLP_EN = 1 << 5
SLP_TYP_S5 = 5
"""The SLP_TYP value the board's ``\\_S5`` package names (QEMU's ACPI_GED_SLP_TYP_S5)."""


class AcpiSleepRegisters:
    """The two registers; ``on_power_off`` is called (on the vCPU thread) when the guest enters S5."""

    def __init__(self, on_power_off: Callable[[], None]) -> None:
        self.on_power_off = on_power_off

    def read(self, offset: int, size: int) -> int:
        return 0

    def write(self, offset: int, val: int, size: int) -> None:
        if offset != SLEEP_CONTROL or not val & SLP_EN:
            return
        if (val >> SLP_TYP_SHIFT) & SLP_TYP_MASK == SLP_TYP_S5:
            self.on_power_off()

    def interrupt(self) -> int | None:
        return None
