"""The KVM wrappers: long-mode state round trip, MSR access, and guest RAM shared with KVM (no copy)."""

import pytest

from polyvm.engine.kvm import longmode
from polyvm.engine.kvm.machine import STACK_TOP, KvmMachine

from .x86_guests import build_flat

pytestmark = pytest.mark.timeout(60)

MSR_IA32_SYSENTER_CS = 0x174
MSR_EFER = 0xC000_0080


def test_long_mode_state_reaches_the_vcpu(kvm_available, x86_config):
    with KvmMachine(x86_config, b"\xf4") as machine:
        sregs = machine.vcpu.get_sregs()
        assert (sregs.cs.selector, sregs.cs.l, sregs.cr3) == (longmode.KERNEL_CS, 1, longmode.PML4_ADDRESS)
        assert sregs.efer & longmode.EFER_LMA
        assert machine.vcpu.get_msrs([MSR_EFER])[MSR_EFER] == sregs.efer


def test_msr_round_trip(kvm_available, x86_config):
    with KvmMachine(x86_config, b"\xf4") as machine:
        machine.vcpu.set_msrs({MSR_IA32_SYSENTER_CS: 0x10})
        assert machine.vcpu.get_msrs([MSR_IA32_SYSENTER_CS]) == {MSR_IA32_SYSENTER_CS: 0x10}


def test_guest_writes_land_in_guest_ram(kvm_available, x86_config):
    with KvmMachine(x86_config, build_flat("user_lcg"), entry_arg=10) as machine:
        machine.run()
        # the iretq frame the ring-0 prologue pushed: SS, RSP, RFLAGS, CS (top of stack first)
        frame = [machine.ram.read_int(STACK_TOP - 8 * (i + 1), 8) for i in range(4)]
        assert frame == [longmode.USER_DS | 3, 0x70000, 0x3002, longmode.USER_CS | 3]
