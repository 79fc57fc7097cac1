"""virtio devices over the virtio-mmio transport: split virtqueues, the transport, block."""

from polyvm.device.virtio.block import VirtioBlock, VirtioBlockMmio
from polyvm.device.virtio.device import VirtioDevice
from polyvm.device.virtio.mmio import VirtioMmio
from polyvm.device.virtio.queue import DescriptorChain, MalformedRing, SplitQueue

__all__ = [
    "DescriptorChain",
    "MalformedRing",
    "SplitQueue",
    "VirtioBlock",
    "VirtioBlockMmio",
    "VirtioDevice",
    "VirtioMmio",
]
