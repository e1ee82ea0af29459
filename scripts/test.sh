#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine: installs what the tests
# need (nats-server), then cargo fmt --check, clippy -D warnings, and every
# test. The Cargo target directory lives outside the clone so reruns are
# incremental.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/showrunner-target}"

install() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"
}
command -v nats-server >/dev/null 2>&1 || install nats-server
cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
cargo clippy --version >/dev/null 2>&1 || rustup component add clippy

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --all-targets --locked
