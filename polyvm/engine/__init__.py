"""Execution engines: the Python interpreter tier, the LLVM JIT, hybrid tiering, KVM."""
