"""The random program generator: reproducible, assembles, keeps its base-register contract."""

import re
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from polyvm.devtools import rvgen

GCC = "riscv64-unknown-elf-gcc"
OBJDUMP = "riscv64-unknown-elf-objdump"
# Mnemonics (as objdump prints them) that have no destination register.
NO_DEST = re.compile(r"^(s[bhwd]|b\w+|fence\S*|c\.(s[wd]|s[wd]sp|beqz|bnez|j|jr|jalr|nop))$")
FORBIDDEN = re.compile(r"^(ecall|ebreak|c\.ebreak|csr\w*|fence\.i|[msu]ret|wfi)$")


def _assemble(source: str, folder: Path) -> Path:
    src, obj = folder / "test.S", folder / "test.o"
    src.write_text(source)
    result = subprocess.run([GCC, "-march=rv64imac", "-mabi=lp64", "-c", str(src), "-o", str(obj)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return obj


def test_same_seed_same_sequence_and_text() -> None:
    assert rvgen.generate_sequence(42) == rvgen.generate_sequence(42)
    first = rvgen.render_program(rvgen.generate_program(7, 20))
    assert first == rvgen.render_program(rvgen.generate_program(7, 20))
    assert first != rvgen.render_program(rvgen.generate_program(8, 20))


def test_sequence_shape() -> None:
    for seed in range(200):
        seq = rvgen.generate_sequence(seed)
        assert len(seq.buffer) == rvgen.BUF_SIZE and len(seq.init_regs) == 32
        assert all(seq.init_regs[r] == 0 for r in (0, *rvgen.BASE_REGS))
        instructions = [line for line in seq.body if not line.endswith(":")
                        and not line.startswith(".")]
        assert 20 <= len(instructions) <= 60 + 4


def test_every_form_assembles_and_compressed_forms_are_16_bit(tmp_path: Path) -> None:
    """Each table entry, rendered with a few seeds, assembles; c.* lines give 2-byte encodings."""
    lines = [".option norelax", ".option norvc"]
    compressed_sizes: dict[str, int] = {}
    for index, form in enumerate(rvgen.FORMS):
        for variant in range(4):
            rendered, labels = rvgen.render_form(form, index * 10 + variant)
            name = f"form_{index}_{variant}"
            lines += [f".option {'rvc' if form.rvc else 'norvc'}", f"{name}:", *rendered,
                      f"{name}_end:", *(f"{label}:" for label in labels)]
            if all(line.startswith("c.") for line in rendered):
                compressed_sizes[name] = 2 * len(rendered)
    with _assemble("\n".join(lines) + "\n", tmp_path).open("rb") as stream:
        symtab = ELFFile(stream).get_section_by_name(".symtab")
        symbols = {s.name: s["st_value"] for s in symtab.iter_symbols()}
    assert compressed_sizes
    for name, size in compressed_sizes.items():
        assert symbols[f"{name}_end"] - symbols[name] == size, name


@pytest.mark.parametrize("seed", [3, 4])
def test_program_never_writes_base_registers(seed: int, tmp_path: Path) -> None:
    """Disassemble generated bodies: no destination is sp or s0, no privileged op or fence.i."""
    sequences = rvgen.generate_program(seed, 100)
    source = "\n".join([".option norelax", ".option norvc",
                        *(line for seq in sequences for line in seq.body), ""])
    obj = _assemble(source, tmp_path)
    dump = subprocess.run([OBJDUMP, "-d", "-M", "no-aliases", str(obj)],
                          capture_output=True, text=True, check=True).stdout
    instructions = re.findall(r"^\s+[0-9a-f]+:\s+[0-9a-f]+\s+(\S+)\s*([^#\n]*)", dump, re.M)
    assert len(instructions) > 100 * 20
    sp_moved = 0
    for mnemonic, operands in instructions:
        assert not FORBIDDEN.match(mnemonic), mnemonic
        if mnemonic == "c.addi16sp":  # only in pairs that move sp and put it back
            sp_moved += int(operands.split(",")[1])
        elif not NO_DEST.match(mnemonic) and operands:
            dest = operands.split(",")[0].strip()
            assert dest not in ("sp", "s0"), f"{mnemonic} {operands}"
    assert sp_moved == 0
