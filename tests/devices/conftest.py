"""Fixtures for the device tests."""

from __future__ import annotations

import pytest

from polyvm.mem.ram import GuestRam


@pytest.fixture
def ram() -> GuestRam:
    """1 MiB of guest RAM at the virt board's DRAM base."""
    return GuestRam(1 << 20, base=0x8000_0000)
