#!/usr/bin/env bash
# Fetch Debian 12's amd64 kernel package (linux-image-<abi>-amd64-unsigned) with apt-get download,
# unpack it (never install it) and extract the uncompressed ELF for QEMU's PVH boot.
# Cached in $DPSCOPE_VM_CACHE (default /var/cache/dpscope-vm); prints the ELF's path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${DPSCOPE_VM_CACHE:-/var/cache/dpscope-vm}"
mkdir -p "$cache"
if [ -s "$cache/vmlinux" ]; then echo "$cache/vmlinux"; exit 0; fi
abi_pkg="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
if [ -z "$abi_pkg" ]; then
  apt-get update -qq >&2
  abi_pkg="$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
fi
[ -n "$abi_pkg" ] || { echo "vm-kernel: cannot resolve the kernel ABI package" >&2; exit 1; }
pkg="${abi_pkg}-unsigned"
cd "$cache"
rm -rf unpack && mkdir unpack
ls ./"${pkg}"_*.deb >/dev/null 2>&1 || apt-get download "$pkg" >&2
dpkg-deb --fsys-tarfile ./"${pkg}"_*.deb | tar -x -C unpack --wildcards './boot/vmlinuz-*'
python3 "$here/extract-vmlinux.py" unpack/boot/vmlinuz-* vmlinux.tmp
mv vmlinux.tmp vmlinux
rm -rf unpack
echo "$cache/vmlinux"
