"""JIT compile-time benchmark: a guest whose run is almost all translation, in polyvm and in QEMU
side by side.

    python3 benchmarks/compile.py [--mode jit] [--functions 16]

The guest (benchmarks/guests/straight_code.c) runs ``--functions`` x 256 distinct steps once each;
every step is a few ALU operations and a data-dependent branch, so a JIT spends its time making code
it runs once. Each side runs the build that runs the steps and the build that skips them (the same
code: a word in .data says whether to run them), and the difference is the time it took to translate and
run the steps. polyvm runs in fresh processes with an empty JIT code cache and translation store
(POLYVM_CACHE in a temporary folder), so nothing is reused; in JIT mode every block is compiled by
LLVM before it first runs, in HYBRID mode blocks run once stay in the Python tier. QEMU is
qemu-system-riscv64 -M spike (TCG), best of five. Printed: the steps' guest instructions and the
blocks polyvm translated and compiled for them, the time per guest instruction on both sides and
the ratio, and polyvm's own compile statistics (``Jit.compile_stats``) for those blocks.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from spike_runs import fresh_process, qemu_seconds, spike_run

from polyvm import ExecMode
from polyvm.devtools.baremetal import build_baremetal

GUEST = Path(__file__).parent / "guests" / "straight_code.c"
QEMU_RUNS = 5


def polyvm_run(elf: Path, mode: ExecMode) -> dict[str, float]:
    """One run in this process: instructions, seconds, and the hart's translation and compile
    counts."""
    result, elapsed, board = spike_run(elf, mode)
    engine = board.engines[0]
    row = {"instructions": result.instructions, "seconds": elapsed,
           "blocks_translated": engine.stats()["blocks_translated"]}
    if mode is not ExecMode.INTERPRETER:
        compiled = engine.jit.compile_stats()
        row.update(blocks_compiled=compiled.blocks_compiled, compile_ms=compiled.total_compile_time_ms)
    return row


def fresh_process_run(elf: Path, mode: ExecMode) -> dict[str, float]:
    """``polyvm_run`` in a new Python process with empty polyvm caches (removed after)."""
    # (a detached bundler of the run may still be writing there: object_bundles.py)
    with tempfile.TemporaryDirectory(prefix="polyvm-compile-", ignore_cleanup_errors=True) as caches:
        return fresh_process("compile", elf, mode, caches)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", default="jit", choices=[ExecMode.JIT.value, ExecMode.HYBRID.value])
    parser.add_argument("--functions", type=int, default=16, choices=range(1, 33), metavar="1..32",
                        help="functions of 256 steps to run")
    args = parser.parse_args()
    mode = ExecMode(args.mode)
    steps, skip = (build_baremetal(GUEST, {"FUNCTIONS": args.functions, "RUN_STEPS": run})
                   for run in (1, 0))
    ran, skipped = fresh_process_run(steps, mode), fresh_process_run(skip, mode)
    delta = {key: ran[key] - skipped[key] for key in ran}
    qemu = qemu_seconds(steps, QEMU_RUNS) - qemu_seconds(skip, QEMU_RUNS)
    if qemu <= 0.002:
        raise SystemExit(f"QEMU ran the steps in {qemu * 1000:.1f} ms, within its start-up noise: "
                         "use more --functions")
    instructions = delta["instructions"]
    polyvm_us, qemu_us = (1e6 * seconds / instructions for seconds in (delta["seconds"], qemu))
    print(f"{'mode':7} {'guest insns':>11} {'blocks':>7} {'compiled':>8} {'polyvm us/insn':>14} "
          f"{'QEMU us/insn':>12} {'ratio':>7} {'LLVM ms/block':>13}")
    compiled = delta.get("blocks_compiled", 0)
    per_block = delta["compile_ms"] / compiled if compiled else 0.0
    print(f"{mode.value:7} {instructions:11d} {delta['blocks_translated']:7d} {compiled:8d} "
          f"{polyvm_us:14.2f} {qemu_us:12.3f} {polyvm_us / qemu_us:7.1f} {per_block:13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
