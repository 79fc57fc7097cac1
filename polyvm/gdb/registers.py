"""The RISC-V register file as GDB numbers it, and the target description (target.xml) naming it.

GDB's numbering for riscv:rv64 (and QEMU's): x0-x31 = 0-31, pc = 32, f0-f31 = 33-64, CSR n = 65 + n
(so fflags/frm/fcsr are 66-68, listed in the fpu feature as GDB's own 64bit-fpu.xml does), and the
virtual ``priv`` register (the hart's privilege level) after the CSRs. Values travel as
little-endian hex of ``bitsize / 8`` bytes.
"""

from __future__ import annotations

from polyvm.arch.riscv64 import csr as C
from polyvm.arch.riscv64.hart import RiscvHart
from polyvm.core.errors import VmError

PC = 32
FIRST_FPR = 33
FIRST_CSR = 65
PRIV = FIRST_CSR + 4096
GENERAL_COUNT = 33
"""Registers in a ``g`` packet: x0-x31 and pc (GDB reads the others with ``p``)."""
M64 = (1 << 64) - 1

X_NAMES = ("zero ra sp gp tp t0 t1 t2 fp s1 a0 a1 a2 a3 a4 a5 a6 a7 s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 "
           "t3 t4 t5 t6").split()
F_NAMES = ("ft0 ft1 ft2 ft3 ft4 ft5 ft6 ft7 fs0 fs1 fa0 fa1 fa2 fa3 fa4 fa5 fa6 fa7 fs2 fs3 fs4 fs5 "
           "fs6 fs7 fs8 fs9 fs10 fs11 ft8 ft9 ft10 ft11").split()
FP_CSRS = ("fflags", "frm", "fcsr")
CSRS = (
    "cycle time instret sstatus sie stvec scounteren senvcfg sscratch sepc scause stval sip stimecmp "
    "satp mvendorid marchid mimpid mhartid mconfigptr mstatus misa medeleg mideleg mie mtvec "
    "mcounteren menvcfg mcountinhibit mscratch mepc mcause mtval mip mcycle minstret"
).split()
CSR_NUMBERS = {name: getattr(C, name.upper()) for name in FP_CSRS + tuple(CSRS)}
CSR_NUMBERS.update({f"pmpcfg{n}": C.PMPCFG0 + n for n in range(0, 4, 2)})
CSR_NUMBERS.update({f"pmpaddr{n}": C.PMPADDR0 + n for n in range(16)})

REGISTER_BYTES: dict[int, int] = {n: 8 for n in range(FIRST_CSR)}
REGISTER_BYTES.update({FIRST_CSR + number: 8 for number in CSR_NUMBERS.values()})
REGISTER_BYTES.update({FIRST_CSR + CSR_NUMBERS[name]: 4 for name in FP_CSRS})
REGISTER_BYTES[PRIV] = 1


def _reg(name: str, regnum: int, bits: int, kind: str) -> str:
    return f'  <reg name="{name}" bitsize="{bits}" type="{kind}" regnum="{regnum}"/>'


def target_xml() -> str:
    cpu = [_reg(name, n, 64, "int") for n, name in enumerate(X_NAMES)]
    cpu[1] = _reg("ra", 1, 64, "code_ptr")
    cpu[2] = _reg("sp", 2, 64, "data_ptr")
    cpu.append(_reg("pc", PC, 64, "code_ptr"))
    fpu = [_reg(name, FIRST_FPR + n, 64, "riscv_double") for n, name in enumerate(F_NAMES)]
    fpu += [_reg(name, FIRST_CSR + CSR_NUMBERS[name], 32, "int") for name in FP_CSRS]
    csrs = [_reg(name, FIRST_CSR + number, 64, "int") for name, number in CSR_NUMBERS.items()
            if name not in FP_CSRS]
    lines = [
        '<?xml version="1.0"?>',
        '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
        "<target>",
        "<architecture>riscv:rv64</architecture>",
        '<feature name="org.gnu.gdb.riscv.cpu">', *cpu, "</feature>",
        '<feature name="org.gnu.gdb.riscv.fpu">',
        '  <union id="riscv_double">',
        '    <field name="float" type="ieee_single"/>',
        '    <field name="double" type="ieee_double"/>',
        "  </union>",
        *fpu, "</feature>",
        '<feature name="org.gnu.gdb.riscv.csr">', *csrs, "</feature>",
        '<feature name="org.gnu.gdb.riscv.virtual">', _reg("priv", PRIV, 8, "int"), "</feature>",
        "</target>",
    ]
    return "\n".join(lines) + "\n"


def read_register(hart: RiscvHart, regnum: int) -> bytes | None:
    """The register's bytes, or None if GDB's number names no register here."""
    size = REGISTER_BYTES.get(regnum)
    if size is None:
        return None
    if regnum < PC:
        value = hart.read_reg(regnum)
    elif regnum == PC:
        value = hart.pc
    elif regnum < FIRST_CSR:
        value = hart.x[32 + regnum - FIRST_FPR]
    elif regnum == PRIV:
        value = int(hart.priv)
    else:
        try:
            value = hart.read_csr(regnum - FIRST_CSR)
        except VmError:
            return None
    return (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")


def write_register(hart: RiscvHart, regnum: int, data: bytes) -> bool:
    """Write the register from its bytes; False if it does not exist or cannot be written."""
    size = REGISTER_BYTES.get(regnum)
    if size is None or len(data) != size or regnum == PRIV:
        return False
    value = int.from_bytes(data, "little")
    if regnum < PC:
        hart.write_reg(regnum, value)
    elif regnum == PC:
        hart.pc = value & M64
    elif regnum < FIRST_CSR:
        hart.x[32 + regnum - FIRST_FPR] = value
    else:
        try:
            hart.write_csr(regnum - FIRST_CSR, value)
        except VmError:
            return False
    return True
