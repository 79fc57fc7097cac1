"""The pieces of the Linux KVM API (linux/kvm.h, x86) polyvm uses: ioctl numbers and ctypes structures.

Ioctl numbers are computed with the kernel's ``_IO``/``_IOR``/``_IOW``/``_IOWR`` encoding from the size of
the argument structure, so a wrong field layout shows up as a wrong number (tests check them against the
values in the kernel headers).
"""

from __future__ import annotations

import ctypes

KVMIO = 0xAE
API_VERSION = 12

_IOC_NONE, _IOC_WRITE, _IOC_READ = 0, 1, 2


def _ioc(direction: int, nr: int, size: int) -> int:
    return (direction << 30) | (size << 16) | (KVMIO << 8) | nr


def _io(nr: int) -> int:
    return _ioc(_IOC_NONE, nr, 0)


def _ior(nr: int, struct: type[ctypes.Structure] | type[ctypes.c_uint64]) -> int:
    return _ioc(_IOC_READ, nr, ctypes.sizeof(struct))


def _iow(nr: int, struct: type[ctypes.Structure] | type[ctypes.c_uint64]) -> int:
    return _ioc(_IOC_WRITE, nr, ctypes.sizeof(struct))


def _iowr(nr: int, struct: type[ctypes.Structure]) -> int:
    return _ioc(_IOC_READ | _IOC_WRITE, nr, ctypes.sizeof(struct))


u8, u16, u32, u64 = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_uint64


class KvmRegs(ctypes.Structure):
    _fields_ = [(name, u64) for name in (
        "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
        "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags",
    )]


class KvmSegment(ctypes.Structure):
    _fields_ = [
        ("base", u64), ("limit", u32), ("selector", u16), ("type", u8), ("present", u8), ("dpl", u8),
        ("db", u8), ("s", u8), ("l", u8), ("g", u8), ("avl", u8), ("unusable", u8), ("padding", u8),
    ]


class KvmDtable(ctypes.Structure):
    _fields_ = [("base", u64), ("limit", u16), ("padding", u16 * 3)]


KVM_NR_INTERRUPTS = 256


class KvmSregs(ctypes.Structure):
    _fields_ = [(name, KvmSegment) for name in ("cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt")] + [
        ("gdt", KvmDtable), ("idt", KvmDtable),
        ("cr0", u64), ("cr2", u64), ("cr3", u64), ("cr4", u64), ("cr8", u64), ("efer", u64),
        ("apic_base", u64), ("interrupt_bitmap", u64 * ((KVM_NR_INTERRUPTS + 63) // 64)),
    ]


class KvmRunIo(ctypes.Structure):
    _fields_ = [("direction", u8), ("size", u8), ("port", u16), ("count", u32), ("data_offset", u64)]


class KvmRunMmio(ctypes.Structure):
    _fields_ = [("phys_addr", u64), ("data", u8 * 8), ("len", u32), ("is_write", u8)]


class KvmRunFailEntry(ctypes.Structure):
    _fields_ = [("hardware_entry_failure_reason", u64), ("cpu", u32)]


class KvmRunInternal(ctypes.Structure):
    _fields_ = [("suberror", u32), ("ndata", u32), ("data", u64 * 16)]


class KvmRunSystemEvent(ctypes.Structure):
    _fields_ = [("type", u32), ("ndata", u32), ("data", u64 * 16)]


class KvmRunExit(ctypes.Union):
    _fields_ = [
        ("io", KvmRunIo), ("mmio", KvmRunMmio), ("fail_entry", KvmRunFailEntry),
        ("internal", KvmRunInternal), ("system_event", KvmRunSystemEvent), ("padding", ctypes.c_char * 256),
    ]


class KvmRun(ctypes.Structure):
    """The head of the shared ``kvm_run`` page (the exit union starts at offset 32)."""

    _fields_ = [
        ("request_interrupt_window", u8), ("immediate_exit", u8), ("padding1", u8 * 6),
        ("exit_reason", u32), ("ready_for_interrupt_injection", u8), ("if_flag", u8), ("flags", u16),
        ("cr8", u64), ("apic_base", u64), ("exit", KvmRunExit),
    ]


class KvmUserspaceMemoryRegion(ctypes.Structure):
    _fields_ = [
        ("slot", u32), ("flags", u32), ("guest_phys_addr", u64), ("memory_size", u64),
        ("userspace_addr", u64),
    ]


class KvmCpuidEntry2(ctypes.Structure):
    _fields_ = [(name, u32) for name in ("function", "index", "flags", "eax", "ebx", "ecx", "edx")] + [
        ("padding", u32 * 3),
    ]


class KvmCpuid2(ctypes.Structure):
    """Header only; the entries follow it (see ``cpuid2_type``)."""

    _fields_ = [("nent", u32), ("padding", u32)]


def cpuid2_type(count: int) -> type[ctypes.Structure]:
    """A ``kvm_cpuid2`` with room for ``count`` entries."""
    return type("KvmCpuid2N", (ctypes.Structure,), {
        "_fields_": [("nent", u32), ("padding", u32), ("entries", KvmCpuidEntry2 * count)],
    })


class KvmMsrEntry(ctypes.Structure):
    _fields_ = [("index", u32), ("reserved", u32), ("data", u64)]


class KvmMsrs(ctypes.Structure):
    """Header only; the entries follow it (see ``msrs_type``)."""

    _fields_ = [("nmsrs", u32), ("pad", u32)]


def msrs_type(count: int) -> type[ctypes.Structure]:
    """A ``kvm_msrs`` with room for ``count`` entries."""
    return type("KvmMsrsN", (ctypes.Structure,), {
        "_fields_": [("nmsrs", u32), ("pad", u32), ("entries", KvmMsrEntry * count)],
    })


class KvmIrqLevel(ctypes.Structure):
    _fields_ = [("irq", u32), ("level", u32)]


class KvmPitConfig(ctypes.Structure):
    _fields_ = [("flags", u32), ("pad", u32 * 15)]


class KvmMpState(ctypes.Structure):
    _fields_ = [("mp_state", u32)]


class KvmFpu(ctypes.Structure):
    _fields_ = [
        ("fpr", u8 * 128), ("fcw", u16), ("fsw", u16), ("ftwx", u8), ("pad1", u8), ("last_opcode", u16),
        ("last_ip", u64), ("last_dp", u64), ("xmm", u8 * 256), ("mxcsr", u32), ("pad2", u32),
    ]


class KvmLapicState(ctypes.Structure):
    _fields_ = [("regs", u8 * 1024)]


KVM_GET_API_VERSION = _io(0x00)
KVM_CREATE_VM = _io(0x01)
KVM_CHECK_EXTENSION = _io(0x03)
KVM_GET_VCPU_MMAP_SIZE = _io(0x04)
KVM_GET_SUPPORTED_CPUID = _iowr(0x05, KvmCpuid2)
KVM_CREATE_VCPU = _io(0x41)
KVM_SET_USER_MEMORY_REGION = _iow(0x46, KvmUserspaceMemoryRegion)
KVM_SET_TSS_ADDR = _io(0x47)
KVM_SET_IDENTITY_MAP_ADDR = _iow(0x48, u64)
KVM_CREATE_IRQCHIP = _io(0x60)
KVM_IRQ_LINE = _iow(0x61, KvmIrqLevel)
KVM_CREATE_PIT2 = _iow(0x77, KvmPitConfig)
KVM_RUN = _io(0x80)
KVM_GET_REGS = _ior(0x81, KvmRegs)
KVM_SET_REGS = _iow(0x82, KvmRegs)
KVM_GET_SREGS = _ior(0x83, KvmSregs)
KVM_SET_SREGS = _iow(0x84, KvmSregs)
KVM_GET_MSRS = _iowr(0x88, KvmMsrs)
KVM_SET_MSRS = _iow(0x89, KvmMsrs)
KVM_SET_FPU = _iow(0x8D, KvmFpu)
KVM_GET_LAPIC = _ior(0x8E, KvmLapicState)
KVM_SET_LAPIC = _iow(0x8F, KvmLapicState)
KVM_SET_CPUID2 = _iow(0x90, KvmCpuid2)
KVM_GET_MP_STATE = _ior(0x98, KvmMpState)
KVM_SET_MP_STATE = _iow(0x99, KvmMpState)

CAP_IRQCHIP = 0
CAP_HLT = 1
CAP_USER_MEMORY = 3
CAP_SET_TSS_ADDR = 4
CAP_EXT_CPUID = 7
CAP_NR_VCPUS = 9
CAP_NR_MEMSLOTS = 10
CAP_MP_STATE = 14
CAP_PIT2 = 33
CAP_SET_IDENTITY_MAP_ADDR = 37
CAP_MAX_VCPUS = 66
CAP_IMMEDIATE_EXIT = 136

EXIT_REASONS = {
    0: "unknown", 1: "exception", 2: "io", 3: "hypercall", 4: "debug", 5: "hlt", 6: "mmio",
    7: "irq_window_open", 8: "shutdown", 9: "fail_entry", 10: "intr", 11: "set_tpr", 12: "tpr_access",
    17: "internal_error", 24: "system_event",
}
"""KVM_EXIT_* numbers to the names ``exit_stats()`` reports."""
EXIT_IO, EXIT_HLT, EXIT_MMIO, EXIT_SHUTDOWN = 2, 5, 6, 8
EXIT_FAIL_ENTRY, EXIT_INTR, EXIT_INTERNAL_ERROR, EXIT_SYSTEM_EVENT = 9, 10, 17, 24
IO_IN, IO_OUT = 0, 1
SYSTEM_EVENT_SHUTDOWN, SYSTEM_EVENT_RESET, SYSTEM_EVENT_CRASH = 1, 2, 3
SYSTEM_EVENTS = {SYSTEM_EVENT_SHUTDOWN: "shutdown", SYSTEM_EVENT_RESET: "reset", SYSTEM_EVENT_CRASH: "crash"}
MP_STATE_RUNNABLE, MP_STATE_UNINITIALIZED = 0, 1
"""KVM_MP_STATE_*: the BSP starts runnable, application processors wait for INIT/SIPI."""
