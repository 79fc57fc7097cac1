/* The guest the GDB tests debug: named functions to break in and step through, a global that one
 * store changes (watchpoints), and an endless loop until the debugger clears keep_spinning
 * (Ctrl-C, detach). Exits with 0 when add_squares(10) gave 285. */
#include <stdint.h>

#include "../baremetal/htif.h"

volatile uint64_t watched;
volatile uint64_t keep_spinning = 1;
volatile uint64_t spins;

__attribute__((noinline)) uint64_t square(uint64_t x)
{
    return x * x;
}

__attribute__((noinline)) uint64_t add_squares(uint64_t n)
{
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++)
        sum += square(i);
    return sum;
}

__attribute__((noinline)) void store_watched(uint64_t value)
{
    watched = value;
}

int main(void)
{
    uint64_t total = add_squares(10);
    store_watched(total);
    while (keep_spinning)
        spins++;
    htif_puts("gdb target done\n");
    return total == 285 ? 0 : 1;
}
