"""Translates decoded RISC-V instructions into IR blocks.

A block ends at a control transfer, a system or CSR instruction, the end of the 4 KiB page,
MAX_BLOCK_INSNS (or the caller's ``limit``), or before a debugger breakpoint (``stop_at``), so a
breakpoint address is only ever the first instruction of a block. Slots 0-31 are x0-x31 (x0 is
never read or written: it is the constant 0).
Everything that is not plain data flow is a CALL of a hart helper named here; see hart.py.
"""

from __future__ import annotations

from collections.abc import Callable, Container

from polyvm.arch.riscv64.decoder import RvInsn, decode
from polyvm.arch.riscv64.fuser import FusedKind, FusedOp, InstructionFuser
from polyvm.fp.instructions import INSTRUCTIONS as FP_INSTRUCTIONS
from polyvm.ir.block import IRBlock, IRBuilder, Op, Value

MAX_BLOCK_INSNS = 64
M64 = (1 << 64) - 1
F0 = 32
"""Slot of f0: f registers are slots 32-63, raw 64-bit patterns (binary32 values NaN-boxed)."""
BOX32 = 0xFFFF_FFFF_0000_0000
FP_LOADS = {"flw": 4, "fld": 8}
FP_STORES = {"fsw": 4, "fsd": 8}

LOAD_SIZES = {"lb": (1, True), "lh": (2, True), "lw": (4, True), "ld": (8, False),
              "lbu": (1, False), "lhu": (2, False), "lwu": (4, False)}
STORE_SIZES = {"sb": 1, "sh": 2, "sw": 4, "sd": 8}
BRANCH_OPS = {"beq": Op.EQ, "bne": Op.NE, "blt": Op.LT, "bge": Op.GE, "bltu": Op.LTU,
              "bgeu": Op.GEU}
REG_IMM = {"addi": Op.ADD, "xori": Op.XOR, "ori": Op.OR, "andi": Op.AND, "slti": Op.LT,
           "sltiu": Op.LTU}
SHIFT_IMM = {"slli": Op.SHL, "srli": Op.SHR, "srai": Op.SAR}
REG_REG = {
    "add": Op.ADD, "sub": Op.SUB, "xor": Op.XOR, "or": Op.OR, "and": Op.AND, "slt": Op.LT,
    "sltu": Op.LTU, "mul": Op.MUL, "mulh": Op.MULH, "mulhu": Op.MULHU, "mulhsu": Op.MULHSU,
    "div": Op.DIV, "divu": Op.DIVU, "rem": Op.REM, "remu": Op.REMU,
}
SHIFT_REG = {"sll": Op.SHL, "srl": Op.SHR, "sra": Op.SAR}
# Word ops: (op, how operands are narrowed first: "s" sign-extend, "z" zero-extend, "" as is)
WORD_OPS = {
    "addw": (Op.ADD, ""), "subw": (Op.SUB, ""), "mulw": (Op.MUL, ""), "divw": (Op.DIV, "s"),
    "divuw": (Op.DIVU, "z"), "remw": (Op.REM, "s"), "remuw": (Op.REMU, "z"),
}
WORD_SHIFTS = {"sllw": (Op.SHL, ""), "srlw": (Op.SHR, "z"), "sraw": (Op.SAR, "s"),
               "slliw": (Op.SHL, ""), "srliw": (Op.SHR, "z"), "sraiw": (Op.SAR, "s")}
CSR_KIND = {"csrrw": 0, "csrrs": 1, "csrrc": 2, "csrrwi": 0, "csrrsi": 1, "csrrci": 2}
SIMPLE_EXITS = {"wfi": "wfi", "fence.i": "fence_i"}


class RiscvTranslator:
    """Builds IRBlocks from guest code read through ``fetch16`` (a pc -> 16-bit parcel function)."""

    def __init__(self, fuser: InstructionFuser | None = None) -> None:
        self.fuser = fuser or InstructionFuser()

    def translate_bytes(self, pc: int, code: bytes) -> IRBlock:
        """Translate the block at ``pc`` from ``code``, the bytes it was made from (a stored or
        recorded block's; its ``code`` and phys fields are not set)."""
        parcels = memoryview(code).cast("H")

        def fetch16(vaddr: int) -> int | None:
            index = (vaddr - pc) >> 1
            return parcels[index] if index < len(parcels) else None

        return self.translate(pc, fetch16)

    def translate(self, pc: int, fetch16: Callable[[int], int | None], *, limit: int | None = None,
                  stop_at: Container[int] = ()) -> IRBlock:
        """Translate from ``pc``; ``fetch16`` returns None past what may be fetched in this block.

        The first parcel must be fetchable (the caller checked, raising the fetch fault if not).
        At most ``limit`` instructions (a debugger's single step uses 1); the block ends before any
        address in ``stop_at`` other than ``pc`` (debugger breakpoints).
        """
        insns: list[RvInsn | int] = []
        cur = pc
        limit = MAX_BLOCK_INSNS if limit is None else limit
        while len(insns) < limit:
            low = fetch16(cur)
            if low is None:
                break
            if low & 3 == 3:
                high = fetch16(cur + 2)
                if high is None:
                    if not insns:
                        insns.append(-1)
                    break
                word = low | (high << 16)
            else:
                word = low
            insn = decode(word, cur)
            insns.append(insn if insn is not None else word)
            if insn is None or insn.ends_block():
                break
            cur += insn.size
            if (cur ^ pc) >> 12 or cur in stop_at:
                break
        return self._build(pc, insns)

    def _build(self, pc: int, insns: list[RvInsn | int]) -> IRBlock:
        b = IRBuilder()
        fused_total = 0
        index = 0
        cur = pc
        while index < len(insns):
            insn = insns[index]
            if not isinstance(insn, RvInsn):
                b.insn(cur, index)
                if insn == -1:
                    b.call("fetch_fault", (cur + 2) & M64, cur, index, result=False)
                else:
                    b.call("illegal", insn, cur, index, result=False)
                b.exit(cur)
                index += 1
                break
            nxt = insns[index + 1] if index + 1 < len(insns) else None
            fused = self.fuser.try_fuse(insn, nxt) if isinstance(nxt, RvInsn) else None
            if fused is not None:
                _Emit(b, insn, index).fused(fused, nxt, index + 1)
                fused_total += 1
                cur = nxt.next_pc()
                index += 2
            else:
                _Emit(b, insn, index).single()
                cur = insn.next_pc()
                index += 1
        if b.stmts[-1].op not in (Op.JUMP, Op.BRANCH, Op.EXIT):
            b.jump(cur)
        return IRBlock(pc, b.stmts, index, (cur - pc) & M64, fused=fused_total, resumable=b.resumable)


class _Emit:
    """Emits the IR of one instruction (or one fused pair) into a builder."""

    def __init__(self, b: IRBuilder, insn: RvInsn, index: int) -> None:
        self.b, self.i, self.index = b, insn, index
        b.insn(insn.pc, index)

    def reg(self, r: int) -> Value:
        return 0 if r == 0 else self.b.get(r)

    def setr(self, r: int, value: Value) -> None:
        if r:
            self.b.set(r, value)

    def op(self, op: Op, *args: Value, aux: object = None) -> Value:
        return self.b.op(op, *args, aux=aux)

    def addr(self, base: int, offset: int) -> Value:
        return self.op(Op.ADD, self.reg(base), offset & M64) if offset else self.reg(base)

    def narrow(self, value: Value, how: str) -> Value:
        if how == "s":
            return self.op(Op.SEXT, value, aux=32)
        if how == "z":
            return self.op(Op.ZEXT, value, aux=32)
        return value

    def where(self) -> tuple[int, int]:
        return self.i.pc, self.index

    # --- one instruction -----------------------------------------------------------------------

    def single(self) -> None:
        i, b = self.i, self.b
        name = i.name
        if name in REG_IMM:
            self.setr(i.rd, self.op(REG_IMM[name], self.reg(i.rs1), i.imm & M64))
        elif name in SHIFT_IMM:
            self.setr(i.rd, self.op(SHIFT_IMM[name], self.reg(i.rs1), i.imm))
        elif name in REG_REG:
            self.setr(i.rd, self.op(REG_REG[name], self.reg(i.rs1), self.reg(i.rs2)))
        elif name in SHIFT_REG:
            amount = self.op(Op.AND, self.reg(i.rs2), 63)
            self.setr(i.rd, self.op(SHIFT_REG[name], self.reg(i.rs1), amount))
        elif name == "addiw":
            self.setr(i.rd, self.op(Op.SEXT, self.op(Op.ADD, self.reg(i.rs1), i.imm & M64), aux=32))
        elif name in WORD_OPS:
            op, how = WORD_OPS[name]
            a, c = self.narrow(self.reg(i.rs1), how), self.narrow(self.reg(i.rs2), how)
            self.setr(i.rd, self.op(Op.SEXT, self.op(op, a, c), aux=32))
        elif name in WORD_SHIFTS:
            op, how = WORD_SHIFTS[name]
            amount = i.imm if name.endswith("iw") else self.op(Op.AND, self.reg(i.rs2), 31)
            value = self.op(op, self.narrow(self.reg(i.rs1), how), amount)
            self.setr(i.rd, self.op(Op.SEXT, value, aux=32))
        elif name == "lui":
            self.setr(i.rd, i.imm & M64)
        elif name == "auipc":
            self.setr(i.rd, (i.pc + i.imm) & M64)
        elif name in LOAD_SIZES:
            size, signed = LOAD_SIZES[name]
            self.setr(i.rd, b.load(self.addr(i.rs1, i.imm), size, signed))
        elif name in STORE_SIZES:
            b.store(self.addr(i.rs1, i.imm), self.reg(i.rs2), STORE_SIZES[name])
        elif name in BRANCH_OPS:
            cond = self.op(BRANCH_OPS[name], self.reg(i.rs1), self.reg(i.rs2))
            b.branch(cond, (i.pc + i.imm) & M64, i.next_pc())
        elif name == "jal":
            self.setr(i.rd, i.next_pc())
            b.jump((i.pc + i.imm) & M64)
        elif name == "jalr":
            target = self.op(Op.AND, self.addr(i.rs1, i.imm), M64 & ~1)
            if i.rd:
                target = self.op(Op.MOV, target)
            self.setr(i.rd, i.next_pc())
            b.jump(target)
        elif name == "fence":
            pass
        elif name.startswith(("lr.", "sc.", "amo")):
            self.atomic()
        elif name in FP_INSTRUCTIONS:
            self.fp_compute()
        elif name in FP_LOADS:
            b.call("fp_enable", 1, *self.where(), result=False)
            value = b.load(self.addr(i.rs1, i.imm), FP_LOADS[name], False)
            b.set(F0 + i.rd, self.op(Op.OR, value, BOX32) if name == "flw" else value)
        elif name in FP_STORES:
            b.call("fp_enable", 0, *self.where(), result=False)
            b.store(self.addr(i.rs1, i.imm), b.get(F0 + i.rs2), FP_STORES[name])
        elif name in CSR_KIND:
            self.csr()
        else:
            self.system()

    def atomic(self) -> None:
        i, b = self.i, self.b
        kind, width = i.name.split(".")
        size = 4 if width == "w" else 8
        addr = self.reg(i.rs1)
        if kind == "lr":
            value = b.call("lr", addr, size, *self.where())
        elif kind == "sc":
            value = b.call("sc", addr, self.reg(i.rs2), size, *self.where())
        else:
            value = b.call(f"{kind}_{size}", addr, self.reg(i.rs2), *self.where())
        self.setr(i.rd, value)

    def fp_compute(self) -> None:
        """A computational F/D instruction: one call of the shared FP semantics (polyvm.fp)."""
        i, b = self.i, self.b
        spec = FP_INSTRUCTIONS[i.name]
        registers = (i.rs1, i.rs2, i.rs3)
        sources = [
            self.reg(r) if kind == "X" else b.get(F0 + r)
            for kind, r in zip(spec.sources, registers, strict=False)
        ]
        sources += [0] * (3 - len(sources))
        helper = "fp_" + i.name.replace(".", "_")
        value = b.call(helper, *sources, i.rm, *self.where())
        if spec.dest in ("X", "W"):
            self.setr(i.rd, value)
        else:
            b.set(F0 + i.rd, value)

    def csr(self) -> None:
        i, b = self.i, self.b
        kind = CSR_KIND[i.name]
        immediate = i.name.endswith("i")
        source = i.rs1 if immediate else self.reg(i.rs1)
        writes = kind == 0 or i.rs1 != 0
        reads = kind != 0 or i.rd != 0
        mode = kind | (writes << 2) | (reads << 3)
        value = b.call("csr", mode, i.csr, source, *self.where())
        self.setr(i.rd, value)
        b.exit(i.next_pc())

    def system(self) -> None:
        i, b = self.i, self.b
        name = i.name
        if name in ("ecall", "ebreak"):
            b.call(name, *self.where(), result=False)
            b.exit(i.pc)
        elif name in ("mret", "sret"):
            b.exit(b.call(name, *self.where()))
        elif name == "sfence.vma":
            b.call("sfence_vma", self.reg(i.rs1), self.reg(i.rs2), i.rs1, i.rs2, *self.where(),
                   result=False)
            b.exit(i.next_pc())
        else:
            b.call(SIMPLE_EXITS[name], i.next_pc(), *self.where(), result=False)
            b.exit(i.next_pc())

    # --- fused pairs ---------------------------------------------------------------------------

    def fused(self, fused: FusedOp, second: RvInsn, second_index: int) -> None:
        b = self.b
        b.insn(second.pc, second_index)
        kind, rd = fused.kind, fused.reg
        if kind in (FusedKind.LUI_ADDI, FusedKind.AUIPC_ADDI):
            self.setr(rd, fused.value)
        elif kind is FusedKind.AUIPC_JALR:
            self.setr(rd, (self.i.pc + self.i.imm) & M64)
            self.setr(second.rd, second.next_pc())
            b.jump(fused.value)
        elif kind is FusedKind.CMP_BRANCH:
            first = self.i
            cmp_op = REG_IMM.get(first.name) or REG_REG[first.name]
            other = first.imm & M64 if first.name in REG_IMM else self.reg(first.rs2)
            flag = self.op(cmp_op, self.reg(first.rs1), other)
            self.setr(rd, flag)
            taken = flag if second.name == "bne" else self.op(Op.EQ, flag, 0)
            b.branch(taken, fused.value, second.next_pc())
        elif kind is FusedKind.ADD_LOAD:
            base = self.reg(self.i.rs1)
            self.setr(rd, self.op(Op.ADD, base, self.i.imm & M64))
            size, signed = LOAD_SIZES[second.name]
            address = self.op(Op.ADD, base, fused.value & M64) if fused.value else base
            self.setr(second.rd, b.load(address, size, signed))
