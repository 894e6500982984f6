"""Every benchmark, one after the other (``make bench``). Each prints its own table, measured
against a baseline in the same run. ``--quick`` runs small sizes for a smoke test."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

FULL = {
    "check": [],
    "score": [],
    "optimise": [],
    "storage": [],
    "service": [],
    "simulate": [],
}
QUICK = {
    "check": ["--sizes", "1000"],
    "score": ["--employees", "50000", "--departments", "100"],
    "optimise": ["--quick"],
    "storage": ["--rows", "50000", "--no-postgres"],
    "service": ["--seconds", "3"],
    "simulate": ["--draws", "1000"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", help="comma-separated: " + ",".join(FULL))
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    chosen = args.only.split(",") if args.only else list(plan)
    failed = []
    for name in chosen:
        print(f"\n===== benchmarks/{name}.py {' '.join(plan[name])}", flush=True)
        code = subprocess.call([sys.executable, str(HERE / f"{name}.py"), *plan[name]])
        if code != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
