"""Per-vCPU architectural state a board sets before the first KVM_RUN, as Firecracker does: the CPUID
KVM supports with this vCPU's APIC id patched in, boot MSRs, a reset FPU, and the local APIC's LINT0
(ExtINT, the 8259 PIC through virtual wire) and LINT1 (NMI) pins.
"""

from __future__ import annotations

import ctypes

from polyvm.engine.kvm import api

LEAF_FEATURES, LEAF_TOPOLOGY, LEAF_TOPOLOGY_V2 = 0x1, 0xB, 0x1F
EDX_HTT = 1 << 28
MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP = 0x174, 0x175, 0x176
MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK = 0xC000_0081, 0xC000_0082, 0xC000_0083, 0xC000_0084
MSR_KERNEL_GS_BASE, MSR_IA32_TSC, MSR_IA32_MISC_ENABLE = 0xC000_0102, 0x10, 0x1A0
MSR_MTRR_DEF_TYPE = 0x2FF
MISC_ENABLE_FAST_STRING = 0x1
MTRR_ENABLE, MTRR_TYPE_WRBACK = 0x800, 0x6
BOOT_MSRS = {
    MSR_IA32_SYSENTER_CS: 0, MSR_IA32_SYSENTER_ESP: 0, MSR_IA32_SYSENTER_EIP: 0,
    MSR_STAR: 0, MSR_CSTAR: 0, MSR_KERNEL_GS_BASE: 0, MSR_SYSCALL_MASK: 0, MSR_LSTAR: 0,
    MSR_IA32_TSC: 0, MSR_IA32_MISC_ENABLE: MISC_ENABLE_FAST_STRING,
    MSR_MTRR_DEF_TYPE: MTRR_ENABLE | MTRR_TYPE_WRBACK,
}
"""Firecracker's boot MSRs: syscall MSRs cleared, fast strings on, all memory write-back by MTRR."""
FPU_CONTROL_WORD, MXCSR_DEFAULT = 0x37F, 0x1F80
APIC_LVT_LINT0, APIC_LVT_LINT1 = 0x350, 0x360
DELIVERY_MODE_MASK, DELIVERY_EXTINT, DELIVERY_NMI = 0x700, 0x700, 0x400


def vcpu_cpuid(supported: ctypes.Structure, index: int, count: int) -> ctypes.Structure:
    """A copy of ``supported`` (KVM_GET_SUPPORTED_CPUID) for vCPU ``index`` of ``count``: initial APIC id
    in leaf 1 EBX[31:24], logical processor count in EBX[23:16], x2APIC id in leaves 0xB/0x1F EDX."""
    cpuid = type(supported)()
    ctypes.memmove(ctypes.addressof(cpuid), ctypes.addressof(supported), ctypes.sizeof(supported))
    for entry in cpuid.entries[:cpuid.nent]:
        if entry.function == LEAF_FEATURES:
            entry.ebx = (entry.ebx & 0x0000_FFFF) | (index << 24) | (max(count, 1) << 16)
            entry.edx = entry.edx | EDX_HTT if count > 1 else entry.edx & ~EDX_HTT
        elif entry.function in (LEAF_TOPOLOGY, LEAF_TOPOLOGY_V2):
            entry.edx = index
    return cpuid


def reset_fpu() -> api.KvmFpu:
    """The FPU state after FNINIT with SSE exceptions masked."""
    return api.KvmFpu(fcw=FPU_CONTROL_WORD, mxcsr=MXCSR_DEFAULT)


def wire_lint_pins(lapic: api.KvmLapicState) -> api.KvmLapicState:
    """LINT0 delivers ExtINT (the PIC), LINT1 delivers NMI: the virtual-wire mode of a PC."""
    regs = lapic.regs
    for offset, mode in ((APIC_LVT_LINT0, DELIVERY_EXTINT), (APIC_LVT_LINT1, DELIVERY_NMI)):
        value = int.from_bytes(bytes(regs[offset:offset + 4]), "little")
        value = (value & ~DELIVERY_MODE_MASK) | mode
        regs[offset:offset + 4] = list(value.to_bytes(4, "little"))
    return lapic
