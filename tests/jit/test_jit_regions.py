"""Region functions (codegen.py): a block with a member inlined, its branch back as a native loop.

Every inlined block must still count as one block, stop the chain at the same BLOCKS / ICOUNT
points as chained single blocks, and a side exit inside a member must name the member (BLOCK) and
the region (REGION) with the counters of that instruction.
"""

from __future__ import annotations

import pytest

from polyvm import VmConfig
from polyvm.engine.jit.context import BLOCK, BLOCKS, ICOUNT, INDEX, LIMIT, PC, REASON, REGION, Exit
from polyvm.engine.jit.jit import Jit
from polyvm.ir.block import IRBlock, IRBuilder, Op

HEAD, MEMBER, OUT = 0x1000, 0x1010, 0x2000


def head() -> IRBlock:
    """x5 += 1; x6 -= 1; x6 != 0 ? MEMBER : OUT."""
    b = IRBuilder()
    b.insn(HEAD, 0)
    b.set(5, b.op(Op.ADD, b.get(5), 1))
    b.insn(HEAD + 4, 1)
    left = b.op(Op.SUB, b.get(6), 1)
    b.set(6, left)
    b.branch(b.op(Op.NE, left, 0), MEMBER, OUT)
    return IRBlock(HEAD, b.stmts, 2, 8)


def member(load: bool) -> IRBlock:
    """x7 += 2; then x8 = mem[x10] (``load``) or x8 += 1; jump HEAD."""
    b = IRBuilder()
    b.insn(MEMBER, 0)
    b.set(7, b.op(Op.ADD, b.get(7), 2))
    b.insn(MEMBER + 4, 1)
    b.set(8, b.load(b.get(10), 8, False) if load else b.op(Op.ADD, b.get(8), 1))
    b.jump(HEAD)
    return IRBlock(MEMBER, b.stmts, 2, 8)


def run(jit: Jit, blocks: int, limit: int) -> int:
    """Enter the region at HEAD with x6 = 10 and fresh counters; returns the pc it stopped at."""
    state = jit.state
    state.regs[5:9] = [0, 10, 0, 0]
    ctx = state.context
    ctx[REASON], ctx[ICOUNT], ctx[BLOCKS], ctx[LIMIT] = 0, 0, blocks, limit
    return jit._run(state.regs_address, jit.ram_address, state.context_address, HEAD)


@pytest.fixture(params=[0, 2], ids=["O0", "O2"])
def region_jit(request):
    def make(load: bool) -> Jit:
        jit = Jit(VmConfig(), opt_level=request.param)
        native = jit.backend.compile_block(head(), [member(load)])
        jit.state.set_jump(HEAD, native.address)
        return jit
    return make


def test_region_runs_the_loop_and_counts_every_block(region_jit):
    jit = region_jit(False)
    assert run(jit, 0, 10**9) == OUT
    ctx, regs = jit.state.context, jit.state.regs
    assert ctx[REASON] == Exit.LOOKUP
    assert ctx[ICOUNT] == 2 * 19, "10 passes of the head, 9 of the member"
    assert list(regs[5:9]) == [10, 0, 18, 9]


@pytest.mark.parametrize(("blocks", "pc", "icount", "regs"), [
    (5, MEMBER, 10, [3, 7, 4, 2]),
    (4, HEAD, 8, [2, 8, 4, 2]),
    (1, MEMBER, 2, [1, 9, 0, 0]),
])
def test_region_stops_after_the_block_budget(region_jit, blocks, pc, icount, regs):
    jit = region_jit(False)
    assert run(jit, blocks, 10**9) == pc
    ctx = jit.state.context
    assert (ctx[REASON], ctx[ICOUNT], ctx[BLOCKS]) == (Exit.BUDGET, icount, 0)
    assert list(jit.state.regs[5:9]) == regs


def test_region_stops_once_icount_reaches_the_limit(region_jit):
    jit = region_jit(False)
    assert run(jit, 0, 7) == HEAD, "the member that retires instructions 7 and 8 is the last"
    ctx = jit.state.context
    assert (ctx[REASON], ctx[ICOUNT]) == (Exit.BUDGET, 8)
    assert list(jit.state.regs[5:9]) == [2, 8, 4, 2]


def test_side_exit_inside_a_member_names_it_and_the_region(region_jit):
    jit = region_jit(True)
    assert run(jit, 100, 10**9) == MEMBER + 4
    ctx = jit.state.context
    assert ctx[REASON] == Exit.MEMORY
    assert (ctx[BLOCK], ctx[REGION], ctx[INDEX], ctx[PC]) == (MEMBER, HEAD, 1, MEMBER + 4)
    assert ctx[ICOUNT] == 3, "the head's two instructions and the member's first"
    assert ctx[BLOCKS] == 98, "the head and the member were entered"
    assert list(jit.state.regs[5:9]) == [1, 9, 2, 0], "slots as at the start of the load"
