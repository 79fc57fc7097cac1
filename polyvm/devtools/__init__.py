"""Developer tooling shared by tests and benchmarks: building guest programs, caching outputs."""
