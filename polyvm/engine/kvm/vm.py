"""Thin wrappers over the three KVM file descriptors: the system (/dev/kvm), one VM, and its vCPUs.

Every failure the user can act on (no /dev/kvm, no permission, wrong host or guest architecture, missing
capability) is a ``VmError`` subclass that names the device path and the errno.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import mmap
import os
import platform

from polyvm.core.errors import ExecutionError, UnsupportedError
from polyvm.core.types import GuestArch
from polyvm.engine.kvm import api
from polyvm.mem.ram import GuestRam

DEFAULT_DEVICE = "/dev/kvm"
TSS_ADDRESS = 0xFFFB_D000
"""Three pages below 4 GiB that Intel VMX needs for real-mode emulation (QEMU's choice)."""
IDENTITY_MAP_ADDRESS = 0xFFFB_C000
HOST_ARCHES = ("x86_64", "amd64")
OPEN_HINTS = {
    errno.ENOENT: "; KVM is not available (no kvm module, or the device is not passed to this container)",
    errno.EACCES: "; add the user to the 'kvm' group",
    errno.EPERM: "; add the user to the 'kvm' group",
}
REQUIRED_CAPS = {
    api.CAP_USER_MEMORY: "KVM_CAP_USER_MEMORY",
    api.CAP_SET_TSS_ADDR: "KVM_CAP_SET_TSS_ADDR",
    api.CAP_EXT_CPUID: "KVM_CAP_EXT_CPUID",
}


_libc = ctypes.CDLL(None, use_errno=True)
_libc.ioctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong)


def _errno_name(code: int | None) -> str:
    return errno.errorcode.get(code or 0, str(code))


def _ioctl(fd: int, request: int, arg: int | ctypes.Structure = 0, what: str = "") -> int:
    try:
        return fcntl.ioctl(fd, request, arg)
    except OSError as exc:
        raise ExecutionError(
            f"KVM ioctl {what or hex(request)} failed: {_errno_name(exc.errno)} ({exc.strerror})") from exc


def _ioctl_ulong(fd: int, request: int, arg: int, what: str) -> None:
    """An ioctl whose argument is an unsigned long value (fcntl.ioctl only passes a C int)."""
    if _libc.ioctl(fd, request, arg) < 0:
        code = ctypes.get_errno()
        raise ExecutionError(f"KVM ioctl {what} failed: {_errno_name(code)} ({os.strerror(code)})")


class KvmSystem:
    """An open /dev/kvm (or ``device``) with API version 12 on an x86-64 host."""

    def __init__(self, device: str = DEFAULT_DEVICE, arch: GuestArch = GuestArch.X86_64) -> None:
        if arch is not GuestArch.X86_64:
            raise UnsupportedError(
                f"accelerated mode runs only x86_64 guests through KVM, not {arch.value}; "
                "use the interpreter, jit or hybrid mode")
        host = platform.machine().lower()
        if host not in HOST_ARCHES:
            raise UnsupportedError(f"accelerated mode needs an x86_64 host, this one is {host}")
        self.device = device
        try:
            self.fd = os.open(device, os.O_RDWR | os.O_CLOEXEC)
        except OSError as exc:
            hint = OPEN_HINTS.get(exc.errno or 0, "")
            raise UnsupportedError(
                f"cannot open {device}: {_errno_name(exc.errno)} ({exc.strerror}){hint}") from exc
        try:
            version = fcntl.ioctl(self.fd, api.KVM_GET_API_VERSION, 0)
        except OSError as exc:
            self.close()
            raise UnsupportedError(
                f"{device} is not a KVM device: KVM_GET_API_VERSION gave {_errno_name(exc.errno)}") from exc
        if version != api.API_VERSION:
            self.close()
            raise UnsupportedError(f"{device}: KVM API version {version}, polyvm needs {api.API_VERSION}")
        for cap, name in REQUIRED_CAPS.items():
            if not self.check_extension(cap):
                self.close()
                raise UnsupportedError(f"{device}: required capability {name} is missing")
        self.vcpu_mmap_size = _ioctl(self.fd, api.KVM_GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE")

    def check_extension(self, cap: int) -> int:
        return fcntl.ioctl(self.fd, api.KVM_CHECK_EXTENSION, cap)

    def supported_cpuid(self) -> ctypes.Structure:
        """KVM_GET_SUPPORTED_CPUID, growing the buffer while the kernel answers E2BIG."""
        count = 64
        while True:
            cpuid = api.cpuid2_type(count)()
            cpuid.nent = count
            try:
                fcntl.ioctl(self.fd, api.KVM_GET_SUPPORTED_CPUID, cpuid)
                return cpuid
            except OSError as exc:
                if exc.errno != errno.E2BIG or count >= 4096:
                    raise ExecutionError(f"KVM_GET_SUPPORTED_CPUID failed: {_errno_name(exc.errno)}") from exc
                count *= 2

    def create_vm(self, irqchip: bool = True) -> KvmVm:
        return KvmVm(self, irqchip)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class KvmVm:
    """One KVM virtual machine: memory slots, in-kernel irqchip and PIT when the host offers them."""

    def __init__(self, system: KvmSystem, irqchip: bool = True) -> None:
        self.system = system
        self.fd = _ioctl(system.fd, api.KVM_CREATE_VM, 0, "KVM_CREATE_VM")
        _ioctl_ulong(self.fd, api.KVM_SET_TSS_ADDR, TSS_ADDRESS, "KVM_SET_TSS_ADDR")
        if system.check_extension(api.CAP_SET_IDENTITY_MAP_ADDR):
            _ioctl(self.fd, api.KVM_SET_IDENTITY_MAP_ADDR, ctypes.c_uint64(IDENTITY_MAP_ADDRESS),
                   "KVM_SET_IDENTITY_MAP_ADDR")
        self.irqchip = irqchip and bool(system.check_extension(api.CAP_IRQCHIP))
        if self.irqchip:
            _ioctl(self.fd, api.KVM_CREATE_IRQCHIP, 0, "KVM_CREATE_IRQCHIP")
        self.pit = self.irqchip and bool(system.check_extension(api.CAP_PIT2))
        if self.pit:
            _ioctl(self.fd, api.KVM_CREATE_PIT2, api.KvmPitConfig(), "KVM_CREATE_PIT2")
        self._slots: list[GuestRam] = []
        self.vcpus: list[KvmVcpu] = []

    def map_ram(self, ram: GuestRam) -> int:
        """Give the guest ``ram``'s own mmap at its base address (no copy); returns the slot number."""
        slot = len(self._slots)
        region = api.KvmUserspaceMemoryRegion(slot=slot, flags=0, guest_phys_addr=ram.base,
                                              memory_size=ram.size, userspace_addr=ram.host_address)
        _ioctl(self.fd, api.KVM_SET_USER_MEMORY_REGION, region, "KVM_SET_USER_MEMORY_REGION")
        self._slots.append(ram)
        return slot

    def set_irq(self, line: int, level: bool) -> None:
        """Drive an input of the in-kernel PIC/IOAPIC (the ``IrqSink`` shape devices drive)."""
        _ioctl(self.fd, api.KVM_IRQ_LINE, api.KvmIrqLevel(irq=line, level=int(level)), "KVM_IRQ_LINE")

    def create_vcpu(self, cpuid: ctypes.Structure | None = None) -> KvmVcpu:
        """A new vCPU with ``cpuid`` (default: everything KVM supports, as KVM_GET_SUPPORTED_CPUID says)."""
        vcpu = KvmVcpu(self, len(self.vcpus), cpuid)
        self.vcpus.append(vcpu)
        return vcpu

    def close(self) -> None:
        for vcpu in self.vcpus:
            vcpu.close()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class KvmVcpu:
    """One virtual CPU with its shared ``kvm_run`` page; ``run()`` returns the KVM exit reason."""

    def __init__(self, vm: KvmVm, index: int, cpuid: ctypes.Structure | None = None) -> None:
        self.vm = vm
        self.index = index
        self.fd = _ioctl(vm.fd, api.KVM_CREATE_VCPU, index, "KVM_CREATE_VCPU")
        self._run_map = mmap.mmap(self.fd, vm.system.vcpu_mmap_size, mmap.MAP_SHARED,
                                  mmap.PROT_READ | mmap.PROT_WRITE)
        self.run_page = memoryview(self._run_map)
        self.kvm_run = api.KvmRun.from_buffer(self._run_map)
        self.set_cpuid(vm.system.supported_cpuid() if cpuid is None else cpuid)

    def set_cpuid(self, cpuid: ctypes.Structure) -> None:
        _ioctl(self.fd, api.KVM_SET_CPUID2, cpuid, "KVM_SET_CPUID2")

    def get_regs(self) -> api.KvmRegs:
        regs = api.KvmRegs()
        _ioctl(self.fd, api.KVM_GET_REGS, regs, "KVM_GET_REGS")
        return regs

    def set_regs(self, regs: api.KvmRegs) -> None:
        _ioctl(self.fd, api.KVM_SET_REGS, regs, "KVM_SET_REGS")

    def get_sregs(self) -> api.KvmSregs:
        sregs = api.KvmSregs()
        _ioctl(self.fd, api.KVM_GET_SREGS, sregs, "KVM_GET_SREGS")
        return sregs

    def set_sregs(self, sregs: api.KvmSregs) -> None:
        _ioctl(self.fd, api.KVM_SET_SREGS, sregs, "KVM_SET_SREGS")

    def set_fpu(self, fpu: api.KvmFpu) -> None:
        _ioctl(self.fd, api.KVM_SET_FPU, fpu, "KVM_SET_FPU")

    def get_lapic(self) -> api.KvmLapicState:
        lapic = api.KvmLapicState()
        _ioctl(self.fd, api.KVM_GET_LAPIC, lapic, "KVM_GET_LAPIC")
        return lapic

    def set_lapic(self, lapic: api.KvmLapicState) -> None:
        _ioctl(self.fd, api.KVM_SET_LAPIC, lapic, "KVM_SET_LAPIC")

    def get_mp_state(self) -> int:
        state = api.KvmMpState()
        _ioctl(self.fd, api.KVM_GET_MP_STATE, state, "KVM_GET_MP_STATE")
        return state.mp_state

    def set_mp_state(self, mp_state: int) -> None:
        _ioctl(self.fd, api.KVM_SET_MP_STATE, api.KvmMpState(mp_state), "KVM_SET_MP_STATE")

    def get_msrs(self, indices: list[int]) -> dict[int, int]:
        msrs = api.msrs_type(len(indices))()
        msrs.nmsrs = len(indices)
        for entry, index in zip(msrs.entries, indices, strict=True):
            entry.index = index
        done = _ioctl(self.fd, api.KVM_GET_MSRS, msrs, "KVM_GET_MSRS")
        if done != len(indices):
            raise ExecutionError(f"KVM_GET_MSRS: MSR 0x{indices[done]:x} is not readable")
        return {entry.index: entry.data for entry in msrs.entries}

    def set_msrs(self, values: dict[int, int]) -> None:
        msrs = api.msrs_type(len(values))()
        msrs.nmsrs = len(values)
        for entry, (index, data) in zip(msrs.entries, values.items(), strict=True):
            entry.index, entry.data = index, data
        done = _ioctl(self.fd, api.KVM_SET_MSRS, msrs, "KVM_SET_MSRS")
        if done != len(values):
            raise ExecutionError(f"KVM_SET_MSRS: MSR 0x{list(values)[done]:x} is not writable")

    def run(self) -> int:
        """Enter the guest until the next exit to user space; returns ``kvm_run.exit_reason``, or
        ``EXIT_INTR`` when a signal (or ``kvm_run.immediate_exit``) kicked the vCPU out or an application
        processor woke up still waiting for its SIPI (EAGAIN): the caller simply runs it again."""
        try:
            fcntl.ioctl(self.fd, api.KVM_RUN, 0)
        except (InterruptedError, BlockingIOError):
            return api.EXIT_INTR
        except OSError as exc:
            raise ExecutionError(f"KVM_RUN failed on vcpu {self.index}: {exc.strerror}") from exc
        return self.kvm_run.exit_reason

    def close(self) -> None:
        if self.fd >= 0:
            self.run_page.release()
            del self.kvm_run
            try:
                self._run_map.close()
            except BufferError:
                pass  # a traceback still holds a view of the page: it is unmapped when that goes
            os.close(self.fd)
            self.fd = -1


def describe_exit(vcpu: KvmVcpu, reason: int) -> str:
    """An unhandled exit as a sentence naming the reason, the address or hardware code, and the guest rip."""
    name = api.EXIT_REASONS.get(reason, str(reason))
    run = vcpu.kvm_run
    detail = ""
    if reason == api.EXIT_MMIO:
        mmio = run.exit.mmio
        detail = f" at 0x{mmio.phys_addr:x} ({'write' if mmio.is_write else 'read'} of {mmio.len} bytes)"
    elif reason == api.EXIT_FAIL_ENTRY:
        detail = f": hardware reason 0x{run.exit.fail_entry.hardware_entry_failure_reason:x}"
    elif reason == api.EXIT_INTERNAL_ERROR:
        detail = f": suberror {run.exit.internal.suberror}"
    rip = vcpu.get_regs().rip
    return f"unhandled KVM exit '{name}'{detail} with guest rip 0x{rip:x} on vcpu {vcpu.index}"
