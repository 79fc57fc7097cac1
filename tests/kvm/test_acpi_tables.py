"""The microvm board's ACPI tables without KVM: read back from guest memory the way Linux finds them
(boot_params' RSDP or the scan of 0xE0000-0xFFFFF, RSDP -> XSDT -> FACP/APIC -> DSDT, every checksum),
disassembled by iasl without complaint into the devices, addresses, interrupts and power registers
the board has, recompiled by iasl into the same bytes, and evaluated by ACPICA's interpreter
(acpiexec): the devices and the \\_S5 package whose sleep type the board's sleep register knows."""

import re
import struct

import pytest

from polyvm.core.errors import ConfigError
from polyvm.device.acpi_sleep import SLP_TYP_S5
from polyvm.machine.acpi import TableLayout
from polyvm.machine.madt import IoApic, build_madt
from polyvm.machine.microvm import SLEEP_REGISTERS, board_acpi
from polyvm.machine.microvm_acpi import (
    ACPI_ADDRESS,
    ACPI_SIZE,
    AcpiTables,
    IsaSerial,
    VirtioWindow,
    build_dsdt,
)
from polyvm.mem.ram import GuestRam

from .acpi_tools import acpiexec, compile_asl, disassemble, same_but_creator

pytestmark = pytest.mark.timeout(120)
WINDOWS = [VirtioWindow(0xD000_0000 + slot * 0x1000, 0x1000, 5 + slot) for slot in range(8)]
SERIAL = IsaSerial(0x3F8, 8, 4)
BOARDS = [(1, 0), (2, 1), (4, 3), (254, 8)]
"""(CPUs, virtio devices): none, one, several, every slot with the most CPUs a MADT of local APICs holds."""
RSDP_SIZE = 36


def board_tables(cpus: int, devices: int) -> AcpiTables:
    return board_acpi(cpus, WINDOWS[:devices])


def in_guest_memory(tables: AcpiTables) -> GuestRam:
    ram = GuestRam(2 << 20)
    ram.write(tables.address, tables.data)
    return ram


def read_table(ram: GuestRam, address: int, signature: bytes) -> bytes:
    length, = struct.unpack("<I", ram.read(address + 4, 4))
    data = ram.read(address, length)
    assert data[:4] == signature and sum(data) % 256 == 0, f"{signature!r} at 0x{address:x}"
    assert ACPI_ADDRESS <= address and address + length <= ACPI_ADDRESS + ACPI_SIZE and address % 16 == 0
    return data


def read_back(ram: GuestRam, rsdp: int) -> dict[bytes, bytes]:
    """Every table reachable from the RSDP at ``rsdp``, by signature, each checked as Linux checks it."""
    pointer = ram.read(rsdp, RSDP_SIZE)
    assert pointer[:8] == b"RSD PTR " and sum(pointer[:20]) % 256 == 0 and sum(pointer) % 256 == 0
    revision, rsdt, length, xsdt_address = struct.unpack_from("<BIIQ", pointer, 15)
    assert (revision, rsdt, length) == (2, 0, RSDP_SIZE)
    xsdt = read_table(ram, xsdt_address, b"XSDT")
    tables = {b"XSDT": xsdt}
    for address in struct.unpack_from(f"<{(len(xsdt) - 36) // 8}Q", xsdt, 36):
        signature = ram.read(address, 4)
        tables[signature] = read_table(ram, address, signature)
    dsdt, = struct.unpack_from("<I", tables[b"FACP"], 40)
    x_dsdt, = struct.unpack_from("<Q", tables[b"FACP"], 140)
    assert dsdt == x_dsdt
    tables[b"DSDT"] = read_table(ram, x_dsdt, b"DSDT")
    return tables


def legacy_scan(ram: GuestRam) -> list[int]:
    """Where Linux's scan of the BIOS area finds a valid RSDP (16-byte steps, checksum of 20 bytes)."""
    area = ram.read(0xE0000, 0x20000)
    return [0xE0000 + offset for offset in range(0, len(area), 16)
            if area[offset:offset + 8] == b"RSD PTR " and sum(area[offset:offset + 20]) % 256 == 0]


@pytest.mark.parametrize("cpus, devices", BOARDS)
def test_tables_read_back_from_guest_memory(cpus, devices):
    tables = board_tables(cpus, devices)
    ram = in_guest_memory(tables)
    found = read_back(ram, tables.rsdp)
    assert set(found) == {b"XSDT", b"FACP", b"APIC", b"DSDT"}
    assert legacy_scan(ram) == [tables.rsdp]
    flags, = struct.unpack_from("<I", found[b"FACP"], 112)
    assert flags & (1 << 20) and found[b"FACP"][8] == 6 and len(found[b"FACP"]) == 276
    sleep_registers = struct.unpack_from("<BBBBQBBBBQ", found[b"FACP"], 244)
    assert sleep_registers == (0, 8, 0, 1, SLEEP_REGISTERS, 0, 8, 0, 1, SLEEP_REGISTERS + 1)
    madt = found[b"APIC"]
    assert len(madt) == 44 + 8 * cpus + 12 + 10 * devices + 6
    assert found[b"DSDT"].count(b"LNRO0005") == devices and found[b"DSDT"].count(b"\x0c\x41\xd0\x05\x01") == 1


def dsdt_asl(devices: int) -> str:
    """The DSDT as QEMU's microvm would write it for our board, in ASL."""
    virtio = "".join(f"""
        Device (VR{slot:02d})
        {{
            Name (_HID, "LNRO0005")
            Name (_UID, {slot})
            Name (_CCA, One)
            Name (_CRS, ResourceTemplate ()
            {{
                Memory32Fixed (ReadWrite, 0x{window.base:08X}, 0x{window.size:08X})
                Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive) {{{window.gsi}}}
            }})
        }}""" for slot, window in enumerate(WINDOWS[:devices]))
    return f"""DefinitionBlock ("", "DSDT", 2, "POLYVM", "POLYVM  ", 1)
{{
    Scope (_SB)
    {{
        Device (COM1)
        {{
            Name (_HID, EisaId ("PNP0501"))
            Name (_UID, One)
            Name (_CRS, ResourceTemplate ()
            {{
                IO (Decode16, 0x03F8, 0x03F8, 0x00, 0x08)
                IRQNoFlags () {{4}}
            }})
        }}{virtio}
    }}
    Name (_S5, Package (0x04) {{ 0x05, Zero, Zero, Zero }})
}}
"""


@pytest.mark.parametrize("devices", [0, 1, 8])
def test_dsdt_is_what_iasl_compiles_from_its_asl(tmp_path, devices):
    ours = build_dsdt(WINDOWS[:devices], SERIAL, SLP_TYP_S5)
    assert same_but_creator(ours, compile_asl(dsdt_asl(devices), tmp_path))


def squeeze(text: str) -> str:
    """The disassembly with comments and the offsets of data table fields (``[03Eh 0062   1]``) dropped
    and runs of blanks made one space (none before a closing parenthesis)."""
    text = re.sub(r"//[^\n]*|/\*.*?\*/|\[[0-9A-F]+h [0-9]+ +[0-9]+\]", "", text, flags=re.S)
    return re.sub(r"\s+", " ", text).replace(" )", ")")


@pytest.mark.parametrize("cpus, devices", BOARDS)
def test_iasl_disassembles_every_table_into_the_board(tmp_path, cpus, devices):
    tables = board_tables(cpus, devices)
    found = read_back(in_guest_memory(tables), tables.rsdp)
    text = {signature: disassemble(table, tmp_path, signature.decode().lower())
            for signature, table in found.items()}
    dsdt = squeeze(text[b"DSDT"])
    assert dsdt.count('Name (_HID, "LNRO0005")') == devices
    for slot, window in enumerate(WINDOWS[:devices]):
        assert f'Device (VR{slot:02d}) {{ Name (_HID, "LNRO0005") Name (_UID, ' in dsdt
        assert (f"Memory32Fixed (ReadWrite, 0x{window.base:08X}, 0x{window.size:08X},) Interrupt "
                f"(ResourceConsumer, Level, ActiveHigh, Exclusive, ,,) {{ 0x{window.gsi:08X}, }}") in dsdt
    assert ('Device (COM1) { Name (_HID, EisaId ("PNP0501")) Name (_UID, One) Name (_CRS, '
            "ResourceTemplate () { IO (Decode16, 0x03F8, 0x03F8, 0x00, 0x08,) IRQNoFlags () {4} }) }") in dsdt
    # at the root, after the scope of \_SB
    assert dsdt.endswith("} } Name (_S5, Package (0x04) { 0x05, Zero, Zero, Zero }) } ")
    fadt = squeeze(text[b"FACP"])
    dsdt_address, = struct.unpack_from("<Q", found[b"FACP"], 140)
    for field in ["8042 Present on ports 60/64 (V2) : 1", "CMOS RTC Not Present (V5) : 1",
                  "Reset Register Supported (V2) : 1", "Hardware Reduced (V5) : 1",
                  "Reset Register : [Generic Address Structure] Space ID : 01 [SystemIO] Bit Width : 08 "
                  "Bit Offset : 00 Encoded Access Width : 01 [Byte Access:8] Address : 0000000000000064 "
                  "Value to cause reset : FE", f"DSDT Address : {dsdt_address:016X}",
                  *(f"Sleep {name} Register : [Generic Address Structure] Space ID : 00 [SystemMemory] "
                    "Bit Width : 08 Bit Offset : 00 Encoded Access Width : 01 [Byte Access:8] "
                    f"Address : {SLEEP_REGISTERS + offset:016X}"
                    for offset, name in enumerate(["Control", "Status"]))]:
        assert field in fadt
    madt = squeeze(text[b"APIC"])
    assert "Local Apic Address : FEE00000" in madt
    for cpu in range(cpus):
        assert (f"Subtable Type : 00 [Processor Local APIC] Length : 08 Processor ID : {cpu:02X} "
                f"Local Apic ID : {cpu:02X} Flags (decoded below) : 00000001 Processor Enabled : 1") in madt
    assert (f"Subtable Type : 01 [I/O APIC] Length : 0C I/O Apic ID : {cpus:02X} Reserved : 00 "
            "Address : FEC00000 Interrupt : 00000000") in madt
    for window in WINDOWS[:devices]:
        assert (f"Subtable Type : 02 [Interrupt Source Override] Length : 0A Bus : 00 "
                f"Source : {window.gsi:02X} Interrupt : {window.gsi:08X} Flags (decoded below) : 000D "
                "Polarity : 1 Trigger Mode : 3") in madt
    assert madt.count("[Interrupt Source Override]") == devices
    assert "Subtable Type : 04 [Local APIC NMI] Length : 06 Processor ID : FF" in madt
    assert "Interrupt Input LINT : 01" in madt
    recompiled = {signature: compile_asl(text[signature], tmp_path, f"again-{signature.decode().lower()}")
                  for signature in found}
    assert all(same_but_creator(found[signature], recompiled[signature]) for signature in found)


def test_acpica_interpreter_evaluates_the_devices(tmp_path):
    tables = board_tables(2, 2)
    found = read_back(in_guest_memory(tables), tables.rsdp)
    output = acpiexec({"facp.dat": found[b"FACP"], "apic.dat": found[b"APIC"], "dsdt.dat": found[b"DSDT"]},
                      tmp_path, r"evaluate \_SB.VR01._HID; evaluate \_SB.VR01._CRS; evaluate \_SB.COM1._HID; "
                      r"evaluate \_S5")
    assert '[String] Length 08 = "LNRO0005"' in output
    assert "86 09 00 01 00 10 00 D0 00 10 00 00 89 06 00 01" in output and "01 06 00 00 00 79 00" in output
    assert "[Integer] = 000000000105D041" in output
    s5 = squeeze(output.partition(r"Evaluation of \_S5")[2])
    assert (f"[Package] Contains 4 Elements: [Integer] = {SLP_TYP_S5:016X} [Integer] = 0000000000000000 "
            "[Integer] = 0000000000000000 [Integer] = 0000000000000000") in s5


def test_limits_are_config_errors():
    with pytest.raises(ConfigError, match="describe 1..254 CPUs, not 255"):
        build_madt(255, 0xFEE00000, IoApic(255, 0xFEC00000), frozenset())
    layout = TableLayout(0xE0000, 64)
    layout.add(bytes(40))
    with pytest.raises(ConfigError, match="need 72 bytes, more than the 64 reserved at 0xe0000"):
        layout.add(bytes(24))
