#!/usr/bin/env bash
# Set up the node (packages, bpffs), build dpscope in release mode and run it live.
# Arguments are passed to dpscope, e.g. `scripts/run.sh show programs`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --locked --quiet
exec ./target/release/dpscope "$@"
