"""The RISC-V 64 frontend: decoder (RV64IMAC, Zicsr, Zifencei), IR translator, hart state and CSRs."""
