"""Crosswalks and state-system membership lists."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from relapse.countries import GW_TO_GW_TRAPS
from relapse.errors import DataError
from relapse.sources.base import COUNTRY_CODE_MAX, LoadContext, Source


def _tidy_gw_states(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    out = raw.rename(columns={"gwcode": "gwno"}).copy()
    out["startdate"] = pd.to_datetime(out["startdate"], errors="raise")
    out["enddate"] = pd.to_datetime(out["enddate"], errors="raise")
    return out.sort_values(["gwno", "startdate"], ignore_index=True)


GW_STATES = Source(
    key="gw_states",
    path="crosswalks/gw_states.csv",
    title="Gleditsch & Ward list of independent states",
    raw_schema=pa.DataFrameSchema(
        {
            "gwcode": pa.Column(int, pa.Check.in_range(1, COUNTRY_CODE_MAX), coerce=True),
            "stateabb": pa.Column(str, coerce=True),
            "statename": pa.Column(str, coerce=True),
            "startdate": pa.Column(str, coerce=True),
            "enddate": pa.Column(str, coerce=True),
        }
    ),
    tidy=_tidy_gw_states,
    year_column=None,
    key_columns=("gwno", "startdate"),
)
"""State-system membership spells: ``gwno``, ``stateabb``, ``statename``, ``startdate``,
``enddate``. The list was last updated at the end of 2017: an ``enddate`` of 2017-12-31 means
"still a state" (see :func:`relapse.panel.build_spine`)."""


def _tidy_cow_states(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    return raw.rename(columns={"ccode": "cow"}).sort_values(["cow", "styear"], ignore_index=True)


COW_STATES = Source(
    key="cow_states",
    path="crosswalks/cow_states.csv",
    title="Correlates of War state system membership v2016",
    raw_schema=pa.DataFrameSchema(
        {
            "stateabb": pa.Column(str, coerce=True),
            "ccode": pa.Column(int, coerce=True),
            "statenme": pa.Column(str, coerce=True),
            "styear": pa.Column(int, coerce=True),
            "endyear": pa.Column(int, coerce=True),
        }
    ),
    tidy=_tidy_cow_states,
    year_column=None,
    key_columns=("cow", "styear"),
)
"""COW membership spells: ``stateabb``, ``cow``, ``statenme``, ``styear``, ``endyear``."""


def _tidy_cow_system(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    return raw.rename(columns={"ccode": "cow"}).sort_values(["cow", "year"], ignore_index=True)


COW_SYSTEM = Source(
    key="cow_system",
    path="crosswalks/cow_system2016_country_year.csv",
    title="Correlates of War state system country-years v2016",
    raw_schema=pa.DataFrameSchema(
        {
            "stateabb": pa.Column(str, coerce=True),
            "ccode": pa.Column(int, coerce=True),
            "year": pa.Column(int, pa.Check.in_range(1800, 2100), coerce=True),
        }
    ),
    tidy=_tidy_cow_system,
    key_columns=("cow", "year"),
)
"""COW country-years: ``stateabb``, ``cow``, ``year``."""


def _tidy_country_codes(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    out = raw.rename(
        columns={
            "country_text_id": "iso3",
            "vdem_country_name": "country",
            "GWn": "gwno",
            "cown": "cow",
        }
    )
    out["gwno"] = out["gwno"].astype("Int64")
    out["cow"] = out["cow"].astype("Int64")
    return out.sort_values(["iso3", "gwno"], ignore_index=True)


COUNTRY_CODES = Source(
    key="country_codes",
    path="crosswalks/country_codes_iso3_gw_cow.csv",
    title="ISO3 / Gleditsch-Ward / COW crosswalk for the V-Dem country list",
    raw_schema=pa.DataFrameSchema(
        {
            "country_text_id": pa.Column(str, pa.Check.str_length(3, 3), coerce=True),
            "vdem_country_name": pa.Column(str, coerce=True),
            "GWn": pa.Column(float, nullable=True, coerce=True),
            "cown": pa.Column(float, nullable=True, coerce=True),
            "extended_country_name": pa.Column(str, coerce=True),
        }
    ),
    tidy=_tidy_country_codes,
    year_column=None,
    key_columns=("iso3", "gwno", "cow"),
)
"""``iso3``, ``country`` (V-Dem name), ``gwno``, ``cow``, ``extended_country_name``; an ISO3
may list several GW codes (historical predecessors); :mod:`relapse.countries` resolves them."""


def _tidy_mission_iso3(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    return raw.rename(columns={"mission_acronym": "mission", "iso3c": "iso3"}).sort_values(
        "mission", ignore_index=True
    )


UN_MISSION_ISO3 = Source(
    key="un_mission_iso3",
    path="crosswalks/un_pko_mission_to_iso3.csv",
    title="UN peacekeeping mission acronym to host-country ISO3",
    raw_schema=pa.DataFrameSchema(
        {
            "mission_acronym": pa.Column(str, coerce=True),
            "mission_name": pa.Column(str, coerce=True),
            # Blank for missions without a single host state (e.g. regional offices).
            "iso3c": pa.Column(str, pa.Check.str_length(3, 3), nullable=True, coerce=True),
        }
    ),
    tidy=_tidy_mission_iso3,
    year_column=None,
    key_columns=("mission", "iso3"),
)
"""``mission`` (acronym), ``mission_name``, ``iso3`` (host; a mission may have several; blank
when the file names no single host)."""


# --------------------------------------------------------------------------------------------
# Geography: border distances and capitals (CShapes 2.0 via peacesciencer)


def _tidy_mindist(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    out = raw.rename(columns={"gwcode1": "gwno", "gwcode2": "gwno_other", "mindist": "km"})
    # CShapes writes Serbia as 340 before 1916 and from 2006 (Yugoslavia 345 in between; never
    # both in one year): the GW conventions of every other table (340 → 345).
    recoded = out[["gwno", "gwno_other"]].isin(list(GW_TO_GW_TRAPS)).any(axis=1)
    ctx.notes["gw_recoded_rows"] = int(recoded.sum())
    for column in ("gwno", "gwno_other"):
        out[column] = out[column].replace(GW_TO_GW_TRAPS)
    out = out.loc[out["gwno"] != out["gwno_other"]]
    # The file lists each unordered pair once (lower code first): add the other direction, so
    # every state finds its neighbours in ``gwno``. A pair listed both ways with the same
    # distance collapses to one row; with two distances the key check fails.
    mirrored = out.rename(columns={"gwno": "gwno_other", "gwno_other": "gwno"})
    both = pd.concat([out, mirrored[out.columns]], ignore_index=True).drop_duplicates()
    ctx.notes["pairs_mirrored"] = len(both) - len(out)
    return both.sort_values(["gwno", "year", "gwno_other"], ignore_index=True)


MINDIST = Source(
    key="gw_mindist",
    path="crosswalks/gw_mindist_cshapes2.csv",
    title="CShapes 2.0 minimum distances between GW states' borders",
    raw_schema=pa.DataFrameSchema(
        {
            "gwcode1": pa.Column(int, pa.Check.in_range(1, COUNTRY_CODE_MAX), coerce=True),
            "gwcode2": pa.Column(int, pa.Check.in_range(1, COUNTRY_CODE_MAX), coerce=True),
            "year": pa.Column(int, pa.Check.in_range(1800, 2100), coerce=True),
            "mindist": pa.Column(float, pa.Check.ge(0), coerce=True),
        }
    ),
    tidy=_tidy_mindist,
    key_columns=("gwno", "gwno_other", "year"),
)
"""Border distances on 1 January of each year, one row per ordered pair of distinct states
(the file lists each pair once; the loader adds the other direction): ``gwno``,
``gwno_other``, ``year``, ``km`` (0 ≈ land contiguity). CShapes' Serbia 340 (before 1916 and
from 2006) becomes 345, as everywhere else. A file may list only near pairs (the synthetic
one lists each state's nearest few): an absent pair of states that both exist is "not
near", never "unknown"."""


def _tidy_capitals(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    out = raw.rename(columns={"gwcode": "gwno", "stdate": "start", "enddate": "end"}).copy()
    out["start"] = pd.to_datetime(out["start"], errors="raise")
    out["end"] = pd.to_datetime(out["end"], errors="raise")
    if (out["end"] < out["start"]).any():
        bad = out.loc[out["end"] < out["start"], "capital"].tolist()[:3]
        raise DataError(f"{ctx.path}: capital period ends before it starts: {bad}")
    return out[["gwno", "statenme", "capital", "start", "end", "lat", "lng"]].sort_values(
        ["gwno", "start"], ignore_index=True
    )


def _cut_capitals(table: pd.DataFrame, year: int) -> pd.DataFrame:
    out = table.loc[table["start"].dt.year <= year].copy()
    out.loc[out["end"].dt.year > year, "end"] = pd.NaT
    return out


CAPITALS = Source(
    key="gw_capitals",
    path="crosswalks/gw_capitals.csv",
    title="Capitals of GW states with coordinates (peacesciencer)",
    raw_schema=pa.DataFrameSchema(
        {
            "gwcode": pa.Column(int, pa.Check.in_range(1, COUNTRY_CODE_MAX), coerce=True),
            "statenme": pa.Column(str, coerce=True),
            "capital": pa.Column(str, coerce=True),
            "stdate": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$"), coerce=True),
            "enddate": pa.Column(
                str, pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$"), nullable=True, coerce=True
            ),
            "lat": pa.Column(float, pa.Check.in_range(-90, 90), coerce=True),
            "lng": pa.Column(float, pa.Check.in_range(-180, 180), coerce=True),
        }
    ),
    tidy=_tidy_capitals,
    year_column=None,
    key_columns=("gwno", "start"),
    cut=_cut_capitals,
)
"""Capital periods: ``gwno``, ``statenme``, ``capital``, ``start``, ``end`` (NaT: still the
capital at the end of the data), ``lat``, ``lng`` (degrees)."""

SOURCES: tuple[Source, ...] = (
    GW_STATES,
    COW_STATES,
    COW_SYSTEM,
    COUNTRY_CODES,
    UN_MISSION_ISO3,
    MINDIST,
    CAPITALS,
)
