"""The estimators: scikit-learn contract, in-fold fitting, determinism, planted signal."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from relapse.backtest import backtest, fit_fold
from relapse.config import compose_config
from relapse.evaluate import evaluate, metric_value
from relapse.model import (
    HISTORY_FEATURES,
    Calibrator,
    ClimatologyClassifier,
    LightGBMRelapse,
    build_model,
    history_baseline,
)
from relapse.splits import make_origin

FAST = ["model.num_boost_round=80", "model.early_stopping_rounds=15", "split.bootstrap_samples=20"]


def synthetic_panel(
    seed: int = 0,
    n_units: int = 60,
    years: range = range(1980, 2019),
    signal: float = 2.0,
    drift: float = 0.0,
) -> pd.DataFrame:
    """A panel with a planted effect: relapse_h1 driven by ``x_signal`` (and noise columns).

    ``drift`` shifts the history features upward with the year, so fitted statistics tell
    which years they were computed from.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(n_units):
        for y in years:
            rows.append((g + 100, y))
    df = pd.DataFrame(rows, columns=["gwno", "year"])
    n = len(df)
    df["in_population"] = rng.random(n) < 0.7
    df["x_signal"] = rng.normal(size=n)
    df["x_noise"] = rng.normal(size=n)
    for i, name in enumerate(HISTORY_FEATURES):
        v = rng.gamma(2.0, 2.0, size=n) + drift * (df["year"] - years[0]) + i
        v[rng.random(n) < 0.15] = np.nan
        df[name] = v
    logit = -2.0 + signal * df["x_signal"]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype("int64")
    label = pd.array(y, dtype="Int8")
    label[(~df["in_population"]).to_numpy()] = pd.NA
    label[(df["year"] == years[-1]).to_numpy()] = pd.NA  # censored at the end of the data
    df["relapse_h1"] = label
    return df


FEATURES = ["x_signal", "x_noise", *HISTORY_FEATURES]


def test_estimators_follow_the_sklearn_contract() -> None:
    est = LightGBMRelapse(params={"num_leaves": 7}, random_state=3)
    assert not [a for a in vars(est) if a.endswith("_")], "no work in __init__"
    params = est.get_params()
    assert params["random_state"] == 3
    twin = clone(est)
    assert twin.get_params() == params
    df = synthetic_panel().dropna(subset=["relapse_h1"])
    est.fit(df[FEATURES], df["relapse_h1"].astype(int))
    assert {"booster_", "best_iteration_", "feature_names_in_", "classes_"} <= set(vars(est))
    proba = est.predict_proba(df[FEATURES])
    assert proba.shape == (len(df), 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert ClimatologyClassifier().fit(df[FEATURES], df["relapse_h1"]).base_rate_ == pytest.approx(
        df["relapse_h1"].astype(float).mean()
    )


def test_missing_labels_are_refused() -> None:
    df = synthetic_panel()
    with pytest.raises(ValueError, match="censored rows must be dropped"):
        LightGBMRelapse().fit(df[FEATURES], df["relapse_h1"])


def test_imputer_and_scaler_see_only_training_rows() -> None:
    panel = synthetic_panel(drift=0.5)
    origin = make_origin(panel["year"], horizon=1, origin=2005, validation_years=3)
    train = panel.loc[origin.train_mask(panel)]
    y = train["relapse_h1"].astype(int)
    pipe = history_baseline().fit(train[list(HISTORY_FEATURES)], y)
    medians = train[list(HISTORY_FEATURES)].median().to_numpy()
    np.testing.assert_allclose(pipe.named_steps["impute"].statistics_, medians)
    imputed = train[list(HISTORY_FEATURES)].fillna(
        dict(zip(HISTORY_FEATURES, medians, strict=True))
    )
    np.testing.assert_allclose(pipe.named_steps["scale"].mean_, imputed.mean().to_numpy())
    everything = panel.loc[panel["in_population"], list(HISTORY_FEATURES)].median().to_numpy()
    assert not np.allclose(everything, medians), "the drift must make leakage visible"


def test_fold_uses_only_its_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows every estimator is fitted on are exactly the origin's training rows."""
    panel = synthetic_panel()
    cfg = compose_config("train", FAST)
    origin = make_origin(panel["year"], horizon=1, origin=2005, validation_years=3)
    seen: list[int] = []
    original = LightGBMRelapse.fit

    def spy(self, X, y, validation=None):  # type: ignore[no-untyped-def]
        seen.append(len(X))
        assert validation is not None and validation.sum() > 0
        return original(self, X, y, validation=validation)

    monkeypatch.setattr(LightGBMRelapse, "fit", spy)
    out, info = fit_fold(panel, origin, FEATURES, cfg.model, 1)
    assert seen == [int(origin.train_mask(panel).sum())]
    assert info["n_train"] == seen[0]
    assert (out["year"] == 2005).all()
    assert panel.loc[panel["year"] <= 2004, "relapse_h1"].notna().sum() >= seen[0]


@pytest.mark.parametrize("method", ["platt", "isotonic", "none"])
def test_calibrator_round_trips_through_json(method: str) -> None:
    rng = np.random.default_rng(1)
    z = rng.normal(size=300)
    y = (rng.random(300) < 1 / (1 + np.exp(-(0.5 * z - 1)))).astype(int)
    cal = Calibrator(method).fit(z, y)
    back = Calibrator.from_dict(json.loads(json.dumps(cal.to_dict())))
    np.testing.assert_allclose(back.transform(z), cal.transform(z))
    p = cal.transform(z)
    assert ((p >= 0) & (p <= 1)).all()


@pytest.mark.parametrize("calibration", ["none", "platt", "isotonic"])
def test_same_seed_same_metrics(calibration: str) -> None:
    panel = synthetic_panel(seed=4)
    cfg = compose_config(
        "train",
        [
            *FAST,
            "split.first_origin=2008",
            "target.horizons=[1]",
            f"model.calibration={calibration}",
        ],
    )
    runs = [
        evaluate(backtest(panel, FEATURES, 1, cfg).predictions, bootstrap_samples=20, seed=cfg.seed)
        for _ in range(2)
    ]
    pd.testing.assert_frame_equal(runs[0], runs[1])


def test_random_state_is_honoured() -> None:
    df = synthetic_panel(seed=2).dropna(subset=["relapse_h1"])
    X, y = df[FEATURES], df["relapse_h1"].astype(int)
    params = {"bagging_fraction": 0.5, "bagging_freq": 1, "feature_fraction": 0.5}
    a = LightGBMRelapse(params=params, num_boost_round=30, random_state=1).fit(X, y)
    b = LightGBMRelapse(params=params, num_boost_round=30, random_state=1).fit(X, y)
    c = LightGBMRelapse(params=params, num_boost_round=30, random_state=2).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_planted_signal_beats_climatology() -> None:
    panel = synthetic_panel(seed=7, signal=2.5)
    cfg = compose_config("train", [*FAST, "split.first_origin=2005", "target.horizons=[1]"])
    preds = backtest(panel, FEATURES, 1, cfg).predictions
    table = evaluate(preds, bootstrap_samples=50, seed=0)
    auc = metric_value(table, 1, "model", "roc_auc")
    assert auc > 0.75
    assert auc > metric_value(table, 1, "climatology", "roc_auc") + 0.15
    assert metric_value(table, 1, "model", "brier_skill") > 0.05
    lo = table.query("horizon == 1 and model == 'model' and metric == 'roc_auc'")["lo"].item()
    assert lo > 0.6


def test_build_model_reads_the_config() -> None:
    cfg = compose_config("train", ["seed=11", "model.calibration=platt"])
    est = build_model(cfg.model, cfg.seed)
    assert est.random_state == 11 and est.calibration == "platt"
    assert est.num_threads == cfg.model.params.num_threads
    assert "num_threads" not in est.params
