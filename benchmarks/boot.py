"""Boot-to-shell benchmark: the project's Linux kernel and initramfs on the virt board with Debian's
OpenSBI, in polyvm and in qemu-system-riscv64, timed from start to the shell prompt, side by side.

    python3 benchmarks/boot.py [--mode hybrid] [--smp 1] [--cold-cache]

``--cold-cache`` gives the JIT an empty on-disk code cache (a temporary folder), so every block
is compiled; without it, code compiled by earlier runs is linked from ~/.cache/polyvm/jit.
"""

from __future__ import annotations

import argparse
import os
import select
import subprocess
import sys
import tempfile
import time

from polyvm import ExecMode, VmConfig
from polyvm.devtools.linux_images import linux_images
from polyvm.machine.virt import VirtBoard

FW_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf"
PROMPT = b"/ # "


def polyvm_boot(images, mode: ExecMode, smp: int, timeout: float) -> tuple[float, int]:
    config = VmConfig().with_exec_mode(mode).with_memory_size(256 << 20).with_vcpu_count(smp)
    board = VirtBoard(config, bios=FW_JUMP, kernel=images.image, initrd=images.initramfs,
                      append="console=ttyS0")
    started = time.perf_counter()
    seen: list[float] = []

    def sink(data: bytes) -> None:
        if not seen and PROMPT in board.console_output:
            seen.append(time.perf_counter() - started)
            board.stop()

    board.console_sink = sink
    board.run(timeout=timeout)
    if not seen:
        raise SystemExit("polyvm did not reach the shell prompt")
    return seen[0], board.instructions_executed()


def qemu_boot(images, smp: int, timeout: float) -> float:
    command = ["qemu-system-riscv64", "-M", "virt", "-m", "256M", "-smp", str(smp), "-nographic",
               "-bios", FW_JUMP, "-kernel", str(images.image), "-initrd", str(images.initramfs),
               "-append", "console=ttyS0"]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    output = b""
    try:
        while PROMPT not in output:
            if time.perf_counter() - started > timeout:
                raise SystemExit("QEMU did not reach the shell prompt")
            ready, _, _ = select.select([proc.stdout], [], [], 1.0)
            if ready:
                output += os.read(proc.stdout.fileno(), 4096)
        return time.perf_counter() - started
    finally:
        proc.kill()
        proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", default="hybrid", choices=[m.value for m in ExecMode])
    parser.add_argument("--smp", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--cold-cache", action="store_true", help="start with an empty JIT code cache")
    args = parser.parse_args()
    images = linux_images()
    if args.cold_cache:
        os.environ["POLYVM_CACHE"] = tempfile.mkdtemp(prefix="polyvm-cold-")
    qemu_s = min(qemu_boot(images, args.smp, args.timeout) for _ in range(3))
    polyvm_s, instructions = polyvm_boot(images, ExecMode(args.mode), args.smp, args.timeout)
    mode = args.mode + (" (cold cache)" if args.cold_cache else "")
    print(f"{'mode':25} {'smp':>3} {'polyvm s':>9} {'QEMU s':>7} {'ratio':>7} {'guest insns':>12}")
    print(f"{mode:25} {args.smp:3d} {polyvm_s:9.1f} {qemu_s:7.2f} {polyvm_s / qemu_s:7.1f} "
          f"{instructions:12d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
