"""Flat x86-64 guests on KVM: UART output, exit accounting, and ring-3 compute speed against native."""

import subprocess
import time

import pytest

from polyvm.engine.kvm.machine import KvmMachine

from .x86_guests import build_flat, build_native

pytestmark = pytest.mark.timeout(60)

HELLO = b"hello from a KVM guest\n"
LCG_MUL, LCG_ADD, LCG_SEED = 6364136223846793005, 1442695040888963407, 0x853C49E6748FEA9B
SPEED_ITERATIONS = 300_000_000
EXIT_PROBES = 50_000


def lcg_checksum(iterations: int) -> int:
    x, checksum = LCG_SEED, 0
    for _ in range(iterations):
        x = (x * LCG_MUL + LCG_ADD) & (2**64 - 1)
        checksum ^= x >> 33
    return checksum


def run_guest(config, name, **kwargs):
    output = bytearray()
    with KvmMachine(config, build_flat(name), output=output.extend, **kwargs) as machine:
        start = time.perf_counter()
        code = machine.run()
        elapsed = time.perf_counter() - start
    return machine, code, bytes(output), elapsed


def test_hello_prints_and_exits_zero(kvm_available, x86_config):
    machine, code, output, _ = run_guest(x86_config, "hello")
    assert (output, code, machine.stop_reason) == (HELLO, 0, "debug-exit")


def test_exit_stats_count_port_io(kvm_available, x86_config):
    machine, _, _, _ = run_guest(x86_config, "hello")
    # one LSR read and one THR write per character, then the debug-exit write
    assert machine.exit_stats() == {"io": 2 * len(HELLO) + 1}


def test_hlt_ends_the_run_without_irqchip(kvm_available, x86_config):
    machine, code, _, _ = run_guest(x86_config, "halt", irqchip=False)
    assert (code, machine.stop_reason, machine.exit_stats()) == (0, "hlt", {"hlt": 1})


def test_exit_rate(kvm_available, x86_config):
    machine, code, _, elapsed = run_guest(x86_config, "port_loop", entry_arg=EXIT_PROBES)
    assert code == 0
    assert machine.exit_stats()["io"] == EXIT_PROBES + 1
    print(f"\nKVM port I/O exits: {EXIT_PROBES / elapsed:,.0f}/s")


def test_user_mode_checksum(kvm_available, x86_config):
    machine, code, _, _ = run_guest(x86_config, "user_lcg", entry_arg=1000)
    values = machine.results.values
    assert code == 0
    assert values[0] | values[1] << 32 == lcg_checksum(1000)


def test_user_mode_speed_against_native(kvm_available, x86_config):
    native = build_native("lcg_native")
    runs = [subprocess.run([native, str(SPEED_ITERATIONS)], capture_output=True, text=True, check=True).stdout
            for _ in range(3)]
    native_sum = int(runs[0].split()[0])
    native_time = min(int(run.split()[1]) for run in runs) / 1e9
    guest_time = float("inf")
    for _ in range(3):
        machine, _, _, elapsed = run_guest(x86_config, "user_lcg", entry_arg=SPEED_ITERATIONS)
        values = machine.results.values
        assert values[0] | values[1] << 32 == native_sum
        guest_time = min(guest_time, elapsed)
    ratio = native_time / guest_time
    print(f"\nCPL3 LCG loop, {SPEED_ITERATIONS:,} iterations: native {native_time:.3f} s, "
          f"KVM guest {guest_time:.3f} s, guest speed {ratio:.0%} of native")
    assert ratio > 0.05, "user-mode guest code is not running on the CPU"
