# A compute-bound loop in ring 3: %rdi (set by the host) iterations of a 64-bit LCG, folding the high
# bits into a checksum. Ring 0 only drops to CPL3 with iretq (IOPL=3 so user code may use ports);
# user code reports the 64-bit checksum as two 32-bit writes (low, high) to port 0x502, then writes
# exit code 0 to the debug-exit port 0x501. Same algorithm as lcg_native.c.
        .code64
        .globl _start
_start:
        push    $0x1b                   # SS: user data selector 0x18 | RPL 3
        push    $0x70000                # user stack
        push    $0x3002                 # RFLAGS: IOPL=3, reserved bit 1
        push    $0x23                   # CS: user code selector 0x20 | RPL 3
        lea     user(%rip), %rax
        push    %rax
        iretq
user:
        mov     %rdi, %rcx
        movabs  $0x853c49e6748fea9b, %rax
        movabs  $6364136223846793005, %rbx
        movabs  $1442695040888963407, %rsi
        xor     %r9, %r9
loop:
        imul    %rbx, %rax
        add     %rsi, %rax
        mov     %rax, %r8
        shr     $33, %r8
        xor     %r8, %r9
        dec     %rcx
        jnz     loop
        mov     $0x502, %dx
        mov     %r9, %rax
        out     %eax, %dx
        shr     $32, %rax
        out     %eax, %dx
        mov     $0x501, %dx
        xor     %eax, %eax
        out     %al, %dx
        jmp     .
