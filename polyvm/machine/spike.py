"""The ``spike`` board: Spike's memory map (DRAM at 0x8000_0000, CLINT at 0x0200_0000) and HTIF.

This is how RISC-V ISA tests and many bare-metal programs run on Spike and on
``qemu-system-riscv64 -M spike``: the ELF's ``tohost``/``fromhost`` symbols locate HTIF, and the
program's exit code comes back through it. For raw binaries, give the addresses explicitly.
"""

from __future__ import annotations

from pathlib import Path

from polyvm.core.config import VmConfig
from polyvm.core.errors import LoaderError
from polyvm.machine.htif import Htif
from polyvm.machine.loader import load_image
from polyvm.machine.riscv_machine import DRAM_BASE, RiscvMachine


class SpikeBoard(RiscvMachine):
    """Boots ``kernel`` (ELF or raw at DRAM_BASE) in M-mode on every hart, a0 = hart id."""

    def __init__(self, config: VmConfig, kernel: str | Path, *, tohost: int | None = None,
                 fromhost: int | None = None) -> None:
        super().__init__(config)
        image = load_image(self.ram, kernel, DRAM_BASE)
        tohost = image.symbols.get("tohost", tohost) if tohost is None else tohost
        fromhost = image.symbols.get("fromhost", fromhost) if fromhost is None else fromhost
        if tohost is None:
            raise LoaderError(
                str(kernel), "no 'tohost' symbol: the spike board needs HTIF "
                "(give --htif-tohost ADDR for a raw binary)"
            )
        if not self.ram.contains(tohost, 8):
            raise LoaderError(str(kernel), f"tohost address 0x{tohost:x} is not in RAM")
        self.htif = Htif(self.ram, tohost, fromhost, self.console_write)
        self.watch_ram_writes(self.htif.pages(), self.htif.on_write)
        self.image = image
        for hart in self.harts:
            hart.pc = image.entry
            hart.write_reg(10, hart.hart_id)
            hart.has_time_csr = False
