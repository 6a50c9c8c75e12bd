"""Conflict around a country and the intensity of fighting: helpers of the conflict-legacy family.

All values at year t read conflict data of year t or earlier only.

* **Neighbours** (CShapes 2.0 minimum border distances, borders of 1 January of the year):
  the other states whose borders lie within ``features.neighbour_km`` of the country's
  (0: land contiguity). ``nbr_conflict_count`` is how many of them have an active internal
  conflict in year t (the panel's definition: a UCDP/PRIO conflict-year of a configured type
  located there), ``nbr_conflict_share`` the share of neighbours that do (0 for a state
  without neighbours). Years without border data (before 1886) are missing.
* **Capitals** (Gleditsch–Ward capitals): ``nbr_capital_km_to_conflict`` is the great-circle
  distance from the country's capital to the nearest capital of another state in conflict in
  year t; missing when no other state is in conflict or the capital is not recorded.
* **Battle deaths** (UCDP Battle-Related Deaths, 1989 on): deaths are counted where the
  battles were (``gwno_battle``), not in the government's country; a dyad-year fought in
  several states counts in each. ``leg_battle_deaths_log_10y`` is log(1 + deaths in t-9 … t);
  the window is shorter in 1989–1997 (the data start in 1989) and the value is missing
  before 1989. ``leg_battle_deaths_log_last_episode`` is log(1 + deaths in the country's last
  conflict spell, start to last active year), missing when that spell began before 1989.
* **Non-state and one-sided violence** (UCDP organised violence, GED-based, 1989 on):
  log(1 + deaths) in year t, counting a total only when it reaches
  :data:`~relapse.sources.conflict.GED_THRESHOLD` (25) deaths within the year; a smaller total
  is 0. GED keeps a sub-threshold event only when its dyad or actor reached 25 deaths in
  some year, possibly later, so a small count can encode the future. Missing before 1989.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from relapse.features.align import on_spine
from relapse.sources.conflict import GED_THRESHOLD, expand_gw_list

EARTH_KM = 6371.0
BRD_WINDOW_YEARS = 10


def neighbour_conflict(
    spine: pd.DataFrame, active: pd.DataFrame, mindist: pd.DataFrame, km: float
) -> pd.DataFrame:
    """``nbr_conflict_count`` and ``nbr_conflict_share`` for each spine row.

    Parameters
    ----------
    spine
        ``gwno``, ``year``.
    active
        ``gwno``, ``year``, ``active`` (0/1) for every state-year.
    mindist
        ``gwno``, ``gwno_other``, ``year``, ``km`` (the ``gw_mindist`` table).
    km
        Largest border distance of a neighbour (0: contiguity).
    """
    near = mindist.loc[mindist["km"] <= km, ["gwno", "gwno_other", "year"]]
    other = active[["gwno", "year", "active"]].rename(columns={"gwno": "gwno_other"})
    near = near.merge(other, on=["gwno_other", "year"], how="left")
    near["active"] = pd.to_numeric(near["active"]).astype("float64").fillna(0.0)
    agg = near.groupby(["gwno", "year"]).agg(n=("gwno_other", "size"), hit=("active", "sum"))
    agg = agg.reset_index()
    agg["nbr_conflict_count"] = agg["hit"]
    agg["nbr_conflict_share"] = agg["hit"] / agg["n"]
    out = on_spine(spine, agg, ["nbr_conflict_count", "nbr_conflict_share"])
    covered = spine["year"].between(int(mindist["year"].min()), int(mindist["year"].max()))
    return out.fillna(0.0).where(covered, np.nan)


def capital_distance(
    spine: pd.DataFrame, active: pd.DataFrame, capitals: pd.DataFrame
) -> pd.Series:
    """Kilometres from each spine row's capital to the nearest capital of another state in
    conflict that year."""
    result = pd.Series(np.nan, index=spine.index)
    at_war = active.loc[active["active"] == 1, ["gwno", "year"]]
    for year, rows in spine.groupby("year"):
        caps = _capitals_in(capitals, int(year))
        war = caps.loc[caps.index.isin(at_war.loc[at_war["year"] == year, "gwno"])]
        here = caps.reindex(rows["gwno"].to_numpy())
        if war.empty:
            continue
        d = _haversine(here[["lat", "lng"]].to_numpy(), war[["lat", "lng"]].to_numpy())
        d[here.index.to_numpy()[:, None] == war.index.to_numpy()[None, :]] = np.inf
        nearest = d.min(axis=1)
        result.loc[rows.index] = np.where(np.isfinite(nearest), nearest, np.nan)
    return result


def _capitals_in(capitals: pd.DataFrame, year: int) -> pd.DataFrame:
    """Capital coordinates by GW code in ``year`` (the latest capital begun by then)."""
    live = capitals.loc[
        (capitals["start"].dt.year <= year)
        & (capitals["end"].isna() | (capitals["end"].dt.year >= year))
    ]
    return live.sort_values("start").groupby("gwno")[["lat", "lng"]].last()


def _haversine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle km between every point of ``a`` and of ``b`` (degrees lat, lng)."""
    la, lb = np.radians(a)[:, None, :], np.radians(b)[None, :, :]
    dlat, dlng = lb[..., 0] - la[..., 0], lb[..., 1] - la[..., 1]
    h = np.sin(dlat / 2) ** 2 + np.cos(la[..., 0]) * np.cos(lb[..., 0]) * np.sin(dlng / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def battle_deaths(timeline: pd.DataFrame, brd: pd.DataFrame) -> pd.DataFrame:
    """Battle-death intensity where the battles were: 10-year window and last spell."""
    fought = expand_gw_list(brd[["year", "bd_best", "gwno_battle"]], "gwno_battle", "ucdp_brd")
    yearly = fought.groupby(["gwno", "year"])["bd_best"].sum()
    first = int(brd["year"].min())
    gw = timeline["gwno"].to_numpy(dtype="int64")
    yr = timeline["year"].to_numpy(dtype="int64")
    span = 1 + int(max(yr.max(), brd["year"].max()))
    keys = np.array([g * span + y for g, y in yearly.index], dtype="int64")
    order = np.argsort(keys)
    keys, cum = keys[order], np.concatenate([[0.0], np.cumsum(yearly.to_numpy(float)[order])])

    def total(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        a = np.searchsorted(keys, gw * span + lo, side="left")
        b = np.searchsorted(keys, gw * span + hi, side="right")
        return cum[b] - cum[a]

    window = np.log1p(total(yr - BRD_WINDOW_YEARS + 1, yr))
    start = timeline["spell_start"].to_numpy(dtype=float, na_value=np.nan)
    end = timeline["last_active_year"].to_numpy(dtype=float, na_value=np.nan)
    known = ~np.isnan(start) & (np.nan_to_num(start) >= first)
    spell = np.log1p(
        total(np.nan_to_num(start).astype("int64"), np.nan_to_num(end).astype("int64"))
    )
    return pd.DataFrame(
        {
            "leg_battle_deaths_log_10y": np.where(yr >= first, window, np.nan),
            "leg_battle_deaths_log_last_episode": np.where(known & (yr >= first), spell, np.nan),
        },
        index=timeline.index,
    )


def organised_violence(spine: pd.DataFrame, violence: pd.DataFrame) -> pd.DataFrame:
    """Non-state and one-sided deaths of the year, totals below 25 counted as none."""
    counted = violence[["gwno", "year"]].copy()
    for column in ("ns_deaths", "os_deaths"):
        counted[column] = known_violence(violence[column])
    out = on_spine(spine, counted, ["ns_deaths", "os_deaths"])
    covered = spine["year"] >= int(violence["year"].min())
    out = np.log1p(out.fillna(0.0)).where(covered)
    return out.rename(
        columns={"ns_deaths": "leg_nonstate_deaths_log", "os_deaths": "leg_onesided_deaths_log"}
    )


def known_violence(deaths: pd.Series) -> pd.Series:
    """Deaths as knowable in the year: a total below :data:`GED_THRESHOLD` counts as 0."""
    return deaths.where(deaths >= GED_THRESHOLD, 0).astype("float64")
