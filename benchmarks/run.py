"""Guest-speed benchmark: runs CPU-bound guests in polyvm and in QEMU in one command and prints
guest MIPS and the ratio.

    python3 benchmarks/run.py [--mode interpreter] [--paging bare|sv39|both] [--seconds 10]

Instruction counts come from polyvm's exact count (the guests are deterministic and the count is
linear in ITERATIONS: two small builds give it for any size). QEMU (qemu-system-riscv64 -M spike,
TCG) runs a build large enough to take about a second; its start-up time, measured with a
zero-iteration build, is subtracted.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from polyvm import ExecMode, VmConfig
from polyvm.devtools.baremetal import build_baremetal
from polyvm.machine.spike import SpikeBoard

GUESTS = Path(__file__).parent / "guests"


def polyvm_run(elf: Path, mode: ExecMode) -> tuple[int, float]:
    """(instructions, seconds) of one run in this process."""
    board = SpikeBoard(VmConfig().with_exec_mode(mode).with_memory_size(64 << 20), elf)
    started = time.perf_counter()
    result = board.run(timeout=600)
    elapsed = time.perf_counter() - started
    if result.exit_code != 0:
        raise SystemExit(f"{elf.name} failed in polyvm: {result}")
    return result.instructions, elapsed


def qemu_seconds(elf: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["qemu-system-riscv64", "-M", "spike", "-bios", "none", "-nographic",
                    "-kernel", str(elf)], check=True, capture_output=True, timeout=600)
    return time.perf_counter() - started


def measure(source: Path, mode: ExecMode, paging: str, seconds: float) -> dict[str, float]:
    isa = "rv64gc" if source.stem.startswith("float") else "rv64imac"

    def build(n: int) -> Path:
        return build_baremetal(source, {"ITERATIONS": n}, paging=paging, isa=isa)

    one, _ = polyvm_run(build(1), mode)
    two, _ = polyvm_run(build(2), mode)
    per_iteration, fixed = two - one, 2 * one - two
    probe_n = 3
    probe_insns, probe_s = polyvm_run(build(probe_n), mode)
    n = max(1, int(seconds / (probe_s / probe_n)))
    insns, elapsed = polyvm_run(build(n), mode)
    assert insns == fixed + n * per_iteration, "instruction count is not linear in ITERATIONS"
    polyvm_mips = insns / elapsed / 1e6

    startup = min(qemu_seconds(build(0)) for _ in range(3))
    qemu_n = n * 50
    qemu_time = min(qemu_seconds(build(qemu_n)) for _ in range(3)) - startup
    qemu_mips = (fixed + qemu_n * per_iteration) / qemu_time / 1e6
    return {"instructions": insns, "seconds": elapsed, "polyvm_mips": polyvm_mips,
            "qemu_mips": qemu_mips, "ratio": polyvm_mips / qemu_mips}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", default="interpreter", choices=[m.value for m in ExecMode])
    parser.add_argument("--paging", default="both", choices=["bare", "sv39", "both"])
    parser.add_argument("--seconds", type=float, default=10.0, help="target polyvm run time")
    parser.add_argument("--guest", default="cpu_mix",
                        help="benchmark guest in benchmarks/guests (float_* ones use F/D)")
    args = parser.parse_args()
    mode = ExecMode(args.mode)
    pagings = ["bare", "sv39"] if args.paging == "both" else [args.paging]
    print(f"{'guest':10} {'paging':6} {'mode':12} {'insns':>12} {'polyvm MIPS':>12} "
          f"{'QEMU MIPS':>10} {'ratio':>8}")
    for paging in pagings:
        row = measure(GUESTS / f"{args.guest}.c", mode, paging, args.seconds)
        print(f"{args.guest:10} {paging:6} {mode.value:12} {row['instructions']:12d} "
              f"{row['polyvm_mips']:12.2f} {row['qemu_mips']:10.1f} {row['ratio']:8.4f}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
