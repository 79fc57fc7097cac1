"""polyvm.core.elf reads what pyelftools reads (segments, sections, symbols) from real files: the
committed demo guest (a linked executable) and an object LLVM writes (as the JIT's bundles are);
malformed files give clear LoaderErrors naming the file."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import llvmlite.binding as llvm
import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

import polyvm
from polyvm.core.elf import ElfFile
from polyvm.core.errors import LoaderError
from polyvm.engine.jit.object_bundles import function_offsets
from polyvm.machine.loader import load_elf
from polyvm.mem.ram import GuestRam

DEMO = Path(polyvm.__file__).parent / "demo" / "hello-riscv64.elf"


def llvm_object() -> bytes:
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    module = llvm.parse_assembly(
        "define i64 @first(i64 %x) { %y = add i64 %x, 1\n ret i64 %y }\n"
        "define i64 @second(i64 %x) { %y = call i64 @first(i64 %x)\n ret i64 %y }\n")
    target = llvm.Target.from_default_triple().create_target_machine(reloc="pic", codemodel="small")
    return target.emit_object(module)


@pytest.mark.parametrize("data", [DEMO.read_bytes(), llvm_object()], ids=["demo executable", "llvm object"])
def test_the_reader_agrees_with_pyelftools(data):
    ours, theirs = ElfFile(data), ELFFile(io.BytesIO(data))
    assert ours.entry == theirs.header.e_entry
    assert [(s.type, s.offset, s.paddr, s.filesz, s.memsz) for s in ours.segments()] == [
        (seg.header.p_type if isinstance(seg.header.p_type, int) else _PT[seg.header.p_type],
         seg["p_offset"], seg["p_paddr"], seg["p_filesz"], seg["p_memsz"]) for seg in theirs.iter_segments()]
    assert [(s.name, s.offset, s.size) for s in ours.sections()] == [
        (sec.name, sec["sh_offset"], sec["sh_size"]) for sec in theirs.iter_sections()]
    expected = [(sym.name, sym["st_value"]) for sec in theirs.iter_sections()
                if isinstance(sec, SymbolTableSection) for sym in sec.iter_symbols()]
    assert [(sym.name, sym.value) for sym in ours.symbols()] == expected
    assert any(name for name, _ in expected)


_PT = {"PT_NULL": 0, "PT_LOAD": 1, "PT_DYNAMIC": 2, "PT_INTERP": 3, "PT_NOTE": 4, "PT_PHDR": 6,
       "PT_TLS": 7, "PT_GNU_EH_FRAME": 0x6474E550, "PT_GNU_STACK": 0x6474E551,
       "PT_GNU_RELRO": 0x6474E552, "PT_RISCV_ATTRIBUTES": 0x70000003}


def test_bundle_function_offsets_are_the_functions_sections_and_values(tmp_path):
    bundle = tmp_path / "bundle.o"
    bundle.write_bytes(llvm_object())
    theirs = ELFFile(io.BytesIO(bundle.read_bytes())).get_section_by_name(".symtab")
    expected = {sym.name: (sym["st_shndx"], sym["st_value"]) for sym in theirs.iter_symbols()
                if sym["st_info"]["type"] == "STT_FUNC"}
    assert function_offsets(bundle) == expected
    assert set(expected) == {"first", "second"}


def test_the_loader_places_the_demo_and_finds_its_symbols():
    ram = GuestRam(1 << 20, base=0x8000_0000)
    image = load_elf(ram, DEMO, DEMO.read_bytes())
    assert image.entry == ELFFile(io.BytesIO(DEMO.read_bytes())).header.e_entry
    assert image.symbols and all(isinstance(value, int) for value in image.symbols.values())


def _with(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    patched = bytearray(data)
    struct.pack_into(fmt, patched, offset, value)
    return bytes(patched)


@pytest.mark.parametrize("mangle, message", [
    (lambda data: data[:40], "corrupt ELF file: the ELF header is cut short"),
    (lambda data: _with(data, 0x28, "<Q", len(data) + 64), "corrupt ELF file: a table at .* runs past"),
    (lambda data: _with(data, 0x12, "<H", 183), "ELF is for AArch64, not RISC-V"),
    (lambda data: _with(data, 0x4, "<B", 1), "ELF is 32-bit"),
], ids=["short header", "section table past the end", "another machine", "32-bit"])
def test_malformed_files_give_loader_errors_naming_the_file(mangle, message):
    with pytest.raises(LoaderError, match=message) as info:
        load_elf(GuestRam(1 << 20, base=0x8000_0000), "guest.elf", mangle(DEMO.read_bytes()))
    assert "guest.elf" in str(info.value)


def test_a_file_without_a_section_name_table_still_gives_its_symbols():
    data = _with(DEMO.read_bytes(), 0x3E, "<H", 0)  # e_shstrndx = SHN_UNDEF
    ours = ElfFile(data)
    assert {section.name for section in ours.sections()} == {""}
    assert ours.symbols() == ElfFile(DEMO.read_bytes()).symbols()


def test_extended_section_numbering_is_read():
    """e_shnum 0 and e_shstrndx SHN_XINDEX: the counts are in section 0's sh_size and sh_link."""
    data = DEMO.read_bytes()
    shoff, shnum, shstrndx = struct.unpack_from("<Q", data, 0x28)[0], *struct.unpack_from("<HH", data, 0x3C)
    data = _with(_with(_with(data, 0x3C, "<H", 0), 0x3E, "<H", 0xFFFF), shoff + 32, "<Q", shnum)
    data = _with(data, shoff + 40, "<I", shstrndx)
    assert ElfFile(data).sections()[1:] == ElfFile(DEMO.read_bytes()).sections()[1:]
