"""16550A semantics the Linux 8250 driver relies on: DLAB, FIFOs, IIR priorities, THRE, loopback."""

from __future__ import annotations

import threading

from device_helpers import Lines

from polyvm.device.coalesced import CLOSED
from polyvm.device.irq import IrqLine
from polyvm.device.uart16550 import (
    IER_MSI,
    IER_RDI,
    IER_RLSI,
    IER_THRI,
    IIR_CTI,
    IIR_MSI,
    IIR_NO_INT,
    IIR_RDI,
    IIR_RLSI,
    IIR_THRI,
    LSR_DR,
    LSR_OE,
    LSR_TEMT,
    LSR_THRE,
    MCR_LOOP,
    MCR_OUT2,
    MCR_RTS,
    MSR_CTS,
    MSR_DDCD,
    MSR_DDSR,
    Uart16550,
)

RBR, IER, IIR, LCR, MCR, LSR, MSR, SCR = 0, 1, 2, 3, 4, 5, 6, 7
FCR = IIR
LINE = 10


def make() -> tuple[Uart16550, bytearray, Lines]:
    lines = Lines()
    out = bytearray()
    return Uart16550(IrqLine(lines, LINE), out.extend), out, lines


def test_reset_state_and_transmit() -> None:
    uart, out, lines = make()
    assert uart.read(LSR, 1) == LSR_THRE | LSR_TEMT
    assert uart.read(IIR, 1) == IIR_NO_INT
    for byte in b"hi\n":
        uart.write(RBR, byte, 1)
    assert out == b"hi\n"
    assert not lines.high(LINE)


def test_divisor_latch_and_scratch() -> None:
    uart, out, _ = make()
    uart.write(LCR, 0x83, 1)
    uart.write(0, 0x01, 1)
    uart.write(1, 0x02, 1)
    assert (uart.read(0, 1), uart.read(1, 1)) == (0x01, 0x02)
    uart.write(LCR, 0x03, 1)
    assert uart.read(IER, 1) == 0 and out == b""
    uart.write(SCR, 0x5A, 1)
    assert uart.read(SCR, 1) == 0x5A


def test_thre_interrupt_on_enable_cleared_by_iir_read_and_rearmed_by_writes() -> None:
    uart, _, lines = make()
    uart.write(IER, IER_THRI, 1)
    assert lines.high(LINE)
    assert uart.read(IIR, 1) == IIR_THRI
    assert not lines.high(LINE)
    assert uart.read(IIR, 1) == IIR_NO_INT
    uart.write(RBR, ord("x"), 1)
    assert lines.high(LINE)
    uart.write(IER, 0, 1)
    assert not lines.high(LINE)
    uart.write(IER, IER_THRI, 1)
    assert uart.read(IIR, 1) == IIR_THRI


def test_receive_fifo_trigger_timeout_and_overrun_free_backlog() -> None:
    uart, _, lines = make()
    uart.write(FCR, 0x81, 1)
    uart.write(IER, IER_RDI, 1)
    assert not lines.high(LINE)
    uart.push_input(b"ab")
    assert not lines.high(LINE), "input waits for the vCPU thread's poll"
    uart.poll()
    assert lines.high(LINE)
    assert uart.read(IIR, 1) == 0xC0 | IIR_CTI
    uart.push_input(bytes(range(40)))
    assert uart.read(IIR, 1) == 0xC0 | IIR_RDI
    received = bytearray()
    while uart.read(LSR, 1) & LSR_DR:
        received.append(uart.read(RBR, 1))
    assert received == b"ab" + bytes(range(40))
    assert not lines.high(LINE)
    assert uart.read(LSR, 1) & LSR_OE == 0


def test_line_status_interrupt_has_priority_and_lsr_read_clears_overrun() -> None:
    uart, _, lines = make()
    uart.write(MCR, MCR_LOOP, 1)
    uart.write(IER, IER_RDI | IER_RLSI | IER_THRI, 1)
    uart.write(RBR, 1, 1)
    uart.write(RBR, 2, 1)
    assert uart.read(IIR, 1) == IIR_RLSI
    assert uart.read(LSR, 1) & LSR_OE
    assert uart.read(LSR, 1) & LSR_OE == 0
    assert uart.read(IIR, 1) == IIR_RDI
    assert uart.read(RBR, 1) == 1
    assert uart.read(IIR, 1) == IIR_THRI
    assert uart.read(IIR, 1) == IIR_NO_INT
    assert not lines.high(LINE)


def test_loopback_routes_data_and_modem_lines() -> None:
    uart, out, _ = make()
    uart.write(FCR, 0x07, 1)
    uart.write(MCR, MCR_LOOP | MCR_RTS, 1)
    uart.push_input(b"host")
    assert uart.read(MSR, 1) == MSR_CTS | MSR_DDSR | MSR_DDCD
    assert uart.read(MSR, 1) == MSR_CTS
    for byte in b"probe":
        uart.write(RBR, byte, 1)
    assert out == b""
    assert bytes(uart.read(RBR, 1) for _ in range(5)) == b"probe"
    uart.write(MCR, MCR_OUT2, 1)
    assert uart.read(MSR, 1) & 0xF0 == 0xB0
    assert bytes(uart.read(RBR, 1) for _ in range(4)) == b"host"


def test_modem_status_interrupt_is_lowest_priority() -> None:
    uart, _, lines = make()
    uart.write(IER, IER_MSI, 1)
    uart.write(MCR, MCR_LOOP, 1)
    assert uart.read(IIR, 1) == IIR_MSI and lines.high(LINE)
    uart.read(MSR, 1)
    assert uart.read(IIR, 1) == IIR_NO_INT and not lines.high(LINE)


def test_push_input_from_another_thread() -> None:
    uart, _, _ = make()
    uart.write(FCR, 0x01, 1)
    data = bytes(range(256)) * 8
    writer = threading.Thread(
        target=lambda: [uart.push_input(data[i : i + 7]) for i in range(0, len(data), 7)]
    )
    writer.start()
    received = bytearray()
    while len(received) < len(data):
        if uart.read(LSR, 1) & LSR_DR:
            received.append(uart.read(RBR, 1))
    writer.join()
    assert received == data


def test_the_coalesced_port_is_open_only_while_its_accesses_have_no_other_effect() -> None:
    uart, _, _ = make()
    port = uart.coalesced_port
    assert (port.write_offset, port.read_offset) == (RBR, LSR)
    assert port.write_open and port.read_value == LSR_THRE | LSR_TEMT
    for register, value in ((LCR, 0x80), (MCR, MCR_LOOP | MCR_OUT2), (IER, IER_THRI)):
        uart.write(register, value, 1)
        assert not port.write_open, f"a THR write does more with {register}={value:#x}"
        uart.write(register, 0 if register != MCR else MCR_OUT2, 1)
        assert port.write_open
    uart.write(MCR, MCR_LOOP | MCR_OUT2, 1)
    uart.write(FCR, 0x01, 1)
    for _ in range(17):  # one more than the FIFO holds: overrun
        uart.write(RBR, 0x41, 1)
    assert port.read_value == CLOSED, "reading LSR clears the overrun"
    assert uart.read(LSR, 1) & LSR_OE
    assert port.read_value == LSR_THRE | LSR_TEMT | LSR_DR


def test_bytes_written_through_the_port_keep_their_order() -> None:
    uart, out, lines = make()
    port = uart.coalesced_port
    for byte in b"ab":  # as native code appends them
        port.data[port.count] = byte
        port.count += 1
    assert out == b""
    uart.write(RBR, ord("c"), 1)
    assert out == b"abc" and port.count == 0
    port.data[0], port.count = ord("d"), 1
    uart.write(IER, IER_THRI, 1)
    assert out == b"abcd"
    assert lines.high(LINE), "the THR-empty interrupt the bytes left pending"
    port.data[0], port.count = ord("e"), 1
    uart.drain()
    assert out == b"abcde" and port.count == 0
