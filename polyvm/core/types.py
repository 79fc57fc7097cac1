"""Address aliases and the guest-architecture and execution-mode enumerations (seed section 1.1)."""

from __future__ import annotations

import enum

GuestAddr = int
"""A guest virtual address (u64)."""
GuestPhysAddr = int
"""A guest physical address (u64)."""
HostAddr = int
"""A host address (u64), e.g. the base of guest RAM in this process."""


class GuestArch(enum.Enum):
    """The instruction-set architectures polyvm can run as guests."""

    RISCV64 = "riscv64"
    ARM64 = "arm64"
    X86_64 = "x86_64"

    def bits(self) -> int:
        """Native register width in bits."""
        return 64

    def register_count(self) -> int:
        """Number of general-purpose registers visible to the guest."""
        return _REGISTER_COUNTS[self]


_REGISTER_COUNTS = {GuestArch.RISCV64: 32, GuestArch.ARM64: 31, GuestArch.X86_64: 16}


class ExecMode(enum.Enum):
    """How guest code is executed."""

    INTERPRETER = "interpreter"
    JIT = "jit"
    ACCELERATED = "accelerated"
    HYBRID = "hybrid"
