"""ACPI tables (ACPI 6.5, chapter 5) as a board firmware would leave them in memory: the common
System Description Table header with its checksum, the RSDP (revision 2, pointing at an XSDT), the
XSDT, a hardware-reduced FADT with its reset and sleep registers, and a layout that places tables one
after another at a guest address.

Tables are built bottom-up so that every pointer is known when its table is written: add the DSDT,
then the FADT naming the DSDT's address, the other tables, the XSDT listing them, and last the RSDP.
"""

from __future__ import annotations

import dataclasses
import struct

from polyvm.core.errors import ConfigError

OEM_ID = b"POLYVM"
OEM_TABLE_ID = b"POLYVM  "
OEM_REVISION = 1
CREATOR_ID = b"PVM "
CREATOR_REVISION = 1
HEADER = struct.Struct("<4sIBB6s8sI4sI")
"""Signature, length, revision, checksum, OEM id, OEM table id, OEM revision, creator id and revision."""
CHECKSUM_OFFSET = 9
TABLE_ALIGN = 16
"""Every table starts 16-byte aligned: the RSDP must, for the scan of 0xE0000-0xFFFFF to find it."""

RSDP = struct.Struct("<8sB6sBIIQB3x")
RSDP_SIGNATURE, RSDP_REVISION = b"RSD PTR ", 2
RSDP_CHECKSUM_OFFSET, RSDP_V1_LENGTH, RSDP_EXT_CHECKSUM_OFFSET = 8, 20, 32
XSDT_REVISION = 1

# FADT (5.2.9): revision 6 (ACPI 6.0 and later), 276 bytes
FADT_REVISION, FADT_MINOR_REVISION, FADT_LENGTH = 6, 5, 276
FADT_HW_REDUCED_ACPI, FADT_RESET_REG_SUP = 1 << 20, 1 << 10
BOOT_ARCH_8042, BOOT_ARCH_VGA_NOT_PRESENT, BOOT_ARCH_MSI_NOT_SUPPORTED = 1 << 1, 1 << 2, 1 << 3
BOOT_ARCH_CMOS_RTC_NOT_PRESENT = 1 << 5
GAS = "BBBBQ"
"""A Generic Address Structure (5.2.3.2): space id, bit width, bit offset, access size, address."""
FADT_FIELDS = {
    "dsdt": (40, "<I"), "boot_arch": (109, "<H"), "flags": (112, "<I"), "reset_register": (116, "<" + GAS),
    "reset_value": (128, "<B"), "minor_revision": (131, "<B"), "x_dsdt": (140, "<Q"),
    "sleep_control": (244, "<" + GAS), "sleep_status": (256, "<" + GAS),
}
"""Offset from the start of the table and layout of each FADT field we fill; the rest stays zero."""

SYSTEM_MEMORY_SPACE, SYSTEM_IO_SPACE = 0, 1
BYTE_ACCESS = 1


def checksum(data: bytes) -> int:
    """The byte that makes ``data`` sum to zero modulo 256."""
    return -sum(data) & 0xFF


def table(signature: bytes, revision: int, body: bytes) -> bytes:
    """A System Description Table: the 36-byte header (with length and checksum) followed by ``body``."""
    data = bytearray(HEADER.pack(signature, HEADER.size + len(body), revision, 0, OEM_ID, OEM_TABLE_ID,
                                 OEM_REVISION, CREATOR_ID, CREATOR_REVISION) + body)
    data[CHECKSUM_OFFSET] = checksum(data)
    return bytes(data)


def rsdp(xsdt_address: int) -> bytes:
    """The Root System Description Pointer, revision 2: no RSDT, the XSDT at ``xsdt_address``."""
    data = bytearray(RSDP.pack(RSDP_SIGNATURE, 0, OEM_ID, RSDP_REVISION, 0, RSDP.size, xsdt_address, 0))
    data[RSDP_CHECKSUM_OFFSET] = checksum(data[:RSDP_V1_LENGTH])
    data[RSDP_EXT_CHECKSUM_OFFSET] = checksum(data)
    return bytes(data)


def xsdt(addresses: list[int]) -> bytes:
    """The Extended System Description Table listing the tables at ``addresses`` (not the DSDT)."""
    return table(b"XSDT", XSDT_REVISION, struct.pack(f"<{len(addresses)}Q", *addresses))


@dataclasses.dataclass(frozen=True)
class ByteRegister:
    """A one-byte register in the I/O port or the memory address space, as the Generic Address
    Structure of a FADT field describes it."""

    space_id: int
    address: int

    @classmethod
    def port(cls, port: int) -> ByteRegister:
        return cls(SYSTEM_IO_SPACE, port)

    @classmethod
    def memory(cls, address: int) -> ByteRegister:
        return cls(SYSTEM_MEMORY_SPACE, address)

    def fields(self) -> tuple[int, ...]:
        return self.space_id, 8, 0, BYTE_ACCESS, self.address


@dataclasses.dataclass(frozen=True)
class PowerRegisters:
    """How a hardware-reduced platform resets and sleeps (4.8.3.6, 4.8.3.7): writing ``reset_value``
    to ``reset`` resets it; OSPM writes SLP_TYP (bits 2-4, from the \\_Sx package) with SLP_EN
    (bit 5) to ``sleep_control`` and finds the wake status in ``sleep_status``."""

    reset: ByteRegister
    reset_value: int
    sleep_control: ByteRegister
    sleep_status: ByteRegister


def hardware_reduced_fadt(dsdt_address: int, boot_arch: int, power: PowerRegisters) -> bytes:
    """A FADT for a hardware-reduced ACPI platform (no SCI, PM timer, GPEs or FACS): the DSDT at
    ``dsdt_address``, IA-PC boot architecture flags ``boot_arch``, the reset and sleep registers."""
    data = bytearray(FADT_LENGTH)
    values = {"dsdt": (dsdt_address,), "x_dsdt": (dsdt_address,), "boot_arch": (boot_arch,),
              "flags": (FADT_HW_REDUCED_ACPI | FADT_RESET_REG_SUP,), "reset_register": power.reset.fields(),
              "reset_value": (power.reset_value,), "minor_revision": (FADT_MINOR_REVISION,),
              "sleep_control": power.sleep_control.fields(), "sleep_status": power.sleep_status.fields()}
    for field, (offset, fmt) in FADT_FIELDS.items():
        struct.pack_into(fmt, data, offset, *values[field])
    return table(b"FACP", FADT_REVISION, bytes(data[HEADER.size:]))


class TableLayout:
    """Tables placed one after another, each 16-byte aligned, in a blob to be copied to guest physical
    ``base``; at most ``limit`` bytes."""

    def __init__(self, base: int, limit: int) -> None:
        self.base = base
        self.limit = limit
        self._data = bytearray()

    def add(self, data: bytes) -> int:
        """Append ``data``; returns its guest physical address."""
        self._data += bytes(-len(self._data) % TABLE_ALIGN)
        address = self.base + len(self._data)
        self._data += data
        if len(self._data) > self.limit:
            raise ConfigError(f"the ACPI tables need {len(self._data)} bytes, more than the {self.limit} "
                              f"reserved at 0x{self.base:x}")
        return address

    @property
    def data(self) -> bytes:
        return bytes(self._data)
