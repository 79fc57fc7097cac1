/* What every test bzImage guest shares: port and MMIO access, the COM1 console, boot_params fields,
 * command-line parsing and the i8042 reset that ends the VM. */
#ifndef LIB_H
#define LIB_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;

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

#endif
