#!/usr/bin/env bash
# Rebuilds the committed demo image polyvm/demo/hello-riscv64.elf from this folder's sources.
set -euo pipefail
cd "$(dirname "$0")"
riscv64-unknown-elf-gcc -march=rv64imac_zicsr -mabi=lp64 -mcmodel=medany -O2 -nostdlib \
  -nostartfiles -ffreestanding -T ../baremetal/link.ld -o ../../polyvm/demo/hello-riscv64.elf \
  ../baremetal/start.S hello.c
riscv64-unknown-elf-strip ../../polyvm/demo/hello-riscv64.elf -K tohost -K fromhost
