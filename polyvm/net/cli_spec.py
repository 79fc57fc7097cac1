"""QEMU-style network options: ``-netdev`` backends joined to ``-device virtio-net-device`` cards.

Spellings::

    -netdev tap,id=N,ifname=tap0
    -netdev socket,id=N,local=HOST:PORT,remote=HOST:PORT   (or udp=REMOTE,localaddr=LOCAL)
    -netdev dgram,id=N,local=HOST:PORT,remote=HOST:PORT
    -device virtio-net-device,netdev=N[,mac=52:54:00:12:34:56]

The CLI collects the option values and calls ``parse_nics(netdevs, devices)``; the resulting specs
go to ``VirtBoard(nics=...)``, which opens each backend and places the cards after the drives.
"""

from __future__ import annotations

import dataclasses

from polyvm.core.errors import ConfigError
from polyvm.device.virtio.net import VirtioNet, parse_mac
from polyvm.net.backend import NetBackend
from polyvm.net.socket_backend import Address, SocketBackend
from polyvm.net.tap import TapBackend

NET_DEVICES = ("virtio-net-device", "virtio-net")
SOCKET_KINDS = ("socket", "dgram")
OPTIONS = {
    "tap": {"id", "ifname"},
    "socket": {"id", "local", "remote", "udp", "localaddr"},
    "dgram": {"id", "local", "remote"},
}
ALIASES = {"udp": "remote", "localaddr": "local"}
DEFAULT_MAC = "52:54:00:12:34:{:02x}"


@dataclasses.dataclass(frozen=True)
class NicSpec:
    """One network card: its backend kind and options, and its MAC address."""

    kind: str
    options: dict[str, str]
    mac: bytes

    def open_backend(self) -> NetBackend:
        if self.kind == "tap":
            return TapBackend(self.options["ifname"])
        return SocketBackend(parse_address(self.options["local"]), parse_address(self.options["remote"]))

    def create(self) -> VirtioNet:
        """The device with its backend opened (raises DeviceError when the host refuses)."""
        return VirtioNet(self.open_backend(), self.mac)


def split_options(spec: str, option: str) -> tuple[str, dict[str, str]]:
    """``kind,key=value,...`` as the kind and a dict."""
    kind, *items = spec.split(",")
    fields = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or key in fields:
            raise ConfigError(f"{option} {spec!r}: expected distinct key=value options, got {item!r}")
        fields[key] = value
    return kind, fields


def parse_address(text: str) -> Address:
    """``HOST:PORT`` (``[v6addr]:PORT`` for IPv6)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 0xFFFF:
        raise ConfigError(f"network address {text!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


def parse_netdev(spec: str) -> tuple[str, str, dict[str, str]]:
    """One ``-netdev`` value as (id, kind, options)."""
    kind, fields = split_options(spec, "-netdev")
    if kind not in OPTIONS:
        raise ConfigError(f"-netdev {spec!r}: backend must be one of {', '.join(OPTIONS)}")
    unknown = set(fields) - OPTIONS[kind]
    if unknown:
        raise ConfigError(f"-netdev {spec!r}: unknown option(s) {', '.join(sorted(unknown))}")
    fields = {ALIASES.get(key, key): value for key, value in fields.items()}
    required = ("id", "ifname") if kind == "tap" else ("id", "local", "remote")
    missing = [key for key in required if not fields.get(key)]
    if missing:
        raise ConfigError(f"-netdev {spec!r}: {', '.join(missing)} required")
    if kind in SOCKET_KINDS:
        parse_address(fields["local"])
        parse_address(fields["remote"])
    netdev_id = fields.pop("id")
    return netdev_id, "tap" if kind == "tap" else "socket", fields


def is_net_device(spec: str) -> bool:
    """Whether a ``-device`` value is a network card this module handles."""
    return spec.split(",", 1)[0] in NET_DEVICES


def parse_nics(netdevs: list[str], devices: list[str]) -> list[NicSpec]:
    """Every ``-device virtio-net-device`` joined to its ``-netdev``, in command-line order."""
    backends: dict[str, tuple[str, dict[str, str]]] = {}
    for spec in netdevs:
        netdev_id, kind, fields = parse_netdev(spec)
        if netdev_id in backends:
            raise ConfigError(f"-netdev id {netdev_id!r} is used twice")
        backends[netdev_id] = (kind, fields)
    nics = []
    used: set[str] = set()
    for index, spec in enumerate(devices):
        driver, fields = split_options(spec, "-device")
        if driver not in NET_DEVICES:
            raise ConfigError(f"-device {spec!r}: only {' / '.join(NET_DEVICES)} is supported here")
        unknown = set(fields) - {"netdev", "mac"}
        if unknown:
            raise ConfigError(f"-device {spec!r}: unknown option(s) {', '.join(sorted(unknown))}")
        netdev_id = fields.get("netdev", "")
        if netdev_id not in backends:
            raise ConfigError(f"-device {spec!r}: netdev={netdev_id!r} names no -netdev")
        if netdev_id in used:
            raise ConfigError(f"-netdev {netdev_id!r} is connected to two devices")
        used.add(netdev_id)
        kind, options = backends[netdev_id]
        mac = parse_mac(fields.get("mac") or DEFAULT_MAC.format(0x56 + index))
        nics.append(NicSpec(kind, options, mac))
    unused = sorted(set(backends) - used)
    if unused:
        raise ConfigError(f"-netdev {', '.join(unused)} is not connected to any -device")
    return nics
