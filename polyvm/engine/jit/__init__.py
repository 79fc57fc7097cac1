"""The native JIT tier: IR blocks compiled to host code by LLVM and chained in a native loop."""
