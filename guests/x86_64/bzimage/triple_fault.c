/* Loads an empty IDT and executes ud2: #UD cannot be delivered, nor can the #GP and double fault
 * that follow, so the CPU shuts down (a triple fault, KVM_EXIT_SHUTDOWN). */
#include "lib.h"

void main(const u8 *boot_params)
{
    (void)boot_params;
    struct __attribute__((packed)) {
        u16 limit;
        u64 base;
    } empty = {0, 0};
    print("triple fault next\n");
    __asm__ volatile("lidt %0\n\tud2" : : "m"(empty));
}
