"""Guest-speed benchmark: runs CPU-bound guests in polyvm and in QEMU in one command and prints
guest MIPS and the ratio.

    python3 benchmarks/run.py [--mode interpreter] [--paging bare|sv39|both] [--seconds 10]
                              [--cold-cache]

Instruction counts come from polyvm's exact count (the guests are deterministic and the count is
linear in ITERATIONS: two small builds give it for any size). The iteration count is scaled until
the measured polyvm run takes about ``--seconds``; that run happens in a fresh process, so its time
includes every translation and compile it needs (``--cold-cache`` also gives it an empty on-disk
JIT code cache; without it, code compiled by earlier runs is linked from ~/.cache/polyvm/jit). QEMU
(qemu-system-riscv64 -M spike, TCG) runs a build that takes it at least QEMU_SECONDS; its start-up
time, measured with a zero-iteration build, is subtracted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from spike_runs import fresh_process, qemu_seconds, spike_run

from polyvm import ExecMode
from polyvm.devtools.baremetal import build_baremetal

GUESTS = Path(__file__).parent / "guests"
QEMU_SECONDS = 1.5
"""QEMU's run is made at least about this long, so its start-up noise is small against it."""


def polyvm_run(elf: Path, mode: ExecMode) -> tuple[int, float]:
    """(instructions, seconds) of one run in this process."""
    result, elapsed, _ = spike_run(elf, mode, timeout=600)
    return result.instructions, elapsed


def fresh_process_run(elf: Path, mode: ExecMode, cold_cache: bool) -> tuple[int, float]:
    """``polyvm_run`` in a new Python process (optionally with an empty JIT code cache)."""
    caches = tempfile.mkdtemp(prefix="polyvm-cold-") if cold_cache else None
    instructions, seconds = fresh_process("run", elf, mode, caches)
    return instructions, seconds


def measure(source: Path, mode: ExecMode, paging: str, seconds: float,
            cold_cache: bool = False) -> dict[str, float]:
    isa = "rv64gc" if source.stem.startswith("float") else "rv64imac"

    def build(n: int) -> Path:
        return build_baremetal(source, {"ITERATIONS": n}, paging=paging, isa=isa)

    one, _ = polyvm_run(build(1), mode)
    two, _ = polyvm_run(build(2), mode)
    per_iteration, fixed = two - one, 2 * one - two
    n = 3
    _, elapsed = polyvm_run(build(n), mode)
    while elapsed < seconds / 4:
        n = int(n * min(20.0, seconds / 2 / elapsed)) + 1
        _, elapsed = polyvm_run(build(n), mode)
    n = max(1, int(n * seconds / elapsed))
    insns, elapsed = fresh_process_run(build(n), mode, cold_cache)
    assert insns == fixed + n * per_iteration, "instruction count is not linear in ITERATIONS"
    polyvm_mips = insns / elapsed / 1e6

    startup = qemu_seconds(build(0), runs=3)
    qemu_n = n
    qemu_time = qemu_seconds(build(qemu_n)) - startup
    if qemu_time < QEMU_SECONDS:
        qemu_n = int(n * QEMU_SECONDS / max(qemu_time, 0.01)) + 1
    qemu_time = qemu_seconds(build(qemu_n), runs=3) - startup
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
    parser.add_argument("--cold-cache", action="store_true",
                        help="the measured run starts with an empty JIT code cache")
    args = parser.parse_args()
    mode = ExecMode(args.mode)
    pagings = ["bare", "sv39"] if args.paging == "both" else [args.paging]
    print(f"{'guest':10} {'paging':6} {'mode':12} {'insns':>12} {'polyvm MIPS':>12} "
          f"{'QEMU MIPS':>10} {'ratio':>8}")
    label = mode.value + (" cold" if args.cold_cache else "")
    for paging in pagings:
        row = measure(GUESTS / f"{args.guest}.c", mode, paging, args.seconds, args.cold_cache)
        print(f"{args.guest:10} {paging:6} {label:12} {row['instructions']:12d} "
              f"{row['polyvm_mips']:12.2f} {row['qemu_mips']:10.1f} {row['ratio']:8.4f}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
