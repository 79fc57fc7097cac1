"""A 16550A UART (NS16550 register set with 16-byte FIFOs) as QEMU's ``serial`` models it.

Transmission is instantaneous: a THR write goes straight to ``output`` and the transmitter is empty
again at once, so THR-empty interrupts follow every write. Receive data comes from ``push_input``
(safe to call from a host stdin thread), which only queues it in a host backlog: ``poll()`` (called
by the vCPU loop) and every register access move it into the 16-byte FIFO as room frees up, so the
interrupt line only changes on the vCPU thread and input never overruns, as QEMU throttles its
chardev. With the FIFO enabled and fewer bytes than
the trigger level, the character-timeout interrupt is reported at once (no baud-rate timing).
Loopback mode (MCR bit 4) routes THR to the receiver and the modem outputs to the modem inputs.

``coalesced_port`` (coalesced.py) lets native code write THR and read LSR without calling back
while those accesses have no other effect: THR with DLAB clear, no loopback and the THR-empty
interrupt off (a write then only transmits), LSR with no break or overrun to clear. Bytes written
there are transmitted at the next access or ``drain``. (Bytes in the receiver's host backlog reach
the FIFO at the next ``poll`` then, not at the status read: as if they had come a moment later.)
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable

from polyvm.device.coalesced import CLOSED, CoalescedPort
from polyvm.device.irq import IrqLine

SIZE = 0x100
FIFO_SIZE = 16

IER_RDI, IER_THRI, IER_RLSI, IER_MSI = 0x01, 0x02, 0x04, 0x08
IIR_NO_INT, IIR_MSI, IIR_THRI, IIR_RDI, IIR_RLSI, IIR_CTI = 0x01, 0x00, 0x02, 0x04, 0x06, 0x0C
IIR_FIFO_ENABLED = 0xC0
FCR_FE, FCR_CLEAR_RX, FCR_CLEAR_TX = 0x01, 0x02, 0x04
LCR_DLAB = 0x80
MCR_DTR, MCR_RTS, MCR_OUT1, MCR_OUT2, MCR_LOOP = 0x01, 0x02, 0x04, 0x08, 0x10
LSR_DR, LSR_OE, LSR_BI, LSR_THRE, LSR_TEMT = 0x01, 0x02, 0x10, 0x20, 0x40
LSR_INT_ANY = 0x1E
MSR_DCTS, MSR_DDSR, MSR_TERI, MSR_DDCD = 0x01, 0x02, 0x04, 0x08
MSR_CTS, MSR_DSR, MSR_RI, MSR_DCD = 0x10, 0x20, 0x40, 0x80
MSR_IDLE_LINES = MSR_DCD | MSR_DSR | MSR_CTS
"""Modem inputs outside loopback: carrier, data set ready, clear to send (QEMU's reset value)."""
TRIGGER_LEVELS = (1, 4, 8, 14)
MSR_DELTAS = ((MSR_CTS, MSR_DCTS), (MSR_DSR, MSR_DDSR), (MSR_DCD, MSR_DDCD))
"""Modem inputs whose every change sets a delta bit (RI only signals its trailing edge)."""
LOOPBACK_WIRING = ((MCR_RTS, MSR_CTS), (MCR_DTR, MSR_DSR), (MCR_OUT1, MSR_RI), (MCR_OUT2, MSR_DCD))


class Uart16550:
    """One 16550A at register stride 1; ``output`` receives transmitted bytes."""

    def __init__(self, irq: IrqLine, output: Callable[[bytes], None]) -> None:
        self.irq = irq
        self.output = output
        self._lock = threading.RLock()
        self._backlog: collections.deque[int] = collections.deque()
        self._rx: collections.deque[int] = collections.deque()
        self.coalesced_port = CoalescedPort(write_offset=0, read_offset=5)
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._drain()
            self.divisor = 12
            self.ier = 0
            self.fcr = 0
            self.lcr = 0
            self.mcr = MCR_OUT2
            self.lsr = LSR_THRE | LSR_TEMT
            self.msr = MSR_IDLE_LINES
            self.scr = 0
            self.iir = IIR_NO_INT
            self.thr_pending = False
            self._rx.clear()
            self._update_irq()
            self._publish()

    def push_input(self, data: bytes) -> None:
        """Queue host bytes for the guest to receive (thread-safe; delivered by ``poll``)."""
        with self._lock:
            self._backlog.extend(data)

    def poll(self) -> None:
        """Deliver queued host input into the receiver and update the interrupt line."""
        with self._lock:
            self._drain()
            self._fill_rx()
            self._publish()

    def drain(self) -> None:
        """Transmit what native code wrote through ``coalesced_port``."""
        with self._lock:
            self._drain()

    def interrupt(self) -> int | None:
        return self.irq.line if self.irq.level else None

    def read(self, offset: int, size: int) -> int:
        with self._lock:
            self._drain()
            self._fill_rx()
            value = self._read(offset)
            self._publish()
            return value

    def write(self, offset: int, val: int, size: int) -> None:
        with self._lock:
            self._drain()
            self._write(offset, val & 0xFF)
            self._publish()

    def _drain(self) -> None:
        """Bytes in ``coalesced_port`` were written while a THR write only transmitted
        (``_publish``), and nothing changed since: what ``_transmit`` would have done for each."""
        data = self.coalesced_port.drained()
        if data:
            self.output(data)
            self.thr_pending = True

    def _publish(self) -> None:
        """Tell ``coalesced_port`` which accesses native code may do by itself now."""
        port = self.coalesced_port
        port.write_open = not (self.lcr & LCR_DLAB or self.mcr & MCR_LOOP or self.ier & IER_THRI)
        port.read_value = CLOSED if self.lsr & (LSR_BI | LSR_OE) else self.lsr

    def _read(self, offset: int) -> int:
        dlab = self.lcr & LCR_DLAB
        if offset == 0:
            return self.divisor & 0xFF if dlab else self._read_rbr()
        if offset == 1:
            return self.divisor >> 8 if dlab else self.ier
        if offset == 2:
            iir = self.iir
            if iir & 0x0F == IIR_THRI:
                self.thr_pending = False
                self._update_irq()
            return iir
        if offset == 3:
            return self.lcr
        if offset == 4:
            return self.mcr
        if offset == 5:
            lsr = self.lsr
            if lsr & (LSR_BI | LSR_OE):
                self.lsr &= ~(LSR_BI | LSR_OE)
                self._update_irq()
            return lsr
        if offset == 6:
            msr = self.msr
            if msr & 0x0F:
                self.msr &= 0xF0
                self._update_irq()
            return msr
        if offset == 7:
            return self.scr
        return 0

    def _write(self, offset: int, val: int) -> None:
        dlab = self.lcr & LCR_DLAB
        if offset == 0:
            if dlab:
                self.divisor = (self.divisor & 0xFF00) | val
            else:
                self._transmit(val)
        elif offset == 1:
            if dlab:
                self.divisor = (self.divisor & 0xFF) | (val << 8)
            else:
                self._write_ier(val & 0x0F)
        elif offset == 2:
            self._write_fcr(val)
        elif offset == 3:
            self.lcr = val
        elif offset == 4:
            self._write_mcr(val & 0x1F)
        elif offset == 7:
            self.scr = val

    def _read_rbr(self) -> int:
        value = self._rx.popleft() if self._rx else 0
        self._fill_rx()
        if not self._rx:
            self.lsr &= ~LSR_DR
        self._update_irq()
        return value

    def _transmit(self, byte: int) -> None:
        if self.mcr & MCR_LOOP:
            self._receive(byte)
        else:
            self.output(bytes((byte,)))
        self.lsr |= LSR_THRE | LSR_TEMT
        self.thr_pending = True
        self._update_irq()

    def _write_ier(self, val: int) -> None:
        changed = self.ier ^ val
        self.ier = val
        if changed & IER_THRI:
            self.thr_pending = bool(val & IER_THRI and self.lsr & LSR_THRE)
        if changed:
            self._update_irq()

    def _write_fcr(self, val: int) -> None:
        if (val ^ self.fcr) & FCR_FE:
            val |= FCR_CLEAR_RX | FCR_CLEAR_TX
        if val & FCR_CLEAR_RX:
            self._rx.clear()
            self.lsr &= ~(LSR_DR | LSR_BI)
        if val & FCR_CLEAR_TX:
            self.lsr |= LSR_THRE | LSR_TEMT
            self.thr_pending = True
        self.fcr = val & 0xC9
        self.iir = (self.iir & 0x0F) | (IIR_FIFO_ENABLED if self.fcr & FCR_FE else 0)
        self._fill_rx()
        self._update_irq()

    def _write_mcr(self, val: int) -> None:
        self.mcr = val
        if val & MCR_LOOP:
            lines = sum(msr for mcr, msr in LOOPBACK_WIRING if val & mcr)
        else:
            lines = MSR_IDLE_LINES
        self._set_modem_lines(lines)
        self._fill_rx()
        self._update_irq()

    def _set_modem_lines(self, lines: int) -> None:
        old = self.msr & 0xF0
        delta = sum(flag for line, flag in MSR_DELTAS if (old ^ lines) & line)
        if old & MSR_RI and not lines & MSR_RI:
            delta |= MSR_TERI
        self.msr = lines | (self.msr & 0x0F) | delta

    def _capacity(self) -> int:
        return FIFO_SIZE if self.fcr & FCR_FE else 1

    def _receive(self, byte: int) -> None:
        if len(self._rx) >= self._capacity():
            self.lsr |= LSR_OE
        else:
            self._rx.append(byte)
            self.lsr |= LSR_DR

    def _fill_rx(self) -> None:
        """Move host backlog into the receiver (not in loopback, where the line is disconnected)."""
        if self.mcr & MCR_LOOP:
            return
        moved = False
        while self._backlog and len(self._rx) < self._capacity():
            self._rx.append(self._backlog.popleft())
            moved = True
        if moved:
            self.lsr |= LSR_DR
            self._update_irq()

    def _update_irq(self) -> None:
        ident = IIR_NO_INT
        if self.ier & IER_RLSI and self.lsr & LSR_INT_ANY:
            ident = IIR_RLSI
        elif self.ier & IER_RDI and self.lsr & LSR_DR:
            below_trigger = self.fcr & FCR_FE and len(self._rx) < TRIGGER_LEVELS[self.fcr >> 6]
            ident = IIR_CTI if below_trigger else IIR_RDI
        elif self.ier & IER_THRI and self.thr_pending:
            ident = IIR_THRI
        elif self.ier & IER_MSI and self.msr & 0x0F:
            ident = IIR_MSI
        self.iir = (self.iir & 0xF0) | ident
        self.irq.set(ident != IIR_NO_INT)
