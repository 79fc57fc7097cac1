"""Every RISC-V test guest (guests/riscv64/isa and htif) under QEMU and under polyvm.

QEMU's spike board is the oracle: each guest must end with its annotated HTIF exit code and
console bytes there, and polyvm (every emulated exec mode, same board) must produce exactly the same.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from polyvm.devtools.guests import (
    RISCV64_DIR,
    GuestBuildError,
    GuestExpectation,
    build_riscv_guest,
    guest_expectation,
    list_riscv_htif_tests,
    list_riscv_isa_tests,
)

QEMU = "qemu-system-riscv64"
QEMU_TIMEOUT = 20
POLYVM_TIMEOUT = 240
SOURCES = list_riscv_isa_tests() + list_riscv_htif_tests()
IDS = [str(p.relative_to(RISCV64_DIR).with_suffix("")) for p in SOURCES]
EXEC_MODES = ("interpreter", "jit", "hybrid")


def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)


def _outcome(result: subprocess.CompletedProcess[bytes]) -> tuple[int, bytes]:
    return result.returncode, result.stdout


@functools.cache
def _qemu(source: Path) -> tuple[int, bytes]:
    if shutil.which(QEMU) is None:
        pytest.skip(f"{QEMU} is not installed (scripts/setup.sh installs it)")
    elf = build_riscv_guest(source)
    cmd = [QEMU, "-M", "spike", "-bios", "none", "-nographic", "-kernel", str(elf)]
    return _outcome(_run(["timeout", str(QEMU_TIMEOUT), *cmd], QEMU_TIMEOUT + 5))


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_qemu_outcome(source: Path) -> None:
    expected = guest_expectation(source)
    assert _qemu(source) == (expected.exit_code, expected.stdout)


@pytest.mark.parametrize("mode", EXEC_MODES)
@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_polyvm_same_as_qemu(source: Path, mode: str) -> None:
    expected = guest_expectation(source)
    elf = build_riscv_guest(source)
    cmd = [
        sys.executable,
        "-m",
        "polyvm",
        "run",
        "-M",
        "spike",
        "--bios",
        "none",
        "--kernel",
        str(elf),
        "--exec-mode",
        mode,
    ]
    result = _run(cmd, POLYVM_TIMEOUT)
    stderr = result.stderr.decode(errors="replace")[-2000:]
    assert _outcome(result) == _qemu(source), stderr
    assert _outcome(result) == (expected.exit_code, expected.stdout), stderr


def test_build_is_cached_and_keyed_by_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLYVM_CACHE", str(tmp_path))
    source = RISCV64_DIR / "htif" / "pass.S"
    first = build_riscv_guest(source)
    assert first.is_relative_to(tmp_path) and first.read_bytes()[:4] == b"\x7fELF"
    assert build_riscv_guest(source) == first
    assert build_riscv_guest(source, extra_flags=("-DUNUSED=1",)) != first


def test_build_errors_name_the_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLYVM_CACHE", str(tmp_path))
    with pytest.raises(GuestBuildError, match="riscv64-no-such-gcc not found"):
        build_riscv_guest(RISCV64_DIR / "htif" / "pass.S", compiler="riscv64-no-such-gcc")
    broken = tmp_path / "broken.S"
    broken.write_text("    .globl test_main\ntest_main:\n    no_such_instruction a0\n")
    with pytest.raises(GuestBuildError, match="broken.S"):
        build_riscv_guest(broken)


def test_expectations_come_from_source_annotations() -> None:
    htif = RISCV64_DIR / "htif"
    assert guest_expectation(htif / "fail7.S") == GuestExpectation(7, b"")
    assert guest_expectation(htif / "console.S") == GuestExpectation(0, b"hello from htif\n")
    assert guest_expectation(RISCV64_DIR / "isa" / "rv64m.S") == GuestExpectation(0, b"")
