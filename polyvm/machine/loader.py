"""Loading guest images into RAM: ELF files (polyvm.core.elf) and raw binaries, with clear errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from polyvm.core.elf import CLASS_64, PT_LOAD, ElfFile, ElfFormatError
from polyvm.core.errors import LoaderError
from polyvm.mem.ram import GuestRam

EM_RISCV = 243
MACHINE_NAMES = {EM_RISCV: "RISC-V", 183: "AArch64", 62: "x86-64", 3: "x86"}


@dataclasses.dataclass
class LoadedImage:
    path: str
    entry: int
    low: int
    high: int
    symbols: dict[str, int]


def read_file(path: str | Path, what: str = "image") -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise LoaderError(str(path), f"{what} file not found") from None
    except IsADirectoryError:
        raise LoaderError(str(path), f"{what} path is a directory") from None
    except OSError as err:
        raise LoaderError(str(path), f"cannot read {what}: {err.strerror}") from None


def is_elf(data: bytes) -> bool:
    return data[:4] == b"\x7fELF"


def load_elf(ram: GuestRam, path: str | Path, data: bytes, machine: int = EM_RISCV) -> LoadedImage:
    """Copy every PT_LOAD segment to its physical address; zero the bss part."""
    try:
        elf = ElfFile(data)
        if elf.machine != machine:
            raise LoaderError(
                str(path), f"ELF is for {MACHINE_NAMES.get(elf.machine, f'machine {elf.machine}')}, "
                           f"not {MACHINE_NAMES.get(machine, machine)}"
            )
        if elf.elf_class != CLASS_64:
            raise LoaderError(str(path), "ELF is 32-bit; a 64-bit guest image is needed")
        low, high = None, 0
        for segment in elf.segments():
            if segment.type != PT_LOAD or segment.memsz == 0:
                continue
            paddr, memsz = segment.paddr, segment.memsz
            if not ram.contains(paddr, memsz):
                raise LoaderError(
                    str(path),
                    f"segment 0x{paddr:x}-0x{paddr + memsz:x} is outside RAM "
                    f"0x{ram.base:x}-0x{ram.end:x}",
                )
            content = elf.segment_data(segment)
            ram.write(paddr, content)
            if memsz > len(content):
                ram.write(paddr + len(content), bytes(memsz - len(content)))
            low = paddr if low is None else min(low, paddr)
            high = max(high, paddr + memsz)
        if low is None:
            raise LoaderError(str(path), "ELF has no loadable segments")
        symbols = {symbol.name: symbol.value for symbol in elf.symbols() if symbol.name}
        return LoadedImage(str(path), elf.entry, low, high, symbols)
    except ElfFormatError as err:
        raise LoaderError(str(path), f"corrupt ELF file: {err}") from None


def load_raw(ram: GuestRam, path: str | Path, data: bytes, address: int) -> LoadedImage:
    if not data:
        raise LoaderError(str(path), "image file is empty")
    if not ram.contains(address, len(data)):
        raise LoaderError(
            str(path),
            f"{len(data)} bytes at 0x{address:x} do not fit in RAM 0x{ram.base:x}-0x{ram.end:x}",
        )
    ram.write(address, data)
    return LoadedImage(str(path), address, address, address + len(data), {})


def load_image(ram: GuestRam, path: str | Path, address: int, what: str = "kernel") -> LoadedImage:
    """An ELF at its own addresses, anything else as a raw binary at ``address``."""
    data = read_file(path, what)
    if is_elf(data):
        return load_elf(ram, path, data)
    return load_raw(ram, path, data, address)
