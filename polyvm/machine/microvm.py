"""The x86-64 ``microvm`` board of ExecMode.ACCELERATED: a Firecracker-shaped machine on Linux KVM that
boots a bzImage through the 64-bit Linux boot protocol.

Memory map (guest physical)::

    0x0000_0500  GDT (__BOOT_CS 0x10, __BOOT_DS 0x18)       0x0000_1000  page tables, 4 GiB identity
    0x0000_7000  boot_params (zero page)                    0x0002_0000  kernel command line
    0x0009_fc00  MP table (reserved in e820)                0x000e_0000  ACPI tables (reserved; acpi=on)
    0x0010_0000  RAM (kernel at pref_address)
    0xd000_0000  virtio-mmio windows, 4 KiB apart, IRQ 5+   0xfea0_0200  ACPI sleep control and status
                                                                         (acpi=on)
    0xfec0_0000  I/O APIC, 0xfee0_0000 LAPIC
    ports: COM1 16550 at 0x3f8 (IRQ 4), i8042 at 0x60/0x64 (IRQ 1); PIT and PIC/APICs in the kernel

Devices are the models the emulated boards use (Uart16550, virtio-mmio block and net); port I/O and
MMIO exits reach them from one thread per vCPU. The BSP enters the kernel in long mode; application
processors wait in KVM's INIT/SIPI state for the guest to start them. ACPI tables describe the CPUs,
the I/O APIC and the devices as QEMU's ``-M microvm,acpi=on`` does (microvm_acpi: a hardware-reduced
FADT with reset and sleep registers, a MADT, and a DSDT with COM1, one LNRO0005 device per virtio-mmio
window and \\_S5; boot_params.acpi_rsdp_addr points at the RSDP); an MP table describes the CPUs and
the I/O APIC again for kernels without ACPI. virtio interrupts are level-triggered I/O APIC pins in
both. Like QEMU with ACPI, the board does not also put the devices on the command line
(``virtio_mmio.device=``): a kernel with CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES would register every
window twice. With ``acpi=False`` (QEMU's ``-M microvm,acpi=off``, Firecracker's way) there are no
ACPI tables, no RSDP and no sleep registers: the MP table alone describes the CPUs and the I/O APIC,
and every window is appended to the command line as QEMU's microvm_fix_kernel_cmdline does,
``virtio_mmio.device=<size>@0x<base>:<irq>``, after the caller's text.

The run ends when the guest powers the machine off (the ACPI sleep control register, where QEMU's
microvm has its GED registers, written with the \\_S5 sleep type and SLP_EN: Linux's ``poweroff``;
not without ACPI), resets it (i8042 command 0xFE - the FADT's reset register too: with ``reboot=k``,
which the board puts on the command line, Linux's ``reboot`` lands there, with or without ACPI;
``panic=1`` reboots on panic), on a triple fault (KVM_EXIT_SHUTDOWN), a KVM system event, ``stop()``
or the timeout; the result's ``event`` says "poweroff" or "reset". Disks are flushed on close.
``stop()`` leaves every vCPU's state in KVM, so ``run()`` again continues the guest where it was
(MachineRunner's pause and resume).
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from polyvm.core.config import VmConfig
from polyvm.core.errors import ConfigError, UnsupportedError
from polyvm.core.protocols import ExitReason, RunResult
from polyvm.core.types import ExecMode, GuestArch
from polyvm.device import acpi_sleep
from polyvm.device.bus import MmioMap
from polyvm.device.irq import IrqLine
from polyvm.device.uart16550 import Uart16550
from polyvm.device.virtio.block import VirtioBlock
from polyvm.device.virtio.mmio import VirtioMmio
from polyvm.device.virtio.net import VirtioNet, VirtioNetMmio
from polyvm.engine.kvm import api, cpu_setup, longmode
from polyvm.engine.kvm.i8042 import CMD_PULSE_RESET, I8042
from polyvm.engine.kvm.ports import PortBus
from polyvm.engine.kvm.vcpu_thread import VcpuThread, install_kick_handler
from polyvm.engine.kvm.vm import DEFAULT_DEVICE, KvmSystem, KvmVcpu
from polyvm.machine.acpi import ByteRegister, PowerRegisters
from polyvm.machine.microvm_acpi import (
    ACPI_ADDRESS,
    ACPI_SIZE,
    AcpiTables,
    IsaSerial,
    VirtioWindow,
    build_microvm_acpi,
)
from polyvm.machine.mptable import MPTABLE_ADDRESS, build_mptable
from polyvm.machine.virt import Drive
from polyvm.machine.x86_linux import E820_RESERVED, E820Entry, LinuxBoot, load_linux
from polyvm.mem.ram import GuestRam
from polyvm.net.cli_spec import NicSpec

MAX_RAM = 0xC000_0000
"""RAM ends below the 32-bit MMIO hole (virtio windows, I/O APIC, LAPIC); more is not supported yet."""
BASE_MEMORY_END = 0xA_0000
HIGH_MEMORY = 0x10_0000
COM1_PORT, COM1_SIZE, COM1_IRQ = 0x3F8, 8, 4
I8042_PORT, I8042_SIZE, I8042_IRQ = 0x60, 5, 1
I8042_COMMAND_PORT = 0x64
VIRTIO_BASE, VIRTIO_STRIDE, VIRTIO_IRQ_BASE, VIRTIO_SLOTS = 0xD000_0000, 0x1000, 5, 8
SLEEP_REGISTERS = 0xFEA0_0200
"""QEMU microvm's GED register block (GED_MMIO_BASE_REGS): sleep control at +0, sleep status at +1."""
BOOT_STACK = 0x8FF0
RFLAGS_RESERVED = 0x2
BOARD_ARGS = "reboot=k panic=1 pci=off"
"""Reset through the i8042 (which stops the VM), reboot (= stop) one second after a panic, no PCI."""
POLL_INTERVAL = 0.01
REQUIRED_CAPS = {
    api.CAP_IRQCHIP: "KVM_CAP_IRQCHIP (in-kernel PIC, I/O APIC and LAPIC)",
    api.CAP_IMMEDIATE_EXIT: "KVM_CAP_IMMEDIATE_EXIT (stopping vCPU threads)",
    api.CAP_MP_STATE: "KVM_CAP_MP_STATE (application processors waiting for INIT/SIPI)",
}
GUEST_ENDS = {"poweroff": "poweroff", "reset": "reset", "system event shutdown": "poweroff",
              "system event reset": "reset"}
"""Stop reasons by which the guest ended the VM, and the power event each is."""
BOARD_POWER = PowerRegisters(ByteRegister.port(I8042_COMMAND_PORT), CMD_PULSE_RESET,
                             ByteRegister.memory(SLEEP_REGISTERS + acpi_sleep.SLEEP_CONTROL),
                             ByteRegister.memory(SLEEP_REGISTERS + acpi_sleep.SLEEP_STATUS))
"""Reset through the i8042, S5 through the sleep registers: what the FADT tells the guest."""


def _write_nothing(data: bytes) -> None:
    return None


def cmdline_devices(windows: Sequence[VirtioWindow]) -> list[str]:
    """The ``virtio_mmio.device=`` parameters announcing ``windows`` to a kernel with
    CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES, in the format of QEMU's microvm without ACPI."""
    return [f"virtio_mmio.device={window.size}@0x{window.base:x}:{window.gsi}" for window in windows]


def board_acpi(num_cpus: int, virtio: list[VirtioWindow]) -> AcpiTables:
    """The board's ACPI tables for ``num_cpus`` vCPUs and the ``virtio`` windows: COM1, the i8042
    reset and the sleep registers as the board has them."""
    return build_microvm_acpi(num_cpus, virtio, IsaSerial(COM1_PORT, COM1_SIZE, COM1_IRQ), BOARD_POWER,
                              acpi_sleep.SLP_TYP_S5)


class MicrovmBoard:
    """Boots the bzImage ``kernel`` on ``config.num_vcpu`` KVM vCPUs with ``config.memory_size`` of RAM;
    ``acpi`` says whether the devices are announced by ACPI tables or on the command line."""

    def __init__(self, config: VmConfig, *, kernel: str | Path, initrd: str | Path | None = None,
                 append: str = "", drives: list[Drive] | None = None, nics: list[NicSpec] | None = None,
                 device: str = DEFAULT_DEVICE, acpi: bool = True) -> None:
        if config.arch is not GuestArch.X86_64:
            raise ConfigError(f"the microvm board runs x86_64 guests, not {config.arch.value}")
        if config.exec_mode is not ExecMode.ACCELERATED:
            raise UnsupportedError(
                f"the microvm board runs only in accelerated mode (KVM), not {config.exec_mode.value}: "
                "x86-64 has no interpreter or JIT frontend yet")
        if config.memory_size > MAX_RAM:
            raise ConfigError(f"microvm RAM is limited to {MAX_RAM >> 20} MiB (below the MMIO hole), "
                              f"{config.memory_size >> 20} MiB were asked for")
        drives, nics = list(drives or []), list(nics or [])
        if len(drives) + len(nics) > VIRTIO_SLOTS:
            raise ConfigError(f"at most {VIRTIO_SLOTS} virtio devices fit on the microvm board")
        self.config = config
        self.acpi_enabled = acpi
        self.acpi: AcpiTables | None = None
        """The ACPI tables written to guest RAM (None with acpi off)."""
        self.console_output = bytearray()
        self.console_sink: Callable[[bytes], None] | None = None
        self.stop_reason = ""
        self._stopping = threading.Event()
        self._exits: collections.Counter[int] = collections.Counter()
        """KVM exits of the runs that have ended; those of the running vCPU threads are theirs."""
        self._threads: list[VcpuThread] = []
        self._exits_lock = threading.Lock()
        self.unclaimed_mmio: list[str] = []
        self.rip_samples: list[tuple[float, int, int]] = []
        self.running = False
        self.block_devices: list[VirtioBlock] = []
        self.net_devices: list[VirtioNet] = []
        self.system = KvmSystem(device, config.arch)
        try:
            self._build(kernel, initrd, append, drives, nics)
        except BaseException:
            self.close()
            raise

    def _build(self, kernel: str | Path, initrd: str | Path | None, append: str, drives: list[Drive],
               nics: list[NicSpec]) -> None:
        config, system = self.config, self.system
        for cap, name in REQUIRED_CAPS.items():
            if not system.check_extension(cap):
                raise UnsupportedError(
                    f"{system.device}: the microvm board needs {name}, which this KVM lacks")
        max_vcpus = system.check_extension(api.CAP_MAX_VCPUS) or system.check_extension(api.CAP_NR_VCPUS)
        if config.num_vcpu > max_vcpus:
            raise UnsupportedError(f"{system.device} runs at most {max_vcpus} vCPUs per VM, "
                                   f"{config.num_vcpu} were asked for")
        self.vm = system.create_vm(irqchip=True)
        self.ram = GuestRam(config.memory_size)
        self.vm.map_ram(self.ram)
        self.ports = PortBus()
        self.mmio = MmioMap()
        self.uart = Uart16550(IrqLine(self.vm, COM1_IRQ), self.console_write)
        self.ports.add(COM1_PORT, COM1_SIZE, self.uart)
        self.i8042 = I8042(IrqLine(self.vm, I8042_IRQ), lambda: self._guest_stop("reset"))
        self.ports.add(I8042_PORT, I8042_SIZE, self.i8042)
        if self.acpi_enabled:
            self.mmio.register(SLEEP_REGISTERS, acpi_sleep.SIZE,
                               acpi_sleep.AcpiSleepRegisters(lambda: self._guest_stop("poweroff")),
                               "acpi-sleep")
        self.pollers: list[Callable[[], None]] = [self.uart.poll]
        self.virtio: list[VirtioMmio] = []
        self.virtio_windows: list[VirtioWindow] = []
        for slot, spec in enumerate([*drives, *nics]):
            base, irq = VIRTIO_BASE + slot * VIRTIO_STRIDE, VIRTIO_IRQ_BASE + slot
            line = IrqLine(self.vm, irq)
            transport: VirtioMmio
            if isinstance(spec, Drive):
                block = VirtioBlock(spec.path, readonly=spec.readonly)
                self.block_devices.append(block)
                transport = VirtioMmio(block, self.ram, line, 1 if spec.legacy else 2)
            else:
                net = spec.create()
                self.net_devices.append(net)
                transport = VirtioNetMmio(net, self.ram, line)
                self.pollers.append(transport.poll)
            self.virtio.append(transport)
            self.mmio.register(base, VIRTIO_STRIDE, transport, f"virtio{slot}")
            self.virtio_windows.append(VirtioWindow(base, VIRTIO_STRIDE, irq))
        devices = [] if self.acpi_enabled else cmdline_devices(self.virtio_windows)
        cmdline = " ".join(part for part in (BOARD_ARGS, append, *devices) if part)
        self.boot = self._load(kernel, initrd, cmdline)
        self.vcpus = [self._create_vcpu(index) for index in range(config.num_vcpu)]

    def e820(self) -> list[E820Entry]:
        """Usable RAM below the MP table and from 1 MiB to the end of RAM (Firecracker's map); the MP
        table's KiB and, with ACPI, the tables' BIOS area are reserved."""
        acpi = [E820Entry(ACPI_ADDRESS, ACPI_SIZE, E820_RESERVED)] if self.acpi_enabled else []
        return [E820Entry(0, MPTABLE_ADDRESS), E820Entry(MPTABLE_ADDRESS, BASE_MEMORY_END - MPTABLE_ADDRESS,
                                                          E820_RESERVED),
                *acpi, E820Entry(HIGH_MEMORY, self.ram.size - HIGH_MEMORY)]

    def _load(self, kernel: str | Path, initrd: str | Path | None, cmdline: str) -> LinuxBoot:
        longmode.write_page_tables(self.ram)
        longmode.write_gdt(self.ram, longmode.BOOT_GDT)
        level_pins = frozenset(window.gsi for window in self.virtio_windows)
        self.ram.write(MPTABLE_ADDRESS, build_mptable(self.config.num_vcpu, level_pins))
        rsdp = 0
        if self.acpi_enabled:
            self.acpi = board_acpi(self.config.num_vcpu, self.virtio_windows)
            self.ram.write(self.acpi.address, self.acpi.data)
            rsdp = self.acpi.rsdp
        return load_linux(self.ram, kernel, self.e820(), cmdline, initrd, rsdp)

    def _create_vcpu(self, index: int) -> KvmVcpu:
        cpuid = cpu_setup.vcpu_cpuid(self.system.supported_cpuid(), index, self.config.num_vcpu)
        vcpu = self.vm.create_vcpu(cpuid)
        vcpu.set_msrs(cpu_setup.BOOT_MSRS)
        vcpu.set_fpu(cpu_setup.reset_fpu())
        vcpu.set_lapic(cpu_setup.wire_lint_pins(vcpu.get_lapic()))
        if index:
            vcpu.set_mp_state(api.MP_STATE_UNINITIALIZED)
            return vcpu
        sregs = vcpu.get_sregs()
        longmode.enter_long_mode(sregs, longmode.BOOT_CS, longmode.BOOT_DS, longmode.BOOT_GDT)
        vcpu.set_sregs(sregs)
        vcpu.set_regs(api.KvmRegs(rip=self.boot.entry, rsi=self.boot.boot_params, rsp=BOOT_STACK,
                                  rbp=BOOT_STACK, rflags=RFLAGS_RESERVED))
        return vcpu

    # --- console ----------------------------------------------------------------------------

    def console_write(self, data: bytes) -> None:
        self.console_output += data
        (self.console_sink or _write_nothing)(data)

    # --- running ----------------------------------------------------------------------------

    def _guest_stop(self, reason: str) -> None:
        if not self._stopping.is_set():
            self.stop_reason = reason
        self._stopping.set()

    def stop(self) -> None:
        """Ask a running machine to return from run() (callable from any thread)."""
        self._guest_stop("stopped")

    def run(self, max_instructions: int | None = None, timeout: float | None = None,
            sample_every: float | None = None) -> RunResult:
        """Run every vCPU on its own thread until the guest ends the run, ``stop()`` or ``timeout``
        seconds. KVM counts no instructions: ``max_instructions`` is not supported. With
        ``sample_every`` seconds, every vCPU's rip is sampled that often into ``rip_samples``
        (seconds since the start, vCPU index, rip): where a long boot is."""
        if max_instructions is not None:
            raise UnsupportedError("accelerated mode cannot stop after an instruction count: use --timeout")
        install_kick_handler()
        self._stopping.clear()
        self.stop_reason = ""
        threads = [VcpuThread(vcpu, self.ports, self.mmio, self._stopping, self._guest_stop)
                   for vcpu in self.vcpus]
        with self._exits_lock:
            self._threads = threads
        started = time.monotonic()
        deadline = None if timeout is None else started + timeout
        next_sample = started + sample_every if sample_every else None
        self.running = True
        try:
            for thread in threads:
                thread.start()
            while not self._stopping.wait(POLL_INTERVAL):
                for poll in self.pollers:
                    poll()
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    self._guest_stop("timeout")
                if next_sample is not None and sample_every and now >= next_sample:
                    next_sample += sample_every
                    for thread in threads:
                        thread.sample()
        finally:
            self._stopping.set()
            for thread in threads:
                thread.kick()
            for thread in threads:
                thread.join()
                self.rip_samples += [(at - started, thread.vcpu.index, rip) for at, rip in thread.samples]
                self.unclaimed_mmio.extend(thread.unclaimed[:8])
            with self._exits_lock:
                for thread in threads:
                    self._exits.update(thread.exits)
                self._threads = []
            for vcpu in self.vcpus:
                vcpu.kvm_run.immediate_exit = 0
            self.running = False
        for thread in threads:
            if thread.error is not None:
                raise thread.error
        if self.stop_reason in GUEST_ENDS:
            return RunResult(ExitReason.HALTED, 0, event=GUEST_ENDS[self.stop_reason])
        if self.stop_reason.startswith("triple fault"):
            return RunResult(ExitReason.RESET)
        return RunResult(ExitReason.STOPPED)

    def prepare_run_thread(self) -> None:
        """Called on the thread that is about to start run() on another one (MachineRunner): installs
        the handler of the signal that kicks vCPUs out of KVM_RUN, which only the main thread can."""
        install_kick_handler()

    def exit_stats(self) -> dict[str, int]:
        """KVM exits of every vCPU so far, by reason name; live while the guest runs."""
        with self._exits_lock:
            exits = collections.Counter(self._exits)
            for thread in self._threads:
                exits.update(dict(thread.exits))  # one C-level copy: the vCPU thread goes on counting
        return {api.EXIT_REASONS.get(r, str(r)): n for r, n in sorted(exits.items())}

    def stats(self) -> dict[str, object]:
        return {"kvm_exits": self.exit_stats(), "stop_reason": self.stop_reason}

    def instructions_executed(self) -> int:
        """Always 0: the hardware runs the guest and KVM does not count its instructions."""
        return 0

    def close(self) -> None:
        """Flush and close disk images and network backends, then release the VM (idempotent)."""
        for device in [*self.block_devices, *self.net_devices]:
            device.close()
        self.block_devices, self.net_devices = [], []
        vm = getattr(self, "vm", None)
        if vm is not None:
            vm.close()
        self.system.close()

    def __enter__(self) -> MicrovmBoard:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
