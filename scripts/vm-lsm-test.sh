#!/usr/bin/env bash
# BPF LSM denials for real, in QEMU (the host refuses lsm/* programs): boot Debian 12's kernel
# with lsm=...,bpf and a busybox initramfs carrying a static dpscope (feature `vmtest`), load the
# test denier (tests/bpf/lsm_deny.bpf.c: connect to :4242 and exec of /tmp/denied-exec), trigger
# both, and print `dpscope show denials --json` between markers on the serial console.
# Usage: vm-lsm-test.sh [STATIC_DPSCOPE]   (builds it when not given). Output: serial log.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-}"
if [ -z "$bin" ]; then
  (cd "$root" && LIBBPF_SYS_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu \
     RUSTFLAGS="-C target-feature=+crt-static" CARGO_PROFILE_DEV_DEBUG=0 \
     cargo build --quiet --locked --features vmtest --target x86_64-unknown-linux-gnu \
       --target-dir target/vmtest --bin dpscope >&2)
  bin="$root/target/vmtest/x86_64-unknown-linux-gnu/debug/dpscope"
fi
kernel="$(bash "$root/scripts/vm-kernel.sh")"
busybox="$(command -v busybox)"
work="$(mktemp -d /tmp/dpscope-vm-XXXXXX)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/rd/{bin,sbin,dev,proc,sys,tmp,etc}
cp "$busybox" "$work/rd/bin/busybox"
for a in sh mount mkdir cat sleep ip nc cp ls touch poweroff echo; do ln -s busybox "$work/rd/bin/$a"; done
cp "$bin" "$work/rd/bin/dpscope"
strip "$work/rd/bin/dpscope" 2>/dev/null || true
mknod -m 600 "$work/rd/dev/console" c 5 1
cat > "$work/rd/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t securityfs securityfs /sys/kernel/security
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
ip link set lo up
echo
echo "VM-LSM: $(cat /sys/kernel/security/lsm)"
cp /bin/busybox /tmp/denied-exec
dpscope vmtest-deny 60 > /tmp/deny.log 2>&1 &
i=0; while ! grep -q DENY-READY /tmp/deny.log && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
cat /tmp/deny.log
# Trigger while dpscope observes (its probe attaches after the denier, so it sees its verdicts).
( while [ ! -e /tmp/done ]; do
    nc 127.0.0.1 4242 </dev/null >/dev/null 2>&1
    /tmp/denied-exec true 2>/dev/null
    sleep 0.2
  done ) &
# The syscall-exit fallback on the same (older) kernel, at the same time: it sees the same
# refusals as EPERM at connect()/execve() exit.
dpscope --probe syscall_denials snapshot --duration 3 -o /tmp/snap-sys.json 2>/tmp/dpscope-sys.err &
sys_pid=$!
DPSCOPE_LIBBPF_LOG=1 dpscope --probe lsm snapshot --duration 3 -o /tmp/snap.json 2>/tmp/dpscope.err
echo "DPSCOPE-RC $?"
wait $sys_pid
echo "DPSCOPE-SYS-RC $?"
touch /tmp/done
sleep 0.3
dpscope show denials --json --from /tmp/snap.json > /tmp/denials.json
echo "DENIALS-BEGIN"; cat /tmp/denials.json; echo "DENIALS-END"
echo "NODE-BEGIN"; dpscope show node --json --from /tmp/snap.json; echo "NODE-END"
echo "SYS-DENIALS-BEGIN"; dpscope show denials --json --from /tmp/snap-sys.json; echo "SYS-DENIALS-END"
grep -B30 -m3 'failed to load\|-- END PROG LOAD LOG' /tmp/dpscope.err | tail -60
cat /tmp/deny.log
echo "VM-DONE"
poweroff -f
INIT
chmod +x "$work/rd/init"
(cd "$work/rd" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1 > "$work/initrd.gz")
accel="tcg,thread=multi"; cpu="max"
if [ -e /sys/module/kvm_intel ] || [ -e /sys/module/kvm_amd ]; then
  [ -e /sys/module/kvm_pvm ] || { accel="kvm"; cpu="host"; }
fi
timeout 120 qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -m 512 -smp 2 \
  -kernel "$kernel" -initrd "$work/initrd.gz" \
  -append "console=ttyS0 quiet loglevel=3 lsm=lockdown,capability,landlock,yama,bpf panic=-1" \
  -nographic -no-reboot -nodefaults -serial stdio -monitor none | tr -d '\r'
