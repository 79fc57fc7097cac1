"""Differential harness: one generated program, built twice, run by qemu and by polyvm.

The program text from ``polyvm.devtools.rvgen`` is linked with ``harness_linux.S`` (a static
Linux user ELF for qemu-riscv64, the reference) and with ``harness_bare.S`` (an M-mode ELF for
the spike board). ``rvdiff.ld`` gives both the same addresses for the shared code and output
slots, so even PC-relative and address results must agree bit for bit. ELFs and reference
outputs are cached under ``cache_dir("difftest")`` keyed by every input.

Run standalone to build, time and cross-check outside pytest::

    python tests/differential/rvdiff.py --programs 25 --qemu-system --polyvm interpreter
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from polyvm import ExecMode, GuestArch, VmConfig
from polyvm.devtools import rvgen
from polyvm.devtools.cache import cache_dir, content_key
from polyvm.machine.spike import SpikeBoard

HERE = Path(__file__).resolve().parent
LINKER_SCRIPT = HERE / "rvdiff.ld"
SEQUENCES_PER_PROGRAM = 400
PROGRAM_SEEDS = tuple(range(1, 26))  # 25 programs x 400 = 10,000 sequences
# Far above what a sequence runs (~150 instructions): a bound, so a wild jump cannot hang.
INSTRUCTIONS_PER_SEQUENCE = 2000
RUN_TIMEOUT = 120.0  # seconds; also ends a trap storm, which retires no instructions
QEMU_USER = "qemu-riscv64"
QEMU_SYSTEM = "qemu-system-riscv64"


@dataclass(frozen=True)
class Toolchain:
    """How one harness flavour is compiled and linked."""

    compiler: str
    harness: Path
    flags: tuple[str, ...]


LINUX = Toolchain("riscv64-linux-gnu-gcc", HERE / "harness_linux.S",
                  ("-march=rv64imac", "-mabi=lp64", "-static", "-nostdlib",
                   "-Wl,-z,max-page-size=4096"))
BARE = Toolchain("riscv64-unknown-elf-gcc", HERE / "harness_bare.S",
                 ("-march=rv64imac_zicsr", "-mabi=lp64", "-nostdlib", "-nostartfiles"))
BARE_DUMP = Toolchain(BARE.compiler, BARE.harness, (*BARE.flags, "-DRVDIFF_HTIF_DUMP"))
COMMON_FLAGS = ("-Wl,--build-id=none", "-Wl,--no-relax", f"-T{LINKER_SCRIPT}")


class HarnessError(RuntimeError):
    """A build or a reference run failed (tool missing, assembler error, guest crash)."""


@functools.cache
def _tool_version(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise HarnessError(f"{tool} not found on PATH (see scripts/setup.sh)")
    result = subprocess.run([path, "--version"], capture_output=True, text=True, check=True)
    return result.stdout.splitlines()[0]


def _run(cmd: Sequence[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(list(cmd), capture_output=True, timeout=timeout, check=False)


@dataclass(frozen=True)
class Program:
    """The sequences of one program seed and the assembly text both harnesses share."""

    seed: int
    sequences: tuple[rvgen.GenSequence, ...]
    source: str

    @classmethod
    def generate(cls, seed: int, count: int = SEQUENCES_PER_PROGRAM) -> Program:
        sequences = tuple(rvgen.generate_program(seed, count))
        return cls(seed, sequences, rvgen.render_program(sequences))


def build(program: Program, toolchain: Toolchain) -> Path:
    """Link ``program`` with one harness; return the cached ELF."""
    flags = (*toolchain.flags, *COMMON_FLAGS)
    key = content_key(program.source, toolchain.harness.read_bytes(), LINKER_SCRIPT.read_bytes(),
                      " ".join(flags), _tool_version(toolchain.compiler))
    out = cache_dir("difftest") / f"{key}.elf"
    if out.exists():
        return out
    src = out.with_suffix(f".{os.getpid()}.S")  # per-process names: parallel runs may race
    src.write_text(program.source)
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    result = _run([toolchain.compiler, *flags, str(toolchain.harness), str(src), "-o", str(tmp)],
                  timeout=120)
    if result.returncode:
        raise HarnessError(f"building program {program.seed} failed:\n"
                           + result.stderr.decode(errors="replace"))
    tmp.replace(out)
    src.unlink()
    return out


def output_area(elf: Path) -> tuple[int, int]:
    """Address and length of the output slots, from the ELF symbols out_area/out_end."""
    with elf.open("rb") as stream:
        symtab = ELFFile(stream).get_section_by_name(".symtab")
        assert isinstance(symtab, SymbolTableSection)
        start, end = (symtab.get_symbol_by_name(n)[0]["st_value"] for n in ("out_area", "out_end"))
    return start, end - start


def shared_code(elf: Path) -> bytes:
    """The bytes of the generated code (section .text), which both harness ELFs must share."""
    with elf.open("rb") as stream:
        return ELFFile(stream).get_section_by_name(".text").data()


def reference_output(elf: Path) -> bytes:
    """The output area written by the Linux harness under qemu-riscv64 (cached)."""
    key = content_key(elf.read_bytes(), _tool_version(QEMU_USER))
    cached = cache_dir("difftest") / f"{key}.ref"
    if cached.exists():
        return cached.read_bytes()
    result = _run([QEMU_USER, str(elf)], timeout=120)
    _, length = output_area(elf)
    if result.returncode or len(result.stdout) != length:
        raise HarnessError(f"{QEMU_USER} {elf} exited {result.returncode} after writing "
                           f"{len(result.stdout)} of {length} bytes")
    tmp = cached.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(result.stdout)
    tmp.replace(cached)
    return result.stdout


def qemu_system_output(elf: Path) -> bytes:
    """The output area as printed by the bare harness (built with BARE_DUMP) on qemu's spike."""
    result = _run([QEMU_SYSTEM, "-M", "spike", "-bios", "none", "-nographic", "-kernel", str(elf)],
                  timeout=300)
    text = result.stdout.decode(errors="replace")
    found = re.search(r"RVDIFF-BEGIN\s*\n(.*?)RVDIFF-END", text, re.S)
    if result.returncode or found is None:
        raise HarnessError(f"{QEMU_SYSTEM} exited {result.returncode}: {text[-2000:]}")
    return bytes.fromhex("".join(found[1].split()))


def polyvm_output(elf: Path, mode_name: str, count: int) -> tuple[str | None, bytes]:
    """Run the bare harness on polyvm's spike board: (None or why it did not exit 0, output)."""
    config = (VmConfig(GuestArch.RISCV64).with_exec_mode(ExecMode(mode_name))
              .with_memory_size(64 << 20))
    board = SpikeBoard(config, kernel=elf)
    result = board.run(max_instructions=INSTRUCTIONS_PER_SEQUENCE * count, timeout=RUN_TIMEOUT)
    address, length = output_area(elf)
    problem = None
    if result.exit_code != 0:
        problem = (f"run ended: {result.reason.name}, exit code {result.exit_code} "
                   f"(64+n: trap with mcause n), {result.instructions} instructions")
    return problem, bytes(board.read_phys(address, length))


def _describe(pos: int, seq: rvgen.GenSequence, want: rvgen.SlotState,
              got: rvgen.SlotState) -> str:
    lines = [f"sequence {pos} (seed {seq.seed}; reproduce: "
             f"python -m polyvm.devtools.rvgen --sequence {seq.seed})"]
    if got.marker != want.marker:
        lines.append(f"  did not complete: marker {got.marker:#x}, want {want.marker:#x}")
    lines += [f"  x{r:<2} initial {seq.init_regs[r]:#018x}  qemu {want.regs[r]:#018x}  "
              f"polyvm {got.regs[r]:#018x}" for r in range(1, 32) if want.regs[r] != got.regs[r]]
    lines += [f"  buf[{i:3}] initial {seq.buffer[i]:#04x}  qemu {want.buffer[i]:#04x}  "
              f"polyvm {got.buffer[i]:#04x}"
              for i in range(rvgen.BUF_SIZE) if want.buffer[i] != got.buffer[i]]
    return "\n".join(lines) + "\n" + seq.listing()


def compare(program: Program, expected: bytes, actual: bytes, limit: int = 3) -> list[str]:
    """Reports of the first ``limit`` sequences whose final state differs."""
    reports = []
    pairs = zip(rvgen.parse_slots(expected), rvgen.parse_slots(actual), strict=True)
    for pos, (want, got) in enumerate(pairs):
        if want != got:
            reports.append(_describe(pos, program.sequences[pos], want, got))
            if len(reports) == limit:
                break
    return reports


def check_reference(program: Program, expected: bytes) -> None:
    """Every sequence of the reference run must have completed (its marker written)."""
    for pos, state in enumerate(rvgen.parse_slots(expected)):
        if state.marker != rvgen.marker(pos):
            raise HarnessError(f"program {program.seed}: reference sequence {pos} incomplete")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="build and cross-check differential programs")
    parser.add_argument("--programs", type=int, default=len(PROGRAM_SEEDS))
    parser.add_argument("--count", type=int, default=SEQUENCES_PER_PROGRAM)
    parser.add_argument("--first-seed", type=int, default=PROGRAM_SEEDS[0])
    parser.add_argument("--qemu-system", action="store_true",
                        help="also run the bare harness on qemu-system-riscv64 -M spike")
    parser.add_argument("--polyvm", metavar="MODE", help="also run the bare harness on polyvm")
    args = parser.parse_args(argv)
    totals = dict.fromkeys(("generate", "build", "qemu-user", "qemu-system", "polyvm"), 0.0)
    failures = 0
    for seed in range(args.first_seed, args.first_seed + args.programs):
        t0 = time.perf_counter()
        program = Program.generate(seed, args.count)
        t1 = time.perf_counter()
        linux, bare = build(program, LINUX), build(program, BARE)
        t2 = time.perf_counter()
        expected = reference_output(linux)
        check_reference(program, expected)
        t3 = time.perf_counter()
        totals["generate"] += t1 - t0
        totals["build"] += t2 - t1
        totals["qemu-user"] += t3 - t2
        if shared_code(linux) != shared_code(bare):
            raise HarnessError(f"program {seed}: the two harness ELFs differ in shared code")
        checks = []
        if args.qemu_system:
            dump = build(program, BARE_DUMP)
            t4 = time.perf_counter()
            checks.append(("qemu-system", qemu_system_output(dump)))
            totals["qemu-system"] += time.perf_counter() - t4
        if args.polyvm:
            t4 = time.perf_counter()
            problem, actual = polyvm_output(bare, args.polyvm, args.count)
            totals["polyvm"] += time.perf_counter() - t4
            if problem:
                print(f"program {seed}: polyvm {problem}")
                failures += 1
            checks.append(("polyvm", actual))
        for name, actual in checks:
            for report in compare(program, expected, actual):
                failures += 1
                print(f"program {seed}, {name} differs from qemu-riscv64:\n{report}\n")
    total = args.programs * args.count
    timing = ", ".join(f"{k} {v:.2f}s" for k, v in totals.items() if v)
    print(f"{total} sequences in {args.programs} programs: {timing}; {failures} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
