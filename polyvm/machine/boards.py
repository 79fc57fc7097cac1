"""The boards the command line and the embedding APIs (VirtualMachine, VmService) build, by name,
and which one a guest architecture gets when none is named:

    spike    RISC-V 64: a bare-metal ELF with HTIF (the default for GuestArch.RISCV64)
    virt     RISC-V 64, QEMU's virt: firmware, kernel, initrd, virtio drives and network cards
    microvm  x86-64 on KVM (ExecMode.ACCELERATED): a bzImage, initrd, virtio drives and network cards
             (the default for GuestArch.X86_64)

Each board refuses the configurations it cannot run with a VmError saying why (an x86-64 guest in an
emulated mode: there is no x86 frontend yet; a RISC-V guest in accelerated mode: KVM runs the host's
architecture only).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from polyvm.core.config import VmConfig
from polyvm.core.errors import ConfigError, DeviceError, UnsupportedError
from polyvm.core.types import GuestArch

if TYPE_CHECKING:  # each board's module is imported when a board of it is made
    from polyvm.machine.microvm import MicrovmBoard
    from polyvm.machine.spike import SpikeBoard
    from polyvm.machine.virt import Drive, VirtBoard
    from polyvm.net.cli_spec import NicSpec

BOARDS = ("spike", "virt", "microvm")
DEFAULT_BOARDS = {GuestArch.RISCV64: "spike", GuestArch.X86_64: "microvm"}
VIRTIO_BOARDS = ("virt", "microvm")


@dataclasses.dataclass(frozen=True)
class BootImages:
    """What a board boots: the kernel (or bare-metal program), an initrd, firmware, a command line."""

    kernel: str | Path | None
    initrd: str | Path | None = None
    bios: str | Path | None = None
    append: str = ""


def default_board(arch: GuestArch) -> str:
    """The board ``arch`` guests run on when none is named."""
    if arch not in DEFAULT_BOARDS:
        raise UnsupportedError(f"no board runs {arch.value} guests yet (spike and virt run riscv64, "
                               "microvm runs x86_64)")
    return DEFAULT_BOARDS[arch]


def require_virtio(name: str) -> None:
    """A DeviceError unless board ``name`` has a virtio bus for drives and network cards."""
    if name not in VIRTIO_BOARDS:
        raise DeviceError(f"the {name} board has no virtio bus: drives and network cards need "
                          f"board={' or '.join(map(repr, VIRTIO_BOARDS))}")


def create_board(config: VmConfig, name: str, images: BootImages, drives: Sequence[Drive] = (),
                 nics: Sequence[NicSpec] = (), *, acpi: bool = True, tohost: int | None = None,
                 fromhost: int | None = None) -> SpikeBoard | VirtBoard | MicrovmBoard:
    """The board ``name`` running ``config`` with ``images`` loaded and the virtio ``drives`` and
    ``nics`` (virt and microvm only). microvm announces its devices in ACPI tables unless ``acpi``
    is False (then on the kernel command line); spike takes the HTIF addresses of a raw binary
    (``tohost``, ``fromhost``; an ELF's own symbols otherwise)."""
    if name not in BOARDS:
        raise ConfigError(f"unknown board {name!r} (available: {', '.join(BOARDS)})")
    if drives or nics:
        require_virtio(name)
    if name != "spike" and (tohost is not None or fromhost is not None):
        raise ConfigError(f"HTIF addresses are for the spike board, not {name}")
    if name != "microvm" and not acpi:
        raise ConfigError(f"acpi=off is a microvm option; the {name} board has no ACPI tables")
    if name == "spike":
        from polyvm.machine.spike import SpikeBoard

        if images.initrd is not None or images.bios is not None or images.append:
            raise ConfigError("the spike board boots bare-metal programs: it takes no initrd, firmware "
                              "or command line")
        if images.kernel is None:
            raise ConfigError("the spike board needs a kernel (an ELF with tohost/fromhost)")
        return SpikeBoard(config, images.kernel, tohost=tohost, fromhost=fromhost)
    if name == "virt":
        from polyvm.machine.virt import VirtBoard

        return VirtBoard(config, kernel=images.kernel, bios=images.bios, initrd=images.initrd,
                         append=images.append, drives=list(drives), nics=list(nics))
    if images.bios is not None:
        raise ConfigError("the microvm board has no firmware: boot a bzImage as the kernel, without bios")
    if images.kernel is None:
        raise ConfigError("the microvm board needs a kernel (a bzImage)")
    from polyvm.machine.microvm import MicrovmBoard

    return MicrovmBoard(config, kernel=images.kernel, initrd=images.initrd, append=images.append,
                        drives=list(drives), nics=list(nics), acpi=acpi)
