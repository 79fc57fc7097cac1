"""The FDT writer: header layout, string de-duplication, and a round trip through ``dtc``."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

from polyvm.core.errors import ConfigError
from polyvm.machine.fdt import FDT_MAGIC, Fdt


def virt_like_tree() -> Fdt:
    """A two-hart tree shaped like QEMU virt's, with every property type."""
    fdt = Fdt()
    fdt.reserve(0x8000_0000, 0x20_0000)
    root = fdt.root
    root.set_u32("#address-cells", 2).set_u32("#size-cells", 2)
    root.set_string("compatible", "riscv-virtio").set_string("model", "polyvm,virt")
    fdt.node("/chosen").set_string("bootargs", "console=ttyS0").set_string(
        "stdout-path", "/soc/serial@10000000"
    )
    fdt.node("/memory@80000000").set_string("device_type", "memory").set_u64("reg", 0x8000_0000, 0x1000_0000)
    cpus = fdt.node("/cpus").set_u32("#address-cells", 1).set_u32("#size-cells", 0)
    cpus.set_u32("timebase-frequency", 10_000_000)
    intcs = []
    for hart in range(2):
        cpu = cpus.node(f"cpu@{hart}").set_string("device_type", "cpu").set_u32("reg", hart)
        cpu.set_string("status", "okay").set_string("compatible", "riscv")
        cpu.set_string("riscv,isa", "rv64imafdc").set_string("mmu-type", "riscv,sv39")
        intc = cpu.node("interrupt-controller").set_u32("#interrupt-cells", 1)
        intc.set_u32("#address-cells", 0)
        intc.set_empty("interrupt-controller").set_string("compatible", "riscv,cpu-intc")
        intcs.append(intc.phandle())
    soc = fdt.node("/soc").set_u32("#address-cells", 2).set_u32("#size-cells", 2)
    soc.set_string("compatible", "simple-bus").set_empty("ranges")
    plic = soc.node("plic@c000000").set_strings("compatible", "sifive,plic-1.0.0", "riscv,plic0")
    plic.set_u32("#interrupt-cells", 1).set_u32("#address-cells", 0).set_empty("interrupt-controller")
    plic.set_u64("reg", 0xC00_0000, 0x60_0000).set_u32("riscv,ndev", 95)
    plic.set_u32("interrupts-extended", *[v for h in intcs for v in (h, 11, h, 9)])
    uart = soc.node("serial@10000000").set_string("compatible", "ns16550a")
    uart.set_u64("reg", 0x1000_0000, 0x100).set_u32("interrupts", 10)
    uart.set_u32("interrupt-parent", plic.phandle()).set_u32("clock-frequency", 3_686_400)
    soc.node("test@100000").set_bytes("reg", struct.pack(">4I", 0, 0x100000, 0, 0x1000))
    soc.node("test@100000").set_strings("compatible", "sifive,test1", "sifive,test0", "syscon")
    return fdt


def test_header_layout_and_string_sharing() -> None:
    blob = virt_like_tree().to_bytes()
    magic, total, off_struct, off_strings, off_rsv, version, last, cpu, size_strings, size_struct = (
        struct.unpack_from(">10I", blob)
    )
    assert (magic, total, version, last, cpu) == (FDT_MAGIC, len(blob), 17, 16, 0)
    assert off_rsv % 8 == 0 and off_struct % 4 == 0
    assert struct.unpack_from(">4Q", blob, off_rsv) == (0x8000_0000, 0x20_0000, 0, 0)
    assert off_strings == off_struct + size_struct and off_strings + size_strings == total
    strings = blob[off_strings:].split(b"\0")
    assert strings.count(b"compatible") == 1 and b"phandle" in strings
    padded = virt_like_tree().to_bytes(padding=4096)
    assert len(padded) == len(blob) + 4096 == struct.unpack_from(">I", padded, 4)[0]
    assert padded[: len(blob)][8:] == blob[8:]


def test_dtc_reads_the_blob_back(tmp_path: Path) -> None:
    """dtc comes from device-tree-compiler (scripts/setup.sh installs it)."""
    dtb = tmp_path / "virt.dtb"
    dtb.write_bytes(virt_like_tree().to_bytes(padding=1024))
    result = subprocess.run(
        ["dtc", "-I", "dtb", "-O", "dts", str(dtb)], capture_output=True, text=True, check=True
    )
    dts = result.stdout
    assert result.stderr == "", result.stderr
    assert "/memreserve/\t0x0000000080000000 0x0000000000200000;" in dts
    assert 'compatible = "sifive,plic-1.0.0\\0riscv,plic0";' in dts
    assert "reg = <0x00 0x80000000 0x00 0x10000000>;" in dts
    assert "interrupts-extended = <0x01 0x0b 0x01 0x09 0x02 0x0b 0x02 0x09>;" in dts
    assert "interrupt-parent = <0x03>;" in dts and "phandle = <0x03>;" in dts
    assert "interrupt-controller;" in dts and "ranges;" in dts
    assert 'bootargs = "console=ttyS0";' in dts
    again = tmp_path / "again.dtb"
    subprocess.run(["dtc", "-I", "dts", "-O", "dtb", "-o", str(again)], input=dts, text=True, check=True)
    redone = subprocess.run(
        ["dtc", "-I", "dtb", "-O", "dts", str(again)], capture_output=True, text=True, check=True
    )
    assert redone.stdout == dts


def test_invalid_names_and_values_are_config_errors() -> None:
    fdt = Fdt()
    with pytest.raises(ConfigError):
        fdt.node("/bad name")
    with pytest.raises(ConfigError):
        fdt.root.set_u32("x", 1 << 32)
    with pytest.raises(ConfigError):
        fdt.root.set_string("x", "a\0b")
    with pytest.raises(ConfigError):
        fdt.node("relative")
