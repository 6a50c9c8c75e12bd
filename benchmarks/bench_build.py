"""Time ``relapse build`` on the snapshot: a fresh build and a cached call, with peak memory.

Usage (from the repository, ``RELAPSE_DATA_DIR`` set)::

    .venv/bin/python benchmarks/bench_build.py [--repeat 3] [-- hydra overrides]

Each measurement is a fresh ``relapse build`` process (process start to exit, so it includes
imports), writing to a temporary ``paths.processed_dir``: first with an empty cache (a full
build), then again with the same inputs (the content-hash cache hit). Peak memory is the
largest child's ``ru_maxrss``. Prints figures; asserts nothing (targets: < 30 s fresh,
< 3 s cached, on 2 cores).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(overrides: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [str(REPO / ".venv" / "bin" / "relapse"), "build", *overrides],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    fresh, cached = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            overrides = [f"paths.processed_dir={tmp}", *args.overrides]
            fresh.append(run(overrides))
            cached.append(run(overrides))
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"relapse build, fresh : median {statistics.median(fresh):.2f} s "
        f"(min {min(fresh):.2f}, max {max(fresh):.2f}, n={len(fresh)})"
    )
    print(
        f"relapse build, cached: median {statistics.median(cached):.2f} s "
        f"(min {min(cached):.2f}, max {max(cached):.2f}, n={len(cached)})"
    )
    print(f"peak memory of one build process: {peak_mb:.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
