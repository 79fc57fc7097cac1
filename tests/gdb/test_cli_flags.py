"""The CLI's GDB flags: QEMU's address syntax and clear errors."""

from __future__ import annotations

import pytest

from polyvm import ConfigError
from polyvm.cli import build_parser, main, parse_gdb_address
from tests.gdb.gdb_driver import target_elf


@pytest.mark.parametrize(("spec", "address"), [
    ("tcp::1234", ("127.0.0.1", 1234)),
    ("tcp:0.0.0.0:4321", ("0.0.0.0", 4321)),
    ("5555", ("127.0.0.1", 5555)),
])
def test_gdb_addresses(spec, address):
    assert parse_gdb_address(spec) == address


@pytest.mark.parametrize("spec", ["tcp::port", "tcp::70000"])
def test_bad_gdb_addresses(spec):
    with pytest.raises(ConfigError, match="GDB"):
        parse_gdb_address(spec)


def test_dash_s_means_port_1234_and_keeps_smp():
    args = build_parser().parse_args(["run", "-smp", "2", "-s", "-S"])
    assert (args.smp, args.gdb, args.start_stopped) == (2, "tcp::1234", True)


def test_dash_capital_s_needs_a_debugger(capsys):
    assert main(["run", "-M", "spike", "--kernel", str(target_elf()), "-S"]) == 2
    assert "-S waits for a debugger" in capsys.readouterr().err
