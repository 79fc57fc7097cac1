"""Debian's real OpenSBI and U-Boot boot unmodified on the virt board."""

import threading
import time
from pathlib import Path

import pytest

from polyvm import VmConfig
from polyvm.machine.virt import VirtBoard
from tests.modes import each_emulated_mode

FW_JUMP = Path("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf")
FW_DYNAMIC = Path("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin")
UBOOT = Path("/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin")
CONFIG = VmConfig().with_memory_size(256 << 20)


def run_until(board: VirtBoard, text: bytes, timeout: float, then=None) -> bytes:
    """Run the board on a thread until ``text`` appears on the console (then call ``then``)."""
    result = {}
    runner = threading.Thread(target=lambda: result.setdefault("r", board.run(timeout=timeout)))
    runner.start()
    deadline = time.monotonic() + timeout
    while text not in board.console_output and time.monotonic() < deadline and runner.is_alive():
        time.sleep(0.1)
    if then is not None and text in board.console_output:
        then()
    else:
        board.stop()
    runner.join()
    return bytes(board.console_output)


@each_emulated_mode
@pytest.mark.parametrize("firmware", [FW_JUMP, FW_DYNAMIC], ids=["fw_jump", "fw_dynamic"])
def test_opensbi_prints_banner_and_hands_over(firmware, mode):
    board = VirtBoard(CONFIG.with_exec_mode(mode).with_vcpu_count(2), bios=firmware, kernel=UBOOT)
    out = run_until(board, b"U-Boot 20", 120)
    assert b"OpenSBI v1.1" in out
    assert b"Platform HART Count       : 2" in out
    assert b"Domain0 Next Address      : 0x0000000080200000" in out
    assert b"Domain0 Next Mode         : S-mode" in out
    assert b"U-Boot 20" in out


@each_emulated_mode
def test_uboot_reaches_prompt_and_answers_version(mode):
    board = VirtBoard(CONFIG.with_exec_mode(mode), bios=FW_JUMP, kernel=UBOOT)

    def type_version():
        board.uart.push_input(b"version\r")
        deadline = time.monotonic() + 60
        while b"GNU ld" not in board.console_output and time.monotonic() < deadline:
            time.sleep(0.1)
        board.stop()

    out = run_until(board, b"=> ", 180, then=type_version)
    assert b"Model: riscv-virtio,qemu" in out
    assert b"DRAM:  256 MiB" in out
    tail = out[out.index(b"=> ") :]
    assert b"U-Boot 2023.01" in tail and b"GNU ld" in tail
