"""QEMU-style -netdev / -device parsing, and network cards on the virt board."""

from __future__ import annotations

from pathlib import Path

import pytest

from polyvm import VmConfig
from polyvm.core.errors import ConfigError, DeviceError
from polyvm.device.virtio import mmio
from polyvm.device.virtio.net import VirtioNetMmio
from polyvm.machine.virt import Drive, VirtBoard
from polyvm.net import SocketBackend
from polyvm.net.cli_spec import NicSpec, is_net_device, parse_address, parse_nics

FW_JUMP = Path("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf")
UBOOT = Path("/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin")
MAC = bytes.fromhex("525400123456")


def test_all_spellings() -> None:
    nics = parse_nics(
        ["tap,id=t,ifname=tap7", "socket,id=s,local=127.0.0.1:5000,remote=127.0.0.1:5001",
         "dgram,id=d,local=[::1]:6000,remote=[::1]:6001",
         "socket,id=u,udp=localhost:7001,localaddr=localhost:7000"],
        ["virtio-net-device,netdev=s", "virtio-net-device,netdev=t,mac=02:00:00:00:00:01",
         "virtio-net,netdev=d", "virtio-net-device,netdev=u"],
    )
    assert nics == [
        NicSpec("socket", {"local": "127.0.0.1:5000", "remote": "127.0.0.1:5001"}, MAC),
        NicSpec("tap", {"ifname": "tap7"}, bytes.fromhex("020000000001")),
        NicSpec("socket", {"local": "[::1]:6000", "remote": "[::1]:6001"}, bytes.fromhex("525400123458")),
        NicSpec("socket", {"remote": "localhost:7001", "local": "localhost:7000"},
                bytes.fromhex("525400123459")),
    ]
    assert parse_address("[::1]:6000") == ("::1", 6000)
    assert is_net_device("virtio-net-device,netdev=x") and not is_net_device("virtio-blk-device")


@pytest.mark.parametrize(
    ("netdevs", "devices", "message"),
    [
        (["user,id=a"], [], "backend must be one of"),
        (["tap,id=a"], ["virtio-net-device,netdev=a"], "ifname required"),
        (["tap,id=a,ifname=x,vhost=on"], [], "unknown option"),
        (["socket,id=a,local=1.2.3.4,remote=1.2.3.4:5"], [], "not HOST:PORT"),
        (["tap,id=a,ifname=x", "tap,id=a,ifname=y"], [], "used twice"),
        (["tap,id=a,ifname=x"], [], "not connected"),
        (["tap,id=a,ifname=x"], ["virtio-net-device,netdev=b"], "names no -netdev"),
        (["tap,id=a,ifname=x"], ["virtio-net-device,netdev=a", "virtio-net-device,netdev=a"], "two devices"),
        (["tap,id=a,ifname=x"], ["e1000,netdev=a"], "only virtio-net-device"),
        (["tap,id=a,ifname=x"], ["virtio-net-device,netdev=a,mac=01:00:00:00:00:00"], "multicast"),
        (["tap,id=a,ifname"], [], "key=value"),
    ],
)
def test_errors(netdevs: list[str], devices: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_nics(netdevs, devices)


def board(nics: list[NicSpec], drives: list[Drive] | None = None) -> VirtBoard:
    config = VmConfig().with_memory_size(64 << 20)
    return VirtBoard(config, bios=FW_JUMP, kernel=UBOOT, drives=drives, nics=nics)


def test_cards_follow_the_drives_on_the_virt_board(tmp_path: Path) -> None:
    disk = tmp_path / "disk.img"
    disk.write_bytes(bytes(4096))
    nics = parse_nics([f"dgram,id={name},local=127.0.0.1:0,remote=127.0.0.1:9" for name in "ab"],
                      ["virtio-net-device,netdev=a", "virtio-net-device,netdev=b"])
    vm = board(nics, [Drive(str(disk))])
    ids = [transport.read(mmio.DEVICE_ID, 4) for transport in vm.virtio]
    assert ids == [2, 1, 1, 0, 0, 0, 0, 0]
    cards = vm.virtio[1:3]
    assert all(isinstance(card, VirtioNetMmio) and card.poll in vm.pollers for card in cards)
    assert [bytes(card.read(0x100 + i, 1) for i in range(6)).hex() for card in cards] == [
        "525400123456", "525400123457"]
    addresses = [card.net.backend.address for card in cards]
    vm.close()
    for address in addresses:  # closed: the ports can be bound again
        SocketBackend(address, ("127.0.0.1", 9)).close()


def test_too_many_devices_and_host_refusals() -> None:
    spec = NicSpec("socket", {"local": "127.0.0.1:0", "remote": "127.0.0.1:9"}, MAC)
    with pytest.raises(ConfigError, match="at most 8"):
        board([spec] * 9)
    with pytest.raises(DeviceError, match="cannot resolve"):
        board([NicSpec("socket", {"local": "no-such-host.invalid:0", "remote": "127.0.0.1:9"}, MAC)])
