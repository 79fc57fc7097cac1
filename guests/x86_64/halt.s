# Stops with hlt (interrupts disabled): without an in-kernel irqchip this is a KVM_EXIT_HLT.
        .code64
        .globl _start
_start:
        cli
        hlt
