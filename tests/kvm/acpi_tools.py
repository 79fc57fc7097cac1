"""ACPICA's own tools (Debian's acpica-tools, installed by scripts/setup.sh) as the oracle for our ACPI
tables: iasl compiles ASL and disassembles tables, acpiexec loads tables into the ACPICA interpreter
and evaluates objects. A test that needs a tool is skipped when it is not installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

HEADER_SIZE = 36
COMPILER_FIELDS = slice(28, 36)
"""Creator id and revision: iasl writes its own when it compiles."""
CHECKSUM = 9
COMPLAINTS = ("Error", "Warning", "Remark")


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install acpica-tools; scripts/setup.sh does)")
    return path


def _run(command: list[str], folder: Path) -> str:
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def compile_asl(source: str, folder: Path, name: str = "table") -> bytes:
    """The table iasl compiles from the ASL ``source``; it must compile without errors or warnings."""
    (folder / f"{name}.asl").write_text(source)
    output = _run([tool("iasl"), f"{name}.asl"], folder)
    assert "Compilation successful. 0 Errors, 0 Warnings, 0 Remarks" in output, output
    return (folder / f"{name}.aml").read_bytes()


def disassemble(table: bytes, folder: Path, name: str) -> str:
    """iasl -d of ``table``: the .dsl text; iasl must neither complain (a checksum or name it does not
    like is a "Firmware Warning" on stderr, with exit status 0) nor fail."""
    (folder / f"{name}.dat").write_bytes(table)
    output = _run([tool("iasl"), "-d", f"{name}.dat"], folder)
    assert not [line for line in output.splitlines() if any(word in line for word in COMPLAINTS)], output
    return (folder / f"{name}.dsl").read_text()


def same_but_creator(ours: bytes, theirs: bytes) -> bool:
    """Equal tables but for the creator fields and hence the checksum."""
    def without_creator(data: bytes) -> bytes:
        copy = bytearray(data)
        copy[COMPILER_FIELDS] = bytes(8)
        copy[CHECKSUM] = 0
        return bytes(copy)
    return without_creator(ours) == without_creator(theirs)


def acpiexec(tables: dict[str, bytes], folder: Path, commands: str) -> str:
    """Load ``tables`` (file name -> table) into acpiexec and run its batch ``commands``."""
    for name, data in tables.items():
        (folder / name).write_bytes(data)
    return _run([tool("acpiexec"), "-b", commands, *tables], folder)
