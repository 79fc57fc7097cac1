"""Core types shared by every part of polyvm: architectures, modes, errors, configuration, protocols."""
