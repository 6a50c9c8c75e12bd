"""The estimators: scikit-learn contract, in-fold fitting, horizon consistency, exact
explanations, determinism, planted signal."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers.hazard_panel import FEATURES, fitted_hazard, labelled, synthetic_panel
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit
from sklearn.base import clone

from relapse import forecast
from relapse.backtest import backtest, build_hazard_model, fit_origin, recalibrations
from relapse.config import compose_config
from relapse.evaluate import evaluate, inversions, metric_value
from relapse.model import (
    HISTORY_FEATURES,
    BoostedLogit,
    HazardModel,
    LinearLogit,
    Recalibration,
    RoutedModel,
    climatology,
    cumulative_probabilities,
    history_baseline,
)
from relapse.splits import make_origin

FAST = [
    "model.num_boost_round=80",
    "model.early_stopping_rounds=15",
    "split.bootstrap_samples=20",
    "model.params.learning_rate=0.1",
    "model.params.min_data_in_leaf=10",
]


def test_estimators_follow_the_sklearn_contract() -> None:
    for est in (BoostedLogit(random_state=3), HazardModel(random_state=3), climatology()):
        params = est.get_params()
        assert clone(est).get_params() == params
        assert not [k for k in vars(est) if k.endswith("_")], "no learned state before fit"


def test_boosted_logit_starts_from_the_logit_and_adds_the_signal() -> None:
    df = labelled(synthetic_panel(seed=1, signal=2.5))
    X, y = df[FEATURES], df["relapse_h1"].astype(int)
    validation = df["year"].isin([2015, 2016, 2017]).to_numpy()
    est = BoostedLogit(params={"learning_rate": 0.1, "min_data_in_leaf": 10}).fit(
        X, y, validation=validation
    )
    logit = LinearLogit.fit(X, y, list(HISTORY_FEATURES))
    np.testing.assert_allclose(est.logit_.decision_function(X), logit.decision_function(X))
    trees = est.decision_function(X) - est.logit_.decision_function(X)
    assert np.corrcoef(trees, df["x_signal"])[0, 1] > 0.8, "the trees learn the planted signal"
    assert 1 <= est.best_iteration_ < est.num_boost_round


def test_boosted_logit_refuses_censored_or_one_class_labels() -> None:
    df = labelled(synthetic_panel())
    with pytest.raises(ValueError, match="censored"):
        BoostedLogit().fit(df[FEATURES], df["relapse_h1"].astype("float64").where(df.index % 7 > 0))
    with pytest.raises(ValueError, match="both outcomes"):
        BoostedLogit().fit(df[FEATURES], np.zeros(len(df)))


def test_linear_logit_terms_are_exact_and_round_trip() -> None:
    df = labelled(synthetic_panel(seed=3))
    logit = LinearLogit.fit(df, df["relapse_h1"].astype(int), list(HISTORY_FEATURES))
    pipe = history_baseline().fit(df[list(HISTORY_FEATURES)], df["relapse_h1"].astype(int))
    np.testing.assert_allclose(
        logit.decision_function(df), pipe.decision_function(df[list(HISTORY_FEATURES)])
    )
    assert abs(logit.terms(df).mean(axis=0)).max() < 1e-9, "terms average 0 on training rows"
    back = LinearLogit.from_dict(json.loads(json.dumps(logit.to_dict())))
    np.testing.assert_array_equal(back.decision_function(df), logit.decision_function(df))
    bad = logit.to_dict() | {"intercept": float("nan")}
    with pytest.raises(ValueError, match="finite"):
        LinearLogit.from_dict(bad)


def test_intervals_learn_only_outcomes_known_at_the_origin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Interval (start, end] is fitted on rows with year + end <= T, at risk after start."""
    panel = synthetic_panel()
    pop = panel.loc[panel["in_population"]]
    seen: list[int] = []
    original = BoostedLogit.fit

    def spy(self, X, y, validation=None):  # type: ignore[no-untyped-def]
        seen.append(len(X))
        return original(self, X, y, validation=validation)

    monkeypatch.setattr(BoostedLogit, "fit", spy)
    cfg = compose_config(FAST)
    model, scores = fit_origin(pop, 2005, FEATURES, cfg)
    assert model.n_train_ == dict(zip((1, 2, 5), seen, strict=True))
    before = pop.loc[pop["year"] < 2005]
    expected = {
        1: before["year"].le(2004) & before["relapse_h1"].notna(),
        2: before["year"].le(2003) & before["relapse_h2"].notna() & before["relapse_h1"].eq(0),
        5: before["year"].le(2000) & before["relapse_h5"].notna() & before["relapse_h2"].eq(0),
    }
    assert seen == [int(m.sum()) for m in expected.values()]
    assert (scores["year"] == 2005).all()


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


@settings(max_examples=200, deadline=None)
@given(
    z=st.lists(
        st.tuples(*(st.floats(-30, 30, allow_nan=False) for _ in range(3))), min_size=1, max_size=20
    ),
    a=st.tuples(*(st.floats(0.01, 5) for _ in range(3))),
    b=st.tuples(*(st.floats(-5, 5) for _ in range(3))),
)
def test_horizons_never_invert(z, a, b) -> None:  # type: ignore[no-untyped-def]
    """P(1 y) <= P(2 y) <= P(5 y) for any interval scores and recalibration."""
    recal = [Recalibration(a=x, b=y) for x, y in zip(a, b, strict=True)]
    p = cumulative_probabilities(np.asarray(z), recal)
    assert (np.diff(p, axis=1) >= 0).all()
    assert ((p >= 0) & (p <= 1)).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fitted_model_never_inverts_on_random_panels(seed: int) -> None:
    model, pop = fitted_hazard(seed=seed)
    rng = np.random.default_rng(seed)
    X = pop[FEATURES].sample(200, random_state=seed).reset_index(drop=True)
    X.loc[rng.random(len(X)) < 0.3, "x_signal"] = np.nan
    X["x_signal"] *= rng.normal(0, 5, size=len(X))  # far outside the training range too
    p = model.predict_horizons(X)
    assert (np.diff(p, axis=1) >= 0).all()


@pytest.mark.parametrize("horizon", [1, 2, 5])
def test_contributions_add_up_to_the_log_odds(horizon: int) -> None:
    model, pop = fitted_hazard(seed=5)
    model.set_recalibration({1: Recalibration(0.8, -0.1), 2: Recalibration(1.2, 0.3)})
    X = pop[FEATURES].head(300)
    values, base = model.contributions(X, horizon)
    p = model.predict_proba(X, horizon)
    np.testing.assert_allclose(values.sum(axis=1) + base, np.log(p / (1 - p)), atol=1e-6)
    assert np.ptp(base) < 1e-9, "one base value per model and horizon"
    signal = list(model.feature_names_in_).index("x_signal")
    assert np.corrcoef(values[:, signal], X["x_signal"].fillna(0))[0, 1] > 0.8


def test_saved_model_predicts_identically_and_is_validated(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model, pop = fitted_hazard(seed=6)
    model.set_recalibration({2: Recalibration(0.9, 0.2)})
    forecast.save_hazard(model, tmp_path / "m")
    back = forecast.load_hazard(tmp_path / "m")
    X = pop[FEATURES].head(100)
    np.testing.assert_array_equal(back.predict_horizons(X), model.predict_horizons(X))
    spec = json.loads((tmp_path / "m" / forecast.MODEL_JSON).read_text())
    spec["features"] = list(reversed(spec["features"]))
    (tmp_path / "m" / forecast.MODEL_JSON).write_text(json.dumps(spec))
    with pytest.raises(ValueError, match="in order"):
        forecast.load_hazard(tmp_path / "m")
    text = (tmp_path / "m" / forecast.MODEL_JSON).read_text().replace('"a": 0.9', '"a": NaN')
    (tmp_path / "m" / forecast.MODEL_JSON).write_text(text)
    with pytest.raises(ValueError, match="finite"):
        forecast.load_hazard(tmp_path / "m")


def test_routed_model_sends_each_row_to_the_model_of_its_kind(tmp_path) -> None:  # type: ignore[no-untyped-def]
    relapse, pop = fitted_hazard(seed=8)
    other, _ = fitted_hazard(seed=9, signal=-2.0)
    model = RoutedModel(relapse=relapse, not_at_war=other, window_years=10)
    X = pop[FEATURES].head(200).copy()
    X.loc[X.index[:100], "leg_years_at_peace"] = 25.0  # beyond the window: the other model
    X.loc[X.index[100:150], "leg_years_at_peace"] = np.nan  # never in conflict: the other too
    X.loc[X.index[150:], "leg_years_at_peace"] = 3.0  # post-conflict: the relapse model
    inside = model.routes(X)
    assert not inside[:150].any() and inside[150:].all()
    p = model.predict_horizons(X)
    np.testing.assert_array_equal(p[inside], relapse.predict_horizons(X.loc[inside]))
    np.testing.assert_array_equal(p[~inside], other.predict_horizons(X.loc[~inside]))
    for h in (1, 5):
        values, base = model.contributions(X, h)
        q = model.predict_proba(X, h)
        np.testing.assert_allclose(values.sum(axis=1) + base, np.log(q / (1 - q)), atol=1e-6)
    forecast.save_model(model, tmp_path / "routed")
    back = forecast.load_model(tmp_path / "routed")
    np.testing.assert_array_equal(back.predict_horizons(X), p)


def test_recalibration_uses_only_outcomes_known_at_the_origin() -> None:
    scores = pd.DataFrame(
        {
            "origin": np.repeat(np.arange(1990, 2010), 50),
            "z_h1": np.tile(np.linspace(-3, 1, 50), 20),
        }
    )
    rng = np.random.default_rng(0)
    scores["relapse_h1"] = rng.random(len(scores)) < expit(scores["z_h1"] - 1)
    scores["relapse_h1"] = scores["relapse_h1"].astype(float)
    # Make every forecast of 2003 onwards come true: only later origins could see that.
    scores.loc[scores["origin"] >= 2003, "relapse_h1"] = 1.0
    early = recalibrations(scores, [1], 2003, "intercept")[1]
    late = recalibrations(scores, [1], 2009, "intercept")[1]
    assert early.n_fit == 13 * 50 and late.n_fit == 19 * 50
    assert early.a == late.a == 1.0
    assert abs(early.b + 1.0) < 0.5, "recovers the planted shift of -1"
    assert late.b > early.b + 0.5
    assert recalibrations(scores, [1], 2003, "logistic")[1].a > 0
    assert recalibrations(scores, [1], 2003, "none")[1] == Recalibration()


@pytest.mark.parametrize("calibration", ["none", "logistic"])
def test_backtest_is_deterministic(calibration: str) -> None:
    panel = synthetic_panel(seed=4)
    cfg = compose_config([*FAST, "split.first_origin=2008", f"model.calibration={calibration}"])
    runs = [
        evaluate(backtest(panel, FEATURES, cfg).predictions, bootstrap_samples=20, seed=cfg.seed)
        for _ in range(2)
    ]
    pd.testing.assert_frame_equal(runs[0], runs[1])


def test_the_default_model_does_not_depend_on_the_seed() -> None:
    panel = synthetic_panel(seed=2)
    preds = [
        backtest(panel, FEATURES, compose_config([*FAST, f"seed={s}"])).predictions for s in (1, 2)
    ]
    np.testing.assert_array_equal(preds[0]["p_model"], preds[1]["p_model"])


def test_planted_signal_beats_climatology_and_horizons_stay_consistent() -> None:
    panel = synthetic_panel(seed=7, signal=2.5)
    cfg = compose_config([*FAST, "split.first_origin=2005"])
    preds = backtest(panel, FEATURES, cfg).predictions
    table = evaluate(preds, bootstrap_samples=50, seed=0)
    for h in (1, 2, 5):
        auc = metric_value(table, h, "model", "roc_auc")
        assert auc > 0.7
        assert auc > metric_value(table, h, "climatology", "roc_auc") + 0.15
        assert auc > metric_value(table, h, "history", "roc_auc") + 0.1
    assert metric_value(table, 1, "model", "brier_skill") > 0.05
    assert inversions(preds) == 0
    assert set(preds.groupby("horizon")["year"].max()) == {2017, 2016, 2013}


def test_build_hazard_model_reads_the_config() -> None:
    cfg = compose_config(["seed=11", "target.horizons=[1,3]", "split.validation_years=2"])
    est = build_hazard_model(cfg)
    assert est.random_state == 11 and tuple(est.horizons) == (1, 3)
    assert est.validation_years == 2
    assert est.params["num_leaves"] == cfg.model.params.num_leaves
