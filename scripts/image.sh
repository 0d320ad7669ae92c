#!/usr/bin/env bash
# Build the dpscope OCI image with buildah: from scratch (no base image is pulled), holding only
# the static dpscope binary. Needs root (or a buildah set up for rootless use) and buildah.
#
#   scripts/image.sh [--tag NAME:TAG] [--binary PATH] [--debug]
#
# --tag      image name (default localhost/dpscope:<version from Cargo.toml>)
# --binary   use this static dpscope instead of building one
# --debug    build the binary without --release (faster to build, slower to run; for tests)
#
# Prints the image name on stdout. Push it with `buildah push NAME docker://REGISTRY/dpscope:TAG`
# (or `podman push`), then point deploy/daemonset.yaml at it (README: "Running in Kubernetes").
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)"
tag="localhost/dpscope:$version"
bin=""
profile=release
while (($#)); do
  case $1 in
    --tag) tag=$2; shift 2 ;;
    --binary) bin=$2; shift 2 ;;
    --debug) profile=debug; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "image.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v buildah >/dev/null || { echo "image.sh: buildah not installed (scripts/setup.sh installs it)" >&2; exit 1; }

if [ -z "$bin" ]; then
  # A fully static binary (libbpf, libelf, zlib and libc linked in), as scripts/vm-lsm-test.sh
  # builds it for the QEMU guest; it shares that target directory (and its compiled deps).
  flags=(--locked --features static --target x86_64-unknown-linux-gnu --target-dir target/vmtest --bin dpscope)
  [ "$profile" = release ] && flags+=(--release)
  (cd "$root" && LIBBPF_SYS_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu \
     RUSTFLAGS="-C target-feature=+crt-static" CARGO_PROFILE_DEV_DEBUG=0 \
     cargo build --quiet "${flags[@]}" >&2)
  bin="$root/target/vmtest/x86_64-unknown-linux-gnu/$profile/dpscope"
fi
if file -L "$bin" 2>/dev/null | grep -q 'dynamically linked'; then
  echo "image.sh: $bin is dynamically linked; the image has no libc (use a static build)" >&2
  exit 1
fi

work="$(mktemp -d /tmp/dpscope-image-XXXXXX)"
ctr=""
cleanup() {
  [ -n "$ctr" ] && buildah rm "$ctr" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
cp "$bin" "$work/dpscope"
strip "$work/dpscope" 2>/dev/null || true
chmod 0755 "$work/dpscope"

ctr="$(buildah from scratch)"
buildah copy "$ctr" "$work/dpscope" /usr/local/bin/dpscope >/dev/null
buildah config \
  --entrypoint '["/usr/local/bin/dpscope"]' \
  --cmd '' \
  --env PATH=/usr/local/bin \
  --env TERM=xterm-256color \
  --label org.opencontainers.image.title=dpscope \
  --label org.opencontainers.image.description="Live explorer of a Linux node's eBPF datapath" \
  --label org.opencontainers.image.version="$version" \
  --label org.opencontainers.image.licenses=Apache-2.0 \
  "$ctr"
buildah commit --quiet --format oci "$ctr" "$tag" >/dev/null
echo "$tag"
