"""Finishing a block in Python after a native side exit (see llvm_backend: the exit protocol).

A side exit leaves the slots as they were at the start of instruction INDEX. The rest of the block,
from that instruction's first INSN marker to the terminator, is itself a valid IR block (the RISC-V
translator never carries a temp across an instruction boundary; ``tail_block`` checks it), so the
interpreter tier's code generator compiles it and the run loop calls it like any other block.
``check_compilable`` verifies that property for a whole block before it is compiled natively.
"""

from __future__ import annotations

from polyvm.engine.interpreter.pycodegen import block_code, python_function
from polyvm.engine.interpreter.translation_store import TranslationStore
from polyvm.ir.block import UNFETCHABLE, IRBlock, Op, Temp


def check_compilable(block: IRBlock) -> None:
    """Raise ValueError if ``block`` may not get native code: a temp defined before an instruction
    boundary is used after it (``block.resumable``; worked out here, once, for blocks whose builder
    did not say), or its last instruction's end could not be fetched from the next page (such a
    block is looked up at each run, as its fault may get that page mapped, fenced or not)."""
    if block.resumable is None:
        block.resumable = _resumable(block)
    if not block.resumable:
        raise ValueError(f"block 0x{block.start_pc:x}: a temp crosses an instruction boundary")
    if block.next_page == UNFETCHABLE:
        raise ValueError(f"block 0x{block.start_pc:x}: its last instruction's end could not be fetched")


def _resumable(block: IRBlock) -> bool:
    boundary = 0
    defined_at: dict[Temp, int] = {}
    previous = None
    for stmt in block.stmts:
        if stmt.op is Op.INSN and previous is not Op.INSN:
            boundary += 1
        for arg in stmt.args:
            if isinstance(arg, Temp) and defined_at.get(arg, boundary) != boundary:
                return False
        if stmt.dst is not None:
            defined_at[stmt.dst] = boundary
        previous = stmt.op
    return True


def tail_block(block: IRBlock, index: int) -> IRBlock:
    """The part of ``block`` that starts at instruction ``index`` (its first INSN marker)."""
    start = next(
        (pos for pos, stmt in enumerate(block.stmts) if stmt.op is Op.INSN and stmt.aux[1] == index),
        None,
    )
    if start is None:
        raise ValueError(f"block 0x{block.start_pc:x} has no instruction {index}")
    pc = block.stmts[start].aux[0]
    return IRBlock(pc, block.stmts[start:], block.insn_count - index,
                   (block.start_pc + block.byte_size - pc) & ((1 << 64) - 1),
                   block.phys_page, block.phys_start, next_page=block.next_page)


class Tails:
    """Python functions finishing one block from each instruction native code exited at; their
    code is kept in ``store`` when given.

    A tail runs its block once, even one that branches to its own start: the loop goes on in
    native code. (A looping tail ran the rest of the loop in Python: Linux's memset loop, whose
    first store misses the TLB at each new page, spent ~0.1 s of a warm boot in its tail;
    benchmarks/boot.py.)"""

    def __init__(self, block: IRBlock, namespace: dict, store: TranslationStore | None = None) -> None:
        self.block = block
        self.namespace = namespace
        self.store = store if block.code is not None else None
        self.functions: dict[int, object] = {}

    def function(self, index: int) -> object:
        function = self.functions.get(index)
        if function is None:
            block, store = self.block, self.store
            python = store.find_tail(block.start_pc, block.code, index) if store is not None else None
            if python is None:
                python = block_code(tail_block(block, index), loops=False)
                if store is not None:
                    store.add_tail(block.start_pc, block.code, index, python)
            function = self.functions[index] = python_function(python, self.namespace)
        return function
