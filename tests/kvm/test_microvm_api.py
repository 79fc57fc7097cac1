"""The seed API on x86-64: VirtualMachine and VmService build the KVM microvm board for GuestArch.X86_64
with ExecMode.ACCELERATED and run our own bzImage guests - the console, how the guest ended the run
(ACPI power-off or reset), virtio-blk writes reaching the host file, stop, pause and resume with the
guest's state intact, live KVM exit counts - and refuse the combinations nothing runs (or debugs)
with clear VmErrors."""

from __future__ import annotations

import asyncio
import fcntl
import subprocess
import time

import pytest

from polyvm import (
    ConfigError,
    DeviceError,
    ExecMode,
    ExecutionError,
    ExitReason,
    GuestArch,
    UnsupportedError,
    VirtualMachine,
    VmConfig,
    VmService,
    VmState,
)
from polyvm.cli import DEMO_IMAGE
from polyvm.machine.microvm import BOARD_ARGS, MicrovmBoard

from .x86_guests import build_bzimage, build_native

pytestmark = pytest.mark.timeout(60)
SECTOR = 512
PAUSES = 3
LCG_ITERATIONS = 2_000_000_000
"""About two seconds at native speed: the guest is still computing at the third pause."""
PATTERN = b"written by the polyvm virtio-blk guest"


def disk_image(path):
    original = bytes((i * 31) & 0xFF for i in range(64 * SECTOR))
    path.write_bytes(original)
    return original


def after_guest_write(original: bytes) -> bytes:
    """The image once guests/x86_64/bzimage/virtio_blk.c has written its sector 2."""
    written = PATTERN + bytes(i & 0xFF for i in range(len(PATTERN), SECTOR))
    return original[:2 * SECTOR] + written + original[3 * SECTOR:]


def unlocked(path) -> bool:
    """Nothing holds the image's lock any more: its drive was closed."""
    with open(path, "rb+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return True


@pytest.mark.parametrize("guest, event", [("bootinfo", "reset"), ("poweroff", "poweroff")])
def test_virtual_machine_runs_x86_guests(kvm_available, x86_config, guest, event):
    vm = VirtualMachine.new(x86_config, build_bzimage(guest), append="console=ttyS0 x=1")
    assert isinstance(vm.board, MicrovmBoard)
    vm.boot()
    result = vm.wait(timeout=30)
    assert (result.reason, result.exit_code, result.event) == (ExitReason.HALTED, 0, event)
    assert not vm.is_running() and vm.board.stop_reason == event
    if guest == "bootinfo":
        assert f"cmdline {BOARD_ARGS} console=ttyS0 x=1" in vm.board.console_output.decode().splitlines()
    with pytest.raises(ExecutionError, match=f"the guest has halted \\({event}, exit code 0\\)"):
        vm.boot()
    vm.stop()
    with pytest.raises(ExecutionError, match="stopped .* create a new one"):
        vm.boot()


def test_virtual_machine_virtio_block_write_reaches_the_host_file(kvm_available, x86_config, tmp_path):
    disk = tmp_path / "disk.img"
    original = disk_image(disk)
    vm = VirtualMachine(x86_config, build_bzimage("virtio_blk"), drives=[disk])
    vm.boot()
    assert vm.wait(30).reason is ExitReason.HALTED
    assert "virtio-blk: wrote sector 2 status 0" in vm.board.console_output.decode()
    vm.stop()
    assert disk.read_bytes() == after_guest_write(original) and unlocked(disk)


def test_virtual_machine_stop_interrupts_a_running_x86_guest(kvm_available, x86_config):
    # the BSP waits forever for a third CPU, the AP sleeps in hlt inside KVM_RUN
    vm = VirtualMachine(x86_config.with_vcpu_count(2), build_bzimage("smp"), append="cpus=3")
    vm.boot()
    time.sleep(0.3)
    assert vm.is_running() and vm.wait(0) is None
    vm.stop()
    assert not vm.is_running() and vm.wait().reason is ExitReason.STOPPED


def registers(service: VmService) -> tuple[int, ...]:
    regs = service.board.vcpus[0].get_regs()
    return tuple(getattr(regs, name) for name, _ in regs._fields_)


def test_vm_service_pause_and_resume_keep_the_guest_state(kvm_available, x86_config):
    native = build_native("lcg_native")
    expected = subprocess.run([native, str(LCG_ITERATIONS)], capture_output=True, text=True,
                              check=True).stdout.split()[0]

    async def scenario():
        vm = await VmService.new(x86_config, build_bzimage("user_lcg").read_bytes(),
                                 append=f"iterations={LCG_ITERATIONS}")
        assert vm.board_name == "microvm" and vm.state() is VmState.CREATED
        await vm.start()
        paused_at = []
        for _ in range(PAUSES):
            await asyncio.sleep(0.25)
            started = time.monotonic()
            await vm.pause()
            assert time.monotonic() - started < 0.5 and vm.state() is VmState.PAUSED
            frozen = registers(vm), vm.stats().kvm_exits
            await asyncio.sleep(0.2)
            assert (registers(vm), vm.stats().kvm_exits) == frozen  # nothing runs while paused
            paused_at.append(frozen[0])
            await vm.resume()
            assert vm.is_running()
        assert await vm.wait(30) is VmState.HALTED
        # the guest went on between the pauses, and its state survived every one: the checksum of
        # two billion LCG steps is the native program's
        assert len(set(paused_at)) == PAUSES
        assert vm.console_output == f"lcg {expected}\n".encode()
        assert (vm.exit_code, vm.power_event) == (0, "reset")
        stats = vm.stats()
        assert stats.instructions_executed == 0 and stats.uptime_ms > 500
        assert stats.kvm_exits["intr"] >= PAUSES and stats.kvm_exits["io"] > len(vm.console_output)
        with pytest.raises(ExecutionError, match="cannot resume: the virtual machine is halted"):
            await vm.resume()
        await vm.stop()
        assert vm.state() is VmState.STOPPED

    asyncio.run(scenario())


def test_vm_service_block_device_on_the_microvm_board(kvm_available, x86_config, tmp_path):
    disk = tmp_path / "disk.img"
    original = disk_image(disk)

    async def scenario():
        vm = await VmService.new(x86_config, build_bzimage("virtio_blk").read_bytes())
        vm.add_block_device("root", disk)
        assert [block.path for block in vm.board.block_devices] == [str(disk)]
        with pytest.raises(UnsupportedError, match="accelerated mode .* cannot be debugged"):
            vm.enable_gdb_debugging(0)
        await vm.start()
        with pytest.raises(DeviceError, match="microvm board has no device hot-plug"):
            vm.add_block_device("data", disk)
        assert await vm.wait(30) is VmState.HALTED
        assert "virtio-blk: wrote sector 2 status 0" in vm.console_output.decode()
        assert vm.stats().kvm_exits["mmio"] > 20
        await vm.stop()

    asyncio.run(scenario())
    assert disk.read_bytes() == after_guest_write(original) and unlocked(disk)


X86_ACCELERATED = VmConfig(arch=GuestArch.X86_64, exec_mode=ExecMode.ACCELERATED)


@pytest.mark.parametrize("config, board, options, error, message", [
    (X86_ACCELERATED.with_exec_mode(ExecMode.INTERPRETER), None, {}, UnsupportedError,
     "only in accelerated mode \\(KVM\\), not interpreter: x86-64 has no interpreter or JIT frontend"),
    (X86_ACCELERATED.with_exec_mode(ExecMode.HYBRID), None, {}, UnsupportedError, "not hybrid"),
    (VmConfig(arch=GuestArch.RISCV64, exec_mode=ExecMode.ACCELERATED), None, {}, UnsupportedError,
     "accelerated \\(KVM\\) mode runs x86-64 guests on an x86-64 host; run RISC-V guests with"),
    (VmConfig(arch=GuestArch.ARM64), None, {}, UnsupportedError, "no board runs arm64 guests yet"),
    (X86_ACCELERATED, "spike", {}, ConfigError, "runs RISC-V 64 guests, not X86_64"),
    (VmConfig(arch=GuestArch.RISCV64), "microvm", {}, ConfigError, "runs x86_64 guests, not riscv64"),
    (X86_ACCELERATED, None, {"bios": "fw.bin"}, ConfigError, "microvm board has no firmware"),
])
def test_unsupported_combinations_are_clear_errors(config, board, options, error, message):
    with pytest.raises(error, match=message):
        VirtualMachine(config, DEMO_IMAGE, board, **options)
    with pytest.raises(error, match=message):
        asyncio.run(VmService.new(config, DEMO_IMAGE.read_bytes(), board=board, **options))
