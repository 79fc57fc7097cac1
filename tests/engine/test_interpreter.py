"""Interpreter engine pieces: block cache, fuser, generated code, invalidation, loops and traps."""

import struct

from polyvm import BlockCache, ExecMode, InstructionLimit, Interpreter, RiscvHart, SoftMmu, VmConfig
from polyvm.arch.riscv64.fuser import FusedKind
from polyvm.arch.riscv64.translate import RiscvTranslator
from polyvm.engine.interpreter.block_cache import WHOLE_PAGE_AFTER
from polyvm.engine.interpreter.engine import JUMP_CACHES_KEPT
from polyvm.engine.interpreter.pycodegen import generate_source
from polyvm.ir.block import IRBlock, IRBuilder, Op
from polyvm.mem.paging import PagingMode, Priv

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


def test_a_page_stores_keep_hitting_loses_all_its_blocks():
    cache = BlockCache()
    for pc in range(0x2000, 0x2100, 4):
        cache.insert(pc, block(pc))
    assert cache.invalidate_range(0x2ffc, 4) == []  # hits no block: does not count
    for hit in range(WHOLE_PAGE_AFTER):
        assert [c.block.start_pc for c in cache.invalidate_range(0x2000 + 4 * hit, 4)] == [0x2000 + 4 * hit]
    dropped = cache.invalidate_range(0x2000 + 4 * WHOLE_PAGE_AFTER, 1)
    assert len(dropped) == 0x100 // 4 - WHOLE_PAGE_AFTER and len(cache) == 0
    cache.insert(0x2000, block(0x2000))  # the page is counted afresh once it has blocks again
    cache.insert(0x2010, block(0x2010))
    assert [c.block.start_pc for c in cache.invalidate_range(0x2000, 1)] == [0x2000]


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


def test_sfence_of_one_address_drops_the_jump_cache_entries_of_its_leaf_only():
    """Code in a 2 MiB superpage and in two 4 KiB pages: fencing an address drops exactly the pcs
    whose fetch that address's leaf translated."""
    from polyvm.mem.paging import Priv

    mmu = SoftMmu(4 << 20, PagingMode.SV39, ram_base=RAM)
    tables = {"next": RAM + (4 << 20)}

    def alloc() -> int:
        tables["next"] -= 4096
        return tables["next"]

    root = alloc()

    def map_page(vaddr: int, paddr: int, level: int) -> None:
        table = root
        for lvl in range(2, level, -1):
            slot = table + ((vaddr >> (12 + 9 * lvl)) & 0x1FF) * 8
            entry = mmu.ram.read_int(slot, 8)
            if not entry & 1:
                entry = ((alloc() >> 12) << 10) | 1
                mmu.ram.write_int(slot, entry, 8)
            table = (entry >> 10) << 12
        slot = table + ((vaddr >> (12 + 9 * level)) & 0x1FF) * 8
        mmu.ram.write_int(slot, ((paddr >> 12) << 10) | 0b11001011, 8)  # V R X A D

    map_page(0x4000_0000, RAM, level=1)
    map_page(0x1000, RAM + 0x20_0000, level=0)
    map_page(0x2000, RAM + 0x20_1000, level=0)
    nop_jal = struct.pack("<I", 0x0000006F)  # jal x0, 0
    for paddr in (RAM + 0x100, RAM + 0x1F_0000, RAM + 0x20_0000, RAM + 0x20_1000):
        mmu.ram.write(paddr, nop_jal)
    hart = RiscvHart(0, mmu, lambda: 0)
    hart.satp = (8 << 60) | (root >> 12)
    mmu.set_satp(hart.satp)
    hart.priv = Priv.S
    mmu.set_context(Priv.S, Priv.S, False, False)
    engine = Interpreter(VmConfig().with_exec_mode(ExecMode.INTERPRETER), hart)
    pcs = (0x4000_0100, 0x401F_0000, 0x1000, 0x2000)
    for pc in pcs:
        engine._lookup(pc)
    assert all(pc in engine.jump_cache for pc in pcs)
    engine._sfence(0x2000)
    assert [pc in engine.jump_cache for pc in pcs] == [True, True, True, False]
    engine._sfence(0x4010_0000)
    assert [pc in engine.jump_cache for pc in pcs] == [False, False, True, False]


def test_evicted_translations_leave_the_jump_caches():
    """An evicted block's page may stop being code (stores to it no longer drop anything), so its
    jump-cache entry must go with it."""
    words = [0x0040006F, 0x0040006F, 0x0040006F, 0x0000006F]  # j .+4 three times, then j .
    engine = make_engine(words)
    engine.enable_block_cache(2)
    for pc in (RAM, RAM + 4, RAM + 8):
        engine._lookup(pc)
    assert RAM not in engine.jump_cache
    assert RAM + 4 in engine.jump_cache and RAM + 8 in engine.jump_cache


def test_jump_caches_are_kept_for_recent_address_spaces_only():
    """A guest that runs many processes does not keep a jump cache for each one it ever ran."""
    engine = make_engine([0x0000_0013])
    engine.hart.priv = Priv.S
    engine.hart._sync_mmu()
    for asid in range(3 * JUMP_CACHES_KEPT):
        engine.mmu.set_satp(8 << 60 | asid << 44 | (RAM >> 12) + 0x100)
    assert len(engine._jump_caches) <= JUMP_CACHES_KEPT
