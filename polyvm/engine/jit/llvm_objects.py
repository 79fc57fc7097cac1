"""Object code from LLVM IR text: the host target machines, module text and function names, and
the compile itself, for every process that compiles (this one, the compile server, the precompiler
and the bundler's anchors).

This module and codegen.py determine what object code a function name stands for, so both are in
llvm_backend.JIT_SOURCES (the disk cache's version); llvm_backend.py, which links and caches that
code, is not, and changing it keeps the cache.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

import llvmlite.binding as llvm

from polyvm.engine.jit.codegen import METADATA

PREFIX = "jit_"
"""Names of the functions (and their modules) the backend compiles."""


def compile_object(module_text: str, opt_level: int, target: llvm.TargetMachine) -> bytes:
    """Object code of one module: LLVM's O1-O3 pipeline unless ``opt_level`` is 0, then the code
    generator of ``target``."""
    parsed = llvm.parse_assembly(module_text)
    if opt_level > 0:
        tuning = llvm.create_pipeline_tuning_options(speed_level=opt_level)
        builder = llvm.create_pass_builder(target, tuning)
        builder.getModulePassManager().run(parsed, builder)
    return target.emit_object(parsed)


@functools.cache
def _initialise_llvm() -> None:
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()


def create_target(codegen_level: int) -> llvm.TargetMachine:
    """The host target machine every engine and the compile server use (same code either way)."""
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
    target = create_target(codegen_level)
    header = (f'target triple = "{llvm.get_process_triple()}"\n'
              f'target datalayout = "{target.target_data}"\n')
    host = "|".join([
        ".".join(map(str, llvm.llvm_version_info)), llvm.get_process_triple(),
        llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten(), str(codegen_level),
    ])
    return HostTarget(target, header, host)


def codegen_level(opt_level: int) -> int:
    """Level 0 uses LLVM's fast instruction selector; optimised code gets the full generator."""
    return 0 if opt_level == 0 else 2


def named_module(function: str, opt_level: int, name: str | None = None) -> tuple[str, str]:
    """The name of ``function`` (text with ``@NAME(``): ``name`` if given, else a hash of the
    text, the level and the host; and the module text defining it under that name."""
    host = host_target(codegen_level(opt_level))
    if name is None:
        digest = hashlib.sha256(f"{host.host}|{opt_level}|{function}".encode()).hexdigest()
        name = f"{PREFIX}{digest[:32]}"
    return name, f"{host.header}{function.replace('@NAME(', f'@{name}(', 1)}\n{METADATA}\n"
