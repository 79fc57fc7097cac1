"""Host network backends for virtio-net: a UDP datagram link between polyvm instances and a tap
device; ``cli_spec`` parses QEMU-style ``-netdev`` / ``-device virtio-net-device`` options."""

from polyvm.net.backend import NetBackend
from polyvm.net.socket_backend import SocketBackend
from polyvm.net.tap import TapBackend

__all__ = ["NetBackend", "SocketBackend", "TapBackend"]
