"""The persistent code cache: a second process loads object code instead of compiling it, from
the objects' own files or from a bundle of them (object_bundles.py)."""

from __future__ import annotations

import ctypes
import json
import subprocess
import sys
import textwrap
import time
from array import array
from pathlib import Path

import pytest
from guest_code import tools_available

from polyvm.engine.jit.llvm_backend import _Engine
from polyvm.engine.jit.object_bundles import (
    BundleIndex,
    _taken,
    anchor_name,
    make_bundle,
    make_bundles,
    strays,
)

HELPERS = 3
"""Functions every JIT compiles besides blocks: the dispatch loop, the jump filler and the memory
front (codegen.py)."""
ENGINES: list[_Engine] = []
"""Engines the tests made, kept alive with the process (llvm_backend._Engine)."""

CHILD = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, sys.argv[2])
    from guest_code import build, parcels
    from polyvm import VmConfig
    from polyvm.arch.riscv64.translate import RiscvTranslator
    from polyvm.engine.jit import llvm_backend, object_bundles
    from polyvm.engine.jit.jit import Jit

    object_bundles.BUNDLE_MIN = object_bundles.REGROUP_MIN_WASTE = int(sys.argv[3])
    llvm_backend.LOOSE_MAPPED_MAX = int(sys.argv[5])
    code = build(list(range(int(sys.argv[4]), int(sys.argv[4]) + 40, 2)))
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
                      "avg_ms": stats.avg_compile_time_ms, "llvm": "llvmlite.binding" in sys.modules,
                      "mapped": jit.backend.engine.loose_mapped}))
""")


def run_child(cache: Path, bundle_min: int = 1_000_000, seed: int = 9101, mapped_max: int = 1024) -> dict:
    """Compile (or load) the test blocks (20 sequences from ``seed`` on) in a new process; it
    bundles the objects it linked loose at exit if there were ``bundle_min``, and regroups the
    functions it took from bundles it hardly used if those wasted ``bundle_min`` bytes; it maps at
    most ``mapped_max`` loose objects (llvm_backend.LOOSE_MAPPED_MAX)."""
    here = str(Path(__file__).resolve().parent)
    out = subprocess.run([sys.executable, "-c", CHILD, str(cache), here, str(bundle_min), str(seed),
                          str(mapped_max)], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout)


def test_second_process_loads_cached_objects(tmp_path):
    if not tools_available():
        pytest.skip("riscv64-unknown-elf binutils not installed")
    first = run_child(tmp_path)
    second = run_child(tmp_path)
    assert first["hits"] == 0
    assert second["hits"] == first["blocks"] + HELPERS, "every block and HELPERS"
    assert len(list(tmp_path.glob("*.o"))) == first["blocks"] + HELPERS
    assert second["results"] == first["results"], "cached code behaves exactly like fresh code"
    assert (first["llvm"], second["llvm"]) == (True, False), "LLVM is loaded only to compile"
    assert second["mapped"] == first["blocks"] + HELPERS, "every loose object mapped"
    print(f"\nopt level 2: {first['avg_ms']:.2f} ms per block compiled,"
          f" {second['avg_ms']:.2f} ms per block loaded from the disk cache")


def wait_for_bundle(cache: Path, timeout: float = 60) -> list[Path]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        bundles = list((cache / "bundles").glob("*.o"))
        if bundles:
            return bundles
        time.sleep(0.1)
    raise AssertionError("the detached bundler wrote no bundle")


def test_a_bundle_made_at_exit_replaces_the_object_files(tmp_path):
    if not tools_available():
        pytest.skip("riscv64-unknown-elf binutils not installed")
    first = run_child(tmp_path, bundle_min=1)
    (bundle,) = wait_for_bundle(tmp_path)
    index = next((tmp_path / "index").glob("names-*.sqlite3"))
    deadline = time.monotonic() + 60
    while len(BundleIndex(index).bundles) < first["blocks"] + HELPERS:
        assert time.monotonic() < deadline, "the bundler recorded no names"
        time.sleep(0.1)
    assert {place.bundle for place in BundleIndex(index).bundles.values()} == {bundle.name}
    assert not list((tmp_path / "bundles").glob("*.names")), "the bundler took its list"
    for loose in tmp_path.glob("*.o"):
        loose.unlink()
    second = run_child(tmp_path)
    assert second["hits"] == first["blocks"] + HELPERS, "every function came from the bundle"
    assert second["results"] == first["results"], "bundled code behaves exactly like fresh code"
    assert not list(tmp_path.glob("*.o")), "nothing was compiled again"


def compiled(cache: Path) -> tuple[dict, Path, list[str]]:
    """A first child run in ``cache`` (skipped without the cross binutils): its result, the name
    index and the names of the object files it stored, in the order they were written."""
    if not tools_available():
        pytest.skip("riscv64-unknown-elf binutils not installed")
    first = run_child(cache)
    index = next((cache / "index").glob("names-*.sqlite3"))
    names = [path.stem for path in sorted(cache.glob("*.o"), key=lambda path: path.stat().st_mtime_ns)]
    return first, index, names


def bundle_instead_of_files(cache: Path, index: Path, names: list[str]) -> str:
    """Bundle the objects of ``names`` (one bundle) and delete their own files; the bundle."""
    (bundle,) = make_bundles(cache, index, names)
    for name in names:
        (cache / f"{name}.o").unlink()
    return bundle


def test_functions_a_bundle_lacks_come_from_their_own_files(tmp_path):
    first, index, names = compiled(tmp_path)
    bundle_instead_of_files(tmp_path, index, names[:5])
    BundleIndex(index).add([(name, 1, None) for name in names[5:8]], "missing.o")
    second = run_child(tmp_path)
    assert second["hits"] == first["blocks"] + HELPERS, "five from the bundle, the rest from their files"
    assert second["results"] == first["results"]
    assert len(list(tmp_path.glob("*.o"))) == len(names) - 5, "nothing was compiled again"


def test_addresses_from_bundle_offsets_are_those_mcjit_gives(tmp_path, monkeypatch):
    """In a bundle MCJIT links (one that cannot be mapped, mapped_code.py), a function's address
    comes from its offset and the bundle's anchor: it must be the address the linker itself
    resolves for every function of the bundle, even when a bundle linked before defines the same
    functions (MCJIT may answer a name with either copy)."""
    monkeypatch.setattr("polyvm.engine.jit.llvm_backend.map_code", lambda path: None)
    _, index, names = compiled(tmp_path)
    earlier = tmp_path / "bundles" / make_bundle(tmp_path, index, names[::-1])
    bundle = tmp_path / "bundles" / make_bundle(tmp_path, index, names, take_over=True)
    places = BundleIndex(index).bundles
    assert all(places[name].offset is not None and places[name].bundle == bundle.name for name in names)
    anchor = anchor_name(bundle.stem)
    engine = _Engine(0)
    ENGINES.append(engine)  # never freed: freeing an MCJIT engine frees the target machine it shares
    held = [(name, places[name]) for name in names]
    engine.from_bundle_many(str(earlier), held, (anchor_name(earlier.stem), None))
    first = {name: engine.functions.pop(name) for name in names}
    derived = engine.from_bundle_many(str(bundle), held, (anchor, places[anchor]))
    assert len(engine.anchors) == 1
    assert set(derived.values()).isdisjoint(first.values()), "the second bundle's own copies"
    start = engine.engine.get_function_address(anchor)
    assert all(derived[name][0] == start - places[anchor].offset + places[name].offset for name in names)
    assert len({address for address, _ in derived.values()}) == len(names)


def test_placements_are_asked_for_one_by_one_then_read_whole(tmp_path, monkeypatch):
    index = tmp_path / "names.sqlite3"
    BundleIndex(index).add([(f"f{n}", n, (2, 16 * n)) for n in range(5)] + [("loose", 9, None)], "b.o")
    monkeypatch.setattr(BundleIndex, "QUERIES_BEFORE_ALL", 4)
    reader = BundleIndex(index)
    assert reader.place("f1") == ("b.o", 1, 2, 16)
    assert reader.place("nowhere") is None
    assert reader.place("loose") == ("b.o", 9, None, None)
    assert not reader.complete and set(reader.known) == {"f1", "nowhere", "loose"}
    assert reader.place("f4") == ("b.o", 4, 2, 64)
    assert reader.complete and len(reader.known) == 7, "the fourth query read the table"
    assert reader.place("f0") == ("b.o", 0, 2, 0) and reader.place("other") is None


def test_bundles_are_split_and_a_name_stays_with_the_first_bundle_on_disk(tmp_path, monkeypatch):
    _, index, names = compiled(tmp_path)
    monkeypatch.setattr("polyvm.engine.jit.object_bundles.BUNDLE_MAX", 4)
    made = make_bundles(tmp_path, index, names[:10])
    first_ten = [made[0]] * 4 + [made[1]] * 4 + [made[2]] * 2
    assert holders(index, names[:10]) == first_ten
    later = make_bundle(tmp_path, index, names[2:12])
    assert holders(index, names[:12]) == [*first_ten, later, later], "earlier bundles keep theirs"
    (tmp_path / "bundles" / made[0]).unlink()
    latest = make_bundle(tmp_path, index, names[:4])
    assert holders(index, names[:4]) == [latest] * 4, "a deleted bundle's names move on"


def test_a_run_that_linked_mostly_other_functions_regroups_its_own(tmp_path):
    """A run whose functions were spread over bundles mostly made of other runs' functions makes
    bundles of the ones it used at exit, and they take those names over."""
    first, index, names = compiled(tmp_path)
    for seed in (7001, 7101, 7201):
        run_child(tmp_path, seed=seed)
    others = [path.stem for path in tmp_path.glob("*.o") if path.stem not in names]
    half = len(others) // 2
    (shared,) = make_bundles(tmp_path, index, [*others[:half], *names, *others[half:]])
    assert set(holders(index, names)) == {shared}
    again = run_child(tmp_path, bundle_min=1)
    assert again["results"] == first["results"] and again["hits"] == first["blocks"] + HELPERS
    deadline = time.monotonic() + 60
    while set(holders(index, names)) == {shared}:
        assert time.monotonic() < deadline, "the run did not regroup its functions"
        time.sleep(0.1)
    (own,) = set(holders(index, names))
    assert own != shared and set(holders(index, others)) == {shared}
    assert run_child(tmp_path)["results"] == first["results"]


def holders(index: Path, names: list[str]) -> list[str]:
    """The bundle the name index gives for each of ``names``."""
    bundles = BundleIndex(index).bundles
    return [bundles[name][0] for name in names]


def test_cut_objects_and_bundles_are_compiled_again_not_linked(tmp_path):
    """MCJIT crashes the process on a truncated object (a power loss can leave one in the cache)."""
    first, index, names = compiled(tmp_path)
    bundle = bundle_instead_of_files(tmp_path, index, names[:5])
    cut = tmp_path / "bundles" / bundle
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    loose = tmp_path / f"{names[5]}.o"
    loose.write_bytes(loose.read_bytes()[:100])
    second = run_child(tmp_path)
    assert second["hits"] == first["blocks"] + HELPERS - 6, "six functions compiled again"
    assert second["results"] == first["results"]


def test_strays_are_the_functions_of_bundles_a_run_hardly_used(tmp_path):
    full, sparse = tmp_path / "full.o", tmp_path / "sparse.o"
    full.write_bytes(b"\0" * 1000)
    sparse.write_bytes(b"\0" * 1000)
    used = {"a": (600, str(full)), "b": (60, str(sparse)), "c": (300, str(full)), "d": (40, str(sparse))}
    assert strays(used) == (["b", "d"], 900)
    batches = [(("a", "b"), array("Q", [600, 60]), str(full)), (("c", "a"), [300, 600], str(full)),
               (("d",), [40], str(sparse))]
    assert list(_taken(batches).items()) == [("a", (600, str(full))), ("b", (60, str(full))),
                                             ("c", (300, str(full))), ("d", (40, str(sparse)))], \
        "the functions of the batches in the order first taken"


def test_a_mapped_bundle_runs_the_code_mcjit_would_link(tmp_path, monkeypatch):
    """A bundle of block functions is mapped as it is (mapped_code.py): each function's bytes
    there are those of the copy MCJIT links from the same bundle."""
    _, index, names = compiled(tmp_path)
    bundle = tmp_path / "bundles" / make_bundle(tmp_path, index, names)
    places = BundleIndex(index).bundles
    held = [(name, places[name]) for name in names]
    anchor = anchor_name(bundle.stem)
    mapped = _Engine(0)
    ENGINES.append(mapped)
    from_map = mapped.from_bundle_many(str(bundle), held, (anchor, places[anchor]))
    assert str(bundle) in mapped.mapped and not mapped.bundles, "mapped, not linked"
    monkeypatch.setattr("polyvm.engine.jit.llvm_backend.map_code", lambda path: None)
    linked = _Engine(0)
    ENGINES.append(linked)
    from_link = linked.from_bundle_many(str(bundle), held, (anchor, places[anchor]))
    assert set(from_map) == set(from_link) == set(names)
    offsets = sorted(places[name].offset for name in names)
    for name in names:
        offset = places[name].offset
        length = next((later - offset for later in offsets if later > offset), 16)
        assert ctypes.string_at(from_map[name][0], length) == ctypes.string_at(from_link[name][0], length)


def test_past_the_mapping_limit_loose_objects_are_linked(tmp_path):
    if not tools_available():
        pytest.skip("riscv64-unknown-elf binutils not installed")
    first = run_child(tmp_path)
    second = run_child(tmp_path, mapped_max=5)
    assert second["results"] == first["results"]
    assert (second["mapped"], second["llvm"]) == (5, True)


def test_the_host_description_is_read_back_without_llvm(tmp_path):
    """The header and host a process got from LLVM are kept in the cache folder; a later process
    reads them there without loading LLVM."""
    script = textwrap.dedent("""
        import json, sys
        from pathlib import Path
        from polyvm.engine.jit.llvm_objects import host_description
        described = host_description(int(sys.argv[2]), Path(sys.argv[1]))
        print(json.dumps([list(described), "llvmlite.binding" in sys.modules]))
    """)

    def child(level: int) -> list:
        out = subprocess.run([sys.executable, "-c", script, str(tmp_path), str(level)], capture_output=True,
                             text=True, check=True, timeout=60)
        return json.loads(out.stdout)

    first, second = child(0), child(0)
    assert first[1] and not second[1]
    assert first[0] == second[0]
    assert len(list(tmp_path.glob("host-*.txt"))) == 1
    optimised = child(2)
    assert optimised[1] and optimised[0] != first[0], "each code generator level has its own"
    from polyvm.engine.jit.llvm_objects import host_target
    assert first[0] == [host_target(0).header, host_target(0).host]
    written = next(path for path in tmp_path.glob("host-*.txt") if path.read_text() == "\0".join(first[0]))
    written.write_text("garbage\0" + first[0][1])
    repaired = child(0)
    assert repaired == [first[0], True], "a file this code did not write is made again"
    assert written.read_text() == "\0".join(first[0])
