"""Security-sector-reform features: what peace agreements promised for the army and police,
SSR aid, coups, and the size of the military.

Every value describes its own year ``y`` and uses source rows dated ``y`` or earlier only; the
assembler applies each feature's publication lag. Coverage and structural zeros:

* **Agreement provisions** (UCDP Peace Agreements, 1975–2018): ``ssr_army_integration_10y``
  and ``ssr_ddr_10y`` are 1 when an agreement signed in ``y-9 … y`` with the country as a
  location provides for it, else 0 — a structural zero (no such agreement) from 1975, and
  missing before 1975 (agreements before 1975 are not in the data).
* **Police reform** (78 agreements, 1978–2010): ``ssr_police_reform_10y`` is 1 when an
  agreement signed in ``y-9 … y`` has any police-reform provision, 0 otherwise in 1978–2010,
  and missing outside those years. Only provisions are used: the dataset's implementation
  codings describe what happened after signature (coded up to 2010, undated), which is not
  known in the signature year.
* **SSR aid** (AidData, 1968–2010): the file lists only recipient-years with a positive SSR
  commitment, for 33 recipients. From a recipient's first listed year to 2010, a missing year
  is a structural zero (no SSR commitment recorded); other country-years are missing, as is
  everything after 2010 (India's lone 2011 row is used as given).
* **Coups** (V-Dem/Powell & Thyne, 1950–2018): ``ssr_coup_attempt`` (failed or successful
  coup this year) and ``ssr_coup_5y`` (any in ``y-4 … y``; years missing in the window are
  ignored, missing when none is observed).
* **Military size**: Gapminder's military expenditure (% of GDP) and armed forces (% of labour
  force), COW's military personnel (log of thousands, to 2016). Missing stays missing.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from relapse.features.align import Grid, on_spine, recent_flag, window_max

SOURCES_USED: tuple[str, ...] = (
    "ucdp_peace_agreements",
    "police_reform",
    "aiddata_ssr",
    "vdem_econ_coups",
    "gapminder",
    "cow_nmc",
)

AGREEMENT_WINDOW_YEARS = 10
"""Agreements signed in the last this-many years (including the current one) count."""
AGREEMENTS_FIRST_YEAR = 1975
"""First year of the UCDP Peace Agreement data: provision indicators are missing before."""
POLICE_REFORM_YEARS = (1978, 2010)
"""Years the police-reform data cover."""
AIDDATA_LAST_YEAR = 2010
"""Last year AidData lists for all recipients (India alone has 2011)."""
COUP_WINDOW_YEARS = 5


def build(grid: Grid, tables: Mapping[str, pd.DataFrame], cfg: DictConfig) -> pd.DataFrame:
    """Security-sector-reform features for every spine country-year.

    Parameters
    ----------
    grid
        The country-years to build (:class:`~relapse.features.align.Grid`; its ``spine``).
    tables
        The tidy tables of :data:`SOURCES_USED`.
    cfg
        The composed ``build`` config (unused: windows are module constants).

    Returns
    -------
    DataFrame
        ``gwno``, ``year`` and the ``ssr_*`` features (float64, unlagged), one row per spine
        country-year, in spine order. See the module docstring for coverage.
    """
    spine = grid.spine[["gwno", "year"]].reset_index(drop=True)
    out = spine.copy()
    agreements = tables["ucdp_peace_agreements"]
    out["ssr_army_integration_10y"] = recent_flag(
        spine, agreements, "intarmy", AGREEMENT_WINDOW_YEARS, first_year=AGREEMENTS_FIRST_YEAR
    )
    out["ssr_ddr_10y"] = recent_flag(
        spine, agreements, "ddr", AGREEMENT_WINDOW_YEARS, first_year=AGREEMENTS_FIRST_YEAR
    )
    out["ssr_police_reform_10y"] = recent_flag(
        spine,
        tables["police_reform"],
        "any_provision",
        AGREEMENT_WINDOW_YEARS,
        first_year=POLICE_REFORM_YEARS[0],
        last_year=POLICE_REFORM_YEARS[1],
    )
    aid = _ssr_aid(spine, tables["aiddata_ssr"])
    out["ssr_aid_share"] = aid["ssr_share"]
    out["ssr_aid_log_musd"] = np.log1p(aid["ssr_commitment_usd"] / 1e6)
    coups = tables["vdem_econ_coups"][["gwno", "year", "e_pt_coup"]].dropna()
    coups = coups.assign(attempt=(coups["e_pt_coup"] > 0).astype(float))
    out["ssr_coup_attempt"] = on_spine(spine, coups, "attempt")
    out["ssr_coup_5y"] = window_max(spine, coups, "attempt", COUP_WINDOW_YEARS)
    gap = tables["gapminder"]
    out["ssr_milex_pct_gdp"] = on_spine(spine, gap, "milex_pct_gdp")
    out["ssr_armed_forces_pct_labour"] = on_spine(spine, gap, "armed_forces_pct_labour")
    milper = on_spine(spine, tables["cow_nmc"], "milper")
    out["ssr_military_personnel_log"] = np.log1p(milper)
    features = [c for c in out.columns if c not in ("gwno", "year")]
    out[features] = out[features].astype("float64")
    return out


def _ssr_aid(spine: pd.DataFrame, aid: pd.DataFrame) -> pd.DataFrame:
    """SSR commitment and share per spine row, zero in unlisted years of listed recipients."""
    out = pd.DataFrame(index=spine.index)
    first = aid.groupby("gwno")["year"].min()
    entry = spine["gwno"].map(first)
    zero = entry.notna() & (spine["year"] >= entry) & (spine["year"] <= AIDDATA_LAST_YEAR)
    for column in ("ssr_commitment_usd", "ssr_share"):
        values = on_spine(spine, aid, column)
        out[column] = values.where(values.notna() | ~zero, 0.0)
    return out
