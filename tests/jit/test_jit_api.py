"""The seed section 4 surface of the JIT: stats, the code cache, thresholds, FP registers."""

from __future__ import annotations

import math

import pytest

from polyvm import VmConfig
from polyvm.engine.jit.context import ICOUNT, JUMP_ENTRIES, Exit
from polyvm.engine.jit.jit import AdaptiveThreshold, Jit, JitStats
from polyvm.ir.block import IRBlock, IRBuilder, Op


def counting_block(pc: int) -> IRBlock:
    """x5 += 1; jump to pc + 4."""
    b = IRBuilder()
    b.insn(pc, 0)
    b.set(5, b.op(Op.ADD, b.get(5), 1))
    b.jump(pc + 4)
    return IRBlock(pc, b.stmts, 1, 4)


def test_compile_stats_and_code_cache():
    jit = Jit(VmConfig(), opt_level=0)
    assert jit.compile_stats() == JitStats(0, 0.0, 0, 0.0)
    handles = [jit.compile(counting_block(0x1000 + 4 * i)) for i in range(3)]
    stats = jit.compile_stats()
    assert stats.blocks_compiled == 3
    assert stats.total_compile_time_ms > 0
    assert math.isclose(stats.avg_compile_time_ms, stats.total_compile_time_ms / 3)
    assert stats.code_cache_size >= 3 * 16
    assert len({h.address for h in handles}) == 3 and all(h.address for h in handles)
    assert jit.get_compiled(0x1004) is handles[1]
    assert jit.get_compiled(0x2000) is None
    assert jit.execute(handles[0]) == 0x1004 and jit.state.regs[5] == 1
    jit.flush_code_cache()
    assert jit.get_compiled(0x1000) is None
    assert jit.compile_stats().code_cache_size == 0
    assert jit.compile_stats().blocks_compiled == 3
    assert jit.run(0x1000, 100) == 0x1000, "the jump table was flushed too"
    assert jit.state.regs[5] == 1


def test_fixed_threshold_decides():
    jit = Jit(VmConfig(jit_threshold=10), opt_level=0)
    assert not jit.should_compile(9)
    assert jit.should_compile(10)
    jit.set_compile_threshold(3)
    assert jit.should_compile(3) and not jit.should_compile(2)


def test_adaptive_threshold_moves_with_the_population():
    adaptive = AdaptiveThreshold(initial=50, minimum=4, maximum=400)
    adaptive.update(60)
    assert adaptive.should_compile()
    adaptive.update(10)
    assert not adaptive.should_compile()
    for _ in range(20):
        adaptive.update(1000)
    adaptive.adjust()
    assert adaptive.current == 100, "most candidates hot: compile less eagerly"
    for _ in range(3):
        adaptive.adjust()
    assert adaptive.current == 400, "clamped at the maximum"
    for _ in range(64):
        adaptive.update(1)
    adaptive.adjust()
    assert adaptive.current == 200, "hardly any candidate hot: compile more eagerly"
    for _ in range(10):
        adaptive.adjust()
    assert adaptive.current == 4, "clamped at the minimum"


def test_jit_adaptive_threshold_drives_decisions():
    jit = Jit(VmConfig(), opt_level=0)
    jit.set_compile_threshold(50)
    jit.enable_adaptive_threshold()
    decisions = [jit.should_compile(5) for _ in range(Jit.ADJUST_EVERY * 4)]
    assert jit.threshold < 50
    assert not decisions[0] and decisions[-1], "cold-looking blocks get compiled once the threshold drops"


def test_float_registers_on_the_native_array():
    jit = Jit(VmConfig(), opt_level=0)
    jit.write_freg(3, -2.5)
    assert jit.read_freg(3) == -2.5
    assert jit.state.regs[32 + 3] == 0xC004_0000_0000_0000
    jit.write_freg_f32(4, 1.5)
    assert jit.state.regs[32 + 4] == 0xFFFF_FFFF_3FC0_0000
    assert jit.read_freg_f32(4) == 1.5
    jit.state.regs[32 + 4] = 0x3FC0_0000
    assert math.isnan(jit.read_freg_f32(4)), "a binary32 that is not NaN-boxed reads as NaN"


def test_blocks_that_cannot_resume_precisely_are_refused():
    b = IRBuilder()
    b.insn(0x1000, 0)
    value = b.get(5)
    b.insn(0x1004, 1)
    b.set(6, value)
    b.jump(0x1008)
    assert b.resumable is False
    with pytest.raises(ValueError, match="crosses an instruction boundary"):
        Jit(VmConfig(), opt_level=0).compile(IRBlock(0x1000, b.stmts, 2, 8))
    with pytest.raises(ValueError, match="crosses an instruction boundary"):
        Jit(VmConfig(), opt_level=0).compile(IRBlock(0x1000, b.stmts, 2, 8, resumable=b.resumable))


def test_builder_knows_fused_pairs_share_one_boundary():
    b = IRBuilder()
    b.insn(0x1000, 0)
    b.insn(0x1004, 1)
    value = b.get(5)
    b.insn(0x1008, 2)
    b.set(6, b.op(Op.ADD, b.get(6), 1))
    assert b.resumable is True
    b.set(7, value)
    assert b.resumable is False


def test_exit_terminator_runs_the_exit_check():
    b = IRBuilder()
    b.insn(0x1000, 0)
    b.set(7, 42)
    b.exit(0x1004)
    checked = []
    jit = Jit(VmConfig(), namespace={"XC": lambda pc: checked.append(pc) or pc + 8}, opt_level=0)
    compiled = jit.compile(IRBlock(0x1000, b.stmts, 1, 4))
    assert jit.execute(compiled) == 0x100C
    assert checked == [0x1004] and jit.state.regs[7] == 42
    assert jit.exits[Exit.EXIT_CHECK] == 1 and jit.state.reason is Exit.NONE
    assert jit.run(0x1000, 100) == 0x100C, "the dispatch loop stops at EXIT blocks too"
    assert checked == [0x1004, 0x1004] and jit.state.context[ICOUNT] == 2


def test_jump_table_conflicts_are_resolved_from_the_cache():
    jit = Jit(VmConfig(), opt_level=0)
    stride = 2 * JUMP_ENTRIES  # same jump-table slot
    first, second = counting_block(0x1000), counting_block(0x1000 + stride)
    second.stmts[-1].args = (0x1000,)
    first.stmts[-1].args = (0x1000 + stride,)
    jit.compile(first)
    jit.compile(second)
    assert jit.run(0x1000, 100) in (0x1000, 0x1000 + stride)
    assert jit.state.context[ICOUNT] >= 100 and jit.state.regs[5] == jit.state.context[ICOUNT]


def test_new_fast_maps_flush_the_native_tlb():
    jit = Jit(VmConfig(), namespace={"RD": {}, "WR": {}}, opt_level=0)
    jit.state.fill(5, 0x1000, write=False)
    rd: dict[int, int] = {7: 0}
    jit.set_fast_maps(rd, {})
    assert jit.namespace["RD"] is rd
    assert jit.state.tlb_entry(5, write=False) is None
    jit.refill(7)
    assert jit.state.tlb_entry(7, write=False) == 0
