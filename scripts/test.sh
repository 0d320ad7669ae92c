#!/usr/bin/env bash
# Set up the node and run the whole test suite: format, lints, unit, view, real-kernel and
# end-to-end tests. Privileged tests need root; with DPSCOPE_REQUIRE_PRIV=1 (as CI sets) a test
# that cannot get its privileges fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy"
cargo clippy --locked --all-targets --quiet -- -D warnings
echo "== cargo test"
cargo test --locked --lib --bins --tests --examples -- --test-threads=2
