"""The LLVM side of the JIT: process-wide MCJIT engines that turn IR text into native code.

MCJIT engines live for the whole process (freeing one crashed this host); each compile adds one
module to one of them. codegen.py writes the text.

Functions are named by a hash of their text, the optimisation level and the host (LLVM version,
CPU, features): compiling the same block twice in a process returns the first address, and with a
``cache_dir`` the object code is kept on disk under that name, so a later process (a second boot
of the same guest) loads it instead of running LLVM's passes and code generator.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import llvmlite.binding as llvm

from polyvm.engine.jit.codegen import METADATA, block_function, dispatch_loop
from polyvm.ir.block import IRBlock

PREFIX = "jit_"
"""Names of the functions (and their modules) the backend compiles."""


@dataclass(frozen=True)
class NativeCode:
    """A compiled function: its native address, name, compile time and object file size."""

    address: int
    name: str
    compile_ms: float
    code_size: int


class _Engine:
    """One MCJIT engine and its target machine, alive until the process ends."""

    def __init__(self, codegen_level: int) -> None:
        self.target = llvm.Target.from_default_triple().create_target_machine(
            opt=codegen_level, codemodel="jitdefault"
        )
        self.engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), self.target)
        self.triple = llvm.get_process_triple()
        self.layout = str(self.target.target_data)
        self.host = "|".join([
            ".".join(map(str, llvm.llvm_version_info)), self.triple, llvm.get_host_cpu_name(),
            llvm.get_host_cpu_features().flatten(), str(codegen_level),
        ])
        self.lock = threading.Lock()
        """MCJIT is not thread-safe: one add/finalize at a time."""
        self.functions: dict[str, tuple[int, int]] = {}
        """Function name -> (address, object code size)."""
        self.modules: list[llvm.ModuleRef] = []
        self.disk: Path | None = None
        self.object_size = 0
        self.engine.set_object_cache(self._object_emitted, self._object_wanted)

    def _object_emitted(self, module: llvm.ModuleRef, data: bytes) -> None:
        self.object_size = len(data)
        if self.disk is not None and module.name.startswith(PREFIX):
            path = self.disk / f"{module.name}.o"
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)

    def _object_wanted(self, module: llvm.ModuleRef) -> bytes | None:
        if self.disk is None or not module.name.startswith(PREFIX):
            return None
        path = self.disk / f"{module.name}.o"
        if not path.exists():
            return None
        data = path.read_bytes()
        self.object_size = len(data)
        return data


class LlvmBackend:
    """Compiles through process-wide MCJIT engines, adding one module per call.

    ``opt_level`` 0 skips the optimisation passes and uses LLVM's fast instruction selector (about
    an eighth of the compile time); levels 1-3 run the new pass manager's O1-O3 pipeline and the
    full code generator. Each code generator level has its own engine; their code calls each other
    freely (addresses are process-wide). ``cache_dir`` keeps object code on disk across processes.
    """

    _engines: dict[int, _Engine] = {}

    def __init__(self, opt_level: int = 2, cache_dir: Path | None = None) -> None:
        self.opt_level = opt_level
        self.cache_dir = cache_dir
        level = 0 if opt_level == 0 else 2
        if not self._engines:
            llvm.initialize_native_target()
            llvm.initialize_native_asmprinter()
        if level not in self._engines:
            self._engines[level] = _Engine(level)
        self.engine = self._engines[level]
        self.disk_hits = 0

    def compile_block(self, block: IRBlock) -> NativeCode:
        start = time.perf_counter()
        return self.finish(block_function(block, "NAME"), start)

    def compile_dispatch_loop(self) -> NativeCode:
        start = time.perf_counter()
        return self.finish(dispatch_loop("NAME"), start)

    def finish(self, function: str, start: float) -> NativeCode:
        """Name ``function`` (written as ``@NAME``) by its content, then reuse it, load it from
        disk or optimise and compile it; the time counts from ``start`` (a perf_counter value)."""
        engine = self.engine
        digest = hashlib.sha256(f"{engine.host}|{self.opt_level}|{function}".encode()).hexdigest()
        name = f"{PREFIX}{digest[:32]}"
        with engine.lock:
            known = engine.functions.get(name)
            if known is None:
                known = engine.functions[name] = self._compile(function.replace("@NAME(", f"@{name}(", 1),
                                                               name)
        elapsed = (time.perf_counter() - start) * 1000
        return NativeCode(known[0], name, elapsed, known[1])

    def _compile(self, function: str, name: str) -> tuple[int, int]:
        engine = self.engine
        parsed = llvm.parse_assembly(
            f'target triple = "{engine.triple}"\ntarget datalayout = "{engine.layout}"\n'
            f"{function}\n{METADATA}\n"
        )
        parsed.name = name
        engine.disk = self.cache_dir
        cached = self.cache_dir is not None and (self.cache_dir / f"{name}.o").exists()
        self.disk_hits += cached
        if self.opt_level > 0 and not cached:
            tuning = llvm.create_pipeline_tuning_options(speed_level=self.opt_level)
            builder = llvm.create_pass_builder(engine.target, tuning)
            builder.getModulePassManager().run(parsed, builder)
        engine.engine.add_module(parsed)
        engine.engine.finalize_object()
        engine.modules.append(parsed)
        return engine.engine.get_function_address(name), engine.object_size
