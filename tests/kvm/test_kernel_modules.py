"""Choosing the kernel modules of an initramfs (polyvm.devtools.kernel_modules) on a module tree laid
out like Debian's linux-image package: objects built with gcc whose .modinfo says what they depend
on, some compressed, one name built into the kernel. The order puts every module after the ones it
needs (virtio before virtio_ring was the bug this replaced: virtio needs virtio_ring's symbols)."""

import gzip
import lzma
import subprocess

import pytest

from polyvm.core.errors import ConfigError
from polyvm.devtools.kernel_modules import ModuleTree, module_name, write_modules

pytestmark = pytest.mark.timeout(60)
MODULES = {  # path under kernel/, depends=
    "drivers/virtio/virtio_ring.ko": "",
    "drivers/virtio/virtio.ko.xz": "virtio_ring",
    "drivers/virtio/virtio_mmio.ko.gz": "virtio,virtio_ring",
    "drivers/block/virtio_blk.ko": "virtio,virtio_ring",
    "net/core/failover.ko": "",
    "drivers/net/net_failover.ko.xz": "failover",
    "drivers/net/virtio_net.ko": "virtio_ring,virtio,net_failover",
    "drivers/net/uses-builtin.ko": "crc32c",
    "drivers/misc/no_modinfo.ko": None,
}
COMPRESS = {".xz": lzma.compress, ".gz": gzip.compress}


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("modules") / "6.1.0-test-amd64"
    source = root.parent / "modinfo.c"
    for relative, depends in MODULES.items():
        path = root / "kernel" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        name = module_name(path)
        source.write_text("int plain;\n" if depends is None else
                          f'__attribute__((section(".modinfo"), used)) static const char info[] = '
                          f'"license=GPL\\0depends={depends}\\0name={name}";\n')
        obj = root.parent / f"{name}.o"
        subprocess.run(["gcc", "-c", "-o", str(obj), str(source)], check=True)
        suffix = path.suffix
        path.write_bytes(COMPRESS[suffix](obj.read_bytes()) if suffix in COMPRESS else obj.read_bytes())
    (root / "modules.builtin").write_text("kernel/lib/crc32c.ko\nkernel/fs/ext4/ext4.ko\n")
    return root


def test_names_of_module_files():
    assert module_name("kernel/drivers/virtio/virtio-mmio.ko.xz") == "virtio_mmio"
    assert module_name("virtio_blk.ko") == "virtio_blk"


def test_dependencies_come_first(tree):
    modules = ModuleTree(tree)
    assert modules.depends("virtio_net") == ["virtio_ring", "virtio", "net_failover"]
    assert modules.load_order(["virtio_mmio", "virtio_blk", "virtio-net"]) == [
        "virtio_ring", "virtio", "virtio_mmio", "virtio_blk", "failover", "net_failover", "virtio_net"]
    assert modules.load_order(["ext4", "uses_builtin"]) == ["uses_builtin"]


def test_modules_are_written_decompressed_with_their_order(tree, tmp_path):
    order = write_modules(ModuleTree(tree), ["virtio_mmio"], tmp_path / "modules")
    assert (tmp_path / "modules" / "order").read_text() == "virtio_ring\nvirtio\nvirtio_mmio\n"
    for name in order:
        data = (tmp_path / "modules" / f"{name}.ko").read_bytes()
        assert data[:4] == b"\x7fELF" and f"name={name}".encode() in data


def test_missing_and_broken_modules_are_named(tree):
    with pytest.raises(ConfigError, match="no kernel module 'virtio_gpu' under .*6.1.0-test-amd64 "
                                          "\\(needed by the initramfs\\)"):
        ModuleTree(tree).load_order(["virtio_blk", "virtio_gpu"])
    with pytest.raises(ConfigError, match="no_modinfo.ko has no .modinfo section: not a kernel module"):
        ModuleTree(tree).load_order(["no_modinfo"])
