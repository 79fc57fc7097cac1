"""The interactive console: on a terminal, keys reach the guest raw and Ctrl-A x quits (QEMU's
escape); with a pipe for stdin, the bytes pass through unchanged."""

import os
import pty
import select
import subprocess
import sys
import time

FW_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf"
UBOOT = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"
COMMAND = [sys.executable, "-m", "polyvm", "run", "-M", "virt", "-m", "128M", "--bios", FW_JUMP,
           "--kernel", UBOOT, "--nographic"]


def read_until(fd: int, text: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while text not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                break
    return seen


def test_ctrl_a_x_quits_from_a_terminal():
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(COMMAND, stdin=secondary, stdout=secondary, stderr=secondary)
    os.close(secondary)
    try:
        assert b"=> " in read_until(primary, b"=> ", 120)
        os.write(primary, b"version\r")
        assert b"U-Boot 2023.01" in read_until(primary, b"GNU ld", 60)
        os.write(primary, b"\x01x")
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        os.close(primary)


def test_piped_stdin_reaches_the_guest():
    proc = subprocess.Popen(COMMAND + ["--timeout", "60"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert b"Hit any key" in read_until(proc.stdout.fileno(), b"Hit any key", 120)
        proc.stdin.write(b"\nversion\n")
        proc.stdin.flush()
        out = read_until(proc.stdout.fileno(), b"GNU ld", 60)
        assert b"U-Boot 2023.01" in out
    finally:
        proc.kill()
        proc.wait()
