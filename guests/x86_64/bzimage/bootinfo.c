/* Prints what the boot loader handed over in boot_params: type_of_loader, the e820 map, the command
 * line, the initrd (address, size, FNV-1a hash of its bytes), the RSDP address and the virtio-mmio
 * windows found through the ACPI tables or on the command line, then resets through the i8042. */
#include "lib.h"

#define FNV_OFFSET 0xcbf29ce484222325UL
#define FNV_PRIME 0x100000001b3UL

void main(const u8 *boot_params)
{
    print("type_of_loader ");
    printhex(boot_params[BP_TYPE_OF_LOADER]);
    print("\ne820 entries ");
    printdec(boot_params[BP_E820_ENTRIES]);
    print("\n");
    for (int i = 0; i < boot_params[BP_E820_ENTRIES]; i++) {
        const u8 *entry = boot_params + BP_E820_TABLE + 20 * i;
        print("e820 ");
        printhex(bp_u64(entry, 0));
        print(" ");
        printhex(bp_u64(entry, 8));
        print(" ");
        printdec(bp_u32(entry, 16));
        print("\n");
    }
    print("cmdline ");
    print(cmdline(boot_params));
    print("\n");
    u64 image = bp_u32(boot_params, BP_RAMDISK_IMAGE) | (u64)bp_u32(boot_params, BP_EXT_RAMDISK_IMAGE) << 32;
    u64 size = bp_u32(boot_params, BP_RAMDISK_SIZE) | (u64)bp_u32(boot_params, BP_EXT_RAMDISK_SIZE) << 32;
    u64 hash = FNV_OFFSET;
    for (const u8 *p = (const u8 *)image; p < (const u8 *)(image + size); p++)
        hash = (hash ^ *p) * FNV_PRIME;
    print("initrd ");
    printhex(image);
    print(" ");
    printdec(size);
    print(" ");
    printhex(hash);
    print("\nacpi_rsdp ");
    printhex(bp_u64(boot_params, BP_ACPI_RSDP_ADDR));
    print("\n");
    struct virtio_window windows[8];
    int count = virtio_windows(boot_params, windows, 8);
    for (int i = 0; i < count; i++) {
        print("virtio-mmio ");
        printhex(windows[i].base);
        print(" ");
        printhex(windows[i].size);
        print(" irq ");
        printdec(windows[i].irq);
        print("\n");
    }
    reset();
}
