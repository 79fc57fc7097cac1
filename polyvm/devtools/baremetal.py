"""Builds polyvm's own bare-metal C guests (demo, benchmarks) with the Debian riscv64 ELF toolchain,
against the shared runtime in guests/baremetal/, cached by content."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from polyvm.core.errors import ConfigError
from polyvm.devtools.cache import cache_dir, content_key

REPO = Path(__file__).resolve().parents[2]
RUNTIME = REPO / "guests" / "baremetal"
CC = "riscv64-unknown-elf-gcc"
CFLAGS = ["-mcmodel=medany", "-O2", "-nostdlib", "-nostartfiles", "-ffreestanding", "-fno-math-errno"]
ISA_FLAGS = {
    "rv64imac": ["-march=rv64imac_zicsr", "-mabi=lp64"],
    "rv64gc": ["-march=rv64gc", "-mabi=lp64d"],
}


def build_baremetal(source: Path, defines: dict[str, object] | None = None, *,
                    paging: str = "bare", isa: str = "rv64imac", debug: bool = False) -> Path:
    """Compile ``source`` with start.S (``paging='bare'``) or start_sv39.S (``'sv39'``);
    ``isa='rv64gc'`` builds with hardware floating point; ``debug=True`` adds DWARF (``-g``)."""
    compiler = shutil.which(CC)
    if compiler is None:
        raise ConfigError(f"{CC} is not installed (run scripts/setup.sh)")
    start = RUNTIME / ("start.S" if paging == "bare" else f"start_{paging}.S")
    flags = ISA_FLAGS[isa] + CFLAGS + (["-g"] if debug else [])
    flags += [f"-D{name}={value}" for name, value in sorted((defines or {}).items())]
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True).stdout
    inputs = [source, start, RUNTIME / "link.ld", RUNTIME / "htif.h", RUNTIME / "htif_exit.inc"]
    key = content_key(version, " ".join(flags), *(p.read_bytes() for p in inputs))
    suffix = "-g" if debug else ""
    out = cache_dir("baremetal") / f"{source.stem}-{isa}-{paging}{suffix}-{key}.elf"
    if not out.exists():
        tmp = out.with_suffix(".tmp")
        subprocess.run(
            [compiler, *flags, "-T", str(RUNTIME / "link.ld"), "-o", str(tmp), str(start), str(source)],
            check=True,
        )
        tmp.rename(out)
    return out
