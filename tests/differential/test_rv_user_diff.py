"""Random user-level RV64IMAC sequences: polyvm must match qemu-riscv64 bit for bit.

25 programs x 400 sequences = 10,000 sequences in each emulated mode. A failure names the program
seed, and for each differing sequence its seed, the differing registers and buffer bytes, and
its assembly (``python -m polyvm.devtools.rvgen --sequence SEED`` prints it again).
"""

import pytest
import rvdiff

from tests.modes import EMULATED_MODES

# (ExecMode value, program seed) pairs: every program in every emulated mode.
RUNS = [(mode.value, seed) for mode in EMULATED_MODES for seed in rvdiff.PROGRAM_SEEDS]


def _reference(seed: int) -> tuple[rvdiff.Program, rvdiff.Path, bytes]:
    program = rvdiff.Program.generate(seed)
    linux, bare = rvdiff.build(program, rvdiff.LINUX), rvdiff.build(program, rvdiff.BARE)
    expected = rvdiff.reference_output(linux)
    rvdiff.check_reference(program, expected)
    assert rvdiff.shared_code(linux) == rvdiff.shared_code(bare), "harness ELFs disagree"
    return program, bare, expected


@pytest.mark.slow
@pytest.mark.parametrize("mode, seed", RUNS)
def test_polyvm_matches_qemu_user(mode: str, seed: int) -> None:
    program, bare, expected = _reference(seed)
    problem, actual = rvdiff.polyvm_output(bare, mode, len(program.sequences))
    reports = rvdiff.compare(program, expected, actual)
    if problem or reports:
        pytest.fail(f"program seed {seed}, mode {mode}: {problem or 'exit 0'}\n"
                    + "\n\n".join(reports), pytrace=False)


@pytest.mark.slow
def test_bare_harness_on_qemu_system_matches_linux_harness() -> None:
    """The harness pair is sound: qemu's spike board running the bare ELF gives the same dump."""
    program = rvdiff.Program.generate(1000, 200)
    expected = rvdiff.reference_output(rvdiff.build(program, rvdiff.LINUX))
    rvdiff.check_reference(program, expected)
    dumped = rvdiff.qemu_system_output(rvdiff.build(program, rvdiff.BARE_DUMP))
    reports = rvdiff.compare(program, expected, dumped)
    assert not reports, "\n\n".join(reports)
