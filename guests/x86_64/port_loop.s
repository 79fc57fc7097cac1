# Exit-rate probe: %rdi (set by the host) byte writes to the unused POST port 0x80, each one a KVM I/O
# exit, then exit code 0 through the debug-exit port 0x501.
        .code64
        .globl _start
_start:
        mov     %rdi, %rcx
        mov     $0x80, %dx
1:
        out     %al, %dx
        dec     %rcx
        jnz     1b
        mov     $0x501, %dx
        xor     %eax, %eax
        out     %al, %dx
        hlt
