"""The native dispatch loop on a memory-touching loop, and measurements (printed, never asserted).

Run with ``pytest tests/jit/test_jit_dispatch.py -s`` to see compile times per block (with and
without LLVM optimisation passes) and guest MIPS of chained native blocks.
"""

from __future__ import annotations

import time

import pytest
from guest_code import RAM, build, link, machine, parcels, tools_available

from polyvm import VmConfig
from polyvm.arch.riscv64.translate import RiscvTranslator
from polyvm.engine.interpreter.pycodegen import compile_block
from polyvm.engine.jit.context import ICOUNT, Exit
from polyvm.engine.jit.jit import Jit

DATA = RAM + 0x10_0000
LOOP = """
.option norvc
.text
.globl loop
loop:
    andi t1, a2, 0x7f8
    add t1, t1, s0
    ld t0, 0(t1)
    add a0, a0, t0
    xor t2, a0, a2
    sd t2, 8(t1)
    addi a2, a2, 8
    addi a1, a1, -1
    bnez a1, loop
.globl done
done:
    ebreak
"""
LOOP_INSNS = 9


@pytest.fixture(scope="module")
def loop_code():
    if not tools_available():
        pytest.skip("riscv64-unknown-elf binutils not installed")
    return link(LOOP)


def start(hart, iterations: int, regs) -> None:
    hart.mmu.ram.write(DATA, bytes(range(256)) * 16)
    regs[8], regs[10], regs[11], regs[12] = DATA, 7, iterations, 0


def test_dispatch_loop_matches_python_and_counts(loop_code):
    text, symbols = loop_code
    loop, done = symbols["loop"], symbols["done"]
    block = RiscvTranslator().translate(loop, parcels(text))
    iterations = 3000

    ref, ref_ns = machine()
    ref.mmu.ram.write(RAM, text)
    start(ref, iterations, ref.x)
    function = compile_block(block, ref_ns)
    pc = loop
    while pc == loop:
        pc = function()
    assert pc == done

    nat, nat_ns = machine()
    nat.mmu.ram.write(RAM, text)
    jit = Jit(VmConfig())
    jit.bind(nat_ns, nat.mmu.ram.host_address)
    start(nat, iterations, jit.state.regs)
    jit.compile(block)
    assert jit.run(loop, 10**9) == done
    assert list(jit.state.regs) == ref.x
    assert nat.mmu.ram.read(DATA, 4096) == ref.mmu.ram.read(DATA, 4096)
    assert jit.state.context[ICOUNT] == LOOP_INSNS * iterations
    assert (jit.exits[Exit.MEMORY], jit.tlb_calls) == (0, 2), \
        "the first load and the first store have TLB_CALL fill their TLB, then all is inline"

    start(nat, 10**6, jit.state.regs)
    assert jit.run(loop, 1000) == loop
    assert 1000 <= jit.state.context[ICOUNT] - LOOP_INSNS * iterations < 1000 + LOOP_INSNS
    assert jit.state.reason is Exit.NONE


@pytest.mark.parametrize("opt_level", [0, 2])
def test_measure_native_speed(loop_code, opt_level):
    text, symbols = loop_code
    loop = symbols["loop"]
    block = RiscvTranslator().translate(loop, parcels(text))
    nat, nat_ns = machine()
    nat.mmu.ram.write(RAM, text)
    jit = Jit(VmConfig(), opt_level=opt_level)
    jit.bind(nat_ns, nat.mmu.ram.host_address)
    compiled = jit.compile(block)
    iterations = 5_000_000
    start(nat, iterations, jit.state.regs)
    jit.run(loop, 10)
    began = time.perf_counter()
    jit.run(loop, 10**12)
    chained = time.perf_counter() - began
    calls = 100_000
    start(nat, 10**9, jit.state.regs)
    began = time.perf_counter()
    for _ in range(calls):
        jit.execute(compiled)
    single = time.perf_counter() - began
    print(f"\nopt level {opt_level}: chained native blocks:"
          f" {LOOP_INSNS * iterations / chained / 1e6:.0f} guest MIPS;"
          f" one block per Python call: {LOOP_INSNS * calls / single / 1e6:.1f} guest MIPS"
          f" ({single / calls * 1e6:.2f} us per call)")
    assert jit.state.regs[11] == 10**9 - calls


def test_measure_compile_time():
    if not tools_available():
        pytest.skip("riscv64-unknown-elf binutils not installed")
    code = build(list(range(9001, 9041, 2)))
    blocks = [RiscvTranslator().translate(pc, parcels(code.text)) for pc in code.starts]
    for level in (0, 2):
        jit = Jit(VmConfig(), opt_level=level)
        for block in blocks:
            jit.compile(block)
        stats = jit.compile_stats()
        insns = sum(b.insn_count for b in blocks) / len(blocks)
        print(f"\nopt level {level}: {stats.avg_compile_time_ms:.2f} ms per block of {insns:.1f} insns"
              f" on average, {stats.code_cache_size / len(blocks):.0f} bytes of object code per block")
        assert stats.blocks_compiled == len(blocks)
