"""The persistent code cache: a second process loads object code instead of compiling it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from guest_code import tools_available

CHILD = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, sys.argv[2])
    from guest_code import build, parcels
    from polyvm import VmConfig
    from polyvm.arch.riscv64.translate import RiscvTranslator
    from polyvm.engine.jit.jit import Jit

    code = build(list(range(9101, 9141, 2)))
    blocks = [RiscvTranslator().translate(pc, parcels(code.text)) for pc in code.starts]
    jit = Jit(VmConfig(), opt_level=2, cache_dir=__import__("pathlib").Path(sys.argv[1]))
    handles = [jit.compile(block) for block in blocks]
    results = []
    for handle in handles:
        jit.state.regs[:] = list(range(64))
        jit.state.flush_tlb()  # every memory access exits, so RAM (address 0 here) is never touched
        pc = handle.call(jit.state.regs_address, 0, jit.state.context_address, 0, 0)
        results.append([pc, list(jit.state.regs), list(jit.state.context[:5])])
        jit.state.context[:5] = [0] * 5
    stats = jit.compile_stats()
    print(json.dumps({"hits": jit.backend.disk_hits, "blocks": len(blocks), "results": results,
                      "avg_ms": stats.avg_compile_time_ms}))
""")


def run_child(cache: Path) -> dict:
    here = str(Path(__file__).resolve().parent)
    out = subprocess.run([sys.executable, "-c", CHILD, str(cache), here], capture_output=True,
                         text=True, check=True, timeout=120)
    return json.loads(out.stdout)


def test_second_process_loads_cached_objects(tmp_path):
    if not tools_available():
        pytest.skip("riscv64-unknown-elf binutils not installed")
    first = run_child(tmp_path)
    second = run_child(tmp_path)
    assert first["hits"] == 0
    assert second["hits"] == first["blocks"] + 1, "every block and the dispatch loop"
    assert len(list(tmp_path.glob("*.o"))) == first["blocks"] + 1
    assert second["results"] == first["results"], "cached code behaves exactly like fresh code"
    print(f"\nopt level 2: {first['avg_ms']:.2f} ms per block compiled,"
          f" {second['avg_ms']:.2f} ms per block loaded from the disk cache")
