"""The VmError hierarchy (seed section 1.2): one exception class per seed variant, carrying its fields.

These describe problems of the *host side* (bad files, bad configuration, bad API use). Problems a guest
causes (an illegal instruction, a page fault) are guest traps and never surface as VmError while the
guest is running, unless an embedding caller asks the API to translate an address that does not exist.
"""

from __future__ import annotations


class VmError(Exception):
    """Base class of every error polyvm reports to its user."""


class InvalidAddress(VmError):
    """An address that maps to nothing (no RAM, no device)."""

    def __init__(self, addr: int, detail: str = "") -> None:
        self.addr = addr
        super().__init__(f"invalid address 0x{addr:x}" + (f": {detail}" if detail else ""))


class MemoryAccessError(VmError):
    """A memory access that was refused (permissions, page fault, device refusal)."""

    def __init__(self, addr: int, reason: str) -> None:
        self.addr = addr
        self.reason = reason
        super().__init__(f"memory access failed at 0x{addr:x}: {reason}")


class ExecutionError(VmError):
    """The execution engine could not go on."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class InvalidInstruction(VmError):
    """An instruction encoding that cannot be decoded, reported through the API (not a guest trap)."""

    def __init__(self, encoding: int, addr: int | None = None) -> None:
        self.encoding = encoding
        self.addr = addr
        where = f" at 0x{addr:x}" if addr is not None else ""
        super().__init__(f"invalid instruction 0x{encoding:x}{where}")


class DeviceError(VmError):
    """A device could not be created or used (disk image missing, locked, too small...)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class ConfigError(VmError):
    """A configuration value that cannot work (memory size 0, unknown board, unsupported mode...)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class LoaderError(VmError):
    """A guest image (kernel, firmware, initrd) that cannot be loaded; names the file."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class UnsupportedError(VmError):
    """A feature that exists in the API but is not available for this architecture or host."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)
