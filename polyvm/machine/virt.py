"""The RISC-V ``virt`` board with QEMU virt's memory map, so unmodified firmware and kernels run.

Boot flows (QEMU's): with ``bios=None`` the kernel (ELF) runs bare-metal in M-mode. Otherwise the
firmware (OpenSBI fw_jump or fw_dynamic; ELF or raw at 0x8000_0000) starts on every hart in M-mode
with a0 = hart id, a1 = DTB address, a2 = the fw_dynamic info block; the next stage (U-Boot or a
Linux Image, raw or ELF) is loaded at the first 2 MiB boundary after the firmware and the info
block tells fw_dynamic to enter it in S-mode. The DTB is generated from the board description and
placed near the top of RAM, as QEMU does; an initrd goes well above the kernel.
"""

from __future__ import annotations

import dataclasses
import struct
import time
from pathlib import Path

from polyvm.arch.riscv64.traps import MachineHalt
from polyvm.core.config import VmConfig
from polyvm.core.errors import ConfigError, LoaderError
from polyvm.device.goldfish_rtc import GoldfishRtc
from polyvm.device.irq import IrqLine
from polyvm.device.plic import Plic
from polyvm.device.syscon import Syscon
from polyvm.device.uart16550 import Uart16550
from polyvm.device.virtio.block import VirtioBlock
from polyvm.device.virtio.device import VirtioDevice
from polyvm.device.virtio.mmio import VirtioMmio
from polyvm.device.virtio.net import VirtioNet, VirtioNetMmio
from polyvm.machine.clock import TIMEBASE_HZ
from polyvm.machine.loader import LoadedImage, load_image, read_file
from polyvm.machine.riscv_machine import CLINT_BASE, CLINT_SIZE, DRAM_BASE, RiscvMachine
from polyvm.machine.virt_fdt import VirtLayout, build_virt_fdt
from polyvm.net.cli_spec import NicSpec

PLIC_BASE, PLIC_SIZE = 0x0C00_0000, 0x60_0000
UART_BASE, UART_SIZE, UART_IRQ = 0x1000_0000, 0x100, 10
SYSCON_BASE, SYSCON_SIZE = 0x0010_0000, 0x1000
RTC_BASE, RTC_SIZE, RTC_IRQ = 0x0010_1000, 0x1000, 11
VIRTIO_BASE, VIRTIO_SIZE, VIRTIO_SLOTS = 0x1000_1000, 0x1000, 8
PLIC_SOURCES = 96
FW_DYNAMIC_MAGIC, FW_DYNAMIC_VERSION, NEXT_MODE_S = 0x4942534F, 2, 1
IMAGE_MAGIC2 = b"RSC\x05"
MIB2 = 2 << 20
ICOUNT_EPOCH_NS = 1_704_067_200 * 1_000_000_000


class EmptyVirtioSlot(VirtioDevice):
    """A virtio-mmio window with no device behind it (device id 0), as QEMU's unused slots."""

    def handle(self, queue_index, chain, ram) -> int:
        return 0


@dataclasses.dataclass
class Drive:
    """``--drive file=PATH[,readonly=on][,legacy=on]``."""

    path: str
    readonly: bool = False
    legacy: bool = False

    @classmethod
    def parse(cls, spec: str) -> Drive:
        fields = dict(item.partition("=")[::2] for item in spec.split(","))
        if "file" not in fields:
            raise ConfigError(f"--drive {spec!r}: file=PATH is required")
        unknown = set(fields) - {"file", "readonly", "legacy", "format", "if"}
        if unknown:
            raise ConfigError(f"--drive {spec!r}: unknown option(s) {', '.join(sorted(unknown))}")
        on = ("on", "true", "yes", "1")
        return cls(fields["file"], fields.get("readonly", "off") in on, fields.get("legacy", "off") in on)


class VirtBoard(RiscvMachine):
    def __init__(self, config: VmConfig, *, kernel: str | Path | None = None,
                 bios: str | Path | None = None, initrd: str | Path | None = None,
                 append: str = "", drives: list[Drive] | None = None,
                 nics: list[NicSpec] | None = None) -> None:
        super().__init__(config)
        self.plic = Plic(self.harts, PLIC_SOURCES)
        self.bus.register(PLIC_BASE, PLIC_SIZE, self.plic, "plic")
        self.uart = Uart16550(IrqLine(self.plic, UART_IRQ), self.console_write)
        self.bus.register(UART_BASE, UART_SIZE, self.uart, "uart")
        self.bus.register(SYSCON_BASE, SYSCON_SIZE, Syscon(self._power), "syscon")
        rtc_clock = time.time_ns
        if config.icount:
            # Reproducible runs read a fixed wall-clock start (2024-01-01 00:00 UTC) plus guest time.
            rtc_clock = lambda: ICOUNT_EPOCH_NS + self.clock.mtime() * (1_000_000_000 // TIMEBASE_HZ)  # noqa: E731
        self.rtc = GoldfishRtc(IrqLine(self.plic, RTC_IRQ), rtc_clock)
        self.bus.register(RTC_BASE, RTC_SIZE, self.rtc, "rtc")
        self.pollers += [self.uart.poll, self.rtc.poll]
        self.drains.append(self.uart.drain)
        self.block_devices: list[VirtioBlock] = []
        self.virtio: list[VirtioMmio] = []
        self.net_devices: list[VirtioNet] = []
        drives, nics = list(drives or []), list(nics or [])
        if len(drives) + len(nics) > VIRTIO_SLOTS:
            raise ConfigError(f"at most {VIRTIO_SLOTS} virtio devices fit on the virt board")
        for slot in range(VIRTIO_SLOTS):
            device: VirtioDevice
            version = 2
            if slot < len(drives):
                drive = drives[slot]
                device = VirtioBlock(drive.path, readonly=drive.readonly)
                self.block_devices.append(device)
                version = 1 if drive.legacy else 2
            elif slot < len(drives) + len(nics):
                device = nics[slot - len(drives)].create()
                self.net_devices.append(device)
            else:
                device = EmptyVirtioSlot()
            # The first drive takes the lowest address, which Linux probes first: it becomes vda.
            index = slot
            base = VIRTIO_BASE + index * VIRTIO_SIZE
            irq = IrqLine(self.plic, 1 + index)
            if isinstance(device, VirtioNet):
                transport = VirtioNetMmio(device, self.ram, irq)
                self.pollers.append(transport.poll)
            else:
                transport = VirtioMmio(device, self.ram, irq, version)
            self.virtio.append(transport)
            self.bus.register(base, VIRTIO_SIZE, transport, f"virtio{index}")
        self.power_event: str | None = None
        self._boot(kernel, bios, initrd, append)

    # --- power ------------------------------------------------------------------------------

    def _power(self, event: str, code: int) -> None:
        self.power_event = event
        raise MachineHalt(code, event)

    def close(self) -> None:
        """Flush and close disk images (after a run: the guest's writes reach the host file) and
        network backends."""
        for device in [*self.block_devices, *self.net_devices]:
            device.close()

    # --- boot -------------------------------------------------------------------------------

    def _layout(self, bootargs: str, initrd: tuple[int, int] | None) -> VirtLayout:
        return VirtLayout(
            num_harts=self.config.num_vcpu, ram_base=DRAM_BASE, ram_size=self.ram.size,
            clint=(CLINT_BASE, CLINT_SIZE), plic=(PLIC_BASE, PLIC_SIZE), plic_sources=PLIC_SOURCES,
            uart=(UART_BASE, UART_SIZE), uart_irq=UART_IRQ, syscon=(SYSCON_BASE, SYSCON_SIZE),
            rtc=(RTC_BASE, RTC_SIZE), rtc_irq=RTC_IRQ,
            virtio=[(VIRTIO_BASE + i * VIRTIO_SIZE, VIRTIO_SIZE, 1 + i) for i in range(VIRTIO_SLOTS)],
            bootargs=bootargs, initrd=initrd,
        )

    def dtb(self) -> bytes:
        return self._dtb

    def _boot(self, kernel, bios, initrd, append: str) -> None:
        if kernel is None and bios is None:
            raise ConfigError("nothing to boot: give --kernel and/or --bios")
        entry: int
        next_stage: LoadedImage | None = None
        if bios is None:
            image = load_image(self.ram, kernel, DRAM_BASE, "kernel")
            entry, kernel_end = image.entry, image.high
        else:
            firmware = load_image(self.ram, bios, DRAM_BASE, "firmware")
            entry = firmware.entry
            kernel_end = firmware.high
            if kernel is not None:
                start = (firmware.high + MIB2 - 1) & ~(MIB2 - 1)
                next_stage = self._load_next_stage(kernel, start)
                kernel_end = next_stage.high
        initrd_range = None
        if initrd is not None:
            data = read_file(initrd, "initrd")
            base = next_stage.low if next_stage else DRAM_BASE
            start = base + min(self.ram.size // 2, 128 << 20)
            start = max(start, (kernel_end + 0xFFF) & ~0xFFF)
            if not self.ram.contains(start, len(data)):
                raise LoaderError(str(initrd), f"initrd of {len(data)} bytes does not fit in RAM "
                                  f"above 0x{start:x} (use a larger -m)")
            self.ram.write(start, data)
            initrd_range = (start, start + len(data))
        self._dtb = build_virt_fdt(self._layout(append, initrd_range))
        dtb_addr = (self.ram.end - len(self._dtb) - 64) & ~(MIB2 - 1)
        low_water = initrd_range[1] if initrd_range else kernel_end
        if dtb_addr < low_water:
            raise ConfigError("guest RAM is too small for the images and the device tree")
        self.ram.write(dtb_addr, self._dtb)
        info_addr = dtb_addr - 64
        next_addr = next_stage.entry if next_stage else 0
        self.ram.write(info_addr, struct.pack("<6Q", FW_DYNAMIC_MAGIC, FW_DYNAMIC_VERSION, next_addr,
                                              NEXT_MODE_S, 0, 0))
        self.dtb_address = dtb_addr
        for hart in self.harts:
            hart.pc = entry
            hart.write_reg(10, hart.hart_id)
            hart.write_reg(11, dtb_addr)
            hart.write_reg(12, info_addr)

    def _load_next_stage(self, path, start: int) -> LoadedImage:
        data = read_file(path, "kernel")
        if data[:4] == b"\x7fELF":
            return load_image(self.ram, path, start, "kernel")
        if data[56:60] == IMAGE_MAGIC2:
            image_size = struct.unpack_from("<Q", data, 16)[0]
            if not self.ram.contains(start, max(image_size, len(data))):
                raise LoaderError(str(path), f"Linux image of {image_size} bytes does not fit in RAM")
        if not self.ram.contains(start, len(data)):
            raise LoaderError(str(path), f"{len(data)} bytes at 0x{start:x} do not fit in RAM")
        self.ram.write(start, data)
        size = max(len(data), struct.unpack_from("<Q", data, 16)[0] if data[56:60] == IMAGE_MAGIC2 else 0)
        return LoadedImage(str(path), start, start, start + size, {})
