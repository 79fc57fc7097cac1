"""Clear VmErrors for hosts and configurations the accelerated mode cannot serve."""

import errno

import pytest

from polyvm.core.config import VmConfig
from polyvm.core.errors import ConfigError, ExecutionError, LoaderError, UnsupportedError
from polyvm.core.types import ExecMode, GuestArch
from polyvm.engine.kvm.machine import KvmMachine
from polyvm.engine.kvm.vm import KvmSystem

from .x86_guests import build_flat

pytestmark = pytest.mark.timeout(60)


def test_riscv_guest_in_accelerated_mode_is_refused():
    config = VmConfig(arch=GuestArch.RISCV64, exec_mode=ExecMode.ACCELERATED)
    with pytest.raises(UnsupportedError, match="only x86_64 guests.*not riscv64"):
        KvmMachine(config, b"\x90")


def test_missing_device_names_path_and_errno(x86_config, tmp_path):
    missing = tmp_path / "no-such-kvm"
    with pytest.raises(UnsupportedError) as info:
        KvmMachine(x86_config, b"\x90", device=str(missing))
    assert str(missing) in str(info.value)
    assert errno.errorcode[errno.ENOENT] in str(info.value)


def test_device_that_is_not_kvm(tmp_path):
    plain = tmp_path / "plain-file"
    plain.write_bytes(b"")
    with pytest.raises(UnsupportedError, match="is not a KVM device.*ENOTTY"):
        KvmSystem(str(plain))


def test_non_accelerated_config_is_refused(x86_config):
    with pytest.raises(ConfigError, match="ACCELERATED"):
        KvmMachine(x86_config.with_exec_mode(ExecMode.INTERPRETER), b"\x90")


def test_more_vcpus_than_the_board_runs(x86_config):
    with pytest.raises(UnsupportedError, match="one vCPU"):
        KvmMachine(x86_config.with_vcpu_count(2), b"\x90")


def test_unhandled_mmio_exit_names_address(kvm_available, x86_config):
    with (KvmMachine(x86_config, build_flat("mmio_touch")) as machine,
          pytest.raises(ExecutionError, match="'mmio' at 0xd0000000 \\(write of 4 bytes\\)")):
        machine.run()


def test_image_too_big_for_ram(x86_config):
    with pytest.raises(LoaderError, match="do not fit"):
        KvmMachine(x86_config.with_memory_size(1 << 20), b"\x90" * 16)
