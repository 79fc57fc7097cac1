"""What a virtio-net device needs from a host network backend."""

from __future__ import annotations

from typing import Protocol

MAX_BATCH = 64
"""Frames one ``receive`` call returns at most, so one poll cannot starve the vCPU."""
MAX_FRAME_BYTES = 65536


class NetBackend(Protocol):
    """Moves whole Ethernet frames; never blocks. A frame that cannot be sent is dropped, as a
    real link would."""

    def send(self, frame: bytes) -> None: ...

    def receive(self) -> list[bytes]:
        """The frames that arrived since the last call (at most ``MAX_BATCH``)."""
        ...

    def close(self) -> None: ...
