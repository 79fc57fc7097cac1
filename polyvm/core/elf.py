"""A small reader of 64-bit little-endian ELF files: the header, loadable segments, sections and
symbols, which is all the image loader and the JIT's bundles need.

It replaced pyelftools on the paths every ``polyvm run`` takes: importing pyelftools (its DWARF,
construct and pdb modules) took ~33 ms of each command, reading these fields with ``struct`` well
under 1 ms (benchmarks/boot.py measures the command). Malformed files raise ElfFormatError.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

HEADER = struct.Struct("<16sHHIQQQIHHHHHH")
PROGRAM_HEADER = struct.Struct("<IIQQQQQQ")
SECTION_HEADER = struct.Struct("<IIQQQQIIQQ")
SYMBOL = struct.Struct("<IBBHQQ")
CLASS_64, LITTLE_ENDIAN = 2, 1
PT_LOAD = 1
SHT_SYMTAB, SHT_NOBITS, SHT_DYNSYM = 2, 8, 11
STT_FUNC = 2
SHN_LORESERVE = 0xFF00
"""Section indices from here up are special (absolute, common, ...), not sections."""
SHN_XINDEX = 0xFFFF
"""e_shstrndx of a file whose name table's index is in section 0's sh_link."""


class ElfFormatError(ValueError):
    """The bytes are not a well-formed ELF file of the kind this reader reads."""


class Segment(NamedTuple):
    type: int
    offset: int
    paddr: int
    filesz: int
    memsz: int


class Section(NamedTuple):
    name: str
    type: int
    offset: int
    size: int
    link: int


class Symbol(NamedTuple):
    name: str
    type: int
    section: int
    value: int


class ElfFile:
    """The ELF file whose bytes are ``data``."""

    def __init__(self, data: bytes) -> None:
        if data[:4] != b"\x7fELF" or len(data) < 20:
            raise ElfFormatError("no ELF header")
        self.data = data
        self.elf_class, self.little_endian = data[4], data[5] == LITTLE_ENDIAN
        self.machine = struct.unpack_from("<H" if self.little_endian else ">H", data, 18)[0]
        """e_machine (EM_*), readable whatever the class and byte order."""
        self.entry = 0
        self._phoff = self._shoff = self._phentsize = self._phnum = 0
        self._shentsize = self._shnum = self._shstrndx = 0
        if self.elf_class == CLASS_64 and self.little_endian:
            if len(data) < HEADER.size:
                raise ElfFormatError("the ELF header is cut short")
            fields = HEADER.unpack_from(data)
            (self.entry, self._phoff, self._shoff, self._phentsize, self._phnum, self._shentsize,
             self._shnum, self._shstrndx) = (*fields[4:7], *fields[9:])

    def _check_readable(self) -> None:
        if self.elf_class != CLASS_64 or not self.little_endian:
            raise ElfFormatError("only 64-bit little-endian ELF files are read")

    def _table(self, offset: int, entry: struct.Struct, entry_size: int, count: int) -> list[tuple]:
        if count and entry_size < entry.size:
            raise ElfFormatError(f"table entries of {entry_size} bytes are too small")
        if offset + entry_size * count > len(self.data):
            raise ElfFormatError(f"a table at 0x{offset:x} runs past the end of the file")
        return [entry.unpack_from(self.data, offset + index * entry_size) for index in range(count)]

    def segments(self) -> list[Segment]:
        """Every program header."""
        self._check_readable()
        return [Segment(kind, offset, paddr, filesz, memsz) for kind, _, offset, _, paddr, filesz, memsz, _
                in self._table(self._phoff, PROGRAM_HEADER, self._phentsize, self._phnum)]

    def segment_data(self, segment: Segment) -> bytes:
        """The file bytes of ``segment`` (its filesz)."""
        if segment.offset + segment.filesz > len(self.data):
            raise ElfFormatError(f"a segment at 0x{segment.offset:x} runs past the end of the file")
        return self.data[segment.offset: segment.offset + segment.filesz]

    def sections(self) -> list[Section]:
        """Every section header, with its name ("" for all when the file has no name table)."""
        self._check_readable()
        count, names_index = self._shnum, self._shstrndx
        if self._shoff and (count == 0 or names_index == SHN_XINDEX):
            # Extended numbering: section 0's size and link hold what does not fit the header.
            first = self._table(self._shoff, SECTION_HEADER, self._shentsize, 1)[0]
            count = count or first[5]
            names_index = first[6] if names_index == SHN_XINDEX else names_index
        raw = self._table(self._shoff, SECTION_HEADER, self._shentsize, count) if self._shoff else []
        if raw and names_index >= len(raw):
            raise ElfFormatError(f"section names are in section {names_index}, which does not exist")
        names = raw[names_index] if names_index else None
        return [Section(self._string(names[4], names[5], name) if names else "", kind, offset, size, link)
                for name, kind, _, _, offset, size, link, _, _, _ in raw]

    def section(self, name: str) -> Section | None:
        return next((section for section in self.sections() if section.name == name), None)

    def section_data(self, section: Section) -> bytes:
        if section.type == SHT_NOBITS:
            return b""
        if section.offset + section.size > len(self.data):
            raise ElfFormatError(f"section {section.name!r} runs past the end of the file")
        return self.data[section.offset: section.offset + section.size]

    def symbols(self, table: Section | None = None) -> list[Symbol]:
        """The symbols of ``table``, or of every symbol table (.symtab and .dynsym)."""
        sections = self.sections()
        tables = [table] if table is not None else [s for s in sections if s.type in (SHT_SYMTAB, SHT_DYNSYM)]
        found = []
        for symtab in tables:
            if symtab.link >= len(sections):
                raise ElfFormatError(f"symbol table {symtab.name!r} names a missing string table")
            strings = sections[symtab.link]
            data = self.section_data(symtab)
            entries = SYMBOL.iter_unpack(data[: len(data) - len(data) % SYMBOL.size])
            found += [Symbol(self._string(strings.offset, strings.size, name), info & 0xF, shndx, value)
                      for name, info, _, shndx, value, _ in entries]
        return found

    def _string(self, table_offset: int, table_size: int, index: int) -> str:
        if index >= table_size or table_offset + table_size > len(self.data):
            raise ElfFormatError(f"a name at {index} is outside its string table")
        end = self.data.find(b"\0", table_offset + index, table_offset + table_size)
        return self.data[table_offset + index: end if end >= 0 else table_offset + table_size].decode(
            "utf-8", "replace")
