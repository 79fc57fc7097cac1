/* The polyvm demo guest: greets through HTIF's console, does some real work, exits with 0. */
#include <stdint.h>

#include "../baremetal/htif.h"

int main(void)
{
    enum { LIMIT = 20000 };
    static uint8_t composite[LIMIT];
    uint64_t count = 0, last = 0;

    htif_puts("Hello from a RISC-V guest running on polyvm!\n");
    for (uint64_t i = 2; i < LIMIT; i++) {
        if (composite[i])
            continue;
        count++;
        last = i;
        for (uint64_t j = i * i; j < LIMIT; j += i)
            composite[j] = 1;
    }
    htif_puts("primes below 20000: ");
    htif_put_uint(count);
    htif_puts(", largest ");
    htif_put_uint(last);
    htif_puts("\n");
    return count == 2262 ? 0 : 1;
}
