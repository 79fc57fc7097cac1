"""Bare-metal guest runs on the spike board for the benchmarks (run.py, compile.py): in this
process, in a fresh one, and in QEMU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from polyvm import ExecMode, VmConfig
from polyvm.core.protocols import RunResult
from polyvm.machine.spike import SpikeBoard


def spike_run(elf: Path, mode: ExecMode, timeout: float = 1200) -> tuple[RunResult, float, SpikeBoard]:
    """Run ``elf`` to its exit in this process: the result, the seconds ``run`` took and the board
    (for its statistics). A guest that fails ends the benchmark."""
    board = SpikeBoard(VmConfig().with_exec_mode(mode).with_memory_size(64 << 20), elf)
    started = time.perf_counter()
    result = board.run(timeout=timeout)
    elapsed = time.perf_counter() - started
    if result.exit_code != 0:
        raise SystemExit(f"{elf.name} failed in polyvm: {result}")
    return result, elapsed, board


def fresh_process(module: str, elf: Path, mode: ExecMode, caches: str | None = None) -> object:
    """``polyvm_run(elf, mode)`` of benchmark ``module`` in a new Python process (with the polyvm
    cache folder ``caches`` if given): what it returns, through JSON."""
    script = (f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
              f"from {module} import polyvm_run, ExecMode; "
              f"print(json.dumps(polyvm_run(__import__('pathlib').Path({str(elf)!r}), "
              f"ExecMode({mode.value!r}))))")
    env = dict(os.environ, POLYVM_CACHE=caches) if caches is not None else None
    done = subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True,
                          text=True, timeout=1800)
    return json.loads(done.stdout.splitlines()[-1])


def qemu_seconds(elf: Path, runs: int = 1) -> float:
    """The best of ``runs`` whole runs of ``elf`` in qemu-system-riscv64 -M spike (TCG)."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(["qemu-system-riscv64", "-M", "spike", "-bios", "none", "-nographic",
                        "-kernel", str(elf)], check=True, capture_output=True, timeout=600)
        best = min(best, time.perf_counter() - started)
    return best
