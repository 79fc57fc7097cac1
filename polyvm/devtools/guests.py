"""Build the project's own RISC-V test guests (guests/riscv64) into cached ELF files.

Every guest is one assembly source linked with the shared environment in guests/riscv64/env
(start-up code, trap handlers, HTIF reporting, page-table builder) for a Spike-like board.
Outputs live under ``cache_dir("guests", "riscv64")``, keyed by every input that shapes the ELF.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from polyvm.devtools.cache import cache_dir, content_key

RISCV64_DIR = Path(__file__).resolve().parents[2] / "guests" / "riscv64"
ENV_DIR = RISCV64_DIR / "env"
LINKER_SCRIPT = ENV_DIR / "link.ld"
ENV_SOURCES = (ENV_DIR / "crt.S", ENV_DIR / "vm.S")
RISCV_GCC = "riscv64-unknown-elf-gcc"
DEFAULT_MARCH = "rv64imac_zicsr_zifencei"


class GuestBuildError(RuntimeError):
    """A guest could not be built: compiler missing or the source does not assemble/link."""


@dataclass(frozen=True)
class GuestExpectation:
    """What a guest must do when run: HTIF exit code and the exact console bytes."""

    exit_code: int
    stdout: bytes


def _compiler_version(compiler: str) -> str:
    path = shutil.which(compiler)
    if path is None:
        raise GuestBuildError(
            f"{compiler} not found on PATH; install it (Debian: apt-get install "
            "gcc-riscv64-unknown-elf) or run scripts/setup.sh"
        )
    result = subprocess.run([path, "--version"], capture_output=True, text=True, check=True)
    return result.stdout.splitlines()[0]


def build_riscv_guest(
    source: Path,
    extra_sources: Sequence[Path] = (),
    march: str = DEFAULT_MARCH,
    mabi: str = "lp64",
    extra_flags: Sequence[str] = (),
    compiler: str = RISCV_GCC,
) -> Path:
    """Compile and link one guest source with the test environment; return the cached ELF path."""
    source = Path(source)
    sources = [source, *map(Path, extra_sources), *ENV_SOURCES]
    flags = [
        f"-march={march}",
        f"-mabi={mabi}",
        "-mcmodel=medany",
        "-mno-relax",
        "-nostdlib",
        "-nostartfiles",
        "-static",
        f"-I{ENV_DIR}",
        f"-T{LINKER_SCRIPT}",
        "-Wl,--build-id=none",
        *extra_flags,
    ]
    headers = sorted({header for path in sources for header in path.parent.glob("*.h")})
    inputs = [*sources, LINKER_SCRIPT, *headers]
    key = content_key(
        _compiler_version(compiler),
        *flags,
        *(str(p.name) for p in sources),
        *(p.read_bytes() for p in inputs),
    )
    output = cache_dir("guests", "riscv64") / f"{source.stem}-{key}.elf"
    if output.exists():
        return output
    partial = output.with_suffix(f".{os.getpid()}.tmp")
    cmd = [compiler, *flags, "-o", str(partial), *map(str, sources)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise GuestBuildError(f"building {source} failed:\n{' '.join(cmd)}\n{result.stderr}")
    partial.replace(output)
    return output


def list_riscv_isa_tests() -> list[Path]:
    """Every ISA/privileged-architecture test source, sorted by name."""
    return sorted((RISCV64_DIR / "isa").glob("*.S"))


def list_riscv_htif_tests() -> list[Path]:
    """Every HTIF board test source (pass, fail code, console, virtual memory), sorted by name."""
    return sorted((RISCV64_DIR / "htif").glob("*.S"))


_EXPECT_EXIT = re.compile(r"expect-exit:\s*(\d+)")
_EXPECT_STDOUT = re.compile(r'expect-stdout:\s*"((?:[^"\\]|\\.)*)"')


def guest_expectation(source: Path) -> GuestExpectation:
    """Read the `expect-exit: N` / `expect-stdout: "..."` annotations of a guest source.

    Without annotations a guest must pass (exit 0) and print nothing.
    """
    text = Path(source).read_text()
    exit_match = _EXPECT_EXIT.search(text)
    stdout_match = _EXPECT_STDOUT.search(text)
    stdout = b""
    if stdout_match:
        stdout = stdout_match.group(1).encode().decode("unicode_escape").encode("latin-1")
    return GuestExpectation(int(exit_match.group(1)) if exit_match else 0, stdout)
