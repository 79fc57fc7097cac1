"""The persistent translation store: stored translations equal fresh ones and are only used for the
same code bytes of the same code version."""

import struct

import pytest

from polyvm import ExecMode, Interpreter, RiscvHart, SoftMmu, VmConfig
from polyvm.engine.interpreter import translation_store
from polyvm.mem.paging import PagingMode

RAM = 0x8000_0000
ADDI_X1_5 = 0x00500093
ADD_X2_X1_X1 = 0x00108133
SLLI_X3_X2_3 = 0x00311193
JAL_X0_8 = 0x0080006F  # to RAM + 20


@pytest.fixture(autouse=True)
def private_store(tmp_path, monkeypatch):
    monkeypatch.setenv("POLYVM_CACHE", str(tmp_path))
    monkeypatch.setattr(translation_store, "_stores", {})


def engine(words: list[int]) -> Interpreter:
    mmu = SoftMmu(1 << 20, PagingMode.NONE, ram_base=RAM)
    mmu.ram.write(RAM, b"".join(struct.pack("<I", w) for w in words))
    hart = RiscvHart(0, mmu, lambda: 0)
    hart.pc = RAM
    return Interpreter(VmConfig().with_exec_mode(ExecMode.INTERPRETER), hart)


def run_block(interpreter: Interpreter) -> tuple[int, list[int]]:
    function, count, cached, _ = interpreter._lookup(RAM)
    next_pc = function()
    return next_pc, [int(v) for v in interpreter.hart.x[:4]], cached


PROGRAM = [ADDI_X1_5, ADD_X2_X1_X1, SLLI_X3_X2_3, JAL_X0_8]


@pytest.mark.parametrize("reopened", [False, True], ids=["same-process", "from-disk"])
def test_a_stored_translation_runs_and_rebuilds_like_a_fresh_one(reopened, monkeypatch):
    first = engine(PROGRAM)
    fresh_pc, fresh_regs, fresh = run_block(first)
    first.translations.flush()
    if reopened:
        monkeypatch.setattr(translation_store, "_stores", {})
    second = engine(PROGRAM)
    stored_pc, stored_regs, stored = run_block(second)
    assert second.stored_hits == 1 and first.stored_hits == 0
    assert (stored_pc, stored_regs) == (fresh_pc, fresh_regs) == (RAM + 20, [0, 5, 10, 80])
    assert type(stored.block) is translation_store.StoredIRBlock
    assert stored.block.successors() == fresh.block.successors() == (RAM + 20,)
    assert stored.block.resumable is fresh.block.resumable is True
    assert repr(stored.block.stmts) == repr(fresh.block.stmts)
    assert (stored.block.insn_count, stored.block.byte_size, stored.block.phys_start) == (4, 16, RAM)


def test_other_code_bytes_are_translated_anew():
    first = engine(PROGRAM)
    run_block(first)
    first.translations.flush()
    changed = engine([ADDI_X1_5, ADD_X2_X1_X1, ADD_X2_X1_X1, JAL_X0_8])
    _, regs, _ = run_block(changed)
    assert changed.stored_hits == 0
    assert regs == [0, 5, 10, 0]


def test_entries_of_another_code_version_are_dropped(monkeypatch):
    first = engine(PROGRAM)
    run_block(first)
    first.translations.flush()
    monkeypatch.setattr(translation_store, "_stores", {})
    monkeypatch.setattr(translation_store, "code_version", lambda: "another version")
    later = engine(PROGRAM)
    run_block(later)
    assert later.stored_hits == 0


def test_tails_are_stored_and_found_again(monkeypatch):
    from polyvm.engine.jit.resume import Tails

    first = engine(PROGRAM)
    _, _, cached = run_block(first)
    tails = Tails(cached.block, first.namespace, first.translations)
    first.hart.x[1] = 7
    assert tails.function(1)() == RAM + 20 and first.hart.x[2] == 14
    first.translations.flush()
    monkeypatch.setattr(translation_store, "_stores", {})
    second = engine(PROGRAM)
    _, _, stored = run_block(second)
    assert second.translations.find_tail(RAM, stored.block.code, 1) is not None
    again = Tails(stored.block, second.namespace, second.translations)
    second.hart.x[1] = 9
    assert again.function(1)() == RAM + 20 and second.hart.x[2] == 18
    assert "stmts" not in vars(stored.block), "a stored tail needs no statements"


def test_a_store_file_that_is_not_a_database_is_started_afresh(tmp_path):
    from polyvm.engine.interpreter.translation_store import code_version

    (tmp_path / f"translations-{code_version()}.sqlite3").write_bytes(b"not a database" * 100)
    first = engine(PROGRAM)
    _, regs, _ = run_block(first)
    first.translations.flush()
    assert regs == [0, 5, 10, 80] and first.stored_hits == 0


def test_a_page_record_serves_a_later_run_and_rows_serve_what_it_lacks(monkeypatch):
    """A run that finds a page with the bytes an earlier run recorded takes the blocks from the
    record, without reading the page's rows; a block the record lacks comes from the rows."""
    second_block = [ADDI_X1_5, JAL_X0_8]
    program = PROGRAM + [0] + second_block  # a second block at RAM + 20
    first = engine(program)
    run_block(first)
    first._lookup(RAM + 20)
    first.translations.flush()  # rows for both blocks, a record with both for these bytes
    changed_tail = program + [0x13] * 8  # same blocks, other bytes later in the page
    monkeypatch.setattr(translation_store, "_stores", {})
    only_first = engine(changed_tail)
    run_block(only_first)
    only_first.translations.flush()  # a record for the new bytes with the first block only
    monkeypatch.setattr(translation_store, "_stores", {})
    later = engine(changed_tail)
    _, regs, _ = run_block(later)
    store = later.translations
    assert later.stored_hits == 1 and regs == [0, 5, 10, 80]
    assert RAM >> 12 not in store.rows_read, "the record had the first block"
    later._lookup(RAM + 20)
    assert later.stored_hits == 2 and RAM >> 12 in store.rows_read, "the rows had the second"


def test_a_record_far_bigger_than_what_a_run_used_is_cut_down_to_it(monkeypatch):
    """Records gather the blocks of every run that saw the page's bytes; one that holds more than
    RECORD_SLACK times what a run used is rewritten with just that."""
    jumps = [0x0040006F] * 6  # jal x0, 4: six one-instruction blocks in a row
    first = engine(jumps)
    for index in range(6):
        first._lookup(RAM + 4 * index)
    first.translations.flush()
    monkeypatch.setattr(translation_store, "_stores", {})
    second = engine(jumps)
    second._lookup(RAM)
    assert len(second.translations.recorded[RAM >> 12]) == 6
    second.translations.flush()
    monkeypatch.setattr(translation_store, "_stores", {})
    third = engine(jumps)
    third._lookup(RAM)
    assert third.stored_hits == 1 and len(third.translations.recorded[RAM >> 12]) == 1


def straddling(second_half: int) -> Interpreter:
    """A block of c.addi x1, 1 at RAM + 0xFFC and addi x2, x2, <imm> at RAM + 0xFFE, whose upper
    16 bits (the immediate's top) are ``second_half``, the first parcel of the next page."""
    mmu = SoftMmu(1 << 20, PagingMode.NONE, ram_base=RAM)
    addi = 0x00010113 | (second_half << 16)
    mmu.ram.write(RAM + 0xFFC, struct.pack("<HHH", 0x0085, addi & 0xFFFF, addi >> 16))
    hart = RiscvHart(0, mmu, lambda: 0)
    return Interpreter(VmConfig().with_exec_mode(ExecMode.INTERPRETER), hart)


def test_a_block_whose_last_instruction_straddles_its_page_is_stored_with_both_halves():
    """Its code takes the two bytes of the next page; a later run finds it only while those bytes
    are the same."""
    first = straddling(0x0030)  # addi x2, x2, 3
    function, _, cached, _ = first._lookup(RAM + 0xFFC)
    assert cached.block.code is not None and len(cached.block.code) == cached.block.byte_size == 6
    assert function() == RAM + 0x1002 and [int(v) for v in first.hart.x[1:3]] == [1, 3]
    first.translations.flush()
    again = straddling(0x0030)
    function, _, _, _ = again._lookup(RAM + 0xFFC)
    assert again.stored_hits == 1
    assert function() == RAM + 0x1002 and [int(v) for v in again.hart.x[1:3]] == [1, 3]
    changed = straddling(0x0070)  # addi x2, x2, 7: only the next page's bytes differ
    function, _, _, _ = changed._lookup(RAM + 0xFFC)
    assert changed.stored_hits == 0
    assert function() == RAM + 0x1002 and [int(v) for v in changed.hart.x[1:3]] == [1, 7]
