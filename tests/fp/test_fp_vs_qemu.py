"""Differential test of polyvm.fp against the real instructions under qemu-riscv64.

Every RV64 F/D computational instruction runs on the same vectors in polyvm.fp (through the
register-level `FpInstruction.execute`) and in guests/fp_oracle under QEMU; destination register
bits and fflags must match exactly. The default run covers 100,000 vectors per family; the slow
run, 100,000 per instruction with another seed. POLYVM_FP_SEED changes the seeds.
"""

from __future__ import annotations

import os
import time
from array import array

import fp_oracle
import pytest
from fp_vectors import vectors

from polyvm.fp import INSTRUCTIONS

PER_FAMILY = 100_000
PER_INSTRUCTION_SLOW = 100_000
SEED = int(os.environ.get("POLYVM_FP_SEED", "0"))

_STEM_FAMILY = {
    "fadd": "add", "fsub": "add", "fmul": "mul", "fdiv": "div", "fsqrt": "sqrt",
    "fmadd": "fma", "fmsub": "fma", "fnmsub": "fma", "fnmadd": "fma",
    "fmin": "minmax", "fmax": "minmax", "fsgnj": "sgnj", "fsgnjn": "sgnj", "fsgnjx": "sgnj",
    "feq": "compare", "flt": "compare", "fle": "compare", "fclass": "class", "fmv": "move",
}


def _family(mnemonic: str) -> str:
    ins = INSTRUCTIONS[mnemonic]
    stem = mnemonic.split(".")[0]
    if stem != "fcvt":
        return _STEM_FAMILY[stem]
    if ins.sources == ("X",):
        return "int_to_float"
    return "float_to_int" if ins.dest in ("X", "W") else "float_to_float"


FAMILIES: dict[str, list[str]] = {}
for _mnemonic in INSTRUCTIONS:
    FAMILIES.setdefault(_family(_mnemonic), []).append(_mnemonic)


@pytest.fixture(scope="module")
def oracle():
    binary = fp_oracle.build()
    ids = {name: index for index, name in enumerate(fp_oracle.mnemonics(binary))}
    assert set(ids) == set(INSTRUCTIONS), "oracle and polyvm.fp disagree on the instruction set"
    return binary, ids


def _differential(oracle, counts: dict[str, int], seed: int) -> None:
    binary, ids = oracle
    names = {index: name for name, index in ids.items()}
    records = array("Q")  # op | rm << 32, rs1, rs2, rs3
    expected = array("Q")  # rd, fflags
    started = time.perf_counter()
    for mnemonic, count in counts.items():
        op = ids[mnemonic]
        execute = INSTRUCTIONS[mnemonic].execute
        for rm, a, b, c in vectors(mnemonic, count, seed):
            records.extend((op | rm << 32, a, b, c))
            expected.extend(execute((a, b, c), rm))
    reference_time = time.perf_counter() - started
    started = time.perf_counter()
    results = fp_oracle.run(binary, records)
    qemu_time = time.perf_counter() - started
    print(f"{len(expected) // 2} vectors: vectors+polyvm {reference_time:.1f}s, "
          f"qemu {qemu_time:.1f}s")
    if results == expected:
        return
    mismatches = []
    for i in range(0, len(expected), 2):
        if expected[i : i + 2] != results[i : i + 2]:
            head, a, b, c = records[2 * i : 2 * i + 4]
            mismatches.append(
                f"{names[head & 0xFFFF_FFFF]} rm={head >> 32} rs={a:#x},{b:#x},{c:#x}: polyvm "
                f"{expected[i]:#x}/{expected[i + 1]:#x} qemu {results[i]:#x}/{results[i + 1]:#x}"
            )
    raise AssertionError(f"{len(mismatches)} mismatches, first:\n" + "\n".join(mismatches[:30]))


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_matches_qemu(oracle, family: str) -> None:
    members = FAMILIES[family]
    share = -(-PER_FAMILY // len(members))
    _differential(oracle, {mnemonic: share for mnemonic in members}, SEED)


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_matches_qemu_full(oracle, family: str) -> None:
    members = FAMILIES[family]
    _differential(oracle, {mnemonic: PER_INSTRUCTION_SLOW for mnemonic in members}, SEED + 1)
