"""Metrics against scikit-learn and hand-counted examples; country-block bootstrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.metrics import log_loss as sk_log_loss

from relapse.evaluate import (
    average_precision,
    brier,
    country_bootstrap,
    evaluate,
    expected_calibration_error,
    log_loss,
    plot_reliability,
    reliability_curve,
    roc_auc,
)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ranking_metrics_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.random(200) < 0.2
    p = np.round(rng.random(200) * 0.5 + 0.3 * y, 2)  # ties on purpose
    assert roc_auc(y, p) == pytest.approx(roc_auc_score(y, p))
    assert average_precision(y, p) == pytest.approx(average_precision_score(y, p))
    assert brier(y, p) == pytest.approx(brier_score_loss(y, p))
    assert log_loss(y, p) == pytest.approx(sk_log_loss(y, p))


def test_hand_counted_examples() -> None:
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.4, 0.35, 0.8])
    assert roc_auc(y, p) == pytest.approx(0.75)
    assert average_precision(y, p) == pytest.approx((1.0 + 2 / 3) / 2)
    assert np.isnan(roc_auc(np.zeros(3), np.ones(3)))
    curve = reliability_curve([0, 1, 1, 0], [0.05, 0.05, 0.95, 0.95], n_bins=10)
    assert curve["n"].tolist() == [2, 2]
    assert expected_calibration_error([0, 1, 1, 0], [0.05, 0.05, 0.95, 0.95]) == pytest.approx(0.45)


def test_country_bootstrap_keeps_countries_whole_and_is_seeded() -> None:
    groups = np.array([1, 1, 1, 2, 2, 3])
    a = country_bootstrap(groups, 30, seed=5)
    b = country_bootstrap(groups, 30, seed=5)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    for idx in a:
        counts = pd.Series(groups[idx]).value_counts()
        sizes = pd.Series(groups).value_counts()
        assert all(counts[g] % sizes[g] == 0 for g in counts.index)


def _predictions(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 400
    y = (rng.random(n) < 0.2).astype(int)
    return pd.DataFrame(
        {
            "gwno": rng.integers(0, 40, n),
            "year": rng.integers(2000, 2015, n),
            "horizon": np.where(np.arange(n) < 200, 1, 5),
            "y_true": y,
            "p_model": np.clip(0.2 + 0.3 * y + rng.normal(0, 0.1, n), 0.01, 0.99),
            "p_history": np.clip(0.2 + 0.1 * y + rng.normal(0, 0.1, n), 0.01, 0.99),
            "p_climatology": 0.2,
        }
    )


def test_metrics_table_is_tidy_with_intervals() -> None:
    table = evaluate(_predictions(), bootstrap_samples=100, seed=3)
    assert list(table.columns) == ["horizon", "model", "metric", "value", "lo", "hi"]
    assert set(table["model"]) == {"model", "history", "climatology"}
    assert {
        "roc_auc",
        "average_precision",
        "brier",
        "brier_skill",
        "log_loss",
        "ece",
        "base_rate",
        "n",
    } <= set(table["metric"])
    ranked = table.loc[table["metric"].isin(["roc_auc", "average_precision"])]
    assert ranked[["lo", "hi"]].notna().all().all()
    assert (ranked["lo"] <= ranked["value"]).all() and (ranked["value"] <= ranked["hi"]).all()
    clim = table.query("model == 'climatology' and metric == 'brier_skill'")["value"]
    assert np.allclose(clim, 0.0)
    again = evaluate(_predictions(), bootstrap_samples=100, seed=3)
    pd.testing.assert_frame_equal(table, again)


def test_reliability_plot_is_written(tmp_path) -> None:
    path = plot_reliability(_predictions(), 1, tmp_path / "rel.png")
    assert path.is_file() and path.stat().st_size > 1000
