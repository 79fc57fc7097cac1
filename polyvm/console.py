"""The host side of a guest console: stdin to the guest's UART, with QEMU's Ctrl-A escapes.

On a terminal, stdin is switched to raw mode (restored on exit) so keys reach the guest as typed;
``Ctrl-A x`` quits, ``Ctrl-A h`` lists the escapes, ``Ctrl-A Ctrl-A`` sends one Ctrl-A. When stdin
is not a terminal (a script, a pipe) its bytes are passed through unchanged until end of file.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable

CTRL_A = 0x01
HELP = b"\r\nC-a h    print this help\r\nC-a x    exit polyvm\r\nC-a C-a  send C-a\r\n"


class HostConsole:
    def __init__(self, send: Callable[[bytes], None], quit_: Callable[[], None],
                 stdin_fd: int | None = None) -> None:
        self.send = send
        self.quit = quit_
        self.fd = sys.stdin.fileno() if stdin_fd is None else stdin_fd
        self.interactive = os.isatty(self.fd)
        self._saved_mode = None
        self._escape = False
        self._thread = threading.Thread(target=self._read_loop, name="polyvm-console", daemon=True)

    def start(self) -> None:
        if self.interactive:
            import termios
            import tty

            self._saved_mode = termios.tcgetattr(self.fd)
            tty.setraw(self.fd)
        self._thread.start()

    def restore(self) -> None:
        if self._saved_mode is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved_mode)
            self._saved_mode = None

    def _read_loop(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 256)
            except OSError:
                return
            if not data:
                return
            self.send(self._filter(data) if self.interactive else data)

    def _filter(self, data: bytes) -> bytes:
        out = bytearray()
        for byte in data:
            if self._escape:
                self._escape = False
                if byte in (ord("x"), ord("X")):
                    self.quit()
                elif byte in (ord("h"), ord("H"), ord("?")):
                    os.write(sys.stdout.fileno(), HELP)
                elif byte == CTRL_A:
                    out.append(CTRL_A)
            elif byte == CTRL_A:
                self._escape = True
            else:
                out.append(byte)
        return bytes(out)
