"""The rolling-origin backtest: fit every model per origin, forecast the origin year.

For each origin ``T`` the relapse model (:class:`relapse.model.HazardModel`) is fitted on the
population rows of years before ``T`` whose outcome is known at ``T`` — each of its interval
models ``(h_{k-1}, h_k]`` on rows with ``t + h_k <= T`` only — and forecasts every horizon for
the population rows of year ``T`` at once, so the horizons are consistent by construction. The
conflict-history logistic regression and climatology are fitted per horizon on the labelled
rows of years ``t <= T - h``. Nothing of the test year, and no label that resolves after
``T``, reaches any fitted object (imputer, scaler, logit, booster).

**Recalibration** (``model.calibration=logistic``): the forecasts of origin ``T`` are
recalibrated with a logistic map of each interval's log-odds fitted on the *out-of-sample*
forecasts of earlier origins whose outcome is known at ``T`` (``T' + h_k <= T``). To have such
forecasts for the first evaluation origin, the model is also run on the calibration origins
``split.calibration_first_origin … split.first_origin - 1``; those origins are never
evaluated, and nothing is tuned on the evaluation origins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from relapse.model import (
    HISTORY_FEATURES,
    NOT_AT_WAR_HISTORY,
    HazardModel,
    Recalibration,
    RoutedModel,
    climatology_rate,
    cumulative_probabilities,
    history_baseline,
    interval_rows,
    intervals,
)
from relapse.splits import label_column, make_origin

PREDICTION_COLUMNS: tuple[str, ...] = (
    "gwno",
    "year",
    "horizon",
    "y_true",
    "p_model",
    "p_history",
    "p_climatology",
)


@dataclass
class BacktestResult:
    """Out-of-sample predictions of every horizon and what each fold used."""

    predictions: pd.DataFrame
    folds: pd.DataFrame = field(default_factory=pd.DataFrame)
    interval_scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Uncalibrated out-of-sample log-odds of each interval (``z_h{end}``) per origin row:
    what the final model's recalibration is fitted on."""
    not_at_war: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Forecasts for every country-year not at war of the evaluation origins (``risk_type``,
    ``p_model`` from the routed model, ``p_climatology`` the base rate of its training rows);
    empty when ``model.not_at_war`` is off."""


def build_hazard_model(cfg: Any, history: Sequence[str] = HISTORY_FEATURES) -> HazardModel:
    """A hazard model described by the ``model`` config group and ``target.horizons``."""
    params = dict(cfg.model.params)
    extra = [str(f) for f in cfg.model.logit_features if f not in history]
    return HazardModel(
        horizons=tuple(int(h) for h in cfg.target.horizons),
        history_features=(*history, *extra),
        params=params,
        num_boost_round=int(cfg.model.num_boost_round),
        early_stopping_rounds=int(cfg.model.early_stopping_rounds),
        validation_years=int(cfg.split.validation_years),
        random_state=int(cfg.seed),
    )


def population(panel: pd.DataFrame) -> pd.DataFrame:
    """The post-conflict population rows, in panel order."""
    return panel.loc[panel["in_population"].astype(bool).to_numpy()]


def not_at_war(panel: pd.DataFrame) -> pd.DataFrame:
    """Every country-year not in active conflict (post-conflict, long peace, never), in order."""
    return panel.loc[panel["risk_type"].notna().to_numpy()]


def fit_not_at_war(rows: pd.DataFrame, origin: int, features: Sequence[str], cfg: Any) -> Any:
    """The not-at-war hazard model on every non-active row whose outcome is known at ``T``."""
    horizons = [int(h) for h in cfg.target.horizons]
    train = rows.loc[rows["year"] < origin]
    return build_hazard_model(cfg, NOT_AT_WAR_HISTORY).fit(
        train[list(features)], label_frame(train, horizons), train["year"], origin
    )


def routed(relapse: HazardModel, other: HazardModel | None, cfg: Any) -> RoutedModel:
    """The model that serves every country not at war (:class:`relapse.model.RoutedModel`)."""
    return RoutedModel(relapse=relapse, not_at_war=other, window_years=int(cfg.target.window_years))


def label_frame(rows: pd.DataFrame, horizons: Sequence[int]) -> pd.DataFrame:
    """The ``relapse_h{h}`` columns of ``rows`` as floats (NaN: censored)."""
    return rows[[label_column(h) for h in horizons]].astype("float64")


def fit_origin(
    pop: pd.DataFrame, origin: int, features: Sequence[str], cfg: Any
) -> tuple[HazardModel, pd.DataFrame]:
    """Fit the relapse model for origin ``T`` and return it with its test rows' interval scores."""
    horizons = [int(h) for h in cfg.target.horizons]
    train = pop.loc[pop["year"] < origin]
    test = pop.loc[pop["year"] == origin]
    model = build_hazard_model(cfg).fit(
        train[list(features)], label_frame(train, horizons), train["year"], origin
    )
    _check_fit(model, train, origin)
    z = model.interval_scores(test[list(features)]) if len(test) else np.empty((0, len(horizons)))
    scores = test[["gwno", "year", *[label_column(h) for h in horizons]]].reset_index(drop=True)
    scores.insert(2, "origin", origin)
    for j, (_, end) in enumerate(intervals(horizons)):
        scores[f"z_h{end}"] = z[:, j]
    return model, scores


def _check_fit(model: HazardModel, train: pd.DataFrame, origin: int) -> None:
    """Belt and braces: no interval learned from a row whose outcome resolves after ``T``."""
    horizons = list(model.horizons_)
    labels = label_frame(train, horizons)
    for start, end in intervals(horizons):
        mask, _ = interval_rows(labels, train["year"], start, end, origin)
        if mask.any() and int(train["year"].to_numpy()[mask].max()) + end > origin:
            raise ValueError(f"origin {origin}: interval ({start}, {end}] saw a later label")
        if model.n_train_[end] != int(mask.sum()):
            raise ValueError(f"origin {origin}: interval ({start}, {end}] rows do not match")


def recalibrations(
    scores: pd.DataFrame, horizons: Sequence[int], origin: int, method: str
) -> dict[int, Recalibration]:
    """Interval recalibrations for origin ``T`` from earlier origins' out-of-sample scores.

    Uses the rows of origins ``T'`` whose interval outcome is known at ``T``
    (``T' + end <= T``), at risk in the interval. ``method`` ``none`` gives the identity.
    """
    out: dict[int, Recalibration] = {}
    for start, end in intervals(horizons):
        if method == "none":
            out[end] = Recalibration()
            continue
        known = scores.loc[scores["origin"] + end <= origin]
        labels = label_frame(known, horizons)
        mask, y = interval_rows(labels, known["origin"], start, end, origin)
        out[end] = Recalibration.fit(
            known[f"z_h{end}"].to_numpy()[mask], y[mask], slope=method == "logistic"
        )
    return out


def baselines(pop: pd.DataFrame, origin: int, horizon: int, cfg: Any) -> pd.DataFrame:
    """History logit and climatology for horizon ``h``, trained on ``t <= T - h``."""
    label = label_column(horizon)
    years = np.unique(pop["year"].to_numpy())
    split = make_origin(years, horizon, origin, int(cfg.split.validation_years))
    train = pop.loc[split.train_mask(pop)]
    test = pop.loc[split.test_mask(pop)]
    y = train[label].astype("int64").to_numpy()
    out = pd.DataFrame({"gwno": test["gwno"].to_numpy(), "year": test["year"].to_numpy()})
    history = list(HISTORY_FEATURES)
    if len(test) and len(np.unique(y)) == 2:
        base = history_baseline(history, random_state=int(cfg.seed)).fit(train[history], y)
        out["p_history"] = base.predict_proba(test[history])[:, 1]
    else:
        out["p_history"] = np.nan
    out["p_climatology"] = climatology_rate(y)
    return out


def backtest(
    panel: pd.DataFrame,
    features: Sequence[str],
    cfg: Any,
    progress: Callable[[str], None] | None = None,
) -> BacktestResult:
    """Run the rolling-origin backtest for every horizon of ``cfg.target.horizons``.

    Parameters
    ----------
    panel
        The panel.
    features
        Model feature columns.
    cfg
        The composed config (``target.horizons``, ``split``, ``model``, ``seed``).
    progress
        Optional callable receiving a short message after each origin.

    Returns
    -------
    BacktestResult
        Predictions with columns :data:`PREDICTION_COLUMNS`: for each horizon ``h``, one row
        per labelled population row of every evaluation origin ``first_origin … last - h``
        (``split.last_origin`` caps it); one row of fold information per origin and horizon.
    """
    horizons = sorted(int(h) for h in cfg.target.horizons)
    pop = population(panel)
    last = int(panel["year"].max())
    first = int(cfg.split.first_origin)
    cap = last if cfg.split.last_origin is None else min(last, int(cfg.split.last_origin))
    if first > min(cap, last - horizons[0]):
        raise ValueError(
            f"no backtest origins: split.first_origin={first} is after the last year with a "
            f"known {horizons[0]}-year label ({last - horizons[0]})"
        )
    method = str(cfg.model.calibration)
    start = min(first, int(cfg.split.calibration_first_origin)) if method != "none" else first
    years = set(pop["year"].astype(int))
    scores, folds, others = [], [], []
    rows = not_at_war(panel) if cfg.model.not_at_war else None
    for origin in range(start, min(cap, last - horizons[0]) + 1):
        if origin not in years:
            continue
        model, z = fit_origin(pop, origin, features, cfg)
        scores.append(z)
        if rows is not None and first <= origin:
            other = fit_not_at_war(rows, origin, features, cfg)
            others.append(_not_at_war_rows(rows, routed(model, other, cfg), origin, cap, last))
        folds.append(
            {
                "origin": origin,
                "evaluated": origin >= first,
                **{f"n_train_h{e}": n for e, n in model.n_train_.items()},
                **{f"rounds_h{e}": c.best_iteration_ for e, c in model.components_.items()},
                "n_test": len(z),
            }
        )
        if progress is not None:
            progress(f"origin {origin}")
    interval_scores = pd.concat(scores, ignore_index=True)
    predictions = _evaluation_rows(pop, interval_scores, horizons, first, cap, last, method, cfg)
    return BacktestResult(
        predictions=predictions,
        folds=pd.DataFrame(folds),
        interval_scores=interval_scores,
        not_at_war=pd.concat(others, ignore_index=True) if others else pd.DataFrame(),
    )


def _not_at_war_rows(
    rows: pd.DataFrame, model: RoutedModel, origin: int, cap: int, last: int
) -> pd.DataFrame:
    """The routed model's forecasts for every non-active row of ``T`` with a known outcome."""
    test = rows.loc[rows["year"] == origin]
    p = model.predict_horizons(test[list(model.feature_names_in_)])
    parts = []
    for j, h in enumerate(model.horizons_):
        if origin > min(cap, last - h):
            continue
        label = test[label_column(h)]
        known = label.notna().to_numpy()
        train = rows.loc[(rows["year"] + h <= origin), label_column(h)].dropna()
        parts.append(
            pd.DataFrame(
                {
                    "gwno": test["gwno"].to_numpy()[known],
                    "year": origin,
                    "horizon": h,
                    "risk_type": test["risk_type"].astype(str).to_numpy()[known],
                    "y_true": label.to_numpy()[known].astype("int64"),
                    "p_model": p[known, j],
                    "p_history": np.nan,
                    "p_climatology": climatology_rate(train) if len(train) else np.nan,
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _evaluation_rows(
    pop: pd.DataFrame,
    scores: pd.DataFrame,
    horizons: list[int],
    first: int,
    cap: int,
    last: int,
    method: str,
    cfg: Any,
) -> pd.DataFrame:
    """Recalibrated forecasts and the baselines on every evaluation origin's labelled rows."""
    parts = []
    for origin in sorted(scores["origin"].unique()):
        if origin < first:
            continue
        rows = scores.loc[scores["origin"] == origin]
        recal = recalibrations(scores, horizons, int(origin), method)
        z = rows[[f"z_h{end}" for _, end in intervals(horizons)]].to_numpy()
        cumulative = cumulative_probabilities(z, [recal[end] for _, end in intervals(horizons)])
        for j, h in enumerate(horizons):
            if origin > min(cap, last - h):
                continue
            label = rows[label_column(h)]
            known = label.notna().to_numpy()
            out = pd.DataFrame(
                {
                    "gwno": rows["gwno"].to_numpy()[known],
                    "year": rows["year"].to_numpy()[known],
                    "horizon": h,
                    "y_true": label.to_numpy()[known].astype("int64"),
                    "p_model": cumulative[known, j],
                }
            )
            base = baselines(pop, int(origin), h, cfg)
            parts.append(out.merge(base, on=["gwno", "year"], how="left", validate="one_to_one"))
    return pd.concat(parts, ignore_index=True)[list(PREDICTION_COLUMNS)]


def final_recalibration(
    result: BacktestResult, cfg: Any, last_year: int
) -> dict[int, Recalibration]:
    """The final model's interval recalibrations: every backtest origin known by the last year."""
    horizons = sorted(int(h) for h in cfg.target.horizons)
    return recalibrations(result.interval_scores, horizons, last_year, str(cfg.model.calibration))
