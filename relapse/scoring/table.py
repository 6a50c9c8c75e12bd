"""The score table: one row per country × horizon in the output contract's columns.

Columns and order are :data:`COLUMNS`, checked with :func:`score_schema` (pandera) before
anything is written. ``relapse_probability`` is rounded to :data:`PROBABILITY_DECIMALS`
decimals; risk bands are multiples of each horizon's base rate (:mod:`relapse.bands`).
``top_drivers_up`` / ``top_drivers_down`` are factor families with their summed SHAP
contributions (log-odds) to the raw model score, largest first, at most
:data:`DRIVERS_SHOWN` each, |value| ≥ :data:`DRIVER_MIN`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from relapse import bands
from relapse.forecast import Forecast

STATUSES: tuple[str, ...] = ("scored", "active_conflict", "missing_data")


BAND_LABELS: tuple[str, ...] = bands.BAND_LABELS


COLUMNS: tuple[str, ...] = (
    "gwno",
    "iso3",
    "country",
    "as_of_year",
    "horizon_years",
    "relapse_probability",
    "status",
    "risk_band",
    "top_drivers_up",
    "top_drivers_down",
    "missions",
    "model_name",
    "model_version",
    "data_vintage",
    # Added by issue 14 (after the original columns; none renamed).
    "risk_type",
    "years_at_peace",
    "base_rate",
    "rank",
    "previous_probability",
    "change_since_last",
    "driver_up_family",
    "driver_up_contribution",
    "driver_down_family",
    "driver_down_contribution",
    "conflicts",
    "conflict_ids",
    "episode_start_year",
    "intensity",
    "battle_deaths",
    "mission_status",
    "interstate_mission",
    "baseline_probability",
)


TEXT_COLUMNS: tuple[str, ...] = (
    "iso3",
    "country",
    "status",
    "risk_band",
    "top_drivers_up",
    "top_drivers_down",
    "missions",
    "model_name",
    "model_version",
    "data_vintage",
    "risk_type",
    "driver_up_family",
    "driver_down_family",
    "conflicts",
    "conflict_ids",
    "mission_status",
)


INT_COLUMNS: tuple[str, ...] = (
    "years_at_peace",
    "rank",
    "episode_start_year",
    "intensity",
    "battle_deaths",
)


FLOAT_COLUMNS: tuple[str, ...] = (
    "baseline_probability",
    "base_rate",
    "previous_probability",
    "change_since_last",
    "driver_up_contribution",
    "driver_down_contribution",
)


DRIVER_MIN = 0.005


DRIVERS_SHOWN = 3


PROBABILITY_DECIMALS = 4


def score_table(
    panel: pd.DataFrame,
    targets: pd.DataFrame,
    models: Mapping[int, Forecast],
    as_of: int,
    vintage: str,
    rates: Mapping[int, float],
    multiples: Sequence[float] = bands.DEFAULT_MULTIPLES,
    *,
    facts: pd.DataFrame | None = None,
    previous: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per target country × horizon, in the output contract's columns and order.

    Every country not at war in ``as_of`` is scored (``risk_type`` says whether it is
    post-conflict, renewed-conflict or onset risk); countries at war carry ``facts``
    (:func:`conflict_facts`); ``previous`` (last year's scores) gives the change.
    """
    year = panel.loc[panel["year"] == as_of].drop_duplicates("gwno").set_index("gwno")
    status = []
    for g in targets["gwno"]:
        if pd.isna(g) or int(g) not in year.index:
            status.append("missing_data")
        elif bool(year.at[int(g), "active"]):
            status.append("active_conflict")
        else:
            status.append("scored")
    base = targets.assign(status=status)
    base = _with_panel_facts(base, year, facts)
    scored_gw = [int(g) for g, s in zip(base["gwno"], status, strict=True) if s == "scored"]
    parts = []
    for h, model in sorted(models.items()):
        part = base.assign(
            as_of_year=as_of,
            horizon_years=int(h),
            relapse_probability=np.nan,
            risk_band="",
            top_drivers_up="",
            top_drivers_down="",
            model_name=str(model.name),
            model_version=str(model.version),
            data_vintage=vintage,
            base_rate=float(rates[int(h)]),
            driver_up_family="",
            driver_up_contribution=np.nan,
            driver_down_family="",
            driver_down_contribution=np.nan,
            baseline_probability=np.nan,
        )
        if scored_gw:
            X = year.loc[scored_gw, list(model.feature_names)].astype("float64")
            proba = np.round(model.predict_proba(X), PROBABILITY_DECIMALS)
            drivers = family_drivers(model, X)
            mask = part["status"] == "scored"
            part.loc[mask, "relapse_probability"] = proba
            part.loc[mask, "baseline_probability"] = np.round(
                model.baseline_proba(X), PROBABILITY_DECIMALS
            )
            part.loc[mask, "risk_band"] = [bands.band(p, rates[int(h)], multiples) for p in proba]
            part.loc[mask, "top_drivers_up"] = drivers.up
            part.loc[mask, "top_drivers_down"] = drivers.down
            for col in ("driver_up_family", "driver_up_contribution"):
                part.loc[mask, col] = drivers.top_up[col.removeprefix("driver_up_")].to_numpy()
            for col in ("driver_down_family", "driver_down_contribution"):
                part.loc[mask, col] = drivers.top_down[col.removeprefix("driver_down_")].to_numpy()
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    table["rank"] = (
        table.groupby("horizon_years")["relapse_probability"]
        .rank(method="min", ascending=False)
        .astype("Int64")
    )
    table = _with_change(table, previous)
    table = table.sort_values(
        ["country", "iso3", "horizon_years"], ignore_index=True, kind="mergesort"
    )
    table = table[list(COLUMNS)].astype(
        {
            "gwno": "Int64",
            "as_of_year": "int64",
            "horizon_years": "int64",
            "relapse_probability": "float64",
            "interstate_mission": bool,
            **{c: "string" for c in TEXT_COLUMNS},
            **{c: "Int64" for c in INT_COLUMNS},
            **{c: "float64" for c in FLOAT_COLUMNS},
        }
    )
    return score_schema().validate(table)


def _with_panel_facts(
    base: pd.DataFrame, year: pd.DataFrame, facts: pd.DataFrame | None
) -> pd.DataFrame:
    """Add ``risk_type`` and ``years_at_peace`` (not at war) and the conflict facts (at war)."""
    gw = [None if pd.isna(g) else int(g) for g in base["gwno"]]
    known = [g is not None and g in year.index for g in gw]
    base = base.assign(
        risk_type=[year.at[g, "risk_type"] if k else pd.NA for g, k in zip(gw, known, strict=True)],
        years_at_peace=[
            year.at[g, "years_at_peace"] if k else pd.NA for g, k in zip(gw, known, strict=True)
        ],
    )
    base["risk_type"] = base["risk_type"].astype("string").fillna("")
    cols = ["conflicts", "conflict_ids", "episode_start_year", "intensity", "battle_deaths"]
    if facts is None or facts.empty:
        facts = pd.DataFrame(columns=["gwno", *cols])
    at_war = base["status"] == "active_conflict"
    merged = base.merge(facts.astype({"gwno": "Int64"}), on="gwno", how="left")
    for col in cols:
        merged[col] = merged[col].where(at_war.to_numpy(), pd.NA)
    for col in ("conflicts", "conflict_ids"):
        merged[col] = merged[col].astype("string").fillna("")
    return merged


def _with_change(table: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """``previous_probability`` and ``change_since_last`` from last year's scores."""
    if previous is None or previous.empty:
        return table.assign(previous_probability=np.nan, change_since_last=np.nan)
    prev = previous.dropna(subset=["gwno"])[["gwno", "horizon_years", "relapse_probability"]]
    prev = prev.rename(columns={"relapse_probability": "previous_probability"})
    prev = prev.astype({"gwno": "Int64", "horizon_years": "int64"})
    out = table.merge(prev, on=["gwno", "horizon_years"], how="left")
    out["change_since_last"] = (out["relapse_probability"] - out["previous_probability"]).round(
        PROBABILITY_DECIMALS
    )
    return out


@dataclass
class Drivers:
    """Per scored row: driver text (contract columns) and the top family each way."""

    up: list[str]
    down: list[str]
    top_up: pd.DataFrame
    """``family`` and ``contribution`` of the family pushing most up ('' / NaN if none)."""
    top_down: pd.DataFrame


def family_drivers(model: Forecast, X: pd.DataFrame) -> Drivers:
    """Per row: families pushing the raw score up and down (summed SHAP log-odds)."""
    contrib, _ = model.contributions(X)
    fam = pd.DataFrame(contrib, columns=list(X.columns)).T
    fam.index = [model.family_map.get(f, "unassigned") for f in X.columns]
    sums = fam.groupby(level=0, sort=True).sum().T
    names = [str(c) for c in sums.columns]
    values = sums.to_numpy(dtype="float64")
    # Stable sorts (ties keep the families' alphabetical order), as per-row mergesorts would.
    by_up = np.argsort(-values, axis=1, kind="stable")[:, :DRIVERS_SHOWN]
    by_down = np.argsort(values, axis=1, kind="stable")[:, :DRIVERS_SHOWN]
    up_v = np.take_along_axis(values, by_up, axis=1)
    down_v = np.take_along_axis(values, by_down, axis=1)
    up = [
        "; ".join(f"{names[j]} {v:+.2f}" for j, v in zip(js, vs, strict=True) if v >= DRIVER_MIN)
        for js, vs in zip(by_up, up_v, strict=True)
    ]
    down = [
        "; ".join(f"{names[j]} {v:+.2f}" for j, v in zip(js, vs, strict=True) if v <= -DRIVER_MIN)
        for js, vs in zip(by_down, down_v, strict=True)
    ]

    def top(idx: np.ndarray, vals: np.ndarray, keep: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "family": np.where(keep, [names[j] for j in idx[:, 0]], ""),
                "contribution": np.where(keep, np.round(vals[:, 0], 4), np.nan),
            }
        )

    return Drivers(
        up,
        down,
        top(by_up, up_v, up_v[:, 0] >= DRIVER_MIN),
        top(by_down, down_v, down_v[:, 0] <= -DRIVER_MIN),
    )


@cache
def score_schema() -> Any:
    """Pandera schema of the score table (columns, order, types, status ↔ probability)."""
    import pandera.pandas as pa

    text = {c: pa.Column("string", nullable=False) for c in TEXT_COLUMNS}
    text["status"] = pa.Column("string", pa.Check.isin(list(STATUSES)))
    text["risk_band"] = pa.Column("string", pa.Check.isin(["", *BAND_LABELS]))
    text["risk_type"] = pa.Column("string", pa.Check.isin(["", "relapse", "renewed", "onset"]))
    ints = {c: pa.Column("Int64", pa.Check.ge(0), nullable=True) for c in INT_COLUMNS}
    floats = {c: pa.Column("float64", nullable=True) for c in FLOAT_COLUMNS}
    columns = {
        **ints,
        **floats,
        "interstate_mission": pa.Column(bool),
        "gwno": pa.Column("Int64", nullable=True),
        "as_of_year": pa.Column("int64"),
        "horizon_years": pa.Column("int64", pa.Check.ge(1)),
        "relapse_probability": pa.Column("float64", pa.Check.in_range(0, 1), nullable=True),
        **text,
    }
    scored_iff_probability = pa.Check(
        lambda df: (df["status"] == "scored") == df["relapse_probability"].notna(),
        error="relapse_probability must be given exactly for status 'scored'",
    )
    return pa.DataFrameSchema(
        {c: columns[c] for c in COLUMNS}, strict=True, ordered=True, checks=[scored_iff_probability]
    )
