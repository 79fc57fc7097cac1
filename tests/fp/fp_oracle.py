"""Builds guests/fp_oracle (cached) and runs test vectors through it under qemu-riscv64."""

from __future__ import annotations

import os
import subprocess
from array import array
from pathlib import Path

from polyvm.devtools.cache import cache_dir, content_key

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "guests" / "fp_oracle" / "fp_oracle.c"
CC = "riscv64-linux-gnu-gcc"
CFLAGS = ("-static", "-nostdlib", "-ffreestanding", "-O2", "-march=rv64gc", "-Wall")
QEMU = "qemu-riscv64"


def build() -> Path:
    """The oracle binary, compiled once per (source, flags, compiler version)."""
    version = subprocess.run([CC, "--version"], capture_output=True, text=True, check=True).stdout
    key = content_key(SOURCE.read_bytes(), " ".join(CFLAGS), version)
    binary = cache_dir("fp_oracle", key) / "fp_oracle"
    if not binary.exists():
        partial = binary.with_name(f"fp_oracle.{os.getpid()}.tmp")
        subprocess.run([CC, *CFLAGS, "-o", str(partial), str(SOURCE)], check=True)
        partial.replace(binary)
    return binary


def mnemonics(binary: Path) -> list[str]:
    """The oracle's op table: a vector's op id is the index of its mnemonic here."""
    listing = subprocess.run([QEMU, str(binary), "--list"], capture_output=True, text=True,
                             check=True, timeout=60)
    return listing.stdout.split()


def run(binary: Path, records: array) -> array:
    """Execute records (four u64 each: op | rm << 32, rs1, rs2, rs3); two u64 each come back:
    the destination register and fflags."""
    done = subprocess.run([QEMU, str(binary)], input=records.tobytes(), capture_output=True,
                          timeout=600)
    if done.returncode:
        raise RuntimeError(f"fp_oracle exited {done.returncode}: {done.stderr.decode()[-500:]}")
    results = array("Q")
    results.frombytes(done.stdout)
    if len(results) != len(records) // 2:
        raise RuntimeError(f"fp_oracle returned {len(results) // 2} of {len(records) // 4} results")
    return results
