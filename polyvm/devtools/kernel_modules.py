"""Kernel modules for an initramfs, taken from an unpacked linux-image package: the modules a list of
names needs, each after the modules it depends on - what modprobe would load from modules.dep.

Debian's linux-image package carries no modules.dep (depmod writes it when the package is installed),
so the dependencies are read where depmod reads them: the ``depends=`` entry of each module's
``.modinfo`` ELF section. Modules are stored decompressed (``.ko``, ``.ko.xz`` or ``.ko.gz`` in the
package), so busybox's insmod can load them. Names listed in modules.builtin are part of the kernel
image and need nothing.

``python3 -m polyvm.devtools.kernel_modules MODULES_DIR DEST NAME...`` (MODULES_DIR is the package's
lib/modules/<version>) writes DEST/<module>.ko for every module to load and DEST/order, one name a
line in load order; scripts/fetch_debian_amd64.sh builds its initramfs with it.
"""

from __future__ import annotations

import gzip
import io
import lzma
import sys
from collections.abc import Iterable
from pathlib import Path

from elftools.elf.elffile import ELFFile

from polyvm.core.errors import ConfigError

DECOMPRESSORS = {".ko": bytes, ".xz": lzma.decompress, ".gz": gzip.decompress}


def module_name(path: Path | str) -> str:
    """The name the kernel knows a module file by: ``kernel/drivers/virtio/virtio-mmio.ko.xz`` is
    ``virtio_mmio``."""
    return Path(path).name.split(".ko", 1)[0].replace("-", "_")


class ModuleTree:
    """The modules of one kernel version, found under ``root`` (its lib/modules/<version>)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files = {module_name(path): path for path in sorted(root.rglob("*.ko*"))
                      if path.suffix in DECOMPRESSORS}
        builtin = root / "modules.builtin"
        listed = builtin.read_text().split() if builtin.exists() else []
        self.builtin = {module_name(line) for line in listed}

    def read(self, name: str) -> bytes:
        """The module's ELF object, decompressed."""
        path = self.files[name]
        return DECOMPRESSORS[path.suffix](path.read_bytes())

    def depends(self, name: str) -> list[str]:
        """The modules ``name`` needs loaded first (its .modinfo ``depends=``, comma-separated)."""
        section = ELFFile(io.BytesIO(self.read(name))).get_section_by_name(".modinfo")
        if section is None:
            raise ConfigError(f"{self.files[name]} has no .modinfo section: not a kernel module")
        for entry in section.data().split(b"\0"):
            if entry.startswith(b"depends="):
                return [module_name(dep) for dep in entry[len(b"depends="):].decode().split(",") if dep]
        return []

    def load_order(self, names: Iterable[str]) -> list[str]:
        """``names`` and every module they need, each after its dependencies, built-in ones left out."""
        order: list[str] = []
        seen: set[str] = set()

        def visit(name: str, wanted_by: str) -> None:
            if name in seen or name in self.builtin:
                return
            if name not in self.files:
                raise ConfigError(f"no kernel module {name!r} under {self.root} (needed by {wanted_by}), "
                                  "and it is not built in")
            seen.add(name)
            for dependency in self.depends(name):
                visit(dependency, name)
            order.append(name)

        for name in names:
            visit(module_name(name), "the initramfs")
        return order


def write_modules(tree: ModuleTree, names: Iterable[str], dest: Path) -> list[str]:
    """Write every module ``names`` need to ``dest`` as <name>.ko and their load order to dest/order."""
    dest.mkdir(parents=True, exist_ok=True)
    order = tree.load_order(names)
    for name in order:
        (dest / f"{name}.ko").write_bytes(tree.read(name))
    (dest / "order").write_text("".join(f"{name}\n" for name in order))
    return order


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit("usage: python3 -m polyvm.devtools.kernel_modules MODULES_DIR DEST NAME...")
    try:
        write_modules(ModuleTree(Path(sys.argv[1])), sys.argv[3:], Path(sys.argv[2]))
    except ConfigError as error:
        sys.exit(f"kernel_modules: {error}")
