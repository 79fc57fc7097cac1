"""RISC-V instruction decoder: 32-bit RV64IMA + Zicsr + Zifencei + system, and the C extension.

Compressed instructions are expanded to the base instruction they stand for (``c.addi`` becomes
``addi`` with size 2), so the translator sees one vocabulary. Anything unknown or reserved decodes
to ``None``; the translator turns that into an illegal-instruction trap carrying the encoding.
"""

from __future__ import annotations

import dataclasses

from polyvm.mem.paging import Access, PageFault
from polyvm.mem.softmmu import BusError


@dataclasses.dataclass(slots=True)
class RvInsn:
    """A decoded instruction. ``imm`` is sign-extended where the format says so."""

    name: str
    pc: int
    raw: int
    size: int
    rd: int = 0
    rs1: int = 0
    rs2: int = 0
    rs3: int = 0
    imm: int = 0
    csr: int = 0
    aq: bool = False
    rl: bool = False
    rm: int = 0

    def next_pc(self) -> int:
        return (self.pc + self.size) & 0xFFFFFFFFFFFFFFFF

    def is_branch(self) -> bool:
        return self.name in BRANCHES

    def is_jump(self) -> bool:
        return self.name in ("jal", "jalr")

    def is_trap(self) -> bool:
        return self.name in ("ecall", "ebreak")

    def ends_block(self) -> bool:
        return self.name in BLOCK_ENDERS or self.name.startswith("csr")


BRANCHES = {"beq", "bne", "blt", "bge", "bltu", "bgeu"}
BLOCK_ENDERS = BRANCHES | {
    "jal", "jalr", "ecall", "ebreak", "mret", "sret", "wfi", "sfence.vma", "fence.i",
}


def sext(value: int, bits: int) -> int:
    sign = 1 << (bits - 1)
    return (value & (sign - 1)) - (value & sign)


def _bits(value: int, hi: int, lo: int) -> int:
    return (value >> lo) & ((1 << (hi - lo + 1)) - 1)


# --- 32-bit encodings -----------------------------------------------------------------------------

LOADS = {0: "lb", 1: "lh", 2: "lw", 3: "ld", 4: "lbu", 5: "lhu", 6: "lwu"}
STORES = {0: "sb", 1: "sh", 2: "sw", 3: "sd"}
BRANCH_F3 = {0: "beq", 1: "bne", 4: "blt", 5: "bge", 6: "bltu", 7: "bgeu"}
OP_IMM = {0: "addi", 2: "slti", 3: "sltiu", 4: "xori", 6: "ori", 7: "andi"}
OP = {
    (0, 0): "add", (0, 0x20): "sub", (1, 0): "sll", (2, 0): "slt", (3, 0): "sltu", (4, 0): "xor",
    (5, 0): "srl", (5, 0x20): "sra", (6, 0): "or", (7, 0): "and",
    (0, 1): "mul", (1, 1): "mulh", (2, 1): "mulhsu", (3, 1): "mulhu",
    (4, 1): "div", (5, 1): "divu", (6, 1): "rem", (7, 1): "remu",
}
OP_32 = {
    (0, 0): "addw", (0, 0x20): "subw", (1, 0): "sllw", (5, 0): "srlw", (5, 0x20): "sraw",
    (0, 1): "mulw", (4, 1): "divw", (5, 1): "divuw", (6, 1): "remw", (7, 1): "remuw",
}
AMO = {
    0x02: "lr", 0x03: "sc", 0x01: "amoswap", 0x00: "amoadd", 0x04: "amoxor", 0x0C: "amoand",
    0x08: "amoor", 0x10: "amomin", 0x14: "amomax", 0x18: "amominu", 0x1C: "amomaxu",
}
CSR_F3 = {1: "csrrw", 2: "csrrs", 3: "csrrc", 5: "csrrwi", 6: "csrrsi", 7: "csrrci"}
SYSTEM_EXACT = {
    0x00000073: "ecall", 0x00100073: "ebreak", 0x10200073: "sret", 0x30200073: "mret",
    0x10500073: "wfi",
}


FP_LOADS = {2: "flw", 3: "fld"}
FP_STORES = {2: "fsw", 3: "fsd"}
FMA = {0x43: "fmadd", 0x47: "fmsub", 0x4B: "fnmsub", 0x4F: "fnmadd"}
FMT = {0: "s", 1: "d"}
FP_ARITH = {0x00: "fadd", 0x04: "fsub", 0x08: "fmul", 0x0C: "fdiv"}
FP_BY_F3 = {
    0x10: {0: "fsgnj", 1: "fsgnjn", 2: "fsgnjx"},
    0x14: {0: "fmin", 1: "fmax"},
    0x50: {0: "fle", 1: "flt", 2: "feq"},
}
FP_INT = {0: "w", 1: "wu", 2: "l", 3: "lu"}


def _decode_op_fp(w: int, pc: int, rd: int, rm: int, rs1: int, rs2: int, f7: int) -> RvInsn | None:
    fmt, op = f7 & 3, f7 & ~3
    if fmt not in FMT:
        return None
    suffix = FMT[fmt]

    def make(name: str) -> RvInsn:
        return RvInsn(name, pc, w, 4, rd=rd, rs1=rs1, rs2=rs2, rm=rm)

    if op in FP_ARITH:
        return make(f"{FP_ARITH[op]}.{suffix}")
    if op == 0x2C and rs2 == 0:
        return make(f"fsqrt.{suffix}")
    if op in FP_BY_F3 and rm in FP_BY_F3[op]:
        return make(f"{FP_BY_F3[op][rm]}.{suffix}")
    if op == 0x20 and rs2 == 1 - fmt:
        return make(f"fcvt.{suffix}.{FMT[rs2]}")
    if op == 0x60 and rs2 in FP_INT:
        return make(f"fcvt.{FP_INT[rs2]}.{suffix}")
    if op == 0x68 and rs2 in FP_INT:
        return make(f"fcvt.{suffix}.{FP_INT[rs2]}")
    if op == 0x70 and rs2 == 0 and rm in (0, 1):
        return make(f"fmv.x.{'w' if fmt == 0 else 'd'}" if rm == 0 else f"fclass.{suffix}")
    if op == 0x78 and rs2 == 0 and rm == 0:
        return make(f"fmv.{'w' if fmt == 0 else 'd'}.x")
    return None


def _i_imm(w: int) -> int:
    return sext(w >> 20, 12)


def _s_imm(w: int) -> int:
    return sext((_bits(w, 31, 25) << 5) | _bits(w, 11, 7), 12)


def _b_imm(w: int) -> int:
    return sext(
        (_bits(w, 31, 31) << 12) | (_bits(w, 7, 7) << 11) | (_bits(w, 30, 25) << 5)
        | (_bits(w, 11, 8) << 1),
        13,
    )


def _j_imm(w: int) -> int:
    return sext(
        (_bits(w, 31, 31) << 20) | (_bits(w, 19, 12) << 12) | (_bits(w, 20, 20) << 11)
        | (_bits(w, 30, 21) << 1),
        21,
    )


def decode32(w: int, pc: int) -> RvInsn | None:
    opcode = w & 0x7F
    rd, f3, rs1, rs2, f7 = _bits(w, 11, 7), _bits(w, 14, 12), _bits(w, 19, 15), _bits(w, 24, 20), w >> 25

    def make(name: str, **fields: int) -> RvInsn:
        return RvInsn(name, pc, w, 4, **fields)

    if opcode == 0x37:
        return make("lui", rd=rd, imm=sext(w & 0xFFFFF000, 32))
    if opcode == 0x17:
        return make("auipc", rd=rd, imm=sext(w & 0xFFFFF000, 32))
    if opcode == 0x6F:
        return make("jal", rd=rd, imm=_j_imm(w))
    if opcode == 0x67 and f3 == 0:
        return make("jalr", rd=rd, rs1=rs1, imm=_i_imm(w))
    if opcode == 0x63 and f3 in BRANCH_F3:
        return make(BRANCH_F3[f3], rs1=rs1, rs2=rs2, imm=_b_imm(w))
    if opcode == 0x03 and f3 in LOADS:
        return make(LOADS[f3], rd=rd, rs1=rs1, imm=_i_imm(w))
    if opcode == 0x23 and f3 in STORES:
        return make(STORES[f3], rs1=rs1, rs2=rs2, imm=_s_imm(w))
    if opcode == 0x13:
        if f3 in OP_IMM:
            return make(OP_IMM[f3], rd=rd, rs1=rs1, imm=_i_imm(w))
        shamt, f6 = _bits(w, 25, 20), w >> 26
        if f3 == 1 and f6 == 0:
            return make("slli", rd=rd, rs1=rs1, imm=shamt)
        if f3 == 5 and f6 in (0, 0x10):
            return make("srli" if f6 == 0 else "srai", rd=rd, rs1=rs1, imm=shamt)
        return None
    if opcode == 0x1B:
        if f3 == 0:
            return make("addiw", rd=rd, rs1=rs1, imm=_i_imm(w))
        if f3 == 1 and f7 == 0:
            return make("slliw", rd=rd, rs1=rs1, imm=rs2)
        if f3 == 5 and f7 in (0, 0x20):
            return make("srliw" if f7 == 0 else "sraiw", rd=rd, rs1=rs1, imm=rs2)
        return None
    if opcode == 0x33 and (f3, f7) in OP:
        return make(OP[(f3, f7)], rd=rd, rs1=rs1, rs2=rs2)
    if opcode == 0x3B and (f3, f7) in OP_32:
        return make(OP_32[(f3, f7)], rd=rd, rs1=rs1, rs2=rs2)
    if opcode == 0x0F:
        if f3 == 0:
            return make("fence")
        if f3 == 1:
            return make("fence.i")
        return None
    if opcode == 0x2F and f3 in (2, 3) and (f7 >> 2) in AMO:
        kind = AMO[f7 >> 2]
        if kind == "lr" and rs2 != 0:
            return None
        insn = make(f"{kind}.{'w' if f3 == 2 else 'd'}", rd=rd, rs1=rs1, rs2=rs2)
        insn.aq, insn.rl = bool(f7 & 2), bool(f7 & 1)
        return insn
    if opcode == 0x07 and f3 in FP_LOADS:
        return make(FP_LOADS[f3], rd=rd, rs1=rs1, imm=_i_imm(w))
    if opcode == 0x27 and f3 in FP_STORES:
        return make(FP_STORES[f3], rs1=rs1, rs2=rs2, imm=_s_imm(w))
    if opcode in FMA and (f7 & 3) in FMT:
        return RvInsn(f"{FMA[opcode]}.{FMT[f7 & 3]}", pc, w, 4, rd=rd, rs1=rs1, rs2=rs2,
                      rs3=w >> 27, rm=f3)
    if opcode == 0x53:
        return _decode_op_fp(w, pc, rd, f3, rs1, rs2, f7)
    if opcode == 0x73:
        if w in SYSTEM_EXACT:
            return make(SYSTEM_EXACT[w])
        if f3 == 0 and f7 == 0x09 and rd == 0:
            return make("sfence.vma", rs1=rs1, rs2=rs2)
        if f3 in CSR_F3:
            return make(CSR_F3[f3], rd=rd, rs1=rs1, csr=w >> 20)
    return None


# --- compressed encodings -------------------------------------------------------------------------


def _creg(value: int) -> int:
    return 8 + (value & 7)


def decode16(h: int, pc: int) -> RvInsn | None:
    quadrant, f3 = h & 3, h >> 13
    rd = _bits(h, 11, 7)
    rs2 = _bits(h, 6, 2)
    rdp, rs2p = _creg(h >> 2), _creg(h >> 7)

    def make(name: str, **fields: int) -> RvInsn:
        return RvInsn(name, pc, h, 2, **fields)

    if h == 0:
        return None
    if quadrant == 0:
        uimm_w = (_bits(h, 12, 10) << 3) | (_bits(h, 6, 6) << 2) | (_bits(h, 5, 5) << 6)
        uimm_d = (_bits(h, 12, 10) << 3) | (_bits(h, 6, 5) << 6)
        if f3 == 0:
            imm = (_bits(h, 12, 11) << 4) | (_bits(h, 10, 7) << 6) | (_bits(h, 6, 6) << 2) | (
                _bits(h, 5, 5) << 3
            )
            return make("addi", rd=rdp, rs1=2, imm=imm) if imm else None
        if f3 == 1:
            return make("fld", rd=rdp, rs1=rs2p, imm=uimm_d)
        if f3 == 5:
            return make("fsd", rs1=rs2p, rs2=rdp, imm=uimm_d)
        if f3 == 2:
            return make("lw", rd=rdp, rs1=rs2p, imm=uimm_w)
        if f3 == 3:
            return make("ld", rd=rdp, rs1=rs2p, imm=uimm_d)
        if f3 == 6:
            return make("sw", rs1=rs2p, rs2=rdp, imm=uimm_w)
        if f3 == 7:
            return make("sd", rs1=rs2p, rs2=rdp, imm=uimm_d)
        return None
    if quadrant == 1:
        imm6 = sext((_bits(h, 12, 12) << 5) | rs2, 6)
        if f3 == 0:
            return make("addi", rd=rd, rs1=rd, imm=imm6)
        if f3 == 1:
            return make("addiw", rd=rd, rs1=rd, imm=imm6) if rd else None
        if f3 == 2:
            return make("addi", rd=rd, rs1=0, imm=imm6)
        if f3 == 3:
            if rd == 2:
                imm = sext(
                    (_bits(h, 12, 12) << 9) | (_bits(h, 6, 6) << 4) | (_bits(h, 5, 5) << 6)
                    | (_bits(h, 4, 3) << 7) | (_bits(h, 2, 2) << 5),
                    10,
                )
                return make("addi", rd=2, rs1=2, imm=imm) if imm else None
            return make("lui", rd=rd, imm=imm6 << 12) if imm6 else None
        if f3 == 4:
            sub, rdp1 = _bits(h, 11, 10), _creg(h >> 7)
            shamt = (_bits(h, 12, 12) << 5) | rs2
            if sub == 0:
                return make("srli", rd=rdp1, rs1=rdp1, imm=shamt)
            if sub == 1:
                return make("srai", rd=rdp1, rs1=rdp1, imm=shamt)
            if sub == 2:
                return make("andi", rd=rdp1, rs1=rdp1, imm=imm6)
            name = {
                (0, 0): "sub", (0, 1): "xor", (0, 2): "or", (0, 3): "and", (1, 0): "subw",
                (1, 1): "addw",
            }.get((_bits(h, 12, 12), _bits(h, 6, 5)))
            return make(name, rd=rdp1, rs1=rdp1, rs2=_creg(h >> 2)) if name else None
        if f3 == 5:
            imm = sext(
                (_bits(h, 12, 12) << 11) | (_bits(h, 11, 11) << 4) | (_bits(h, 10, 9) << 8)
                | (_bits(h, 8, 8) << 10) | (_bits(h, 7, 7) << 6) | (_bits(h, 6, 6) << 7)
                | (_bits(h, 5, 3) << 1) | (_bits(h, 2, 2) << 5),
                12,
            )
            return make("jal", rd=0, imm=imm)
        imm = sext(
            (_bits(h, 12, 12) << 8) | (_bits(h, 11, 10) << 3) | (_bits(h, 6, 5) << 6)
            | (_bits(h, 4, 3) << 1) | (_bits(h, 2, 2) << 5),
            9,
        )
        return make("beq" if f3 == 6 else "bne", rs1=_creg(h >> 7), rs2=0, imm=imm)
    if quadrant == 2:
        if f3 == 0:
            return make("slli", rd=rd, rs1=rd, imm=(_bits(h, 12, 12) << 5) | rs2)
        if f3 == 1:
            imm = (_bits(h, 12, 12) << 5) | (_bits(h, 6, 5) << 3) | (_bits(h, 4, 2) << 6)
            return make("fld", rd=rd, rs1=2, imm=imm)
        if f3 == 5:
            return make("fsd", rs1=2, rs2=rs2, imm=(_bits(h, 12, 10) << 3) | (_bits(h, 9, 7) << 6))
        if f3 == 2:
            imm = (_bits(h, 12, 12) << 5) | (_bits(h, 6, 4) << 2) | (_bits(h, 3, 2) << 6)
            return make("lw", rd=rd, rs1=2, imm=imm) if rd else None
        if f3 == 3:
            imm = (_bits(h, 12, 12) << 5) | (_bits(h, 6, 5) << 3) | (_bits(h, 4, 2) << 6)
            return make("ld", rd=rd, rs1=2, imm=imm) if rd else None
        if f3 == 4:
            if not _bits(h, 12, 12):
                if rs2 == 0:
                    return make("jalr", rd=0, rs1=rd, imm=0) if rd else None
                return make("add", rd=rd, rs1=0, rs2=rs2)
            if rs2 == 0:
                if rd == 0:
                    return make("ebreak")
                return make("jalr", rd=1, rs1=rd, imm=0)
            return make("add", rd=rd, rs1=rd, rs2=rs2)
        if f3 == 6:
            return make("sw", rs1=2, rs2=rs2, imm=(_bits(h, 12, 9) << 2) | (_bits(h, 8, 7) << 6))
        if f3 == 7:
            return make("sd", rs1=2, rs2=rs2, imm=(_bits(h, 12, 10) << 3) | (_bits(h, 9, 7) << 6))
    return None


def decode(word: int, pc: int) -> RvInsn | None:
    """Decode the instruction whose first bytes are ``word`` (at least 32 bits when not compressed)."""
    if word & 3 != 3:
        return decode16(word & 0xFFFF, pc)
    return decode32(word & 0xFFFFFFFF, pc)


class RiscvDecoder:
    """The seed's Decoder trait: fetch through an MMU and decode."""

    def decode_insn(self, mmu, pc: int) -> RvInsn | None:
        try:
            low = mmu.phys_read(mmu.access_paddr(pc, Access.FETCH, 2), 2)
            if low & 3 != 3:
                return decode16(low, pc)
            high_pc = (pc + 2) & 0xFFFFFFFFFFFFFFFF
            high = mmu.phys_read(mmu.access_paddr(high_pc, Access.FETCH, 2), 2)
        except (PageFault, BusError):
            return None
        return decode32(low | (high << 16), pc)
