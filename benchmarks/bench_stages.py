"""Wall time and peak memory of each pipeline stage on the real snapshot, one process each.

Usage (from the repository, ``RELAPSE_DATA_DIR`` set)::

    RELAPSE_DATA_DIR=/work/shared/data .venv/bin/python benchmarks/bench_stages.py \\
        [--repeat 1] [--csv benchmarks/results/stages.csv] [-- hydra overrides]

Stages, in order, each a fresh ``relapse`` CLI process (start to exit, so imports count):

``build``    ``relapse build`` with an empty ``paths.processed_dir`` (a full build);
``train``    ``relapse train report.on_train=false`` (3 horizons, default origins and
             bootstrap; the panel cache from ``build`` is hit);
``explain``  ``relapse explain`` (TreeSHAP on every post-conflict row, every horizon);
``report``   ``relapse report`` (the analyst HTML report of the champions);
``score``    ``relapse score`` (the batch job, cold: a new process, warm panel cache).

Every output (panel, MLflow SQLite store and artifacts, reports, scores) goes to a temporary
directory that is deleted afterwards; ``MLFLOW_TRACKING_URI`` is removed from the children's
environment so the embedded store in the temporary directory is used. Peak memory is the
child's own ``ru_maxrss`` (``os.wait4``), not tracemalloc. The 1-minute load average is read
just before each stage (the machine is shared). Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIELDS = ("stage", "rows", "wall_s", "peak_mb", "throughput", "threads", "load_avg", "command")


def run_child(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and stderr tail of one child process (raises on failure)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    # wait4 gives this child's own rusage (RUSAGE_CHILDREN would be the max over all).
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    if code:
        raise RuntimeError(f"{' '.join(cmd)} exited {code}:\n{err[-2000:]}")
    tail = (out.strip().splitlines() or [""])[-1]
    return wall, usage.ru_maxrss / 1024, tail


def panel_counts(processed: Path) -> tuple[int, int]:
    """(country-years, post-conflict rows) of the built panel."""
    import pandas as pd

    panel = pd.read_parquet(processed / "panel.parquet", columns=["in_population"])
    return len(panel), int(panel["in_population"].sum())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each stage (min kept)")
    parser.add_argument("--csv", type=Path, default=None, help="write the table here")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    relapse = str(Path(sys.executable).with_name("relapse"))
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    tmp = Path(tempfile.mkdtemp(prefix="bench_stages_"))
    threads = "1"
    for o in args.overrides:
        if o.startswith("model.params.num_threads="):
            threads = o.split("=", 1)[1]
    rows_out = []
    try:
        common = [
            f"paths.processed_dir={tmp / 'processed'}",
            f"paths.models_dir={tmp / 'models'}",
            f"paths.reports_dir={tmp / 'reports'}",
            f"paths.scores_dir={tmp / 'scores'}",
            f"paths.output_dir={tmp / 'outputs'}",
            f"mlflow.embedded_store={tmp / 'mlflow.db'}",
            f"mlflow.artifact_root={tmp / 'mlartifacts'}",
            *args.overrides,
        ]
        stages = [
            ("build", ["build"]),
            ("train", ["train", "report.on_train=false"]),
            ("explain", ["explain"]),
            ("report", ["report"]),
            ("score", ["score"]),
        ]
        n_rows = n_pop = 0
        for stage, sub in stages:
            best = None
            for _ in range(args.repeat):
                if stage == "build":
                    shutil.rmtree(tmp / "processed", ignore_errors=True)
                load = os.getloadavg()[0]
                wall, peak, last = run_child([relapse, *sub, *common], env)
                if best is None or wall < best[0]:
                    best = (wall, peak, load, last)
            assert best is not None
            if stage == "build":
                n_rows, n_pop = panel_counts(tmp / "processed")
            rows = {
                "build": n_rows,
                "train": n_pop,
                "explain": n_pop * 3,
                "report": n_pop,
                "score": n_pop,
            }[stage]
            wall, peak, load, last = best
            rows_out.append(
                {
                    "stage": stage,
                    "rows": rows,
                    "wall_s": round(wall, 2),
                    "peak_mb": round(peak),
                    "throughput": round(rows / wall) if stage in ("build", "explain") else "",
                    "threads": threads if stage == "train" else "",
                    "load_avg": round(load, 2),
                    "command": f"relapse {' '.join(sub)} {' '.join(args.overrides)}".strip(),
                }
            )
            print(
                f"{stage:<8s} {wall:7.2f} s  {peak:6.0f} MB  load {load:4.2f}  | {last[:100]}",
                flush=True,
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\npanel: {n_rows:,} country-years, {n_pop:,} post-conflict; cores {os.cpu_count()}")
    print(f"{'stage':<8s} {'rows':>8s} {'wall_s':>8s} {'peak_mb':>8s} {'rows/s':>9s} load")
    for r in rows_out:
        print(
            f"{r['stage']:<8s} {r['rows']:>8,} {r['wall_s']:>8.2f} {r['peak_mb']:>8} "
            f"{r['throughput']!s:>9s} {r['load_avg']}"
        )
    if args.csv:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        with args.csv.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=FIELDS)
            writer.writeheader()
            writer.writerows(rows_out)
        print(f"wrote {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
