#!/usr/bin/env bash
# The third-party front-end code the build embeds or the tests drive, from
# the npm registry at the versions their lockfiles pin (npm ci checks each
# package's sha512): uPlot for the dashboard's charts, playwright-core for
# the browser tests. Run by scripts/standalone.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
for dir in "$@"; do
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
