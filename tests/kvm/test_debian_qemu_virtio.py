"""Debian's amd64 kernel with our initramfs (scripts/fetch_debian_amd64.sh) in QEMU's
``-M microvm,acpi=on,ioapic2=off``, its virtio-mmio disk announced through ACPI - once by QEMU's own
tables, once by the tables our board writes (loaded at 0xE0000 with ``-device loader``, laid out for
QEMU's virtio window: the kernel's scan of the BIOS area finds our RSDP before QEMU's). Either way
/init loads virtio_ring, virtio, virtio_mmio and virtio_blk, the LNRO0005 device binds to virtio_mmio
and becomes /dev/vda, the guest reads the host's sector 0 and writes sector 1, which the host finds in
the image after ``poweroff``.

``poweroff`` in the initramfs signals /init, which runs ``poweroff -f``: Linux evaluates \\_S5 and
writes its sleep type with SLP_EN to the FADT's sleep control register. Our board has that register
where QEMU's microvm has its Generic Event Device's, with QEMU's S5 sleep type, so with our tables
too Debian's kernel powers QEMU off (exit status 0) through the registers our FADT names. The kernel
command line and the i8042 are our board's (reboot=k panic=1 pci=off). QEMU runs the guest with TCG:
this project's host runs guest kernel code under KVM about 2000x slower than native, so our own board
cannot boot this kernel within a test; TCG reaches the shell in seconds.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from polyvm.core.errors import ConfigError
from polyvm.devtools.debian_amd64 import DebianAmd64Images, debian_amd64_images
from polyvm.machine.microvm import BOARD_ARGS, board_acpi
from polyvm.machine.microvm_acpi import ACPI_ADDRESS, VirtioWindow

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]
QEMU = "qemu-system-x86_64"
PROMPT = b"/ # "
BOOT_BUDGET = 240.0
COMMAND_BUDGET = 60.0
SECTOR = 512
HOST_PATTERN = b"sector zero, written by the host"
MACHINE = "microvm,acpi=on,ioapic2=off"
"""QEMU's microvm with its ACPI Generic Event Device and one I/O APIC, as our MADT describes."""
QEMU_WINDOW = VirtioWindow(0xFEB0_0000 + 7 * 0x200, 0x200, 16 + 7)
"""Where that machine puts a single virtio device: eight 512-byte transports from 0xfeb00000 on GSI
16+n, the last one taken first (both tests check that Linux finds it there)."""


class SerialConsole:
    """QEMU's serial console on its stdin and stdout: wait for text, type command lines."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.output = b""
        self._steps = 0

    def _read(self, until: str, budget: float, done: Callable[[], bool]) -> bool:
        """Read until ``done()``; False when QEMU closed its output first."""
        deadline = time.monotonic() + budget
        assert self.process.stdout is not None
        while not done():
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {until} within {budget:.0f} s:\n{self.tail()}"
            readable, _, _ = select.select([self.process.stdout], [], [], min(remaining, 1.0))
            if readable:
                chunk = os.read(self.process.stdout.fileno(), 65536)
                if not chunk:
                    return False
                self.output += chunk
        return True

    def expect(self, marker: bytes, budget: float) -> None:
        assert self._read(repr(marker), budget, lambda: marker in self.output), \
            f"QEMU exited (status {self.process.poll()}) before {marker!r}:\n{self.tail()}"

    def finish(self, budget: float) -> int:
        """Read the console to its end; QEMU's exit status."""
        self._read("end of output", budget, lambda: False)
        return self.process.wait(budget)

    def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.flush()

    def run(self, command: str) -> str:
        """Type ``command`` followed by an echo of a step marker the command line itself does not
        contain; returns what the console printed from the command on."""
        self._steps += 1
        start = len(self.output)
        self.type(f"{command}; echo step-$(({self._steps} * 1))-done")
        self.expect(f"step-{self._steps}-done".encode(), COMMAND_BUDGET)
        return self.output[start:].decode(errors="replace")

    def tail(self) -> str:
        return self.output[-3000:].decode(errors="replace")


@pytest.fixture(scope="module")
def images() -> DebianAmd64Images:
    if shutil.which(QEMU) is None:
        pytest.skip(f"{QEMU} is not installed (apt-get install qemu-system-x86; scripts/setup.sh does)")
    try:
        return debian_amd64_images()
    except ConfigError as error:
        pytest.skip(f"Debian's amd64 kernel could not be fetched: {error}")


def tsc_khz() -> str:
    """``tsc_early_khz=`` with the host's TSC rate (/proc/cpuinfo), which TCG's rdtsc counts at: the
    kernel calibrates the TSC against the PIT otherwise, which fails when the host is busy and leaves
    it without a clock (it stops after "tsc: Marking TSC unstable")."""
    rates = re.findall(r"^cpu MHz\s*:\s*([0-9.]+)$", Path("/proc/cpuinfo").read_text(), re.M)
    return f"tsc_early_khz={int(float(rates[0]) * 1000)}" if rates else ""


def boot_and_use_vda(images: DebianAmd64Images, folder: Path, machine: list[str], name: str) -> str:
    """Boot QEMU ``-M`` ``machine`` with one virtio-blk disk, read and write /dev/vda from the shell,
    power off; checks the disk on the host and returns the console output."""
    disk = folder / "disk.img"
    original = HOST_PATTERN.ljust(SECTOR, b".") + bytes(range(256)) * 2 * 63
    disk.write_bytes(original)
    command = [QEMU, "-M", *machine, "-cpu", "max", "-m", "512", "-nographic", "-no-reboot",
               "-kernel", str(images.kernel), "-initrd", str(images.initramfs),
               "-append", f"{BOARD_ARGS} console=ttyS0 {tsc_khz()}", "-device", "i8042",
               "-drive", f"id=d0,file={disk},format=raw,if=none", "-device", "virtio-blk-device,drive=d0"]
    started = time.monotonic()
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    try:
        console = SerialConsole(process)
        console.expect(PROMPT, BOOT_BUDGET)
        booted = time.monotonic() - started
        loaded = console.run("cat /proc/modules; ls /sys/bus/platform/drivers/virtio-mmio")
        for module in ("virtio_ring", "virtio", "virtio_mmio", "virtio_blk"):
            assert re.search(rf"^{module} \d+ \d+ ", loaded, re.M), loaded
        assert "LNRO0005:00" in loaded  # the ACPI device, bound to virtio_mmio
        read = console.run("ls -l /dev/vda; dd if=/dev/vda bs=512 count=1 2>/dev/null | head -c 64; echo")
        assert re.search(r"^brw.* 254, +0 .* /dev/vda", read, re.M) and HOST_PATTERN.decode() in read
        written = console.run("printf 'written by Linux %s to /dev/vda' \"$(uname -r)\" | "
                              "dd of=/dev/vda bs=512 seek=1 conv=notrunc,fsync 2>/dev/null; "
                              "echo 3 > /proc/sys/vm/drop_caches; "
                              "dd if=/dev/vda bs=512 skip=1 count=1 2>/dev/null | head -c 64; echo")
        match = re.search(r"written by Linux \S+-amd64 to /dev/vda", written)
        assert match, written
        window = console.run("grep virtio /proc/interrupts; grep LNRO0005 /proc/iomem")
        console.type("poweroff")
        status = console.finish(COMMAND_BUDGET)
        total = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    print(f"\nQEMU TCG -M {machine[0]} ({name}), Debian {images.package}: shell after {booted:.1f} s, "
          f"powered off after {total:.1f} s")
    assert status == 0, console.tail()
    assert b"ACPI: PM: Preparing to enter system sleep state S5\r\n" in console.output
    assert b"reboot: Power down" in console.output
    end = QEMU_WINDOW.base + QEMU_WINDOW.size - 1
    assert f"{QEMU_WINDOW.base:x}-{end:x} : LNRO0005:00" in window
    assert re.search(rf"IO-APIC +{QEMU_WINDOW.gsi}-fasteoi +virtio0", window)  # level-triggered
    guest = match.group().encode()
    assert disk.read_bytes() == original[:SECTOR] + guest + original[SECTOR + len(guest):]
    return console.output.decode(errors="replace")


def test_vda_through_qemu_acpi_tables(images, tmp_path):
    output = boot_and_use_vda(images, tmp_path, [MACHINE], "QEMU's ACPI tables")
    assert re.search(r"ACPI: DSDT 0x[0-9A-F]+ [0-9A-F]+ \(v02 BOCHS ", output)
    assert "ACPI: PM: (supports S0 S5)" in output


def test_vda_through_our_acpi_tables(images, tmp_path):
    tables = board_acpi(1, [QEMU_WINDOW])
    blob = tmp_path / "acpi.bin"
    blob.write_bytes(tables.data)
    loader = f"loader,file={blob},addr=0x{ACPI_ADDRESS:x},force-raw=on"
    output = boot_and_use_vda(images, tmp_path, [MACHINE, "-device", loader], "our ACPI tables")
    assert f"ACPI: RSDP 0x{tables.rsdp:016X} 000024 (v02 POLYVM)" in output
    for signature in ("XSDT", "FACP", "DSDT", "APIC"):
        assert re.search(rf"ACPI: {signature} 0x00000000000E[0-9A-F]{{4}} \w+ \(v0\d POLYVM POLYVM ", output)
    assert "BOCHS" not in output  # QEMU's own tables, further up in the BIOS area, are not used
    assert "ACPI: PM: (supports S0 S5)" in output  # our FADT's sleep registers and our \_S5
    assert "00:00: ttyS0 at I/O 0x3f8" in output  # COM1 from our DSDT (PNP0501), the shell's console
