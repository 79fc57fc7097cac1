"""``polyvm run -M microvm``: the board from the command line, its mode and machine checks, its
``acpi=on|off`` option, --stats, the guest ending the command by reset or ACPI power-off."""

import subprocess
import sys

import pytest

from polyvm.cli import main

from .x86_guests import build_bzimage

pytestmark = pytest.mark.timeout(60)


def test_accelerated_mode_needs_the_microvm_board(capsys):
    assert main(["run", "-M", "virt", "--exec-mode", "accelerated", "--kernel", "x"]) == 2
    assert "--exec-mode accelerated runs x86-64 guests on KVM with -M microvm" in capsys.readouterr().err


def test_microvm_needs_accelerated_mode(capsys):
    assert main(["run", "-M", "microvm", "--exec-mode", "interpreter", "--kernel", "x"]) == 2
    assert "-M microvm runs only with --exec-mode accelerated" in capsys.readouterr().err


def test_microvm_needs_a_kernel(capsys):
    assert main(["run", "-M", "microvm"]) == 2
    assert "use --kernel bzImage" in capsys.readouterr().err


def test_bad_kernel_names_the_file(capsys, tmp_path):
    kernel = tmp_path / "vmlinux"
    kernel.write_bytes(b"\x7fELF" + bytes(0x400))
    assert main(["run", "-M", "microvm", "--kernel", str(kernel)]) == 2
    assert f"{kernel}: not a Linux bzImage" in capsys.readouterr().err


@pytest.mark.parametrize(("machine", "message"), [
    ("microvm,acpi=maybe", "-M 'microvm,acpi=maybe': acpi='maybe' is not one of on|off"),
    ("microvm,ioapic2=off", "-M 'microvm,ioapic2=off': the microvm board has no option 'ioapic2' "
                            "(it takes acpi=on|off)"),
    ("virt,acpi=off", "-M 'virt,acpi=off': the virt board has no option 'acpi' (it takes no options)"),
    ("pc", "-M 'pc': unknown board 'pc' (available: virt, spike, microvm)"),
])
def test_bad_machine_options_are_named(capsys, machine, message):
    assert main(["run", "-M", machine, "--kernel", "x"]) == 2
    assert capsys.readouterr().err == f"polyvm: error: {message}\n"


def run_cli(*args: str, machine: str = "microvm") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "polyvm", "run", "-M", machine, *args],
                          capture_output=True, text=True, timeout=50, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("machine", ["microvm", "microvm,acpi=on", "microvm,acpi=off"])
def test_run_with_drive_and_stats(kvm_available, tmp_path, machine):
    disk = tmp_path / "disk.img"
    disk.write_bytes(bytes(8192))
    result = run_cli("-m", "64M", "--kernel", str(build_bzimage("virtio_blk")), "--drive", f"file={disk}",
                     "--stats", machine=machine)
    assert result.returncode == 0, result.stderr
    assert "virtio-blk: wrote sector 2 status 0, interrupts 2" in result.stdout
    assert "polyvm: stop reason: reset" in result.stderr and "polyvm: kvm exits mmio: " in result.stderr
    assert disk.read_bytes()[1024:1024 + 7] == b"written"


def test_smp_from_the_command_line(kvm_available):
    result = run_cli("-smp", "2", "--kernel", str(build_bzimage("smp")), "--append", "cpus=2")
    assert result.returncode == 0 and "bsp: 2 cpus up" in result.stdout, result.stderr


def test_guest_power_off_ends_the_command(kvm_available):
    result = run_cli("--kernel", str(build_bzimage("poweroff")), "--stats")
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("s5 sleep type 5\n") and "polyvm: stop reason: poweroff" in result.stderr
