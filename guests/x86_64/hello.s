# Prints a line through the 16550 UART at 0x3f8 (polling LSR.THRE like a real driver), then ends the
# run with exit code 0 through the debug-exit port 0x501. Runs in 64-bit ring 0, loaded at 1 MiB.
        .code64
        .globl _start
_start:
        lea     message(%rip), %rsi
next:
        lodsb
        test    %al, %al
        jz      done
        mov     %al, %bl
        mov     $0x3fd, %dx             # LSR
wait:
        in      %dx, %al
        test    $0x20, %al              # THR empty
        jz      wait
        mov     $0x3f8, %dx             # THR
        mov     %bl, %al
        out     %al, %dx
        jmp     next
done:
        mov     $0x501, %dx
        xor     %eax, %eax
        out     %al, %dx
        hlt
message:
        .asciz  "hello from a KVM guest\n"
