/* A virtio-blk driver over virtio-mmio version 2 for the first virtio-mmio window the board announces
 * (ACPI tables or command line: virtio_windows.c). Negotiates VERSION_1 only, sets up queue 0 with 8
 * descriptors, reads sector 1 and prints its first bytes, then writes sector 2 with a pattern. Each
 * request completes with an interrupt: the I/O APIC pin <irq> is routed to vector 0x40 of this CPU's
 * local APIC, the CPU sleeps in hlt until the handler has run. Resets through the i8042 at the end. */
#include "lib.h"

#define DESC_NEXT 1
#define DESC_WRITE 2
#define QSIZE 8

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
static u64 base;


static void submit(u32 type, u64 sector)
{
    request = (struct request){type, 0, sector};
    status = 0xff;
    descs[0] = (struct desc){(u64)&request, sizeof(request), DESC_NEXT, 1};
    descs[1] = (struct desc){(u64)data, sizeof(data), (u16)(DESC_NEXT | (type == 0 ? DESC_WRITE : 0)), 2};
    descs[2] = (struct desc){(u64)&status, 1, DESC_WRITE, 0};
    avail.ring[avail.idx % QSIZE] = 0;
    u16 next = (u16)(avail.idx + 1);
    u32 before = virtio_interrupts;
    __atomic_store_n(&avail.idx, next, __ATOMIC_RELEASE);
    virtio_set_reg(QUEUE_NOTIFY, 0);
    while (virtio_interrupts == before || used.idx != next)
        __asm__ volatile("sti; hlt; cli");
}

void main(const u8 *boot_params)
{
    struct virtio_window window;
    virtio_driver("virtio-blk");
    if (virtio_windows(boot_params, &window, 1) < 1)
        virtio_fail("no virtio-mmio window in the ACPI tables or on the command line");
    base = window.base;
    virtio_attach(base);
    u32 irq = window.irq;
    print("virtio-blk: window ");
    printhex(base);
    print(" irq ");
    printdec(irq);
    print("\n");
    if (virtio_reg(MAGIC) != 0x74726976 || virtio_reg(VERSION) != 2 || virtio_reg(DEVICE_ID) != 2)
        virtio_fail("not a version-2 virtio-mmio block device");
    route_virtio_interrupt(base, irq);
    virtio_set_reg(STATUS, 0);
    virtio_set_reg(STATUS, S_ACK);
    virtio_set_reg(STATUS, S_ACK | S_DRIVER);
    virtio_set_reg(DEVICE_FEATURES_SEL, 1);
    if (!(virtio_reg(DEVICE_FEATURES) & 1))
        virtio_fail("device does not offer VERSION_1");
    virtio_set_reg(DRIVER_FEATURES_SEL, 0);
    virtio_set_reg(DRIVER_FEATURES, 0);
    virtio_set_reg(DRIVER_FEATURES_SEL, 1);
    virtio_set_reg(DRIVER_FEATURES, 1);
    virtio_set_reg(STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    if (!(virtio_reg(STATUS) & S_FEATURES_OK))
        virtio_fail("FEATURES_OK refused");
    virtio_set_reg(QUEUE_SEL, 0);
    if (virtio_reg(QUEUE_NUM_MAX) < QSIZE)
        virtio_fail("queue too small");
    virtio_set_reg(QUEUE_NUM, QSIZE);
    virtio_set_reg(QUEUE_DESC, (u32)(u64)descs);
    virtio_set_reg(QUEUE_DESC + 4, (u32)((u64)descs >> 32));
    virtio_set_reg(QUEUE_DRIVER, (u32)(u64)&avail);
    virtio_set_reg(QUEUE_DRIVER + 4, (u32)((u64)&avail >> 32));
    virtio_set_reg(QUEUE_DEVICE, (u32)(u64)&used);
    virtio_set_reg(QUEUE_DEVICE + 4, (u32)((u64)&used >> 32));
    virtio_set_reg(QUEUE_READY, 1);
    virtio_set_reg(STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    print("virtio-blk: capacity ");
    printdec(virtio_reg(CONFIG) | (u64)virtio_reg(CONFIG + 4) << 32);
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
    printdec(virtio_interrupts);
    print("\n");
    reset();
}
