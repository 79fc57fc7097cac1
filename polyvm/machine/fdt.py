"""A small flattened-device-tree (DTB, version 17) writer for the boards' generated device trees.

Build a tree of ``FdtNode``s with typed properties (u32/u64 cell lists, strings, string lists,
raw bytes, empty flags, phandles), then ``Fdt.to_bytes()`` lays out the header, the memory
reservation block, the structure block and the de-duplicated strings block as the devicetree
specification (chapter 5) describes; ``dtc -I dtb`` reads the result.
"""

from __future__ import annotations

import re
import struct

from polyvm.core.errors import ConfigError

FDT_MAGIC = 0xD00DFEED
FDT_BEGIN_NODE = 1
FDT_END_NODE = 2
FDT_PROP = 3
FDT_END = 9
FDT_VERSION = 17
FDT_LAST_COMPATIBLE_VERSION = 16
HEADER = struct.Struct(">10I")
_NODE_NAME = re.compile(r"[A-Za-z0-9,._+-]{1,31}(@[A-Za-z0-9,._+-]+)?")
_PROP_NAME = re.compile(r"[A-Za-z0-9,._+?#-]{1,31}")


def _cells(values: tuple[int, ...], width: int) -> bytes:
    limit = 1 << (8 * width)
    for value in values:
        if not 0 <= value < limit:
            raise ConfigError(f"device-tree cell value {value} does not fit in {8 * width} bits")
    return b"".join(value.to_bytes(width, "big") for value in values)


def _pad4(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


class FdtNode:
    """One node: a name (``name`` or ``name@unit``), ordered properties and ordered children."""

    def __init__(self, name: str, tree: Fdt) -> None:
        if name and not _NODE_NAME.fullmatch(name):
            raise ConfigError(f"invalid device-tree node name {name!r}")
        self.name = name
        self.tree = tree
        self.properties: dict[str, bytes] = {}
        self.children: dict[str, FdtNode] = {}

    def node(self, name: str) -> FdtNode:
        """The child called ``name``, created on first use."""
        if name not in self.children:
            self.children[name] = FdtNode(name, self.tree)
        return self.children[name]

    def set_bytes(self, name: str, value: bytes) -> FdtNode:
        if not _PROP_NAME.fullmatch(name):
            raise ConfigError(f"invalid device-tree property name {name!r}")
        self.properties[name] = bytes(value)
        return self

    def set_empty(self, name: str) -> FdtNode:
        """A boolean property (present, no value), e.g. ``interrupt-controller``."""
        return self.set_bytes(name, b"")

    def set_u32(self, name: str, *values: int) -> FdtNode:
        return self.set_bytes(name, _cells(values, 4))

    def set_u64(self, name: str, *values: int) -> FdtNode:
        return self.set_bytes(name, _cells(values, 8))

    def set_string(self, name: str, value: str) -> FdtNode:
        return self.set_strings(name, value)

    def set_strings(self, name: str, *values: str) -> FdtNode:
        if any("\0" in value for value in values):
            raise ConfigError(f"device-tree string property {name} contains a NUL character")
        return self.set_bytes(name, b"".join(value.encode() + b"\0" for value in values))

    def phandle(self) -> int:
        """This node's phandle, allocated (and stored as the ``phandle`` property) on first use."""
        if "phandle" not in self.properties:
            self.set_u32("phandle", self.tree.allocate_phandle())
        return int.from_bytes(self.properties["phandle"], "big")


class Fdt:
    """A device tree with a root node, reserved memory ranges and a boot CPU id."""

    def __init__(self, boot_cpuid: int = 0) -> None:
        self.root = FdtNode("", self)
        self.boot_cpuid = boot_cpuid
        self.reservations: list[tuple[int, int]] = []
        self._next_phandle = 1

    def allocate_phandle(self) -> int:
        handle = self._next_phandle
        self._next_phandle += 1
        return handle

    def node(self, path: str) -> FdtNode:
        """The node at an absolute path like ``/soc/serial@10000000``, created along the way."""
        if not path.startswith("/"):
            raise ConfigError(f"device-tree path {path!r} must be absolute")
        node = self.root
        for part in filter(None, path.split("/")):
            node = node.node(part)
        return node

    def reserve(self, address: int, size: int) -> None:
        """Add a memory reservation block entry (memory the OS must not use)."""
        self.reservations.append((address, size))

    def to_bytes(self, padding: int = 0) -> bytes:
        """The DTB; ``padding`` free bytes at the end (counted in totalsize) let firmware such as
        OpenSBI and U-Boot edit the tree in place, like ``dtc -p``."""
        strings = bytearray()
        offsets: dict[str, int] = {}
        structure = bytearray()

        def string_offset(name: str) -> int:
            if name not in offsets:
                offsets[name] = len(strings)
                strings.extend(name.encode() + b"\0")
            return offsets[name]

        def emit(node: FdtNode) -> None:
            structure.extend(struct.pack(">I", FDT_BEGIN_NODE) + _pad4(node.name.encode() + b"\0"))
            for name, value in node.properties.items():
                structure.extend(struct.pack(">III", FDT_PROP, len(value), string_offset(name)))
                structure.extend(_pad4(value))
            for child in node.children.values():
                emit(child)
            structure.extend(struct.pack(">I", FDT_END_NODE))

        emit(self.root)
        structure.extend(struct.pack(">I", FDT_END))
        reservations = b"".join(_cells((address, size), 8) for address, size in [*self.reservations, (0, 0)])
        off_rsvmap = HEADER.size + (-HEADER.size % 8)
        off_struct = off_rsvmap + len(reservations)
        off_strings = off_struct + len(structure)
        total = off_strings + len(strings) + padding
        header = HEADER.pack(
            FDT_MAGIC,
            total,
            off_struct,
            off_strings,
            off_rsvmap,
            FDT_VERSION,
            FDT_LAST_COMPATIBLE_VERSION,
            self.boot_cpuid,
            len(strings),
            len(structure),
        )
        gap = b"\0" * (off_rsvmap - HEADER.size)
        return header + gap + reservations + bytes(structure) + bytes(strings) + b"\0" * padding
