#!/usr/bin/env bash
# The main job on a fresh Debian machine: installs nats-server if missing,
# the dashboard's chart library (npm, pinned), builds the binary (the test command's profile), and runs `showrunner standalone` (local NATS,
# a simulated audience on first run, ingest into the Parquet lake, HTTP on
# 127.0.0.1:8080). Extra arguments go to `showrunner standalone`.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/showrunner-target}"
if ! command -v nats-server >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nats-server
fi
if ! command -v npm >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs npm
fi
# The build profile the test command uses (`dev`: dependencies optimised,
# no debug info in them), so that after `./scripts/test.sh` the binary is
# already built; SHOWRUNNER_PROFILE=release builds the fully optimised one
# (much longer to build; what the benchmarks use).
profile="${SHOWRUNNER_PROFILE:-dev}"
# the dashboard embeds its chart library, from npm at a pinned version
scripts/assets.sh dashboard/assets
cargo build --locked --profile "$profile" --bin showrunner
dir="$profile"
[ "$profile" = dev ] && dir=debug
exec "$CARGO_TARGET_DIR/$dir/showrunner" standalone "$@"
