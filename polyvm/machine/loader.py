"""Loading guest images into RAM: ELF files (pyelftools) and raw binaries, with clear errors."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

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
        elf = ELFFile(io.BytesIO(data))
        got = elf["e_machine"]
        if got != f"EM_{_pyelf_machine(machine)}":
            raise LoaderError(
                str(path), f"ELF is for {got}, not {MACHINE_NAMES.get(machine, machine)}"
            )
        if elf.elfclass != 64:
            raise LoaderError(str(path), "ELF is 32-bit; a 64-bit guest image is needed")
        low, high = None, 0
        for segment in elf.iter_segments():
            if segment["p_type"] != "PT_LOAD" or segment["p_memsz"] == 0:
                continue
            paddr, memsz = segment["p_paddr"], segment["p_memsz"]
            if not ram.contains(paddr, memsz):
                raise LoaderError(
                    str(path),
                    f"segment 0x{paddr:x}-0x{paddr + memsz:x} is outside RAM "
                    f"0x{ram.base:x}-0x{ram.end:x}",
                )
            content = segment.data()
            ram.write(paddr, content)
            if memsz > len(content):
                ram.write(paddr + len(content), bytes(memsz - len(content)))
            low = paddr if low is None else min(low, paddr)
            high = max(high, paddr + memsz)
        if low is None:
            raise LoaderError(str(path), "ELF has no loadable segments")
        symbols = {}
        for section in elf.iter_sections():
            if isinstance(section, SymbolTableSection):
                for symbol in section.iter_symbols():
                    if symbol.name:
                        symbols[symbol.name] = symbol["st_value"]
        return LoadedImage(str(path), elf.header.e_entry, low, high, symbols)
    except (ELFError, ValueError, KeyError) as err:
        raise LoaderError(str(path), f"corrupt ELF file: {err}") from None


def _pyelf_machine(machine: int) -> str:
    return {EM_RISCV: "RISCV", 183: "AARCH64", 62: "X86_64"}.get(machine, str(machine))


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
