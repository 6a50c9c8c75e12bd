"""Explain forecasts: TreeSHAP values per feature, summed into the factor families.

The SHAP values come from LightGBM's own exact TreeSHAP (``booster.predict(X,
pred_contrib=True)``), on the model's raw score, the **log-odds** of relapse. For each row
the feature contributions plus the base value (the last column LightGBM returns, the same for
every row of one model) equal the raw score exactly; :func:`shap_values` checks this.

Summing SHAP values within a family
-----------------------------------
Family contributions are the sums of the SHAP values of the family's features (the family of
each feature comes from the registry, ``relapse.features.family_map``). Read them with care:

* **Additivity holds**: base value + the family contributions = the raw score, for every row,
  and the year-on-year changes of the family contributions add up to the change in the raw
  score (:func:`change_since_last_year`).
* **Interactions are attributed per feature**, then summed: an interaction between a mission
  feature and a governance feature is split between the two families by the SHAP rules, not
  reported on its own.
* **A family total is not the effect of removing the family**: refitting the model without it,
  or setting its features to "typical" values, would give a different number. SHAP describes
  how this model arrived at this score, not what would happen if a lever changed.
* **Correlated features share credit**: when features of two families move together (GDP and
  infant mortality, say), the model may use either, and the credit falls where the trees
  happened to split. A small family total does not prove that the family does not matter.

Everything here is associational, not causal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from relapse.errors import ModelError

KEYS: tuple[str, str] = ("gwno", "year")
ADDITIVITY_TOL = 1e-6


def contributions(
    booster: Any, X: pd.DataFrame, feature_names: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Exact TreeSHAP contributions of a LightGBM binary model.

    Parameters
    ----------
    booster
        A ``lightgbm.Booster`` (binary objective; one output).
    X
        Feature matrix; must contain every feature the model uses (extra columns are ignored,
        the columns are put in the model's order).
    feature_names
        The model's features in training order; default ``booster.feature_name()``.

    Returns
    -------
    values, base
        ``values`` (n_rows × n_features, log-odds) and ``base`` (n_rows,), the model's base
        value. ``values.sum(axis=1) + base`` is the raw score.

    Raises
    ------
    ModelError
        If a model feature is missing from ``X`` or the model has more than one output.
    """
    names = list(feature_names) if feature_names is not None else list(booster.feature_name())
    missing = [n for n in names if n not in X.columns]
    if missing:
        raise ModelError(f"the model's features are missing from the data: {missing}")
    matrix = X[names].to_numpy(dtype=np.float64, na_value=np.nan)
    out = np.asarray(booster.predict(matrix, pred_contrib=True))
    if out.ndim != 2 or out.shape[1] != len(names) + 1:
        raise ModelError(
            f"expected {len(names) + 1} contribution columns (binary model), got {out.shape}"
        )
    return out[:, :-1], out[:, -1]


def shap_values(
    booster: Any,
    X: pd.DataFrame,
    keys: pd.DataFrame | None = None,
    *,
    horizon: int = 0,
    feature_names: Sequence[str] | None = None,
    check: bool = True,
) -> pd.DataFrame:
    """SHAP values of every row and feature, as a long table.

    Parameters
    ----------
    booster
        LightGBM binary booster.
    X
        Feature matrix (rows to explain).
    keys
        Row keys aligned with ``X`` (``gwno``, ``year``); default: those columns of ``X``.
    horizon
        Forecast horizon of the model, stored in the ``horizon`` column (0: not given).
    feature_names
        The model's features in training order; default ``booster.feature_name()``.
    check
        Verify that base value + SHAP values equal ``booster.predict(raw_score=True)``.

    Returns
    -------
    DataFrame
        One row per (row, feature): ``gwno``, ``year``, ``horizon``, ``feature``, ``value``
        (SHAP, log-odds), ``base_value``, ``feature_value`` (the input, NaN if missing).
    """
    names = list(feature_names) if feature_names is not None else list(booster.feature_name())
    values, base = contributions(booster, X, names)
    if check:
        check_additivity(booster, X[names], values, base)
    keys = _keys(X, keys)
    n, k = values.shape
    feature_values = X[names].to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.DataFrame(
        {
            "gwno": np.repeat(keys["gwno"].to_numpy(), k),
            "year": np.repeat(keys["year"].to_numpy(), k),
            "horizon": np.full(n * k, horizon, dtype=np.int64),
            "feature": pd.Categorical(np.tile(names, n), categories=names),
            "value": values.reshape(-1),
            "base_value": np.repeat(base, k),
            "feature_value": feature_values.reshape(-1),
        }
    )


def check_additivity(booster: Any, X: pd.DataFrame, values: np.ndarray, base: np.ndarray) -> None:
    """Raise :class:`ModelError` unless base + SHAP values equal the raw score (1e-6)."""
    raw = np.asarray(booster.predict(X.to_numpy(dtype=np.float64, na_value=np.nan), raw_score=True))
    gap = np.abs(values.sum(axis=1) + base - raw)
    if gap.size and gap.max() > ADDITIVITY_TOL:
        raise ModelError(f"SHAP values do not add up to the raw score (max gap {gap.max():.2e})")


def wide(shap_long: pd.DataFrame) -> pd.DataFrame:
    """The long SHAP table as one row per (gwno, year, horizon) and one column per feature."""
    out = shap_long.pivot_table(
        index=["gwno", "year", "horizon"], columns="feature", values="value", observed=True
    )
    out.columns = out.columns.astype(str)
    base = shap_long.groupby(["gwno", "year", "horizon"], observed=True)["base_value"].first()
    return out.assign(base_value=base).reset_index()


def family_contributions(
    shap_long: pd.DataFrame, family_map: Mapping[str, str], families: Sequence[str] | None = None
) -> pd.DataFrame:
    """Sum the SHAP values within each factor family.

    Parameters
    ----------
    shap_long
        Output of :func:`shap_values` (one or several horizons).
    family_map
        Feature name → family (``relapse.features.family_map(cfg)``, or the model's own).
    families
        Families to report, in order (a family without features gets 0); default: those in
        ``family_map``, in first-seen order.

    Returns
    -------
    DataFrame
        One row per (gwno, year, horizon, family): ``value`` (sum of SHAP, log-odds),
        ``base_value`` and ``raw_score`` (base value + all families, the model's log-odds).

    Raises
    ------
    ModelError
        If a feature has no family.
    """
    features = [str(f) for f in pd.unique(shap_long["feature"].astype(str))]
    unmapped = [f for f in features if f not in family_map]
    if unmapped:
        raise ModelError(f"features without a family in the registry: {unmapped}")
    order = list(families) if families is not None else list(dict.fromkeys(family_map.values()))
    fam = shap_long["feature"].astype(str).map(family_map)
    grouped = (
        shap_long.assign(family=pd.Categorical(fam, categories=order))
        .groupby(["gwno", "year", "horizon", "family"], observed=False, sort=True)["value"]
        .sum()
        .reset_index()
    )
    rows = shap_long.groupby(["gwno", "year", "horizon"], observed=True)
    totals = pd.DataFrame(
        {"base_value": rows["base_value"].first(), "raw_score": rows["value"].sum()}
    )
    totals["raw_score"] += totals["base_value"]
    out = grouped.merge(totals.reset_index(), on=["gwno", "year", "horizon"], how="inner")
    out["family"] = out["family"].astype(str)
    return out[["gwno", "year", "horizon", "family", "value", "base_value", "raw_score"]]


def global_importance(shap_long: pd.DataFrame, family_map: Mapping[str, str]) -> pd.DataFrame:
    """Mean absolute SHAP value per family and per feature, per horizon.

    The family figure is the mean over rows of |sum of the family's SHAP values|, so features
    of one family that cancel within a row do not count twice.

    Returns
    -------
    DataFrame
        ``horizon``, ``level`` (``family`` or ``feature``), ``name``, ``family``,
        ``mean_abs_shap``, ``rank`` (1 = largest, within horizon and level).
    """
    by_feature = (
        shap_long.assign(
            abs_value=shap_long["value"].abs(), feature=shap_long["feature"].astype(str)
        )
        .groupby(["horizon", "feature"], observed=True)["abs_value"]
        .mean()
        .rename("mean_abs_shap")
        .reset_index()
        .rename(columns={"feature": "name"})
    )
    by_feature["family"] = by_feature["name"].map(family_map)
    by_feature["level"] = "feature"
    fam = family_contributions(shap_long, family_map)
    by_family = (
        fam.assign(abs_value=fam["value"].abs())
        .groupby(["horizon", "family"], observed=True)["abs_value"]
        .mean()
        .rename("mean_abs_shap")
        .reset_index()
    )
    by_family["name"] = by_family["family"]
    by_family["level"] = "family"
    out = pd.concat([by_family, by_feature], ignore_index=True)
    out["rank"] = (
        out.groupby(["horizon", "level"])["mean_abs_shap"]
        .rank(ascending=False, method="first")
        .astype("int64")
    )
    cols = ["horizon", "level", "name", "family", "mean_abs_shap", "rank"]
    return out.sort_values(["horizon", "level", "rank"]).reset_index(drop=True)[cols]


def country_contributions(
    family_contrib: pd.DataFrame, gwno: int, horizon: int | None = None
) -> pd.DataFrame:
    """One country's family contributions over time, one column per family.

    Returns
    -------
    DataFrame
        ``year``, ``horizon``, ``base_value``, one column per family (log-odds),
        ``raw_score``; sorted by horizon and year.
    """
    rows = family_contrib.loc[family_contrib["gwno"] == gwno]
    if horizon is not None:
        rows = rows.loc[rows["horizon"] == horizon]
    if rows.empty:
        return pd.DataFrame(columns=["year", "horizon", "base_value", "raw_score"])
    families = list(dict.fromkeys(rows["family"]))
    table = rows.pivot_table(
        index=["horizon", "year"], columns="family", values="value", observed=True
    )[families]
    table.columns.name = None
    totals = rows.groupby(["horizon", "year"])[["base_value", "raw_score"]].first()
    out = totals[["base_value"]].join(table).join(totals[["raw_score"]]).reset_index()
    return out.sort_values(["horizon", "year"]).reset_index(drop=True)


def change_since_last_year(
    family_contrib: pd.DataFrame,
    gwno: int | None = None,
    year: int | None = None,
) -> pd.DataFrame:
    """Split the change in a forecast between year t − 1 and t into family contributions.

    For one model (one horizon) the base value is the same for every row, so the per-family
    differences add up exactly to the change in the raw score (log-odds). Rows whose previous
    year was not explained (the country was at war, or outside the data) are left out.

    Parameters
    ----------
    family_contrib
        Output of :func:`family_contributions`.
    gwno
        Only this country (default: every country).
    year
        Only changes into this year (default: every year with a previous year).

    Returns
    -------
    DataFrame
        One row per (gwno, year, horizon, family): ``delta`` (log-odds), ``value_prev``,
        ``value``, ``raw_prev``, ``raw_score``, ``raw_change``.
    """
    fc = family_contrib
    if gwno is not None:
        fc = fc.loc[fc["gwno"] == gwno]
    cur = fc if year is None else fc.loc[fc["year"] == year]
    prev = fc[["gwno", "year", "horizon", "family", "value", "raw_score", "base_value"]].rename(
        columns={"value": "value_prev", "raw_score": "raw_prev", "base_value": "base_prev"}
    )
    prev = prev.assign(year=prev["year"] + 1)
    out = cur.merge(prev, on=["gwno", "year", "horizon", "family"], how="inner")
    if not np.allclose(out["base_value"], out["base_prev"], atol=1e-12):
        raise ModelError("base values differ between years: compare forecasts of one model")
    out["delta"] = out["value"] - out["value_prev"]
    out["raw_change"] = out["raw_score"] - out["raw_prev"]
    cols = [
        "gwno",
        "year",
        "horizon",
        "family",
        "delta",
        "value_prev",
        "value",
        "raw_prev",
        "raw_score",
        "raw_change",
    ]
    return out[cols].sort_values(["gwno", "horizon", "year", "family"]).reset_index(drop=True)


def explain_panel(
    panel: pd.DataFrame,
    models: Mapping[int, Any],
    family_map: Mapping[str, str],
    *,
    rows: pd.Series | None = None,
    families: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SHAP and family tables for several horizons at once.

    Parameters
    ----------
    panel
        The panel (``build_panel(cfg).panel``).
    models
        Horizon → a LightGBM booster, or an object with ``booster`` and ``feature_names``
        (``relapse.tracking.RegisteredModel``).
    family_map
        Feature name → family.
    rows
        Boolean mask of the rows to explain; default ``panel["in_population"]``.

    Returns
    -------
    shap_long, family_contrib
    """
    mask = panel["in_population"] if rows is None else rows
    X = panel.loc[mask.to_numpy(dtype=bool)]
    parts = []
    for h, model in models.items():
        booster, names = booster_and_features(model)
        parts.append(
            shap_values(booster, X, X[["gwno", "year"]], horizon=int(h), feature_names=names)
        )
    shap_long = pd.concat(parts, ignore_index=True)
    shap_long["feature"] = shap_long["feature"].astype(str)
    return shap_long, family_contributions(shap_long, family_map, families)


def booster_and_features(model: Any) -> tuple[Any, list[str]]:
    """A booster and its feature list.

    Accepts a ``lightgbm.Booster``, a registered model (``booster``, ``feature_names``) or a
    fitted scikit-learn-style estimator (``booster_``, ``feature_names_in_``).
    """
    booster = getattr(model, "booster", None) or getattr(model, "booster_", None) or model
    names = getattr(model, "feature_names", None)
    if names is None:
        names = getattr(model, "feature_names_in_", None)
    if names is None or len(names) == 0:
        names = booster.feature_name()
    return booster, [str(n) for n in names]


def _keys(X: pd.DataFrame, keys: pd.DataFrame | None) -> pd.DataFrame:
    if keys is None:
        missing = [k for k in KEYS if k not in X.columns]
        if missing:
            raise ModelError(f"pass keys= or include {missing} in X")
        keys = X[list(KEYS)]
    if len(keys) != len(X):
        raise ModelError(f"keys have {len(keys)} rows but X has {len(X)}")
    return keys.reset_index(drop=True)
