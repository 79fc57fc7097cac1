"""An Intel MultiProcessor Specification 1.4 table, as Firecracker writes one: how a guest without ACPI
learns its CPUs (local APIC ids 0..n-1), the I/O APIC, and which ISA interrupt drives which I/O APIC pin.

Linux scans the last KiB of base memory (0x9fc00) for the floating pointer "_MP_"; the board marks
that KiB reserved in the e820 map. Pins listed in ``level_pins`` are announced level-triggered,
active-high (virtio-mmio interrupts stay raised until the driver acknowledges them).
"""

from __future__ import annotations

import struct

from polyvm.core.errors import ConfigError

MPTABLE_ADDRESS = 0x9_FC00
MPTABLE_LIMIT = 0x400
LAPIC_ADDRESS = 0xFEE0_0000
IOAPIC_ADDRESS = 0xFEC0_0000
IOAPIC_PINS = 24
APIC_VERSION, IOAPIC_VERSION = 0x14, 0x11
CPU_ENABLED, CPU_BSP = 1, 2
CPU_SIGNATURE, CPU_FEATURES = 0x600, 0x201  # family 6; FPU and APIC present
INT, NMI, EXTINT = 0, 1, 3
LEVEL_HIGH = 0x1 | (0x3 << 2)
ISA_BUS = 0


def _checksum(data: bytes) -> int:
    return -sum(data) & 0xFF


def _with_checksum(data: bytearray, offset: int) -> bytes:
    data[offset] = _checksum(bytes(data))
    return bytes(data)


def build_mptable(num_cpus: int, level_pins: frozenset[int] = frozenset(),
                  address: int = MPTABLE_ADDRESS) -> bytes:
    """The floating pointer followed by the configuration table, to be written at ``address``."""
    if not 1 <= num_cpus < 0xFF:
        raise ConfigError(f"an MP table describes 1..254 CPUs, not {num_cpus}")
    ioapic_id = num_cpus
    entries = []
    for cpu in range(num_cpus):
        flags = CPU_ENABLED | (CPU_BSP if cpu == 0 else 0)
        entries.append(struct.pack("<BBBBII8x", 0, cpu, APIC_VERSION, flags, CPU_SIGNATURE, CPU_FEATURES))
    entries.append(struct.pack("<BB6s", 1, ISA_BUS, b"ISA   "))
    entries.append(struct.pack("<BBBBI", 2, ioapic_id, IOAPIC_VERSION, 1, IOAPIC_ADDRESS))
    for pin in range(IOAPIC_PINS):
        flags = LEVEL_HIGH if pin in level_pins else 0
        entries.append(struct.pack("<BBHBBBB", 3, INT, flags, ISA_BUS, pin, ioapic_id, pin))
    entries.append(struct.pack("<BBHBBBB", 4, EXTINT, 0, ISA_BUS, 0, 0xFF, 0))
    entries.append(struct.pack("<BBHBBBB", 4, NMI, 0, ISA_BUS, 0, 0xFF, 1))
    body = b"".join(entries)
    header = bytearray(struct.pack("<4sHBB8s12sIHHIHBB", b"PCMP", 44 + len(body), 4, 0, b"POLYVM  ",
                                   b"MICROVM     ", 0, 0, len(entries), LAPIC_ADDRESS, 0, 0, 0))
    table = bytearray(header + body)
    table = bytearray(_with_checksum(table, 7))
    pointer = bytearray(struct.pack("<4sIBBBB4x", b"_MP_", address + 16, 1, 4, 0, 0))
    result = _with_checksum(pointer, 10) + bytes(table)
    if len(result) > MPTABLE_LIMIT:
        raise ConfigError(f"an MP table for {num_cpus} CPUs needs {len(result)} bytes, more than the "
                          f"{MPTABLE_LIMIT} reserved at 0x{address:x}")
    return result
