"""Native blocks against the interpreter tier's generated Python, bit for bit.

Each side gets its own hart, MMU and RAM with identical contents. Every block of random RISC-V
sequences (rvgen) runs once through pycodegen and once natively (side exits finished in Python),
and all 64 slots, the data page, the next pc and any guest trap (each sequence ends in ebreak) must
agree. Sequences alternate between all forms and forms without helper calls; between a native TLB
flushed before every block (all memory goes through MEMORY_CALL, TLB_CALL or side exits) and one
holding the data page from the start (inline fast path; Python's own fast maps start empty, so its
slow path runs meanwhile).
A second test drives every pure op with edge values directly.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
from guest_code import RAM, build, machine, parcels, tools_available

from polyvm import RiscvHart, VmConfig
from polyvm.arch.riscv64.translate import RiscvTranslator
from polyvm.arch.riscv64.traps import GuestTrap
from polyvm.devtools.rvgen import BUF_SIZE, EDGE64, S0_OFFSET, GenSequence, random_value
from polyvm.engine.interpreter.pycodegen import arithmetic_helpers, compile_block
from polyvm.engine.jit.context import Exit
from polyvm.engine.jit.jit import Jit
from polyvm.ir.block import BINARY_OPS, COMPARE_OPS, IRBlock, IRBuilder, Op

DATA = RAM + 0x10_0000
SEQUENCES = 200
MAX_BLOCKS = 40


def outcome(run) -> tuple:
    try:
        return ("pc", run())
    except GuestTrap as trap:
        return ("trap", trap.cause, trap.tval, trap.pc, trap.index)


def data_page(hart: RiscvHart) -> bytes:
    return hart.mmu.ram.read(DATA, 4096)


@pytest.fixture(scope="module")
def code():
    if not tools_available():
        pytest.skip("riscv64-unknown-elf binutils not installed")
    return build(list(range(9000, 9000 + SEQUENCES)))


def prepare(code, seq: GenSequence, jit: Jit) -> tuple[RiscvHart, dict, RiscvHart]:
    """A reference hart and a native-side hart in the same starting state; ``jit`` bound to the
    latter with an empty TLB."""
    ref, ref_ns = machine()
    nat, nat_ns = machine()
    jit.bind(nat_ns, nat.mmu.ram.host_address)
    jit.state.flush_tlb()
    regs = list(seq.init_regs) + [0] * 32
    regs[2], regs[8] = DATA, DATA + S0_OFFSET
    for hart in (ref, nat):
        hart.mmu.ram.write(RAM, code.text)
        hart.mmu.ram.write(DATA, seq.buffer + bytes(4096 - BUF_SIZE))
    ref.x[:] = regs
    jit.state.regs[:] = regs
    return ref, ref_ns, nat


def test_random_blocks_match_python_codegen(code):
    stats: Counter[str] = Counter()
    jit = Jit(VmConfig())
    fetch16 = parcels(code.text)
    for number, (start, end, seq) in enumerate(zip(code.starts, code.ends, code.sequences, strict=True)):
        ref, ref_ns, nat = prepare(code, seq, jit)
        cold = number % 4 < 2
        if not cold:
            for write in (False, True):
                jit.state.fill(DATA >> 12, -RAM, write)
        pc = start
        for _ in range(MAX_BLOCKS):
            if pc == end:
                break
            block = RiscvTranslator().translate(pc, fetch16)
            expected = outcome(compile_block(block, ref_ns))
            compiled = jit.compile(block)
            if cold:
                jit.state.flush_tlb()
            before = Counter(jit.exits)
            got = outcome(lambda compiled=compiled: jit.execute(compiled))
            where = f"sequence {seq.seed} block 0x{block.start_pc:x}\n{block}"
            assert got == expected, where
            assert list(jit.state.regs) == ref.x, where
            assert data_page(nat) == data_page(ref), where
            memory = any(s.op in (Op.LOAD, Op.STORE) for s in block.stmts)
            stats["blocks"] += 1
            stats["native-memory" if memory and jit.exits == before else "other"] += 1
            if expected[0] == "trap":
                stats["traps"] += 1
                break
            pc = expected[1]
    stats.update({f"exit-{reason.name}": n for reason, n in jit.exits.items()})
    stats["tlb-calls"] = jit.tlb_calls
    print(dict(stats))
    assert stats["blocks"] > 500
    assert stats["native-memory"] > 60
    assert stats["exit-MEMORY"] + stats["tlb-calls"] > 50
    assert stats["exit-HELPER"] > 20


def test_whole_sequences_in_the_dispatch_loop(code):
    """Each sequence compiled block by block, then run from its start by ``Jit.run`` (chaining,
    side exits and tails inside the loop) to its final ebreak: same trap, slots and memory."""
    jit = Jit(VmConfig(), opt_level=0)
    fetch16 = parcels(code.text)
    finished = 0
    for start, end, seq in list(zip(code.starts, code.ends, code.sequences, strict=True))[:60]:
        ref, ref_ns, nat = prepare(code, seq, jit)
        jit.flush_code_cache()
        pc, expected = start, None
        for _ in range(MAX_BLOCKS):
            block = RiscvTranslator().translate(pc, fetch16)
            jit.compile(block)
            expected = outcome(compile_block(block, ref_ns))
            if expected[0] == "trap":
                break
            pc = expected[1]
        if expected[0] != "trap" or expected[3] != end:
            continue
        got = outcome(lambda start=start: jit.run(start, 10**6))
        assert got == expected, f"sequence {seq.seed}"
        assert list(jit.state.regs) == ref.x, f"sequence {seq.seed}"
        assert data_page(nat) == data_page(ref), f"sequence {seq.seed}"
        finished += 1
    assert finished > 40


PURE_OPS = sorted(BINARY_OPS | COMPARE_OPS, key=lambda op: op.value)


def random_pure_block(rng: random.Random, pc: int) -> IRBlock:
    """Ten instructions of random pure ops (edge-value operands, shift amounts up to 70)."""
    b = IRBuilder()
    for index in range(10):
        b.insn(pc + 4 * index, index)
        a = b.get(rng.randrange(1, 8))
        c = rng.choice([b.get(rng.randrange(1, 8)), rng.choice(EDGE64)])
        op = rng.choice(PURE_OPS + [Op.SEXT, Op.ZEXT, Op.EXTRACT, Op.DEPOSIT, Op.SELECT])
        if op in (Op.SHL, Op.SHR, Op.SAR):
            value = b.op(op, a, rng.choice([rng.randrange(71), b.op(Op.AND, c, rng.choice([63, 127]))]))
        elif op in (Op.SEXT, Op.ZEXT):
            value = b.op(op, a, aux=rng.choice([1, 8, 16, 31, 32, 63, 64]))
        elif op in (Op.EXTRACT, Op.DEPOSIT):
            lsb = rng.randrange(64)
            value = b.op(op, a, c, aux=(lsb, rng.randrange(1, 65 - lsb)))
            if op is Op.EXTRACT:
                value = b.op(op, a, aux=(lsb, rng.randrange(1, 65 - lsb)))
        elif op is Op.SELECT:
            value = b.op(op, b.op(Op.AND, a, 1), c, b.get(rng.randrange(1, 8)))
        else:
            value = b.op(op, a, c)
        b.set(rng.randrange(1, 8), value)
    b.branch(b.op(Op.LTU, b.get(1), b.get(2)), pc + 0x100, pc + 40)
    return IRBlock(pc, b.stmts, 10, 40)


@pytest.mark.parametrize("opt_level", [0, 2])
def test_pure_ops_match_python_codegen(opt_level):
    rng = random.Random(5)
    jit = Jit(VmConfig(), opt_level=opt_level)
    for n in range(40):
        block = random_pure_block(rng, 0x1000 + 0x1000 * n)
        compiled = jit.compile(block)
        for _ in range(5):
            regs = [0] + [rng.choice([random_value(rng), rng.choice(EDGE64)]) for _ in range(63)]
            ref = list(regs)
            expected = compile_block(block, {"X": ref, "M": (1 << 64) - 1, "S": 1 << 63,
                                             **arithmetic_helpers()})()
            jit.state.regs[:] = regs
            assert jit.execute(compiled) == expected, str(block)
            assert list(jit.state.regs) == ref, str(block)
    assert not jit.exits and jit.state.reason is Exit.NONE
