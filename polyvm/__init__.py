"""polyvm: a full-system virtual machine in Python (see README.md).

The public API follows the seed API document: configuration and errors, memory (SoftMmu), the
interpreter engine with its block cache and instruction fuser, and the boards.

``VirtualMachine`` and the service API (``VmService``, ``VmState``, ``PerformanceStats``) are
imported when first used: with them come every board (the x86 microvm's KVM and ACPI code) and
asyncio, ~50 ms of every ``polyvm run`` that needs none of them (benchmarks/boot.py times the
whole command).
"""

import importlib

from polyvm.arch.riscv64.fuser import FusedKind, FusedOp, FuserStats, InstructionFuser
from polyvm.arch.riscv64.hart import RiscvHart
from polyvm.core.config import VmConfig
from polyvm.core.errors import (
    ConfigError,
    DeviceError,
    ExecutionError,
    InvalidAddress,
    InvalidInstruction,
    LoaderError,
    MemoryAccessError,
    UnsupportedError,
    VmError,
)
from polyvm.core.protocols import (
    MMU,
    Decoder,
    ExecutionEngine,
    ExitCondition,
    ExitReason,
    Instruction,
    InstructionLimit,
    MmioDevice,
    RunForever,
    RunResult,
)
from polyvm.core.types import ExecMode, GuestAddr, GuestArch, GuestPhysAddr, HostAddr
from polyvm.device.bus import MmioMap
from polyvm.engine.interpreter.block_cache import BlockCache, CachedBlock, CacheStats
from polyvm.engine.interpreter.engine import Interpreter
from polyvm.ir.block import IRBlock
from polyvm.mem.paging import PagingMode
from polyvm.mem.ram import GuestRam
from polyvm.mem.softmmu import SoftMmu
from polyvm.mem.tlb import TlbEntry, TlbStats

__all__ = [
    "MMU", "BlockCache", "CacheStats", "CachedBlock", "ConfigError", "Decoder", "DeviceError",
    "ExecMode", "ExecutionEngine", "ExecutionError", "ExitCondition", "ExitReason", "FusedKind",
    "FusedOp", "FuserStats", "GuestAddr", "GuestArch", "GuestPhysAddr", "GuestRam", "HostAddr",
    "IRBlock", "Instruction", "InstructionFuser", "InstructionLimit", "Interpreter",
    "InvalidAddress", "InvalidInstruction", "LoaderError", "MemoryAccessError", "MmioDevice",
    "MmioMap", "PagingMode", "RiscvHart", "RunForever", "RunResult", "SoftMmu", "TlbEntry",
    "TlbStats", "UnsupportedError", "VirtualMachine", "VmConfig", "VmError", "VmService", "VmState",
    "PerformanceStats",
]

_LAZY = {"VirtualMachine": "polyvm.core.vm", "VmService": "polyvm.service",
         "VmState": "polyvm.service", "PerformanceStats": "polyvm.service"}


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'polyvm' has no attribute {name!r}")
    value = globals()[name] = getattr(importlib.import_module(module), name)
    return value
