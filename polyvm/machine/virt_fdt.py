"""The device tree of the RISC-V ``virt`` board, generated from its description (QEMU's layout)."""

from __future__ import annotations

import dataclasses

from polyvm.machine.clock import TIMEBASE_HZ
from polyvm.machine.fdt import Fdt

UART_CLOCK_HZ = 3_686_400


@dataclasses.dataclass
class VirtLayout:
    """Addresses, sizes and interrupt numbers the tree describes."""

    num_harts: int
    ram_base: int
    ram_size: int
    clint: tuple[int, int]
    plic: tuple[int, int]
    plic_sources: int
    uart: tuple[int, int]
    uart_irq: int
    syscon: tuple[int, int]
    rtc: tuple[int, int]
    rtc_irq: int
    virtio: list[tuple[int, int, int]]
    """(base, size, irq) of each virtio-mmio slot."""
    isa: str = "rv64imafdc_zicsr_zifencei"
    mmu_type: str = "riscv,sv48"
    bootargs: str = ""
    initrd: tuple[int, int] | None = None


def _reg(node, base: int, size: int) -> None:
    node.set_u32("reg", base >> 32, base & 0xFFFFFFFF, size >> 32, size & 0xFFFFFFFF)


def build_virt_fdt(layout: VirtLayout) -> bytes:
    fdt = Fdt()
    root = fdt.node("/")
    root.set_u32("#address-cells", 2).set_u32("#size-cells", 2)
    root.set_string("compatible", "riscv-virtio").set_string("model", "riscv-virtio,qemu")

    chosen = fdt.node("/chosen")
    chosen.set_string("stdout-path", f"/soc/serial@{layout.uart[0]:x}")
    chosen.set_string("bootargs", layout.bootargs)
    if layout.initrd is not None:
        chosen.set_u64("linux,initrd-start", layout.initrd[0])
        chosen.set_u64("linux,initrd-end", layout.initrd[1])

    memory = fdt.node(f"/memory@{layout.ram_base:x}")
    memory.set_string("device_type", "memory")
    _reg(memory, layout.ram_base, layout.ram_size)

    cpus = fdt.node("/cpus")
    cpus.set_u32("#address-cells", 1).set_u32("#size-cells", 0)
    cpus.set_u32("timebase-frequency", TIMEBASE_HZ)
    intc_phandles = []
    for hart in range(layout.num_harts):
        cpu = fdt.node(f"/cpus/cpu@{hart}")
        cpu.set_string("device_type", "cpu").set_u32("reg", hart).set_string("status", "okay")
        cpu.set_string("compatible", "riscv").set_string("riscv,isa", layout.isa)
        cpu.set_string("mmu-type", layout.mmu_type)
        cpu.set_u32("phandle", cpu.phandle())
        intc = fdt.node(f"/cpus/cpu@{hart}/interrupt-controller")
        intc.set_u32("#interrupt-cells", 1).set_empty("interrupt-controller")
        intc.set_string("compatible", "riscv,cpu-intc")
        intc_phandles.append(intc.phandle())
        intc.set_u32("phandle", intc_phandles[-1])
        fdt.node(f"/cpus/cpu-map/cluster0/core{hart}").set_u32("cpu", cpu.phandle())

    soc = fdt.node("/soc")
    soc.set_u32("#address-cells", 2).set_u32("#size-cells", 2)
    soc.set_string("compatible", "simple-bus").set_empty("ranges")

    clint = fdt.node(f"/soc/clint@{layout.clint[0]:x}")
    clint.set_strings("compatible", "sifive,clint0", "riscv,clint0")
    _reg(clint, *layout.clint)
    clint.set_u32("interrupts-extended", *[v for p in intc_phandles for v in (p, 3, p, 7)])

    plic = fdt.node(f"/soc/plic@{layout.plic[0]:x}")
    plic_phandle = plic.phandle()
    plic.set_strings("compatible", "sifive,plic-1.0.0", "riscv,plic0")
    _reg(plic, *layout.plic)
    plic.set_u32("#interrupt-cells", 1).set_u32("#address-cells", 0).set_empty("interrupt-controller")
    plic.set_u32("riscv,ndev", layout.plic_sources - 1)
    plic.set_u32("interrupts-extended", *[v for p in intc_phandles for v in (p, 11, p, 9)])
    plic.set_u32("phandle", plic_phandle)

    uart = fdt.node(f"/soc/serial@{layout.uart[0]:x}")
    uart.set_string("compatible", "ns16550a")
    _reg(uart, *layout.uart)
    uart.set_u32("clock-frequency", UART_CLOCK_HZ)
    uart.set_u32("interrupts", layout.uart_irq).set_u32("interrupt-parent", plic_phandle)

    test = fdt.node(f"/soc/test@{layout.syscon[0]:x}")
    test_phandle = test.phandle()
    test.set_strings("compatible", "sifive,test1", "sifive,test0", "syscon")
    _reg(test, *layout.syscon)
    test.set_u32("phandle", test_phandle)
    for name, value in (("poweroff", 0x5555), ("reboot", 0x7777)):
        node = fdt.node(f"/{name}")
        node.set_string("compatible", f"syscon-{name}")
        node.set_u32("regmap", test_phandle).set_u32("offset", 0).set_u32("value", value)

    rtc = fdt.node(f"/soc/rtc@{layout.rtc[0]:x}")
    rtc.set_string("compatible", "google,goldfish-rtc")
    _reg(rtc, *layout.rtc)
    rtc.set_u32("interrupts", layout.rtc_irq).set_u32("interrupt-parent", plic_phandle)

    for base, size, irq in layout.virtio:
        node = fdt.node(f"/soc/virtio_mmio@{base:x}")
        node.set_string("compatible", "virtio,mmio")
        _reg(node, base, size)
        node.set_u32("interrupts", irq).set_u32("interrupt-parent", plic_phandle)

    return fdt.to_bytes(padding=1024)
