"""The Linux x86 boot protocol without KVM: setup-header checks with clear LoaderErrors, the zero page
load_linux writes (e820, command line, initrd, type_of_loader, acpi_rsdp_addr), and the MP table."""

import struct

import pytest

from polyvm.core.errors import LoaderError
from polyvm.machine import bzimage, mptable, x86_linux
from polyvm.machine.x86_linux import E820Entry, load_linux
from polyvm.mem.ram import GuestRam

from .x86_guests import build_bzimage

pytestmark = pytest.mark.timeout(60)
E820 = [E820Entry(0, 0x9FC00), E820Entry(0x9FC00, 0x400, 2), E820Entry(0x100000, (16 << 20) - 0x100000)]


@pytest.fixture(scope="module")
def image() -> bytes:
    return build_bzimage("bootinfo").read_bytes()


def patched(image: bytes, offset: int, fmt: str, value: int) -> bytes:
    data = bytearray(image)
    struct.pack_into(fmt, data, offset, value)
    return bytes(data)


def write(tmp_path, data: bytes, name: str = "bzImage") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_header_of_our_guest(image):
    header = bzimage.parse_setup_header(image, "guest")
    assert (header.setup_sects, header.version, header.load_address) == (1, 0x20F, 0x100000)
    assert header.xloadflags & bzimage.XLF_KERNEL_64 and header.header_end == 0x26C


@pytest.mark.parametrize("offset, fmt, value, message", [
    (0x202, "<I", 0x12345678, "no 'HdrS' magic at 0x202"),
    (0x1FE, "<H", 0x1234, "bad boot_flag 0x1234"),
    (0x206, "<H", 0x0206, "boot protocol 2.06 is too old"),
    (0x236, "<H", 0, "no 64-bit entry point"),
    (0x1F1, "<B", 200, "setup_sects 200 claims"),
    (0x211, "<B", 0, "zImage"),
])
def test_bad_headers_name_file_and_field(tmp_path, image, offset, fmt, value, message):
    path = write(tmp_path, patched(image, offset, fmt, value))
    with pytest.raises(LoaderError, match=message) as info:
        load_linux(GuestRam(16 << 20), path, E820)
    assert path in str(info.value)


def test_elf_instead_of_bzimage(tmp_path):
    elf = b"\x7fELF" + bytes(0x400)
    with pytest.raises(LoaderError, match="an ELF file"):
        load_linux(GuestRam(16 << 20), write(tmp_path, elf), E820)


def test_truncated_and_missing(tmp_path):
    with pytest.raises(LoaderError, match="too short"):
        load_linux(GuestRam(16 << 20), write(tmp_path, b"MZ" * 10), E820)
    with pytest.raises(LoaderError, match="kernel file not found"):
        load_linux(GuestRam(16 << 20), str(tmp_path / "missing"), E820)


def test_kernel_larger_than_ram(tmp_path, image):
    big = patched(image, 0x260, "<I", 64 << 20)
    with pytest.raises(LoaderError, match="needs RAM 0x100000-0x4100000.*16 MiB; use a larger -m"):
        load_linux(GuestRam(16 << 20), write(tmp_path, big), E820)


def test_command_line_limit(tmp_path, image):
    with pytest.raises(LoaderError, match="3000 bytes, this kernel takes at most cmdline_size=2047"):
        load_linux(GuestRam(16 << 20), write(tmp_path, image), E820, "x" * 3000)


def test_initrd_that_does_not_fit(tmp_path, image):
    initrd = write(tmp_path, bytes(12 << 20), "initrd")
    with pytest.raises(LoaderError, match="initrd of 12582912 bytes does not fit") as info:
        load_linux(GuestRam(16 << 20), write(tmp_path, image), E820, "", initrd)
    assert initrd in str(info.value)


def test_zero_page(tmp_path, image):
    ram = GuestRam(16 << 20)
    initrd = write(tmp_path, bytes(range(256)) * 40, "initrd")
    boot = load_linux(ram, write(tmp_path, image), E820, "console=ttyS0 quiet", initrd, acpi_rsdp=0xFFFE0)
    params = ram.read(boot.boot_params, 4096)
    assert struct.unpack_from("<Q", params, x86_linux.ACPI_RSDP_ADDR) == (0xFFFE0,)
    assert boot.entry == 0x100200 and ram.read(0x100000, 16) == image[0x400:0x410]
    assert params[0x1F1:0x26C] != bytes(0x7B) and params[0x202:0x206] == b"HdrS"
    assert params[x86_linux.TYPE_OF_LOADER_OFFSET] == 0xFF
    cmdline_ptr, = struct.unpack_from("<I", params, x86_linux.CMD_LINE_PTR)
    assert ram.read(cmdline_ptr, 20) == b"console=ttyS0 quiet\0"
    assert params[x86_linux.E820_ENTRIES] == 3
    table = [struct.unpack_from("<QQI", params, x86_linux.E820_TABLE + 20 * i) for i in range(3)]
    assert table == [(e.address, e.size, e.kind) for e in E820]
    start, size = struct.unpack_from("<II", params, x86_linux.RAMDISK_IMAGE)
    assert (start, start + size) == boot.initrd and start % 4096 == 0 and start + size <= ram.end
    assert ram.read(start, size) == bytes(range(256)) * 40


def test_no_rsdp_by_default(tmp_path, image):
    ram = GuestRam(16 << 20)
    boot = load_linux(ram, write(tmp_path, image), E820)
    assert ram.read(boot.boot_params + x86_linux.ACPI_RSDP_ADDR, 8) == bytes(8)


def test_mptable_checksums_and_entries():
    table = mptable.build_mptable(2, frozenset({5}))
    assert table[:4] == b"_MP_" and sum(table[:16]) % 256 == 0
    config = table[16:]
    length, = struct.unpack_from("<H", config, 4)
    assert config[:4] == b"PCMP" and sum(config[:length]) % 256 == 0 and length == len(config)
    count, = struct.unpack_from("<H", config, 34)
    assert count == 2 + 1 + 1 + 24 + 2  # CPUs, bus, I/O APIC, 24 pins, LINT0/LINT1
    processors = [config[44 + 20 * i:44 + 20 * (i + 1)] for i in range(2)]
    assert [(p[0], p[1], p[3]) for p in processors] == [(0, 0, 3), (0, 1, 1)]
