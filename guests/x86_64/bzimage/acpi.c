/* Finding the virtio-mmio devices the way a Linux kernel without virtio_mmio.device= does: through the
 * ACPI tables. boot_params.acpi_rsdp_addr -> RSDP (revision 2) -> XSDT -> FACP -> X_DSDT, every table
 * checked for its signature and zero checksum, then the DSDT's AML walked term by term: Scope(\_SB)
 * holding Devices whose Name objects are integers, strings and buffers (the shape the microvm board
 * writes). A device whose _HID is "LNRO0005" is a virtio-mmio window: its _CRS holds Memory32Fixed
 * (base, size) and an extended Interrupt (the GSI, which is the I/O APIC pin).
 *
 * Powering off the way a hardware-reduced platform's OSPM does: the FACP's SLEEP_CONTROL_REG and
 * SLEEP_STATUS_REG (Generic Address Structures), and SLP_TYPa of the DSDT's \_S5 package, found by
 * scanning the AML for the package's bytes as small operating systems do without an interpreter. */
#include "lib.h"

#define SDT_HEADER 36
#define FADT_DSDT 40
#define FADT_FLAGS 112
#define FADT_X_DSDT 140
#define FADT_SLEEP_CONTROL 244
#define FADT_SLEEP_STATUS 256
#define FADT_HW_REDUCED_ACPI (1u << 20)
#define GAS_SIZE 12
#define GAS_SYSTEM_MEMORY 0
#define GAS_SYSTEM_IO 1
#define ZERO_OP 0x00
#define ONE_OP 0x01
#define BYTE_PREFIX 0x0a
#define SCOPE_OP 0x10
#define NAME_OP 0x08
#define PACKAGE_OP 0x12
#define ROOT_CHAR '\\'
#define EXT_OP 0x5b
#define DEVICE_OP 0x82
#define STRING_PREFIX 0x0d
#define BUFFER_OP 0x11
#define MEMORY32_FIXED 0x86
#define EXTENDED_INTERRUPT 0x89
#define END_TAG 0x0f

static int bad(const char *why)
{
    print("acpi: ");
    print(why);
    print("\n");
    return -1;
}

static u32 le32(const u8 *p) { return p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24; }
static u64 le64(const u8 *p) { return le32(p) | (u64)le32(p + 4) << 32; }

static int same(const u8 *p, const char *text, int length)
{
    for (int i = 0; i < length; i++)
        if (p[i] != (u8)text[i])
            return 0;
    return 1;
}

static u8 sum(const u8 *p, u32 length)
{
    u8 total = 0;
    while (length--)
        total = (u8)(total + *p++);
    return total;
}

/* The table at `address` if it has `signature` and sums to zero, else 0. */
static const u8 *table(u64 address, const char *signature)
{
    const u8 *t = (const u8 *)address;
    if (!address || !same(t, signature, 4) || sum(t, le32(t + 4)))
        return 0;
    return t;
}

/* Reads a PkgLength at *p, moves *p past it; returns where the package ends. */
static const u8 *package_end(const u8 **p)
{
    const u8 *start = *p;
    u32 follow = start[0] >> 6, length = follow ? start[0] & 0x0f : start[0] & 0x3f;
    for (u32 i = 0; i < follow; i++)
        length |= (u32)start[1 + i] << (4 + 8 * i);
    *p = start + 1 + follow;
    return start + length;
}

/* Skips a ComputationalData integer (ZeroOp, OneOp, OnesOp or a prefixed constant); 0 if none. */
static const u8 *skip_integer(const u8 *p)
{
    switch (*p) {
    case 0x00: case 0x01: case 0xff: return p + 1;
    case 0x0a: return p + 2;
    case 0x0b: return p + 3;
    case 0x0c: return p + 5;
    case 0x0e: return p + 9;
    default: return 0;
    }
}

/* Reads a _CRS resource template (after BufferOp and its PkgLength) into `window`. */
static int read_resources(const u8 *p, const u8 *end, struct virtio_window *window)
{
    if (!(p = skip_integer(p)))
        return bad("_CRS buffer without a size");
    while (p < end) {
        if (!(*p & 0x80)) {
            if ((*p >> 3 & 0x0f) == END_TAG)
                return 0;
            p += 1 + (*p & 7);
            continue;
        }
        const u8 *data = p + 3;
        if (*p == MEMORY32_FIXED) {
            window->base = le32(data + 1);
            window->size = le32(data + 5);
        } else if (*p == EXTENDED_INTERRUPT) {
            window->irq = le32(data + 2);
        }
        p = data + (p[1] | p[2] << 8);
    }
    return bad("_CRS without an end tag");
}

/* Reads the Name objects of one Device; returns 1 for a virtio-mmio window, 0 for another device. */
static int read_device(const u8 *p, const u8 *end, struct virtio_window *window)
{
    int virtio = 0;
    p += 4; /* the device's NameSeg */
    while (p < end) {
        if (*p != NAME_OP)
            return bad("a device holds something other than Name objects");
        const u8 *object = p + 1;
        p += 5;
        if (*p == STRING_PREFIX) {
            if (same(object, "_HID", 4) && same(p + 1, "LNRO0005", 9))
                virtio = 1;
            while (*p++)
                ;
        } else if (*p == BUFFER_OP) {
            p++;
            const u8 *buffer_end = package_end(&p);
            if (same(object, "_CRS", 4) && read_resources(p, buffer_end, window) < 0)
                return -1;
            p = buffer_end;
        } else if (!(p = skip_integer(p))) {
            return bad("a Name object of an unexpected type");
        }
    }
    return virtio;
}

static const u8 *find_fadt(const u8 *boot_params)
{
    const u8 *rsdp = (const u8 *)bp_u64(boot_params, BP_ACPI_RSDP_ADDR);
    if (!rsdp || !same(rsdp, "RSD PTR ", 8) || sum(rsdp, 20) || rsdp[15] < 2 || sum(rsdp, le32(rsdp + 20)))
        return 0;
    const u8 *xsdt = table(le64(rsdp + 24), "XSDT");
    if (!xsdt)
        return 0;
    for (u32 offset = SDT_HEADER; offset < le32(xsdt + 4); offset += 8) {
        const u8 *fadt = table(le64(xsdt + offset), "FACP");
        if (fadt)
            return fadt;
    }
    return 0;
}

static const u8 *dsdt_of(const u8 *fadt)
{
    return table(le32(fadt + 4) > FADT_X_DSDT ? le64(fadt + FADT_X_DSDT) : le32(fadt + FADT_DSDT), "DSDT");
}

static const u8 *find_dsdt(const u8 *boot_params)
{
    const u8 *fadt = find_fadt(boot_params);
    return fadt ? dsdt_of(fadt) : 0;
}

int acpi_virtio_windows(const u8 *boot_params, struct virtio_window *windows, int max)
{
    const u8 *dsdt = find_dsdt(boot_params);
    if (!dsdt)
        return bad("no valid RSDP, XSDT, FACP and DSDT from boot_params.acpi_rsdp_addr");
    const u8 *p = dsdt + SDT_HEADER;
    if (*p++ != SCOPE_OP)
        return bad("the DSDT does not start with a Scope");
    const u8 *scope_end = package_end(&p);
    if (!same(p, "_SB_", 4))
        return bad("the DSDT's scope is not \\_SB");
    int count = 0;
    for (p += 4; p < scope_end;) {
        if (p[0] != EXT_OP || p[1] != DEVICE_OP)
            return bad("\\_SB holds something other than devices");
        p += 2;
        const u8 *device_end = package_end(&p);
        struct virtio_window window = {0, 0, 0};
        int found = read_device(p, device_end, &window);
        if (found < 0)
            return -1;
        if (found && count < max)
            windows[count++] = window;
        p = device_end;
    }
    return count;
}

/* A FADT Generic Address Structure at `gas`: the address space and address; -1 when it is empty or
 * neither memory nor I/O ports. */
static int read_register(const u8 *gas, struct acpi_register *reg)
{
    reg->space = gas[0];
    reg->address = le64(gas + 4);
    return reg->address && (reg->space == GAS_SYSTEM_MEMORY || reg->space == GAS_SYSTEM_IO) ? 0 : -1;
}

/* SLP_TYPa of Name(_S5_, Package () {SLP_TYPa, ...}) in the AML of `dsdt`, or -1: the bytes NameOp
 * (maybe with a root prefix), "_S5_", PackageOp, PkgLength, NumElements, then a byte constant, Zero
 * or One. */
static int s5_sleep_type(const u8 *dsdt)
{
    const u8 *end = dsdt + le32(dsdt + 4);
    for (const u8 *p = dsdt + SDT_HEADER + 1; p + 8 < end; p++) {
        if (!same(p, "_S5_", 4) || !(p[-1] == NAME_OP || (p[-1] == ROOT_CHAR && p[-2] == NAME_OP)))
            continue;
        const u8 *q = p + 4;
        if (*q++ != PACKAGE_OP)
            continue;
        package_end(&q);
        q++; /* NumElements */
        if (*q == BYTE_PREFIX)
            return q[1];
        if (*q == ZERO_OP || *q == ONE_OP)
            return *q;
    }
    return -1;
}

int acpi_sleep_registers(const u8 *boot_params, struct acpi_sleep *sleep)
{
    const u8 *fadt = find_fadt(boot_params);
    if (!fadt)
        return bad("no valid RSDP, XSDT and FACP from boot_params.acpi_rsdp_addr");
    if (!(le32(fadt + FADT_FLAGS) & FADT_HW_REDUCED_ACPI))
        return bad("the FACP is not hardware-reduced: sleeping takes PM1 control blocks");
    if (le32(fadt + 4) < FADT_SLEEP_STATUS + GAS_SIZE
        || read_register(fadt + FADT_SLEEP_CONTROL, &sleep->control) < 0
        || read_register(fadt + FADT_SLEEP_STATUS, &sleep->status) < 0)
        return bad("the FACP has no sleep control and status registers");
    const u8 *dsdt = dsdt_of(fadt);
    if (!dsdt)
        return bad("no valid DSDT");
    int type = s5_sleep_type(dsdt);
    if (type < 0)
        return bad("the DSDT has no \\_S5 package");
    sleep->s5_type = (u32)type;
    return 0;
}

void acpi_register_write(const struct acpi_register *reg, u8 value)
{
    if (reg->space == GAS_SYSTEM_IO)
        outb((u16)reg->address, value);
    else
        *(volatile u8 *)reg->address = value;
}
