"""gdb-multiarch with the project's vmlinux stops Linux at a kernel symbol (a virtual address under
Sv39), and the kernel then goes on to the busybox shell (slow: a full boot in the interpreter)."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from polyvm import VmConfig
from polyvm.devtools.linux_images import linux_images
from polyvm.service import VmService
from tests.gdb.gdb_driver import GDB, run_gdb

FW_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800),
              pytest.mark.skipif(GDB is None, reason="gdb-multiarch is not installed (scripts/setup.sh)")]


def test_break_at_start_kernel_then_boot_to_the_shell():
    images = linux_images()
    config = VmConfig().with_memory_size(256 << 20)

    async def scenario() -> tuple[str, bytes]:
        vm = await VmService.new(config, images.image.read_bytes(), images.initramfs.read_bytes(),
                                 board="virt", bios=FW_JUMP, append="console=ttyS0")
        try:
            port = vm.enable_gdb_debugging(0)
            out = await asyncio.to_thread(run_gdb, images.vmlinux, port, [
                "break start_kernel", "continue", "bt", "p/x $pc", "info registers priv", "delete", "detach",
            ], 900)
            deadline = time.monotonic() + 900
            while b"/ # " not in vm.console_output:
                assert vm.is_running() and time.monotonic() < deadline, vm.console_output[-2000:]
                await asyncio.sleep(0.5)
            return out, vm.console_output
        finally:
            await vm.stop()

    out, console = asyncio.run(scenario())
    assert re.search(r"Breakpoint 1, (0x[0-9a-f]+ in )?start_kernel \(\)", out), out
    assert re.search(r"\$1 = 0xffffffff8[0-9a-f]{7}", out), out
    assert re.search(r"priv\s+0x1\s+prv:1 \[Supervisor\]", out), out
    assert b"Linux version" in console and b"/ # " in console
