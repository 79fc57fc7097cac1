"""The interpreter's debugger hooks without GDB: watchpoints stop before the access with precise
state, single steps run one instruction, and a breakpoint inserted into code that is already
translated (a self-looping block) splits it and stops there."""

from __future__ import annotations

import pytest
from elftools.elf.elffile import ELFFile

from polyvm import ExitReason, VmConfig
from polyvm.engine.debug import DebugStop, Watchpoint
from polyvm.machine.spike import SpikeBoard
from tests.gdb.gdb_driver import target_elf


def symbol(elf, name: str) -> int:
    with open(elf, "rb") as handle:
        (entry,) = ELFFile(handle).get_section_by_name(".symtab").get_symbol_by_name(name)
        return entry["st_value"]


@pytest.mark.timeout(60)
def test_watchpoint_step_and_breakpoint_in_translated_loop():
    elf = target_elf()
    board = SpikeBoard(VmConfig().with_memory_size(32 << 20), elf)
    engine, hart = board.engines[0], board.harts[0]
    stops: list[DebugStop] = []

    def stopped(_engine, stop: DebugStop) -> None:
        stops.append(stop)
        board.stop()

    engine.on_debug_stop = stopped
    spins = symbol(elf, "spins")

    def count() -> int:
        return int.from_bytes(board.read_phys(spins, 8), "little")

    assert board.run(max_instructions=300_000).reason is ExitReason.INSTRUCTION_LIMIT
    assert count() > 1000  # spinning in main's loop, translated as one self-looping block

    engine.set_watchpoints([Watchpoint(spins, 8, "watch")])
    assert board.run(max_instructions=400_000).reason is ExitReason.STOPPED
    (stop,) = stops
    assert stop.kind == "watch" and stop.addr == spins
    store_pc, before, retired = hart.pc, count(), hart.instret
    # Stopped before the store: stepping with the watchpoint armed stops again, changing nothing.
    assert isinstance(engine.step_instruction(), DebugStop)
    assert (hart.pc, count(), hart.instret) == (store_pc, before, retired)
    assert engine.step_instruction(watch=False) is None
    assert count() == before + 1 and hart.instret == retired + 1 and hart.pc - store_pc in (2, 4)

    engine.set_watchpoints([])
    limit = board.instructions_executed() + 100_000
    assert board.run(max_instructions=limit).reason is ExitReason.INSTRUCTION_LIMIT
    assert len(stops) == 1

    engine.insert_breakpoint(store_pc)
    assert board.run(max_instructions=limit + 100_000).reason is ExitReason.STOPPED
    assert stops[-1].kind == "swbreak" and hart.pc == store_pc
    engine.remove_breakpoint(store_pc)
    assert engine.step_instruction() is None and hart.pc != store_pc
    assert board.run(max_instructions=limit + 200_000).reason is ExitReason.INSTRUCTION_LIMIT
    assert len(stops) == 2
