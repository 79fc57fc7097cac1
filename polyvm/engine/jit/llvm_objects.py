"""Object code from LLVM IR text: the host target machines, module text and function names, and
the compile itself, for every process that compiles (this one, the compile server, the precompiler
and the bundler's anchors).

LLVM itself (llvmlite.binding) is loaded by the first call that needs it: a process that only
names functions and runs cached code (a warm ``polyvm run``) never does (``host_description``).

This module and codegen.py determine what object code a function name stands for, so both are in
llvm_backend.JIT_SOURCES (the disk cache's version); llvm_backend.py, which links and caches that
code, is not, and changing it keeps the cache.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import llvmlite

from polyvm.engine.jit.codegen import METADATA

if TYPE_CHECKING:
    import llvmlite.binding as llvm

PREFIX = "jit_"
"""Names of the functions (and their modules) the backend compiles."""


def compile_object(module_text: str, opt_level: int, target: llvm.TargetMachine) -> bytes:
    """Object code of one module: LLVM's O1-O3 pipeline unless ``opt_level`` is 0, then the code
    generator of ``target``."""
    import llvmlite.binding as llvm

    parsed = llvm.parse_assembly(module_text)
    if opt_level > 0:
        tuning = llvm.create_pipeline_tuning_options(speed_level=opt_level)
        builder = llvm.create_pass_builder(target, tuning)
        builder.getModulePassManager().run(parsed, builder)
    return target.emit_object(parsed)


LLVM_SET_UP = threading.Lock()
"""Held while LLVM is initialised and while a target machine or an MCJIT engine is made (first
uses may come from several threads, a compile and a link, at once)."""


@functools.cache
def _initialise_llvm() -> None:
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()


def create_target(codegen_level: int) -> llvm.TargetMachine:
    """The host target machine every engine and the compile server use (same code either way)."""
    import llvmlite.binding as llvm

    with LLVM_SET_UP:
        _initialise_llvm()
        return llvm.Target.from_default_triple().create_target_machine(opt=codegen_level,
                                                                       codemodel="jitdefault")


def anchor_object(name: str) -> bytes:
    """Object code of an empty function ``name`` (object_bundles.anchor_name), compiled like block
    functions so that it lands in their section."""
    host = host_target(0)
    return compile_object(f'{host.header}define void @"{name}"() {{\n  ret void\n}}\n', 0, host.target)


@dataclass(frozen=True)
class HostTarget:
    """The target machine of one code generator level, the module header for it and the host
    description that goes into every function name."""

    target: llvm.TargetMachine
    header: str
    host: str


@functools.cache
def host_target(codegen_level: int) -> HostTarget:
    import llvmlite.binding as llvm

    target = create_target(codegen_level)
    header = (f'target triple = "{llvm.get_process_triple()}"\n'
              f'target datalayout = "{target.target_data}"\n')
    host = "|".join([
        ".".join(map(str, llvm.llvm_version_info)), llvm.get_process_triple(),
        llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten(), str(codegen_level),
    ])
    return HostTarget(target, header, host)


class HostDescription(NamedTuple):
    """What function names and module texts take from the host target (``HostTarget`` without
    the target machine)."""

    header: str
    host: str


VOLATILE_CPU_FIELDS = frozenset({"processor", "cpu MHz", "bogomips", "BogoMIPS", "core id", "apicid",
                                 "initial apicid", "siblings", "cpu cores", "physical id"})
"""/proc/cpuinfo fields that differ between the processors of one host or from moment to moment;
the others (model, stepping, flags or features, whatever the architecture names them) are what
LLVM's host CPU name and features follow."""


def host_description(codegen_level: int, folder: Path | None = None) -> HostDescription:
    """``host_target``'s header and host description, read from ``folder`` if a process on a CPU
    and llvmlite like this one wrote it there, else from LLVM (and written there). Loading LLVM
    took ~35 ms of every warm ``polyvm run``, which links no code with it (mapped_code.py) and
    compiles in the compile server process (benchmarks/boot.py)."""
    fingerprint = _cpu_fingerprint(codegen_level) if folder is not None else None
    if fingerprint is not None:
        try:
            header, host = (folder / f"host-{fingerprint}.txt").read_text().split("\0")
            if header.startswith("target triple = ") and "target datalayout = " in header and host:
                return HostDescription(header, host)
        except (OSError, ValueError):
            pass  # none, or not one this code wrote: made again and written over
    target = host_target(codegen_level)
    described = HostDescription(target.header, target.host)
    if fingerprint is not None:
        temporary = folder / f"host-{fingerprint}.{os.getpid()}.tmp"
        try:
            temporary.write_text("\0".join(described))
            temporary.replace(folder / f"host-{fingerprint}.txt")
        except OSError:
            pass
    return described


@functools.cache
def _cpu_fingerprint(codegen_level: int) -> str | None:
    """A hash of what the host description depends on: llvmlite's version, the machine and the
    first processor's /proc/cpuinfo fields but VOLATILE_CPU_FIELDS (None if it cannot be read)."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            first = cpuinfo.read().split("\n\n")[0]
    except OSError:
        return None
    fields = sorted(line for line in first.splitlines()
                    if line.split(":")[0].strip() not in VOLATILE_CPU_FIELDS)
    text = "|".join([llvmlite.__version__, os.uname().machine, str(codegen_level), *fields])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def codegen_level(opt_level: int) -> int:
    """Level 0 uses LLVM's fast instruction selector; optimised code gets the full generator."""
    return 0 if opt_level == 0 else 2


def named_module(function: str, opt_level: int, name: str | None = None,
                 host: HostDescription | None = None) -> tuple[str, str]:
    """The name of ``function`` (text with ``@NAME(``): ``name`` if given, else a hash of the
    text, the level and the host; and the module text defining it under that name (``host``: the
    host description of the level's code generator, from LLVM if not given)."""
    if host is None:
        host = host_description(codegen_level(opt_level))
    if name is None:
        digest = hashlib.sha256(f"{host.host}|{opt_level}|{function}".encode()).hexdigest()
        name = f"{PREFIX}{digest[:32]}"
    return name, f"{host.header}{function.replace('@NAME(', f'@{name}(', 1)}\n{METADATA}\n"
