#!/usr/bin/env bash
# Fetches Debian's amd64 Linux kernel and builds a busybox-static initramfs for the x86-64 microvm board
# (ExecMode.ACCELERATED). Nothing is compiled: both come from Debian packages fetched with
# `apt-get download` and unpacked with `dpkg-deb -x`; only /init is ours.
#
#   kernel:    the package linux-image-amd64 depends on (linux-image-6.1.0-NN-amd64), its
#              /boot/vmlinuz-* (a bzImage) copied to <cache>/debian-amd64/kernel-<version>/bzImage
#   initramfs: busybox-static's /bin/busybox, the virtio modules of that kernel (Debian builds
#              virtio_mmio, virtio_blk and virtio_net as modules) with the modules they depend on
#              (polyvm/devtools/kernel_modules.py reads their .modinfo, as depmod does; decompressed)
#              and an /init that mounts proc, sysfs and devtmpfs, loads the modules in dependency
#              order with insmod (a virtio-mmio disk announced by ACPI becomes /dev/vda), runs a
#              shell on the console and powers the VM off with `poweroff -f` when the shell exits
#              (Linux enters ACPI S5 through the FADT's sleep control register, which ends the run).
#              The shell's `poweroff` and `halt` signal /init (PID 1), which does the same; its
#              `reboot` makes /init run `reboot -f` (reboot=k: an i8042 reset, which also ends the
#              run). Written to <cache>/debian-amd64/initramfs-<key>/initramfs.cpio.gz
#
# Both are keyed by the Debian package versions (and this script), so a second run only prints the
# paths. Usage: scripts/fetch_debian_amd64.sh   (prints "kernel DIR" and "initramfs DIR" on stdout)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SELF="$ROOT/scripts/fetch_debian_amd64.sh"
MODULES=(virtio_mmio virtio_blk virtio_net)

log() { echo "fetch_debian_amd64: $*" >&2; }
cache() { PYTHONPATH="$ROOT" python3 -c 'import sys
from polyvm.devtools.cache import cache_dir
print(cache_dir(*sys.argv[1:]))' "$@"; }
candidate() { apt-cache policy "$1" | sed -n 's/^ *Candidate: //p'; }

if [ -z "$(candidate linux-image-amd64)" ]; then
  log "apt knows no linux-image-amd64; running apt-get update"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
fi
KPKG=$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)
[ -n "$KPKG" ] || { log "cannot find the kernel package linux-image-amd64 depends on"; exit 1; }
KVER=$(candidate "$KPKG")
BBVER=$(candidate busybox-static)
[ -n "$KVER" ] && [ -n "$BBVER" ] || { log "no candidate version for $KPKG or busybox-static"; exit 1; }

KDIR=$(cache debian-amd64 "kernel-${KPKG}_${KVER//:/_}")
if [ ! -f "$KDIR/bzImage" ]; then
  log "downloading $KPKG $KVER"
  rm -rf "$KDIR"/*
  (cd "$KDIR" && apt-get download -qq "$KPKG=$KVER" 2>&1 | { grep -v unsandboxed || true; } >&2)
  dpkg-deb -x "$KDIR"/*.deb "$KDIR/root"
  cp "$KDIR"/root/boot/vmlinuz-* "$KDIR/bzImage.tmp"
  cp "$KDIR"/root/boot/config-* "$KDIR/config"
  rm "$KDIR"/*.deb
  mv "$KDIR/bzImage.tmp" "$KDIR/bzImage"
fi

KEY=$(PYTHONPATH="$ROOT" python3 -c '
import sys
from pathlib import Path
from polyvm.devtools.cache import content_key
print(content_key(*(Path(p).read_bytes() for p in sys.argv[1:4]), *sys.argv[4:]))' \
  "$SELF" "$ROOT/polyvm/devtools/kernel_modules.py" "$ROOT/polyvm/devtools/newc_cpio.py" \
  "$KPKG" "$KVER" "$BBVER")
IDIR=$(cache debian-amd64 "initramfs-$KEY")
if [ ! -f "$IDIR/initramfs.cpio.gz" ]; then
  log "downloading busybox-static $BBVER"
  rm -rf "${IDIR:?}"/*
  (cd "$IDIR" && apt-get download -qq "busybox-static=$BBVER" 2>&1 | { grep -v unsandboxed || true; } >&2)
  dpkg-deb -x "$IDIR"/busybox-static_*.deb "$IDIR/pkg"
  ROOTFS="$IDIR/rootfs"
  mkdir -p "$ROOTFS"/{bin,sbin,proc,sys,dev,tmp,root,etc}
  cp "$IDIR/pkg/bin/busybox" "$ROOTFS/bin/busybox"
  KMODS=("$KDIR"/root/lib/modules/*)
  PYTHONPATH="$ROOT" python3 -m polyvm.devtools.kernel_modules "${KMODS[0]}" "$ROOTFS/modules" "${MODULES[@]}"
  # busybox's poweroff, reboot and halt signal PID 1 (USR2, TERM, USR1): /init answers them with
  # `poweroff -f` (halt too: a halted VM only waits for its timeout) or `reboot -f`, so it waits for
  # the shell with `wait`, which a trapped signal interrupts.
  cat > "$ROOTFS/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for module in $(cat /modules/order); do
  insmod /modules/$module.ko
done
echo "polyvm initramfs: $(uname -srm), modules:" $(cat /modules/order)
trap 'poweroff -f' USR1 USR2
trap 'reboot -f' TERM
setsid cttyhack sh &
wait
poweroff -f
INIT
  chmod 755 "$ROOTFS/init"
  PYTHONPATH="$ROOT" python3 -m polyvm.devtools.newc_cpio "$ROOTFS" "$IDIR/initramfs.cpio.gz.tmp"
  rm -rf "$IDIR/pkg" "$ROOTFS" "$IDIR"/*.deb
  mv "$IDIR/initramfs.cpio.gz.tmp" "$IDIR/initramfs.cpio.gz"
fi
echo "kernel $KDIR"
echo "initramfs $IDIR"
