"""The project's riscv64 Linux guest images (kernel, busybox initramfs), built by scripts/ and cached.

``linux_images()`` runs scripts/build_linux.sh and scripts/build_initramfs.sh (each returns at once
when its cached output matches its inputs) and returns the paths.
"""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

from polyvm.core.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


@dataclasses.dataclass(frozen=True)
class LinuxImages:
    image: Path
    vmlinux: Path
    initramfs: Path


def _run_script(name: str) -> Path:
    result = subprocess.run(["bash", str(REPO / "scripts" / name)], stdout=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise ConfigError(f"scripts/{name} failed with status {result.returncode}")
    return Path(result.stdout.strip().splitlines()[-1])


def linux_images() -> LinuxImages:
    kernel_dir = _run_script("build_linux.sh")
    initramfs_dir = _run_script("build_initramfs.sh")
    return LinuxImages(kernel_dir / "Image", kernel_dir / "vmlinux", initramfs_dir / "initramfs.cpio.gz")


if __name__ == "__main__":
    images = linux_images()
    print(f"kernel:    {images.image}\nvmlinux:   {images.vmlinux}\ninitramfs: {images.initramfs}")
