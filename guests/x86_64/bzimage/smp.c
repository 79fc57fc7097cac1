/* Starts the other vCPUs the way an OS does without firmware help: the BSP copies the real-mode
 * trampoline of smp.S to 0x8000 and broadcasts INIT, SIPI, SIPI through its local APIC's ICR. Every AP
 * reaches long mode, prints its APIC id under a lock and counts itself; the BSP waits for all of
 * "cpus=N" (command line), prints the total and resets through the i8042. */
#include "lib.h"

#define ICR_LOW 0x300
#define ICR_HIGH 0x310
#define ICR_PENDING (1 << 12)
#define ALL_BUT_SELF (3 << 18)
#define INIT_ASSERT 0x4500
#define STARTUP 0x4600
#define TRAMPOLINE 0x8000

extern const u8 ap_trampoline[], ap_trampoline_end[];
static volatile u32 console_lock;
static volatile u32 aps_up;

static void lock(void)
{
    while (__atomic_exchange_n(&console_lock, 1, __ATOMIC_ACQUIRE))
        __asm__ volatile("pause");
}

static void unlock(void) { __atomic_store_n(&console_lock, 0, __ATOMIC_RELEASE); }

static u32 apic_id(void) { return mmio_read32(LAPIC + 0x20) >> 24; }

static void send_ipi(u32 command)
{
    mmio_write32(LAPIC + ICR_HIGH, 0);
    mmio_write32(LAPIC + ICR_LOW, command);
    while (mmio_read32(LAPIC + ICR_LOW) & ICR_PENDING)
        __asm__ volatile("pause");
}

void ap_main(u32 index)
{
    lock();
    print("ap ");
    printdec(index);
    print(": apic id ");
    printdec(apic_id());
    print(", in long mode\n");
    unlock();
    __atomic_add_fetch(&aps_up, 1, __ATOMIC_RELEASE);
}

void main(const u8 *boot_params)
{
    const char *value = cmdline_value(cmdline(boot_params), "cpus");
    u64 cpus = value ? parse_number(&value) : 1;
    print("bsp: apic id ");
    printdec(apic_id());
    print(", starting ");
    printdec(cpus - 1);
    print(" application processor(s)\n");
    for (const u8 *p = ap_trampoline; p < ap_trampoline_end; p++)
        ((u8 *)TRAMPOLINE)[p - ap_trampoline] = *p;
    mmio_write32(LAPIC + 0xf0, 0x1ff);
    send_ipi(ALL_BUT_SELF | INIT_ASSERT);
    send_ipi(ALL_BUT_SELF | STARTUP | (TRAMPOLINE >> 12));
    send_ipi(ALL_BUT_SELF | STARTUP | (TRAMPOLINE >> 12));
    while (__atomic_load_n(&aps_up, __ATOMIC_ACQUIRE) < cpus - 1)
        __asm__ volatile("pause");
    lock();
    print("bsp: ");
    printdec(aps_up + 1);
    print(" cpus up\n");
    unlock();
    reset();
}
