"""The AML encoder against ACPICA's compiler: the objects aml.py encodes are byte for byte what iasl
compiles from the same ASL - integers of every width, strings, EISA ids, buffers whose PkgLength takes
one, two and three bytes, packages, and resource templates - and bad input is a ConfigError naming
it."""

import pytest

from polyvm.core.errors import ConfigError
from polyvm.machine import aml

from .acpi_tools import HEADER_SIZE, compile_asl

pytestmark = pytest.mark.timeout(60)
INTEGERS = [0, 1, 2, 0xFF, 0x100, 0xFFFF, 0x1_0000, 0xFFFF_FFFF, 0x1_0000_0000, 0xFFFF_FFFF_FFFF_FFFE]
BUFFER_SIZES = [1, 59, 60, 61, 62, 4089, 4090, 4091, 4092, 5000]
"""Around the PkgLength steps: 63 encoded bytes fit in one byte, 4095 in two."""
EISA_IDS = ["PNP0501", "PNP0C0C", "QEM0002", "ZZZFFFF"]


def definition_block(*terms: str) -> str:
    return 'DefinitionBlock ("", "DSDT", 2, "POLYVM", "POLYVM  ", 1)\n{\n' + "\n".join(terms) + "\n}\n"


def test_named_integers_strings_and_eisa_ids(tmp_path):
    asl = [f"Name (I{i:03d}, 0x{value:X})" for i, value in enumerate(INTEGERS)]
    ours = [aml.name(f"I{i:03d}", aml.integer(value)) for i, value in enumerate(INTEGERS)]
    asl += ['Name (_HID, "LNRO0005")', 'Name (STR0, "")']
    ours += [aml.name("_HID", aml.string("LNRO0005")), aml.name("STR0", aml.string(""))]
    asl += [f'Name (E{i:03d}, EisaId ("{text}"))' for i, text in enumerate(EISA_IDS)]
    ours += [aml.name(f"E{i:03d}", aml.eisa_id(text)) for i, text in enumerate(EISA_IDS)]
    assert compile_asl(definition_block(*asl), tmp_path)[HEADER_SIZE:] == b"".join(ours)


def test_buffers_across_pkg_length_sizes(tmp_path):
    contents = [bytes((size + i) & 0xFF for i in range(size)) for size in BUFFER_SIZES]
    asl = [f"Name (B{i:03d}, Buffer () {{{', '.join(f'0x{b:02X}' for b in data)}}})"
           for i, data in enumerate(contents)]
    ours = b"".join(aml.name(f"B{i:03d}", aml.buffer(data)) for i, data in enumerate(contents))
    assert compile_asl(definition_block(*asl), tmp_path)[HEADER_SIZE:] == ours
    assert [len(aml.pkg_length(n)) for n in (62, 63, 4093, 4094, (1 << 20) - 4, (1 << 20) - 3)] == \
        [1, 2, 2, 3, 3, 4]


def test_packages(tmp_path):
    asl = ["Name (_S5, Package (0x04) { 0x05, Zero, Zero, Zero })",
           'Name (PKG1, Package (0x03) { One, "text", Package (0x01) { 0x12345678 } })',
           f"Name (PKG2, Package (0xFF) {{ {', '.join(['0xFFFF'] * 255)} }})"]
    ours = [aml.name("_S5", aml.package(aml.integer(5), *[aml.integer(0)] * 3)),
            aml.name("PKG1", aml.package(aml.integer(1), aml.string("text"),
                                         aml.package(aml.integer(0x12345678)))),
            aml.name("PKG2", aml.package(*[aml.integer(0xFFFF)] * 255))]
    assert compile_asl(definition_block(*asl), tmp_path)[HEADER_SIZE:] == b"".join(ours)


def test_devices_in_a_scope_with_resource_templates(tmp_path):
    asl = """Scope (_SB)
    {
        Device (DEV0)
        {
            Name (_HID, "ABCD0001")
            Name (_CRS, ResourceTemplate ()
            {
                IO (Decode16, 0x02F8, 0x02F8, 0x00, 0x08)
                IRQNoFlags () {3}
                Memory32Fixed (ReadWrite, 0xFEB00000, 0x00000200)
                Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) {17}
                Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive) {0x10000}
            })
        }
        Device (DEV1) { Name (_ADR, 0x00020001) }
    }"""
    resources = aml.resource_template(aml.io_port(0x2F8, 8), aml.irq_no_flags(3),
                                      aml.memory32_fixed(0xFEB00000, 0x200),
                                      aml.extended_interrupt(17, level=False),
                                      aml.extended_interrupt(0x10000, level=True))
    first = aml.device("DEV0", aml.name("_HID", aml.string("ABCD0001")), aml.name("_CRS", resources))
    ours = aml.scope("_SB", first, aml.device("DEV1", aml.name("_ADR", aml.integer(0x00020001))))
    assert compile_asl(definition_block(asl), tmp_path)[HEADER_SIZE:] == ours


@pytest.mark.parametrize("encode, message", [
    (lambda: aml.name_seg("VIRTIO"), "'VIRTIO' is not an ACPI name segment"),
    (lambda: aml.name_seg("0ABC"), "'0ABC' is not an ACPI name segment"),
    (lambda: aml.name_seg("vr00"), "'vr00' is not an ACPI name segment"),
    (lambda: aml.integer(-1), "AML integers are 0..2\\*\\*64-1, not -1"),
    (lambda: aml.integer(1 << 64), "not 18446744073709551616"),
    (lambda: aml.string("a\0b"), "cannot hold NUL"),
    (lambda: aml.eisa_id("pnp0501"), "not 'pnp0501'"),
    (lambda: aml.eisa_id("PNP05G1"), "not 'PNP05G1'"),
    (lambda: aml.irq_no_flags(16), "ISA interrupts 0..15, not 16"),
    (lambda: aml.pkg_length(1 << 28), "longer than PkgLength can encode"),
    (lambda: aml.package(*[aml.integer(0)] * 256), "at most 255 elements, not 256"),
])
def test_bad_input_is_named(encode, message):
    with pytest.raises(ConfigError, match=message):
        encode()
