"""Fixtures for the network tests: guest RAM and loopback socket backend pairs."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from polyvm.mem.ram import GuestRam
from polyvm.net import SocketBackend

LOOPBACK = "127.0.0.1"


@pytest.fixture
def ram() -> GuestRam:
    """1 MiB of guest RAM at the virt board's DRAM base."""
    return GuestRam(1 << 20, base=0x8000_0000)


@pytest.fixture
def socket_pair() -> Iterator[tuple[SocketBackend, SocketBackend]]:
    """Two socket backends on ephemeral loopback ports, each sending to the other."""
    first = SocketBackend((LOOPBACK, 0), (LOOPBACK, 9))
    second = SocketBackend((LOOPBACK, 0), first.address)
    first.remote = second.address
    yield first, second
    first.close()
    second.close()


@pytest.fixture
def netns() -> Iterator[str]:
    """A fresh, empty network namespace (deleted afterwards); skips when it cannot be made."""
    if shutil.which("ip") is None:
        pytest.skip("iproute2 (ip) is not installed")
    if not os.path.exists("/dev/net/tun"):
        pytest.skip("/dev/net/tun does not exist on this host")
    name = f"pvmtest-{uuid.uuid4().hex[:8]}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if made.returncode:
        pytest.skip(f"cannot create a network namespace (needs CAP_SYS_ADMIN): {made.stderr.strip()}")
    yield name
    subprocess.run(["ip", "netns", "del", name], check=False)
