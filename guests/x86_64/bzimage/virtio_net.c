/* A virtio-net driver over virtio-mmio version 2: finds the device with id 1 among the virtio-mmio
 * windows the board announces (virtio_windows.c), negotiates VERSION_1 and
 * MAC, prints the MAC from the configuration space, gives the receive queue (0) four single-buffer
 * descriptors and transmits on queue 1. Every frame on either queue follows a 12-byte virtio_net_hdr.
 * Sends one broadcast frame of type 0x88b5 with "hello from x86 guest", waits for a frame of that type
 * addressed to it or to everyone (others are reported and their buffers given back), prints it and
 * answers its sender with "echo:" + its payload. The I/O APIC pin is routed as in virtio_blk.c; the
 * CPU sleeps in hlt until a frame has arrived, and after each transmission until its completion
 * interrupt has run. Resets through the i8042 at the end. */
#include "lib.h"

#define F_MAC (1u << 5)
#define F_VERSION_1_HIGH 1u /* feature bit 32 */
#define DESC_NEXT 1
#define DESC_WRITE 2
#define QSIZE 8
#define RX_QUEUE 0
#define TX_QUEUE 1
#define RX_BUFFERS 4
#define HDR_LEN 12
#define ETH_HLEN 14
#define ETH_FRAME_MAX 1514
#define BUFFER_LEN (HDR_LEN + ETH_FRAME_MAX)
#define ETHERTYPE 0x88b5

struct desc {
    u64 addr;
    u32 len;
    u16 flags;
    u16 next;
};
struct vring {
    struct desc desc[QSIZE];
    struct {
        u16 flags, idx, ring[QSIZE], used_event;
    } avail;
    struct {
        u16 flags, idx;
        struct {
            u32 id, len;
        } ring[QSIZE];
        u16 avail_event;
    } used __attribute__((aligned(4)));
    u16 last_used;
};

static struct vring rx __attribute__((aligned(16)));
static struct vring tx __attribute__((aligned(16)));
static u8 rx_buffers[RX_BUFFERS][BUFFER_LEN];
static u8 tx_header[HDR_LEN];
static u8 tx_frame[ETH_FRAME_MAX];
static u8 mac[6];
static u64 base;


static void print_byte(u8 value)
{
    putch("0123456789abcdef"[value >> 4]);
    putch("0123456789abcdef"[value & 0xf]);
}

static void print_mac(const u8 *address)
{
    for (int i = 0; i < 6; i++) {
        if (i)
            putch(':');
        print_byte(address[i]);
    }
}

/* Finds the virtio-mmio window holding a network device; returns its I/O APIC pin. */
static u32 find_device(const u8 *boot_params)
{
    struct virtio_window windows[8];
    int count = virtio_windows(boot_params, windows, 8);
    for (int i = 0; i < count; i++) {
        base = windows[i].base;
        virtio_attach(base);
        if (virtio_reg(MAGIC) == 0x74726976 && virtio_reg(VERSION) == 2 && virtio_reg(DEVICE_ID) == 1) {
            print("virtio-net: window ");
            printhex(base);
            print(" irq ");
            printdec(windows[i].irq);
            print("\n");
            return windows[i].irq;
        }
    }
    virtio_fail("no version-2 virtio-mmio network device among the announced windows");
    return 0;
}

static void setup_queue(u32 index, struct vring *ring)
{
    virtio_set_reg(QUEUE_SEL, index);
    if (virtio_reg(QUEUE_NUM_MAX) < QSIZE)
        virtio_fail("queue too small");
    virtio_set_reg(QUEUE_NUM, QSIZE);
    virtio_set_reg(QUEUE_DESC, (u32)(u64)ring->desc);
    virtio_set_reg(QUEUE_DESC + 4, (u32)((u64)ring->desc >> 32));
    virtio_set_reg(QUEUE_DRIVER, (u32)(u64)&ring->avail);
    virtio_set_reg(QUEUE_DRIVER + 4, (u32)((u64)&ring->avail >> 32));
    virtio_set_reg(QUEUE_DEVICE, (u32)(u64)&ring->used);
    virtio_set_reg(QUEUE_DEVICE + 4, (u32)((u64)&ring->used >> 32));
    virtio_set_reg(QUEUE_READY, 1);
}

/* Makes descriptor chain ``head`` available; the caller notifies. */
static void make_available(struct vring *ring, u16 head)
{
    ring->avail.ring[ring->avail.idx % QSIZE] = head;
    __atomic_store_n(&ring->avail.idx, (u16)(ring->avail.idx + 1), __ATOMIC_RELEASE);
}

static u16 used_idx(struct vring *ring) { return __atomic_load_n(&ring->used.idx, __ATOMIC_ACQUIRE); }

/* Sleeps until the device has used a receive buffer the driver has not seen yet. */
static void wait_received(void)
{
    while (used_idx(&rx) == rx.last_used)
        __asm__ volatile("sti; hlt; cli");
}

static void give_receive_buffer(u16 index)
{
    rx.desc[index] = (struct desc){(u64)rx_buffers[index], BUFFER_LEN, DESC_WRITE, 0};
    make_available(&rx, index);
}

static void transmit(const u8 *dst, const char *prefix, const u8 *payload, u32 length)
{
    u32 size = ETH_HLEN;
    for (int i = 0; i < 6; i++) {
        tx_frame[i] = dst[i];
        tx_frame[6 + i] = mac[i];
    }
    tx_frame[12] = ETHERTYPE >> 8;
    tx_frame[13] = ETHERTYPE & 0xff;
    while (*prefix)
        tx_frame[size++] = (u8)*prefix++;
    for (u32 i = 0; i < length && size < ETH_FRAME_MAX; i++)
        tx_frame[size++] = payload[i];
    tx.desc[0] = (struct desc){(u64)tx_header, HDR_LEN, DESC_NEXT, 1};
    tx.desc[1] = (struct desc){(u64)tx_frame, size, 0, 0};
    u32 before = virtio_interrupts;
    make_available(&tx, 0);
    virtio_set_reg(QUEUE_NOTIFY, TX_QUEUE);
    while (virtio_interrupts == before || used_idx(&tx) == tx.last_used)
        __asm__ volatile("sti; hlt; cli");
    tx.last_used++;
    print("virtio-net: sent ");
    printdec(size);
    print(" bytes to ");
    print_mac(dst);
    print("\n");
}

/* Waits for a frame of type ETHERTYPE for this card or for everyone; returns its receive buffer
 * and sets *length to the frame's length (without the virtio_net_hdr). */
static u8 *receive(u32 *length)
{
    for (;;) {
        wait_received();
        u32 slot = rx.last_used++ % QSIZE;
        u16 index = (u16)rx.used.ring[slot].id;
        u32 size = rx.used.ring[slot].len;
        u8 *buffer = rx_buffers[index];
        u8 *frame = buffer + HDR_LEN;
        u16 num_buffers = (u16)(buffer[10] | buffer[11] << 8);
        int for_us = 1, broadcast = 1;
        for (int i = 0; i < 6; i++) {
            for_us &= frame[i] == mac[i];
            broadcast &= frame[i] == 0xff;
        }
        u16 type = (u16)(frame[12] << 8 | frame[13]);
        if (size >= HDR_LEN + ETH_HLEN && num_buffers == 1 && type == ETHERTYPE && (for_us || broadcast)) {
            *length = size - HDR_LEN;
            return frame;
        }
        print("virtio-net: ignored ");
        printdec(size);
        print(" bytes, num_buffers ");
        printdec(num_buffers);
        print(", type 0x");
        print_byte((u8)(type >> 8));
        print_byte((u8)type);
        print("\n");
        give_receive_buffer(index);
        virtio_set_reg(QUEUE_NOTIFY, RX_QUEUE);
    }
}

void main(const u8 *boot_params)
{
    static const u8 everyone[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const char hello[] = "hello from x86 guest";
    virtio_driver("virtio-net");
    u32 irq = find_device(boot_params);
    route_virtio_interrupt(base, irq);
    virtio_set_reg(STATUS, 0);
    virtio_set_reg(STATUS, S_ACK);
    virtio_set_reg(STATUS, S_ACK | S_DRIVER);
    virtio_set_reg(DEVICE_FEATURES_SEL, 0);
    u32 low = virtio_reg(DEVICE_FEATURES);
    virtio_set_reg(DEVICE_FEATURES_SEL, 1);
    u32 high = virtio_reg(DEVICE_FEATURES);
    if (!(high & F_VERSION_1_HIGH) || !(low & F_MAC))
        virtio_fail("device does not offer VERSION_1 and MAC");
    virtio_set_reg(DRIVER_FEATURES_SEL, 0);
    virtio_set_reg(DRIVER_FEATURES, F_MAC);
    virtio_set_reg(DRIVER_FEATURES_SEL, 1);
    virtio_set_reg(DRIVER_FEATURES, F_VERSION_1_HIGH);
    virtio_set_reg(STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    if (!(virtio_reg(STATUS) & S_FEATURES_OK))
        virtio_fail("FEATURES_OK refused");
    for (int i = 0; i < 6; i++)
        mac[i] = *(volatile u8 *)(base + CONFIG + i);
    setup_queue(RX_QUEUE, &rx);
    setup_queue(TX_QUEUE, &tx);
    for (u16 i = 0; i < RX_BUFFERS; i++)
        give_receive_buffer(i);
    virtio_set_reg(STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    virtio_set_reg(QUEUE_NOTIFY, RX_QUEUE);
    print("virtio-net: mac ");
    print_mac(mac);
    print("\n");

    transmit(everyone, "", (const u8 *)hello, sizeof(hello) - 1);
    u32 length;
    u8 *frame = receive(&length);
    print("virtio-net: received ");
    printdec(length);
    print(" bytes from ");
    print_mac(frame + 6);
    print(": ");
    for (u32 i = ETH_HLEN; i < length; i++)
        putch(frame[i] >= ' ' && frame[i] < 127 ? (char)frame[i] : '.');
    print("\n");
    transmit(frame + 6, "echo:", frame + ETH_HLEN, length - ETH_HLEN);
    print("virtio-net: interrupts ");
    printdec(virtio_interrupts);
    print("\n");
    reset();
}
