"""Debian's amd64 kernel (a bzImage) and a busybox-static initramfs for the x86-64 microvm board,
fetched and built by scripts/fetch_debian_amd64.sh from Debian packages and cached by their versions.

``debian_amd64_images()`` runs the script (it returns at once when the cache is filled) and returns
the paths; ``python3 -m polyvm.devtools.debian_amd64`` prints them.

On a host where guest kernel-mode code is very slow, a boot is measured by how much of the kernel
the bzImage's own decompressor has produced: ``host_vmlinux`` decompresses the payload on the host
(XZ or gzip, as Debian builds it) and ``decompressed_prefix`` counts how many leading bytes of the
guest's output buffer already equal it.
"""

from __future__ import annotations

import dataclasses
import lzma
import subprocess
import zlib
from pathlib import Path

from polyvm.core.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "fetch_debian_amd64.sh"


@dataclasses.dataclass(frozen=True)
class DebianAmd64Images:
    kernel: Path
    """/boot/vmlinuz-* of the linux-image package: a bzImage."""
    config: Path
    """The kernel's build configuration (/boot/config-*)."""
    initramfs: Path
    package: str
    """The kernel package and version, e.g. linux-image-6.1.0-57-amd64_6.1.192-3."""


def debian_amd64_images() -> DebianAmd64Images:
    result = subprocess.run(["bash", str(SCRIPT)], stdout=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise ConfigError(f"{SCRIPT.relative_to(REPO)} failed with status {result.returncode}")
    folders = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    if not {"kernel", "initramfs"} <= folders.keys():
        raise ConfigError(f"{SCRIPT.relative_to(REPO)} printed no kernel/initramfs folders")
    kernel, initramfs = Path(folders["kernel"]), Path(folders["initramfs"])
    return DebianAmd64Images(kernel / "bzImage", kernel / "config", initramfs / "initramfs.cpio.gz",
                             kernel.name.removeprefix("kernel-"))


XZ_MAGIC, GZIP_MAGIC = b"\xfd7zXZ\x00", b"\x1f\x8b\x08"
XZ_STREAM_HEADER = 12
FILTER_LZMA2 = 0x21
CHUNK = 4096


@dataclasses.dataclass(frozen=True)
class HostVmlinux:
    """The kernel a bzImage decompresses to, as the host's xz/zlib produce it.

    ``unfiltered`` is the output of the LZMA2 stage alone: the kernel's XZ decoder writes that first
    and applies the x86 BCJ filter (which rewrites CALL/JMP operands) over it later, so a snapshot of
    the guest's output buffer holds filtered bytes, then unfiltered ones, then old data.
    """

    filtered: bytes
    unfiltered: bytes


def _varint(data: bytes, offset: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[offset]
        value |= (byte & 0x7F) << shift
        offset += 1
        shift += 7
        if not byte & 0x80:
            return value, offset


def _lzma2_stage(stream: bytes) -> bytes:
    """Decode the first XZ block of ``stream`` with its LZMA2 filter only (xz file format 3.1)."""
    header = stream[XZ_STREAM_HEADER:]
    header_size, flags = (header[0] + 1) * 4, header[1]
    offset = 2
    for present in (0x40, 0x80):  # compressed and uncompressed sizes
        if flags & present:
            _, offset = _varint(header, offset)
    dict_size = None
    for _ in range((flags & 3) + 1):
        filter_id, offset = _varint(header, offset)
        size, offset = _varint(header, offset)
        if filter_id == FILTER_LZMA2:
            bits = header[offset] & 0x3F
            dict_size = (2 | (bits & 1)) << (bits // 2 + 11)
        offset += size
    if dict_size is None:
        raise ConfigError("the kernel's XZ block has no LZMA2 filter")
    decoder = lzma.LZMADecompressor(format=lzma.FORMAT_RAW,
                                    filters=[{"id": lzma.FILTER_LZMA2, "dict_size": dict_size}])
    return decoder.decompress(header[header_size:])


def host_vmlinux(kernel: Path) -> HostVmlinux:
    """The vmlinux ELF inside a bzImage, decompressed on the host (the first XZ or gzip stream)."""
    data = kernel.read_bytes()
    if XZ_MAGIC in data:
        stream = data[data.index(XZ_MAGIC):]
        filtered = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(stream)
        return HostVmlinux(filtered, _lzma2_stage(stream))
    if GZIP_MAGIC in data:
        plain = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[data.index(GZIP_MAGIC):])
        return HostVmlinux(plain, plain)
    raise ConfigError(f"{kernel}: no XZ or gzip payload found (other compressions are not supported here)")


def decompressed_prefix(output: memoryview | bytes, vmlinux: HostVmlinux) -> int:
    """How many leading bytes of ``output`` (the decompressor's output buffer) the guest has produced:
    every byte equals the host's result, with or without the BCJ filter applied."""
    filtered, unfiltered = vmlinux.filtered, vmlinux.unfiltered
    length = min(len(output), len(filtered), len(unfiltered))
    done = 0
    while done < length:
        end = min(done + CHUNK, length)
        chunk = output[done:end]
        if chunk != filtered[done:end] and chunk != unfiltered[done:end]:
            break
        done = end
    while done < length and output[done] in (filtered[done], unfiltered[done]):
        done += 1
    return done


if __name__ == "__main__":
    images = debian_amd64_images()
    print(f"package:   {images.package}\nkernel:    {images.kernel}\ninitramfs: {images.initramfs}")
