"""KVM tests need an openable /dev/kvm; without one they are skipped with the reason KvmSystem gives."""

import pytest

from polyvm.core.config import VmConfig
from polyvm.core.errors import UnsupportedError
from polyvm.core.types import ExecMode, GuestArch
from polyvm.engine.kvm.vm import KvmSystem


@pytest.fixture(scope="session")
def kvm_available() -> None:
    try:
        KvmSystem().close()
    except UnsupportedError as exc:
        pytest.skip(f"KVM not usable here: {exc}")


@pytest.fixture
def x86_config() -> VmConfig:
    return VmConfig(arch=GuestArch.X86_64, exec_mode=ExecMode.ACCELERATED, memory_size=64 << 20)
