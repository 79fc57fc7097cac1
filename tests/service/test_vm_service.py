"""VmService under asyncio: lifecycle, prompt pause with identical state on resume, live stats,
devices, and clear errors."""

from __future__ import annotations

import asyncio
import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from polyvm import ConfigError, DeviceError, ExecutionError, UnsupportedError, VmConfig
from polyvm.devtools.baremetal import build_baremetal
from polyvm.service import VmService, VmState

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "polyvm" / "demo" / "hello-riscv64.elf"
CONFIG = VmConfig().with_memory_size(32 << 20)


@pytest.fixture(scope="module")
def spinner() -> bytes:
    """A guest that loops until a debugger clears its flag (guests/gdb/target.c)."""
    return build_baremetal(REPO / "guests" / "gdb" / "target.c", debug=True).read_bytes()


def hart_state(service: VmService) -> list[tuple]:
    return [(tuple(h.x), h.pc, h.instret, h.priv, h.mstatus) for h in service.board.harts]


@pytest.mark.timeout(60)
def test_lifecycle_pause_resume_stop(spinner):
    async def scenario():
        vm = await VmService.new(CONFIG.with_vcpu_count(2), spinner)
        assert vm.state() is VmState.CREATED and not vm.is_running()
        await vm.start()
        assert vm.is_running()
        await asyncio.sleep(0.3)
        started = time.monotonic()
        await vm.pause()
        assert time.monotonic() - started < 0.05
        assert vm.state() is VmState.PAUSED
        frozen = hart_state(vm)
        assert frozen[0][2] > 0
        await asyncio.sleep(0.2)
        assert hart_state(vm) == frozen
        await vm.resume()
        assert vm.is_running()
        # Resuming continues from exactly the paused state: nothing changed it meanwhile, and
        # the guest goes on counting from there.
        await asyncio.sleep(0.2)
        assert vm.stats().instructions_executed > sum(h[2] for h in frozen)
        await vm.stop()
        assert vm.state() is VmState.STOPPED
        await vm.stop()

    asyncio.run(scenario())


@pytest.mark.timeout(60)
def test_stats_are_live_and_monotonic(spinner):
    async def scenario():
        vm = await VmService.new(CONFIG, spinner)
        await vm.start()
        samples = []
        for _ in range(5):
            await asyncio.sleep(0.1)
            samples.append(vm.stats())
        await vm.stop()
        counts = [s.instructions_executed for s in samples]
        uptimes = [s.uptime_ms for s in samples]
        assert counts == sorted(counts) and counts[0] < counts[-1]
        assert uptimes == sorted(uptimes) and uptimes[-1] >= 400
        last = samples[-1]
        assert last.jit_blocks_compiled == 0
        assert 0.0 < last.cache_hit_rate <= 1.0
        assert 0.0 <= last.tlb_hit_rate <= 1.0

    asyncio.run(scenario())


@pytest.mark.timeout(60)
def test_guest_halt_ends_the_run():
    async def scenario():
        vm = await VmService.new(CONFIG, DEMO.read_bytes())
        await vm.start()
        assert await vm.wait(30) is VmState.HALTED
        assert vm.exit_code == 0 and b"primes below 20000: 2262" in vm.console_output
        with pytest.raises(ExecutionError, match="halted"):
            await vm.resume()
        await vm.stop()

    asyncio.run(scenario())


@pytest.mark.timeout(60)
def test_clear_errors(spinner, tmp_path):
    async def scenario():
        with pytest.raises(ConfigError, match="unknown board"):
            await VmService.new(CONFIG, spinner, board="pc")
        with pytest.raises(VmErrorWithName, match="kernel"):
            await VmService.new(CONFIG, b"not an image at all", board="spike")
        vm = await VmService.new(CONFIG, spinner)
        with pytest.raises(ExecutionError, match="cannot pause: the virtual machine is created"):
            await vm.pause()
        with pytest.raises(DeviceError, match="no virtio bus"):
            vm.add_block_device("root", tmp_path / "disk.img")
        with pytest.raises(UnsupportedError, match="without a host back end"):
            vm.add_network_device("net0", bytes.fromhex("525400123456"))
        with pytest.raises(DeviceError, match="no virtio bus"):
            vm.add_network_device("net0", bytes.fromhex("525400123456"),
                                  "socket,local=127.0.0.1:1,remote=127.0.0.1:2")
        with pytest.raises(ConfigError, match="6 bytes"):
            vm.add_network_device("net0", b"\x52\x54")
        await vm.start()
        with pytest.raises(ExecutionError, match="cannot start: the virtual machine is running"):
            await vm.start()
        with pytest.raises(ExecutionError, match="cannot resume: the virtual machine is running"):
            await vm.resume()
        await vm.stop()
        with pytest.raises(ExecutionError, match="stopped"):
            await vm.start()

    VmErrorWithName = __import__("polyvm").VmError  # noqa: N806 - the base class: a LoaderError
    asyncio.run(scenario())


@pytest.mark.timeout(120)
def test_block_devices_on_the_virt_board(spinner, tmp_path):
    image = tmp_path / "disk.img"
    image.write_bytes(bytes(1 << 20))

    async def scenario():
        vm = await VmService.new(CONFIG, spinner, board="virt", bios=None)
        with pytest.raises(DeviceError, match=f"{tmp_path / 'missing.img'} does not exist"):
            vm.add_block_device("root", tmp_path / "missing.img")
        vm.add_block_device("root", image)
        with pytest.raises(DeviceError, match="exists already"):
            vm.add_block_device("root", image)
        assert [d.path for d in vm.board.block_devices] == [str(image)]
        vm.remove_device("root")
        assert vm.board.block_devices == [] and vm.devices() == {}
        with pytest.raises(DeviceError, match="no device named 'root'"):
            vm.remove_device("root")
        vm.add_block_device("root", image)
        await vm.start()
        with pytest.raises(DeviceError, match="no device hot-plug"):
            vm.add_block_device("data", image)
        with pytest.raises(DeviceError, match="no device hot-plug"):
            vm.remove_device("root")
        # While the machine runs, the image is locked for it...
        with open(image, "rb+") as handle, pytest.raises(BlockingIOError):
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        await vm.stop()
        # ...and stop() flushed and closed it.
        with open(image, "rb+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)

    asyncio.run(scenario())


@pytest.mark.timeout(60)
def test_network_devices_on_the_virt_board(spinner):
    async def scenario():
        vm = await VmService.new(CONFIG, spinner, board="virt", bios=None)
        link = "socket,local=127.0.0.1:0,remote=127.0.0.1:9"
        vm.add_network_device("net0", bytes.fromhex("525400aabbcc"), link)
        (card,) = vm.board.net_devices
        assert card.mac == bytes.fromhex("525400aabbcc")
        assert vm.devices() == {"net0": link}
        with pytest.raises(DeviceError, match="exists already"):
            vm.add_network_device("net0", bytes(6), link)
        vm.remove_device("net0")
        assert vm.board.net_devices == []
        await vm.start()
        with pytest.raises(DeviceError, match="no device hot-plug"):
            vm.add_network_device("net1", bytes(6), link)
        await vm.stop()

    asyncio.run(scenario())


@pytest.mark.timeout(120)
def test_seed_example_runs():
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, str(REPO / "examples" / "vm_service.py")], capture_output=True,
                          text=True, timeout=100, env=env)
    assert done.returncode == 0, done.stderr
    assert "Executed " in done.stdout and "instructions" in done.stdout
    assert "Hello from a RISC-V guest running on polyvm!" in done.stdout
    assert "guest exit code 0, state stopped" in done.stdout


@pytest.mark.timeout(60)
def test_gdb_port_errors_and_release(spinner):
    async def scenario():
        first = await VmService.new(CONFIG, spinner)
        second = await VmService.new(CONFIG, spinner)
        port = first.enable_gdb_debugging(0)
        with pytest.raises(ConfigError, match="enabled already"):
            first.enable_gdb_debugging(0)
        with pytest.raises(ConfigError, match=f"cannot serve GDB on 127.0.0.1:{port}"):
            second.enable_gdb_debugging(port)
        first.disable_gdb_debugging()
        assert second.enable_gdb_debugging(port) == port
        await first.stop()
        await second.stop()
        assert second.gdb_port is None

    asyncio.run(scenario())
