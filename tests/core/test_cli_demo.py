"""The main job: the built-in demo guest boots and the CLI reports bad input as clear errors."""

import subprocess
import sys

import pytest

from polyvm.cli import DEMO_IMAGE


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "polyvm", *args], capture_output=True, timeout=120)


def test_demo_guest_boots_and_exits_cleanly():
    result = run_cli("demo")
    assert result.returncode == 0, result.stderr
    assert b"Hello from a RISC-V guest running on polyvm!" in result.stdout
    assert b"primes below 20000: 2262, largest 19997" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--kernel", "/nonexistent/kernel.elf"], b"/nonexistent/kernel.elf: kernel file not found"),
        (["--kernel", sys.executable], b"not RISC-V"),
        (["--kernel", str(DEMO_IMAGE), "-m", "0"], b"memory size must be a positive"),
    ],
)
def test_bad_host_input_is_a_clear_error(args, message):
    result = run_cli("run", "-M", "spike", "--bios", "none", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert b"Traceback" not in result.stderr


def test_stats_report_tiers_and_native_exits():
    result = run_cli("run", "-M", "spike", "--bios", "none", "--kernel", str(DEMO_IMAGE), "--stats")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.decode().splitlines()
    tiers = next(line for line in lines if "blocks run natively" in line)
    assert " in python " in tiers and " compiled " in tiers and "code cache" in tiers
    exits = next(line for line in lines if "native side exits" in line)
    assert "loads and stores called back from native code" in exits
