#!/usr/bin/env bash
# Builds polyvm's riscv64 test kernel (Image + vmlinux) from Debian's linux-source-6.1 with
# riscv64-linux-gnu-gcc and the Kconfig fragment scripts/linux-riscv64.config.
#
# Every `CONFIG_X=...` and `# CONFIG_X is not set` line of the fragment is checked in the final
# .config, so an option Kconfig silently drops (unmet dependency) fails the build.
# The result is cached in  $(cache_dir linux)/<key>/{Image,vmlinux,config}  where <key> hashes the
# fragment, the linux-source package version and the compiler version; a second run only prints
# the path. Installs its own build dependencies with apt-get when they are missing.
# Usage: scripts/build_linux.sh            (prints the cache folder on stdout, progress on stderr)
#        JOBS=1 scripts/build_linux.sh     (parallel make jobs; default: number of CPUs)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FRAGMENT="$ROOT/scripts/linux-riscv64.config"
CROSS=riscv64-linux-gnu-
APT_PACKAGES=(linux-source-6.1 gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu
  make gcc libc6-dev bc flex bison libssl-dev libelf-dev xz-utils)

log() { echo "build_linux: $*" >&2; }

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

PKG_VERSION=$(dpkg-query -W -f='${Version}' linux-source-6.1)
CC_VERSION=$(${CROSS}gcc --version | head -n1)
OUT=$(PYTHONPATH="$ROOT" python3 -c '
import sys
from pathlib import Path
from polyvm.devtools.cache import cache_dir, content_key
fragment, pkg, cc = sys.argv[1:]
print(cache_dir("linux", content_key(Path(fragment).read_bytes(), pkg, cc)))
' "$FRAGMENT" "$PKG_VERSION" "$CC_VERSION")

if [ -f "$OUT/Image" ] && [ -f "$OUT/vmlinux" ]; then
  log "cached"
  echo "$OUT"
  exit 0
fi

SRC=$(PYTHONPATH="$ROOT" python3 -c '
import sys
from polyvm.devtools.cache import cache_dir
print(cache_dir("linux-src", sys.argv[1]))' "$PKG_VERSION")
if [ ! -f "$SRC/.polyvm-extracted" ]; then
  log "extracting linux-source $PKG_VERSION into $SRC"
  tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$SRC" --strip-components=1
  touch "$SRC/.polyvm-extracted"
fi

BUILD="$OUT/build"
rm -rf "$BUILD"
mkdir -p "$BUILD"
MAKE=(make -C "$SRC" O="$BUILD" ARCH=riscv CROSS_COMPILE="$CROSS" -j"${JOBS:-$(nproc)}")

start=$(date +%s)
KCONFIG_ALLCONFIG="$FRAGMENT" "${MAKE[@]}" allnoconfig >&2
wrong=()
while IFS= read -r line; do
  grep -qxF "$line" "$BUILD/.config" || wrong+=("$line")
done < <(grep -E '^CONFIG_[A-Z0-9_]+=' "$FRAGMENT")
while IFS= read -r symbol; do
  if grep -q "^$symbol=" "$BUILD/.config"; then wrong+=("# $symbol is not set"); fi
done < <(sed -n 's/^# \(CONFIG_[A-Z0-9_]*\) is not set$/\1/p' "$FRAGMENT")
if [ ${#wrong[@]} -gt 0 ]; then
  log "these fragment options did not survive Kconfig (unmet dependencies?): ${wrong[*]}"
  exit 1
fi

log "building (this takes a while)"
nice -n 19 "${MAKE[@]}" Image vmlinux >&2
cp "$BUILD/arch/riscv/boot/Image" "$BUILD/vmlinux" "$OUT/"
cp "$BUILD/.config" "$OUT/config"
rm -rf "$BUILD"
log "built in $(( $(date +%s) - start )) s"
echo "$OUT"
