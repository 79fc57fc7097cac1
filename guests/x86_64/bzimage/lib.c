/* The shared runtime of the test bzImage guests (see lib.h). */
#include "lib.h"

#define COM1 0x3f8
#define LSR_THRE 0x20
#define I8042_STATUS 0x64
#define I8042_INPUT_FULL 0x02
#define I8042_PULSE_RESET 0xfe

void putch(char c)
{
    while (!(inb(COM1 + 5) & LSR_THRE))
        ;
    outb(COM1, (u8)c);
}

void print(const char *s)
{
    while (*s)
        putch(*s++);
}

void printhex(u64 value)
{
    print("0x");
    for (int shift = 60; shift >= 0; shift -= 4)
        putch("0123456789abcdef"[(value >> shift) & 0xf]);
}

void printdec(u64 value)
{
    char digits[21];
    int n = 0;
    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    while (n)
        putch(digits[--n]);
}

const char *cmdline(const u8 *boot_params)
{
    return (const char *)(u64)bp_u32(boot_params, BP_CMD_LINE_PTR);
}

const char *cmdline_value(const char *line, const char *key)
{
    for (const char *p = line; *p; p++) {
        if (p != line && p[-1] != ' ')
            continue;
        const char *k = key, *q = p;
        while (*k && *q == *k) {
            k++;
            q++;
        }
        if (!*k && *q == '=')
            return q + 1;
    }
    return 0;
}

u64 parse_number(const char **text)
{
    const char *p = *text;
    u64 value = 0;
    if (p[0] == '0' && p[1] == 'x') {
        for (p += 2;; p++) {
            int digit = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
            if (digit < 0)
                break;
            value = value * 16 + (u64)digit;
        }
    } else {
        for (; *p >= '0' && *p <= '9'; p++)
            value = value * 10 + (u64)(*p - '0');
    }
    *text = p;
    return value;
}

void reset(void)
{
    while (inb(I8042_STATUS) & I8042_INPUT_FULL)
        ;
    outb(I8042_STATUS, I8042_PULSE_RESET);
    for (;;)
        __asm__ volatile("cli; hlt");
}
