"""Governance and rule-of-law features: liberal and egalitarian democracy, the Worldwide
Governance Indicators, regime score and durability, exclusion by social group, civil-society
participation, and power sharing promised in peace agreements.

Every value describes its own year ``y`` and uses source rows dated ``y`` or earlier only.
Coverage:

* **V-Dem** (``v2x_libdem``, ``v2x_egaldem``, ``v2xpe_exlsocgr``, ``v2csprtcpt_ord``): as
  published, to 2018; missing where V-Dem has no value.
* **WGI** (1996–2018): the WGI were published for 1996, 1998 and 2000 and yearly from 2002;
  1997, 1999 and 2001 stay **missing** (no interpolation, which would use the next release).
* **Polity5**: ``gov_polity2`` is Polity's ``polity2`` except in transition years (−88), where
  ``polity2`` is interpolated towards the score after the transition — a value not known at
  the time — so it is missing there; interruptions (−66) are missing and interregna (−77) 0,
  as in ``polity2``. ``gov_regime_durability`` is ``durable`` (years since the last regime
  change).
* **EPR** (1946–2018): ``gov_excluded_population`` is the share of the population in
  politically relevant ethnic groups excluded from executive power (``exclpop``); 0 where
  EPR codes ethnicity as not politically relevant; missing where EPR has no row.
* **Power sharing** (UCDP Peace Agreements, 1975–2018): ``gov_power_sharing_10y`` is 1 when an
  agreement signed in ``y-9 … y`` provides for power sharing in government, a structural 0
  otherwise from 1975, missing before.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from omegaconf import DictConfig

from relapse.features.align import Grid, on_spine, recent_flag
from relapse.features.security_sector_reform import AGREEMENT_WINDOW_YEARS, AGREEMENTS_FIRST_YEAR
from relapse.sources.governance import WGI_INDICATORS

SOURCES_USED: tuple[str, ...] = (
    "vdem_indices",
    "vdem_econ_coups",
    "vdem_infant_cso",
    "wgi",
    "polity5",
    "ucdp_peace_agreements",
    "epr",
)

POLITY_TRANSITION = -88


def build(grid: Grid, tables: Mapping[str, pd.DataFrame], cfg: DictConfig) -> pd.DataFrame:
    """Governance features for every spine country-year.

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
        ``gwno``, ``year`` and the ``gov_*`` features (float64, unlagged), one row per spine
        country-year, in spine order. See the module docstring for coverage.
    """
    spine = grid.spine[["gwno", "year"]].reset_index(drop=True)
    out = spine.copy()
    vdem = tables["vdem_indices"]
    out["gov_liberal_democracy"] = on_spine(spine, vdem, "v2x_libdem")
    out["gov_egalitarian_democracy"] = on_spine(spine, vdem, "v2x_egaldem")
    for column in WGI_INDICATORS.values():
        out[f"gov_{column}"] = on_spine(spine, tables["wgi"], column)
    polity = tables["polity5"]
    known = polity.assign(
        polity2=polity["polity2"].mask(
            polity["polity_special"].eq(POLITY_TRANSITION).fillna(False).astype(bool)
        )
    )
    out["gov_polity2"] = on_spine(spine, known, "polity2")
    out["gov_regime_durability"] = on_spine(spine, polity, "durable")
    out["gov_social_group_exclusion"] = on_spine(spine, tables["vdem_econ_coups"], "v2xpe_exlsocgr")
    out["gov_civil_society_participation"] = on_spine(
        spine, tables["vdem_infant_cso"], "v2csprtcpt_ord"
    )
    out["gov_excluded_population"] = on_spine(spine, tables["epr"], "exclpop")
    out["gov_power_sharing_10y"] = recent_flag(
        spine,
        tables["ucdp_peace_agreements"],
        "pp",
        AGREEMENT_WINDOW_YEARS,
        first_year=AGREEMENTS_FIRST_YEAR,
    )
    features = [c for c in out.columns if c not in ("gwno", "year")]
    out[features] = out[features].astype("float64")
    return out
