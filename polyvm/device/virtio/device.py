"""What a virtio device back end (block, net, ...) gives its transport: identity, features, queues,
configuration space, and request handling."""

from __future__ import annotations

import abc

from polyvm.device.virtio.queue import DescriptorChain, SplitQueue
from polyvm.mem.ram import GuestRam

F_INDIRECT_DESC = 1 << 28
F_EVENT_IDX = 1 << 29
F_VERSION_1 = 1 << 32
TRANSPORT_FEATURES = F_INDIRECT_DESC | F_EVENT_IDX | F_VERSION_1
"""Feature bits the transport and SplitQueue implement for every device."""


class VirtioDevice(abc.ABC):
    """Base class of device back ends. Subclasses set ``device_id`` and ``queue_sizes`` and
    implement ``handle``; request/response devices need nothing more."""

    device_id = 0
    queue_sizes: tuple[int, ...] = ()

    def device_features(self) -> int:
        """Device-specific feature bits offered to the driver."""
        return 0

    def config_space(self) -> bytes:
        """The current device configuration space (little-endian fields)."""
        return b""

    def write_config(self, offset: int, data: bytes) -> None:
        """A driver write into the configuration space; read-only unless a device overrides it."""
        return None

    def reset(self) -> None:
        """The driver reset the device (status 0); stateless devices have nothing to do."""
        return None

    @abc.abstractmethod
    def handle(self, queue_index: int, chain: DescriptorChain, ram: GuestRam) -> int:
        """Serve one request; returns how many bytes were written into the chain."""

    def process(self, queue_index: int, queue: SplitQueue) -> None:
        """Serve every available request on a queue (devices that hold buffers override this)."""
        while (chain := queue.pop()) is not None:
            queue.push(chain.head, self.handle(queue_index, chain, queue.ram))
