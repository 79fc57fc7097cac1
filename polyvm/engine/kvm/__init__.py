"""ExecMode.ACCELERATED: x86-64 guests run on the host CPU through Linux KVM, driven with ioctls from Python
(api: structures and ioctl numbers; vm: system, VM and vCPU objects; machine: a minimal 64-bit board)."""
