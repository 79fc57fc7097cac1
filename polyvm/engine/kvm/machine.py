"""A minimal x86-64 KVM board: one vCPU started directly in 64-bit long mode on a flat binary, a 16550
UART at 0x3f8 (the same model the emulated boards use), a debug-exit port and a result port.

The run ends when the guest writes its exit code to the debug-exit port (0x501) or, without an
in-kernel irqchip, executes ``hlt`` (with the in-kernel LAPIC, ``hlt`` waits in the kernel for an
interrupt instead of exiting). KVM exits are counted by reason (``exit_stats()``).
"""

from __future__ import annotations

import collections
import sys
from collections.abc import Callable
from pathlib import Path

from polyvm.core.config import VmConfig
from polyvm.core.errors import ConfigError, ExecutionError, LoaderError, UnsupportedError
from polyvm.core.types import ExecMode
from polyvm.device.irq import IrqLine
from polyvm.device.uart16550 import Uart16550
from polyvm.engine.kvm import api, longmode
from polyvm.engine.kvm.ports import DebugExit, PortBus, ValuePort, serve_io
from polyvm.engine.kvm.vm import DEFAULT_DEVICE, KvmSystem, describe_exit
from polyvm.mem.ram import GuestRam

LOAD_ADDRESS = 0x10_0000
STACK_TOP = 0x8_0000
COM1_PORT, COM1_IRQ, COM1_SIZE = 0x3F8, 4, 8
DEBUG_EXIT_PORT = 0x501
RESULT_PORT = 0x502
RFLAGS_RESERVED = 0x2


class _UnwiredIrq:
    """The sink of interrupt lines on a board without an interrupt controller: levels go nowhere."""

    def set_irq(self, line: int, level: bool) -> None:
        return None


def _write_stdout(data: bytes) -> None:
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


class KvmMachine:
    """Runs a flat x86-64 binary at ``load_address`` in 64-bit ring 0, ``entry_arg`` in %rdi."""

    def __init__(self, config: VmConfig, image: bytes | Path, *, load_address: int = LOAD_ADDRESS,
                 entry_arg: int = 0, device: str = DEFAULT_DEVICE, irqchip: bool = True,
                 output: Callable[[bytes], None] = _write_stdout) -> None:
        if config.exec_mode is not ExecMode.ACCELERATED:
            raise ConfigError(f"KvmMachine runs ExecMode.ACCELERATED configs, not {config.exec_mode.name}")
        if config.num_vcpu != 1:
            raise UnsupportedError(f"the KVM board runs one vCPU so far, {config.num_vcpu} were asked for")
        code = self._image_bytes(image)
        if load_address + len(code) > config.memory_size:
            name = str(image) if isinstance(image, Path) else "<image>"
            raise LoaderError(name, f"{len(code)} bytes at 0x{load_address:x} do not fit in "
                                    f"{config.memory_size} bytes of RAM")
        self.system = KvmSystem(device, config.arch)
        self.vm = self.system.create_vm(irqchip)
        self.ram = GuestRam(config.memory_size)
        self.vm.map_ram(self.ram)
        longmode.write_page_tables(self.ram)
        longmode.write_gdt(self.ram)
        self.ram.write(load_address, code)

        self.uart = Uart16550(IrqLine(self.vm if self.vm.irqchip else _UnwiredIrq(), COM1_IRQ), output)
        self.debug_exit = DebugExit()
        self.results = ValuePort()
        self.ports = PortBus()
        self.ports.add(COM1_PORT, COM1_SIZE, self.uart)
        self.ports.add(DEBUG_EXIT_PORT, 1, self.debug_exit)
        self.ports.add(RESULT_PORT, 1, self.results)

        self.vcpu = self.vm.create_vcpu()
        sregs = self.vcpu.get_sregs()
        longmode.enter_long_mode(sregs)
        self.vcpu.set_sregs(sregs)
        regs = api.KvmRegs(rip=load_address, rsp=STACK_TOP, rflags=RFLAGS_RESERVED, rdi=entry_arg)
        self.vcpu.set_regs(regs)
        self._exits: collections.Counter[int] = collections.Counter()
        self.stop_reason = ""

    @staticmethod
    def _image_bytes(image: bytes | Path) -> bytes:
        if isinstance(image, bytes):
            return image
        try:
            return image.read_bytes()
        except OSError as exc:
            raise LoaderError(str(image), exc.strerror or str(exc)) from exc

    def run(self) -> int:
        """Run until debug-exit or ``hlt``; returns the exit code (0 after ``hlt``)."""
        run, exits, kvm_run = self.vcpu.run, self._exits, self.vcpu.kvm_run
        while True:
            reason = run()
            exits[reason] += 1
            if reason == api.EXIT_IO:
                serve_io(self.ports, kvm_run.exit.io, self.vcpu.run_page)
                if self.debug_exit.code is not None:
                    self.stop_reason = "debug-exit"
                    return self.debug_exit.code
            elif reason == api.EXIT_HLT:
                self.stop_reason = "hlt"
                return 0
            elif reason != api.EXIT_INTR:
                raise ExecutionError(describe_exit(self.vcpu, reason))

    def exit_stats(self) -> dict[str, int]:
        """KVM exits so far, by reason name."""
        return {api.EXIT_REASONS.get(r, str(r)): n for r, n in sorted(self._exits.items())}

    def close(self) -> None:
        self.vm.close()
        self.system.close()

    def __enter__(self) -> KvmMachine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
