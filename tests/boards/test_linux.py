"""The project-built Linux kernel and busybox initramfs boot on the virt board to a shell, with
Debian's OpenSBI, two harts and a virtio disk (slow: the images are built once and cached)."""

import subprocess
from pathlib import Path

import pytest

from polyvm import VmConfig
from polyvm.devtools.linux_images import linux_images
from polyvm.devtools.linux_user import build_linux_user
from polyvm.machine.virt import Drive, VirtBoard
from tests.boards.guest_console import ConsoleSession
from tests.modes import each_emulated_mode

FW_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf"
FPDEMO = Path(__file__).resolve().parents[2] / "guests" / "linux" / "fpdemo.c"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def images():
    return linux_images()


def make_ext2(path: Path, size_mb: int = 8, content: Path | None = None) -> Path:
    subprocess.run(["dd", "if=/dev/zero", f"of={path}", "bs=1M", f"count={size_mb}"], check=True,
                   capture_output=True)
    extra = ["-d", str(content)] if content is not None else []
    subprocess.run(["mke2fs", "-q", "-t", "ext2", *extra, "-F", str(path)], check=True)
    return path


def boot(images, drives, mode, smp=2, timeout=900.0) -> ConsoleSession:
    config = VmConfig().with_exec_mode(mode).with_memory_size(256 << 20).with_vcpu_count(smp)
    board = VirtBoard(config, bios=FW_JUMP, kernel=images.image, initrd=images.initramfs,
                      append="console=ttyS0", drives=drives)
    session = ConsoleSession(board, timeout)
    session.wait_for(b"/ # ")
    return session


@each_emulated_mode
def test_linux_smp2_boots_writes_ext2_file_and_powers_off(images, tmp_path, mode):
    fpdemo = build_linux_user(FPDEMO)
    programs = tmp_path / "programs"
    programs.mkdir()
    (programs / "fpdemo").write_bytes(fpdemo.read_bytes())
    (programs / "fpdemo").chmod(0o755)
    expected_fp = subprocess.run(["qemu-riscv64", str(fpdemo)], capture_output=True, check=True).stdout
    (programs / "note.txt").write_bytes(b"served over legacy virtio-mmio\n")
    disk = make_ext2(tmp_path / "disk.img")
    ro_disk = make_ext2(tmp_path / "ro.img", content=programs)
    legacy_disk = make_ext2(tmp_path / "legacy.img", content=programs)
    ro_before = ro_disk.read_bytes()
    session = boot(images, [Drive(str(disk)), Drive(str(ro_disk), readonly=True),
                            Drive(str(legacy_disk), legacy=True)], mode)

    cpuinfo = session.run_command("cat /proc/cpuinfo")
    assert cpuinfo.count(b"processor\t:") == 2
    assert b"hart\t\t: 1" in cpuinfo

    session.run_command("mkdir -p /mnt && mount -t ext2 /dev/vda /mnt")
    session.run_command("echo written-by-polyvm-guest > /mnt/hello.txt && sync && umount /mnt")
    assert session.run_command("cat /sys/block/vdb/ro").strip() == b"1"
    session.run_command("mkdir -p /ro && mount -t ext2 /dev/vdb /ro")
    refused = session.run_command("touch /ro/new; echo status=$?")
    assert b"Read-only file system" in refused and b"status=1" in refused
    session.run_command("mkdir -p /legacy && mount -t ext2 /dev/vdc /legacy")
    assert session.run_command("cat /legacy/note.txt") == b"served over legacy virtio-mmio\n"
    fp_output = session.run_command("/ro/fpdemo")
    assert fp_output == expected_fp

    session.board.uart.push_input(b"poweroff -f\n")
    result = session.finish()
    session.board.close()
    assert result is not None and result.exit_code == 0 and session.board.power_event == "poweroff"

    dumped = subprocess.run(["debugfs", "-R", "cat /hello.txt", str(disk)], capture_output=True, check=True)
    assert dumped.stdout == b"written-by-polyvm-guest\n"
    assert ro_disk.read_bytes() == ro_before
