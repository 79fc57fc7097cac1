/* Powers the machine off as the OSPM of a hardware-reduced ACPI platform does (ACPI 6.5, 4.8.3.7 and
 * 16.1.7): the sleep control and status registers from the FACP, SLP_TYPa of \_S5 from the DSDT;
 * clear WAK_STS in the status register, then write SLP_TYP with SLP_EN to the control register. Prints
 * what it found first; if the machine is still running afterwards, says so and resets. */
#include "lib.h"

#define SLP_TYP_SHIFT 2
#define SLP_EN 0x20
#define WAK_STS 0x80

static void print_register(const char *name, const struct acpi_register *reg)
{
    print(name);
    print(reg->space ? " io " : " memory ");
    printhex(reg->address);
    print("\n");
}

void main(const u8 *boot_params)
{
    struct acpi_sleep sleep;
    if (acpi_sleep_registers(boot_params, &sleep) < 0)
        reset();
    print_register("sleep control", &sleep.control);
    print_register("sleep status", &sleep.status);
    print("s5 sleep type ");
    printdec(sleep.s5_type);
    print("\n");
    acpi_register_write(&sleep.status, WAK_STS);
    acpi_register_write(&sleep.control, (u8)(sleep.s5_type << SLP_TYP_SHIFT | SLP_EN));
    print("still running after entering S5\n");
    reset();
}
