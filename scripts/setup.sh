#!/usr/bin/env bash
# One-time node set-up for building, running and testing dpscope on Debian/Ubuntu as root.
# Idempotent: installs only what is missing, mounts bpffs only if absent.
set -euo pipefail

need_pkgs=(ca-certificates gcc libc6-dev make pkg-config libelf-dev zlib1g-dev clang
           iproute2 iptables iputils-ping tmux bpftool procps time
           qemu-system-x86 busybox-static python3 cpio
           buildah podman runc)
missing=()
for p in "${need_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "setup: no Rust toolchain found (install rustup/cargo first)" >&2
    exit 1
  fi
fi

# bpffs: dpscope reads pinned objects from it; mount it if the node has none.
if ! mount | grep -q ' /sys/fs/bpf type bpf'; then
  mkdir -p /sys/fs/bpf
  mount -t bpf bpf /sys/fs/bpf
fi
# tracefs/debugfs are not needed: probes use tracepoints through perf/bpf links.

# securityfs: where the kernel lists its active LSMs (/sys/kernel/security/lsm). Standard on
# every distribution; some minimal VMs boot without it.
if [ -d /sys/kernel/security ] && [ ! -e /sys/kernel/security/lsm ]; then
  mount -t securityfs securityfs /sys/kernel/security 2>/dev/null || true
fi

# tracefs: tracepoint ids for BPF tracepoint programs (the demo and dpscope's probes use them).
if [ -d /sys/kernel/tracing ] && [ ! -e /sys/kernel/tracing/events ]; then
  mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true
fi

# The BPF LSM test boots Debian 12's kernel under QEMU (the host refuses lsm/* programs): fetch
# and unpack it once into the cache (never installed on the host).
bash "$(dirname "$0")/vm-kernel.sh" >/dev/null ||
  echo "setup: warning: could not fetch the QEMU test kernel; tests/vm_lsm.rs will fail" >&2
