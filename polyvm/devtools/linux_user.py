"""Builds polyvm's own static riscv64 Linux user programs (guests/linux/) with the Debian cross
compiler, cached by content; they run under qemu-riscv64 and inside our Linux guest alike."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from polyvm.core.errors import ConfigError
from polyvm.devtools.cache import cache_dir, content_key

CC = "riscv64-linux-gnu-gcc"
FLAGS = ["-static", "-O2", "-march=rv64gc", "-mabi=lp64d"]


def build_linux_user(source: Path, libs: tuple[str, ...] = ("-lm",)) -> Path:
    compiler = shutil.which(CC)
    if compiler is None:
        raise ConfigError(f"{CC} is not installed (run scripts/setup.sh)")
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True).stdout
    key = content_key(version, " ".join(FLAGS + list(libs)), source.read_bytes())
    out = cache_dir("linux-user") / f"{source.stem}-{key}"
    if not out.exists():
        tmp = out.with_suffix(".tmp")
        subprocess.run([compiler, *FLAGS, "-o", str(tmp), str(source), *libs], check=True)
        tmp.rename(out)
    return out
