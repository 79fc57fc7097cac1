/* Finding the virtio-mmio devices with or without ACPI. Without (boot_params.acpi_rsdp_addr 0), the
 * way a Linux kernel with CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES does: from the command line's
 * virtio_mmio.device=<size>@<base>:<irq> parameters, one per window, as QEMU's microvm writes them
 * with acpi=off (size and base decimal or 0x-prefixed; a trailing :<id> is ignored). With an RSDP,
 * by walking the ACPI tables (acpi.c). */
#include "lib.h"

#define DEVICE_KEY "virtio_mmio.device"

/* The windows of every virtio_mmio.device= parameter of `line`, in order; -1 for a malformed one. */
static int cmdline_virtio_windows(const char *line, struct virtio_window *windows, int max)
{
    int count = 0;
    for (const char *p = cmdline_value(line, DEVICE_KEY); p; p = cmdline_value(p, DEVICE_KEY)) {
        struct virtio_window window;
        window.size = parse_number(&p);
        if (*p++ != '@') {
            print("cmdline: " DEVICE_KEY "= without @<base>\n");
            return -1;
        }
        window.base = parse_number(&p);
        if (*p++ != ':') {
            print("cmdline: " DEVICE_KEY "= without :<irq>\n");
            return -1;
        }
        window.irq = (u32)parse_number(&p);
        if (count < max)
            windows[count++] = window;
    }
    return count;
}

int virtio_windows(const u8 *boot_params, struct virtio_window *windows, int max)
{
    if (bp_u64(boot_params, BP_ACPI_RSDP_ADDR))
        return acpi_virtio_windows(boot_params, windows, max);
    return cmdline_virtio_windows(cmdline(boot_params), windows, max);
}
