"""Writes a gzip-compressed newc cpio archive of a folder: the initramfs format Linux unpacks.

Written in Python rather than with cpio(1) so that /dev/console exists without root (the kernel
opens it before /init runs) and the archive is byte-for-byte reproducible (sorted names, zero
owners and times). Used by scripts/build_initramfs.sh and scripts/fetch_debian_amd64.sh:

    python3 -m polyvm.devtools.newc_cpio ROOT DEST
"""

from __future__ import annotations

import gzip
import os
import stat
import sys
from pathlib import Path

CONSOLE = ("dev/console", stat.S_IFCHR | 0o600, b"", 5, 1)
"""The character device 5:1 added to every archive."""


def _record(ino: int, name: str, mode: int, data: bytes, rdev_major: int, rdev_minor: int) -> bytes:
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev_major, rdev_minor, len(name) + 1, 0]
    head = b"070701" + b"".join(b"%08X" % field for field in fields) + name.encode() + b"\0"
    head += b"\0" * (-len(head) % 4)
    return head + data + b"\0" * (-len(data) % 4)


def _entries(root: Path) -> list[tuple[str, int, bytes, int, int]]:
    """Every file, folder and symlink under ``root`` (a symlink's data is its target), sorted."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                data = os.readlink(path).encode()
            elif stat.S_ISREG(info.st_mode):
                data = Path(path).read_bytes()
            else:
                data = b""
            mode = stat.S_IFMT(info.st_mode) | (info.st_mode & 0o7777)
            entries.append((os.path.relpath(path, root), mode, data, 0, 0))
    return entries


def write_initramfs(root: Path, dest: Path) -> None:
    """Archive ``root`` plus /dev/console into ``dest`` (gzip, mtime 0)."""
    entries = [*_entries(root), CONSOLE]
    blob = b"".join(_record(index + 1, *entry) for index, entry in enumerate(entries))
    blob += _record(0, "TRAILER!!!", 0, b"", 0, 0)
    dest.write_bytes(gzip.compress(blob, mtime=0))


if __name__ == "__main__":
    write_initramfs(Path(sys.argv[1]), Path(sys.argv[2]))
