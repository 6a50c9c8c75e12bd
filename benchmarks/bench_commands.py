"""Cold start of the commands against the time to import pandas, pyarrow and lightgbm.

Usage (after a ``relapse train`` into ``--root``; see benchmarks/README.md)::

    .venv/bin/python benchmarks/bench_commands.py --root /tmp/relapse-bench --repeat 3

Every figure is a fresh process (``python -m relapse.cli <command>`` with the paths of
``--root``): ``imports`` is ``python -c "import pandas, pyarrow, lightgbm"``, the reference of
the batch job's target (cold ``relapse score`` ≤ 2× it); then ``score``, ``report`` and
``explain``. One untimed warm-up run of each command fills the panel cache and the OS file
cache first (``--commands`` picks which of them to time). Prints the median and minimum wall
time of each and the 1-minute load average read before it (the machine is shared); asserts
nothing. ``--importtime`` also prints the ten
slowest top-level imports of ``relapse score`` (``python -X importtime``; the MLflow worker
process inherits the flag, so its ``mlflow``/``sqlalchemy`` imports are listed too).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def paths(root: Path) -> list[str]:
    """The overrides that point every command at ``root``."""
    return [
        f"paths.processed_dir={root / 'processed'}",
        f"paths.output_dir={root / 'outputs'}",
        f"paths.reports_dir={root / 'reports'}",
        f"paths.scores_dir={root / 'scores'}",
        f"mlflow.embedded_store={root / 'mlflow.db'}",
        f"mlflow.artifact_root={root / 'mlartifacts'}",
    ]


def timed(command: list[str], cwd: Path) -> float:
    """Wall seconds of one fresh process; raises if it fails."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{command[3:5]} failed ({done.returncode}): {done.stderr[-1500:]}")
    return seconds


def slowest_imports(command: list[str], cwd: Path, n: int = 10) -> list[tuple[float, str]]:
    """The ``n`` top-level imports of ``command`` with the largest cumulative time (s)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        if not name.startswith("  ") and cumulative.strip().isdigit():
            rows.append((int(cumulative) / 1e6, name.strip()))
    return sorted(rows, reverse=True)[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True, help="where relapse train wrote")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--importtime", action="store_true")
    parser.add_argument(
        "--commands",
        nargs="+",
        choices=("score", "report", "explain"),
        default=["score", "report", "explain"],
        help="which commands to time besides the imports (default: all three)",
    )
    parser.add_argument("overrides", nargs="*", help="extra overrides for every command")
    args = parser.parse_args()
    root = args.root.resolve()
    extra = [*paths(root), *args.overrides]
    commands = {
        "imports": [sys.executable, "-c", "import pandas, pyarrow, lightgbm"],
        **{name: [sys.executable, "-m", "relapse.cli", name, *extra] for name in args.commands},
    }
    results = {}
    for name, command in commands.items():
        timed(command, root)  # warm-up
        load = os.getloadavg()[0]
        times = [timed(command, root) for _ in range(args.repeat)]
        results[name] = statistics.median(times)
        print(
            f"{name:8s} median {statistics.median(times):6.2f} s  min {min(times):6.2f} s  "
            f"(n={args.repeat}, load {load:.2f})"
        )
    if "score" in results:
        print(f"score / imports = {results['score'] / results['imports']:.2f}")
    if args.importtime and "score" in commands:
        for seconds, module in slowest_imports(commands["score"], root):
            print(f"  {seconds:6.3f} s  {module}")


if __name__ == "__main__":
    main()
