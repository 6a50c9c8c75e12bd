"""The explanations as ``shap.Explanation`` objects: equal to shap's own TreeExplainer on the
trees plus the history logit's exact terms, additive, plottable; shap off the scoring path."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from helpers.hazard_panel import FEATURES, fitted_hazard

from relapse.errors import ModelError
from relapse.explain import explanation, family_explanation
from relapse.forecast import Forecast
from relapse.model import Recalibration

shap = pytest.importorskip("shap")

FAMILY_MAP = {
    "x_signal": "mission",
    "x_noise": "economy",
    **{f: "conflict_legacy" for f in FEATURES if f.startswith("leg_")},
}


@pytest.fixture(scope="module")
def fitted():  # type: ignore[no-untyped-def]
    model, pop = fitted_hazard(seed=7)
    model.set_recalibration({1: Recalibration(0.8, -0.1), 2: Recalibration(1.1, 0.2)})
    forecast = Forecast(model=model, horizon=1, family_map=FAMILY_MAP, name="relapse-h1")
    return forecast, pop[FEATURES].head(200).reset_index(drop=True)


def log_odds(forecast: Forecast, X, h: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    p = forecast.model.predict_proba(X, h)
    return np.log(p) - np.log1p(-p)


def test_first_horizon_is_tree_explainer_plus_the_logit_terms(fitted) -> None:  # type: ignore[no-untyped-def]
    forecast, X = fitted
    exp = explanation(forecast, X, 1)
    assert isinstance(exp, shap.Explanation)
    assert exp.feature_names == FEATURES and exp.values.shape == (len(X), len(FEATURES))
    np.testing.assert_array_equal(exp.data, X[FEATURES].to_numpy(dtype="float64"))

    interval = forecast.model.components_[1]
    a, b = forecast.model.recalibration_[1].a, forecast.model.recalibration_[1].b
    explainer = shap.TreeExplainer(interval.booster_)
    trees = explainer.shap_values(X[FEATURES].to_numpy(dtype="float64"))
    logit = np.zeros_like(trees)
    for j, name in enumerate(interval.logit_.features):
        logit[:, FEATURES.index(name)] = interval.logit_.terms(X)[:, j]
    np.testing.assert_allclose(exp.values / a - logit, trees, atol=1e-6, rtol=0)
    expected_base = a * (float(np.ravel(explainer.expected_value)[0]) + interval.logit_.intercept)
    np.testing.assert_allclose(exp.base_values, expected_base + b, atol=1e-6)
    total = exp.values.sum(axis=1) + exp.base_values
    np.testing.assert_allclose(total, log_odds(forecast, X, 1), atol=1e-6)


@pytest.mark.parametrize("h", [2, 5])
def test_later_horizons_and_families_add_up_to_the_log_odds(fitted, h: int) -> None:  # type: ignore[no-untyped-def]
    forecast, X = fitted
    exp = explanation(forecast, X, h)
    np.testing.assert_allclose(
        exp.values.sum(axis=1) + exp.base_values, log_odds(forecast, X, h), atol=1e-6
    )
    fam = family_explanation(forecast, X, h)
    assert fam.feature_names == ["mission", "economy", "conflict_legacy"] and fam.data is None
    legacy = [FEATURES.index(f) for f in FEATURES if f.startswith("leg_")]
    np.testing.assert_allclose(fam.values[:, 2], exp.values[:, legacy].sum(axis=1), atol=1e-12)
    np.testing.assert_allclose(fam.values.sum(axis=1), exp.values.sum(axis=1), atol=1e-9)
    np.testing.assert_array_equal(fam.base_values, exp.base_values)


def test_unknown_horizon_or_family_is_refused(fitted) -> None:  # type: ignore[no-untyped-def]
    forecast, X = fitted
    with pytest.raises(ModelError, match="not 3"):
        explanation(forecast, X, 3)
    with pytest.raises(ModelError, match="without a family"):
        family_explanation(forecast, X, 1, family_map={"x_signal": "mission"})


def test_shap_plots_draw_the_explanations(fitted) -> None:  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    forecast, X = fitted
    exp, fam = explanation(forecast, X, 2), family_explanation(forecast, X, 2)
    for draw in (
        lambda: shap.plots.waterfall(exp[0], show=False),
        lambda: shap.plots.beeswarm(exp, show=False),
        lambda: shap.plots.bar(fam, show=False),
        lambda: shap.plots.waterfall(fam[0], show=False),
    ):
        draw()
        assert plt.gcf().axes
        plt.close("all")


def test_scoring_never_imports_shap_or_matplotlib() -> None:
    """What ``relapse score`` imports (its module and the model code) leaves shap out."""
    code = (
        "import sys, relapse.cli, relapse.scoring.job, relapse.tracking, relapse.forecast, "
        "relapse.model, relapse.explain;"
        "print(sorted(m for m in ('shap', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"
