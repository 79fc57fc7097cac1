"""Guest memory: RAM, the soft MMU with its TLB, and page-table walkers."""
