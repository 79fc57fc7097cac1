/*
 * fp_oracle: executes RISC-V F/D instructions on test vectors, for the differential test of
 * polyvm.fp against qemu-riscv64 (tests/fp/test_fp_vs_qemu.py).
 *
 *   fp_oracle --list     prints the supported mnemonics, one a line; a vector's op is its index
 *   fp_oracle < in > out reads records of four little-endian u64 (op | rm << 32, rs1, rs2, rs3)
 *                        and writes two u64 per record (rd as a raw 64-bit register, fflags)
 *
 * Exit status: 0 done, 2 bad record, 3 write error, 4 read error, 5 truncated record.
 *
 * Each record sets frm to rm, moves rs1..rs3 bit-exactly into ft0..ft2 (so binary32 operands
 * may be improperly NaN-boxed on purpose), clears fflags, runs the instruction with the dynamic
 * rounding mode, and reads fflags back. Integer sources and destinations use x registers directly.
 */
#include <stdint.h>

#define SETUP                                                                                   \
    "fsrm %[rm]\n\tfmv.d.x ft0, %[a]\n\tfmv.d.x ft1, %[b]\n\tfmv.d.x ft2, %[c]\n\t"             \
    "fsflags zero\n\t"

/* Result in ft3, read back as raw 64 bits. */
#define DEF_FREG(ident, text)                                                                   \
    static uint64_t ident(uint64_t a, uint64_t b, uint64_t c, uint64_t rm, uint64_t *fl) {      \
        uint64_t res, f;                                                                        \
        __asm__ volatile(SETUP text "\n\tfrflags %[f]\n\tfmv.x.d %[res], ft3"                   \
                         : [res] "=&r"(res), [f] "=&r"(f)                                       \
                         : [a] "r"(a), [b] "r"(b), [c] "r"(c), [rm] "r"(rm)                     \
                         : "ft0", "ft1", "ft2", "ft3");                                         \
        *fl = f;                                                                                \
        return res;                                                                             \
    }

/* Result written straight to an x register. */
#define DEF_XREG(ident, text)                                                                   \
    static uint64_t ident(uint64_t a, uint64_t b, uint64_t c, uint64_t rm, uint64_t *fl) {      \
        uint64_t res, f;                                                                        \
        __asm__ volatile(SETUP text "\n\tfrflags %[f]"                                          \
                         : [res] "=&r"(res), [f] "=&r"(f)                                       \
                         : [a] "r"(a), [b] "r"(b), [c] "r"(c), [rm] "r"(rm)                     \
                         : "ft0", "ft1", "ft2", "ft3");                                         \
        *fl = f;                                                                                \
        return res;                                                                             \
    }

/* Operand shapes. */
#define R1 " ft3, ft0"
#define R2 " ft3, ft0, ft1"
#define R3 " ft3, ft0, ft1, ft2"
#define X1 " %[res], ft0"
#define X2 " %[res], ft0, ft1"
#define FX " ft3, %[a]"

/* X(identifier, mnemonic, destination register file, operand shape) */
#define FORMAT_OPS(X, s)                                                                        \
    X(fadd_##s, "fadd." #s, FREG, R2)                                                           \
    X(fsub_##s, "fsub." #s, FREG, R2)                                                           \
    X(fmul_##s, "fmul." #s, FREG, R2)                                                           \
    X(fdiv_##s, "fdiv." #s, FREG, R2)                                                           \
    X(fsqrt_##s, "fsqrt." #s, FREG, R1)                                                         \
    X(fmadd_##s, "fmadd." #s, FREG, R3)                                                         \
    X(fmsub_##s, "fmsub." #s, FREG, R3)                                                         \
    X(fnmsub_##s, "fnmsub." #s, FREG, R3)                                                       \
    X(fnmadd_##s, "fnmadd." #s, FREG, R3)                                                       \
    X(fmin_##s, "fmin." #s, FREG, R2)                                                           \
    X(fmax_##s, "fmax." #s, FREG, R2)                                                           \
    X(fsgnj_##s, "fsgnj." #s, FREG, R2)                                                         \
    X(fsgnjn_##s, "fsgnjn." #s, FREG, R2)                                                       \
    X(fsgnjx_##s, "fsgnjx." #s, FREG, R2)                                                       \
    X(feq_##s, "feq." #s, XREG, X2)                                                             \
    X(flt_##s, "flt." #s, XREG, X2)                                                             \
    X(fle_##s, "fle." #s, XREG, X2)                                                             \
    X(fclass_##s, "fclass." #s, XREG, X1)                                                       \
    X(fcvt_w_##s, "fcvt.w." #s, XREG, X1)                                                       \
    X(fcvt_wu_##s, "fcvt.wu." #s, XREG, X1)                                                     \
    X(fcvt_l_##s, "fcvt.l." #s, XREG, X1)                                                       \
    X(fcvt_lu_##s, "fcvt.lu." #s, XREG, X1)                                                     \
    X(fcvt_##s##_w, "fcvt." #s ".w", FREG, FX)                                                  \
    X(fcvt_##s##_wu, "fcvt." #s ".wu", FREG, FX)                                                \
    X(fcvt_##s##_l, "fcvt." #s ".l", FREG, FX)                                                  \
    X(fcvt_##s##_lu, "fcvt." #s ".lu", FREG, FX)

#define ALL_OPS(X)                                                                              \
    FORMAT_OPS(X, s)                                                                            \
    FORMAT_OPS(X, d)                                                                            \
    X(fcvt_s_d, "fcvt.s.d", FREG, R1)                                                           \
    X(fcvt_d_s, "fcvt.d.s", FREG, R1)                                                           \
    X(fmv_x_w, "fmv.x.w", XREG, X1)                                                             \
    X(fmv_w_x, "fmv.w.x", FREG, FX)                                                             \
    X(fmv_x_d, "fmv.x.d", XREG, X1)                                                             \
    X(fmv_d_x, "fmv.d.x", FREG, FX)

#define DEFINE(ident, mnemonic, kind, shape) DEF_##kind(ident, mnemonic shape)
ALL_OPS(DEFINE)

typedef uint64_t (*op_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t *);

#define ENTRY(ident, mnemonic, kind, shape) {mnemonic, ident},
static const struct {
    const char *mnemonic;
    op_fn fn;
} OPS[] = {ALL_OPS(ENTRY)};

#define NOPS (sizeof OPS / sizeof OPS[0])
#define CHUNK 4096

/* Freestanding: raw Linux system calls, so only the cross compiler is needed (no libc). */
static long sys3(long nr, long a0, long a1, long a2) {
    register long x17 __asm__("a7") = nr, x10 __asm__("a0") = a0;
    register long x11 __asm__("a1") = a1, x12 __asm__("a2") = a2;
    __asm__ volatile("ecall" : "+r"(x10) : "r"(x17), "r"(x11), "r"(x12) : "memory");
    return x10;
}

enum { SYS_READ = 63, SYS_WRITE = 64, SYS_EXIT = 93 };

static int transfer(long nr, int fd, void *buf, unsigned long len, unsigned long *done) {
    *done = 0;
    while (*done < len) {
        long r = sys3(nr, fd, (long)((char *)buf + *done), (long)(len - *done));
        if (r < 0) return -1;
        if (r == 0) break;
        *done += (unsigned long)r;
    }
    return 0;
}

static unsigned long length(const char *s) {
    unsigned long n = 0;
    while (s[n]) n++;
    return n;
}

static int same(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

static uint64_t in[CHUNK][4];
static uint64_t out[CHUNK][2];

static int list(void) {
    unsigned long done;
    for (unsigned long i = 0; i < NOPS; i++) {
        if (transfer(SYS_WRITE, 1, (void *)OPS[i].mnemonic, length(OPS[i].mnemonic), &done) ||
            transfer(SYS_WRITE, 1, "\n", 1, &done))
            return 3;
    }
    return 0;
}

static int run(void) {
    for (;;) {
        unsigned long got, done;
        if (transfer(SYS_READ, 0, in, sizeof in, &got)) return 4;
        if (got % sizeof in[0]) return 5;
        unsigned long n = got / sizeof in[0];
        if (n == 0) return 0;
        for (unsigned long i = 0; i < n; i++) {
            uint64_t op = in[i][0] & 0xffffffffu, rm = in[i][0] >> 32;
            if (op >= NOPS || rm > 4) return 2;
            out[i][0] = OPS[op].fn(in[i][1], in[i][2], in[i][3], rm, &out[i][1]);
        }
        if (transfer(SYS_WRITE, 1, out, n * sizeof out[0], &done) || done != n * sizeof out[0])
            return 3;
    }
}

void start_c(long *sp) {
    long argc = sp[0];
    char **argv = (char **)(sp + 1);
    sys3(SYS_EXIT, argc > 1 && same(argv[1], "--list") ? list() : run(), 0, 0);
    for (;;) {
    }
}

__asm__(".globl _start\n_start:\n"
        ".option push\n.option norelax\nla gp, __global_pointer$\n.option pop\n"
        "mv a0, sp\ncall start_c\n");
