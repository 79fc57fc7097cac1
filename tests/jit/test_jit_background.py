"""Background compilation: blocks compiled by the worker, installed by the guest thread."""

from __future__ import annotations

import itertools

from polyvm import VmConfig
from polyvm.engine.jit import background
from polyvm.engine.jit.jit import Jit
from polyvm.ir.block import IRBlock, IRBuilder, Op


def adding_block(pc: int, amount: int) -> IRBlock:
    """x5 += amount; jump to pc + 4."""
    b = IRBuilder()
    b.insn(pc, 0)
    b.set(5, b.op(Op.ADD, b.get(5), amount))
    b.jump(pc + 4)
    return IRBlock(pc, b.stmts, 1, 4)


def crossing_block(pc: int) -> IRBlock:
    b = IRBuilder()
    b.insn(pc, 0)
    value = b.get(5)
    b.insn(pc + 4, 1)
    b.set(6, value)
    b.jump(pc + 8)
    return IRBlock(pc, b.stmts, 2, 8)


def test_background_compiles_are_installed_by_the_caller():
    jit = Jit(VmConfig(), opt_level=0)
    blocks = [adding_block(0x1000 + 4 * i, i + 1) for i in range(8)]
    assert all(jit.compile_async(block) for block in blocks)
    assert not jit.compile_async(blocks[0]), "already queued"
    jit.wait_for_compiles()
    assert jit.get_compiled(0x1000) is None, "nothing is installed behind the caller's back"
    assert jit.install_ready() == 8
    assert jit.compile_stats().blocks_compiled == 8
    assert jit.run(0x1000, 1000) == 0x1020
    assert jit.state.regs[5] == sum(range(1, 9))


def test_flush_drops_in_flight_results_and_refusals_are_remembered():
    jit = Jit(VmConfig(), opt_level=0)
    jit.compile_async(adding_block(0x2000, 1))
    jit.compile_async(crossing_block(0x3000))
    jit.flush_code_cache()
    jit.wait_for_compiles()
    assert jit.install_ready() == 0 and jit.get_compiled(0x2000) is None
    jit.compile_async(crossing_block(0x3000))
    jit.wait_for_compiles()
    assert jit.install_ready() == 0
    assert not jit.compile_async(crossing_block(0x3000)), "refused blocks are not retried"


def test_a_process_compiles_its_first_quick_blocks_itself_then_starts_the_server(monkeypatch):
    """The first IN_PROCESS_COMPILES unoptimised compiles are done at once in this process (a warm
    run needs only a few: no server is started for them); the next starts the compile server."""
    monkeypatch.setattr(background, "_server", [])
    monkeypatch.setattr(background, "_compiled_here", itertools.count())
    jit = Jit(VmConfig(), opt_level=0)
    blocks = [adding_block(0x4000 + 4 * i, i + 1) for i in range(background.IN_PROCESS_COMPILES + 1)]
    for block in blocks[:-1]:
        assert jit.compile_async(block)
    assert not background._server
    assert jit.install_ready() == background.IN_PROCESS_COMPILES, "ready without waiting"
    assert jit.compile_async(blocks[-1])
    assert background._server, "the server compiles the rest"
    jit.wait_for_compiles()
    assert jit.install_ready() == 1
    assert jit.run(0x4000, 1000) == 0x4000 + 4 * len(blocks)
    assert jit.state.regs[5] == sum(range(1, len(blocks) + 1))
    background._server[0].close()
