"""ExecMode.ACCELERATED: x86-64 guests run on the host CPU through Linux KVM, driven with ioctls from Python
(api: structures and ioctl numbers; vm: system, VM and vCPU objects; longmode: page tables and GDT for a
64-bit start; cpu_setup: per-vCPU CPUID, MSRs, FPU and LAPIC pins; ports: the port I/O bus; i8042: the
reset controller; vcpu_thread: one host thread per vCPU serving exits; machine: a minimal flat-binary
board). The microvm board that boots Linux is polyvm.machine.microvm."""
