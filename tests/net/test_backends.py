"""Host network backends: UDP socket pairs over loopback, and a tap device inside a network
namespace the test creates (skipped when namespaces or /dev/net/tun are not available)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from polyvm.core.errors import DeviceError
from polyvm.net import SocketBackend, TapBackend, tap
from polyvm.net.backend import MAX_BATCH

LOOPBACK = "127.0.0.1"


def test_socket_pair_exchanges_frames_both_ways(socket_pair) -> None:
    first, second = socket_pair
    first.send(b"\x01" * 60)
    second.send(b"\x02" * 1514)
    assert second.receive() == [b"\x01" * 60]
    assert first.receive() == [b"\x02" * 1514]
    assert first.receive() == [] and second.receive() == []


def test_socket_receive_is_batched(socket_pair) -> None:
    first, second = socket_pair
    for index in range(MAX_BATCH + 3):
        first.send(index.to_bytes(2, "big") * 30)
    batch = second.receive()
    assert len(batch) == MAX_BATCH and batch[0] == bytes(2) * 30
    assert len(second.receive()) == 3


def test_socket_send_without_a_listener_is_dropped() -> None:
    lonely = SocketBackend((LOOPBACK, 0), (LOOPBACK, 9))
    lonely.send(b"\x00" * 60)
    lonely.send(b"\x00" * 60)
    assert lonely.receive() == []
    lonely.close()


def test_socket_address_in_use_is_a_device_error(socket_pair) -> None:
    with pytest.raises(DeviceError, match="cannot bind"):
        SocketBackend(socket_pair[0].address, (LOOPBACK, 9))


def test_socket_unresolvable_host_is_a_device_error() -> None:
    with pytest.raises(DeviceError, match="cannot resolve"):
        SocketBackend(("no-such-host.invalid", 0), (LOOPBACK, 9))


def test_missing_tun_device_is_a_device_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tap, "TUN_PATH", str(tmp_path / "tun"))
    with pytest.raises(DeviceError, match="does not exist"):
        TapBackend("pvm0")


@pytest.mark.parametrize("name", ["", "x" * 16, "a/b"])
def test_bad_tap_names_are_refused(name: str) -> None:
    with pytest.raises(DeviceError, match="must have"):
        TapBackend(name)


TAP_SCRIPT = textwrap.dedent("""
    import subprocess, time
    from polyvm.core.errors import DeviceError
    from polyvm.net import TapBackend

    backend = TapBackend("pvmtap0")
    try:
        TapBackend("pvmtap0")
    except DeviceError as error:
        print("second:", error)
    for command in ("ip link set lo up", "ip link set pvmtap0 up",
                    "ip addr add 10.0.2.2/24 dev pvmtap0"):
        subprocess.run(command.split(), check=True)
    guest_mac, host_ip, guest_ip = bytes.fromhex("525400123456"), bytes([10, 0, 2, 2]), bytes([10, 0, 2, 15])
    arp = bytes.fromhex("0001080006040001") + guest_mac + guest_ip + bytes(6) + host_ip
    request = b"\\xff" * 6 + guest_mac + b"\\x08\\x06" + arp
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        backend.send(request)
        time.sleep(0.05)
        for frame in backend.receive():
            if frame[12:14] == b"\\x08\\x06" and frame[20:22] == b"\\x00\\x02":
                print("reply from", frame[28:32].hex(), "to", frame[:6].hex())
                deadline = 0
    backend.close()
""")


def test_tap_in_a_namespace_answers_arp(netns: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    result = subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-c", TAP_SCRIPT],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert "second: tap pvmtap0: cannot attach: busy" in result.stdout
    assert "reply from 0a000202 to 525400123456" in result.stdout
