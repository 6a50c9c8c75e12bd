"""Basic-services features: child mortality, water and sanitation, electricity, schooling.

All from Gapminder Systema Globalis (:data:`relapse.sources.economic.GAPMINDER`), except that
infant mortality falls back to V-Dem's ``e_peinfmor`` (``vdem_infant_cso``) in the years
Gapminder has no value. Both are deaths before age one per 1,000 live births, so the fallback
changes coverage, not units; the value for year t is always a source value dated t (never an
average, an interpolation or a value from another year).

Every value describes its own year (unlagged; the assembler applies the publication lag).
Missing stays missing: several series stop before 2018 in this vintage (infant mortality and
life expectancy end in 2015 and 2013, women's schooling in 2009, literacy is sparse survey
years), and nothing is carried forward.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from omegaconf import DictConfig

from relapse.features.align import Grid, on_spine

SOURCES_USED: tuple[str, ...] = ("gapminder", "vdem_infant_cso")

GAPMINDER_FEATURES: dict[str, str] = {
    "srv_under5_mortality": "under5_mortality",
    "srv_basic_water_pct": "basic_water_pct",
    "srv_basic_sanitation_pct": "basic_sanitation_pct",
    "srv_electricity_kwh_pc": "electricity_kwh_pc",
    "srv_adult_literacy_pct": "adult_literacy_pct",
    "srv_life_expectancy": "life_expectancy",
    "srv_schooling_women_years": "schooling_women_years",
}
"""Feature name → Gapminder column, taken as published."""


def build(grid: Grid, tables: Mapping[str, pd.DataFrame], cfg: DictConfig) -> pd.DataFrame:
    """Services features for every spine country-year (see the module docstring).

    Parameters
    ----------
    grid
        The country-years to build (:class:`~relapse.features.align.Grid`; its ``spine``).
    tables
        ``spine``, ``gapminder`` and ``vdem_infant_cso`` (tidy loader outputs).
    cfg
        The composed build config (unused: the family has no settings).

    Returns
    -------
    DataFrame
        ``gwno``, ``year`` and the ``srv_*`` features (float64), one row per spine row, in
        spine order.
    """
    spine = grid.spine[["gwno", "year"]].reset_index(drop=True)
    gap = on_spine(spine, tables["gapminder"], ["infant_mortality", *GAPMINDER_FEATURES.values()])
    vdem = on_spine(spine, tables["vdem_infant_cso"], ["e_peinfmor"])
    out = spine.copy()
    out["srv_infant_mortality"] = gap["infant_mortality"].fillna(vdem["e_peinfmor"])
    for name, column in GAPMINDER_FEATURES.items():
        out[name] = gap[column]
    features = [c for c in out.columns if c not in ("gwno", "year")]
    out[features] = out[features].astype("float64")
    return out
