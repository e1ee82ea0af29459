"""Execute the notebooks top to bottom.

    python run.py [--out DIR] [NOTEBOOK ...]   execute (all by default); the
                                              executed copies go to DIR

Executing needs SR_LAKE (and the server at SR_URL, with its
keys: see README.md). Any exception or failed assertion in a cell fails the
run; the last line printed is a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent


def notebooks() -> list[Path]:
    return sorted(HERE.glob("*.ipynb"))


def execute(path: Path, out: Path, timeout: int) -> dict:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}
    )
    started = time.monotonic()
    error = None
    try:
        client.execute()
    except CellExecutionError as e:
        error = str(e)
    finally:
        out.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out / path.name)
    return {
        "notebook": path.name,
        "ok": error is None,
        "seconds": round(time.monotonic() - started, 1),
        "cells": len(nb.cells),
        "executed": str(out / path.name),
        **({"error": error} if error else {}),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=HERE.parent / "artefacts" / "notebooks")
    p.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    p.add_argument("names", nargs="*")
    args = p.parse_args()

    found = notebooks()
    if not found:
        print(f"no notebook in {HERE}", file=sys.stderr)
        return 1
    chosen = [HERE / n for n in args.names] if args.names else found
    results = []
    for path in chosen:
        r = execute(path, args.out, args.timeout)
        results.append(r)
        print(json.dumps(r), flush=True)
        if not r["ok"]:
            print(r["error"], file=sys.stderr)
    print(json.dumps({"notebooks": len(results), "failed": sum(not r["ok"] for r in results)}))
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
