"""End to end: the project's Linux guest on the virt board, with a virtio-net card on a tap device
inside a test-made network namespace, configures eth0, pings the host side and talks to a TCP
server there (10.0.2.x addresses exist only inside the namespace). Slow: boots Linux."""

from __future__ import annotations

import socket
import subprocess
import threading

import pytest
from net_helpers import in_netns, ping_each

from polyvm import ExecMode, VmConfig
from polyvm.devtools.linux_images import linux_images
from polyvm.machine.virt import VirtBoard
from polyvm.net.cli_spec import parse_nics
from tests.boards.guest_console import ConsoleSession
from tests.modes import each_emulated_mode

FW_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf"
TAP, HOST_IP, GUEST_IP = "pvmtap0", "10.0.2.2", "10.0.2.15"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def serve_once(server: socket.socket) -> None:
    """Answer one connection: read a line, send back ``pong:`` and the line, close."""
    connection, _ = server.accept()
    with connection:
        connection.settimeout(60)
        line = connection.makefile("rb").readline()
        connection.sendall(b"pong:" + line)


@each_emulated_mode
def test_linux_guest_reaches_a_tcp_server_through_tap(netns: str, mode: ExecMode) -> None:
    images = linux_images()
    config = VmConfig().with_exec_mode(mode).with_memory_size(256 << 20)
    nics = parse_nics([f"tap,id=n0,ifname={TAP}"], ["virtio-net-device,netdev=n0,mac=52:54:00:12:34:56"])

    def build() -> tuple[VirtBoard, socket.socket]:
        board = VirtBoard(config, bios=FW_JUMP, kernel=images.image, initrd=images.initramfs,
                          append="console=ttyS0", nics=nics)
        for command in (f"ip link set {TAP} up", f"ip addr add {HOST_IP}/24 dev {TAP}"):
            subprocess.run(command.split(), check=True)
        return board, socket.create_server((HOST_IP, 0))

    board, server = in_netns(netns, build)
    port = server.getsockname()[1]
    server_thread = threading.Thread(target=serve_once, args=(server,), daemon=True)
    server_thread.start()
    session = ConsoleSession(board, 1500)
    try:
        session.wait_for(b"/ # ")
        session.run_command(f"ip link set eth0 up && ip addr add {GUEST_IP}/24 dev eth0")
        ping_each(session, HOST_IP, 2)
        reply = session.run_command(f"echo hello-from-guest | timeout 60 nc {HOST_IP} {port}")
        assert b"pong:hello-from-guest" in reply
        server_thread.join(10)
        board.uart.push_input(b"poweroff -f\n")
        result = session.finish()
        assert result is not None and board.power_event == "poweroff"
    finally:
        board.stop()
        session.finish()
        board.close()
        server.close()
