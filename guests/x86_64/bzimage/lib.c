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

#define VIRTIO_VECTOR 0x40
#define VIRTIO_INTERRUPT_STATUS 0x060
#define VIRTIO_INTERRUPT_ACK 0x064

struct __attribute__((packed)) idt_gate {
    u16 offset_low, selector;
    u8 ist, type;
    u16 offset_mid;
    u32 offset_high, zero;
};
static struct idt_gate idt[256] __attribute__((aligned(16)));
struct interrupt_frame;
static u64 virtio_device;
volatile u32 virtio_interrupts;
static const char *virtio_name = "virtio";
static u64 virtio_base;

void virtio_driver(const char *name) { virtio_name = name; }
void virtio_attach(u64 base) { virtio_base = base; }
u32 virtio_reg(u32 offset) { return mmio_read32(virtio_base + offset); }
void virtio_set_reg(u32 offset, u32 value) { mmio_write32(virtio_base + offset, value); }

void virtio_fail(const char *why)
{
    print(virtio_name);
    print(": ");
    print(why);
    print("\n");
    reset();
}

__attribute__((interrupt)) static void virtio_interrupt(struct interrupt_frame *frame)
{
    (void)frame;
    mmio_write32(virtio_device + VIRTIO_INTERRUPT_ACK, mmio_read32(virtio_device + VIRTIO_INTERRUPT_STATUS));
    virtio_interrupts++;
    mmio_write32(LAPIC + 0xb0, 0); /* EOI */
}

void route_virtio_interrupt(u64 device, u32 pin)
{
    u64 handler = (u64)virtio_interrupt;
    u16 cs;
    virtio_device = device;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    idt[VIRTIO_VECTOR] = (struct idt_gate){(u16)handler, cs, 0, 0x8e, (u16)(handler >> 16),
                                           (u32)(handler >> 32), 0};
    struct __attribute__((packed)) {
        u16 limit;
        u64 base;
    } idtr = {sizeof(idt) - 1, (u64)idt};
    __asm__ volatile("lidt %0" : : "m"(idtr));
    outb(0x21, 0xff); /* mask the 8259 PICs: KVM wires the BSP's LINT0 to them (virtual wire) */
    outb(0xa1, 0xff);
    mmio_write32(LAPIC + 0xf0, 0x1ff); /* software-enable the local APIC, spurious vector 0xff */
    u32 apic_id = mmio_read32(LAPIC + 0x20) >> 24;
    mmio_write32(IOAPIC, 0x11 + 2 * pin);
    mmio_write32(IOAPIC + 0x10, apic_id << 24);
    mmio_write32(IOAPIC, 0x10 + 2 * pin);
    mmio_write32(IOAPIC + 0x10, VIRTIO_VECTOR | 1 << 15); /* fixed, physical, active high, level, unmasked */
}
