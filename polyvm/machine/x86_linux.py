"""Loading a Linux bzImage, its initrd and command line into guest RAM with a ``boot_params`` page
(the "zero page") for the 64-bit boot protocol: e820 map, command-line pointer, initrd address and size,
type_of_loader 0xff and, when the board has ACPI tables, acpi_rsdp_addr (read by kernels of boot
protocol 2.14 and later; older ones scan for the RSDP). The vCPU then enters at ``entry`` with %rsi =
``boot_params``.
"""

from __future__ import annotations

import dataclasses
import struct
from pathlib import Path

from polyvm.core.errors import LoaderError
from polyvm.machine.bzimage import ENTRY_64_OFFSET, HEADER_OFFSET, parse_setup_header
from polyvm.machine.loader import read_file
from polyvm.mem.ram import GuestRam

BOOT_PARAMS_ADDRESS = 0x7000
CMDLINE_ADDRESS = 0x2_0000
PAGE = 0x1000
E820_RAM, E820_RESERVED = 1, 2
E820_MAX_ENTRIES = 128
TYPE_OF_LOADER = 0xFF
"""An undefined boot loader (boot.rst: 0xff)."""

# boot_params offsets (arch/x86/include/uapi/asm/bootparam.h)
ACPI_RSDP_ADDR = 0x070
EXT_RAMDISK_IMAGE, EXT_RAMDISK_SIZE, EXT_CMD_LINE_PTR = 0x0C0, 0x0C4, 0x0C8
E820_ENTRIES, E820_TABLE = 0x1E8, 0x2D0
TYPE_OF_LOADER_OFFSET = 0x210
RAMDISK_IMAGE, RAMDISK_SIZE, CMD_LINE_PTR = 0x218, 0x21C, 0x228
E820_ENTRY = struct.Struct("<QQI")


@dataclasses.dataclass(frozen=True)
class E820Entry:
    address: int
    size: int
    kind: int = E820_RAM


@dataclasses.dataclass(frozen=True)
class LinuxBoot:
    """Where things went: the 64-bit entry, the zero page, the kernel's memory and the initrd."""

    entry: int
    boot_params: int
    kernel_start: int
    kernel_end: int
    initrd: tuple[int, int] | None
    cmdline: str


def load_linux(ram: GuestRam, kernel: str | Path, e820: list[E820Entry], cmdline: str = "",
               initrd: str | Path | None = None, acpi_rsdp: int = 0) -> LinuxBoot:
    """Place the bzImage ``kernel`` (and ``initrd``) in ``ram`` and write the zero page; ``acpi_rsdp``
    is the guest physical address of the RSDP (0: none)."""
    path = str(kernel)
    data = read_file(kernel, "kernel")
    header = parse_setup_header(data, path)
    load = header.load_address
    payload = memoryview(data)[header.setup_size:]
    end = load + max(len(payload), header.init_size)
    if not ram.contains(load, end - load):
        raise LoaderError(path, f"the kernel needs RAM 0x{load:x}-0x{end:x} (load address + init_size "
                                f"0x{header.init_size:x}) but the VM has {ram.size >> 20} MiB; "
                                "use a larger -m")
    encoded = cmdline.encode()
    if len(encoded) > header.cmdline_size:
        raise LoaderError(path, f"the command line has {len(encoded)} bytes, this kernel takes at most "
                                f"cmdline_size={header.cmdline_size}")
    ram.write(load, payload)

    params = bytearray(PAGE)
    params[HEADER_OFFSET:header.header_end] = data[HEADER_OFFSET:header.header_end]
    params[TYPE_OF_LOADER_OFFSET] = TYPE_OF_LOADER
    struct.pack_into("<Q", params, ACPI_RSDP_ADDR, acpi_rsdp)
    struct.pack_into("<I", params, CMD_LINE_PTR, CMDLINE_ADDRESS)
    ram.write(CMDLINE_ADDRESS, encoded + b"\0")
    if len(e820) > E820_MAX_ENTRIES:
        raise LoaderError(path, f"{len(e820)} e820 entries, boot_params holds {E820_MAX_ENTRIES}")
    params[E820_ENTRIES] = len(e820)
    for index, entry in enumerate(e820):
        offset = E820_TABLE + index * E820_ENTRY.size
        E820_ENTRY.pack_into(params, offset, entry.address, entry.size, entry.kind)
    initrd_range = None
    if initrd is not None:
        initrd_range = _place_initrd(ram, initrd, end, header.initrd_addr_max)
        start, stop = initrd_range
        struct.pack_into("<II", params, RAMDISK_IMAGE, start & 0xFFFF_FFFF, (stop - start) & 0xFFFF_FFFF)
        struct.pack_into("<II", params, EXT_RAMDISK_IMAGE, start >> 32, (stop - start) >> 32)
    ram.write(BOOT_PARAMS_ADDRESS, params)
    return LinuxBoot(load + ENTRY_64_OFFSET, BOOT_PARAMS_ADDRESS, load, end, initrd_range, cmdline)


def _place_initrd(ram: GuestRam, initrd: str | Path, kernel_end: int, addr_max: int) -> tuple[int, int]:
    """The initrd as high as possible below initrd_addr_max and the end of RAM, page aligned (QEMU's rule)."""
    data = read_file(initrd, "initrd")
    if not data:
        raise LoaderError(str(initrd), "initrd file is empty")
    limit = min(addr_max + 1, ram.end)
    start = (limit - len(data)) & ~(PAGE - 1)
    if start < kernel_end:
        raise LoaderError(str(initrd), f"initrd of {len(data)} bytes does not fit between the kernel "
                                       f"(ends 0x{kernel_end:x}) and 0x{limit:x}; use a larger -m")
    ram.write(start, data)
    return start, start + len(data)
