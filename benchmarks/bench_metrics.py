"""Backtest metrics: scikit-learn per call against the weighted fast path of the bootstrap.

Usage (from the repository)::

    .venv/bin/python benchmarks/bench_metrics.py                      # synthetic predictions
    .venv/bin/python benchmarks/bench_metrics.py --predictions PATH   # a run's
        # backtest_predictions.parquet (MLflow artifact), e.g. the snapshot's champion

``relapse.evaluate.evaluate`` and ``compare`` score 500 country-block resamples per horizon
(ROC-AUC and AP for three models; ROC-AUC, AP, Brier and ECE for model and baseline). Per
metric this times, on the rows of the first horizon: one scikit-learn call on a resample (what
a loop over the resamples costs per resample) and the fast path for all resamples at once
(:func:`relapse.evaluate.bootstrap_draws`), divided by the resamples. Then the whole
``evaluate`` + ``compare`` as ``relapse train`` runs them, and what the scikit-learn loop would
cost for the same number of metric calls. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from relapse.evaluate import BOOTSTRAPPED, COMPARED, Resamples, bootstrap_draws, compare, evaluate

SKLEARN: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "roc_auc": roc_auc_score,
    "average_precision": average_precision_score,
    "brier": brier_score_loss,
}


def synthetic(n_per_horizon: int = 450, seed: int = 0) -> pd.DataFrame:
    """Predictions shaped like the snapshot's backtest: ~450 rows per horizon, 60 countries."""
    rng = np.random.default_rng(seed)

    def forecast(rate: float, lift: float, y: np.ndarray) -> np.ndarray:
        return np.round(np.clip(rate + lift * y + rng.normal(0, 0.05, len(y)), 0, 1), 4)

    parts = []
    for h, rate in ((1, 0.05), (2, 0.09), (5, 0.18)):
        y = (rng.random(n_per_horizon) < rate).astype(int)
        parts.append(
            pd.DataFrame(
                {
                    "gwno": rng.integers(0, 60, n_per_horizon),
                    "horizon": h,
                    "y_true": y,
                    "p_model": forecast(rate, 0.2, y),
                    "p_history": forecast(rate, 0.1, y),
                    "p_climatology": rate,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def seconds(fn: Callable[[], object], repeat: int) -> float:
    """Best of ``repeat`` wall times of ``fn()``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--predictions", type=Path, help="backtest_predictions.parquet")
    parser.add_argument("--samples", type=int, default=500)
    args = parser.parse_args()
    pred = pd.read_parquet(args.predictions) if args.predictions else synthetic()
    first = pred.loc[pred["horizon"] == pred["horizon"].min()]
    y = first["y_true"].to_numpy(dtype="float64")
    p = first["p_model"].to_numpy(dtype="float64")
    samples = Resamples.draw(first["gwno"].to_numpy(), args.samples, seed=0)
    one = samples.indices[0]
    print(f"load average {os.getloadavg()[0]:.2f}; {len(first)} rows, {args.samples} resamples")
    per_call: dict[str, float] = {}
    for metric, reference in SKLEARN.items():
        per_call[metric] = seconds(lambda r=reference: r(y[one], p[one]), 50)
        fast = seconds(lambda m=metric: bootstrap_draws(m, y, p, samples), 5) / args.samples
        print(
            f"{metric:>17}: scikit-learn {per_call[metric] * 1e6:8.0f} µs/resample, "
            f"fast path {fast * 1e6:6.1f} µs/resample ({per_call[metric] / fast:5.0f}×)"
        )
    ece = seconds(lambda: bootstrap_draws("ece", y, p, samples), 3) / args.samples
    print(f"{'ece':>17}: {ece * 1e6:8.0f} µs/resample (one resample at a time)")
    whole = seconds(
        lambda: (
            evaluate(pred, bootstrap_samples=args.samples),
            compare(pred, bootstrap_samples=args.samples),
        ),
        1,
    )
    horizons = pred["horizon"].nunique()
    calls = {m: 3 * (m in BOOTSTRAPPED) + 2 * (m in COMPARED) for m in SKLEARN}
    loop = sum(calls[m] * per_call[m] for m in SKLEARN) * args.samples * horizons
    print(
        f"evaluate + compare ({horizons} horizons): {whole:.2f} s; the same resamples scored "
        f"by scikit-learn one call each would add ~{loop:.0f} s"
    )


if __name__ == "__main__":
    main()
