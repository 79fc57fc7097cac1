"""Debian's amd64 kernel with the busybox initramfs on KVM, in polyvm (``-M microvm``, accelerated) and in
``qemu-system-x86_64 -enable-kvm -M microvm``, side by side with a time budget each: which boot markers
each reached on the serial console, and when. polyvm also reports its KVM exits, where the boot vCPU
was (rip samples) and, every minute, how much of vmlinux the kernel's own XZ decompressor has
produced (compared byte for byte with the host's xz), since a slow host shows little console output.

    python3 benchmarks/kvm_boot.py [--budget 300] [--smp 1] [--skip-qemu]
"""

from __future__ import annotations

import argparse
import os
import select
import shutil
import subprocess
import threading
import time

from polyvm import ExecMode, VmConfig
from polyvm.core.types import GuestArch
from polyvm.devtools.debian_amd64 import debian_amd64_images, decompressed_prefix, host_vmlinux
from polyvm.machine.microvm import MicrovmBoard

APPEND = "console=ttyS0 earlyprintk=serial,ttyS0,115200 nokaslr"
"""nokaslr: the decompressor writes vmlinux at the load address, where its progress can be measured."""
MARKERS = (
    b"Probing EDD", b"KASLR disabled", b"Decompressing Linux", b"Linux version", b"Command line:",
    b"smpboot:", b"Freeing unused kernel", b"Run /init", b"polyvm initramfs:", b"/ # ",
)
"""Boot progress on the serial console, in boot order. "Probing EDD" comes from the bzImage's real-mode
setup code, which only the 16-bit boot path (QEMU's firmware) runs; "KASLR disabled" is the
decompressor's first line; "Decompressing Linux" needs CONFIG_X86_VERBOSE_BOOTUP (Debian: off)."""
SAMPLE_EVERY = 30.0
PROGRESS_EVERY = 60.0


class MarkerClock:
    """Records when each marker first appears in a growing console transcript."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.output = bytearray()
        self.seen: dict[bytes, float] = {}

    def feed(self, data: bytes) -> None:
        self.output += data
        for marker in MARKERS:
            # QEMU's firmware echoes real-mode output on two consoles: "PPrroobbiinngg"
            doubled = bytes(byte for byte in marker for _ in range(2))
            if marker not in self.seen and (marker in self.output or doubled in self.output):
                self.seen[marker] = time.perf_counter() - self.started

    @property
    def done(self) -> bool:
        return MARKERS[-1] in self.seen


def polyvm_boot(images, smp: int, budget: float) -> tuple[MarkerClock, MicrovmBoard]:
    config = VmConfig(arch=GuestArch.X86_64, exec_mode=ExecMode.ACCELERATED, memory_size=512 << 20,
                      num_vcpu=smp)
    board = MicrovmBoard(config, kernel=images.kernel, initrd=images.initramfs, append=APPEND)
    clock = MarkerClock()

    def sink(data: bytes) -> None:
        clock.feed(data)
        if clock.done:
            board.stop()

    vmlinux = host_vmlinux(images.kernel)
    output = board.ram.bytes[board.boot.kernel_start:board.boot.kernel_start + len(vmlinux.filtered)]
    finished = threading.Event()

    def progress() -> None:
        while not finished.wait(PROGRESS_EVERY):
            done = decompressed_prefix(output, vmlinux)
            if done < 4096 and clock.seen:
                return  # the kernel runs: its segments have replaced the decompressed image
            print(f"  polyvm {time.perf_counter() - clock.started:6.0f} s: vmlinux decompressed "
                  f"{done:>11,} of {len(vmlinux.filtered):,} bytes", flush=True)

    board.console_sink = sink
    clock.started = time.perf_counter()
    reporter = threading.Thread(target=progress, daemon=True)
    reporter.start()
    try:
        board.run(timeout=budget, sample_every=SAMPLE_EVERY)
    finally:
        finished.set()
        reporter.join()
        output.release()
        board.close()
    return clock, board


def qemu_boot(images, smp: int, budget: float) -> MarkerClock:
    command = ["qemu-system-x86_64", "-M", "microvm", "-enable-kvm", "-m", "512M",
               "-smp", str(smp), "-nographic", "-no-reboot", "-kernel", str(images.kernel),
               "-initrd", str(images.initramfs), "-append", APPEND]
    print("qemu command:", " ".join(command))
    clock = MarkerClock()
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        while not clock.done and time.perf_counter() - clock.started < budget:
            ready, _, _ = select.select([proc.stdout], [], [], 1.0)
            if ready:
                data = os.read(proc.stdout.fileno(), 4096)
                if not data:
                    break
                clock.feed(data)
    finally:
        proc.kill()
        proc.wait()
    return clock


def report(name: str, clock: MarkerClock, budget: float) -> None:
    elapsed = min(budget, time.perf_counter() - clock.started)
    print(f"\n{name}: {len(clock.output)} console bytes in {elapsed:.0f} s")
    for marker in MARKERS:
        at = clock.seen.get(marker)
        print(f"  {marker.decode():24s} {f'{at:8.1f} s' if at is not None else '       -'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=300.0, help="seconds per VM")
    parser.add_argument("--smp", type=int, default=1)
    parser.add_argument("--skip-qemu", action="store_true")
    args = parser.parse_args()
    images = debian_amd64_images()
    print(f"kernel {images.package}, initramfs {images.initramfs.name}, append {APPEND!r}, "
          f"budget {args.budget:.0f} s, smp {args.smp}")
    clock, board = polyvm_boot(images, args.smp, args.budget)
    report("polyvm -M microvm (accelerated)", clock, args.budget)
    print(f"  stop reason {board.stop_reason}, KVM exits {board.exit_stats()}")
    print("  boot vCPU rip samples: " + ", ".join(
        f"{at:.0f}s 0x{rip:x}" for at, index, rip in board.rip_samples if index == 0))
    if clock.output:
        print("  last console line:", bytes(clock.output).decode(errors="replace").splitlines()[-1][:100])
    if args.skip_qemu or shutil.which("qemu-system-x86_64") is None:
        print("\nqemu-system-x86_64: skipped")
        return
    report("qemu-system-x86_64 -enable-kvm -M microvm", qemu_boot(images, args.smp, args.budget), args.budget)


if __name__ == "__main__":
    main()
