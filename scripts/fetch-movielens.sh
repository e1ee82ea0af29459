#!/usr/bin/env bash
# MovieLens-100K as RecBole ships it (recbole==1.2.1 wheel, PyPI), cached
# outside the clone; prints the path of ml-100k.inter. Never commit the data:
# its licence forbids redistribution.
set -euo pipefail
cache="${SHOWRUNNER_DATA_CACHE:-$HOME/.cache/showrunner-data}"
out="$cache/ml-100k.inter"
if [ ! -s "$out" ]; then
  mkdir -p "$cache"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --no-deps --dest "$tmp" recbole==1.2.1 >&2
  python3 - "$tmp" "$out" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/recbole-1.2.1-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    data = z.read("recbole/dataset_example/ml-100k/ml-100k.inter")
with open(sys.argv[2] + ".part", "wb") as f:
    f.write(data)
PY
  mv "$out.part" "$out"
fi
echo "$out"
