# Stores to 0xd0000000, an identity-mapped address with no RAM and no device: a KVM MMIO exit that
# the minimal board does not handle.
        .code64
        .globl _start
_start:
        mov     $0xd0000000, %eax
        movl    $1, (%rax)
        hlt
