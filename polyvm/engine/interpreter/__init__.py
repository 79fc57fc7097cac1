"""The interpreter engine: IR blocks become Python functions run by a dispatch loop."""
