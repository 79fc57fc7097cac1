"""Interpreter engine pieces: block cache, fuser, generated code, invalidation, loops and traps."""

import struct

from polyvm import BlockCache, ExecMode, InstructionLimit, Interpreter, RiscvHart, SoftMmu, VmConfig
from polyvm.arch.riscv64.fuser import FusedKind
from polyvm.arch.riscv64.translate import RiscvTranslator
from polyvm.engine.interpreter.pycodegen import generate_source
from polyvm.ir.block import IRBlock, IRBuilder, Op
from polyvm.mem.paging import PagingMode

RAM = 0x8000_0000


def make_engine(words: list[int]) -> Interpreter:
    mmu = SoftMmu(1 << 20, PagingMode.NONE, ram_base=RAM)
    mmu.ram.write(RAM, b"".join(struct.pack("<I", w) for w in words))
    hart = RiscvHart(0, mmu, lambda: 0)
    hart.pc = RAM
    hart.mtvec = RAM + 0x800
    return Interpreter(VmConfig().with_exec_mode(ExecMode.INTERPRETER), hart)


def block(pc: int) -> IRBlock:
    b = IRBuilder()
    b.insn(pc, 0)
    b.jump(pc + 4)
    return IRBlock(pc, b.stmts, 1, 4)


def test_block_cache_get_insert_stats_evict_clear():
    cache = BlockCache(max_size=2)
    assert cache.get(0x100) is None
    cache.insert(0x100, block(0x100))
    cache.insert(0x200, block(0x200))
    assert cache.get(0x100).start_pc == 0x100
    cache.insert(0x300, block(0x300))
    assert cache.get(0x200) is None
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.size) == (1, 2, 2)
    assert stats.hit_rate == 1 / 3
    cache.clear()
    assert len(cache) == 0


def test_block_cache_invalidates_overlapping_blocks_only():
    cache = BlockCache()
    cache.insert(0x1000, block(0x1000))
    cache.insert(0x1010, block(0x1010))
    dropped = cache.invalidate_range(0x1012, 1)
    assert [c.block.start_pc for c in dropped] == [0x1010]
    assert cache.get(0x1000) is not None


def test_disabled_block_cache_stores_nothing():
    cache = BlockCache()
    cache.enabled = False
    cache.insert(0x100, block(0x100))
    assert cache.get(0x100) is None


def test_fuser_turns_lui_addi_into_one_constant_and_counts_it():
    # lui a0, 0x12345 ; addi a0, a0, 0x678 ; jal x0, 0
    words = [0x12345537, 0x67850513, 0x0000006F]
    translator = RiscvTranslator()
    mem = b"".join(struct.pack("<I", w) for w in words)
    blk = translator.translate(0, lambda pc: struct.unpack_from("<H", mem, pc)[0])
    sets = [s for s in blk.stmts if s.op is Op.SET]
    assert [(s.aux, s.args[0]) for s in sets] == [(10, 0x12345678)]
    assert translator.fuser.by_kind[FusedKind.LUI_ADDI] == 1
    assert translator.fuser.stats().fused_count == 1
    assert blk.insn_count == 3


def test_self_loop_becomes_a_bounded_python_loop_with_exact_count():
    # li a0, 1000 ; loop: addi a0, a0, -1 ; add a1, a1, a0 ; bnez a0, loop ; ebreak
    words = [0x3E800513, 0xFFF50513, 0x00A585B3, 0xFE051CE3, 0x00100073]
    engine = make_engine(words)
    engine.run_slice(budget=64)
    hart = engine.hart
    assert hart.read_reg(10) == 0
    assert hart.read_reg(11) == sum(range(1000))
    assert hart.instret == 1 + 3 * 1000
    assert hart.mcause == 3 and hart.mepc == RAM + 16
    loop = engine.block_cache.get(RAM + 4, RAM + 4)
    assert "for k in range" in generate_source(loop, "b")


def test_faulting_load_leaves_precise_state():
    # addi a1, x0, 7 ; ld a2, 0(x0) (access fault) ; addi a1, x0, 9
    words = [0x00700593, 0x00003603, 0x00900593]
    engine = make_engine(words)
    engine.run_slice(budget=1)
    hart = engine.hart
    assert hart.read_reg(11) == 7
    assert hart.mcause == 5 and hart.mepc == RAM + 4 and hart.mtval == 0
    assert hart.instret == 1


def test_store_to_translated_code_invalidates_it():
    words = [0x00100513, 0x0000006F]  # li a0, 1 ; j .
    engine = make_engine(words)
    engine.run(InstructionLimit(2))
    assert engine.hart.read_reg(10) == 1
    engine.mmu.phys_write(RAM, 0x00200513, 4)  # li a0, 2
    engine.hart.pc = RAM
    engine.run(InstructionLimit(2))
    assert engine.hart.read_reg(10) == 2
