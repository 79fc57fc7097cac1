/* Translation-bound benchmark guest (benchmarks/compile.py): FUNCTIONS functions of 256 distinct
 * steps each, every step a few ALU operations and a data-dependent branch, all run once. A JIT's
 * time here is almost all translation. `run_steps` is read at run time, so the builds with and
 * without the run (for the start-up time) are the same code. */
#include <stdint.h>

#include "../../guests/baremetal/htif.h"

#ifndef FUNCTIONS
#define FUNCTIONS 16
#endif
#ifndef RUN_STEPS
#define RUN_STEPS 1
#endif

static volatile int run_steps __attribute__((section(".data"))) = RUN_STEPS; /* not .bss when 0 */
static volatile uint64_t seed = 0x9e3779b97f4a7c15ull;

#define STEP                                                                  \
    x = x * 6364136223846793005ull + __COUNTER__;                            \
    if ((x >> 60) == (__COUNTER__ & 15))                                      \
        y += x;                                                               \
    else                                                                      \
        y ^= x >> (__COUNTER__ % 31 + 1);
#define STEP4 STEP STEP STEP STEP
#define STEP16 STEP4 STEP4 STEP4 STEP4
#define STEP256 STEP16 STEP16 STEP16 STEP16 STEP16 STEP16 STEP16 STEP16 \
                STEP16 STEP16 STEP16 STEP16 STEP16 STEP16 STEP16 STEP16
#define FUNCTION(n)                                                           \
    static __attribute__((noinline)) uint64_t f##n(uint64_t x)               \
    {                                                                         \
        uint64_t y = 0;                                                       \
        STEP256                                                               \
        return x ^ y;                                                         \
    }

FUNCTION(0) FUNCTION(1) FUNCTION(2) FUNCTION(3) FUNCTION(4) FUNCTION(5) FUNCTION(6) FUNCTION(7)
FUNCTION(8) FUNCTION(9) FUNCTION(10) FUNCTION(11) FUNCTION(12) FUNCTION(13) FUNCTION(14)
FUNCTION(15) FUNCTION(16) FUNCTION(17) FUNCTION(18) FUNCTION(19) FUNCTION(20) FUNCTION(21)
FUNCTION(22) FUNCTION(23) FUNCTION(24) FUNCTION(25) FUNCTION(26) FUNCTION(27) FUNCTION(28)
FUNCTION(29) FUNCTION(30) FUNCTION(31)

static uint64_t (*const functions[32])(uint64_t) = {
    f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15,
    f16, f17, f18, f19, f20, f21, f22, f23, f24, f25, f26, f27, f28, f29, f30, f31,
};

int main(void)
{
    uint64_t checksum = seed;
    if (run_steps)
        for (int i = 0; i < FUNCTIONS && i < 32; i++)
            checksum = functions[i](checksum);
    htif_puts("straight_code checksum ");
    htif_put_hex(checksum);
    htif_puts("\n");
    return 0;
}
