"""The ACPI tables of the x86-64 microvm board, shaped like QEMU's ``-M microvm,acpi=on``: how a
stock distribution kernel (virtio-mmio built as a module, no CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES)
finds the board's devices.

    RSDP (revision 2) -> XSDT -> FACP: hardware-reduced ACPI, DSDT, reset register (i8042 port 0x64),
                                       sleep control and status registers (QEMU's GED registers)
                              -> APIC: the CPUs' local APICs, the I/O APIC, level-triggered overrides
    DSDT: \\_SB.COM1 (PNP0501: I/O 0x3f8-0x3ff, IRQ 4) and one \\_SB.VRnn (LNRO0005, the id Linux's
          virtio_mmio driver matches) per virtio-mmio window: Memory32Fixed(base, size) and a
          level-triggered, active-high Interrupt on the window's GSI; \\_S5 (soft off), whose SLP_TYP
          written with SLP_EN to the sleep control register powers the board off

The tables go to the BIOS area at 0xE0000, which the board's e820 map reserves; the RSDP is the last of
them, 16-byte aligned, so the legacy scan of 0xE0000-0xFFFFF finds it as well as
boot_params.acpi_rsdp_addr does. The I/O APIC id and the interrupt overrides say what the MP table says.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from polyvm.machine import aml
from polyvm.machine.acpi import (
    BOOT_ARCH_8042,
    BOOT_ARCH_CMOS_RTC_NOT_PRESENT,
    BOOT_ARCH_MSI_NOT_SUPPORTED,
    BOOT_ARCH_VGA_NOT_PRESENT,
    PowerRegisters,
    TableLayout,
    hardware_reduced_fadt,
    rsdp,
    table,
    xsdt,
)
from polyvm.machine.madt import IoApic, build_madt
from polyvm.machine.mptable import IOAPIC_ADDRESS, LAPIC_ADDRESS

ACPI_ADDRESS, ACPI_SIZE = 0xE_0000, 0x2_0000
"""0xE0000-0xFFFFF: where the legacy RSDP scan looks, below the kernel at 1 MiB."""
DSDT_REVISION = 2
"""Revision 2 and later: AML integers are 64 bits wide."""
VIRTIO_MMIO_HID = "LNRO0005"
SERIAL_HID = "PNP0501"
ISA_IRQS = 16
BOOT_ARCH = BOOT_ARCH_8042 | BOOT_ARCH_VGA_NOT_PRESENT | BOOT_ARCH_MSI_NOT_SUPPORTED | \
    BOOT_ARCH_CMOS_RTC_NOT_PRESENT
"""An i8042 (probed by Linux, used for reset); no VGA, no MSI (no PCI at all), no CMOS clock."""


@dataclasses.dataclass(frozen=True)
class VirtioWindow:
    """One virtio-mmio transport: its register window and its I/O APIC input."""

    base: int
    size: int
    gsi: int


@dataclasses.dataclass(frozen=True)
class IsaSerial:
    port: int
    size: int
    irq: int


@dataclasses.dataclass(frozen=True)
class AcpiTables:
    """The tables as one blob to copy to guest physical ``address``; the RSDP is at ``rsdp``."""

    address: int
    data: bytes
    rsdp: int


def _serial_device(serial: IsaSerial) -> bytes:
    return aml.device("COM1", aml.name("_HID", aml.eisa_id(SERIAL_HID)), aml.name("_UID", aml.integer(1)),
                      aml.name("_CRS", aml.resource_template(aml.io_port(serial.port, serial.size),
                                                             aml.irq_no_flags(serial.irq))))


def _virtio_device(index: int, window: VirtioWindow) -> bytes:
    resources = aml.resource_template(aml.memory32_fixed(window.base, window.size),
                                      aml.extended_interrupt(window.gsi, level=True))
    return aml.device(f"VR{index:02d}", aml.name("_HID", aml.string(VIRTIO_MMIO_HID)),
                      aml.name("_UID", aml.integer(index)), aml.name("_CCA", aml.integer(1)),
                      aml.name("_CRS", resources))


def _system_state(sleep_type: int) -> bytes:
    """A System \\_Sx State package (7.4.2): SLP_TYPa, SLP_TYPb (ignored on hardware-reduced
    platforms) and two reserved zeros, as QEMU's microvm writes it."""
    return aml.package(aml.integer(sleep_type), *[aml.integer(0)] * 3)


def build_dsdt(virtio: Sequence[VirtioWindow], serial: IsaSerial, s5_sleep_type: int) -> bytes:
    """The DSDT: COM1 and one LNRO0005 device per virtio-mmio window in ``\\_SB``, then ``\\_S5``
    with the sleep type that powers the board off."""
    devices = [_serial_device(serial), *(_virtio_device(i, window) for i, window in enumerate(virtio))]
    return table(b"DSDT", DSDT_REVISION,
                 aml.scope("_SB", *devices) + aml.name("_S5", _system_state(s5_sleep_type)))


def build_microvm_acpi(num_cpus: int, virtio: Sequence[VirtioWindow], serial: IsaSerial,
                       power: PowerRegisters, s5_sleep_type: int) -> AcpiTables:
    """Every table of a board with ``num_cpus`` CPUs, the virtio-mmio ``virtio`` windows, the COM1
    ``serial`` port, the ``power`` registers, and S5 entered by writing ``s5_sleep_type`` to them."""
    layout = TableLayout(ACPI_ADDRESS, ACPI_SIZE)
    dsdt = layout.add(build_dsdt(virtio, serial, s5_sleep_type))
    fadt = layout.add(hardware_reduced_fadt(dsdt, BOOT_ARCH, power))
    level_irqs = frozenset(window.gsi for window in virtio if window.gsi < ISA_IRQS)
    madt = layout.add(build_madt(num_cpus, LAPIC_ADDRESS, IoApic(num_cpus, IOAPIC_ADDRESS), level_irqs))
    root = layout.add(rsdp(layout.add(xsdt([fadt, madt]))))
    return AcpiTables(ACPI_ADDRESS, layout.data, root)
