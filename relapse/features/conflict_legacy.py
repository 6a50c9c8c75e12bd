"""Conflict-legacy features: time at peace, past episodes, how the last episode ended.

Built from the country timeline of :func:`relapse.panel.country_timeline` (UCDP/PRIO ACD),
UCDP Conflict Termination (how each episode ended) and UCDP Peace Agreements. A country-level
*episode* here is a spell of consecutive active years of the country (any configured conflict
type); the termination outcome of a spell is read from the UCDP episodes of that country that
ended in the spell's last year.

Values at year t use conflict-years ≤ t only. Termination outcomes are known once the episode
has ended, i.e. after a year without fighting, which is exactly when a country-year enters
the post-conflict population; outcomes of episodes whose end is not yet recorded are missing.
Agreement indicators are structural zeros from 1975 (the agreement data's first year) and
missing before. Neighbouring conflict, battle deaths and non-state and one-sided violence
come from :mod:`relapse.features.neighbours` (rules there).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from relapse.errors import DataError
from relapse.features import neighbours
from relapse.features.align import Grid

SOURCES_USED: tuple[str, ...] = (
    "ucdp_acd",
    "ucdp_termination",
    "ucdp_peace_agreements",
    "ucdp_brd",
    "ucdp_organized_violence",
    "gw_mindist",
    "gw_capitals",
)

OUTCOME_FEATURES: dict[int, str] = {
    1: "leg_ended_peace_agreement",
    2: "leg_ended_ceasefire",
    3: "leg_ended_government_victory",
    4: "leg_ended_rebel_victory",
    5: "leg_ended_low_activity",
}
AGREEMENTS_FIRST_YEAR = 1975


def build(grid: Grid, tables: Mapping[str, pd.DataFrame], cfg: DictConfig) -> pd.DataFrame:
    """Conflict-legacy features for every spine row (see the module docstring).

    ``grid.timeline`` is the conflict timeline (:func:`relapse.panel.build_base_panel`) and
    ``tables`` holds the tables of :data:`SOURCES_USED`.
    """
    if grid.timeline is None:
        raise DataError("the conflict-legacy family needs the conflict timeline (Grid.timeline)")
    tl = grid.timeline
    has_history = tl["last_active_year"].notna()
    out = tl[["gwno", "year"]].copy()
    out["leg_years_at_peace"] = tl["years_since_conflict"].astype("Float64").astype(float)
    # No conflict-year since the data begin (1946) up to t: the "onset" rows of the scope of
    # every country not at war. The timeline begins with the spine, so this is knowable at t.
    out["leg_never_in_conflict"] = (~has_history).astype(float)
    out["leg_past_episodes"] = tl["n_spells"].astype(float).where(has_history, 0.0)
    out["leg_last_episode_years"] = tl["spell_length"].astype(float).where(has_history)
    out["leg_last_episode_war"] = (tl["spell_max_intensity"] == 2).astype(float).where(has_history)
    out["leg_cumulative_war_years"] = tl["war_years"].astype(float)
    out["leg_cumulative_conflict_years"] = tl["conflict_years"].astype(float)
    out = out.join(_last_outcomes(tl, tables["ucdp_termination"]))
    out = out.join(_agreements(tl, tables["ucdp_peace_agreements"]))
    spine = tl[["gwno", "year"]]
    active = tl[["gwno", "year", "active"]]
    near = neighbours.neighbour_conflict(
        spine, active, tables["gw_mindist"], float(cfg.features.neighbour_km)
    )
    out = out.join(near.set_axis(tl.index))
    out["nbr_capital_km_to_conflict"] = neighbours.capital_distance(
        spine, active, tables["gw_capitals"]
    )
    out = out.join(neighbours.battle_deaths(tl, tables["ucdp_brd"]))
    violence = neighbours.organised_violence(spine, tables["ucdp_organized_violence"])
    return out.join(violence.set_axis(tl.index))


def _last_outcomes(tl: pd.DataFrame, termination: pd.DataFrame) -> pd.DataFrame:
    """One-hot outcome of the episodes that ended in the country's last active year."""
    ended = termination.loc[termination["confterm"] == 1, ["gwno", "year", "outcome"]]
    ended = ended.dropna(subset=["outcome"])
    by_year = ended.groupby(["gwno", "year"])["outcome"].agg(lambda s: set(s.astype(int)))
    keys = list(zip(tl["gwno"], tl["last_active_year"], strict=True))
    outcomes = [by_year.get((g, int(y))) if pd.notna(y) else None for g, y in keys]
    # A spell's ending is only knowable once the country is at peace (t > last active year).
    at_peace = (tl["years_since_conflict"].fillna(0) >= 1).to_numpy()
    result = {}
    for code, name in OUTCOME_FEATURES.items():
        col = np.full(len(tl), np.nan)
        for i, found in enumerate(outcomes):
            if at_peace[i] and found is not None:
                col[i] = float(code in found)
        result[name] = col
    return pd.DataFrame(result, index=tl.index)


def _agreements(tl: pd.DataFrame, agreements: pd.DataFrame) -> pd.DataFrame:
    """Agreements signed for the country since its last spell began, up to t."""
    signed = agreements.groupby(["gwno", "year"]).agg(
        n=("paid", "nunique"), full=("pa_type", lambda s: int((s == 1).any()))
    )
    gw = tl["gwno"].to_numpy(dtype="int64")
    yr = tl["year"].to_numpy(dtype="int64")
    start = tl["spell_start"].to_numpy(dtype=float, na_value=np.nan)
    # Window sums over signature years start … t from per-country cumulative sums, found by
    # binary search on a (gwno, year) key: vectorised, instead of a lookup per row.
    signed = signed.reset_index().sort_values(["gwno", "year"])
    span = 1 + max(int(yr.max(initial=0)), int(signed["year"].max()) if len(signed) else 0)
    keys = signed["gwno"].to_numpy(dtype="int64") * span + signed["year"].to_numpy(dtype="int64")
    cum_n = np.concatenate([[0], np.cumsum(signed["n"].to_numpy(dtype="int64"))])
    cum_full = np.concatenate([[0], np.cumsum(signed["full"].to_numpy(dtype="int64"))])
    has_spell = ~np.isnan(start)
    first = np.where(has_spell, start, 0).astype("int64")
    lo = np.searchsorted(keys, gw * span + first, side="left")
    hi = np.searchsorted(keys, gw * span + yr, side="right")
    inside = has_spell & (hi > lo)
    counts = np.where(inside, cum_n[hi] - cum_n[lo], 0).astype(float)
    full = np.where(inside, (cum_full[hi] - cum_full[lo]) > 0, False).astype(float)
    covered = yr >= AGREEMENTS_FIRST_YEAR
    return pd.DataFrame(
        {
            "leg_agreement_signed": np.where(covered, (counts > 0).astype(float), np.nan),
            "leg_full_agreement_signed": np.where(covered, full, np.nan),
            "leg_agreements_count": np.where(covered, counts, np.nan),
        },
        index=tl.index,
    )
