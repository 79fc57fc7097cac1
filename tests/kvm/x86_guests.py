"""Builds the x86-64 test guests of guests/x86_64/ with the host GNU binutils (flat binaries linked at
1 MiB), bzImage-format guests for the microvm board (guests/x86_64/bzimage: C with a setup header),
and their native C counterparts with gcc, cached under cache_dir("x86") by content."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from polyvm.core.errors import ConfigError
from polyvm.devtools.cache import cache_dir, content_key
from polyvm.engine.kvm.machine import LOAD_ADDRESS

SOURCES = Path(__file__).resolve().parents[2] / "guests" / "x86_64"
LD_FLAGS = [f"-Ttext=0x{LOAD_ADDRESS:x}", "-e", "_start", "--oformat=binary"]
CC_FLAGS = ["-O2"]
BZIMAGE = SOURCES / "bzimage"
GUEST_CFLAGS = ["-O2", "-ffreestanding", "-fno-builtin", "-fno-pic", "-fno-pie", "-no-pie", "-mno-red-zone",
                "-mgeneral-regs-only", "-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-nostdlib",
                "-static", "-Wall", "-Werror", "-Wl,--build-id=none", f"-Wl,-T,{BZIMAGE / 'link.ld'}"]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ConfigError(f"{name} is not installed (apt-get install binutils gcc)")
    return path


def _version(tool: str) -> str:
    return subprocess.run([tool, "--version"], capture_output=True, text=True, check=True).stdout


def _cached(name: str, key: str, suffix: str, build: list[list[str]], tmp: Path) -> Path:
    out = cache_dir("x86") / f"{name}-{key}{suffix}"
    if not out.exists():
        for command in build:
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode:
                raise ConfigError(f"{' '.join(command)} failed:\n{done.stderr}")
        tmp.rename(out)
    return out


def build_flat(name: str) -> Path:
    """Assemble guests/x86_64/<name>.s into a flat binary to load at LOAD_ADDRESS."""
    assembler, linker = _tool("as"), _tool("ld")
    source = SOURCES / f"{name}.s"
    key = content_key(source.read_bytes(), _version(assembler), _version(linker), " ".join(LD_FLAGS))
    obj = cache_dir("x86") / f"{name}-{key}.o"
    tmp = cache_dir("x86") / f"{name}-{key}.tmp"
    return _cached(name, key, ".bin", [
        [assembler, "--64", "-o", str(obj), str(source)],
        [linker, *LD_FLAGS, "-o", str(tmp), str(obj)],
    ], tmp)


def build_native(name: str) -> Path:
    """Compile guests/x86_64/<name>.c into a host executable."""
    compiler = _tool("gcc")
    source = SOURCES / f"{name}.c"
    key = content_key(source.read_bytes(), _version(compiler), " ".join(CC_FLAGS))
    tmp = cache_dir("x86") / f"{name}-{key}.tmp"
    return _cached(name, key, "", [[compiler, *CC_FLAGS, "-o", str(tmp), str(source)]], tmp)


def build_bzimage(name: str) -> Path:
    """Build guests/x86_64/bzimage/<name>.c (plus <name>.S when present) with the shared entry,
    runtime, ACPI walker and virtio-mmio window finder into a payload linked at 1 MiB, then wrap it in
    header.S's setup header: a bzImage."""
    compiler, assembler, linker, objcopy = _tool("gcc"), _tool("as"), _tool("ld"), _tool("objcopy")
    sources = [BZIMAGE / "entry.S", BZIMAGE / "lib.c", BZIMAGE / "acpi.c", BZIMAGE / "virtio_windows.c",
               BZIMAGE / f"{name}.c"]
    if (BZIMAGE / f"{name}.S").exists():
        sources.append(BZIMAGE / f"{name}.S")
    inputs = [*sources, BZIMAGE / "lib.h", BZIMAGE / "link.ld", BZIMAGE / "header.S"]
    key = content_key(*(path.read_bytes() for path in inputs), _version(compiler), " ".join(GUEST_CFLAGS))
    work = cache_dir("x86", f"bz-{name}-{key}")
    tmp = work / "bzImage.tmp"
    return _cached(f"{name}-bzImage", key, "", [
        [compiler, *GUEST_CFLAGS, "-o", str(work / "payload.elf"), *map(str, sources)],
        [objcopy, "-O", "binary", str(work / "payload.elf"), str(work / "payload.bin")],
        [assembler, "--64", "-I", str(work), "-o", str(work / "header.o"), str(BZIMAGE / "header.S")],
        [linker, "-Ttext=0", "--oformat=binary", "-o", str(tmp), str(work / "header.o")],
    ], tmp)
