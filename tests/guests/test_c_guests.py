"""Our C benchmark guests (integer and floating point, with and without Sv39) give the same console
bytes and exit code in polyvm as in qemu-system-riscv64 -M spike."""

import subprocess
from pathlib import Path

import pytest

from polyvm import VmConfig
from polyvm.devtools.baremetal import build_baremetal
from polyvm.machine.spike import SpikeBoard
from tests.modes import each_emulated_mode

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "guests"
CASES = [
    ("cpu_mix", "rv64imac", "bare"),
    ("cpu_mix", "rv64gc", "sv39"),
    ("float_mix", "rv64gc", "bare"),
    ("float_mix", "rv64gc", "sv39"),
]


@each_emulated_mode
@pytest.mark.parametrize("guest, isa, paging", CASES)
def test_same_output_as_qemu(guest, isa, paging, mode):
    elf = build_baremetal(BENCH / f"{guest}.c", {"ITERATIONS": 2}, paging=paging, isa=isa)
    qemu = subprocess.run(
        ["qemu-system-riscv64", "-M", "spike", "-bios", "none", "-nographic", "-kernel", str(elf)],
        capture_output=True, timeout=60,
    )
    board = SpikeBoard(VmConfig().with_exec_mode(mode).with_memory_size(64 << 20), elf)
    result = board.run(timeout=120)
    assert qemu.returncode == 0
    assert result.exit_code == 0
    assert bytes(board.console_output) == qemu.stdout
    assert b"checksum" in qemu.stdout
