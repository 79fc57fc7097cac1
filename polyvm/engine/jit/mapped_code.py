"""Bundles run where mmap puts them, instead of being linked by MCJIT.

Block functions reach everything through their arguments, the context block and the jump tables,
so LLVM writes no relocation into their code: a bundle (object_bundles.py) made of them is code
that runs at any address. ``map_code`` maps such a bundle's code sections straight from the file,
read-only and executable: one system call, and the kernel reads only the pages that run. MCJIT
read, copied and finalised every bundle it linked, ~0.13 s for the ~26 bundles (60-70 MB) of a
warm Linux boot (benchmarks/boot.py). A bundle that has anything besides code and unwind tables,
or a relocation into its code, is not mapped (``None``): the caller links it with MCJIT.

Bundles are replaced by rename and pruned by unlink, never rewritten in place, so a mapping stays
valid after its file is gone. Mappings live as long as the process (code in the jump tables may
still point into them).
"""

from __future__ import annotations

import ctypes
import mmap
import os
from typing import BinaryIO

from polyvm.core.elf import HEADER as ELF_HEADER
from polyvm.core.elf import SECTION_HEADER, SHT_NOBITS

SHF_ALLOC, SHF_EXECINSTR = 0x2, 0x4
SHT_RELA, SHT_REL = 4, 9
ET_REL = 1
UNWIND_SECTIONS = (b".eh_frame",)
"""Loaded sections that are not code and that native code never reads (functions are nounwind)."""

_libc = ctypes.CDLL(None, use_errno=True)
_mmap = _libc.mmap
_mmap.restype = ctypes.c_void_p
_mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long)
MAP_FAILED = ctypes.c_void_p(-1).value


def code_sections(file: BinaryIO) -> dict[int, tuple[int, int]] | None:
    """The code sections of the relocatable object open as ``file`` as {section index: (file
    offset, size)}, if the object can run unlinked (see the module docstring); else None."""
    header = file.read(ELF_HEADER.size)
    if len(header) < ELF_HEADER.size or header[:5] != b"\x7fELF\x02" or header[5] != 1:
        return None
    fields = ELF_HEADER.unpack(header)
    kind, table = fields[1], fields[6]
    entry_size, count, names_index = fields[11:14]
    if kind != ET_REL or entry_size != SECTION_HEADER.size or not 0 < names_index < count:
        return None
    file.seek(table)
    raw = file.read(entry_size * count)
    if len(raw) < entry_size * count:
        return None
    sections = [SECTION_HEADER.unpack_from(raw, i * entry_size) for i in range(count)]
    names_offset, names_size = sections[names_index][4], sections[names_index][5]
    file.seek(names_offset)
    names = file.read(names_size)
    size = os.fstat(file.fileno()).st_size
    code: dict[int, tuple[int, int]] = {}
    unwind: set[int] = set()
    for index, (name, kind, flags, _, offset, length, *_rest) in enumerate(sections):
        if not flags & SHF_ALLOC:
            continue
        if flags & SHF_EXECINSTR and kind != SHT_NOBITS:
            if offset + length > size:
                return None
            if length:
                code[index] = (offset, length)
        elif names[name:names.find(b"\0", name)] in UNWIND_SECTIONS:
            unwind.add(index)
        else:
            return None
    for kind, target in ((s[1], s[7]) for s in sections):
        if kind in (SHT_RELA, SHT_REL) and target not in unwind:
            return None
    return code


def map_code(path: str) -> dict[int, int] | None:
    """Map the code sections of the object ``path`` (``code_sections``, read from the same open
    file) executable: {section index: the host address where it starts}; None if the object
    cannot be read or run unlinked, or mapping failed."""
    try:
        with open(path, "rb") as file:
            code = code_sections(file)
            if not code:
                return None
            starts: dict[int, int] = {}
            for index, (offset, length) in code.items():
                aligned = offset - offset % mmap.PAGESIZE
                address = _mmap(None, offset - aligned + length, mmap.PROT_READ | mmap.PROT_EXEC,
                                mmap.MAP_PRIVATE, file.fileno(), aligned)
                if address in (None, MAP_FAILED):
                    return None
                starts[index] = address + offset - aligned
    except OSError:
        return None
    return starts
