"""Which objects run unlinked (mapped_code.py): block functions' code, nothing that needs a linker."""

from __future__ import annotations

import ctypes

from polyvm.engine.jit.llvm_objects import anchor_object, compile_object, host_target
from polyvm.engine.jit.mapped_code import code_sections, map_code

ADD_ONE = "define i64 @f(i64 %x) {\n  %y = add i64 %x, 1\n  ret i64 %y\n}\n"


def object_file(tmp_path, text: str, name: str = "o.o"):
    host = host_target(0)
    path = tmp_path / name
    path.write_bytes(compile_object(host.header + text, 0, host.target))
    return path


def sections(path) -> dict[int, tuple[int, int]] | None:
    with open(path, "rb") as file:
        return code_sections(file)


def test_position_independent_code_is_mapped_and_runs(tmp_path):
    path = object_file(tmp_path, ADD_ONE)
    (section, start), = map_code(str(path)).items()
    assert section in sections(path)
    add_one = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_uint64)(start)
    assert add_one(41) == 42


def test_the_bundlers_anchor_is_mappable(tmp_path):
    path = tmp_path / "anchor.o"
    path.write_bytes(anchor_object("polyvm_anchor_test"))
    assert sections(path)


def test_objects_that_need_a_linker_are_not_mapped(tmp_path):
    data = object_file(tmp_path, "@g = global i64 5\ndefine i64 @f() {\n  %v = load i64, ptr @g\n"
                                 "  ret i64 %v\n}\n", "data.o")
    call = object_file(tmp_path, "declare i64 @elsewhere(i64)\ndefine i64 @f(i64 %x) {\n"
                                 "  %v = call i64 @elsewhere(i64 %x)\n  ret i64 %v\n}\n", "call.o")
    assert sections(data) is None, "a data section"
    assert sections(call) is None, "a relocation into the code"
    assert map_code(str(call)) is None


def test_broken_files_are_not_mapped(tmp_path):
    whole = object_file(tmp_path, ADD_ONE).read_bytes()
    cut = tmp_path / "cut.o"
    cut.write_bytes(whole[: len(whole) // 2])
    assert sections(cut) is None
    assert map_code(str(tmp_path / "missing.o")) is None
    (tmp_path / "text.o").write_bytes(b"not an object at all")
    assert sections(tmp_path / "text.o") is None
