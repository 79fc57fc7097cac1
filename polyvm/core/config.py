"""VmConfig (seed section 1.3): an immutable machine configuration with with_* builders."""

from __future__ import annotations

import dataclasses

from polyvm.core.errors import ConfigError
from polyvm.core.types import ExecMode, GuestArch


@dataclasses.dataclass(frozen=True)
class VmConfig:
    """What machine to build and how to run it. Each ``with_*`` returns a new, validated config."""

    arch: GuestArch = GuestArch.RISCV64
    exec_mode: ExecMode = ExecMode.HYBRID
    """Cold code in the interpreter tier, hot code compiled natively (DESIGN.md)."""
    memory_size: int = 128 << 20
    num_vcpu: int = 1
    enable_jit: bool = True
    jit_threshold: int = 50
    tlb_size: int = 256
    icount: bool = False
    """Derive guest time from the instruction count, making runs reproducible (QEMU's -icount)."""

    def __post_init__(self) -> None:
        if not isinstance(self.arch, GuestArch):
            raise ConfigError(f"arch must be a GuestArch, not {self.arch!r}")
        if not isinstance(self.exec_mode, ExecMode):
            raise ConfigError(f"exec_mode must be an ExecMode, not {self.exec_mode!r}")
        if self.memory_size <= 0 or self.memory_size % 4096:
            raise ConfigError(
                f"memory size must be a positive multiple of 4 KiB, got {self.memory_size}"
            )
        if not 1 <= self.num_vcpu <= 32:
            raise ConfigError(f"vcpu count must be between 1 and 32, got {self.num_vcpu}")
        if self.tlb_size < 1:
            raise ConfigError(f"tlb size must be at least 1, got {self.tlb_size}")
        if self.jit_threshold < 0:
            raise ConfigError(f"jit threshold must not be negative, got {self.jit_threshold}")

    @classmethod
    def new(cls, arch: GuestArch) -> VmConfig:
        return cls(arch=arch)

    def with_exec_mode(self, mode: ExecMode) -> VmConfig:
        return dataclasses.replace(self, exec_mode=mode)

    def with_memory_size(self, size: int) -> VmConfig:
        return dataclasses.replace(self, memory_size=size)

    def with_vcpu_count(self, count: int) -> VmConfig:
        return dataclasses.replace(self, num_vcpu=count)

    def with_tlb_size(self, size: int) -> VmConfig:
        return dataclasses.replace(self, tlb_size=size)

    def with_icount(self, enabled: bool = True) -> VmConfig:
        return dataclasses.replace(self, icount=enabled)
