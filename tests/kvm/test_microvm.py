"""The x86-64 microvm board on KVM with the project's own bzImage guests: the boot protocol and the
ACPI tables as the guest sees them (it walks RSDP -> XSDT -> FACP -> DSDT to the virtio windows, and
to the sleep registers and \\_S5 to power off) or, with acpi=off, the virtio windows on the command
line; virtio-blk through MMIO exits with I/O APIC interrupts in both modes, INIT/SIPI start-up of
application processors, ring-3 speed against native, and every way a run ends."""

import subprocess
import threading
from pathlib import Path

import pytest

from polyvm.core.config import VmConfig
from polyvm.core.errors import ConfigError, ExecutionError, UnsupportedError
from polyvm.core.protocols import ExitReason
from polyvm.core.types import ExecMode, GuestArch
from polyvm.device.acpi_sleep import SLP_TYP_S5
from polyvm.device.bus import MmioMap
from polyvm.engine.kvm import api
from polyvm.engine.kvm.vm import KvmSystem
from polyvm.machine.microvm import BOARD_ARGS, SLEEP_REGISTERS, MicrovmBoard
from polyvm.machine.microvm_acpi import ACPI_ADDRESS, VirtioWindow
from polyvm.machine.mptable import MPTABLE_ADDRESS
from polyvm.machine.virt import Drive
from polyvm.machine.x86_linux import ACPI_RSDP_ADDR, BOOT_PARAMS_ADDRESS
from polyvm.net.cli_spec import parse_nics

from .microvm_helpers import run_guest
from .x86_guests import build_bzimage, build_native

pytestmark = pytest.mark.timeout(60)
FNV_OFFSET, FNV_PRIME = 0xCBF29CE484222325, 0x100000001B3
SECTOR = 512
SPEED_ITERATIONS = 300_000_000
SPEED_ROUNDS = 5


def fnv1a(data: bytes) -> int:
    value = FNV_OFFSET
    for byte in data:
        value = ((value ^ byte) * FNV_PRIME) & (2**64 - 1)
    return value


@pytest.mark.parametrize("acpi", [True, False], ids=["acpi=on", "acpi=off"])
def test_guest_sees_the_boot_protocol(kvm_available, x86_config, tmp_path, acpi):
    initrd = tmp_path / "initrd.img"
    initrd.write_bytes(bytes((i * 7 + 3) & 0xFF for i in range(10_000)))
    disks = [tmp_path / f"disk{i}.img" for i in range(2)]
    for disk in disks:
        disk.write_bytes(bytes(4096))
    board, result, output, _ = run_guest(x86_config, "bootinfo", initrd=initrd, append="console=ttyS0 x=1",
                                         drives=[Drive(str(disk)) for disk in disks], acpi=acpi)
    rsdp = board.acpi.rsdp if acpi else 0
    start, end = board.boot.initrd
    expected = ["type_of_loader 0x00000000000000ff", f"e820 entries {len(board.e820())}"]
    expected += [f"e820 0x{e.address:016x} 0x{e.size:016x} {e.kind}" for e in board.e820()]
    expected += [f"cmdline {board.boot.cmdline}",
                 f"initrd 0x{start:016x} {end - start} 0x{fnv1a(initrd.read_bytes()):016x}",
                 f"acpi_rsdp 0x{rsdp:016x}",
                 "virtio-mmio 0x00000000d0000000 0x0000000000001000 irq 5",
                 "virtio-mmio 0x00000000d0001000 0x0000000000001000 irq 6"]
    assert output.splitlines() == expected
    assert board.boot.cmdline.startswith(f"{BOARD_ARGS} console=ttyS0 x=1")
    assert (0xE0000 <= rsdp < 0x100000 and rsdp % 16 == 0) if acpi else rsdp == 0
    assert (result.reason, result.exit_code, result.event, board.stop_reason) == \
        (ExitReason.HALTED, 0, "reset", "reset")
    assert board.exit_stats()["io"] > len(output)


def test_acpi_power_off_ends_the_run(kvm_available, x86_config):
    board, result, output, _ = run_guest(x86_config, "poweroff")
    # the guest found the registers in the FACP and the sleep type in the DSDT, cleared the wake status
    # and wrote SLP_TYP | SLP_EN: the run ended there, before the guest could print another line
    assert output.splitlines() == [f"sleep control memory 0x{SLEEP_REGISTERS:016x}",
                                   f"sleep status memory 0x{SLEEP_REGISTERS + 1:016x}",
                                   f"s5 sleep type {SLP_TYP_S5}"]
    assert (result.reason, result.exit_code, result.event, board.stop_reason) == \
        (ExitReason.HALTED, 0, "poweroff", "poweroff")
    assert board.exit_stats()["mmio"] == 2


@pytest.mark.parametrize("acpi", [True, False], ids=["acpi=on", "acpi=off"])
@pytest.mark.parametrize("readonly", [False, True])
def test_virtio_block_read_and_write(kvm_available, x86_config, tmp_path, readonly, acpi):
    disk = tmp_path / "disk.img"
    original = bytes((i * 31) & 0xFF for i in range(64 * SECTOR))
    sector1 = b"sector one says hello, polyvm!"
    original = original[:SECTOR] + sector1 + original[SECTOR + len(sector1):]
    disk.write_bytes(original)
    board, result, output, _ = run_guest(x86_config, "virtio_blk", drives=[Drive(str(disk), readonly)],
                                         acpi=acpi)
    assert output.splitlines()[:3] == [
        "virtio-blk: window 0x00000000d0000000 irq 5", "virtio-blk: capacity 64 sectors",
        f"virtio-blk: read sector 1 status 0: {sector1[:32].decode()}",
    ]
    assert result.reason is ExitReason.HALTED and board.exit_stats()["mmio"] > 20
    if readonly:
        assert output.splitlines()[3] == "virtio-blk: wrote sector 2 status 1, interrupts 2"
        assert disk.read_bytes() == original
        return
    assert output.splitlines()[3] == "virtio-blk: wrote sector 2 status 0, interrupts 2"
    pattern = b"written by the polyvm virtio-blk guest"
    written = pattern + bytes(i & 0xFF for i in range(len(pattern), SECTOR))
    assert disk.read_bytes() == original[:2 * SECTOR] + written + original[3 * SECTOR:]


@pytest.mark.parametrize("cpus", [1, 2, 4])
def test_application_processors_start_with_init_sipi(kvm_available, x86_config, cpus):
    board, result, output, _ = run_guest(x86_config.with_vcpu_count(cpus), "smp", append=f"cpus={cpus}")
    lines = output.splitlines()
    assert lines[0] == f"bsp: apic id 0, starting {cpus - 1} application processor(s)"
    aps = [line.removeprefix("ap ").removesuffix(", in long mode").split(": apic id ")
           for line in lines[1:-1]]
    assert sorted(int(index) for index, _ in aps) == list(range(cpus - 1))
    assert sorted(int(apic_id) for _, apic_id in aps) == list(range(1, cpus))
    assert lines[-1] == f"bsp: {cpus} cpus up"
    assert result.reason is ExitReason.HALTED


def test_triple_fault_ends_the_run(kvm_available, x86_config):
    board, result, output, _ = run_guest(x86_config, "triple_fault")
    assert output == "triple fault next\n"
    assert (result.reason, board.stop_reason) == (ExitReason.RESET, "triple fault (KVM_EXIT_SHUTDOWN)")
    assert board.exit_stats()["shutdown"] == 1


def test_timeout_stops_halted_and_spinning_vcpus(kvm_available, x86_config):
    # the BSP waits forever for a third CPU; the AP sleeps in hlt inside KVM_RUN
    board, result, output, elapsed = run_guest(x86_config.with_vcpu_count(2), "smp", timeout=0.5,
                                               append="cpus=3")
    assert output.endswith("in long mode\n")
    assert (result.reason, board.stop_reason) == (ExitReason.STOPPED, "timeout")
    assert elapsed < 5


def test_stop_from_another_thread(kvm_available, x86_config):
    with MicrovmBoard(x86_config, kernel=build_bzimage("smp"), append="cpus=2") as board:
        threading.Timer(0.3, board.stop).start()
        result = board.run(timeout=30)
    assert (result.reason, board.stop_reason) == (ExitReason.STOPPED, "stopped")


def board_with_disk_and_nic(config: VmConfig, folder: Path, **kwargs: object) -> MicrovmBoard:
    """The bootinfo guest's board with a virtio-blk disk in slot 0 and a virtio-net card in slot 1."""
    disk = folder / "disk.img"
    disk.write_bytes(bytes(4096))
    nics = parse_nics(["socket,id=n0,local=127.0.0.1:0,remote=127.0.0.1:9"], ["virtio-net-device,netdev=n0"])
    return MicrovmBoard(config, kernel=build_bzimage("bootinfo"), drives=[Drive(str(disk))], nics=nics,
                        **kwargs)


def test_virtio_windows_in_acpi_not_on_the_command_line(kvm_available, x86_config, tmp_path):
    with board_with_disk_and_nic(x86_config, tmp_path) as board:
        assert board.boot.cmdline == BOARD_ARGS
        assert board.virtio_windows == [VirtioWindow(0xD0000000, 0x1000, 5),
                                        VirtioWindow(0xD0001000, 0x1000, 6)]
        assert board.ram.read(board.acpi.address, len(board.acpi.data)) == board.acpi.data
        assert [board.mmio.read(0xD0000000 + i * 0x1000 + 8, 4) for i in range(2)] == [2, 1]


def test_without_acpi_the_windows_are_on_the_command_line(kvm_available, x86_config, tmp_path):
    with board_with_disk_and_nic(x86_config, tmp_path, append="console=ttyS0", acpi=False) as board:
        assert board.boot.cmdline == (f"{BOARD_ARGS} console=ttyS0 virtio_mmio.device=4096@0xd0000000:5 "
                                      "virtio_mmio.device=4096@0xd0001000:6")
        assert board.acpi is None
        assert board.ram.read_int(BOOT_PARAMS_ADDRESS + ACPI_RSDP_ADDR, 8) == 0
        assert board.ram.read(ACPI_ADDRESS, 0x100) == bytes(0x100)
        assert all(entry.address != ACPI_ADDRESS for entry in board.e820())
        assert board.ram.read(MPTABLE_ADDRESS, 4) == b"_MP_"
        assert board.mmio.find(SLEEP_REGISTERS) is None


def test_user_mode_speed_against_native(kvm_available, x86_config):
    native = build_native("lcg_native")
    native_time = guest_time = float("inf")
    _, _, baseline_output, baseline = run_guest(x86_config, "user_lcg", append="iterations=0")
    assert baseline_output == "lcg 0\n"
    for _ in range(SPEED_ROUNDS):  # alternating, best of each: the host's speed drifts
        run = subprocess.run([native, str(SPEED_ITERATIONS)], capture_output=True, text=True, check=True)
        native_sum, nanoseconds = map(int, run.stdout.split())
        native_time = min(native_time, nanoseconds / 1e9)
        _, _, output, elapsed = run_guest(x86_config, "user_lcg", append=f"iterations={SPEED_ITERATIONS}")
        assert output == f"lcg {native_sum}\n"
        guest_time = min(guest_time, elapsed - baseline)
    ratio = native_time / guest_time
    print(f"\nmicrovm CPL3 LCG loop, {SPEED_ITERATIONS:,} iterations: native {native_time:.3f} s, "
          f"guest {guest_time:.3f} s (boot and reset {baseline * 1000:.1f} ms excluded): "
          f"{ratio:.0%} of native")
    assert ratio >= 0.9


def test_board_refuses_other_arches_and_modes(x86_config):
    with pytest.raises(ConfigError, match="runs x86_64 guests, not riscv64"):
        MicrovmBoard(x86_config.__class__(arch=GuestArch.RISCV64, exec_mode=ExecMode.ACCELERATED),
                     kernel="unused")
    with pytest.raises(UnsupportedError, match="only in accelerated mode.*not interpreter"):
        MicrovmBoard(x86_config.with_exec_mode(ExecMode.INTERPRETER), kernel="unused")
    with pytest.raises(ConfigError, match="limited to 3072 MiB"):
        MicrovmBoard(x86_config.with_memory_size(4 << 30), kernel="unused")


def test_missing_kvm_device_names_the_path(x86_config, tmp_path):
    missing = tmp_path / "kvm"
    with pytest.raises(UnsupportedError, match=f"cannot open {missing}: ENOENT"):
        MicrovmBoard(x86_config, kernel=build_bzimage("bootinfo"), device=str(missing))


def test_instruction_limit_is_refused(kvm_available, x86_config):
    with (MicrovmBoard(x86_config, kernel=build_bzimage("bootinfo")) as board,
          pytest.raises(UnsupportedError, match="--timeout")):
        board.run(max_instructions=1000)


def test_missing_capability_is_named(kvm_available, x86_config, monkeypatch):
    real = KvmSystem.check_extension
    monkeypatch.setattr(KvmSystem, "check_extension",
                        lambda self, cap: 0 if cap == api.CAP_IRQCHIP else real(self, cap))
    with pytest.raises(UnsupportedError, match="/dev/kvm: the microvm board needs KVM_CAP_IRQCHIP"):
        MicrovmBoard(x86_config, kernel=build_bzimage("bootinfo"))


def test_foreign_host_is_refused(x86_config, monkeypatch):
    monkeypatch.setattr("platform.machine", lambda: "aarch64")
    with pytest.raises(UnsupportedError, match="needs an x86_64 host, this one is aarch64"):
        MicrovmBoard(x86_config, kernel=build_bzimage("bootinfo"))


class BrokenDevice:
    def read(self, offset: int, size: int) -> int:
        raise RuntimeError("model bug")

    def write(self, offset: int, val: int, size: int) -> None:
        raise RuntimeError("model bug")

    def interrupt(self) -> None:
        return None


def test_failing_device_model_ends_the_run(kvm_available, x86_config, tmp_path):
    disk = tmp_path / "disk.img"
    disk.write_bytes(bytes(4096))
    with MicrovmBoard(x86_config, kernel=build_bzimage("virtio_blk"), drives=[Drive(str(disk))]) as board:
        board.mmio = MmioMap()
        board.mmio.register(0xD0000000, 0x1000, BrokenDevice(), "broken")
        with pytest.raises(ExecutionError, match="vcpu 0: a device model failed .*RuntimeError: model bug"):
            board.run(timeout=20)
