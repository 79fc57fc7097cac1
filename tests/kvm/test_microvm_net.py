"""virtio-net on the x86-64 microvm board (KVM): the virtio_net guest finds the card in the ACPI
tables, negotiates VERSION_1 and MAC, broadcasts a frame through a UDP socket back end to a socket the
test owns, ignores a frame of another type, and echoes the one the test sends it, woken by the
I/O APIC interrupt. Once with the board built in Python, once from ``polyvm run -M microvm``."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from polyvm.core.protocols import ExitReason
from polyvm.machine.microvm import MicrovmBoard
from polyvm.machine.virt import Drive
from polyvm.net.cli_spec import parse_nics

from .microvm_helpers import BackgroundRun
from .x86_guests import build_bzimage

pytestmark = pytest.mark.timeout(40)
GUEST_MAC = "52:54:00:12:34:99"
HOST_MAC = bytes.fromhex("020000000001")
BROADCAST = b"\xff" * 6
ETHERTYPE = b"\x88\xb5"
HELLO = b"hello from x86 guest"
PING = b"ping from the host"
IPV4_FRAME_PAYLOAD = bytes(range(40))
RUN_SECONDS = 15.0


@pytest.fixture
def peer():
    """The test's end of the link: a UDP socket on loopback with a receive timeout."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(RUN_SECONDS)
    yield sock
    sock.close()


def netdev(peer: socket.socket) -> str:
    return f"socket,id=n0,local=127.0.0.1:0,remote=127.0.0.1:{peer.getsockname()[1]}"


def talk_to_guest(peer: socket.socket) -> tuple[str, int]:
    """Receive the guest's broadcast, answer with a frame it must ignore and one it must echo, and
    check the echo; returns the guest back end's address."""
    mac = bytes.fromhex(GUEST_MAC.replace(":", ""))
    frame, guest = peer.recvfrom(4096)
    assert frame == BROADCAST + mac + ETHERTYPE + HELLO
    peer.sendto(mac + HOST_MAC + b"\x08\x00" + IPV4_FRAME_PAYLOAD, guest)
    peer.sendto(mac + HOST_MAC + ETHERTYPE + PING, guest)
    echo, sender = peer.recvfrom(4096)
    assert sender == guest
    assert echo == HOST_MAC + mac + ETHERTYPE + b"echo:" + PING
    return guest


def expected_console(window: int, irq: int) -> list[str]:
    ignored = 12 + 14 + len(IPV4_FRAME_PAYLOAD)
    return [
        f"virtio-net: window 0x{window:016x} irq {irq}",
        f"virtio-net: mac {GUEST_MAC}",
        f"virtio-net: sent {14 + len(HELLO)} bytes to ff:ff:ff:ff:ff:ff",
        f"virtio-net: ignored {ignored} bytes, num_buffers 1, type 0x0800",
        f"virtio-net: received {14 + len(PING)} bytes from 02:00:00:00:00:01: {PING.decode()}",
        f"virtio-net: sent {14 + len('echo:') + len(PING)} bytes to 02:00:00:00:00:01",
    ]


def check_console(output: str, window: int, irq: int) -> None:
    lines = output.splitlines()
    assert lines[:-1] == expected_console(window, irq)
    interrupts = int(lines[-1].removeprefix("virtio-net: interrupts "))
    assert interrupts >= 2  # the guest waits for the completion interrupt of each transmission


@pytest.mark.parametrize("with_disk", [False, True], ids=["net-only", "after-a-disk"])
def test_guest_broadcasts_and_echoes_a_frame(kvm_available, x86_config, peer, tmp_path, with_disk):
    drives = []
    if with_disk:  # the card moves to the second window: the guest must look past the disk
        disk = tmp_path / "disk.img"
        disk.write_bytes(bytes(4096))
        drives = [Drive(str(disk))]
    nics = parse_nics([netdev(peer)], [f"virtio-net-device,netdev=n0,mac={GUEST_MAC}"])
    with (MicrovmBoard(x86_config, kernel=build_bzimage("virtio_net"), drives=drives, nics=nics) as board,
          BackgroundRun(board, RUN_SECONDS) as run):
        guest = talk_to_guest(peer)
        result = run.join(RUN_SECONDS)
        assert guest == board.net_devices[0].backend.address
        dropped = board.net_devices[0].dropped
    assert (result.reason, result.exit_code, board.stop_reason) == (ExitReason.HALTED, 0, "reset")
    slot = len(drives)
    check_console(board.console_output.decode(), 0xD0000000 + slot * 0x1000, 5 + slot)
    assert dropped == 0


def test_echo_from_the_command_line(kvm_available, peer):
    command = [sys.executable, "-m", "polyvm", "run", "-M", "microvm", "-m", "64M",
               "--kernel", str(build_bzimage("virtio_net")), "--timeout", str(RUN_SECONDS),
               "-netdev", netdev(peer), "-device", f"virtio-net-device,netdev=n0,mac={GUEST_MAC}"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                          text=True) as process:
        try:
            talk_to_guest(peer)
            stdout, stderr = process.communicate(timeout=RUN_SECONDS)
        finally:
            process.kill()
    assert process.returncode == 0, stderr
    check_console(stdout, 0xD0000000, 5)
