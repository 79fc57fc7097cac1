/* Pseudo-random operand sweep: 400 rounds of two xorshift64 streams x, y (and z = y >> (x & 63),
 * which brings small divisors and shift amounts) through every RV64IM register-register op on
 * (x, z) and (x, y), twenty immediate ops, eleven load forms (aligned and misaligned) of the
 * bytes of x:y and every AMO (.d then .w) on a doubleword starting as x with operand z.  Every
 * result is folded into an FNV-1a style hash compared with a constant computed by a Python model
 * of the instructions (and confirmed on QEMU), so any wrong result anywhere fails test 1; a
 * failing run prints the hash it computed. */
#include "test.h"
    .option norvc

#define ROUNDS 400
#define HASH_EXPECTED 0xe0eb1d061362175e
/* s2 = (s2 ^ t1) * FNV prime (s4) */
#define FOLD xor s2, s2, t1; mul s2, s2, s4
#define MIX_RR(op) op t1, s0, s5; FOLD; op t1, s0, s1; FOLD
#define MIX_RI(op, imm) op t1, s0, imm; FOLD
#define MIX_LOAD(op, off) op t1, off(s6); FOLD
#define MIX_AMO(op) op t1, s5, (s6); FOLD

    .text
    .globl test_main
test_main:
    li s0, 0x123456789abcdef1
    li s1, 0x0fedcba987654323
    li s2, 0
    li s3, ROUNDS
    li s4, 0x100000001b3
    la s6, buf
1:  /* x = xorshift64(x), y = xorshift64(y), z = y >> (x & 63) */
    slli t0, s0, 13
    xor s0, s0, t0
    srli t0, s0, 7
    xor s0, s0, t0
    slli t0, s0, 17
    xor s0, s0, t0
    slli t0, s1, 13
    xor s1, s1, t0
    srli t0, s1, 7
    xor s1, s1, t0
    slli t0, s1, 17
    xor s1, s1, t0
    srl s5, s1, s0
    MIX_RR(add)
    MIX_RR(sub)
    MIX_RR(and)
    MIX_RR(or)
    MIX_RR(xor)
    MIX_RR(sll)
    MIX_RR(srl)
    MIX_RR(sra)
    MIX_RR(slt)
    MIX_RR(sltu)
    MIX_RR(addw)
    MIX_RR(subw)
    MIX_RR(sllw)
    MIX_RR(srlw)
    MIX_RR(sraw)
    MIX_RR(mul)
    MIX_RR(mulh)
    MIX_RR(mulhu)
    MIX_RR(mulhsu)
    MIX_RR(mulw)
    MIX_RR(div)
    MIX_RR(divu)
    MIX_RR(rem)
    MIX_RR(remu)
    MIX_RR(divw)
    MIX_RR(divuw)
    MIX_RR(remw)
    MIX_RR(remuw)
    MIX_RI(addi, -2048)
    MIX_RI(addi, 2047)
    MIX_RI(slti, -1)
    MIX_RI(sltiu, -1)
    MIX_RI(sltiu, 5)
    MIX_RI(xori, -1)
    MIX_RI(ori, 1365)
    MIX_RI(andi, -256)
    MIX_RI(slli, 0)
    MIX_RI(slli, 37)
    MIX_RI(srli, 63)
    MIX_RI(srli, 5)
    MIX_RI(srai, 1)
    MIX_RI(srai, 47)
    MIX_RI(addiw, -1)
    MIX_RI(addiw, 2047)
    MIX_RI(slliw, 31)
    MIX_RI(srliw, 7)
    MIX_RI(sraiw, 31)
    MIX_RI(sraiw, 0)
    sd s0, 0(s6)
    sd s1, 8(s6)
    MIX_LOAD(lb, 0)
    MIX_LOAD(lb, 7)
    MIX_LOAD(lbu, 3)
    MIX_LOAD(lh, 0)
    MIX_LOAD(lh, 5)
    MIX_LOAD(lhu, 7)
    MIX_LOAD(lw, 2)
    MIX_LOAD(lw, 4)
    MIX_LOAD(lwu, 1)
    MIX_LOAD(ld, 0)
    MIX_LOAD(ld, 3)
    sd s0, 0(s6)
    MIX_AMO(amoswap.d)
    MIX_AMO(amoadd.d)
    MIX_AMO(amoxor.d)
    MIX_AMO(amoand.d)
    MIX_AMO(amoor.d)
    MIX_AMO(amomin.d)
    MIX_AMO(amomax.d)
    MIX_AMO(amominu.d)
    MIX_AMO(amomaxu.d)
    ld t1, 0(s6)
    FOLD
    MIX_AMO(amoswap.w)
    MIX_AMO(amoadd.w)
    MIX_AMO(amoxor.w)
    MIX_AMO(amoand.w)
    MIX_AMO(amoor.w)
    MIX_AMO(amomin.w)
    MIX_AMO(amomax.w)
    MIX_AMO(amominu.w)
    MIX_AMO(amomaxu.w)
    ld t1, 0(s6)
    FOLD
    addi s3, s3, -1
    beqz s3, 2f
    j 1b
2:  li t6, HASH_EXPECTED
    beq s2, t6, 3f
    PUTS(hash_message)      /* the new constant, should a deliberate change move it */
    PUTHEX(s2)
    PUTCHAR('\n')
    TEST_FAIL(1)
3:  TEST_PASS

    .data
hash_message: .asciz "sweep hash 0x"
    .align 3
buf:
    .dword 0, 0
