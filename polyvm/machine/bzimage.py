"""The Linux x86 boot protocol (Documentation/arch/x86/boot.rst): reading a bzImage's setup header and
placing its protected-mode kernel, as a 64-bit boot loader does.

A bzImage is ``setup_sects + 1`` sectors of real-mode setup code (whose second half of sector 0 holds
the setup header) followed by the protected-mode kernel. A 64-bit loader copies the protected-mode
part to its load address and jumps to load address + 0x200 (``startup_64``) in long mode, with %rsi
pointing to a ``boot_params`` page whose ``hdr`` is a copy of the image's setup header.
"""

from __future__ import annotations

import dataclasses
import struct

from polyvm.core.errors import LoaderError

SECTOR = 512
HEADER_OFFSET = 0x1F1
BOOT_FLAG = 0xAA55
MAGIC = b"HdrS"
MIN_VERSION = 0x020C
"""2.12: xloadflags, and with it the promise of a 64-bit entry point (XLF_KERNEL_64)."""
XLF_KERNEL_64 = 0x1
ENTRY_64_OFFSET = 0x200
DEFAULT_LOAD_ADDRESS = 0x10_0000
DEFAULT_SETUP_SECTS = 4
LOADED_HIGH = 0x01
HEADER_LIMIT = 0x290
"""Where ``hdr`` ends inside boot_params (edd_mbr_sig_buffer follows)."""


@dataclasses.dataclass(frozen=True)
class SetupHeader:
    """The setup-header fields a 64-bit loader reads (offsets as in boot.rst)."""

    setup_sects: int
    version: int
    loadflags: int
    initrd_addr_max: int
    kernel_alignment: int
    relocatable_kernel: bool
    xloadflags: int
    cmdline_size: int
    pref_address: int
    init_size: int
    header_end: int
    """File offset just past the setup header: 0x202 + the byte at 0x201 (the jump's displacement)."""

    @property
    def setup_size(self) -> int:
        return (self.setup_sects + 1) * SECTOR

    @property
    def load_address(self) -> int:
        """pref_address for a relocatable kernel (already aligned by construction), else 1 MiB."""
        if self.relocatable_kernel and self.pref_address:
            return self.pref_address
        return DEFAULT_LOAD_ADDRESS

    def version_text(self) -> str:
        return f"{self.version >> 8}.{self.version & 0xFF:02d}"


def parse_setup_header(data: bytes, path: str) -> SetupHeader:
    """The setup header of the bzImage ``data`` read from ``path``; LoaderError says what is wrong."""
    if len(data) < 0x268:
        raise LoaderError(path, f"{len(data)} bytes is too short for a bzImage setup header")
    boot_flag, = struct.unpack_from("<H", data, 0x1FE)
    if data[0x202:0x206] != MAGIC:
        found = "an ELF file (give a bzImage, e.g. arch/x86/boot/bzImage)" if data[:4] == b"\x7fELF" else \
            f"{data[0x202:0x206]!r}"
        raise LoaderError(path, f"not a Linux bzImage: no 'HdrS' magic at 0x202, found {found}")
    if boot_flag != BOOT_FLAG:
        raise LoaderError(path, f"bad boot_flag 0x{boot_flag:04x} at 0x1fe (expected 0xaa55)")
    version, = struct.unpack_from("<H", data, 0x206)
    setup_sects = data[0x1F1] or DEFAULT_SETUP_SECTS
    header = SetupHeader(
        setup_sects=setup_sects,
        version=version,
        loadflags=data[0x211],
        initrd_addr_max=struct.unpack_from("<I", data, 0x22C)[0],
        kernel_alignment=struct.unpack_from("<I", data, 0x230)[0],
        relocatable_kernel=bool(data[0x234]),
        xloadflags=struct.unpack_from("<H", data, 0x236)[0],
        cmdline_size=struct.unpack_from("<I", data, 0x238)[0],
        pref_address=struct.unpack_from("<Q", data, 0x258)[0],
        init_size=struct.unpack_from("<I", data, 0x260)[0],
        header_end=0x202 + data[0x201],
    )
    if version < MIN_VERSION:
        raise LoaderError(path, f"boot protocol {header.version_text()} is too old: the 64-bit entry needs "
                                "2.12 or later (Linux 3.8+)")
    if not header.xloadflags & XLF_KERNEL_64:
        raise LoaderError(path, "the kernel has no 64-bit entry point (XLF_KERNEL_64 is clear in "
                                "xloadflags): it is a 32-bit kernel")
    if not header.loadflags & LOADED_HIGH:
        raise LoaderError(path, "a zImage (loaded at 0x10000) is not supported: LOADED_HIGH is clear")
    if header.setup_size >= len(data):
        raise LoaderError(path, f"setup_sects {setup_sects} claims {header.setup_size} bytes of setup "
                                f"code but the file has {len(data)} bytes")
    if not 0x202 < header.header_end <= HEADER_LIMIT:
        raise LoaderError(path, f"setup header end 0x{header.header_end:x} (from the jump at 0x200) "
                                "is implausible")
    if header.relocatable_kernel and header.kernel_alignment & (header.kernel_alignment - 1):
        raise LoaderError(path, f"kernel_alignment 0x{header.kernel_alignment:x} is not a power of two")
    if header.relocatable_kernel and header.kernel_alignment and \
            header.pref_address % header.kernel_alignment:
        raise LoaderError(path, f"pref_address 0x{header.pref_address:x} is not aligned to "
                                f"kernel_alignment 0x{header.kernel_alignment:x}")
    return header
