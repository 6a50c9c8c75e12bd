"""Election features: whether and how recently national elections were held, electoral
democracy, political rights, and peace agreements that provide for elections.

Every value describes its own year ``y`` and uses source rows dated ``y`` or earlier only.
Coverage:

* **National elections** (NELDA-derived file, 1945–2018): ``ele_election_this_year`` and
  ``ele_election_last_year`` (0/1) are missing where the file has no row for the GW state
  (South Sudan is absent from the file). ``ele_years_since_election`` is ``y`` minus the year
  of the latest national election in ``1945 … y`` (0 in an election year). Where no election
  is on record it is **censored**: the years since the record's start for the state (1945, or
  the year before the state entered the GW system), a lower bound — one year after
  independence means one year without an election since independence.
* **Electoral democracy** (V-Dem ``v2x_polyarchy``, 0–1) and **political rights** (Freedom
  House ``pr``, 1 most free … 7 least free, 1972–2018, no 1982 edition): as published,
  missing where the source has no value.
* **Elections provision** (UCDP Peace Agreements, 1975–2018): ``ele_agreement_elections_10y``
  is 1 when an agreement signed in ``y-9 … y`` provides for elections, a structural 0
  otherwise from 1975, missing before.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from relapse.features.align import Grid, on_spine, recent_flag
from relapse.features.security_sector_reform import AGREEMENT_WINDOW_YEARS, AGREEMENTS_FIRST_YEAR

SOURCES_USED: tuple[str, ...] = (
    "elections",
    "vdem_indices",
    "freedom_house",
    "ucdp_peace_agreements",
)

ELECTIONS_FIRST_YEAR = 1945
"""First year of the elections file: years since the last election are censored there."""


def build(grid: Grid, tables: Mapping[str, pd.DataFrame], cfg: DictConfig) -> pd.DataFrame:
    """Election features for every spine country-year.

    Parameters
    ----------
    grid
        The country-years to build (:class:`~relapse.features.align.Grid`; its ``spine``).
    tables
        The tidy tables of :data:`SOURCES_USED`.
    cfg
        The composed ``build`` config (unused).

    Returns
    -------
    DataFrame
        ``gwno``, ``year`` and the ``ele_*`` features (float64, unlagged), one row per spine
        country-year, in spine order. See the module docstring for coverage.
    """
    spine = grid.spine[["gwno", "year"]].reset_index(drop=True)
    elections = tables["elections"]
    out = spine.copy()
    out["ele_election_this_year"] = on_spine(spine, elections, "natelec")
    out["ele_election_last_year"] = on_spine(
        spine.assign(year=spine["year"] - 1), elections, "natelec"
    )
    out["ele_years_since_election"] = years_since_election(spine, elections)
    out["ele_electoral_democracy"] = on_spine(spine, tables["vdem_indices"], "v2x_polyarchy")
    out["ele_political_rights"] = on_spine(spine, tables["freedom_house"], "pr")
    out["ele_agreement_elections_10y"] = recent_flag(
        spine,
        tables["ucdp_peace_agreements"],
        "elections",
        AGREEMENT_WINDOW_YEARS,
        first_year=AGREEMENTS_FIRST_YEAR,
    )
    features = [c for c in out.columns if c not in ("gwno", "year")]
    out[features] = out[features].astype("float64")
    return out


def years_since_election(spine: pd.DataFrame, elections: pd.DataFrame) -> pd.Series:
    """Years since the latest national election held in or before each spine year.

    Parameters
    ----------
    spine
        ``gwno`` and ``year``; a state's first spine year is its entry into the record.
    elections
        ``gwno``, ``year`` and ``natelec`` (0/1).

    Returns
    -------
    Series
        float64 aligned with ``spine``'s index: 0 in an election year; where no election is on
        record yet, the years since the record began for the state (censored, see the module
        docstring); NaN for states the file does not cover.
    """
    held = elections.loc[elections["natelec"] == 1, ["gwno", "year"]]
    held = held.rename(columns={"year": "last_election"}).sort_values("last_election")
    keys = spine[["gwno", "year"]].reset_index().sort_values("year")
    latest = pd.merge_asof(
        keys, held, left_on="year", right_on="last_election", by="gwno", direction="backward"
    )
    latest = latest.set_index("index").reindex(spine.index)
    since = spine["year"] - latest["last_election"]
    entry = spine.groupby("gwno")["year"].transform("min")
    start = np.maximum(entry - 1, ELECTIONS_FIRST_YEAR)
    censored = spine["year"] - start
    covered = spine["gwno"].isin(set(elections["gwno"]))
    return since.fillna(censored).where(covered).astype("float64")
