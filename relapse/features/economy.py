"""Economy features: income level and growth, population, oil and resource income, aid.

Sources and rules (each value for year t uses source values dated t, or t and t − 1 for
growth; nothing is interpolated, smoothed, back-filled or scaled over years):

* **Income level** — ``eco_log_gdp_pc``: natural log of Penn World Table real GDP per capita
  (expenditure side, chained PPPs, 2017 US$; ``rgdpe / pop``). PWT is the primary series: real,
  comparable across countries and long (1950 on). It lacks a few conflict countries
  (Afghanistan, Somalia, South Sudan, ...), so ``eco_log_gdp_pc_usd`` (log World Bank GDP per
  capita, current US$) is kept beside it rather than spliced into it: the two are in different
  units and a splice would need a conversion factor estimated over years.
* **Growth** — ``eco_gdp_growth_pct``: 100 × (x_t / x_{t−1} − 1) of real GDP per capita at
  constant national prices, from PWT (``rgdpna / pop``); where PWT lacks either year, from
  Maddison (``rgdpnapc``; it covers the USSR and Yugoslavia before 1990). Growth rates are unit
  free, so the fallback is coherent; year t − 1 is matched by value, so a gap gives NaN.
* **Population** — ``eco_log_population``: log of World Bank population; before 1960 or where
  the WDI has no value, PWT (``pop`` × 10⁶), then Maddison (``pop`` × 10³), all in persons.
* **Oil and resources** — V-Dem's ``e_total_oil_income_pc`` and
  ``e_total_resources_income_pc`` (Haber–Menaldo; these stop before 2012 in this vintage) and
  Gapminder oil production per person. Non-producers are missing in Gapminder rather than
  zero; they stay missing.
* **Aid** — Gapminder net aid received per person (current US$) and as % of GNI (both may be
  negative).

Ethnic and religious fractionalisation (``creg``, ``hief``) are loaded but not used here.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from relapse.features.align import Grid, on_spine

SOURCES_USED: tuple[str, ...] = (
    "pwt",
    "wdi_gdp_pc",
    "wdi_population",
    "maddison",
    "gapminder",
    "vdem_econ_coups",
)


def build(grid: Grid, tables: Mapping[str, pd.DataFrame], cfg: DictConfig) -> pd.DataFrame:
    """Economy features for every spine country-year (see the module docstring).

    Parameters
    ----------
    grid
        The country-years to build (:class:`~relapse.features.align.Grid`; its ``spine``).
    tables
        Every key of :data:`SOURCES_USED` (tidy loader outputs).
    cfg
        The composed build config (unused: the family has no settings).

    Returns
    -------
    DataFrame
        ``gwno``, ``year`` and the ``eco_*`` features (float64), one row per spine row, in
        spine order.
    """
    spine = grid.spine[["gwno", "year"]].reset_index(drop=True)
    pwt = on_spine(spine, tables["pwt"], ["rgdpe_pc", "pop"])
    wdi_gdp = on_spine(spine, tables["wdi_gdp_pc"], ["gdp_pc_usd"])
    wdi_pop = on_spine(spine, tables["wdi_population"], ["population"])
    maddison = on_spine(spine, tables["maddison"], ["pop"])
    gap = on_spine(spine, tables["gapminder"], ["oil_production_pc", "aid_pc_usd", "aid_pct_gni"])
    vdem = on_spine(
        spine,
        tables["vdem_econ_coups"],
        ["e_total_oil_income_pc", "e_total_resources_income_pc"],
    )

    out = spine.copy()
    out["eco_log_gdp_pc"] = _log(pwt["rgdpe_pc"])
    out["eco_log_gdp_pc_usd"] = _log(wdi_gdp["gdp_pc_usd"])
    growth_pwt = growth_pct(spine, tables["pwt"], "rgdpna_pc")
    growth_maddison = growth_pct(spine, tables["maddison"], "rgdpnapc")
    out["eco_gdp_growth_pct"] = growth_pwt.fillna(growth_maddison)
    population = wdi_pop["population"].fillna(pwt["pop"] * 1e6).fillna(maddison["pop"] * 1e3)
    out["eco_log_population"] = _log(population)
    out["eco_oil_income_pc"] = vdem["e_total_oil_income_pc"]
    out["eco_resource_income_pc"] = vdem["e_total_resources_income_pc"]
    out["eco_oil_production_pc"] = gap["oil_production_pc"]
    out["eco_aid_pc_usd"] = gap["aid_pc_usd"]
    out["eco_aid_pct_gni"] = gap["aid_pct_gni"]
    features = [c for c in out.columns if c not in ("gwno", "year")]
    out[features] = out[features].astype("float64")
    return out


def growth_pct(spine: pd.DataFrame, table: pd.DataFrame, column: str) -> pd.Series:
    """Year-on-year growth in percent, from the values of years t and t − 1 only.

    Parameters
    ----------
    spine
        ``gwno`` and ``year`` with a default index.
    table
        A tidy source table unique on (``gwno``, ``year``).
    column
        The level series (positive).

    Returns
    -------
    Series
        100 × (x_t / x_{t−1} − 1) aligned with ``spine``; NaN where either year is missing
        (the previous year is matched by value, never by row position).
    """
    current = on_spine(spine, table, [column])[column]
    previous_years = spine.assign(year=spine["year"] - 1)
    previous = on_spine(previous_years, table, [column])[column]
    return 100.0 * (current / previous - 1.0)


def _log(values: pd.Series) -> pd.Series:
    return np.log(values.where(values > 0))
