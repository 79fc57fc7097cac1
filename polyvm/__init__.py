"""polyvm: a full-system virtual machine in Python (see README.md)."""
