/* The LCG loop of lcg_native.c at CPL3: ring 0 loads a GDT with user segments and drops to ring 3
 * with iretq (IOPL 3, so user code reaches the console and the i8042 itself). User code runs
 * "iterations=N" (command line) iterations, prints "lcg <checksum>" and resets the machine. With
 * "ring=0" the same loop runs in ring 0 instead (to measure kernel-mode speed). */
#include "lib.h"

#define USER_DS 0x23
#define USER_CS 0x2b
#define RFLAGS_IOPL3 0x3002

static const u64 gdt[] = {
    0, 0,
    0x00af9b000000ffffUL, /* 0x10 kernel code, as the boot GDT */
    0x00cf93000000ffffUL, /* 0x18 kernel data */
    0x00cff3000000ffffUL, /* 0x20 user data, DPL 3 */
    0x00affb000000ffffUL, /* 0x28 user code, 64-bit, DPL 3 */
};
static struct __attribute__((packed)) {
    u16 limit;
    const void *base;
} gdtr = {sizeof(gdt) - 1, gdt};
static u8 user_stack[8192] __attribute__((aligned(16)));
static u64 iterations;

static void __attribute__((noreturn)) user_main(void)
{
    u64 x = 0x853c49e6748fea9bUL, sum = 0;
    for (u64 n = iterations; n; n--) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        sum ^= x >> 33;
    }
    print("lcg ");
    printdec(sum);
    print("\n");
    reset();
}

void main(const u8 *boot_params)
{
    const char *value = cmdline_value(cmdline(boot_params), "iterations");
    iterations = value ? parse_number(&value) : 1000;
    const char *ring = cmdline_value(cmdline(boot_params), "ring");
    if (ring && *ring == '0')
        user_main();
    __asm__ volatile("lgdt %0" : : "m"(gdtr));
    __asm__ volatile(
        "pushq %0\n\tpushq %1\n\tpushq %2\n\tpushq %3\n\tpushq %4\n\tiretq"
        : : "i"(USER_DS), "r"(user_stack + sizeof(user_stack)), "i"(RFLAGS_IOPL3), "i"(USER_CS),
            "r"(user_main) : "memory");
}
