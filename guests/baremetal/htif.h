/* HTIF console helpers for polyvm's own bare-metal guests (demo, benchmarks). */
#ifndef POLYVM_HTIF_H
#define POLYVM_HTIF_H
#include <stdint.h>

extern volatile uint64_t tohost, fromhost;

static inline void htif_putc(char c)
{
    tohost = (1ull << 56) | (1ull << 48) | (uint8_t)c;
    while (fromhost == 0)
        ;
    fromhost = 0;
}

static inline void htif_puts(const char *s)
{
    while (*s)
        htif_putc(*s++);
}

static inline void htif_put_uint(uint64_t v)
{
    char buf[24];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        htif_putc(buf[--n]);
}

static inline void htif_put_hex(uint64_t v)
{
    htif_puts("0x");
    for (int shift = 60; shift >= 0; shift -= 4)
        htif_putc("0123456789abcdef"[(v >> shift) & 15]);
}
#endif
