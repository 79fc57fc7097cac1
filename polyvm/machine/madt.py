"""The x86 Multiple APIC Description Table (ACPI 6.5, 5.2.12): the ACPI counterpart of the MP table -
one enabled local APIC per CPU (ids 0..n-1), the I/O APIC with its first GSI, interrupt source
overrides for ISA interrupts that are not edge-triggered and active high, and LINT1 of every local
APIC wired to NMI.
"""

from __future__ import annotations

import dataclasses
import struct

from polyvm.core.errors import ConfigError
from polyvm.machine.acpi import table
from polyvm.machine.mptable import LEVEL_HIGH

MADT_REVISION = 5
PCAT_COMPAT = 0x1
"""The board also has the dual 8259 PICs (KVM's in-kernel PIC)."""
LOCAL_APIC, IO_APIC, INTERRUPT_OVERRIDE, LOCAL_APIC_NMI = 0, 1, 2, 4
ENTRY_LAYOUTS = {LOCAL_APIC: "<BBI", IO_APIC: "<BxII", INTERRUPT_OVERRIDE: "<BBIH", LOCAL_APIC_NMI: "<BHB"}
"""The fields after type and length of each interrupt controller structure."""
LOCAL_APIC_ENABLED = 0x1
ISA_BUS = 0
ALL_PROCESSORS = 0xFF
NMI_LINT = 1
MAX_APIC_ID = 0xFE


@dataclasses.dataclass(frozen=True)
class IoApic:
    apic_id: int
    address: int
    gsi_base: int = 0


def _entry(kind: int, *fields: int) -> bytes:
    layout = struct.Struct(ENTRY_LAYOUTS[kind])
    return struct.pack("<BB", kind, 2 + layout.size) + layout.pack(*fields)


def build_madt(num_cpus: int, lapic_address: int, ioapic: IoApic, level_isa_irqs: frozenset[int]) -> bytes:
    """The MADT of ``num_cpus`` CPUs and one I/O APIC whose pins are GSIs ``gsi_base``...; every ISA IRQ
    in ``level_isa_irqs`` is overridden to the same GSI, level-triggered and active high."""
    if not 1 <= num_cpus <= MAX_APIC_ID:
        raise ConfigError(f"the MADT's local APIC entries describe 1..{MAX_APIC_ID} CPUs, not {num_cpus}")
    entries = [_entry(LOCAL_APIC, cpu, cpu, LOCAL_APIC_ENABLED) for cpu in range(num_cpus)]
    entries.append(_entry(IO_APIC, ioapic.apic_id, ioapic.address, ioapic.gsi_base))
    entries += [_entry(INTERRUPT_OVERRIDE, ISA_BUS, irq, ioapic.gsi_base + irq, LEVEL_HIGH)
                for irq in sorted(level_isa_irqs)]
    entries.append(_entry(LOCAL_APIC_NMI, ALL_PROCESSORS, 0, NMI_LINT))
    return table(b"APIC", MADT_REVISION, struct.pack("<II", lapic_address, PCAT_COMPAT) + b"".join(entries))
