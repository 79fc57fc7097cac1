"""A second run of the same guest starts its hot blocks natively: regions compiled by the first
run are installed when their head is first translated (code from the disk cache, members from the
translation store), and the guest's output is the same."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from polyvm.devtools.baremetal import build_baremetal

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "guests"

CHILD = textwrap.dedent("""
    import json, sys
    from polyvm import ExecMode, VmConfig
    from polyvm.engine import hybrid
    from polyvm.machine.spike import SpikeBoard

    installed = []
    original = hybrid.HybridEngine._install_recorded_region

    def counted(self, cached):
        done = original(self, cached)
        installed.append(done)
        return done

    hybrid.HybridEngine._install_recorded_region = counted
    config = VmConfig().with_exec_mode(ExecMode[sys.argv[2]]).with_memory_size(64 << 20)
    board = SpikeBoard(config, sys.argv[1])
    result = board.run(timeout=120)
    engine = board.engines[0]
    for background in engine.compilers.values():
        background.wait_idle()  # what was compiled reaches the disk cache
    print(json.dumps({"exit": result.exit_code, "console": bytes(board.console_output).decode(),
                      "installed": sum(installed), "prefilled": engine.prefilled_blocks,
                      "python_blocks": engine.python_blocks,
                      "regions": True in engine.compilers, "translated": engine.blocks_translated,
                      "recorded_regions": len(engine.jit.backend.names.regions)}))
""")


@pytest.mark.parametrize("mode, iterations", [("HYBRID", 12), ("JIT", 60)])
def test_second_run_starts_hot_code_natively(tmp_path, mode, iterations):
    """(JIT mode promotes blocks to regions by sampling where slices end: it needs a longer run.)"""
    elf = build_baremetal(BENCH / "cpu_mix.c", {"ITERATIONS": iterations}, paging="bare", isa="rv64imac")
    env = dict(os.environ, POLYVM_CACHE=str(tmp_path))

    def run() -> dict:
        out = subprocess.run([sys.executable, "-c", CHILD, str(elf), mode], env=env,
                             capture_output=True, text=True, check=True, timeout=300)
        return json.loads(out.stdout.splitlines()[-1])

    first, second = run(), run()
    assert first["exit"] == second["exit"] == 0
    assert first["console"] == second["console"] and "checksum" in first["console"]
    assert first["installed"] == first["prefilled"] == 0 and first["regions"], "optimised regions compiled"
    assert second["installed"] + second["prefilled"] > 0, "installed as recorded regions or page records"
    if mode == "HYBRID":
        assert second["python_blocks"] < first["python_blocks"]


def test_jit_modes_compile_of_every_block_is_not_recorded(tmp_path):
    """JIT mode compiles every block before it runs; only what was compiled because it was hot
    may come back as a recorded region, else a later HYBRID run installs native code for all."""
    elf = build_baremetal(BENCH / "cpu_mix.c", {"ITERATIONS": 1}, paging="bare", isa="rv64imac")
    env = dict(os.environ, POLYVM_CACHE=str(tmp_path))

    def run(mode: str) -> dict:
        out = subprocess.run([sys.executable, "-c", CHILD, str(elf), mode], env=env,
                             capture_output=True, text=True, check=True, timeout=300)
        return json.loads(out.stdout.splitlines()[-1])

    jit = run("JIT")
    hybrid = run("HYBRID")
    assert hybrid["console"] == jit["console"]
    print(f"\nJIT translated {jit['translated']} blocks and recorded {jit['recorded_regions']} regions;"
          f" HYBRID then installed {hybrid['installed']} and prefilled {hybrid['prefilled']} functions")
    assert jit["recorded_regions"] * 4 < jit["translated"], "only the few blocks JIT found hot"
    assert hybrid["installed"] * 4 < hybrid["translated"] + hybrid["prefilled"]


def test_hot_blocks_are_recorded_when_their_code_was_cached_already(tmp_path):
    """JIT mode compiles every block alone, as HYBRID's quick compiles do: a HYBRID run after it
    finds the code of its hot blocks in the cache, and must still record them, so that the next
    run starts them natively (unrecorded, it ran as many Python-tier blocks as without the JIT run)."""
    elf = build_baremetal(BENCH / "cpu_mix.c", {"ITERATIONS": 3}, paging="bare", isa="rv64imac")

    def run(cache: Path, mode: str) -> dict:
        env = dict(os.environ, POLYVM_CACHE=str(cache))
        out = subprocess.run([sys.executable, "-c", CHILD, str(elf), mode], env=env,
                             capture_output=True, text=True, check=True, timeout=300)
        return json.loads(out.stdout.splitlines()[-1])

    run(tmp_path / "after_jit", "JIT")
    after_jit = [run(tmp_path / "after_jit", "HYBRID") for _ in range(2)]
    alone = [run(tmp_path / "alone", "HYBRID") for _ in range(2)]
    assert after_jit[1]["console"] == alone[1]["console"]
    assert after_jit[1]["python_blocks"] * 4 < alone[1]["python_blocks"]
