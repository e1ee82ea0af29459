#!/usr/bin/env bash
# The notebooks' Python environment: a venv outside the clone
# ($NOTEBOOK_VENV, default ~/.cache/showrunner-notebooks) with
# notebooks/requirements.txt installed from PyPI (every package pinned).
# Reinstalled only when the requirements change. Run by scripts/test.sh;
# prints the venv's python.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${NOTEBOOK_VENV:-$HOME/.cache/showrunner-notebooks}"
stamp="$venv/.requirements.sha256"
want="$(sha256sum notebooks/requirements.txt | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv
  fi
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r notebooks/requirements.txt >&2
  echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
