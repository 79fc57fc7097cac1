"""CLINT register semantics: msip, mtimecmp (whole and halves), mtime and its offset, MTIP level."""

from __future__ import annotations

import pytest
from device_helpers import Clock, Hart

from polyvm.core.errors import ConfigError
from polyvm.device.clint import MIP_MSIP, MIP_MTIP, MTIME, MTIMECMP_BASE, Clint


def make(harts: int = 2, now: int = 0) -> tuple[Clint, list[Hart], Clock]:
    targets = [Hart() for _ in range(harts)]
    clock = Clock(now)
    return Clint(harts, targets, clock), targets, clock


def test_msip_drives_only_its_hart() -> None:
    clint, harts, _ = make()
    clint.write(4, 1, 4)
    assert harts[1].pending(MIP_MSIP) and not harts[0].pending(MIP_MSIP)
    assert clint.read(4, 4) == 1 and clint.read(0, 4) == 0
    clint.write(4, 0xFFFFFFFE, 4)
    assert not harts[1].pending(MIP_MSIP)
    assert clint.read(4, 4) == 0


def test_mtip_is_the_level_mtime_ge_mtimecmp() -> None:
    clint, harts, clock = make(now=100)
    assert not harts[0].pending(MIP_MTIP)
    clint.write(MTIMECMP_BASE, 150, 8)
    assert not harts[0].pending(MIP_MTIP)
    assert clint.next_deadline() == 150
    clock.now = 150
    clint.poll()
    assert harts[0].pending(MIP_MTIP) and not harts[1].pending(MIP_MTIP)
    assert clint.next_deadline() is None
    clint.write(MTIMECMP_BASE, 1000, 8)
    assert not harts[0].pending(MIP_MTIP)
    clint.write(MTIMECMP_BASE + 8, 10, 8)
    assert harts[1].pending(MIP_MTIP)


def test_mtimecmp_halves() -> None:
    clint, harts, clock = make(harts=1, now=5)
    clint.write(MTIMECMP_BASE + 4, 0x1, 4)
    clint.write(MTIMECMP_BASE, 0x2345_6789, 4)
    assert clint.mtimecmp[0] == 0x1_2345_6789
    assert clint.read(MTIMECMP_BASE, 8) == 0x1_2345_6789
    assert clint.read(MTIMECMP_BASE + 4, 4) == 1
    assert clint.read(MTIMECMP_BASE, 4) == 0x2345_6789
    clock.now = 0x1_2345_6789
    clint.poll()
    assert harts[0].pending(MIP_MTIP)


def test_mtime_reads_the_source_and_writes_set_an_offset() -> None:
    clint, harts, clock = make(harts=1, now=1000)
    assert clint.read(MTIME, 8) == 1000
    clint.write(MTIME, 50, 8)
    assert clint.read(MTIME, 8) == 50
    clock.now = 1010
    assert clint.read(MTIME, 8) == 60
    clint.write(MTIME + 4, 2, 4)
    assert clint.read(MTIME, 8) == (2 << 32) | 60
    assert clint.read(MTIME + 4, 4) == 2
    clint.write(MTIMECMP_BASE, 2 << 32, 8)
    assert harts[0].pending(MIP_MTIP)


def test_unmapped_offsets_read_zero_and_ignore_writes() -> None:
    clint, harts, _ = make(harts=1)
    clint.write(0x8000, 1, 4)
    assert clint.read(0x8000, 4) == 0
    assert clint.read(8, 4) == 0
    assert harts[0].mip == 0


def test_configuration_is_checked() -> None:
    with pytest.raises(ConfigError):
        Clint(2, [Hart()], Clock())
