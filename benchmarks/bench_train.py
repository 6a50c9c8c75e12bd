"""Time ``relapse train`` on the full snapshot (3 horizons, default origins) and print it.

Usage (from the repository root)::

    RELAPSE_DATA_DIR=/path/to/snapshot python benchmarks/bench_train.py [override ...]

The MLflow store goes to a temporary directory, so the project's registry is untouched.
Not a test: the figure is printed, never asserted.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    from relapse.config import compose_config
    from relapse.train import train

    with tempfile.TemporaryDirectory() as tmp:
        overrides = [
            f"mlflow.embedded_store={Path(tmp) / 'mlflow.db'}",
            f"mlflow.artifact_root={Path(tmp) / 'mlartifacts'}",
            f"paths.processed_dir={Path(tmp) / 'processed'}",
            *argv,
        ]
        cfg = compose_config(overrides)
        start, cpu = time.perf_counter(), time.process_time()
        result = train(cfg)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    folds = len(result.folds)
    print(
        f"relapse train: {seconds:.1f} s wall ({cpu:.1f} s CPU in this process) for "
        f"{len(cfg.target.horizons)} horizons, "
        f"{folds} backtest folds, {cfg.split.bootstrap_samples} bootstrap samples "
        f"(panel built from scratch; overrides: {' '.join(argv) or 'none'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
