/* A virtio-blk driver over virtio-mmio version 2, found through the kernel command line
 * (virtio_mmio.device=<size>@<base>:<irq>). Negotiates VERSION_1 only, sets up queue 0 with 8
 * descriptors, reads sector 1 and prints its first bytes, then writes sector 2 with a pattern. Each
 * request completes with an interrupt: the I/O APIC pin <irq> is routed to vector 0x40 of this CPU's
 * local APIC, the CPU sleeps in hlt until the handler has run. Resets through the i8042 at the end. */
#include "lib.h"

#define MAGIC 0x000
#define VERSION 0x004
#define DEVICE_ID 0x008
#define DEVICE_FEATURES 0x010
#define DEVICE_FEATURES_SEL 0x014
#define DRIVER_FEATURES 0x020
#define DRIVER_FEATURES_SEL 0x024
#define QUEUE_SEL 0x030
#define QUEUE_NUM_MAX 0x034
#define QUEUE_NUM 0x038
#define QUEUE_READY 0x044
#define QUEUE_NOTIFY 0x050
#define INTERRUPT_STATUS 0x060
#define INTERRUPT_ACK 0x064
#define STATUS 0x070
#define QUEUE_DESC 0x080
#define QUEUE_DRIVER 0x090
#define QUEUE_DEVICE 0x0a0
#define CONFIG 0x100
#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define DESC_NEXT 1
#define DESC_WRITE 2
#define QSIZE 8
#define VECTOR 0x40
#define IOAPIC 0xfec00000UL
#define LAPIC 0xfee00000UL

struct desc {
    u64 addr;
    u32 len;
    u16 flags;
    u16 next;
};
struct avail {
    u16 flags, idx, ring[QSIZE], used_event;
};
struct used {
    u16 flags, idx;
    struct {
        u32 id, len;
    } ring[QSIZE];
    u16 avail_event;
};
struct request {
    u32 type, reserved;
    u64 sector;
};

static struct desc descs[QSIZE] __attribute__((aligned(16)));
static struct avail avail __attribute__((aligned(2)));
static volatile struct used used __attribute__((aligned(4)));
static struct request request;
static u8 data[512] __attribute__((aligned(512)));
static volatile u8 status;
static volatile u32 interrupts;
static u64 base;

struct __attribute__((packed)) idt_gate {
    u16 offset_low, selector;
    u8 ist, type;
    u16 offset_mid;
    u32 offset_high, zero;
};
static struct idt_gate idt[256] __attribute__((aligned(16)));
struct interrupt_frame;

static void fail(const char *why)
{
    print("virtio-blk: ");
    print(why);
    print("\n");
    reset();
}

static u32 reg(u32 offset) { return mmio_read32(base + offset); }
static void set_reg(u32 offset, u32 value) { mmio_write32(base + offset, value); }

__attribute__((interrupt)) static void virtio_interrupt(struct interrupt_frame *frame)
{
    (void)frame;
    set_reg(INTERRUPT_ACK, reg(INTERRUPT_STATUS));
    interrupts++;
    mmio_write32(LAPIC + 0xb0, 0); /* EOI */
}

static void route_interrupt(u32 pin)
{
    u64 handler = (u64)virtio_interrupt;
    u16 cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    idt[VECTOR] = (struct idt_gate){(u16)handler, cs, 0, 0x8e, (u16)(handler >> 16), (u32)(handler >> 32), 0};
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
    mmio_write32(IOAPIC + 0x10, VECTOR | 1 << 15); /* fixed, physical, active high, level, unmasked */
}

static void submit(u32 type, u64 sector)
{
    request = (struct request){type, 0, sector};
    status = 0xff;
    descs[0] = (struct desc){(u64)&request, sizeof(request), DESC_NEXT, 1};
    descs[1] = (struct desc){(u64)data, sizeof(data), (u16)(DESC_NEXT | (type == 0 ? DESC_WRITE : 0)), 2};
    descs[2] = (struct desc){(u64)&status, 1, DESC_WRITE, 0};
    avail.ring[avail.idx % QSIZE] = 0;
    u16 next = (u16)(avail.idx + 1);
    u32 before = interrupts;
    __atomic_store_n(&avail.idx, next, __ATOMIC_RELEASE);
    set_reg(QUEUE_NOTIFY, 0);
    while (interrupts == before || used.idx != next)
        __asm__ volatile("sti; hlt; cli");
}

void main(const u8 *boot_params)
{
    const char *spec = cmdline_value(cmdline(boot_params), "virtio_mmio.device");
    if (!spec)
        fail("no virtio_mmio.device= on the command line");
    parse_number(&spec);
    if (*spec == 'K')
        spec++;
    spec++; /* '@' */
    base = parse_number(&spec);
    spec++; /* ':' */
    u32 irq = (u32)parse_number(&spec);
    print("virtio-blk: window ");
    printhex(base);
    print(" irq ");
    printdec(irq);
    print("\n");
    if (reg(MAGIC) != 0x74726976 || reg(VERSION) != 2 || reg(DEVICE_ID) != 2)
        fail("not a version-2 virtio-mmio block device");
    route_interrupt(irq);
    set_reg(STATUS, 0);
    set_reg(STATUS, S_ACK);
    set_reg(STATUS, S_ACK | S_DRIVER);
    set_reg(DEVICE_FEATURES_SEL, 1);
    if (!(reg(DEVICE_FEATURES) & 1))
        fail("device does not offer VERSION_1");
    set_reg(DRIVER_FEATURES_SEL, 0);
    set_reg(DRIVER_FEATURES, 0);
    set_reg(DRIVER_FEATURES_SEL, 1);
    set_reg(DRIVER_FEATURES, 1);
    set_reg(STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    if (!(reg(STATUS) & S_FEATURES_OK))
        fail("FEATURES_OK refused");
    set_reg(QUEUE_SEL, 0);
    if (reg(QUEUE_NUM_MAX) < QSIZE)
        fail("queue too small");
    set_reg(QUEUE_NUM, QSIZE);
    set_reg(QUEUE_DESC, (u32)(u64)descs);
    set_reg(QUEUE_DESC + 4, (u32)((u64)descs >> 32));
    set_reg(QUEUE_DRIVER, (u32)(u64)&avail);
    set_reg(QUEUE_DRIVER + 4, (u32)((u64)&avail >> 32));
    set_reg(QUEUE_DEVICE, (u32)(u64)&used);
    set_reg(QUEUE_DEVICE + 4, (u32)((u64)&used >> 32));
    set_reg(QUEUE_READY, 1);
    set_reg(STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    print("virtio-blk: capacity ");
    printdec(reg(CONFIG) | (u64)reg(CONFIG + 4) << 32);
    print(" sectors\n");

    submit(0, 1);
    print("virtio-blk: read sector 1 status ");
    printdec(status);
    print(": ");
    for (int i = 0; i < 32 && data[i] >= ' ' && data[i] < 127; i++)
        putch((char)data[i]);
    print("\n");

    static const char pattern[] = "written by the polyvm virtio-blk guest";
    for (int i = 0; i < 512; i++)
        data[i] = i < (int)sizeof(pattern) - 1 ? (u8)pattern[i] : (u8)i;
    submit(1, 2);
    print("virtio-blk: wrote sector 2 status ");
    printdec(status);
    print(", interrupts ");
    printdec(interrupts);
    print("\n");
    reset();
}
