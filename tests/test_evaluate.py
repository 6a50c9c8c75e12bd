"""Metrics against scikit-learn and hand-counted examples; country-block bootstrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.metrics import log_loss as sk_log_loss

from relapse.evaluate import (
    Resamples,
    average_precision,
    bootstrap_draws,
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


def _tied_rows(seed: int, n: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tied forecasts of 15 countries; only countries 0 and 1 relapse, so some resamples
    have no positive row."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, 15, n)
    y = ((groups < 2) & (rng.random(n) < 0.6)).astype(float)
    p = np.round(np.clip(0.1 + 0.3 * y + rng.normal(0, 0.15, n), 0.0, 1.0), 2)
    return y, p, groups


def _defined(metric: str, y: np.ndarray) -> bool:
    return metric == "brier" or (y.any() and (metric == "average_precision" or not y.all()))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    ("metric", "reference"),
    [
        ("roc_auc", roc_auc_score),
        ("average_precision", average_precision_score),
        ("brier", brier_score_loss),
    ],
)
def test_bootstrap_fast_path_equals_sklearn_on_each_resample(seed, metric, reference) -> None:
    y, p, groups = _tied_rows(seed)
    samples = Resamples.draw(groups, 200, seed=seed)
    draws = bootstrap_draws(metric, y, p, samples)
    expected = [
        reference(y[i], p[i]) if _defined(metric, y[i]) else np.nan for i in samples.indices
    ]
    if metric != "brier":
        assert 0 < np.isnan(expected).sum() < len(expected), "both kinds of resample seen"
    np.testing.assert_allclose(draws, expected, rtol=0, atol=1e-12)


def test_bootstrap_ece_draws_are_the_ece_of_each_resample() -> None:
    y, p, groups = _tied_rows(3)
    samples = Resamples.draw(groups, 20, seed=3)
    draws = bootstrap_draws("ece", y, p, samples)
    assert draws.tolist() == [expected_calibration_error(y[i], p[i]) for i in samples.indices]


@pytest.mark.parametrize("strategy", ["quantile", "uniform"])
def test_reliability_curve_is_sklearns_calibration_curve_off_the_edges(strategy: str) -> None:
    # Continuous forecasts at even n: no forecast equals an inner edge, where the one
    # convention differs (see reliability_curve).
    rng = np.random.default_rng(4)
    p = rng.beta(1.0, 6.0, 500)
    y = (rng.random(500) < p).astype(float)
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy=strategy)
    curve = reliability_curve(y, p, n_bins=10, strategy=strategy)
    np.testing.assert_allclose(curve["observed"], observed, atol=1e-12)
    np.testing.assert_allclose(curve["mean_predicted"], predicted, atol=1e-12)


def test_a_forecast_on_an_inner_edge_opens_its_bin() -> None:
    p = np.array([0.1, 0.2, 0.3, 0.4, 0.5])  # quintile edges at the forecasts themselves
    curve = reliability_curve(np.zeros(5), p, n_bins=4)
    assert curve["n"].tolist() == [1, 1, 1, 2]
    assert curve["bin_lo"].tolist() == [0.1, 0.2, 0.3, 0.4]
