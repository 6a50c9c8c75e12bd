"""UCDP conflict data: the Armed Conflict Dataset, Conflict Termination and Peace Agreements."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from relapse.countries import normalise_gw
from relapse.errors import DataError
from relapse.sources.base import LoadContext, Source

_YEAR = pa.Column(int, pa.Check.in_range(1800, 2100), coerce=True)
_GW_LIST = pa.Column(str, pa.Check.str_matches(r"^\s*\d+(\s*,\s*\d+)*\s*$"), coerce=True)


def expand_gw_list(df: pd.DataFrame, column: str, path: str) -> pd.DataFrame:
    """One row per code of a comma-separated GW list (``"625, 626"`` → two rows).

    The expanded code is in ``gwno`` (int64, with the Serbia 340 → 345 convention).
    """
    codes = df[column].astype(str).str.split(",")
    out = df.assign(gwno=codes).explode("gwno", ignore_index=True)
    out["gwno"] = out["gwno"].str.strip()
    if (out["gwno"] == "").any():
        raise DataError(f"{path}: empty code in column {column!r}")
    out["gwno"] = normalise_gw(out["gwno"].astype(int)).astype("int64").to_numpy()
    return out


# --------------------------------------------------------------------------------------------
# UCDP/PRIO Armed Conflict Dataset


def _tidy_acd(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    out = expand_gw_list(raw, "gwno_loc", ctx.path)
    out["start_date"] = pd.to_datetime(out["start_date"], errors="raise")
    out["start_date2"] = pd.to_datetime(out["start_date2"], errors="raise")
    out["ep_end_date"] = pd.to_datetime(out["ep_end_date"], errors="coerce")
    columns = [
        "conflict_id",
        "year",
        "gwno",
        "location",
        "side_a",
        "side_b",
        "incompatibility",
        "territory_name",
        "intensity_level",
        "type_of_conflict",
        "start_date",
        "start_date2",
        "ep_end",
        "ep_end_date",
        "gwno_loc",
    ]
    ctx.notes["multi_location_rows"] = int(raw["gwno_loc"].str.contains(",").sum())
    return out[columns].sort_values(["conflict_id", "year", "gwno"], ignore_index=True)


def _cut_acd(table: pd.DataFrame, year: int) -> pd.DataFrame:
    # An episode's end is only known after a calendar year without fighting.
    out = table.loc[table["year"] <= year].copy()
    last = out["year"] == year
    out.loc[last, "ep_end"] = 0
    out.loc[last, "ep_end_date"] = pd.NaT
    return out


ACD = Source(
    key="ucdp_acd",
    path="conflict/ucdp_prio_acd_v25_1.csv",
    title="UCDP/PRIO Armed Conflict Dataset v25.1",
    raw_schema=pa.DataFrameSchema(
        {
            "conflict_id": pa.Column(int, coerce=True),
            "location": pa.Column(str, coerce=True),
            "side_a": pa.Column(str, coerce=True),
            "side_b": pa.Column(str, coerce=True),
            "incompatibility": pa.Column(int, pa.Check.isin([1, 2, 3]), coerce=True),
            "territory_name": pa.Column(str, nullable=True, coerce=True),
            "year": _YEAR,
            "intensity_level": pa.Column(int, pa.Check.isin([1, 2]), coerce=True),
            "type_of_conflict": pa.Column(int, pa.Check.isin([1, 2, 3, 4]), coerce=True),
            "start_date": pa.Column(str, coerce=True),
            "start_date2": pa.Column(str, coerce=True),
            "ep_end": pa.Column(int, pa.Check.isin([0, 1]), coerce=True),
            "ep_end_date": pa.Column(str, nullable=True, coerce=True),
            "gwno_loc": _GW_LIST,
        },
        unique=["conflict_id", "year"],
    ),
    tidy=_tidy_acd,
    key_columns=("conflict_id", "year", "gwno"),
    cut=_cut_acd,
)
"""Conflict-year rows expanded to one row per location country.

Output columns: ``conflict_id``, ``year``, ``gwno`` (one location), ``location``, ``side_a``,
``side_b``, ``incompatibility`` (1 territory, 2 government, 3 both), ``territory_name``,
``intensity_level`` (1 minor, 2 war), ``type_of_conflict`` (1 extrasystemic, 2 interstate,
3 internal, 4 internationalised internal), ``start_date``, ``start_date2`` (episode start),
``ep_end`` (1 in an episode's last year), ``ep_end_date``, ``gwno_loc`` (the original list).
"""


# --------------------------------------------------------------------------------------------
# UCDP Conflict Termination


def _tidy_termination(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    out = expand_gw_list(raw, "gwno_loc", ctx.path)
    out["ependdate"] = pd.to_datetime(out["ependdate"], errors="coerce")
    out["outcome"] = out["outcome"].astype("Int64")
    columns = [
        "conflictep_id",
        "conflict_id",
        "year",
        "gwno",
        "type_of_conflict",
        "intensity_level",
        "confterm",
        "ependdate",
        "outcome",
        "recur",
    ]
    return out[columns].sort_values(["conflictep_id", "year", "gwno"], ignore_index=True)


def _cut_termination(table: pd.DataFrame, year: int) -> pd.DataFrame:
    out = table.loc[table["year"] <= year].copy()
    # Whether and how an episode ended is known only after its last year.
    unknown = out["ependdate"].dt.year >= year
    out.loc[unknown, ["outcome"]] = pd.NA
    out.loc[unknown, "confterm"] = 0
    out.loc[unknown, "ependdate"] = pd.NaT
    return out


TERMINATION = Source(
    key="ucdp_termination",
    path="conflict/ucdp_term_acd_v3_2021.csv",
    title="UCDP Conflict Termination Dataset v3-2021",
    raw_schema=pa.DataFrameSchema(
        {
            "conflictep_id": pa.Column(int, coerce=True),
            "conflict_id": pa.Column(int, coerce=True),
            "year": _YEAR,
            "type_of_conflict": pa.Column(int, pa.Check.isin([1, 2, 3, 4]), coerce=True),
            "intensity_level": pa.Column(int, pa.Check.isin([1, 2]), coerce=True),
            "confterm": pa.Column(int, pa.Check.isin([0, 1]), coerce=True),
            "ependdate": pa.Column(str, nullable=True, coerce=True),
            "outcome": pa.Column(
                float, pa.Check.isin([1, 2, 3, 4, 5, 6]), nullable=True, coerce=True
            ),
            "recur": pa.Column(int, pa.Check.isin([0, 1]), coerce=True),
            "gwno_loc": _GW_LIST,
        },
        unique=["conflictep_id", "year"],
    ),
    tidy=_tidy_termination,
    key_columns=("conflictep_id", "year", "gwno"),
    cut=_cut_termination,
)
"""Conflict-episode-years with how each episode ended.

Output columns: ``conflictep_id``, ``conflict_id``, ``year``, ``gwno`` (one location),
``type_of_conflict``, ``intensity_level``, ``confterm`` (1 in the episode's last year),
``ependdate``, ``outcome`` (1 peace agreement, 2 ceasefire, 3 government victory, 4 rebel
victory, 5 low activity, 6 actor ceases to exist; only in the last year), ``recur``.
"""

OUTCOME_LABELS: dict[int, str] = {
    1: "peace agreement",
    2: "ceasefire",
    3: "government victory",
    4: "rebel victory",
    5: "low activity",
    6: "actor ceased to exist",
}


# --------------------------------------------------------------------------------------------
# UCDP Peace Agreements

PROVISIONS: tuple[str, ...] = (
    "cease",
    "intarmy",
    "ddr",
    "withd",
    "pp",
    "intgov",
    "elections",
    "pko",
    "amn",
    "recon",
    "justice_prov",
)
"""Agreement provisions kept (0/1, UCDP codebook names)."""


def _tidy_agreements(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    out = expand_gw_list(raw.rename(columns={"gwno": "gwno_list"}), "gwno_list", ctx.path)
    out["pa_date"] = pd.to_datetime(out["pa_date"], errors="raise")
    # conflict_id may list several conflicts; keep the first as the primary one.
    out["conflict_id"] = out["conflict_id"].astype(str).str.split(",").str[0].str.strip()
    out["conflict_id"] = out["conflict_id"].astype("int64")
    for col in PROVISIONS:
        out[col] = (out[col] > 0).astype("int8")
    out["inclusive"] = (out["inclusive"] == 1).astype("int8")
    columns = [
        "paid",
        "gwno",
        "conflict_id",
        "year",
        "pa_date",
        "pa_type",
        "inclusive",
        *PROVISIONS,
    ]
    return out[columns].sort_values(["paid", "gwno"], ignore_index=True)


AGREEMENTS = Source(
    key="ucdp_peace_agreements",
    path="conflict/ucdp_peace_agreements_v22_1.csv",
    title="UCDP Peace Agreement Dataset v22.1",
    raw_schema=pa.DataFrameSchema(
        {
            "paid": pa.Column(int, coerce=True, unique=True),
            "gwno": _GW_LIST,
            "conflict_id": pa.Column(
                str, pa.Check.str_matches(r"^\s*\d+(\s*,\s*\d+)*\s*$"), coerce=True
            ),
            "year": _YEAR,
            "pa_date": pa.Column(str, coerce=True),
            "pa_type": pa.Column(int, coerce=True),
            "inclusive": pa.Column(int, coerce=True),
            **{p: pa.Column(int, pa.Check.ge(0), coerce=True) for p in PROVISIONS},
        }
    ),
    tidy=_tidy_agreements,
    key_columns=("paid", "gwno"),
)
"""Peace agreements, one row per agreement and signatory-location country.

Output columns: ``paid``, ``gwno``, ``conflict_id`` (first listed), ``year``, ``pa_date``,
``pa_type`` (1 full, 2 partial, 3 process), ``inclusive`` (0/1), and 0/1 provisions:
``cease`` ceasefire, ``intarmy`` army integration, ``ddr`` disarmament-demobilisation-
reintegration, ``withd`` withdrawal of foreign forces, ``pp`` power sharing in government,
``intgov`` integration into government, ``elections``, ``pko`` third-party peacekeeping,
``amn`` amnesty, ``recon`` reconciliation, ``justice_prov`` transitional justice.
"""


# --------------------------------------------------------------------------------------------
# UCDP Battle-Related Deaths (dyadic)


def _normalised_lists(lists: pd.Series) -> pd.Series:
    """Comma-separated GW code lists with every code normalised (each distinct list once)."""
    distinct = pd.Series(lists.unique())
    codes = distinct.str.split(",").explode()
    normal = normalise_gw(codes.map(int)).astype(str)
    joined = pd.Series(normal.to_numpy(), index=codes.index).groupby(level=0).agg(",".join)
    return lists.map(dict(zip(distinct, joined.sort_index(), strict=True)))


def _tidy_brd(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    out = raw.copy()
    for column in ("gwno_loc", "gwno_battle"):
        # Keep the lists as written (comma-separated GW codes), normalised: the feature
        # builders expand them with :func:`expand_gw_list` on the column they need.
        out[column] = _normalised_lists(out[column].astype(str))
    columns = [
        "conflict_id",
        "dyad_id",
        "year",
        "side_a",
        "side_b",
        "incompatibility",
        "type_of_conflict",
        "bd_best",
        "bd_low",
        "bd_high",
        "gwno_loc",
        "gwno_battle",
        "battle_location",
    ]
    ctx.notes["battle_elsewhere_rows"] = int((out["gwno_loc"] != out["gwno_battle"]).sum())
    return out[columns].sort_values(["dyad_id", "year"], ignore_index=True)


BATTLE_DEATHS = Source(
    key="ucdp_brd",
    path="conflict/ucdp_brd_dyadic_v25_1.csv",
    title="UCDP Battle-Related Deaths Dataset v25.1 (dyadic)",
    raw_schema=pa.DataFrameSchema(
        {
            "conflict_id": pa.Column(int, coerce=True),
            "dyad_id": pa.Column(int, coerce=True),
            "side_a": pa.Column(str, coerce=True),
            "side_b": pa.Column(str, coerce=True),
            "incompatibility": pa.Column(int, pa.Check.isin([1, 2, 3]), coerce=True),
            "year": _YEAR,
            "bd_best": pa.Column(int, pa.Check.ge(0), coerce=True),
            "bd_low": pa.Column(int, pa.Check.ge(0), coerce=True),
            "bd_high": pa.Column(int, pa.Check.ge(0), coerce=True),
            "type_of_conflict": pa.Column(int, pa.Check.isin([1, 2, 3, 4]), coerce=True),
            "battle_location": pa.Column(str, nullable=True, coerce=True),
            "gwno_loc": _GW_LIST,
            "gwno_battle": _GW_LIST,
        },
        unique=["dyad_id", "year"],
    ),
    tidy=_tidy_brd,
    key_columns=("dyad_id", "year"),
)
"""Battle-related deaths per dyad-year, 1989 on.

Output columns: ``conflict_id``, ``dyad_id``, ``year``, ``side_a``, ``side_b``,
``incompatibility``, ``type_of_conflict``, ``bd_best``/``bd_low``/``bd_high`` (deaths),
``gwno_loc`` (UCDP's location: the government's country) and ``gwno_battle`` (where the
battles were), both comma-separated GW lists (Serbia 340 → 345), ``battle_location``.
The dyad-years are those of conflict-years in the ACD (≥ 25 deaths in the conflict-year), so
unlike the GED-based organised-violence file no row exists only because of a later year.
"""


# --------------------------------------------------------------------------------------------
# UCDP Country-Year Dataset on Organized Violence (GED-based)

GED_THRESHOLD = 25
"""UCDP's inclusion threshold: a dyad or actor enters GED once it reaches 25 deaths in some
calendar year, possibly a later one (see :data:`ORGANIZED_VIOLENCE`)."""

_OV_COLUMNS: dict[str, str] = {
    "country_id_cy": "gwno",
    "year_cy": "year",
    "sb_total_deaths_best_cy": "sb_deaths",
    "sb_intrastate_deaths_best_cy": "sb_intrastate_deaths",
    "ns_dyad_count_cy": "ns_dyads",
    "ns_total_deaths_best_cy": "ns_deaths",
    "os_dyad_count_cy": "os_actors",
    "os_total_deaths_best_cy": "os_deaths",
    "os_any_govt_killings_best_cy": "os_govt_deaths",
    "os_nsgroup_killings_best_cy": "os_nsgroup_deaths",
}


def _tidy_organized_violence(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    out = raw.rename(columns=_OV_COLUMNS)[list(_OV_COLUMNS.values())].copy()
    out["gwno"] = normalise_gw(out["gwno"]).astype("int64").to_numpy()
    for column in ("ns_deaths", "os_deaths"):
        below = (out[column] > 0) & (out[column] < GED_THRESHOLD)
        ctx.notes[f"{column}_below_threshold_rows"] = int(below.sum())
    return out.sort_values(["gwno", "year"], ignore_index=True)


_DEATHS = pa.Column(int, pa.Check.ge(0), coerce=True)

ORGANIZED_VIOLENCE = Source(
    key="ucdp_organized_violence",
    path="conflict/ucdp_organized_violence_cy_v25_1.csv",
    title="UCDP Country-Year Dataset on Organized Violence within Country Borders v25.1",
    raw_schema=pa.DataFrameSchema(
        {
            "country_id_cy": pa.Column(int, pa.Check.in_range(2, 999), coerce=True),
            "year_cy": _YEAR,
            **{c: _DEATHS for c in _OV_COLUMNS if c not in ("country_id_cy", "year_cy")},
        },
        unique=["country_id_cy", "year_cy"],
    ),
    tidy=_tidy_organized_violence,
    year_column="year",
    key_columns=("gwno", "year"),
)
"""Organised violence inside each country's borders, one row per GW country-year from 1989
(zeros included).

Output columns: ``gwno``, ``year``, ``sb_deaths`` (state-based, all), ``sb_intrastate_deaths``,
``ns_dyads``/``ns_deaths`` (non-state conflict), ``os_actors``/``os_deaths`` (one-sided
violence against civilians), ``os_govt_deaths``, ``os_nsgroup_deaths``; deaths are UCDP's best
estimates.

**Leak warning.** GED includes an event only if its dyad or actor reached 25 deaths in *some*
calendar year, possibly later. A count below 25 in a year can therefore exist only because the
dyad escalated afterwards: features must use only totals that reach :data:`GED_THRESHOLD`
within the year itself (:mod:`relapse.features.conflict_legacy`). The rows below the threshold are
counted in the load notes.
"""

SOURCES: tuple[Source, ...] = (ACD, TERMINATION, AGREEMENTS, BATTLE_DEATHS, ORGANIZED_VIOLENCE)
