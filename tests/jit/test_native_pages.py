"""Native page records (native_pages.py) and the precompiler (precompile.py): a later run enters the
recorded functions of a page that holds the same bytes natively from its first lookup there, drops
them when the guest writes into the page, and gets native code for the blocks an earlier run only
ran in the Python tier."""

from __future__ import annotations

import ctypes
import marshal
import subprocess
import sys
from array import array
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from polyvm import ExecMode, VmConfig
from polyvm.devtools.baremetal import build_baremetal
from polyvm.devtools.guests import RISCV64_DIR, build_riscv_guest
from polyvm.engine import hybrid
from polyvm.engine.jit.context import GLOBAL_JUMP_ENTRIES, JUMP_ENTRIES, NativeState
from polyvm.engine.jit.jit import CompiledBlock, Jit
from polyvm.engine.jit.llvm_backend import _name_index
from polyvm.engine.jit.native_pages import NativeEntry, NativePages, RecordedPage, StaleRecord, page_digest
from polyvm.engine.jit.object_bundles import make_bundles
from polyvm.engine.jit.precompile import chunks, precompile, take_noted
from polyvm.machine.spike import SpikeBoard

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "guests"


def test_records_are_kept_by_page_and_bytes_and_merged(tmp_path):
    """An entry replaces the one at its pc unless that one is of a higher tier (unoptimised <
    optimised alone < optimised region)."""
    path = tmp_path / "names.sqlite3"
    pages = NativePages(path)
    first = NativeEntry(0x1000, "jit_a", False, 8, ())
    second = NativeEntry(0x1010, "jit_b", True, 12, ((0x1020, 4),))
    pages.record(1, b"bytes", [first, second])
    newer = first._replace(name="jit_c", optimised=True)
    pages.record(1, b"bytes", [newer])
    pages.record(1, b"bytes", [first._replace(name="jit_d")])
    alone, later = second._replace(name="jit_e", members=()), newer._replace(name="jit_f")
    pages.record(1, b"other", [first])
    pages.record(1, b"other", [newer, alone])
    pages.record(1, b"other", [later])
    pages.table.flush()
    again = NativePages(path)
    assert again.find(1, b"bytes") == (newer, second), "optimised code stays; the region stays"
    assert again.find(1, b"other") == (later, alone), "quick code replaced; the same tier by the later"
    assert [entry.tier for entry in (first, newer, second)] == [0, 1, 2]
    assert again.find(2, b"bytes") == ()


def test_moved_functions_are_placed_where_their_new_bundle_holds_them(tmp_path):
    """What the bundler does after a regroup (object_bundles.main): records that placed a moved
    function in its old bundle place it in the new one; other records and entries stay."""
    path = tmp_path / "names.sqlite3"
    pages = NativePages(path)
    moved = NativeEntry(0x1000, "jit_a", False, 8, (), ("old.o", 100, 1, 0))
    kept = NativeEntry(0x1010, "jit_b", False, 8, (), ("old.o", 200, 1, 128))
    elsewhere = NativeEntry(0x2000, "jit_c", False, 8, (), ("other.o", 300, 2, 64))
    pages.record(1, b"bytes", [moved, kept])
    pages.record(2, b"bytes", [elsewhere])
    pages.table.flush()
    assert NativePages(path).move({"jit_a": ("new.o", 100, 3, 256)}) == 1
    again = NativePages(path)
    assert again.find(1, b"bytes") == (moved._replace(place=("new.o", 100, 3, 256)), kept)
    assert again.find(2, b"bytes") == (elsewhere,)
    assert [(bundle, section) for bundle, section, _, _ in again.find_page(1, b"bytes").groups] == [
        ("new.o", 3), ("old.o", 1)]


def test_a_record_that_does_not_decode_counts_as_none(tmp_path):
    path = tmp_path / "names.sqlite3"
    pages = NativePages(path)
    pages.table.add((1, b"bytes", b"not marshalled"))
    pages.table.add((2, b"bytes", marshal.dumps([(0x2000, "jit_a")])))
    pages.table.flush()
    again = NativePages(path)
    assert again.find(1, b"bytes") == () and again.find(2, b"bytes") == ()
    entry = NativeEntry(0x1000, "jit_a", False, 8, ())
    again.record(1, b"bytes", [entry])
    again.table.flush()
    assert NativePages(path).find(1, b"bytes") == (entry,), "a new record replaces it"



def test_a_record_groups_its_placed_functions_by_bundle_section(tmp_path):
    path = tmp_path / "names.sqlite3"
    loose = NativeEntry(0x1000, "jit_loose", False, 8, ())
    first = NativeEntry(0x1010, "jit_first", True, 4, ((0x1020, 4),), ("b.o", 300, 2, 0x40))
    other = NativeEntry(0x1030, "jit_other", False, 4, (), ("c.o", 200, 1, 0x80))
    second = NativeEntry(0x1040, "jit_second", False, 4, (), ("b.o", 100, 2, 0x10))
    unknown_offset = NativeEntry(0x1050, "jit_unknown", False, 4, (), ("b.o", 100, None, None))
    pages = NativePages(path)
    pages.record(1, b"bytes", [loose, first, other, second, unknown_offset])
    pages.table.flush()
    record = NativePages(path).find_page(1, b"bytes")
    assert record.names == ("jit_first", "jit_second", "jit_other", "jit_loose", "jit_unknown")
    assert array("Q", record.pcs).tolist() == [0x1010, 0x1040, 0x1030, 0x1000, 0x1050]
    assert [(bundle, section, array("Q", offsets).tolist(), array("Q", sizes).tolist())
            for bundle, section, offsets, sizes in record.groups] == [
        ("b.o", 2, [0x40, 0x10], [300, 100]), ("c.o", 1, [0x80], [200])]
    assert record.placed == 3
    assert record.entries == (first, second, other, loose, unknown_offset)


def test_records_of_another_format_or_whose_parts_disagree_count_as_none(tmp_path):
    """A record whose entries (read only when asked for) disagree with its names is a damaged
    cache: asking for them says so."""
    path = tmp_path / "names.sqlite3"
    pages = NativePages(path)
    entry = NativeEntry(0x1000, "jit_a", False, 8, (), ("b.o", 100, 2, 0x40))
    stored = marshal.loads(RecordedPage.of((entry,)).stored())
    pages.table.add((1, b"bytes", marshal.dumps([tuple(entry)])))  # the earlier format: entries only
    pages.table.add((2, b"bytes", marshal.dumps(stored[:2] + (b"",) + stored[3:])))  # no pcs
    pages.table.add((3, b"bytes", marshal.dumps(stored[:4] + ([tuple(entry)],))))  # entries not stored apart
    pages.table.add((4, b"bytes", marshal.dumps(stored)))
    pages.table.add((5, b"bytes", marshal.dumps(stored[:4] + (marshal.dumps([tuple(entry)[:3]]),))))
    pages.table.flush()
    again = NativePages(path)
    assert [again.find(page, b"bytes") for page in (1, 2, 3, 4)] == [(), (), (), (entry,)]
    damaged = again.find_page(5, b"bytes")
    assert damaged.names == ("jit_a",)
    with pytest.raises(StaleRecord, match="damaged"):
        _ = damaged.entries


def test_records_are_read_a_window_of_pages_at_a_time(tmp_path, monkeypatch):
    path = tmp_path / "names.sqlite3"
    pages = NativePages(path)
    entries = {page: NativeEntry(page << 12, f"jit_{page}", False, 4, ()) for page in (64, 65, 127, 128)}
    for page, entry in entries.items():
        pages.record(page, b"bytes", [entry])
    pages.table.flush()
    again = NativePages(path)
    queries = []
    query = again.table.query
    monkeypatch.setattr(again.table, "query", lambda *args: queries.append(args) or query(*args))
    for page in (65, 64, 127, 100):
        assert again.find(page, b"bytes") == ((entries[page],) if page in entries else ())
    assert again.find(65, b"other bytes") == ()
    assert len(queries) == 1, "pages 64-127 are one window"
    assert again.find(128, b"bytes") == (entries[128],) and len(queries) == 2

@pytest.mark.parametrize("shared", [False, True])
def test_the_jump_filler_enters_what_set_jump_would(shared):
    jit = Jit(VmConfig())
    base = 0x8000_0000
    pcs = [base, 0xFFFF_FFFF_8000_1002, base + 2 * JUMP_ENTRIES, base + 4 * GLOBAL_JUMP_ENTRIES, 2]
    addresses = [0x7F00_0000_1000 + 64 * n for n in range(len(pcs))]
    words = ctypes.c_uint64 * len(pcs)
    jit.set_jumps(words(*pcs), words(*addresses), shared)
    expected = NativeState()
    for pc, address in zip(pcs, addresses, strict=True):
        expected.set_jump(pc, address, shared)
    table = "global_jumps" if shared else "jumps"
    assert list(getattr(jit.state, table)) == list(getattr(expected, table)), "colliding pcs: the last wins"


def test_a_physical_page_at_two_virtual_pages_gets_each_ones_functions(tmp_path, monkeypatch):
    """Records are per virtual page: the functions entered at a second mapping of the same bytes
    are that page's own (its pcs), not those first entered at the other."""
    monkeypatch.setenv("POLYVM_CACHE", str(tmp_path))
    elf = build_baremetal(BENCH / "cpu_mix.c", {"ITERATIONS": 1}, paging="bare", isa="rv64imac")
    engine = SpikeBoard(VmConfig().with_exec_mode(ExecMode.HYBRID).with_memory_size(64 << 20), elf).engines[0]
    ram = engine.mmu.ram
    ppn, first, second = (ram.base >> 12) + 5, (ram.base >> 12) + 1, (ram.base >> 12) + 2
    digest = page_digest(bytes(ram.u8[(ppn << 12) - ram.base:][:4096]))
    for page, name in ((first, "jit_first"), (second, "jit_second")):
        engine._found[name] = (0x1000 * page, 0)
        entry = NativeEntry((page << 12) + 0x10, name, False, 4, ())
        engine.native_pages.read[page, digest] = RecordedPage.of((entry,))
    engine._prefill((first << 12) + 0x10, ppn, False)
    engine._forget_jumps()  # the second mapping is another regime's, with its own (empty) table
    engine._prefill((second << 12) + 0x10, ppn, False)
    assert set(engine.entered) == {(second << 12) + 0x10}
    assert engine.jit.state.has_jump((second << 12) + 0x10, 0x1000 * second)


def test_functions_of_a_bundle_section_whose_start_is_unknown_are_found_by_name(tmp_path, monkeypatch):
    """A record's group whose bundle cannot be read falls back to finding each function by name:
    those found are entered, the others not."""
    monkeypatch.setenv("POLYVM_CACHE", str(tmp_path))
    elf = build_baremetal(BENCH / "cpu_mix.c", {"ITERATIONS": 1}, paging="bare", isa="rv64imac")
    engine = SpikeBoard(VmConfig().with_exec_mode(ExecMode.HYBRID).with_memory_size(64 << 20), elf).engines[0]
    ram = engine.mmu.ram
    ppn = (ram.base >> 12) + 5
    digest = page_digest(bytes(ram.u8[(ppn << 12) - ram.base:][:4096]))
    base = ppn << 12
    known = NativeEntry(base + 0x10, "jit_known", False, 4, (), ("missing.o", 100, 2, 0x40))
    unknown = NativeEntry(base + 0x20, "jit_unknown", False, 4, (), ("missing.o", 100, 2, 0x80))
    engine._found["jit_known"] = (0x5000, 100)
    engine.native_pages.read[ppn, digest] = RecordedPage.of((known, unknown))
    engine._prefill(base + 0x10, ppn, False)
    assert set(engine.entered) == {base + 0x10}
    assert engine.jit.state.has_jump(base + 0x10, 0x5000)
    assert engine.entered[base + 0x10].entry == known


def test_a_prefilled_function_given_a_translation_keeps_its_placement(tmp_path, monkeypatch):
    """A block Python translates at a prefilled pc gets the prefilled function; recording it again
    keeps the bundle placement its record had (else the next run looks it up by name)."""
    monkeypatch.setenv("POLYVM_CACHE", str(tmp_path))
    elf = build_baremetal(BENCH / "cpu_mix.c", {"ITERATIONS": 1}, paging="bare", isa="rv64imac")
    config = VmConfig().with_exec_mode(ExecMode.HYBRID).with_memory_size(64 << 20)
    probe = SpikeBoard(config, elf).engines[0]
    pc = probe.hart.pc
    length = len(probe._lookup(pc)[2].block.code)
    engine = SpikeBoard(config, elf).engines[0]
    ram = engine.mmu.ram
    digest = page_digest(bytes(ram.u8[(pc & ~0xFFF) - ram.base:][:4096]))
    placed = NativeEntry(pc, "jit_placed", False, length, (), ("b.o", 100, 2, 0x40))
    engine.native_pages.read[pc >> 12, digest] = RecordedPage.of((placed,))
    monkeypatch.setattr(engine.jit.backend, "placed_functions",
                        lambda bundle, section, names, offsets, sizes: [0x7000 + o for o in offsets])
    engine._lookup(pc)
    assert engine.entered[pc].native.name == "jit_placed"
    engine.record_native_pages()
    assert engine.native_pages.find(pc >> 12, digest)[0].place == placed.place

def test_a_prefilled_function_whose_slot_another_took_is_entered_again_without_a_translation(
        tmp_path, monkeypatch):
    monkeypatch.setenv("POLYVM_CACHE", str(tmp_path))
    elf = build_baremetal(BENCH / "cpu_mix.c", {"ITERATIONS": 1}, paging="bare", isa="rv64imac")
    engine = SpikeBoard(VmConfig().with_exec_mode(ExecMode.HYBRID).with_memory_size(64 << 20), elf).engines[0]
    ram = engine.mmu.ram
    first = ram.base + (5 << 12) + 0x10
    second = first + 2 * JUMP_ENTRIES  # the same slot of a regime's own table
    addresses = {first: 0x7000, second: 0x9000}
    for pc, name in ((first, "jit_first"), (second, "jit_second")):
        page = pc >> 12
        digest = page_digest(bytes(ram.u8[(page << 12) - ram.base:][:4096]))
        engine._found[name] = (addresses[pc], 0)
        engine.native_pages.read[page, digest] = RecordedPage.of((NativeEntry(pc, name, False, 4, ()),))
        engine._prefill(pc, page, False)
    state = engine.jit.state
    assert state.has_jump(second, addresses[second]) and not state.has_jump(first, addresses[first])
    translated = engine.blocks_translated
    assert engine._enterable(first)
    assert state.has_jump(first, addresses[first]) and engine.blocks_translated == translated


def test_a_regime_whose_jump_table_was_dropped_starts_afresh(tmp_path, monkeypatch):
    """Its entered list and prefilled pages go with the table (context.py JUMP_TABLES_KEPT), so its
    pages are prefilled again when it comes back."""
    monkeypatch.setenv("POLYVM_CACHE", str(tmp_path))
    elf = build_baremetal(BENCH / "cpu_mix.c", {"ITERATIONS": 1}, paging="bare", isa="rv64imac")
    engine = SpikeBoard(VmConfig().with_exec_mode(ExecMode.HYBRID).with_memory_size(64 << 20), elf).engines[0]
    engine.entered[0x8000_0010] = None
    engine.prefilled.add(0x80000)
    del engine.jit.state.jump_tables[engine.regime_keys[0]]
    engine._regime_changed()
    assert not engine.entered and not engine.prefilled


def run(elf: Path, mode: str, cache: Path, monkeypatch: pytest.MonkeyPatch, breakpoint_at: int | None = None):
    """Run ``elf`` on the spike board with the disk caches in ``cache`` (stopping at a debugger
    breakpoint at ``breakpoint_at`` if given); the board, its engine and the run's result."""
    monkeypatch.setenv("POLYVM_CACHE", str(cache))
    board = SpikeBoard(VmConfig().with_exec_mode(ExecMode[mode]).with_memory_size(64 << 20), elf)
    engine = board.engines[0]
    if breakpoint_at is not None:
        engine.insert_breakpoint(breakpoint_at)
        engine.on_debug_stop = lambda _engine, _stop: board.stop()
    result = board.run(timeout=120)
    return board, engine, result


def test_a_second_run_enters_the_recorded_functions_of_its_pages(tmp_path, monkeypatch):
    elf = build_baremetal(BENCH / "cpu_mix.c", {"ITERATIONS": 12}, paging="bare", isa="rv64imac")
    first_board, first, _ = run(elf, "HYBRID", tmp_path, monkeypatch)
    second_board, second, result = run(elf, "HYBRID", tmp_path, monkeypatch)
    assert result.exit_code == 0
    assert bytes(second_board.console_output) == bytes(first_board.console_output)
    assert first.prefilled_blocks == 0 and second.prefilled_blocks > 0
    assert second.blocks_translated < first.blocks_translated
    assert second.python_blocks < first.python_blocks


RUN = """
import sys
from polyvm import ExecMode, VmConfig
from polyvm.machine.spike import SpikeBoard
config = VmConfig().with_exec_mode(ExecMode[sys.argv[2]]).with_memory_size(64 << 20)
assert SpikeBoard(config, sys.argv[1]).run(timeout=120).exit_code == 0
"""


def test_records_learn_where_bundles_hold_their_functions(tmp_path, monkeypatch):
    """A run that finds recorded functions in a bundle writes their placements into the records,
    so that later runs need not ask the bundle index for each. (Runs in processes of their own:
    this one has linked the same functions already. The first is in JIT mode, which compiles every
    block before it runs: a short HYBRID run on a busy host may end before any background compile
    is done, and record nothing.)"""
    elf = build_baremetal(BENCH / "cpu_mix.c", {"ITERATIONS": 2}, paging="bare", isa="rv64imac")
    monkeypatch.setenv("POLYVM_CACHE", str(tmp_path))
    subprocess.run([sys.executable, "-c", RUN, str(elf), "JIT"], check=True, timeout=120)
    index = next((tmp_path / "jit" / "index").glob("names-*.sqlite3"))
    records = NativePages(index).table.query("SELECT page, digest FROM native_pages")
    entries = [entry for page, digest in records for entry in NativePages(index).find(page, digest)]
    assert entries and all(entry.place is None for entry in entries), "loose objects: no placements"
    (bundle,) = make_bundles(tmp_path / "jit", index, [entry.name for entry in entries])
    subprocess.run([sys.executable, "-c", RUN, str(elf), "HYBRID"], check=True, timeout=120)
    bundled = {entry.name for entry in entries}
    placed = [entry for page, digest in records for entry in NativePages(index).find(page, digest)
              if entry.name in bundled]
    assert len(placed) * 2 > len(entries), "most stay recorded (regions compiled later replace some)"
    assert all(entry.place[0] == bundle and entry.place[3] is not None for entry in placed)


def test_blocks_a_run_ran_in_python_are_native_in_the_next_after_precompiling(tmp_path, monkeypatch):
    """... and the blocks it ran as quick (unoptimised) code are optimised code in the next (those it
    ran in Python are not optimised)."""
    elf = build_baremetal(BENCH / "cpu_mix.c", {"ITERATIONS": 2}, paging="bare", isa="rv64imac")
    first_board, first, _ = run(elf, "HYBRID", tmp_path, monkeypatch)
    recorded = [record.entries for record in first.native_pages.read.values() if record is not None]
    quick = {entry.pc for entries in recorded for entry in entries if not entry.optimised}
    optimised = {entry.pc for entries in recorded for entry in entries if entry.optimised}
    cold = take_noted(str(tmp_path / "jit"))
    noted = {pc for _, _, blocks in cold for pc, _, _ in blocks}
    to_optimise = {pc for _, _, blocks in cold for pc, _, optimise in blocks if optimise}
    assert quick <= to_optimise and to_optimise <= quick | optimised, (
        "only what the run compiled quickly is to be optimised (its record may hold the optimised"
        " region the run compiled later)")
    assert len(noted - to_optimise) > 20, "the run noted its Python-tier blocks"
    assert quick and quick <= noted, "and its quick ones"
    assert precompile(tmp_path / "jit", cold) > 20
    second_board, second, result = run(elf, "HYBRID", tmp_path, monkeypatch)
    assert result.exit_code == 0
    assert bytes(second_board.console_output) == bytes(first_board.console_output)
    print(f"\nPython-tier blocks: {first.python_blocks} -> {second.python_blocks}")
    assert second.python_blocks * 4 < first.python_blocks
    records = second.native_pages.read.values()
    entries = {entry.pc: entry for record in records if record is not None for entry in record.entries}
    assert quick <= entries.keys() and all(entries[pc].optimised for pc in quick)
    assert not any(entries[pc].optimised for pc in noted - to_optimise if pc in entries)


def test_the_precompiler_compiles_each_chunk_of_its_listing_in_a_fresh_process(tmp_path, monkeypatch):
    """A listing is cut into chunks of whole pages (precompile.chunks); the precompiler compiles
    each listing given in turn (running itself again between them), deletes it once read, and
    what the listings record for the same page adds up."""
    pages = [(page, b"digest", [(page << 12 | 4 * i, b"", False) for i in range(count)])
             for page, count in ((1, 3), (2, 2), (3, 4), (4, 1))]
    assert [[page for page, _, _ in chunk] for chunk in chunks(pages, 4)] == [[1, 2], [3], [4]]
    elf = build_baremetal(BENCH / "cpu_mix.c", {"ITERATIONS": 2}, paging="bare", isa="rv64imac")
    _, first, _ = run(elf, "HYBRID", tmp_path, monkeypatch)
    first.jit.backend.names.flush()
    _name_index.cache_clear()  # the second run reads what the precompiler wrote, not this one's
    noted = take_noted(str(tmp_path / "jit"))
    (page, digest, blocks), = noted  # one page: its blocks are split between two listings
    listings = [tmp_path / "0.list", tmp_path / "1.list"]
    half = len(blocks) // 2
    for listing, part in zip(listings, (blocks[:half], blocks[half:]), strict=True):
        listing.write_bytes(marshal.dumps([(page, digest, part)]))
    subprocess.run([sys.executable, "-m", "polyvm.engine.jit.precompile", str(tmp_path / "jit"),
                    *map(str, listings)], check=True, timeout=300)
    assert not any(listing.exists() for listing in listings)
    second_board, second, result = run(elf, "HYBRID", tmp_path, monkeypatch)
    assert result.exit_code == 0
    recorded = {entry.pc for record in second.native_pages.read.values() if record is not None
                for entry in record.entries}
    assert {pc for _, _, blocks in noted for pc, _, _ in blocks} <= recorded


@pytest.mark.parametrize("mode", ["HYBRID", "JIT"])
def test_a_store_into_a_prefilled_page_drops_its_functions(tmp_path, monkeypatch, mode):
    """zifencei overwrites a routine next to the code that calls it: the first run stops inside
    the routine's first call, before the stores (so the records hold the page's original bytes and
    the routine's first instruction), the second enters those functions, then must run the
    rewritten routine."""
    elf = build_riscv_guest(RISCV64_DIR / "isa" / "zifencei.S")
    with open(elf, "rb") as stream:
        (symbol,) = ELFFile(stream).get_section_by_name(".symtab").get_symbol_by_name("patched32")
    patched = symbol["st_value"]
    run(elf, "JIT", tmp_path, monkeypatch, breakpoint_at=patched + 4)
    _, engine, result = run(elf, mode, tmp_path, monkeypatch)
    assert result.exit_code == 0, "every rewritten routine returned its new value"
    assert engine.prefilled_blocks > 0 and engine.prefills_dropped > 0


def test_hot_prefilled_quick_code_is_promoted_to_optimised_regions(tmp_path, monkeypatch):
    """A run whose page records hold only quick (unoptimised) code for a guest's loops enters that
    code without looking its blocks up in Python; where its native slices keep stopping is still
    sampled, and those blocks become optimised regions (hybrid.py ``_sample_prefilled``). Before,
    such a run kept the quick code for good: cpu_mix ran at ~700 MIPS instead of ~1,950."""
    elf = build_baremetal(BENCH / "cpu_mix.c", {"ITERATIONS": 60}, paging="bare", isa="rv64imac")
    monkeypatch.setattr(hybrid, "PROMOTE_SAMPLES", 1 << 30)
    _, first, _ = run(elf, "JIT", tmp_path, monkeypatch)
    assert True not in first.compilers, "no region: the records hold quick code only"
    first.run_ended()
    monkeypatch.setattr(hybrid, "PROMOTE_SAMPLES", 4)
    _, second, result = run(elf, "JIT", tmp_path, monkeypatch)
    assert result.exit_code == 0 and second.prefilled_blocks > 0
    regions = second.compilers.get(True)
    assert regions is not None, "hot prefilled blocks were handed to the optimising compiler"
    requested = [(cached, members) for (_, optimised), (cached, members) in second.waiting.items()
                 if optimised]
    installed = [compiled for entered in second._entered_by_regime.values() for compiled in entered.values()
                 if type(compiled) is CompiledBlock and compiled.optimised]
    assert requested or installed
