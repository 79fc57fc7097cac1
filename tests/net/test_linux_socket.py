"""End to end: two Linux guests on virt boards linked by the UDP socket backend over loopback ping
each other and move a file over HTTP (busybox httpd and wget) with matching checksums. Slow."""

from __future__ import annotations

import re
import time

import pytest
from net_helpers import ping_each

from polyvm import ExecMode, VmConfig
from polyvm.devtools.linux_images import linux_images
from polyvm.machine.virt import VirtBoard
from polyvm.net.cli_spec import parse_nics
from tests.boards.guest_console import ConsoleSession

FW_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf"
FILE_MB = 10
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]


def boot(images, mac: str) -> ConsoleSession:
    config = VmConfig().with_exec_mode(ExecMode.HYBRID).with_memory_size(256 << 20)
    nics = parse_nics(["dgram,id=n,local=127.0.0.1:0,remote=127.0.0.1:9"],
                      [f"virtio-net-device,netdev=n,mac={mac}"])
    board = VirtBoard(config, bios=FW_JUMP, kernel=images.image, initrd=images.initramfs,
                      append="console=ttyS0", nics=nics)
    return ConsoleSession(board, 2000)


def md5(session: ConsoleSession, path: str) -> str:
    found = re.search(rb"([0-9a-f]{32})", session.run_command(f"md5sum {path}"))
    assert found is not None
    return found.group(1).decode()


def test_two_guests_ping_and_transfer_a_file() -> None:
    images = linux_images()
    server, client = boot(images, "52:54:00:12:34:56"), boot(images, "52:54:00:12:34:57")
    server_net, client_net = server.board.net_devices[0].backend, client.board.net_devices[0].backend
    server_net.remote, client_net.remote = client_net.address, server_net.address
    try:
        for session, address in ((server, "10.0.2.15"), (client, "10.0.2.16")):
            session.wait_for(b"/ # ")
            session.run_command(f"ip link set eth0 up && ip addr add {address}/24 dev eth0")
        ping_each(client, "10.0.2.15", 3)
        ping_each(server, "10.0.2.16", 2)
        server.run_command(f"mkdir -p /www && dd if=/dev/urandom of=/www/blob bs=1M count={FILE_MB}")
        server.run_command("httpd -p 8080 -h /www")
        start = time.monotonic()
        client.run_command("wget -q -O /tmp/blob http://10.0.2.15:8080/blob")
        elapsed = time.monotonic() - start
        print(f"\n{FILE_MB} MB over the socket backend in {elapsed:.1f} s: {FILE_MB / elapsed:.2f} MB/s")
        assert client.run_command("wc -c < /tmp/blob").strip() == str(FILE_MB << 20).encode()
        assert md5(client, "/tmp/blob") == md5(server, "/www/blob")
    finally:
        for session in (server, client):
            session.board.stop()
            session.finish()
            session.board.close()
