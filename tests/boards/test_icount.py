"""With the instruction-count clock a run is reproducible bit for bit: two boots of the same
firmware and kernel print exactly the same bytes, timer interrupts included, in every exec mode."""

from pathlib import Path

from polyvm import ExecMode, VmConfig
from polyvm.machine.virt import VirtBoard

FW_JUMP = Path("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf")
UBOOT = Path("/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin")


def console_after(instructions: int, mode: ExecMode = ExecMode.INTERPRETER) -> tuple[bytes, list[int]]:
    config = VmConfig().with_exec_mode(mode).with_memory_size(128 << 20).with_icount()
    board = VirtBoard(config.with_vcpu_count(2), bios=FW_JUMP, kernel=UBOOT)
    board.run(max_instructions=instructions)
    return bytes(board.console_output), [hart.instret for hart in board.harts]


def test_icount_runs_are_identical():
    first, retired = console_after(40_000_000)
    second, retired_again = console_after(40_000_000)
    assert b"Hit any key to stop autoboot" in first
    assert first == second and retired == retired_again


def test_exec_modes_run_the_same_boot_under_icount():
    """Interpreter, JIT and HYBRID print the same bytes and retire the same instructions on each
    hart: slices end at the same instructions, so interrupts arrive at the same ones."""
    reference = console_after(40_000_000)
    assert b"Hit any key to stop autoboot" in reference[0]
    for mode in (ExecMode.JIT, ExecMode.HYBRID):
        assert console_after(40_000_000, mode) == reference, mode
