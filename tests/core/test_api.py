"""The seed core API: enums, VmConfig builders and validation, errors, MmioMap, VirtualMachine."""

import time

import pytest

import polyvm
from polyvm import (
    ConfigError,
    ExecMode,
    ExitReason,
    GuestArch,
    InvalidAddress,
    MemoryAccessError,
    MmioMap,
    VirtualMachine,
    VmConfig,
    VmError,
)
from polyvm.cli import DEMO_IMAGE
from tests.core.elf import write_riscv_elf
from tests.modes import each_emulated_mode


def test_arch_properties():
    assert GuestArch.RISCV64.bits() == 64
    assert GuestArch.RISCV64.register_count() == 32
    assert GuestArch.X86_64.register_count() == 16
    assert {m.value for m in ExecMode} == {"interpreter", "jit", "hybrid", "accelerated"}


def test_config_builders_return_new_validated_configs():
    base = VmConfig.new(GuestArch.RISCV64)
    config = base.with_exec_mode(ExecMode.INTERPRETER).with_memory_size(1 << 30).with_vcpu_count(4)
    assert (config.exec_mode, config.memory_size, config.num_vcpu) == (ExecMode.INTERPRETER, 1 << 30, 4)
    assert base.exec_mode is ExecMode.HYBRID and base.num_vcpu == 1, "HYBRID is the default mode"
    with pytest.raises(ConfigError, match="memory size"):
        base.with_memory_size(0)
    with pytest.raises(ConfigError, match="vcpu"):
        base.with_vcpu_count(0)


def test_errors_carry_their_fields():
    err = MemoryAccessError(0x1234, "page fault")
    assert isinstance(err, VmError) and err.addr == 0x1234 and err.reason == "page fault"
    assert "0x1234" in str(err)
    assert InvalidAddress(0xDEAD).addr == 0xDEAD
    assert polyvm.InvalidInstruction(0xFFFF, 0x80).encoding == 0xFFFF


class Register:
    def __init__(self):
        self.value = 0

    def read(self, offset, size):
        return self.value >> (8 * offset)

    def write(self, offset, val, size):
        self.value = val

    def interrupt(self):
        return None


def test_mmio_map_routes_and_rejects_overlaps():
    bus = MmioMap()
    dev = Register()
    bus.register(0x1000, 0x100, dev, "reg")
    assert bus.write(0x1000, 0xAB, 4)
    assert bus.read(0x1000, 4) == 0xAB
    assert bus.read(0x2000, 4) is None and not bus.write(0x2000, 1, 4)
    with pytest.raises(ConfigError, match="overlaps reg 0x1000-0x1100"):
        bus.register(0x10F0, 0x100, Register())
    bus.unregister(0x1000)
    assert bus.read(0x1000, 4) is None
    with pytest.raises(InvalidAddress):
        bus.unregister(0x1000)


@each_emulated_mode
def test_virtual_machine_boots_in_a_thread_and_halts(mode):
    vm = VirtualMachine.new(VmConfig().with_exec_mode(mode), DEMO_IMAGE)
    vm.boot()
    result = vm.wait(timeout=60)
    assert not vm.is_running()
    assert result.reason is ExitReason.HALTED and result.exit_code == 0
    assert b"primes below 20000: 2262" in vm.board.console_output


@each_emulated_mode
def test_virtual_machine_stop_interrupts_a_running_guest(tmp_path, mode):
    # An endless loop with tohost defined: j . (the loop runs until stop()).
    elf = write_riscv_elf(tmp_path / "spin.elf", code=bytes.fromhex("6f000000"))
    vm = VirtualMachine(VmConfig().with_exec_mode(mode), elf)
    vm.boot()
    time.sleep(0.2)
    assert vm.is_running()
    vm.stop()
    assert not vm.is_running()
    assert vm.wait().reason is ExitReason.STOPPED
