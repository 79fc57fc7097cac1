"""Loads and stores that native code hands to Python (jit.py ``memory_call``): device registers and
TLB misses go on natively, a fault leaves at the instruction's boundary without doing the access
twice, an error a device raises reaches whoever ran the code, and a mstatus.SUM flip native code
made itself is seen (found in review: the MMU still had the old SUM, and a fault was lost)."""

from __future__ import annotations

import functools
import struct

import pytest
from guest_code import RAM, link, linked_engine, machine, parcels, tools_available

from polyvm import ExecMode, InstructionLimit, RiscvHart, SoftMmu, VmConfig
from polyvm.arch.riscv64 import csr as C
from polyvm.arch.riscv64.translate import RiscvTranslator
from polyvm.arch.riscv64.traps import Cause, ExitSlice, GuestTrap
from polyvm.engine.hybrid import HybridEngine, first_access
from polyvm.engine.interpreter.engine import Interpreter
from polyvm.engine.interpreter.pycodegen import compile_block
from polyvm.engine.jit.context import ICOUNT, LIMIT, REASON, Exit
from polyvm.engine.jit.jit import Jit
from polyvm.engine.jit.resume import Tails
from polyvm.mem.paging import PagingMode, Priv

DEVICE = 0x1000_0000
DATA = RAM + 0x10_0000
NOTHING = 0x2000_0000
"""No RAM and no device there: an access faults."""
CODE = """
.option norvc
.text
.globl start
start:
    lw t0, 0(s1)
    sw t0, 4(s1)
    sd t0, 0(s0)
    ld t1, 0(s0)
    add a0, t0, t1
    lw a1, 0(s2)
    add a2, a1, a0
    j done
.globl fault
fault = start + 20
.globl done
done:
    ebreak
"""
A0, A1, A2, S0, S1, S2, T0 = 10, 11, 12, 8, 9, 18, 5


class Register:
    """A device with one register: reads return ``value`` (or raise ``error``), writes are kept."""

    def __init__(self, value: int, error: Exception | None = None) -> None:
        self.value = value
        self.error = error
        self.reads = 0
        self.writes: list[int] = []

    def read(self, offset: int, size: int) -> int:
        self.reads += 1
        if self.error is not None:
            raise self.error
        return self.value

    def write(self, offset: int, val: int, size: int) -> None:
        self.writes.append(val)

    def interrupt(self) -> int | None:
        return None


@pytest.fixture(scope="module")
def code():
    if not tools_available():
        pytest.skip("riscv64-unknown-elf binutils not installed")
    return link(CODE)


def _run(code, device: Register, target: int, native: bool) -> tuple[list[int], Jit | None]:
    """Run the block at ``start`` once, natively or in the Python tier, with s2 = ``target``; the
    registers after it, and the JIT that ran it."""
    text, symbols = code
    hart, namespace = machine()
    hart.mmu.bus.register(DEVICE, 0x100, device, "register")
    hart.mmu.ram.write(RAM, text)
    hart.mmu.ram.write(DATA + 0x1000, (0x1234).to_bytes(4, "little"))
    block = RiscvTranslator().translate(symbols["start"], parcels(text))
    jit = None
    if native:
        jit = Jit(VmConfig())
        jit.bind(namespace, hart.mmu.ram.host_address)
        regs = jit.state.regs
        run = jit.compile(block)
        start = lambda: jit.execute(run)  # noqa: E731
    else:
        regs = hart.x
        start = compile_block(block, namespace)
    regs[S0], regs[S1], regs[S2] = DATA, DEVICE, target
    assert start() == symbols["done"]
    return list(regs), jit


def test_device_registers_and_tlb_misses_stay_native(code):
    python_device, native_device = Register(0x55), Register(0x55)
    expected, _ = _run(code, python_device, DATA + 0x1000, native=False)
    regs, jit = _run(code, native_device, DATA + 0x1000, native=True)
    assert regs == expected
    assert regs[A2] == 0x1234 + 2 * 0x55
    assert (native_device.reads, native_device.writes) == (1, [0x55])
    assert (python_device.reads, python_device.writes) == (1, [0x55])
    assert jit.exits[Exit.MEMORY] == 0
    assert jit.memory_calls >= 4, "two device accesses and the RAM pages' first accesses"


def test_a_fault_leaves_at_its_instruction_after_the_accesses_before_it(code):
    device = Register(0x55)
    with pytest.raises(GuestTrap) as trap:
        _run(code, device, NOTHING, native=True)
    fault = code[1]["fault"]
    assert (trap.value.cause, trap.value.tval, trap.value.pc) == (Cause.LOAD_ACCESS, NOTHING, fault)
    assert (device.reads, device.writes) == (1, [0x55]), "the device saw each access once"


def test_an_error_a_device_raises_reaches_the_caller_once(code):
    device = Register(0, error=RuntimeError("device broke"))
    with pytest.raises(RuntimeError, match="device broke"):
        _run(code, device, DATA + 0x1000, native=True)
    assert device.reads == 1, "the access is not repeated by the Python tail"


SUM_FLIP = """
.option norvc
.text
.globl start
start:
    lui t0, 0x40
    csrs sstatus, t0
    lui a1, 0x1
    li t1, 0
    li s0, 2
loop:
    csrc sstatus, t1
.globl load
load:
    ld a0, 0(a1)
    mv t1, t0
    addi s0, s0, -1
    bnez s0, loop
    ebreak
.balign 256
.globl handler
handler:
    j handler
"""
"""In S-mode with SUM set, load from the user page at 0x1000, then clear SUM (natively: the write
only flips SUM) and load from it again: that load must fault."""


@pytest.mark.parametrize("mode", [ExecMode.INTERPRETER, ExecMode.HYBRID, ExecMode.JIT])
def test_a_sum_flip_in_native_code_is_seen_by_memory_calls(mode, tmp_path, monkeypatch):
    if not tools_available():
        pytest.skip("riscv64-unknown-elf binutils not installed")
    monkeypatch.setenv("POLYVM_CACHE", str(tmp_path))
    engine, symbols = linked_engine(SUM_FLIP, mode, ram_size=1 << 22)
    hart, mmu = engine.hart, engine.hart.mmu
    root, middle, leaves, user_page = RAM + 0x20000, RAM + 0x21000, RAM + 0x22000, RAM + 0x10000
    for address, value in ((root + 8 * 2, (RAM >> 12) << 10 | 0xCF),  # kernel gigapage: RAM
                           (root, (middle >> 12) << 10 | 1), (middle, (leaves >> 12) << 10 | 1),
                           (leaves + 8, (user_page >> 12) << 10 | 0xD7)):  # 0x1000: a user page
        mmu.ram.write(address, struct.pack("<Q", value))
    hart.priv = Priv.S
    hart.csr_op(4, C.SATP, 8 << 60 | root >> 12, 0, 0)
    hart.pc = RAM
    for _ in range(20):
        engine.run(InstructionLimit(50))
        if hart.priv == Priv.M:
            break
    assert (hart.mcause, hart.mepc, hart.mtval) == (Cause.LOAD_PAGE_FAULT, symbols["load"], 0x1000)


def test_an_access_crossing_into_a_fault_reaches_the_device_once(code):
    """A load whose first bytes are a device's and whose last bytes fault: memory_call leaves page
    crossings to the Python tail, which reads the first part once and then traps."""
    text, symbols = link(".option norvc\n.text\n.globl start\nstart:\n    lw a0, 0(s1)\n"
                         "    j done\ndone:\n    ebreak\n")
    hart, namespace = machine()
    device = Register(0x55)
    hart.mmu.bus.register(DEVICE + 0xFF0, 0x10, device, "register")
    hart.mmu.ram.write(RAM, text)
    jit = Jit(VmConfig())
    jit.bind(namespace, hart.mmu.ram.host_address)
    compiled = jit.compile(RiscvTranslator().translate(symbols["start"], parcels(text)))
    jit.state.regs[S1] = DEVICE + 0xFFE
    with pytest.raises(GuestTrap) as trap:
        jit.execute(compiled)
    assert (trap.value.cause, trap.value.pc) == (Cause.LOAD_ACCESS, symbols["start"])
    assert device.reads == 1


COUNTERS = """
.option norvc
.text
.globl start
start:
    nop
    nop
    rdcycle a0
    rdinstret a1
    rdtime a2
    j done
done:
    ebreak
"""


def block_by_block(source: str, priv: Priv, instret: int = 0) -> list[tuple]:
    """Run ``source`` (from ``start`` to ``done``) a block at a time at privilege ``priv``, in the
    Python tier and natively: for each, the trap that stopped it (or None), the pcs where an exit
    check ended the slice, the registers and the helper side exits native code took."""
    text, symbols = link(source)
    results = []
    for native in (False, True):
        hart, namespace = machine()
        hart.mmu.ram.write(RAM, text)
        hart.instret, hart.priv = instret, priv
        jit = Jit(VmConfig())
        jit.bind(namespace, hart.mmu.ram.host_address)
        regs = jit.state.regs if native else hart.x
        pc, outcome, slice_ends = symbols["start"], None, []
        while pc != symbols["done"] and outcome is None:
            block = RiscvTranslator().translate(pc, parcels(text))
            run = (functools.partial(jit.execute, jit.compile(block)) if native
                   else compile_block(block, namespace))
            try:
                pc = run()
            except ExitSlice as exit_:
                pc = exit_.pc
                slice_ends.append(pc)
            except GuestTrap as trap:
                outcome = (trap.cause, trap.pc)
            if not native:  # the run loop's count (native code counts in ICOUNT, which calls add)
                hart.instret += block.insn_count
        results.append((outcome, slice_ends, list(regs), jit.exits[Exit.HELPER] if native else 0))
    return results


@pytest.mark.parametrize("permitted", [True, False])
def test_counter_reads_stay_native_and_trap_where_not_permitted(permitted):
    """Reads of cycle, instret and time (each ends its block) call back (context.py HELPER_CALL)
    with the instret a Python tail would see; a read the privilege level may not make takes the
    helper side exit, and the tail traps at that instruction."""
    if not tools_available():
        pytest.skip("riscv64-unknown-elf binutils not installed")
    # In U-mode mcounteren and scounteren are 0: no counter may be read.
    python, native = block_by_block(COUNTERS, Priv.M if permitted else Priv.U, instret=1000)
    assert python[:3] == native[:3]
    outcome, _, regs, helper_exits = native
    assert helper_exits == (0 if permitted else 1)
    if permitted:
        assert outcome is None and (regs[A0], regs[A1], regs[A2]) == (1002, 1003, 0)
    else:
        assert outcome == (Cause.ILLEGAL_INSTRUCTION, link(COUNTERS)[1]["start"] + 8)


HELPERS = """
.option norvc
.text
.globl start
start:
    li t0, 0x80001000
first:
    csrw mtvec, t0
    csrr a0, mtvec
    csrr a1, mhartid
    sfence.vma
    csrw mip, zero
after_mip:
    csrr a2, medeleg
    j done
done:
    ebreak
"""


@pytest.mark.parametrize("permitted", [True, False])
def test_csr_accesses_and_sfence_call_back_and_trap_where_not_permitted(permitted):
    """CSR accesses native code does not do itself and sfence.vma call back (context.py
    HELPER_CALL) instead of leaving; a write that leaves an exit pending (mip) still ends the slice
    where the interpreter's does, and an access the privilege level may not make takes the helper
    side exit, and the tail traps at that instruction."""
    if not tools_available():
        pytest.skip("riscv64-unknown-elf binutils not installed")
    python, native = block_by_block(HELPERS, Priv.M if permitted else Priv.S)
    assert python[:3] == native[:3]
    outcome, slice_ends, regs, helper_exits = native
    symbols = link(HELPERS)[1]
    assert helper_exits == (0 if permitted else 1)
    if permitted:
        assert outcome is None and (regs[A0], regs[A1], regs[A2]) == (0x8000_1000, 0, 0)
        assert slice_ends == [symbols["after_mip"]]
    else:
        assert outcome == (Cause.ILLEGAL_INSTRUCTION, symbols["first"])


@pytest.mark.parametrize("drops", [True, False])
@pytest.mark.parametrize("flush", ["sfence.vma", "sfence.vma zero, t0"])
def test_a_region_stops_after_a_sfence_that_dropped_jumps_instead_of_going_on_into_its_members(flush, drops):
    """A region function whose head ends in sfence.vma and whose member jumps back to the head
    must stop after a fence that dropped jump-table entries (whatever runs next is looked up anew
    under the new mappings): a full flush empties every jump table, and had the function gone on, a
    later side exit could not find the region that ran. A fence that dropped none (most of a Linux
    boot's) goes on natively: through the member, round the loop, to the ebreak that has no code."""
    if not tools_available():
        pytest.skip("riscv64-unknown-elf binutils not installed")
    text, symbols = link(f"""
.option norvc
.text
.globl start
start:
    li t0, 3
    li a0, 0
loop:
    addi a0, a0, 1
    {flush}
    blt a0, t0, loop
    ebreak
""")
    hart, namespace = machine()
    hart.mmu.ram.write(RAM, text)
    jit = Jit(VmConfig())
    jit.bind(namespace, hart.mmu.ram.host_address)
    if drops:  # as the engine's sfence does when it forgets translations (hybrid.py _drop_jumps)
        hart.on_sfence = lambda vaddr, asid: jit.state.flush_jumps()
    translator = RiscvTranslator()
    head = translator.translate(symbols["loop"], parcels(text))
    member = translator.translate(head.stmts[-1].args[0], parcels(text))
    native = jit.backend.compile_block(head, [member])
    compiled = jit._install(head, native)
    compiled.members[member.start_pc] = Tails(member, jit.namespace)
    jit.state.regs[T0], jit.state.regs[A0] = 3, 0
    ctx = jit.state.context
    ctx[ICOUNT], ctx[LIMIT] = 0, 1000
    pc = compiled.call(jit.state.regs_address, jit.ram_address, jit.state.context_address, 0, 100)
    if drops:
        assert Exit(ctx[REASON]) is Exit.EXIT_CHECK and ctx[ICOUNT] == 2, "stopped right after the fence"
        assert pc == member.start_pc and jit.state.regs[A0] == 1
    else:
        assert Exit(ctx[REASON]) is Exit.LOOKUP and ctx[ICOUNT] == 9, "went on to the ebreak"
        assert pc == symbols["loop"] + 12 and jit.state.regs[A0] == 3


PAGE_LOOPS = {
    "first instruction": """
loop:
    sd t1, 0(t0)
    sd t1, 8(t0)
""",
    "second instruction": """
loop:
    li a5, 7
    sd a5, 0(t0)
""",
}
"""Loops that store into a new page at each turn (Linux's memset and page initialisation), the
store missing the native TLB at each page."""


def page_loop(body: str) -> str:
    return f"""
.option norvc
.text
.globl start
start:
    li t0, 0x80100000
    li t1, 48
    li t2, 4096
.globl loop
{body}
    add t0, t0, t2
    addi t1, t1, -1
    bnez t1, loop
.globl done
done:
    j done
"""


def _page_loop_runs(text: bytes, mode: ExecMode) -> tuple[list[tuple[int, int]], bytes, RiscvHart]:
    """Slices of 10 blocks under the instruction-count clock until the loop is done: where each
    ended (pc, instret), the memory the loop stored into, and the hart."""
    mmu = SoftMmu(1 << 22, PagingMode.NONE, ram_base=RAM)
    mmu.ram.write(RAM, text)
    hart = RiscvHart(0, mmu, lambda: 0)
    config = VmConfig().with_exec_mode(mode).with_icount()
    engine = (Interpreter(config, hart) if mode is ExecMode.INTERPRETER
              else HybridEngine(config, hart, compile_all=mode is ExecMode.JIT))
    hart.pc = RAM
    ends = []
    for _ in range(60):
        engine.run_slice(10)
        ends.append((hart.pc, hart.instret))
    return ends, bytes(mmu.ram.u8[0x10_0000:0x10_0000 + 48 * 4096]), hart


@pytest.mark.parametrize("loop", PAGE_LOOPS)
def test_a_loop_whose_first_store_misses_at_each_page_goes_on_natively(loop, tmp_path, monkeypatch):
    """A loop's store that misses the native TLB at each new page has TLB_CALL put the page there
    and goes on natively, at the block's first instruction or later (before TLB_CALL, the first
    had native code run the block again after a side exit, the others a Python tail per page).
    Slices end where the interpreter's do under the instruction-count clock, and memory ends as
    the interpreter leaves it. (JIT mode: the loop is native from its first turn.)"""
    if not tools_available():
        pytest.skip("riscv64-unknown-elf binutils not installed")
    monkeypatch.setenv("POLYVM_CACHE", str(tmp_path))
    text, symbols = link(page_loop(PAGE_LOOPS[loop]))
    tails = []
    original = Tails.function
    monkeypatch.setattr(Tails, "function", lambda self, index: tails.append(self.block.start_pc)
                        or original(self, index))
    interpreted = _page_loop_runs(text, ExecMode.INTERPRETER)
    native = _page_loop_runs(text, ExecMode.JIT)
    assert native[0] == interpreted[0] and native[1] == interpreted[1]
    assert native[2].pc == symbols["done"] and native[2].x[6] == 0
    assert tails.count(symbols["loop"]) <= 2, "at most while the loop was not yet native"


def test_the_first_access_is_decoded_from_the_block_bytes():
    """``first_access``: the size and kind of the first instruction's access if it is an integer
    load or store (compressed ones too), else None."""
    if not tools_available():
        pytest.skip("riscv64-unknown-elf binutils not installed")
    for body, expected in (("sd a5, 0(t0)", (8, True)), ("lbu a4, 3(t0)", (1, False)),
                           ("c.lw a4, 0(a1)", (4, False)), ("c.sdsp ra, 8(sp)", (8, True)),
                           ("li a5, 7\n sd a5, 0(t0)", None), ("lr.w a0, (a1)", None),
                           ("amoadd.w a0, a1, (a2)", None)):
        text, symbols = link(f".option rvc\n.text\n.globl start\nstart:\n {body}\n j start\n")
        block = RiscvTranslator().translate(symbols["start"], parcels(text))
        block.code = text[:block.byte_size]
        assert first_access(block) == expected, body
