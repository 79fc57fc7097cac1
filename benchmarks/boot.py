"""Boot-to-shell benchmark: the project's Linux kernel and initramfs on the virt board with Debian's
OpenSBI, in polyvm and in qemu-system-riscv64, timed from start to the shell prompt, side by side.

    python3 benchmarks/boot.py [--mode hybrid] [--smp 1] [--runs 3] [--cold-cache]

Two polyvm times are shown: ``board.run`` in this process (the board built, the Python modules
loaded; one boot), and the whole ``polyvm run ... --nographic`` command from its start to the
prompt, timed as QEMU's command is (interpreter start, imports and board set-up included). The
ratio is that of the command to QEMU's, each the best of ``--runs`` boots run alternately (one
QEMU boot, then one polyvm command, and so on), so that both see the same state of the host.

``--cold-cache`` gives each polyvm run empty caches (temporary folders), so every block is
translated and compiled; without it, translations and code of earlier runs are taken from
~/.cache/polyvm.
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
        # Only the end can hold a new prompt (the whole output, ~20 KB, was searched at every byte).
        if not seen and PROMPT in board.console_output[-len(PROMPT) - len(data):]:
            seen.append(time.perf_counter() - started)
            board.stop()

    board.console_sink = sink
    board.run(timeout=timeout)
    if not seen:
        raise SystemExit("polyvm did not reach the shell prompt")
    return seen[0], board.instructions_executed()


def time_to_prompt(command: list[str], timeout: float) -> float:
    """Seconds from starting ``command`` until the shell prompt appears on its stdout."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    output = b""
    try:
        while PROMPT not in output:
            if time.perf_counter() - started > timeout:
                raise SystemExit(f"{command[0]} did not reach the shell prompt")
            ready, _, _ = select.select([proc.stdout], [], [], 1.0)
            if ready:
                data = os.read(proc.stdout.fileno(), 4096)
                if not data:
                    raise SystemExit(f"{command[0]} ended before the shell prompt")
                output += data
        return time.perf_counter() - started
    finally:
        proc.kill()
        proc.wait()


def qemu_boot(images, smp: int, timeout: float) -> float:
    return time_to_prompt(
        ["qemu-system-riscv64", "-M", "virt", "-m", "256M", "-smp", str(smp), "-nographic",
         "-bios", FW_JUMP, "-kernel", str(images.image), "-initrd", str(images.initramfs),
         "-append", "console=ttyS0"], timeout)


def polyvm_command_boot(images, mode: ExecMode, smp: int, timeout: float) -> float:
    """The ``polyvm run`` command's time to the prompt (``python -m polyvm``: the console script
    starts the same way)."""
    return time_to_prompt(
        [sys.executable, "-m", "polyvm", "run", "-M", "virt", "-m", "256M", "-smp", str(smp),
         "--exec-mode", mode.value, "--nographic", "--bios", FW_JUMP, "--kernel", str(images.image),
         "--initrd", str(images.initramfs), "--append", "console=ttyS0"], timeout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", default="hybrid", choices=[m.value for m in ExecMode])
    parser.add_argument("--smp", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--runs", type=int, default=3,
                        help="boots of each command, alternating; the best of each is compared")
    parser.add_argument("--cold-cache", action="store_true",
                        help="give each polyvm run empty caches (translations and JIT code)")
    args = parser.parse_args()
    images = linux_images()
    mode = ExecMode(args.mode)
    if args.cold_cache:
        os.environ["POLYVM_CACHE"] = tempfile.mkdtemp(prefix="polyvm-cold-")
    run_s, instructions = polyvm_boot(images, mode, args.smp, args.timeout)
    qemu_times, command_times = [], []
    for _ in range(args.runs):
        qemu_times.append(qemu_boot(images, args.smp, args.timeout))
        if args.cold_cache:
            os.environ["POLYVM_CACHE"] = tempfile.mkdtemp(prefix="polyvm-cold-")
        command_times.append(polyvm_command_boot(images, mode, args.smp, args.timeout))
    qemu_s, command_s = min(qemu_times), min(command_times)
    label = args.mode + (" (cold cache)" if args.cold_cache else "")
    print(f"{'mode':25} {'smp':>3} {'board.run s':>11} {'command s':>9} {'QEMU s':>7} {'ratio':>7} "
          f"{'guest insns':>12}")
    print(f"{label:25} {args.smp:3d} {run_s:11.2f} {command_s:9.2f} {qemu_s:7.2f} "
          f"{command_s / qemu_s:7.1f} {instructions:12d}")
    print(f"best of {args.runs} alternating runs each; command {command_s:.2f}-{max(command_times):.2f} s,"
          f" QEMU {qemu_s:.2f}-{max(qemu_times):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
