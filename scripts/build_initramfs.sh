#!/usr/bin/env bash
# Builds polyvm's riscv64 test initramfs: a gzip'd newc cpio holding a static busybox, compiled from
# Debian's busybox source package with riscv64-linux-gnu-gcc, and an /init that mounts proc, sysfs
# and devtmpfs, then runs a shell on the console and powers off when the shell exits.
#
# The result is cached in  $(cache_dir initramfs)/<key>/{initramfs.cpio.gz,busybox}  where <key>
# hashes this script, the busybox source version and the compiler version; a second run only
# prints the path. Installs its own build dependencies with apt-get (and adds a deb-src entry to
# /etc/apt/sources.list.d/debian.sources when there is none, for `apt-get source`).
# Usage: scripts/build_initramfs.sh        (prints the cache folder on stdout, progress on stderr)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SELF="$ROOT/scripts/build_initramfs.sh"
CROSS=riscv64-linux-gnu-
APT_PACKAGES=(gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu libc6-dev-riscv64-cross
  make gcc libc6-dev dpkg-dev gzip)
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

log() { echo "build_initramfs: $*" >&2; }
cache() { PYTHONPATH="$ROOT" python3 -c 'import sys
from polyvm.devtools.cache import cache_dir
print(cache_dir(*sys.argv[1:]))' "$@"; }

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

SOURCES=/etc/apt/sources.list.d/debian.sources
if ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list "$SOURCES"; then
  log "adding deb-src to $SOURCES"
  $SUDO sed -i 's/^Types: deb$/Types: deb deb-src/' "$SOURCES"
  $SUDO apt-get update -qq
fi
BB_VERSION=$(apt-cache showsrc busybox | sed -n 's/^Version: //p' | sort -V | tail -n1)
[ -n "$BB_VERSION" ] || { log "apt-cache showsrc busybox found no source package"; exit 1; }
CC_VERSION=$(${CROSS}gcc --version | head -n1)

OUT=$(PYTHONPATH="$ROOT" python3 -c '
import sys
from pathlib import Path
from polyvm.devtools.cache import cache_dir, content_key
script, writer, bb, cc = sys.argv[1:]
print(cache_dir("initramfs", content_key(Path(script).read_bytes(), Path(writer).read_bytes(), bb, cc)))
' "$SELF" "$ROOT/polyvm/devtools/newc_cpio.py" "$BB_VERSION" "$CC_VERSION")
if [ -f "$OUT/initramfs.cpio.gz" ]; then
  log "cached"
  echo "$OUT"
  exit 0
fi

SRC=$(cache busybox-src "${BB_VERSION//:/_}")  # make cannot handle the epoch colon
if [ ! -f "$SRC/.polyvm-extracted" ]; then
  log "fetching busybox source $BB_VERSION"
  rm -rf "$SRC"/*
  (cd "$SRC" && apt-get source -qq "busybox=$BB_VERSION" 2>&1 | grep -v unsandboxed >&2)
  touch "$SRC/.polyvm-extracted"
fi
BBSRC=$(find "$SRC" -mindepth 1 -maxdepth 1 -type d -name 'busybox-*' | head -n1)

BUILD="$OUT/build"
rm -rf "$BUILD"
mkdir -p "$BUILD"
start=$(date +%s)
MAKE=(make -C "$BBSRC" O="$BUILD" CROSS_COMPILE="$CROSS" -j"${JOBS:-$(nproc)}")
"${MAKE[@]}" defconfig >&2
# Static, and without applets that do not build against current glibc / kernel headers.
sed -i -e 's/^# CONFIG_STATIC is not set$/CONFIG_STATIC=y/' \
  -e 's/^CONFIG_TC=y$/# CONFIG_TC is not set/' "$BUILD/.config"
"${MAKE[@]}" oldconfig </dev/null >&2
log "building busybox"
nice -n 19 "${MAKE[@]}" busybox >&2
cp "$BUILD/busybox" "$OUT/busybox"

ROOTFS="$BUILD/rootfs"
mkdir -p "$ROOTFS"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,etc}
cp "$OUT/busybox" "$ROOTFS/bin/busybox"
cat > "$ROOTFS/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "polyvm initramfs: $(uname -srm)"
setsid cttyhack sh
poweroff -f
INIT
chmod 755 "$ROOTFS/init"

PYTHONPATH="$ROOT" python3 -m polyvm.devtools.newc_cpio "$ROOTFS" "$OUT/initramfs.cpio.gz"
rm -rf "$BUILD"
log "built in $(( $(date +%s) - start )) s"
echo "$OUT"
