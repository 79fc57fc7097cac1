"""ACPI Machine Language (ACPI 6.5, chapter 20): the byte encodings of the few terms a board's DSDT
needs - scopes, devices, named objects (integers, strings, EISA ids, buffers, packages) and resource
templates (ACPI 6.5, 6.4) with I/O, IRQ, fixed 32-bit memory and extended interrupt descriptors. Names are
single NameSegs relative to the enclosing scope, which is all a flat DSDT needs; the output is byte
for byte what iasl compiles from the same ASL.

Every function returns the encoded term as ``bytes``; terms nest by passing the inner terms' bytes,
so ``device("VR00", name("_HID", string("LNRO0005")))`` is one Device object with one Name in it.
"""

from __future__ import annotations

import re
import struct

from polyvm.core.errors import ConfigError

ZERO_OP, ONE_OP = 0x00, 0x01
BYTE_PREFIX, WORD_PREFIX, DWORD_PREFIX, STRING_PREFIX, QWORD_PREFIX = 0x0A, 0x0B, 0x0C, 0x0D, 0x0E
NAME_OP, SCOPE_OP, BUFFER_OP, PACKAGE_OP = 0x08, 0x10, 0x11, 0x12
MAX_PACKAGE_ELEMENTS = 0xFF
"""A Package's NumElements is one byte (larger ones are VarPackages)."""
EXT_OP_PREFIX, DEVICE_OP = 0x5B, 0x82
NAME_SEG_CHARS = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
INTEGER_PREFIXES = ((0xFF, BYTE_PREFIX, "<B"), (0xFFFF, WORD_PREFIX, "<H"),
                    (0xFFFF_FFFF, DWORD_PREFIX, "<I"), ((1 << 64) - 1, QWORD_PREFIX, "<Q"))
"""The smallest prefix whose width holds a value: (largest value, prefix, struct format)."""

# resource descriptors (ACPI 6.5, 6.4.2 small and 6.4.3 large)
IRQ_NO_FLAGS_TAG, IO_TAG, END_TAG = 0x22, 0x47, 0x79
MEMORY32_FIXED_TAG, EXTENDED_INTERRUPT_TAG = 0x86, 0x89
IO_DECODE_16 = 0x01
MEMORY_WRITABLE = 0x01
INTERRUPT_CONSUMER, INTERRUPT_EDGE = 0x01, 0x02


def pkg_length(body_length: int) -> bytes:
    """The PkgLength of a package whose contents after the PkgLength are ``body_length`` bytes: the
    encoded length counts its own 1 to 4 bytes (20.2.4)."""
    for size in range(1, 5):
        total = body_length + size
        if size == 1 and total < 0x40:
            return bytes([total])
        if size > 1 and total < 1 << (4 + 8 * (size - 1)):
            rest = (total >> 4).to_bytes(size - 1, "little")
            return bytes([(size - 1) << 6 | (total & 0x0F)]) + rest
    raise ConfigError(f"an AML package of {body_length} bytes is longer than PkgLength can encode")


def _package(opcode: bytes, body: bytes) -> bytes:
    return opcode + pkg_length(len(body)) + body


def name_seg(name: str) -> bytes:
    """A NameSeg, the one-segment NameString relative to the enclosing scope (20.2.2): 1-4 characters
    of A-Z, 0-9 and _, not starting with a digit, padded with _ (``_SB`` is ``_SB_``)."""
    data = name.encode("ascii").ljust(4, b"_")
    if len(data) != 4 or not set(data) <= NAME_SEG_CHARS or data[:1].isdigit():
        raise ConfigError(f"{name!r} is not an ACPI name segment (1-4 of A-Z, 0-9, _; no leading digit)")
    return data


def integer(value: int) -> bytes:
    """An Integer in the shortest encoding: ZeroOp, OneOp or a byte/word/dword/qword constant."""
    if value == 0:
        return bytes([ZERO_OP])
    if value == 1:
        return bytes([ONE_OP])
    for largest, prefix, fmt in INTEGER_PREFIXES:
        if 0 <= value <= largest:
            return bytes([prefix]) + struct.pack(fmt, value)
    raise ConfigError(f"AML integers are 0..2**64-1, not {value}")


def string(text: str) -> bytes:
    """A null-terminated ASCII String constant."""
    data = text.encode("ascii")
    if b"\x00" in data:
        raise ConfigError(f"an AML string cannot hold NUL: {text!r}")
    return bytes([STRING_PREFIX]) + data + b"\x00"


def eisa_id(text: str) -> bytes:
    """A compressed EISA id such as ``PNP0501`` (three letters, four hex digits) as its DWord Integer,
    the form ASL's EisaId() produces for _HID and _CID."""
    if not re.fullmatch(r"[A-Z]{3}[0-9A-F]{4}", text):
        raise ConfigError(f"an EISA id is three capital letters and four hex digits, not {text!r}")
    letters = [ord(c) - ord("A") + 1 for c in text[:3]]
    vendor = letters[0] << 10 | letters[1] << 5 | letters[2]
    product = int(text[3:], 16)
    value = vendor >> 8 | (vendor & 0xFF) << 8 | (product >> 8) << 16 | (product & 0xFF) << 24
    return bytes([DWORD_PREFIX]) + struct.pack("<I", value)


def name(seg: str, value: bytes) -> bytes:
    """Name(seg, value): a named data object."""
    return bytes([NAME_OP]) + name_seg(seg) + value


def scope(seg: str, *terms: bytes) -> bytes:
    """Scope(seg) { terms }."""
    return _package(bytes([SCOPE_OP]), name_seg(seg) + b"".join(terms))


def device(seg: str, *terms: bytes) -> bytes:
    """Device(seg) { terms }."""
    return _package(bytes([EXT_OP_PREFIX, DEVICE_OP]), name_seg(seg) + b"".join(terms))


def buffer(data: bytes) -> bytes:
    """Buffer(len(data)) { data }."""
    return _package(bytes([BUFFER_OP]), integer(len(data)) + data)


def package(*elements: bytes) -> bytes:
    """Package(n) { elements }: a fixed-size package of data objects (20.2.5.4, DefPackage)."""
    if len(elements) > MAX_PACKAGE_ELEMENTS:
        raise ConfigError(f"an AML Package holds at most {MAX_PACKAGE_ELEMENTS} elements, "
                          f"not {len(elements)}")
    return _package(bytes([PACKAGE_OP]), bytes([len(elements)]) + b"".join(elements))


def resource_template(*descriptors: bytes) -> bytes:
    """ResourceTemplate() { descriptors }: a Buffer ending with an End Tag whose checksum is 0 (6.4.2.9:
    zero means the buffer is treated as checksummed correctly)."""
    return buffer(b"".join(descriptors) + bytes([END_TAG, 0]))


def io_port(base: int, length: int) -> bytes:
    """IO(Decode16, base, base, 0, length): a fixed range of I/O ports (6.4.2.5)."""
    return struct.pack("<BBHHBB", IO_TAG, IO_DECODE_16, base, base, 0, length)


def irq_no_flags(irq: int) -> bytes:
    """IRQNoFlags() {irq}: an ISA interrupt, edge-triggered and active high (6.4.2.1)."""
    if not 0 <= irq < 16:
        raise ConfigError(f"an IRQ descriptor names ISA interrupts 0..15, not {irq}")
    return struct.pack("<BH", IRQ_NO_FLAGS_TAG, 1 << irq)


def memory32_fixed(base: int, length: int) -> bytes:
    """Memory32Fixed(ReadWrite, base, length) (6.4.3.4)."""
    body = struct.pack("<BII", MEMORY_WRITABLE, base, length)
    return struct.pack("<BH", MEMORY32_FIXED_TAG, len(body)) + body


def extended_interrupt(gsi: int, *, level: bool) -> bytes:
    """Interrupt(ResourceConsumer, Level|Edge, ActiveHigh, Exclusive) {gsi} (6.4.3.6)."""
    body = struct.pack("<BBI", INTERRUPT_CONSUMER | (0 if level else INTERRUPT_EDGE), 1, gsi)
    return struct.pack("<BH", EXTENDED_INTERRUPT_TAG, len(body)) + body
