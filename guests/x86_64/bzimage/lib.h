/* What every test bzImage guest shares: port and MMIO access, the COM1 console, boot_params fields,
 * command-line parsing, the virtio-mmio windows (of the ACPI tables or the command line), the ACPI
 * sleep registers and the i8042 reset that ends the VM. */
#ifndef LIB_H
#define LIB_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;

#define BP_ACPI_RSDP_ADDR 0x070
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define BP_TYPE_OF_LOADER 0x210
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_CMD_LINE_PTR 0x228
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4

static inline void outb(u16 port, u8 value) { __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port)); }
static inline u8 inb(u16 port)
{
    u8 value;
    __asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}
static inline u32 mmio_read32(u64 address) { return *(volatile u32 *)address; }
static inline void mmio_write32(u64 address, u32 value) { *(volatile u32 *)address = value; }
static inline u64 bp_u64(const u8 *bp, int offset) { return *(const u64 *)(bp + offset); }
static inline u32 bp_u32(const u8 *bp, int offset) { return *(const u32 *)(bp + offset); }

void putch(char c);
void print(const char *s);
void printhex(u64 value);
void printdec(u64 value);
const char *cmdline(const u8 *boot_params);
/* The value of "key=" in the command line, or 0 when absent. */
const char *cmdline_value(const char *line, const char *key);
/* A decimal or 0x-prefixed number; advances *text past it. */
u64 parse_number(const char **text);
void reset(void) __attribute__((noreturn));

struct virtio_window {
    u64 base, size;
    u32 irq; /* the GSI: I/O APIC pin */
};
/* The virtio-mmio windows (LNRO0005 devices) of the DSDT found from boot_params.acpi_rsdp_addr, in
 * DSDT order: fills up to `max` and returns how many it filled, or prints why it cannot and returns
 * -1 (acpi.c). */
int acpi_virtio_windows(const u8 *boot_params, struct virtio_window *windows, int max);
/* The virtio-mmio windows the board announces: the ACPI tables' when boot_params has an RSDP, else
 * those of the command line's virtio_mmio.device= parameters; like acpi_virtio_windows, -1 after
 * printing why they cannot be read (virtio_windows.c). */
int virtio_windows(const u8 *boot_params, struct virtio_window *windows, int max);

/* A register a FADT Generic Address Structure names: its address space (0 memory, 1 I/O ports). */
struct acpi_register {
    u8 space;
    u64 address;
};
struct acpi_sleep {
    struct acpi_register control, status; /* SLEEP_CONTROL_REG, SLEEP_STATUS_REG */
    u32 s5_type;                          /* SLP_TYPa of \_S5 */
};
/* The hardware-reduced FADT's sleep registers and the DSDT's S5 sleep type: 0, or prints why the
 * tables lack them and returns -1 (acpi.c). */
int acpi_sleep_registers(const u8 *boot_params, struct acpi_sleep *sleep);
/* A one-byte write to `reg`, by port I/O or by memory access. */
void acpi_register_write(const struct acpi_register *reg, u8 value);

/* virtio-mmio version 2 registers (virtio 1.2, 4.2.2) and device status bits. */
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
#define STATUS 0x070
#define QUEUE_DESC 0x080
#define QUEUE_DRIVER 0x090
#define QUEUE_DEVICE 0x0a0
#define CONFIG 0x100
#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8

/* The virtio-mmio device a guest drives (lib.c): virtio_driver names it in virtio_fail's message,
 * virtio_attach gives the window its registers are read and written in. */
void virtio_driver(const char *name);
void virtio_attach(u64 base);
u32 virtio_reg(u32 offset);
void virtio_set_reg(u32 offset, u32 value);
/* Prints "<driver name>: <why>" and resets. */
void virtio_fail(const char *why) __attribute__((noreturn));

#define LAPIC 0xfee00000UL
#define IOAPIC 0xfec00000UL
/* Interrupts taken from the virtio-mmio device that route_virtio_interrupt set up. */
extern volatile u32 virtio_interrupts;
/* Deliver I/O APIC pin `pin` to this CPU as a handler that acknowledges the virtio-mmio device at
 * `device` and counts in virtio_interrupts (the 8259s are masked, the local APIC enabled). */
void route_virtio_interrupt(u64 device, u32 pin);

#endif
