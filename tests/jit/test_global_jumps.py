"""Jump tables of blocks on global pages: every regime of a paging mode shares one, and native code
probes it after the regime's own table (context.py, codegen.py)."""

from __future__ import annotations

import ctypes

from polyvm import VmConfig
from polyvm.engine.jit.context import BLOCKS, ICOUNT, LIMIT, REASON, Exit
from polyvm.engine.jit.jit import CompiledBlock, Jit
from polyvm.ir.block import IRBlock, IRBuilder, Op

A, B = 0x1000, 0x1004


def counting_block(pc: int, target: int, register: int = 5) -> IRBlock:
    """x[register] += 1; jump to target."""
    b = IRBuilder()
    b.insn(pc, 0)
    b.set(register, b.op(Op.ADD, b.get(register), 1))
    b.jump(target)
    return IRBlock(pc, b.stmts, 1, 4)


def dispatch(jit: Jit, pc: int, instructions: int = 100) -> tuple[Exit, int]:
    """One call of the native dispatch loop from ``pc``: why it stopped and how many instructions
    native code retired."""
    ctx = jit.state.context
    ctx[ICOUNT], ctx[LIMIT], ctx[BLOCKS] = 0, instructions, 0
    jit._run(jit.state.regs_address, jit.ram_address, jit.state.context_address, pc)
    reason, ctx[REASON] = Exit(ctx[REASON]), 0
    return reason, ctx[ICOUNT]


def loop(jit: Jit) -> tuple[CompiledBlock, CompiledBlock]:
    """Blocks A and B jumping to each other, compiled (and entered in the first regime's table)."""
    return jit.compile(counting_block(A, B)), jit.compile(counting_block(B, A))


def share(jit: Jit, *blocks: CompiledBlock) -> None:
    for compiled in blocks:
        jit.state.set_jump(compiled.block.start_pc, compiled.address, shared=True)


def test_blocks_on_global_pages_run_natively_in_every_regime_of_their_mode():
    jit = Jit(VmConfig(), opt_level=0)
    blocks = loop(jit)
    jit.state.select_jumps("process 1", "kernel")
    assert dispatch(jit, A) == (Exit.LOOKUP, 0), "a new regime's own table is empty"
    share(jit, *blocks)
    assert dispatch(jit, A) == (Exit.BUDGET, 100)
    jit.state.select_jumps("process 2", "kernel")
    assert dispatch(jit, A) == (Exit.BUDGET, 100), "another address space finds them too"
    jit.state.select_jumps("process 2", "another mode")
    assert dispatch(jit, A) == (Exit.LOOKUP, 0)


def test_the_regimes_own_entry_is_probed_first():
    jit = Jit(VmConfig(), opt_level=0)
    global_a, global_b = loop(jit)
    own_a = jit.compile(counting_block(A, B, register=6))
    jit.state.select_jumps("process", "kernel")
    share(jit, global_a, global_b)
    assert not jit.state.uses_own_jump(A)
    jit.state.set_jump(A, own_a.address)
    assert jit.state.uses_own_jump(A) and not jit.state.uses_own_jump(B)
    regs = jit.state.regs
    regs[5] = regs[6] = 0
    assert dispatch(jit, A, 10) == (Exit.BUDGET, 10)
    assert (regs[5], regs[6]) == (5, 5), "A from the regime's table, B from the global one"


def test_address_space_flushes_keep_global_entries_full_flushes_and_drops_do_not():
    jit = Jit(VmConfig(), opt_level=0)
    blocks = loop(jit)
    jit.state.select_jumps("process", "kernel")
    share(jit, *blocks)
    jit.state.set_jump(A, blocks[0].address)
    jit.state.flush_jumps(lambda regime: regime == "process")
    assert not jit.state.uses_own_jump(A)
    assert dispatch(jit, A) == (Exit.BUDGET, 100)
    jit.state.drop_jump("kernel", B)
    assert dispatch(jit, A) == (Exit.LOOKUP, 1)
    share(jit, *blocks)
    jit.state.flush_jumps()
    assert dispatch(jit, A) == (Exit.LOOKUP, 0)


def test_a_full_flush_empties_every_global_table_written_since_the_last_one():
    """Global tables are emptied only if written since they last were (context.py
    ``filled_globals``): by set_jump or by the bulk filler, current or not."""
    jit = Jit(VmConfig(), opt_level=0)
    blocks = loop(jit)
    jit.state.select_jumps("process", "kernel")
    words = ctypes.c_uint64 * 2
    jit.set_jumps(words(A, B), words(*(each.address for each in blocks)), shared=True)
    jit.state.select_jumps("process", "another mode")
    share(jit, *blocks)
    jit.state.flush_jumps()
    assert dispatch(jit, A) == (Exit.LOOKUP, 0)
    jit.state.select_jumps("process", "kernel")
    assert dispatch(jit, A) == (Exit.LOOKUP, 0), "the table filled in bulk was emptied too"
    share(jit, *blocks)
    assert dispatch(jit, A) == (Exit.BUDGET, 100)


def test_global_keys_nothing_was_entered_for_share_one_empty_table_until_their_first_entry():
    jit = Jit(VmConfig(), opt_level=0)
    blocks = loop(jit)
    state = jit.state
    state.select_jumps("process 1", "bare")
    state.select_jumps("process 1", "user")
    assert state.global_tables["bare"] is state.global_tables["user"] is state.unwritten_globals
    state.select_jumps("process 1", "kernel")
    share(jit, *blocks)
    assert state.global_tables["kernel"] is not state.unwritten_globals
    assert dispatch(jit, A) == (Exit.BUDGET, 100)
    state.select_jumps("process 2", "user")
    assert dispatch(jit, A) == (Exit.LOOKUP, 0), "the shared empty table got nothing"
    state.select_jumps("process 2", "kernel")
    assert dispatch(jit, A) == (Exit.BUDGET, 100)
