"""InstructionFuser (seed section 3.3): recognises adjacent instruction pairs worth translating as one.

The translator asks ``try_fuse(prev, curr)`` while building a block and, on a match, emits one
combined IR sequence (a constant, a direct jump, a compare folded into its branch). Counts are real:
they are taken as blocks are translated.
"""

from __future__ import annotations

import dataclasses
import enum

from polyvm.arch.riscv64.decoder import RvInsn, sext


class FusedKind(enum.Enum):
    LUI_ADDI = "lui+addi"          # load a 32-bit constant
    AUIPC_ADDI = "auipc+addi"      # pc-relative address (la)
    AUIPC_JALR = "auipc+jalr"      # far call/jump with a known target
    CMP_BRANCH = "slt+branch"      # slt/sltu into a register, then branch on it against zero
    ADD_LOAD = "addi+load"         # address arithmetic folded into the load's base


@dataclasses.dataclass(frozen=True)
class FusedOp:
    kind: FusedKind
    reg: int
    value: int = 0
    """The constant (LUI_ADDI/AUIPC_ADDI), target (AUIPC_JALR/CMP_BRANCH) or offset (ADD_LOAD)."""


@dataclasses.dataclass
class FuserStats:
    fused_count: int = 0
    total_checked: int = 0

    @property
    def fusion_rate(self) -> float:
        return self.fused_count / self.total_checked if self.total_checked else 0.0


LOADS = {"lb", "lh", "lw", "ld", "lbu", "lhu", "lwu"}
M64 = (1 << 64) - 1


class InstructionFuser:
    def __init__(self) -> None:
        self._stats = FuserStats()
        self.by_kind: dict[FusedKind, int] = {kind: 0 for kind in FusedKind}

    def stats(self) -> FuserStats:
        return dataclasses.replace(self._stats)

    def try_fuse(self, prev: RvInsn, curr: RvInsn) -> FusedOp | None:
        self._stats.total_checked += 1
        fused = self._match(prev, curr)
        if fused is not None:
            self._stats.fused_count += 1
            self.by_kind[fused.kind] += 1
        return fused

    @staticmethod
    def _match(prev: RvInsn, curr: RvInsn) -> FusedOp | None:
        rd = prev.rd
        if rd == 0:
            return None
        if prev.name == "lui" and curr.name == "addi" and curr.rd == rd and curr.rs1 == rd:
            return FusedOp(FusedKind.LUI_ADDI, rd, (prev.imm + curr.imm) & M64)
        if prev.name == "lui" and curr.name == "addiw" and curr.rd == rd and curr.rs1 == rd:
            return FusedOp(FusedKind.LUI_ADDI, rd, sext(prev.imm + curr.imm, 32) & M64)
        if prev.name == "auipc" and curr.rs1 == rd:
            base = prev.pc + prev.imm
            if curr.name == "addi" and curr.rd == rd:
                return FusedOp(FusedKind.AUIPC_ADDI, rd, (base + curr.imm) & M64)
            if curr.name == "jalr":
                return FusedOp(FusedKind.AUIPC_JALR, rd, (base + curr.imm) & M64 & ~1)
        if (
            prev.name in ("slt", "sltu", "slti", "sltiu")
            and curr.name in ("beq", "bne")
            and curr.rs1 == rd
            and curr.rs2 == 0
        ):
            return FusedOp(FusedKind.CMP_BRANCH, rd, (curr.pc + curr.imm) & M64)
        if prev.name == "addi" and curr.name in LOADS and curr.rs1 == rd and prev.rs1 != rd:
            return FusedOp(FusedKind.ADD_LOAD, rd, prev.imm + curr.imm)
        return None
