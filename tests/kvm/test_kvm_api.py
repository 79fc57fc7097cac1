"""The ioctl numbers and structure layouts of polyvm.engine.kvm.api match linux/kvm.h on x86-64."""

import ctypes

import pytest

from polyvm.engine.kvm import api

pytestmark = pytest.mark.timeout(60)

HEADER_IOCTLS = {
    "KVM_GET_API_VERSION": 0xAE00, "KVM_CREATE_VM": 0xAE01, "KVM_CHECK_EXTENSION": 0xAE03,
    "KVM_GET_VCPU_MMAP_SIZE": 0xAE04, "KVM_GET_SUPPORTED_CPUID": 0xC008AE05, "KVM_CREATE_VCPU": 0xAE41,
    "KVM_SET_USER_MEMORY_REGION": 0x4020AE46, "KVM_SET_TSS_ADDR": 0xAE47,
    "KVM_SET_IDENTITY_MAP_ADDR": 0x4008AE48, "KVM_CREATE_IRQCHIP": 0xAE60, "KVM_IRQ_LINE": 0x4008AE61,
    "KVM_CREATE_PIT2": 0x4040AE77, "KVM_RUN": 0xAE80, "KVM_GET_REGS": 0x8090AE81,
    "KVM_SET_REGS": 0x4090AE82, "KVM_GET_SREGS": 0x8138AE83, "KVM_SET_SREGS": 0x4138AE84,
    "KVM_GET_MSRS": 0xC008AE88, "KVM_SET_MSRS": 0x4008AE89, "KVM_SET_CPUID2": 0x4008AE90,
}
"""Values printed by a C program including <linux/kvm.h> (Debian 12, x86-64)."""


@pytest.mark.parametrize("name, value", sorted(HEADER_IOCTLS.items()))
def test_ioctl_number_matches_header(name, value):
    assert getattr(api, name) == value


def test_structure_layouts():
    assert ctypes.sizeof(api.KvmSegment) == 24
    assert ctypes.sizeof(api.KvmCpuidEntry2) == 40
    assert api.KvmRun.exit.offset == 32
    assert api.KvmRun.exit.offset + api.KvmRunMmio.is_write.offset == 0x34
    assert ctypes.sizeof(api.cpuid2_type(3)) == 8 + 3 * 40
    assert ctypes.sizeof(api.msrs_type(2)) == 8 + 2 * 16
