"""Debian's gdb-multiarch against polyvm's GDB stub, debugging guests/gdb/target.c on the spike board."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import time

import pytest

from polyvm import VmConfig
from polyvm.service import VmService, VmState
from tests.gdb.gdb_driver import GDB, REPO, RspClient, free_port, gdb_command, run_gdb, target_elf

pytestmark = pytest.mark.skipif(GDB is None, reason="gdb-multiarch is not installed (scripts/setup.sh)")
CONFIG = VmConfig().with_memory_size(32 << 20)


@pytest.fixture(scope="module")
def elf():
    return target_elf()


def debugged(elf, *, running: bool, harts: int = 1) -> tuple[VmService, int]:
    """A VmService on the debug guest with GDB enabled on a free port, started or not."""
    vm = asyncio.run(VmService.new(CONFIG.with_vcpu_count(harts), elf.read_bytes()))
    port = vm.enable_gdb_debugging(0)
    if running:
        asyncio.run(vm.start())
    return vm, port


@pytest.fixture
def stopped(elf):
    vm, port = debugged(elf, running=False)
    yield vm, port
    asyncio.run(vm.stop())


@pytest.fixture
def running(elf):
    vm, port = debugged(elf, running=True)
    yield vm, port
    asyncio.run(vm.stop())


def symbol(vm: VmService, name: str) -> int:
    from elftools.elf.elffile import ELFFile

    with open(target_elf(), "rb") as handle:
        (entry,) = ELFFile(handle).get_section_by_name(".symtab").get_symbol_by_name(name)
        return entry["st_value"]


def read_u64(vm: VmService, name: str) -> int:
    return int.from_bytes(vm.board.read_phys(symbol(vm, name), 8), "little")


@pytest.mark.timeout(120)
def test_break_continue_backtrace_finish_and_step(elf, stopped):
    vm, port = stopped
    out = run_gdb(elf, port, [
        "break square", "continue", "bt", "continue", "finish", "p/x $pc", "stepi", "p/x $pc",
        "info registers a0",
    ])
    assert "Breakpoint 1, square (x=x@entry=0)" in out
    assert re.search(r"#1 .* in add_squares \(n=n@entry=10\)", out)
    assert re.search(r"#2 .* in main \(\)", out)
    assert "Breakpoint 1, square (x=x@entry=1)" in out
    assert "Value returned is $1 = 1" in out
    before, after = (int(v, 16) for v in re.findall(r"\$\d+ = (0x[0-9a-f]+)", out)[-2:])
    assert after - before in (2, 4)
    assert vm.state() is VmState.RUNNING  # batch gdb detaches when it quits: the guest goes on


@pytest.mark.timeout(120)
def test_read_and_write_registers_and_memory(elf, stopped):
    vm, port = stopped
    out = run_gdb(elf, port, [
        "break store_watched", "continue", "p/x $a0", "set $a0 = 0x1234", "p/x $a0", "p $mhartid",
        "p/x $misa", "info registers priv", "p $ft0", "x/2xw &keep_spinning", "set var keep_spinning = 0",
        "set var spins = 0xabcdef", "p/x spins", "delete", "continue",
    ])
    assert "$1 = 0x11d" in out and "$2 = 0x1234" in out and "$3 = 0" in out
    assert "$4 = 0x800000000014112d" in out  # RV64 IMACSU + F, D
    assert re.search(r"priv\s+0x3\s+prv:3 \[Machine\]", out)
    assert re.search(r"<keep_spinning>:\s+0x00000001\s+0x00000000", out)
    assert "$6 = 0xabcdef" in out
    assert "[Inferior 1 (Remote target) exited normally]" in out
    # What gdb wrote reached guest memory and registers: the guest stored the new a0 and stopped.
    assert read_u64(vm, "watched") == 0x1234 and read_u64(vm, "keep_spinning") == 0
    assert vm.state() is VmState.HALTED and vm.exit_code == 0


@pytest.mark.timeout(120)
def test_watchpoints_fire_after_the_access(elf, stopped):
    vm, port = stopped
    out = run_gdb(elf, port, [
        "watch watched", "continue", "p watched", "delete", "rwatch keep_spinning", "continue",
        "p $pc", "delete", "awatch spins", "continue",
    ])
    assert "Hardware watchpoint 1: watched" in out
    assert "Old value = 0" in out and "New value = 285" in out and "$1 = 285" in out
    assert "Hardware read watchpoint 2: keep_spinning" in out and "Value = 1" in out
    assert "Hardware access (read/write) watchpoint 3: spins" in out


@pytest.mark.timeout(120)
def test_ctrl_c_stops_a_running_guest(elf, running):
    vm, port = running
    gdb = subprocess.Popen(gdb_command(elf, port, ["continue"], batch=False), stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        while b"Continuing." not in gdb.stdout.readline():
            pass
        time.sleep(0.5)
        assert vm.is_running()
        gdb.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 30
        while vm.state() is not VmState.PAUSED:
            assert time.monotonic() < deadline, "Ctrl-C did not stop the guest"
            time.sleep(0.05)
        spins = read_u64(vm, "spins")
        time.sleep(0.2)
        assert read_u64(vm, "spins") == spins
        out, _ = gdb.communicate(b"p spins > 0\nset var keep_spinning = 0\ncontinue\nquit\n", timeout=60)
    finally:
        gdb.kill()
    text = out.decode()
    assert "Program received signal SIGINT, Interrupt." in text and "$1 = 1" in text
    assert "exited normally" in text and vm.exit_code == 0


@pytest.mark.timeout(120)
def test_detach_leaves_the_guest_running(elf, running):
    vm, port = running
    out = run_gdb(elf, port, ["p keep_spinning", "detach"])
    assert "$1 = 1" in out and "[Inferior 1 (Remote target) detached]" in out
    assert vm.is_running()
    first = vm.stats().instructions_executed
    time.sleep(0.3)
    assert vm.stats().instructions_executed > first


@pytest.mark.timeout(120)
def test_harts_are_threads(elf):
    vm, port = debugged(elf, running=False, harts=2)
    try:
        out = run_gdb(elf, port, ["info threads", "thread 2", "p $mhartid", "thread 1", "p $mhartid"])
    finally:
        asyncio.run(vm.stop())
    assert re.search(r"\* 1\s+Thread 1 \(hart 0 \(M-mode\)\)", out)
    assert re.search(r"2\s+Thread 2 \(hart 1 \(M-mode\)\)", out)
    assert "$1 = 1" in out and "$2 = 0" in out


@pytest.mark.timeout(60)
def test_protocol_details(elf, stopped):
    vm, port = stopped
    client = RspClient(port)
    try:
        assert "qXfer:features:read+" in client.request("qSupported:multiprocess+;swbreak+")
        xml = client.request("qXfer:features:read:target.xml:0,ffff")
        assert xml.startswith("l") and "<architecture>riscv:rv64</architecture>" in xml
        for feature in ("cpu", "fpu", "csr"):
            assert f'<feature name="org.gnu.gdb.riscv.{feature}">' in xml
        assert '<reg name="mstatus" bitsize="64" type="int" regnum="833"/>' in xml
        assert client.request("qSomethingNew") == "" and client.request("vSomethingNew") == ""
        registers = client.request("g")
        assert len(registers) == 33 * 16
        a0 = (0x1122334455667788).to_bytes(8, "little").hex()
        assert client.request("G" + registers[: 10 * 16] + a0 + registers[11 * 16 :]) == "OK"
        assert client.request("pa") == a0 and vm.board.harts[0].x[10] == 0x1122334455667788
        assert client.request("P21=0000000000000840") == "OK" and vm.board.harts[0].x[32] == 0x4008 << 48
        assert client.request("P42=05000000") == "OK" and client.request("p42") == "05000000"
        assert client.request("p44") == "05000000"  # fcsr = frm << 5 | fflags
        assert client.request("P20=00") == "E01"  # pc has 8 bytes
        assert client.request("m1000,8") == "E14"  # nothing is mapped there on spike
        square = symbol(vm, "square")
        code = vm.board.read_phys(square, 4)
        assert client.request(f"Z0,{square:x},2") == "OK"
        assert vm.board.read_phys(square, 4) == code  # breakpoints stay outside guest memory
        assert client.request(f"m{square:x},4") == code.hex()
        assert client.request("c").startswith("T05swbreak:;thread:1;")
        assert int.from_bytes(bytes.fromhex(client.request("p20")), "little") == square
        client.send("k")  # no reply: the session ends
    finally:
        client.close()
    deadline = time.monotonic() + 10
    while vm.state() is not VmState.STOPPED:
        assert time.monotonic() < deadline, "k did not stop the machine"
        time.sleep(0.05)


@pytest.mark.timeout(120)
def test_cli_waits_for_gdb_with_dash_capital_s(elf):
    port = free_port()
    vm = subprocess.Popen([sys.executable, "-m", "polyvm", "run", "-M", "spike", "--kernel", str(elf),
                           "--gdb", f"tcp::{port}", "-S"], cwd=REPO, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    try:
        assert f"waiting for gdb on 127.0.0.1:{port}" in vm.stderr.readline()
        out = run_gdb(elf, port, ["break add_squares", "continue", "set var keep_spinning = 0", "delete",
                                  "continue"])
        stdout, _ = vm.communicate(timeout=60)
    finally:
        vm.kill()
    assert "Breakpoint 1, add_squares (n=n@entry=10)" in out
    assert "exited normally" in out
    assert vm.returncode == 0 and "gdb target done" in stdout
