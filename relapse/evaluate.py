"""Backtest metrics per horizon, pooled over origins, with country-block bootstrap intervals.

Every metric is computed on the pooled out-of-sample predictions of the rolling-origin
backtest (:mod:`relapse.backtest`), for the model and both baselines on the same rows.
Intervals resample *countries* (all of a country's rows together), because rows of one
country are strongly dependent; the same resamples are used for every model, so intervals
are comparable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.metrics import log_loss as _log_loss_score

MODELS: dict[str, str] = {
    "model": "p_model",
    "history": "p_history",
    "climatology": "p_climatology",
}
"""Model name in the metrics table → probability column of the predictions frame."""

BOOTSTRAPPED: tuple[str, ...] = ("roc_auc", "average_precision")


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """ROC-AUC (scikit-learn's ``roc_auc_score``); NaN without both classes."""
    y = np.asarray(y, dtype=bool)
    if y.all() or not y.any():
        return math.nan
    return float(roc_auc_score(y, np.asarray(p, dtype="float64")))


def average_precision(y: np.ndarray, p: np.ndarray) -> float:
    """Average precision (scikit-learn's step-wise PR-AUC); NaN without positives."""
    y = np.asarray(y, dtype=bool)
    if not y.any():
        return math.nan
    return float(average_precision_score(y, np.asarray(p, dtype="float64")))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    """Mean squared error of the probabilities (scikit-learn's ``brier_score_loss``)."""
    y = np.asarray(y, dtype=bool)
    if not len(y):
        return math.nan
    return float(brier_score_loss(y, np.asarray(p, dtype="float64"), pos_label=True))


def log_loss(y: np.ndarray, p: np.ndarray, eps: float = 1e-15) -> float:
    """Mean binary log loss (scikit-learn's), probabilities clipped to ``[eps, 1 - eps]``."""
    y = np.asarray(y, dtype=bool)
    if not len(y):
        return math.nan
    q = np.clip(np.asarray(p, dtype="float64"), eps, 1 - eps)
    return float(_log_loss_score(y, q, labels=[False, True]))


def _bins(p: np.ndarray, n_bins: int, strategy: str) -> tuple[np.ndarray, np.ndarray]:
    """Bin edges of the forecasts and each forecast's bin (an inner edge opens its bin)."""
    edges: np.ndarray
    if strategy == "quantile":
        edges = np.unique(np.quantile(p, np.linspace(0.0, 1.0, n_bins + 1))) if len(p) else p
    elif strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        raise ValueError(f"strategy must be quantile or uniform, got {strategy!r}")
    if len(edges) < 2:
        edges = np.array([0.0, 1.0])
    edges = np.asarray(edges, dtype="float64")
    return edges, np.clip(np.searchsorted(edges[1:-1], p, side="right"), 0, len(edges) - 2)


def reliability_curve(
    y: np.ndarray, p: np.ndarray, n_bins: int = 10, strategy: str = "quantile"
) -> pd.DataFrame:
    """Observed frequency against mean forecast per bin of the forecasts.

    ``strategy`` ``quantile`` (default) makes ``n_bins`` bins of (nearly) equal row counts —
    deciles of the forecasts, so each bin answers "did forecasts like these come true as
    often as they said?" — and ``uniform`` equal-width probability bins. The curve is
    scikit-learn's ``calibration_curve`` with the row counts and edges added, but for one
    convention: a forecast equal to an inner edge belongs to the bin the edge *opens*
    (:func:`numpy.histogram`'s convention; scikit-learn puts it in the bin the edge closes).
    On the snapshot's tied forecasts that moves a few rows at one year and keeps the ECE
    documented in the README.

    Returns
    -------
    DataFrame
        ``bin_lo``, ``bin_hi``, ``n``, ``mean_predicted``, ``observed`` (empty bins dropped).
    """
    y = np.asarray(y, dtype="float64")
    p = np.asarray(p, dtype="float64")
    edges, idx = _bins(p, n_bins, strategy)
    n = np.bincount(idx, minlength=len(edges) - 1)
    seen = n > 0
    return pd.DataFrame(
        {
            "bin_lo": edges[:-1][seen],
            "bin_hi": edges[1:][seen],
            "n": n[seen].astype(int),
            "mean_predicted": np.bincount(idx, weights=p, minlength=len(n))[seen] / n[seen],
            "observed": np.bincount(idx, weights=y, minlength=len(n))[seen] / n[seen],
        },
        columns=["bin_lo", "bin_hi", "n", "mean_predicted", "observed"],
    )


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> float:
    """Row-weighted mean of ``|observed - mean predicted|`` over the reliability bins."""
    y = np.asarray(y, dtype="float64")
    p = np.asarray(p, dtype="float64")
    if not len(p):
        return math.nan
    edges, idx = _bins(p, n_bins, "quantile")
    gaps = np.bincount(idx, weights=y - p, minlength=len(edges) - 1)
    return float(np.abs(gaps).sum() / len(p))


def point_metrics(y: np.ndarray, p: np.ndarray, p_climatology: np.ndarray) -> dict[str, float]:
    """Every point metric of one model on one set of rows."""
    b = brier(y, p)
    b_clim = brier(y, p_climatology)
    return {
        "n": float(len(y)),
        "base_rate": float(np.mean(y)) if len(y) else math.nan,
        "roc_auc": roc_auc(y, p),
        "average_precision": average_precision(y, p),
        "brier": b,
        "brier_skill": 1.0 - b / b_clim if b_clim > 0 else math.nan,
        "log_loss": log_loss(y, p),
        "ece": expected_calibration_error(y, p),
    }


def country_bootstrap(groups: np.ndarray, n_samples: int, seed: int) -> list[np.ndarray]:
    """Row indices of ``n_samples`` resamples of whole countries (with replacement)."""
    codes, inverse = np.unique(groups, return_inverse=True)
    members = [np.flatnonzero(inverse == i) for i in range(len(codes))]
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(int(n_samples)):
        pick = rng.integers(0, len(codes), size=len(codes))
        out.append(np.concatenate([members[i] for i in pick]))
    return out


@dataclass(frozen=True)
class Resamples:
    """Country-block resamples of one set of rows, as row indices and as row weights.

    A resample that draws a row twice scores exactly like one that weighs it 2: every metric
    here depends on the rows only through weighted counts at each distinct forecast. The
    weights let the ranking metrics and the Brier score of all resamples be computed at once
    (:func:`bootstrap_draws`; ``benchmarks/bench_metrics.py`` has the figures).
    """

    indices: list[np.ndarray]
    weights: np.ndarray
    """``(n_samples, n_rows)``: how often each resample draws each row."""

    @classmethod
    def draw(cls, groups: np.ndarray, n_samples: int, seed: int) -> Resamples:
        """The :func:`country_bootstrap` resamples of rows belonging to ``groups``."""
        indices = country_bootstrap(groups, n_samples, seed)
        counts = [np.bincount(i, minlength=len(groups)) for i in indices]
        weights = np.array(counts, dtype="float64").reshape(len(indices), len(groups))
        return cls(indices=indices, weights=weights)


def _weight_by_forecast(
    y: np.ndarray, p: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Positive and negative weight of each distinct forecast, ascending, per resample."""
    order = np.argsort(p, kind="mergesort")
    ranked = p[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    w = weights[:, order]
    positive = np.add.reduceat(w * y[order], starts, axis=1)
    return positive, np.add.reduceat(w, starts, axis=1) - positive


def _weighted_roc_auc(y: np.ndarray, p: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Mann–Whitney ROC-AUC of every weighting (ties count one half); NaN without both."""
    pos, neg = _weight_by_forecast(y, p, weights)
    below = np.cumsum(neg, axis=1) - neg
    n_pos, n_neg = pos.sum(axis=1), neg.sum(axis=1)
    both = (n_pos > 0) & (n_neg > 0)
    pairs = np.where(both, n_pos * n_neg, 1.0)
    return np.where(both, (pos * (below + 0.5 * neg)).sum(axis=1) / pairs, math.nan)


def _weighted_average_precision(y: np.ndarray, p: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Step-wise average precision of every weighting (thresholds at the distinct forecasts)."""
    pos, neg = _weight_by_forecast(y, p, weights)
    pos, neg = pos[:, ::-1], neg[:, ::-1]  # from the highest forecast down
    # A forecast a resample never draws adds no recall step, so its 0 precision is harmless.
    precision = np.cumsum(pos, axis=1) / np.maximum(np.cumsum(pos + neg, axis=1), 1.0)
    n_pos = pos.sum(axis=1)
    total = np.where(n_pos > 0, n_pos, 1.0)
    return np.where(n_pos > 0, (precision * pos).sum(axis=1) / total, math.nan)


def _weighted_brier(y: np.ndarray, p: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Brier score of every weighting."""
    return np.asarray(weights @ (p - y) ** 2 / weights.sum(axis=1))


_WEIGHTED: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "roc_auc": _weighted_roc_auc,
    "average_precision": _weighted_average_precision,
    "brier": _weighted_brier,
}


def bootstrap_draws(metric: str, y: np.ndarray, p: np.ndarray, resamples: Resamples) -> np.ndarray:
    """``metric`` of ``(y, p)`` on every resample (NaN where it is undefined).

    ROC-AUC, average precision and Brier are computed for all resamples at once from the
    weights (equal to scikit-learn's on each resample, tested); the ECE, whose bins are the
    deciles of each resample, one resample at a time.
    """
    y = np.asarray(y, dtype="float64")
    p = np.asarray(p, dtype="float64")
    if metric == "ece":
        return np.array([expected_calibration_error(y[i], p[i]) for i in resamples.indices])
    if not len(p) or not resamples.indices:
        return np.full(len(resamples.indices), math.nan)
    return _WEIGHTED[metric](y, p, resamples.weights)


def _interval(draws: np.ndarray, level: float) -> tuple[float, float]:
    """Percentile interval of the defined draws (NaN, NaN when there are none)."""
    draws = draws[~np.isnan(draws)]
    if not len(draws):
        return math.nan, math.nan
    alpha = (1.0 - level) / 2
    lo, hi = np.quantile(draws, [alpha, 1 - alpha])
    return float(lo), float(hi)


def evaluate(
    predictions: pd.DataFrame,
    *,
    bootstrap_samples: int = 500,
    seed: int = 0,
    level: float = 0.95,
    models: Sequence[str] = tuple(MODELS),
) -> pd.DataFrame:
    """The tidy metrics table: one row per horizon, model and metric.

    Parameters
    ----------
    predictions
        Output of :func:`relapse.backtest.backtest` (``gwno``, ``horizon``, ``y_true`` and the
        probability columns of :data:`MODELS`).
    bootstrap_samples
        Country-block resamples for the AUC and AP intervals (0: no intervals).
    seed
        Seed of the resampling.
    level
        Coverage of the percentile intervals.
    models
        Which models of :data:`MODELS` to evaluate (those whose column is all-NaN are
        skipped).

    Returns
    -------
    DataFrame
        ``horizon``, ``model``, ``metric``, ``value``, ``lo``, ``hi`` (``lo``/``hi`` NaN where
        no interval is computed). ``base_rate`` and ``n`` are the same for every model.
    """
    rows = []
    for h, df in predictions.groupby("horizon", sort=True):
        y = df["y_true"].to_numpy(dtype="float64")
        clim = df[MODELS["climatology"]].to_numpy(dtype="float64")
        samples = Resamples.draw(df["gwno"].to_numpy(), bootstrap_samples, seed + int(h))
        for name in models:
            col = MODELS[name]
            if col not in df or df[col].isna().all():
                continue
            p = df[col].to_numpy(dtype="float64")
            for metric, value in point_metrics(y, p, clim).items():
                lo = hi = math.nan
                if metric in BOOTSTRAPPED and samples.indices:
                    lo, hi = _interval(bootstrap_draws(metric, y, p, samples), level)
                rows.append(
                    {
                        "horizon": int(h),
                        "model": name,
                        "metric": metric,
                        "value": value,
                        "lo": lo,
                        "hi": hi,
                    }
                )
    return pd.DataFrame(rows, columns=["horizon", "model", "metric", "value", "lo", "hi"])


COMPARED: tuple[str, ...] = ("roc_auc", "average_precision", "brier", "ece")
"""Metrics compared model − baseline with a paired interval (:func:`compare`)."""

_METRIC_FN: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "roc_auc": roc_auc,
    "average_precision": average_precision,
    "brier": brier,
    "ece": lambda y, p: expected_calibration_error(y, p),
}


def compare(
    predictions: pd.DataFrame,
    *,
    baseline: str = "history",
    bootstrap_samples: int = 500,
    seed: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Model − baseline differences with paired country-block bootstrap intervals.

    The same country resamples score both models (the pairing), so the interval is that of
    the *difference*: a difference whose interval contains 0 is a tie ("matches").

    Returns
    -------
    DataFrame
        ``horizon``, ``metric``, ``model``, ``baseline``, ``difference``, ``lo``, ``hi``,
        ``verdict`` (``better``, ``worse`` or ``matches``; for Brier and ECE lower is better).
    """
    rows = []
    for h, df in predictions.groupby("horizon", sort=True):
        y = df["y_true"].to_numpy(dtype="float64")
        p = df[MODELS["model"]].to_numpy(dtype="float64")
        q = df[MODELS[baseline]].to_numpy(dtype="float64")
        samples = Resamples.draw(df["gwno"].to_numpy(), bootstrap_samples, seed + int(h))
        for metric in COMPARED:
            f = _METRIC_FN[metric]
            m_value, b_value = f(y, p), f(y, q)
            lo = hi = math.nan
            if samples.indices:
                draws = bootstrap_draws(metric, y, p, samples) - bootstrap_draws(
                    metric, y, q, samples
                )
                lo, hi = _interval(draws, level)
            rows.append(
                {
                    "horizon": int(h),
                    "metric": metric,
                    "model": m_value,
                    "baseline": b_value,
                    "difference": m_value - b_value,
                    "lo": lo,
                    "hi": hi,
                    "verdict": _verdict(lo, hi, lower_better=metric in ("brier", "ece")),
                }
            )
    columns = ["horizon", "metric", "model", "baseline", "difference", "lo", "hi", "verdict"]
    return pd.DataFrame(rows, columns=columns)


def _verdict(lo: float, hi: float, lower_better: bool) -> str:
    """``better``/``worse`` when the whole interval of model − baseline is on one side of 0."""
    if math.isnan(lo) or math.isnan(hi) or not (lo > 0 or hi < 0):
        return "matches"
    return "better" if (lo > 0) != lower_better else "worse"


VERDICT_METRICS: dict[str, str] = {
    "roc_auc": "ROC-AUC",
    "average_precision": "average precision",
    "brier": "Brier score",
}
"""The metrics the skill verdict reads, with their names in text."""


def skill_verdict(differences: Mapping[str, tuple[float, float, float]]) -> dict[str, Any]:
    """The one rule for "does the model beat the conflict-history baseline?".

    ``differences`` maps a metric of :data:`VERDICT_METRICS` to (model − baseline, lo, hi),
    the paired country-block bootstrap interval of :func:`compare`. A metric is *better* or
    *worse* only when its whole interval is (higher is better for the areas, lower for
    Brier). The model **beats** the baseline when a ranking area is better and nothing is
    worse, **is worse than** it when anything is worse, and otherwise **matches** it: a gain
    inside its interval is a tie. Used by ``relapse train``, the report and the brief.

    Returns
    -------
    dict
        ``verdict`` (``beats``, ``matches``, ``is worse than``, or ``not available``),
        ``per_metric`` (metric → ``better``/``worse``/``matches``) and ``text``.
    """
    per_metric: dict[str, str] = {}
    parts = []
    for metric, name in VERDICT_METRICS.items():
        if metric not in differences:
            continue
        d, lo, hi = (float(v) for v in differences[metric])
        if math.isnan(d):
            continue
        per_metric[metric] = _verdict(lo, hi, lower_better=metric == "brier")
        interval = "" if math.isnan(lo) else f" [{lo:+.3f}, {hi:+.3f}]"
        parts.append(f"{name} {d:+.3f}{interval}")
    if not per_metric:
        return {"verdict": "not available", "per_metric": {}, "text": "not available"}
    if "worse" in per_metric.values():
        verdict = "is worse than"
    elif per_metric.get("roc_auc") == "better" or per_metric.get("average_precision") == "better":
        verdict = "beats"
    else:
        verdict = "matches"
    text = (
        f"the model {verdict} the conflict-history baseline (model − baseline, paired 95% "
        f"country-bootstrap intervals: {'; '.join(parts)})"
    )
    return {"verdict": verdict, "per_metric": per_metric, "text": text}


DIFFERENCE = "difference_history"
"""Model name of the metrics-table rows holding model − history baseline differences."""


def difference_rows(comparison: pd.DataFrame) -> pd.DataFrame:
    """The :func:`compare` table as metrics-table rows (``model`` = :data:`DIFFERENCE`)."""
    return pd.DataFrame(
        {
            "horizon": comparison["horizon"].astype(int),
            "model": DIFFERENCE,
            "metric": comparison["metric"],
            "value": comparison["difference"],
            "lo": comparison["lo"],
            "hi": comparison["hi"],
        }
    )


def verdict_from_metrics(table: pd.DataFrame, horizon: int) -> dict[str, Any]:
    """:func:`skill_verdict` from the :data:`DIFFERENCE` rows of a metrics table."""
    rows = table.loc[(table["horizon"] == horizon) & (table["model"] == DIFFERENCE)]
    rows = rows.loc[rows["metric"].isin(list(VERDICT_METRICS))]
    return skill_verdict({r.metric: (r.value, r.lo, r.hi) for r in rows.itertuples()})


def verdict_from_comparison(comparison: pd.DataFrame, horizon: int) -> dict[str, Any]:
    """:func:`skill_verdict` of one horizon of a :func:`compare` table."""
    rows = comparison.loc[comparison["horizon"] == horizon]
    return skill_verdict(
        {
            r.metric: (r.difference, r.lo, r.hi)
            for r in rows.itertuples()
            if r.metric in VERDICT_METRICS
        }
    )


def verdict_from_run_metrics(metrics: Mapping[str, float], horizon: int) -> dict[str, Any]:
    """:func:`skill_verdict` from a training run's logged ``diff_history_*`` metrics."""
    diffs = {}
    for metric in VERDICT_METRICS:
        key = f"diff_history_{metric}_h{int(horizon)}"
        if key in metrics:
            diffs[metric] = (
                metrics[key],
                metrics.get(key + "_lo", math.nan),
                metrics.get(key + "_hi", math.nan),
            )
    return skill_verdict(diffs)


def top_k_record(predictions: pd.DataFrame, k: int = 3) -> pd.DataFrame:
    """Of the ``k`` highest-ranked countries each origin year, how many relapsed.

    Returns
    -------
    DataFrame
        One row per horizon and origin year: ``horizon``, ``year``, ``n``, ``relapsed``
        (countries that relapsed that year), ``hits_model``, ``hits_history``,
        ``top_model``/``top_history`` (the GW codes ranked first, comma-separated). Ties are
        broken by GW code, so the record is reproducible.
    """
    rows = []
    for (h, year), df in predictions.groupby(["horizon", "year"], sort=True):
        entry: dict[str, object] = {
            "horizon": int(h),
            "year": int(year),
            "n": len(df),
            "relapsed": int(df["y_true"].sum()),
        }
        for name in ("model", "history"):
            col = MODELS[name]
            top = df.sort_values([col, "gwno"], ascending=[False, True], kind="mergesort").head(k)
            entry[f"hits_{name}"] = int(top["y_true"].sum())
            entry[f"top_{name}"] = ",".join(str(int(g)) for g in top["gwno"])
        rows.append(entry)
    return pd.DataFrame(rows)


def inversions(predictions: pd.DataFrame, column: str = "p_model") -> int:
    """Rows (gwno, year) whose probability falls from one horizon to a longer one."""
    wide = predictions.pivot_table(index=["gwno", "year"], columns="horizon", values=column)
    values = wide.to_numpy()
    diffs = np.diff(values, axis=1)
    return int((np.nan_to_num(diffs, nan=0.0) < -1e-12).any(axis=1).sum())


def metric_value(table: pd.DataFrame, horizon: int, model: str, metric: str) -> float:
    """One value of the metrics table (NaN if absent)."""
    m = (table["horizon"] == horizon) & (table["model"] == model) & (table["metric"] == metric)
    return float(table.loc[m, "value"].iloc[0]) if m.any() else math.nan


def plot_reliability(predictions: pd.DataFrame, horizon: int, path: Path, n_bins: int = 10) -> Path:
    """Write a reliability diagram (model and both baselines) for one horizon to ``path``.

    Drawn on a bare :class:`~matplotlib.figure.Figure` (no pyplot, no backend switch), so it
    works headless and leaves an interactive session's backend alone.
    """
    from matplotlib.figure import Figure

    df = predictions.loc[predictions["horizon"] == horizon]
    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    y = df["y_true"].to_numpy(dtype="float64")
    for name, col in MODELS.items():
        if col not in df or df[col].isna().all():
            continue
        curve = reliability_curve(y, df[col].to_numpy(dtype="float64"), n_bins)
        ax.plot(curve["mean_predicted"], curve["observed"], marker="o", label=name)
    ax.set_xlabel("mean forecast probability")
    ax.set_ylabel("observed relapse frequency")
    ax.set_title(f"Reliability, relapse within {horizon} y (backtest, pooled origins)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path
