"""RISC-V code for JIT tests: rvgen sequences (or any source) assembled and linked at RAM.

Sequence ``i`` starts at ``RAM + i * 4096`` (symbol ``seq_i``) and ends with an ebreak at symbol
``end_i``. The linked ELF is cached under the polyvm cache, keyed by the source and the tools.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from elftools.elf.elffile import ELFFile

from polyvm import ExecMode, RiscvHart, SoftMmu, VmConfig
from polyvm.devtools.cache import cache_dir, content_key
from polyvm.devtools.rvgen import FORMS, GenSequence, generate_sequence
from polyvm.engine.interpreter.engine import Interpreter
from polyvm.engine.interpreter.pycodegen import arithmetic_helpers
from polyvm.mem.paging import PagingMode

RAM = 0x8000_0000
RAM_SIZE = 1 << 21
AS = "riscv64-unknown-elf-as"
LD = "riscv64-unknown-elf-ld"


@dataclass(frozen=True)
class GuestCode:
    text: bytes
    starts: list[int]
    ends: list[int]
    sequences: list[GenSequence]


def tools_available() -> bool:
    return shutil.which(AS) is not None and shutil.which(LD) is not None


def _source(sequences: list[GenSequence]) -> str:
    lines = [".option norelax", ".text"]
    for i, seq in enumerate(sequences):
        lines += [".balign 4096", f".globl seq_{i}", f"seq_{i}:", *seq.body,
                  ".option norvc", f".globl end_{i}", f"end_{i}:", "ebreak"]
    return "\n".join(lines) + "\n"


def _version(tool: str) -> str:
    return subprocess.run([tool, "--version"], capture_output=True, text=True, check=True).stdout


NO_HELPERS = tuple(form for form in FORMS if form.family not in ("amo", "lrsc"))
"""Forms whose IR has no CALLs: blocks of them run natively end to end."""


def build(seeds: list[int]) -> GuestCode:
    """Sequences for ``seeds``; those with odd seeds use only the NO_HELPERS forms."""
    sequences = [generate_sequence(seed, NO_HELPERS if seed % 2 else FORMS) for seed in seeds]
    text, symbols = link(_source(sequences))
    count = len(sequences)
    return GuestCode(text, [symbols[f"seq_{i}"] for i in range(count)],
                     [symbols[f"end_{i}"] for i in range(count)], sequences)


def link(source: str) -> tuple[bytes, dict[str, int]]:
    """Assemble and link ``source`` at RAM: the .text bytes and the symbol table."""
    folder = cache_dir("jit-tests")
    elf = folder / f"{content_key(source, _version(AS), _version(LD))}.elf"
    if not elf.exists():
        asm = folder / f"{elf.stem}.s"
        obj = folder / f"{elf.stem}.o"
        asm.write_text(source)
        subprocess.run([AS, "-march=rv64imac_zicsr", "-mabi=lp64", "-mno-relax", "-o", obj, asm], check=True)
        tmp = folder / f"{elf.stem}.tmp"
        subprocess.run([LD, f"-Ttext=0x{RAM:x}", "-e", f"0x{RAM:x}", "-o", tmp, obj], check=True)
        tmp.replace(elf)
    with elf.open("rb") as stream:
        image = ELFFile(stream)
        text = image.get_section_by_name(".text")
        symbols = {s.name: s["st_value"] for s in image.get_section_by_name(".symtab").iter_symbols()}
        assert text["sh_addr"] == RAM
        return text.data(), symbols


def machine() -> tuple[RiscvHart, dict]:
    """A bare-mode hart on RAM_SIZE bytes at RAM, and the namespace its generated code runs in."""
    mmu = SoftMmu(RAM_SIZE, PagingMode.NONE, ram_base=RAM)
    hart = RiscvHart(0, mmu, lambda: 0)
    namespace: dict = {"M": (1 << 64) - 1, "S": 1 << 63, "RD": mmu.rd, "WR": mmu.wr}
    namespace.update(arithmetic_helpers())
    namespace.update(hart.helpers())
    for bits in ("8", "16", "32", "64"):
        namespace["U" + bits] = getattr(mmu.ram, "u" + bits)
        namespace["S" + bits] = getattr(mmu.ram, "s" + bits)
    return hart, namespace


def parcels(text: bytes) -> Callable[[int], int | None]:
    """A translator fetch function over ``text`` loaded at RAM."""

    def fetch16(pc: int) -> int | None:
        offset = pc - RAM
        return int.from_bytes(text[offset:offset + 2], "little") if 0 <= offset < len(text) else None

    return fetch16


def linked_engine(source: str, mode: ExecMode,
                  ram_size: int = RAM_SIZE) -> tuple[Interpreter, dict[str, int]]:
    """``source`` linked at RAM in a bare-mode hart's ``ram_size`` bytes, with mtvec at its symbol
    ``handler``, and the engine of ``mode`` over it (JIT and HYBRID: hybrid.py); and the symbols."""
    from polyvm.engine.hybrid import HybridEngine  # llvmlite only for the native modes

    text, symbols = link(source)
    mmu = SoftMmu(ram_size, PagingMode.NONE, ram_base=RAM)
    mmu.ram.write(RAM, text)
    hart = RiscvHart(0, mmu, lambda: 0)
    hart.mtvec = symbols["handler"]
    config = VmConfig().with_exec_mode(mode)
    engine = (Interpreter(config, hart) if mode is ExecMode.INTERPRETER
              else HybridEngine(config, hart, compile_all=mode is ExecMode.JIT))
    return engine, symbols
