"""A tap device (``/dev/net/tun`` with IFF_TAP | IFF_NO_PI): frames go to and come from the host
interface ``ifname``, which the host configures (addresses, bridge, namespace) as usual."""

from __future__ import annotations

import errno
import fcntl
import os
import struct

from polyvm.core.errors import DeviceError
from polyvm.net.backend import MAX_BATCH, MAX_FRAME_BYTES

TUN_PATH = "/dev/net/tun"
TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFNAMSIZ = 16
ERRORS = {
    errno.EPERM: "not permitted (needs CAP_NET_ADMIN, or a tap owned by this user)",
    errno.EACCES: "permission denied",
    errno.EBUSY: "busy (another process has it open)",
    errno.EINVAL: "invalid (is it an existing tun device, not a tap?)",
}


class TapBackend:
    """Attaches to (or creates) tap interface ``ifname`` in the caller's network namespace."""

    def __init__(self, ifname: str) -> None:
        if not ifname or len(ifname.encode()) >= IFNAMSIZ or "/" in ifname:
            raise DeviceError(f"tap interface name {ifname!r} must have 1..{IFNAMSIZ - 1} bytes")
        self.ifname = ifname
        try:
            self._fd = os.open(TUN_PATH, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            raise DeviceError(f"tap {ifname}: {TUN_PATH} does not exist (load the tun module)") from None
        except OSError as error:
            raise DeviceError(f"tap {ifname}: cannot open {TUN_PATH}: {error.strerror}") from None
        request = struct.pack(f"{IFNAMSIZ}sH", ifname.encode(), IFF_TAP | IFF_NO_PI)
        try:
            fcntl.ioctl(self._fd, TUNSETIFF, request)
        except OSError as error:
            os.close(self._fd)
            reason = ERRORS.get(error.errno, error.strerror)
            raise DeviceError(f"tap {ifname}: cannot attach: {reason}") from None

    def send(self, frame: bytes) -> None:
        try:
            os.write(self._fd, frame)
        except OSError:
            pass  # interface down or queue full: the frame is lost, as on a wire

    def receive(self) -> list[bytes]:
        frames = []
        for _ in range(MAX_BATCH):
            try:
                frames.append(os.read(self._fd, MAX_FRAME_BYTES))
            except OSError:  # EAGAIN: nothing more; anything else: the interface went away
                break
        return frames

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
