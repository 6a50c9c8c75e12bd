"""Explain forecasts: TreeSHAP values per feature, summed into the factor families.

The values are exact contributions to the model's **log-odds** of relapse: for each interval
model, the conflict-history logit's terms (a linear model on standardised inputs has exact
per-feature contributions) plus LightGBM's own exact TreeSHAP of its trees
(``pred_contrib``) — so the **conflict-legacy family includes the baseline**. For horizons
beyond the first, the interval models are composed and their contributions are carried through
the composition along a path integral (:meth:`relapse.model.HazardModel.contributions`). For
each row the contributions plus the base value equal the log-odds; :func:`shap_values` checks
this.

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

shap
----
:func:`explanation` and :func:`family_explanation` hand the same exact values to the ``shap``
package as ``shap.Explanation`` objects, for shap's own plots (``shap.plots.waterfall``,
``beeswarm``, ``bar``). shap is imported only there: the batch job never loads it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from relapse.errors import ModelError

KEYS: tuple[str, str] = ("gwno", "year")
ADDITIVITY_TOL = 1e-6


@dataclass(frozen=True)
class BoosterModel:
    """A bare LightGBM binary booster seen as a model (tests, notebooks, simulations)."""

    booster: Any

    @property
    def feature_names(self) -> list[str]:
        """The booster's features in training order."""
        return [str(n) for n in self.booster.feature_name()]

    def _matrix(self, X: pd.DataFrame) -> np.ndarray:
        missing = [n for n in self.feature_names if n not in X.columns]
        if missing:
            raise ModelError(f"the model's features are missing from the data: {missing}")
        return X[self.feature_names].to_numpy(dtype=np.float64, na_value=np.nan)

    def raw_score(self, X: pd.DataFrame) -> np.ndarray:
        """Log-odds."""
        return np.asarray(self.booster.predict(self._matrix(X), raw_score=True))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Probabilities, shape ``(n,)``."""
        from scipy.special import expit

        return expit(self.raw_score(X))

    def contributions(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Exact TreeSHAP values (LightGBM ``pred_contrib``) and the base value."""
        out = np.asarray(self.booster.predict(self._matrix(X), pred_contrib=True))
        if out.ndim != 2 or out.shape[1] != len(self.feature_names) + 1:
            raise ModelError(
                f"expected {len(self.feature_names) + 1} contribution columns (binary model), "
                f"got {out.shape}"
            )
        return out[:, :-1], out[:, -1]


@dataclass(frozen=True)
class BoosterHazard:
    """A bare booster in the shape of a fitted :class:`relapse.model.HazardModel` serving
    one horizon without recalibration (what :class:`relapse.forecast.Forecast` wraps)."""

    booster: BoosterModel
    horizon: int

    @property
    def feature_names_in_(self) -> np.ndarray:
        """The booster's features in training order."""
        return np.asarray(self.booster.feature_names, dtype=object)

    @property
    def horizons_(self) -> tuple[int, ...]:
        """The one horizon served."""
        return (self.horizon,)

    @property
    def recalibration_(self) -> dict[int, Any]:
        """No interval is recalibrated."""
        return {}

    def decision_function(self, X: pd.DataFrame, horizon: int | None = None) -> np.ndarray:
        """Log-odds."""
        return self.booster.raw_score(X)

    def predict_proba(self, X: pd.DataFrame, horizon: int | None = None) -> np.ndarray:
        """Probabilities, shape ``(n,)``."""
        return self.booster.predict_proba(X)

    def contributions(
        self, X: pd.DataFrame, horizon: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact TreeSHAP values and the base value."""
        return self.booster.contributions(X)


def booster_forecast(
    booster: Any, horizon: int, family_map: Mapping[str, str], **provenance: Any
) -> Any:
    """A :class:`relapse.forecast.Forecast` of horizon ``horizon`` scored by a bare LightGBM
    binary booster (benchmarks, tests, notebooks); ``provenance``: ``name``, ``version``…"""
    from relapse.forecast import Forecast

    return Forecast(
        model=BoosterHazard(BoosterModel(booster), int(horizon)),
        horizon=int(horizon),
        family_map=dict(family_map),
        **provenance,
    )


def as_model(model: Any) -> Any:
    """``model`` itself, or a :class:`BoosterModel` around a bare ``lightgbm.Booster``.

    Models are :class:`relapse.forecast.Forecast` objects (``feature_names``,
    ``contributions(X)``, ``raw_score(X)``, ``predict_proba(X)``).
    """
    import lightgbm as lgb

    return BoosterModel(model) if isinstance(model, lgb.Booster) else model


def contributions(model: Any, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Exact per-feature contributions to a model's log-odds and its base value.

    Parameters
    ----------
    model
        A :class:`relapse.forecast.Forecast` or a bare LightGBM binary booster.
    X
        Feature matrix; must contain every feature the model uses (extra columns are ignored).

    Returns
    -------
    values, base
        ``values`` (n_rows × n_features in the model's order, log-odds) and ``base``
        (n_rows,). ``values.sum(axis=1) + base`` is the log-odds.
    """
    return as_model(model).contributions(X)


def shap_values(
    model: Any,
    X: pd.DataFrame,
    keys: pd.DataFrame | None = None,
    *,
    horizon: int = 0,
    check: bool = True,
) -> pd.DataFrame:
    """SHAP values of every row and feature, as a long table.

    Parameters
    ----------
    model
        A :class:`relapse.forecast.Forecast` or a bare LightGBM binary booster.
    X
        Feature matrix (rows to explain).
    keys
        Row keys aligned with ``X`` (``gwno``, ``year``); default: those columns of ``X``.
    horizon
        Forecast horizon of the model, stored in the ``horizon`` column (0: not given).
    check
        Verify that base value + contributions equal the model's log-odds.

    Returns
    -------
    DataFrame
        One row per (row, feature): ``gwno``, ``year``, ``horizon``, ``feature``, ``value``
        (log-odds), ``base_value``, ``feature_value`` (the input, NaN if missing).
    """
    model = as_model(model)
    names = list(model.feature_names)
    values, base = model.contributions(X)
    if check:
        check_additivity(model, X, values, base)
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


def check_additivity(model: Any, X: pd.DataFrame, values: np.ndarray, base: np.ndarray) -> None:
    """Raise :class:`ModelError` unless base + contributions equal the log-odds (1e-6)."""
    raw = np.asarray(as_model(model).raw_score(X))
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


def missing_share(shap_long: pd.DataFrame, year: int | None = None) -> float:
    """Share of the absolute SHAP weight that comes from missing feature values.

    Parameters
    ----------
    shap_long
        Output of :func:`shap_values` (one or several horizons; ``feature_value`` NaN where
        the input was missing).
    year
        Only rows of this year (the forecast year); default every row.

    Returns
    -------
    float
        Σ |value| over (row, feature) pairs whose ``feature_value`` is NaN, divided by
        Σ |value| over all pairs; NaN when there is no weight at all.
    """
    rows = shap_long if year is None else shap_long.loc[shap_long["year"] == year]
    weight = rows["value"].abs()
    total = float(weight.sum())
    if total == 0.0:
        return float("nan")
    return float(weight.loc[rows["feature_value"].isna()].sum()) / total


def missing_weight_by_feature(shap_long: pd.DataFrame, year: int | None = None) -> pd.Series:
    """Each feature's share of the absolute SHAP weight coming from its missing values.

    Same weights as :func:`missing_share` (whose value is this Series' sum), largest first,
    features with no missing weight left out.
    """
    rows = shap_long if year is None else shap_long.loc[shap_long["year"] == year]
    weight = rows["value"].abs()
    total = float(weight.sum())
    gaps = weight.loc[rows["feature_value"].isna()]
    if total == 0.0 or gaps.empty:
        return pd.Series(dtype="float64", name="missing_share")
    names = rows.loc[gaps.index, "feature"].astype(str)
    share = gaps.groupby(names).sum() / total
    return share.loc[share > 0].sort_values(ascending=False).rename("missing_share")


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
        Horizon → a :class:`relapse.forecast.Forecast` (or a bare LightGBM booster).
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
    shap_long = concat_shap(
        [shap_values(model, X, X[list(KEYS)], horizon=int(h)) for h, model in models.items()]
    )
    return shap_long, family_contributions(shap_long, family_map, families)


def concat_shap(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Stack :func:`shap_values` tables, with ``feature`` as plain strings (object column).

    A categorical ``feature`` is decoded through its categories (one conversion per name,
    not per row).
    """
    out = pd.concat(parts, ignore_index=True)
    feature = out["feature"]
    if isinstance(feature.dtype, pd.CategoricalDtype) and not feature.isna().any():
        names = np.asarray(feature.cat.categories.astype(str), dtype=object)
        out["feature"] = names[feature.cat.codes.to_numpy()]
    else:
        out["feature"] = feature.astype(str)
    return out


def _keys(X: pd.DataFrame, keys: pd.DataFrame | None) -> pd.DataFrame:
    if keys is None:
        missing = [k for k in KEYS if k not in X.columns]
        if missing:
            raise ModelError(f"pass keys= or include {missing} in X")
        keys = X[list(KEYS)]
    if len(keys) != len(X):
        raise ModelError(f"keys have {len(keys)} rows but X has {len(X)}")
    return keys.reset_index(drop=True)


# ------------------------------------------------------------------------- shap objects


def _exact(model: Any, X: pd.DataFrame, horizon: int | None) -> tuple[Any, np.ndarray, np.ndarray]:
    """The model serving ``horizon`` and its checked contributions and base values on ``X``."""
    import dataclasses

    from relapse.forecast import Forecast

    model = as_model(model)
    if horizon is not None and isinstance(model, Forecast) and int(horizon) != model.horizon:
        if int(horizon) not in model.horizons:
            raise ModelError(
                f"{model.label} forecasts horizons {list(model.horizons)}, not {horizon}"
            )
        model = dataclasses.replace(model, horizon=int(horizon))
    values, base = model.contributions(X)
    check_additivity(model, X, values, base)
    return model, values, base


def explanation(model: Any, X: pd.DataFrame, horizon: int | None = None) -> Any:
    """The exact contributions of a forecast as a ``shap.Explanation`` (one row per row of X).

    Parameters
    ----------
    model
        A :class:`relapse.forecast.Forecast` (e.g. ``relapse.registry.load_registered``) or a
        bare LightGBM binary booster.
    X
        Feature matrix (rows to explain; extra columns are ignored).
    horizon
        Horizon to explain (default: the forecast's own); any horizon of the underlying model.

    Returns
    -------
    shap.Explanation
        ``values`` (log-odds contributions, :meth:`relapse.forecast.Forecast.contributions`:
        the history logit's exact terms plus TreeSHAP of the trees, carried through the
        hazard composition), ``base_values``, ``data`` (the inputs, NaN if missing) and
        ``feature_names``. ``values.sum(axis=1) + base_values`` is the log-odds of the
        forecast (checked to 1e-6, else :class:`ModelError`).
    """
    import shap

    model, values, base = _exact(model, X, horizon)
    names = list(model.feature_names)
    return shap.Explanation(
        values=values,
        base_values=base,
        data=X[names].to_numpy(dtype=np.float64, na_value=np.nan),
        feature_names=names,
    )


def family_explanation(
    model: Any,
    X: pd.DataFrame,
    horizon: int | None = None,
    family_map: Mapping[str, str] | None = None,
    families: Sequence[str] | None = None,
) -> Any:
    """:func:`explanation` summed within each factor family (one column per family).

    Parameters
    ----------
    model, X, horizon
        As :func:`explanation`.
    family_map
        Feature → family (default: the forecast's own ``family_map``).
    families
        Families in column order (default: first seen in ``family_map``); a family without
        features gets zeros.

    Returns
    -------
    shap.Explanation
        ``values`` (n_rows × n_families, log-odds), ``base_values``, ``feature_names`` (the
        families); ``data`` is None (a family has no single input value). The values still
        add up to the log-odds with the base value.

    Raises
    ------
    ModelError
        If a feature has no family.
    """
    import shap

    model, values, base = _exact(model, X, horizon)
    names = list(model.feature_names)
    fmap = dict(family_map if family_map is not None else getattr(model, "family_map", {}))
    unmapped = [f for f in names if f not in fmap]
    if unmapped:
        raise ModelError(f"features without a family: {unmapped}")
    order = list(families) if families is not None else list(dict.fromkeys(fmap[f] for f in names))
    missing = sorted({fmap[f] for f in names} - set(order))
    if missing:
        raise ModelError(f"families {missing} of the model's features are not in {order}")
    member = np.array([[fmap[f] == fam for fam in order] for f in names], dtype=np.float64)
    return shap.Explanation(values=values @ member, base_values=base, feature_names=order)
