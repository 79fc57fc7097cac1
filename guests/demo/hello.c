/* The polyvm demo guest: greets through HTIF's console, does some real work, exits with 0. */
#include <stdint.h>

extern volatile uint64_t tohost, fromhost;

static void putc_htif(char c)
{
    tohost = (1ull << 56) | (1ull << 48) | (uint8_t)c;
    while (fromhost == 0)
        ;
    fromhost = 0;
}

static void puts_htif(const char *s)
{
    while (*s)
        putc_htif(*s++);
}

static void put_uint(uint64_t v)
{
    char buf[24];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        putc_htif(buf[--n]);
}

int main(void)
{
    enum { LIMIT = 20000 };
    static uint8_t composite[LIMIT];
    uint64_t count = 0, last = 0;

    puts_htif("Hello from a RISC-V guest running on polyvm!\n");
    for (uint64_t i = 2; i < LIMIT; i++) {
        if (composite[i])
            continue;
        count++;
        last = i;
        for (uint64_t j = i * i; j < LIMIT; j += i)
            composite[j] = 1;
    }
    puts_htif("primes below 20000: ");
    put_uint(count);
    puts_htif(", largest ");
    put_uint(last);
    puts_htif("\n");
    return count == 2262 ? 0 : 1;
}
