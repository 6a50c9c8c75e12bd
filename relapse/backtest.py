"""The rolling-origin backtest: fit every model per origin, forecast the origin year.

For each horizon ``h`` and origin ``T`` (:func:`relapse.splits.origins_from_config`), the
LightGBM model, the conflict-history logistic regression and climatology are fitted on the
labelled population rows of years ``t <= T - h`` only, and forecast the population rows of
year ``T``. Nothing of the test year, and no label that resolves after ``T``, reaches any
fitted object (imputer, scaler, booster, calibrator).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from relapse.model import (
    HISTORY_FEATURES,
    ClimatologyClassifier,
    build_model,
    history_baseline,
)
from relapse.splits import Origin, label_column, origins_from_config

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
    """Out-of-sample predictions of one horizon and what each fold used."""

    predictions: pd.DataFrame
    folds: pd.DataFrame = field(default_factory=pd.DataFrame)


def fit_fold(
    panel: pd.DataFrame,
    origin: Origin,
    features: Sequence[str],
    model_cfg: Any,
    seed: int,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fit the three models on one origin's training window and forecast its test year.

    Parameters
    ----------
    panel
        The panel (``relapse.build.build_panel(cfg).panel``).
    origin
        The split.
    features
        Model feature columns.
    model_cfg
        ``cfg.model``.
    seed
        ``cfg.seed``.

    Returns
    -------
    (DataFrame, dict)
        Predictions for the test rows (:data:`PREDICTION_COLUMNS`) and fold information
        (``origin``, ``n_train``, ``n_validation``, ``n_test``, ``best_iteration``).
    """
    h = origin.horizon
    label = label_column(h)
    train = panel.loc[origin.train_mask(panel)]
    test = panel.loc[origin.test_mask(panel)]
    _check_fold(train, test, origin)
    y = train[label].astype("int64").to_numpy()
    validation = train["year"].isin(origin.validation_years).to_numpy()
    X = train[list(features)]
    model = build_model(model_cfg, seed).fit(X, y, validation=validation)
    out = pd.DataFrame(
        {
            "gwno": test["gwno"].to_numpy(),
            "year": test["year"].to_numpy(),
            "horizon": h,
            "y_true": test[label].astype("int64").to_numpy(),
        }
    )
    out["p_model"] = model.predict_proba(test[list(features)])[:, 1] if len(test) else []
    history = [c for c in HISTORY_FEATURES if c in panel.columns]
    if len(history) == len(HISTORY_FEATURES) and len(np.unique(y)) == 2:
        base = history_baseline(history, random_state=seed).fit(train[history], y)
        out["p_history"] = base.predict_proba(test[history])[:, 1] if len(test) else []
    else:
        out["p_history"] = np.nan
    clim = ClimatologyClassifier().fit(X, y)
    out["p_climatology"] = clim.base_rate_
    info = {
        "horizon": h,
        "origin": origin.origin,
        "n_train": len(train),
        "n_validation": int(validation.sum()),
        "n_test": len(test),
        "train_base_rate": clim.base_rate_,
        "best_iteration": model.best_iteration_,
    }
    return out, info


def _check_fold(train: pd.DataFrame, test: pd.DataFrame, origin: Origin) -> None:
    """Belt and braces: the rows actually selected obey the origin's invariants."""
    if len(train) and int(train["year"].max()) + origin.horizon > origin.origin:
        raise ValueError(f"fold {origin}: a training label resolves after the origin")
    if len(test) and (test["year"] != origin.origin).any():
        raise ValueError(f"fold {origin}: a test row is not of the origin year")


def backtest(
    panel: pd.DataFrame,
    features: Sequence[str],
    horizon: int,
    cfg: Any,
    progress: Callable[[str], None] | None = None,
) -> BacktestResult:
    """Run the rolling-origin backtest for one horizon.

    Parameters
    ----------
    panel
        The panel.
    features
        Model feature columns.
    horizon
        Forecast horizon ``h``.
    cfg
        The composed config (``split``, ``model``, ``seed`` are read).
    progress
        Optional callable receiving a short message after each fold.

    Returns
    -------
    BacktestResult
        Predictions with columns :data:`PREDICTION_COLUMNS` (one row per labelled
        population row of every origin year) and one row of fold information per origin.
    """
    origins = origins_from_config(panel, horizon, cfg.split)
    if not origins:
        raise ValueError(
            f"no backtest origins for h={horizon}: split.first_origin={cfg.split.first_origin} "
            f"is after the last year with a known {horizon}-year label"
        )
    preds, infos = [], []
    for origin in origins:
        out, info = fit_fold(panel, origin, features, cfg.model, int(cfg.seed))
        preds.append(out)
        infos.append(info)
        if progress is not None:
            progress(f"h={horizon} origin {origin.origin}")
    predictions = pd.concat(preds, ignore_index=True)[list(PREDICTION_COLUMNS)]
    return BacktestResult(predictions=predictions, folds=pd.DataFrame(infos))
