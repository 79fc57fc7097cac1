"""Writes a minimal RISC-V ELF (code at 0x8000_0000, tohost/fromhost symbols) for host-side tests."""

import struct
from pathlib import Path


def write_riscv_elf(path: Path, code: bytes, base: int = 0x8000_0000) -> Path:
    tohost = base + 0x1000
    payload = code.ljust(0x1000, b"\0") + bytes(16)
    strtab = b"\0tohost\0fromhost\0"
    shstrtab = b"\0.text\0.symtab\0.strtab\0.shstrtab\0"
    symtab = bytes(24) + b"".join(
        struct.pack("<IBBHQQ", name, 0x10, 0, 1, addr, 8) for name, addr in ((1, tohost), (8, tohost + 8))
    )
    ehsize, phsize, shsize = 64, 56, 64
    text_off = ehsize + phsize
    sym_off = text_off + len(payload)
    str_off = sym_off + len(symtab)
    shstr_off = str_off + len(strtab)
    sh_off = (shstr_off + len(shstrtab) + 7) & ~7
    header = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    header += struct.pack("<HHIQQQIHHHHHH", 2, 243, 1, base, ehsize, sh_off, 0, ehsize, phsize, 1,
                          shsize, 5, 4)
    phdr = struct.pack("<IIQQQQQQ", 1, 7, text_off, base, base, len(payload), len(payload), 0x1000)
    sections = [
        bytes(64),
        struct.pack("<IIQQQQIIQQ", 1, 1, 6, base, text_off, len(payload), 0, 0, 4, 0),
        struct.pack("<IIQQQQIIQQ", 7, 2, 0, 0, sym_off, len(symtab), 3, 1, 8, 24),
        struct.pack("<IIQQQQIIQQ", 15, 3, 0, 0, str_off, len(strtab), 0, 0, 1, 0),
        struct.pack("<IIQQQQIIQQ", 23, 3, 0, 0, shstr_off, len(shstrtab), 0, 0, 1, 0),
    ]
    body = header + phdr + payload + symtab + strtab + shstrtab
    body = body.ljust(sh_off, b"\0") + b"".join(sections)
    path.write_bytes(body)
    return path
