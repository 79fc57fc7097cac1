#!/usr/bin/env bash
# Installs everything polyvm and its test suite need on a fresh Debian 12 machine:
# cross toolchains for the guest programs in guests/, QEMU as the differential oracle,
# and the Python package with its dependencies (editable, so tests run the checkout).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu
  gcc-riscv64-unknown-elf
  qemu-user qemu-system-misc
  device-tree-compiler
  opensbi u-boot-qemu e2fsprogs gdb-multiarch
  gcc binutils qemu-system-x86 acpica-tools
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

python3 -m pip install -q --disable-pip-version-check -e ".[dev]"
# Byte-compile the package now: an editable install leaves that to the first import, which does
# not happen where PYTHONDONTWRITEBYTECODE is set, and then every polyvm process compiled its
# modules again (~0.1 s of each start; benchmarks/boot.py times the whole command).
python3 -m compileall -q polyvm
