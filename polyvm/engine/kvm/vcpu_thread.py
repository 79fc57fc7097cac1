"""One host thread per vCPU: KVM_RUN in a loop, port I/O and MMIO exits served by the board's device
models, everything else ending the run with a reason.

Stopping: ``kick()`` sets ``kvm_run.immediate_exit`` and sends the thread ``KICK_SIGNAL``. A vCPU blocked
inside KVM_RUN (halted, or an application processor waiting for INIT/SIPI) returns with EINTR; one
about to enter returns at once because of ``immediate_exit``. The signal needs a handler (any handler:
Python's own C handler interrupts the system call); ``install_kick_handler`` sets a no-op one and
must run on the main thread, as every ``signal.signal`` call.
"""

from __future__ import annotations

import collections
import signal
import threading
import time
from collections.abc import Callable

from polyvm.core.errors import ExecutionError, VmError
from polyvm.device.bus import MmioMap
from polyvm.engine.kvm import api
from polyvm.engine.kvm.ports import PortBus, serve_io
from polyvm.engine.kvm.vm import KvmVcpu, describe_exit

KICK_SIGNAL = signal.SIGUSR1
MMIO_DATA = api.KvmRun.exit.offset + api.KvmRunMmio.data.offset
"""Offset of ``kvm_run.mmio.data`` in the shared page."""
UNCLAIMED_KEPT = 16


def install_kick_handler() -> None:
    """Give ``KICK_SIGNAL`` a no-op handler so it interrupts KVM_RUN instead of killing the process."""
    if signal.getsignal(KICK_SIGNAL) not in (signal.SIG_DFL, signal.SIG_IGN, None):
        return
    if threading.current_thread() is not threading.main_thread():
        raise ExecutionError(
            f"accelerated mode stops vCPU threads with {KICK_SIGNAL.name}: start the first KVM VM of the "
            f"process from the main thread (or install a {KICK_SIGNAL.name} handler there)")
    signal.signal(KICK_SIGNAL, lambda signum, frame: None)


class VcpuThread(threading.Thread):
    """Runs ``vcpu`` until ``stopping`` is set; calls ``on_stop(reason)`` when the guest ends the run."""

    def __init__(self, vcpu: KvmVcpu, ports: PortBus, mmio: MmioMap, stopping: threading.Event,
                 on_stop: Callable[[str], None]) -> None:
        super().__init__(name=f"vcpu{vcpu.index}", daemon=True)
        self.vcpu = vcpu
        self.ports = ports
        self.mmio = mmio
        self.stopping = stopping
        self.on_stop = on_stop
        self.exits: collections.Counter[int] = collections.Counter()
        self.unclaimed: list[str] = []
        """The first few MMIO accesses no device decoded (reads return all ones, writes are dropped)."""
        self.unclaimed_count = 0
        self.error: VmError | None = None
        self.samples: list[tuple[float, int]] = []
        """(time.monotonic(), guest rip) pairs taken on request by ``sample()``."""
        self._sample_requested = False

    def kick(self) -> None:
        """Make the vCPU leave KVM_RUN soon and stay out (the run is stopping)."""
        self.vcpu.kvm_run.immediate_exit = 1
        self._signal()

    def sample(self) -> None:
        """Ask for the guest rip: the vCPU is kicked out of KVM_RUN once and records it in ``samples``."""
        self._sample_requested = True
        self._signal()

    def _signal(self) -> None:
        if self.ident is not None and self.is_alive():
            try:
                signal.pthread_kill(self.ident, KICK_SIGNAL)
            except ProcessLookupError:
                pass  # the thread ended between the two checks

    def run(self) -> None:
        try:
            self._loop()
        except VmError as error:
            # without its traceback: the loop's frame holds views of the kvm_run page, which must go
            # before the vCPU can be closed
            self.error = error.with_traceback(None)
            self.on_stop(f"error on vcpu {self.vcpu.index}")
        except Exception as error:  # a device model failed: end the run instead of hanging it
            self.error = ExecutionError(f"vcpu {self.vcpu.index}: a device model failed while serving an "
                                        f"exit: {type(error).__name__}: {error}")
            self.error.__cause__ = error
            self.on_stop(f"error on vcpu {self.vcpu.index}")

    def _loop(self) -> None:
        vcpu, exits, stopping = self.vcpu, self.exits, self.stopping
        kvm_run, page = vcpu.kvm_run, vcpu.run_page
        while not stopping.is_set():
            reason = vcpu.run()
            exits[reason] += 1
            if reason == api.EXIT_IO:
                serve_io(self.ports, kvm_run.exit.io, page)
            elif reason == api.EXIT_MMIO:
                self._mmio(kvm_run.exit.mmio, page)
            elif reason == api.EXIT_INTR:
                if self._sample_requested:
                    self._sample_requested = False
                    self.samples.append((time.monotonic(), vcpu.get_regs().rip))
            elif reason == api.EXIT_SHUTDOWN:
                self.on_stop("triple fault (KVM_EXIT_SHUTDOWN)")
                return
            elif reason == api.EXIT_SYSTEM_EVENT:
                kind = kvm_run.exit.system_event.type
                self.on_stop(f"system event {api.SYSTEM_EVENTS.get(kind, kind)}")
                return
            elif reason == api.EXIT_HLT:
                self.on_stop("hlt")
                return
            else:
                raise ExecutionError(describe_exit(vcpu, reason))

    def _mmio(self, mmio: api.KvmRunMmio, page: memoryview) -> None:
        address, size = mmio.phys_addr, mmio.len
        if mmio.is_write:
            value = int.from_bytes(page[MMIO_DATA:MMIO_DATA + size], "little")
            if not self.mmio.write(address, value, size):
                self._unclaimed(f"write of {size} bytes at 0x{address:x}")
            return
        value = self.mmio.read(address, size)
        if value is None:
            self._unclaimed(f"read of {size} bytes at 0x{address:x}")
            value = (1 << (8 * size)) - 1
        page[MMIO_DATA:MMIO_DATA + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")

    def _unclaimed(self, what: str) -> None:
        self.unclaimed_count += 1
        if len(self.unclaimed) < UNCLAIMED_KEPT:
            self.unclaimed.append(what)
