"""Linux boots to the same shell in every execution mode: under the instruction-count clock the
interpreter, the JIT and HYBRID print the same bytes and retire the same instructions (slow)."""

import pytest

from polyvm import ExecMode, VmConfig
from polyvm.devtools.linux_images import linux_images
from polyvm.machine.virt import VirtBoard

FW_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf"
PROMPT = b"/ # "
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def boot_to_shell(mode: ExecMode) -> tuple[bytes, list[int]]:
    images = linux_images()
    config = VmConfig().with_exec_mode(mode).with_memory_size(256 << 20).with_icount()
    board = VirtBoard(config, bios=FW_JUMP, kernel=images.image, initrd=images.initramfs,
                      append="console=ttyS0")

    def stop_at_prompt(data: bytes) -> None:
        if PROMPT in board.console_output:
            board.stop()

    board.console_sink = stop_at_prompt
    board.run(timeout=900)
    assert PROMPT in board.console_output, bytes(board.console_output[-2000:]).decode(errors="replace")
    return bytes(board.console_output), [hart.instret for hart in board.harts]


def test_linux_boot_is_identical_in_every_mode():
    reference = boot_to_shell(ExecMode.INTERPRETER)
    assert b"Linux version" in reference[0] and b"Run /init" in reference[0]
    for mode in (ExecMode.JIT, ExecMode.HYBRID):
        console, retired = boot_to_shell(mode)
        assert console == reference[0], mode
        assert retired == reference[1], mode
