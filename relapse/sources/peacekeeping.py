"""Peacekeeping data: Bara–Hultman, UN personnel, Geo-PKO, the UN mission list, UN contributions,
Mullenbach's third-party missions and Doyle–Sambanis mission types.

Host countries end in an int64 ``gwno`` (Gleditsch–Ward). Codes are kept as each file codes
them, with the explicit corrections listed below; the feature builder
(:mod:`relapse.features.mission`) decides how sources are reconciled. Kosovo (GW 347) is kept as
coded even before its 2008 independence: the builder assigns those years to Serbia (345).

Rows a loader excludes on purpose (no single host state, a host that is not a GW state) are
listed in the module constants below and counted in ``LoadContext.notes``; any other country
code that cannot be mapped raises :class:`~relapse.errors.DataError`.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from relapse.countries import map_country_codes, name_to_iso3
from relapse.errors import DataError
from relapse.sources.base import COUNTRY_CODE_MAX, LoadContext, Source
from relapse.sources.crosswalks import UN_MISSION_ISO3

_YEAR = pa.Column(int, pa.Check.in_range(1900, 2100), coerce=True)
_MONTH = pa.Column(int, pa.Check.in_range(1, 12), coerce=True)
_COUNT = pa.Column(float, pa.Check.ge(0), nullable=True, coerce=True)
_DUMMY = pa.Column(int, pa.Check.isin([0, 1]), coerce=True)
_DATE = r"^\d{4}-\d{2}-\d{2}$"


def _cut_missions(start: str, end: str, ongoing: str | None = None):
    """A vintage cut for mission-level tables: drop later starts, blank later ends."""

    def cut(table: pd.DataFrame, year: int) -> pd.DataFrame:
        start_year = _year_of(table[start])
        out = table.loc[~(start_year > year).fillna(False).to_numpy(dtype=bool)].copy()
        later = (_year_of(out[end]) > year).fillna(False).to_numpy(dtype=bool)
        out.loc[later, end] = pd.NaT if out[end].dtype.kind == "M" else pd.NA
        if ongoing is not None:
            out.loc[later, ongoing] = 1
        return out

    return cut


def _year_of(values: pd.Series) -> pd.Series:
    if values.dtype.kind == "M":
        return values.dt.year.astype("Float64")
    return values.astype("Float64")


# --------------------------------------------------------------------------------------------
# Bara & Hultman, UN and non-UN peacekeeping (episode-month)


def _tidy_bara_hultman(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    out, _ = map_country_codes(raw, "ccode", "cow", ctx.data_dir, source=ctx.path)
    date = pd.to_datetime(out["date"], format="%Y-%m-%d", errors="raise")
    if (date.dt.year != out["year"]).any():
        raise DataError(f"{ctx.path}: column 'year' disagrees with column 'date'")
    out = out.assign(
        month=date.dt.month.astype("int64"),
        un=(out["org"] == 1).astype("int8"),
        troops=out["troops_backward"],
        police=out["police_backward"],
        observers=out["observers_backward"],
    )
    columns = [
        "gwno",
        "year",
        "month",
        "mission",
        "missionid",
        "org",
        "un",
        "onlypolice",
        "activity",
        "troops",
        "police",
        "observers",
        "conflictid",
        "episodenum",
        "incomp",
        "location",
    ]
    return out[columns].sort_values(
        ["gwno", "mission", "episodenum", "year", "month"], ignore_index=True
    )


BARA_HULTMAN = Source(
    key="bara_hultman",
    path="peacekeeping/bara_hultman_pko_v2_2019_episode_month.csv",
    title="Bara & Hultman UN and Non-UN Peacekeeping Dataset v2-2019",
    raw_schema=pa.DataFrameSchema(
        {
            "ccode": pa.Column(int, pa.Check.in_range(1, COUNTRY_CODE_MAX), coerce=True),
            "location": pa.Column(str, coerce=True),
            "conflictid": pa.Column(int, coerce=True),
            "episodenum": pa.Column(int, coerce=True),
            "activity": _DUMMY,
            "incomp": pa.Column(int, pa.Check.isin([1, 2]), coerce=True),
            "date": pa.Column(str, pa.Check.str_matches(_DATE), coerce=True),
            "year": _YEAR,
            "missionid": pa.Column(int, coerce=True),
            "mission": pa.Column(str, coerce=True),
            "org": pa.Column(int, pa.Check.isin([1, 2, 3]), coerce=True),
            "onlypolice": _DUMMY,
            "troops_backward": pa.Column(float, pa.Check.ge(0), coerce=True),
            "police_backward": pa.Column(float, pa.Check.ge(0), coerce=True),
            "observers_backward": pa.Column(float, pa.Check.ge(0), coerce=True),
        }
    ),
    tidy=_tidy_bara_hultman,
    key_columns=("episodenum", "missionid", "year", "month"),
)
"""Mission × UCDP conflict-episode × month in host countries, 1993–2016.

Output columns: ``gwno`` (host, from COW ``ccode``), ``year``, ``month``, ``mission``,
``missionid`` (mission × country id), ``org`` (1 UN, 2 regional, 3 international: 2 and 3 are
non-UN), ``un`` (1 if ``org`` is 1), ``onlypolice`` (pure civilian-police mission),
``activity`` (1 conflict active that month, 0 post-conflict), ``troops``, ``police``,
``observers``, ``conflictid``, ``episodenum``, ``incomp``, ``location``.

Personnel are the ``*_backward`` series: SIPRI's own figure for the year (reported at year end,
or in the last month for a mission ending that year) repeated in every month of that year. The
``*_iepo``/``*_ipo`` series interpolate linearly between two years' figures and extrapolate to
mission starts, so a month's value mixes in figures reported later; ``*_backward`` carries only
the year's own report, which is what a forecast made at the end of that year could know.

Quirks: a mission deployed against several conflicts in one country (Bosnia's three) appears
once per episode, so country totals must take each mission once per month. From 2015 SIPRI no
longer separates troops from observers: military observers are counted in ``troops`` and
``observers`` is 0 (codebook, p. 3).
"""


# --------------------------------------------------------------------------------------------
# UN peacekeeping personnel (mission-month)

PERSONNEL_NO_SINGLE_HOST: dict[str, str] = {
    "LBB": "UN Logistics Base in Brindisi, Italy: a supply depot, not a field mission",
    "UNFOR": "UN Peace Forces HQ (Zagreb) for several former-Yugoslav states",
    "UNPF": "UN Peace Forces HQ (Zagreb) for several former-Yugoslav states",
    "UNPROFOR": "deployed in Bosnia, Croatia, Serbia and Macedonia at once; no split given",
    "UNTSO": "observers in Egypt, Israel, Jordan, Lebanon and Syria; no split given",
}
"""UN personnel missions without a host code and without a single host state: excluded."""


def _tidy_un_personnel(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    no_host = raw["mission"].isin(list(PERSONNEL_NO_SINGLE_HOST))
    if raw.loc[no_host, "missionccode"].notna().any():
        raise DataError(f"{ctx.path}: a mission listed as having no single host has a code")
    ctx.notes["rows_without_single_host"] = raw.loc[no_host, "mission"].value_counts().to_dict()
    raw = raw.loc[~no_host.to_numpy()]
    coded = raw["missionccode"].notna()
    by_code, _ = map_country_codes(
        raw.loc[coded], "missionccode", "cow", ctx.data_dir, source=ctx.path
    )
    # MINUSMA (Mali) has a country name but no code; the name is unambiguous.
    by_name = raw.loc[~coded]
    by_name = by_name.assign(iso3=name_to_iso3(by_name["missioncountry"]).to_numpy())
    by_name, _ = map_country_codes(by_name, "iso3", "iso3", ctx.data_dir, source=ctx.path)
    ctx.notes["hosts_from_country_name"] = by_name["mission"].value_counts().to_dict()
    out = pd.concat([by_code, by_name.drop(columns="iso3")], ignore_index=True)
    out = out.rename(
        columns={
            "authtroop": "auth_troops",
            "authpolice": "auth_police",
            "authmilobs": "auth_observers",
            "troop": "troops",
            "milobs": "observers",
            "totalauth": "auth_total",
            "propshortfall": "shortfall_share",
            "missioncountry": "country",
        }
    )
    columns = [
        "mission",
        "gwno",
        "year",
        "month",
        "auth_troops",
        "auth_police",
        "auth_observers",
        "auth_total",
        "troops",
        "police",
        "observers",
        "total",
        "shortfall_share",
        "contributors",
        "country",
    ]
    return out[columns].sort_values(["mission", "gwno", "year", "month"], ignore_index=True)


UN_PERSONNEL = Source(
    key="un_personnel",
    path="peacekeeping/un_pko_personnel_mission_month_1990_2015.csv",
    title="UN peacekeeping personnel by mission-month, 1990–2015 (Kathman 2013)",
    raw_schema=pa.DataFrameSchema(
        {
            "mission": pa.Column(str, coerce=True),
            "missioncountry": pa.Column(str, nullable=True, coerce=True),
            "missionccode": pa.Column(
                float, pa.Check.in_range(1, COUNTRY_CODE_MAX), nullable=True, coerce=True
            ),
            "year": _YEAR,
            "month": _MONTH,
            **{
                c: _COUNT
                for c in (
                    "authtroop",
                    "authpolice",
                    "authmilobs",
                    "troop",
                    "police",
                    "milobs",
                    "totalauth",
                    "total",
                    "contributors",
                )
            },
            "propshortfall": pa.Column(float, pa.Check.in_range(0, 1), nullable=True, coerce=True),
        },
        unique=["mission", "year", "month"],
    ),
    tidy=_tidy_un_personnel,
    key_columns=("mission", "gwno", "year", "month"),
)
"""UN mission-months, 1990–2015: authorised versus deployed uniformed personnel.

Output columns: ``mission``, ``gwno`` (host, from COW ``missionccode``), ``year``, ``month``,
``auth_troops``, ``auth_police``, ``auth_observers``, ``auth_total`` (authorised strength),
``troops``, ``police``, ``observers`` (deployed military observers), ``total`` (deployed),
``shortfall_share`` (the file's ``propshortfall``: share of the authorised strength not
deployed), ``contributors`` (number of contributing countries), ``country`` (the file's name).
Counts are NaN where the file has no figure.

Quirks: MINUSMA has no host code (mapped from its country name, Mali). The missions in
:data:`PERSONNEL_NO_SINGLE_HOST` have no code and no single host and are excluded (counted in
``notes['rows_without_single_host']``). UNMEE is coded to Ethiopia (530) although it was based
in Eritrea, and UNMOGIP to India (750): kept as coded. UNMIK is coded to Kosovo (347) from 2000.
The file also holds UN political missions with few uniformed staff (UNAMA, UNAMI, BINUB…).
"""


# --------------------------------------------------------------------------------------------
# Geo-PKO (deployment location per UN map)

GEOPKO_NAME_TO_ISO3: dict[str, str] = {
    # Geo-PKO's own COW/GW columns put MINURSO's Western Sahara sites in Morocco (600), as do
    # every other source here and the mission crosswalk; country_converter would say ESH.
    "Western Sahara": "MAR",
    "Ivory Coast": "CIV",
    "North Macedonia": "MKD",
    "Timor-Leste": "TLS",
}
"""Geo-PKO country names mapped explicitly (the rest go through ``country_converter``)."""

GEOPKO_NO_SINGLE_COUNTRY: frozenset[str] = frozenset({"Ethiopia/Eritrea"})
"""Locations on a disputed border (UNMEE at Badme and Deda Lala): excluded, and counted."""

GEOPKO_UNITS: tuple[str, ...] = (
    "fpu",
    "unpol.dummy",
    "unmo.dummy",
    "inf",
    "eng",
    "med",
    "avia",
    "sig",
    "trans",
    "maint",
    "recon",
    "mp",
    "demining",
    "uav",
    "riv",
    "he.sup",
    "sf",
    "armor",
    "res",
    "fp",
    "lo",
)
"""Unit-type dummies kept (Geo-PKO names; dots become underscores in the output)."""


def _tidy_geopko(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    disputed = raw["country"].isin(list(GEOPKO_NO_SINGLE_COUNTRY))
    ctx.notes["disputed_border_rows"] = int(disputed.sum())
    out = raw.loc[~disputed.to_numpy()].copy()
    names = out["country"].str.strip()
    iso3 = name_to_iso3(names).to_numpy()
    explicit = names.map(GEOPKO_NAME_TO_ISO3)
    out["iso3"] = explicit.where(explicit.notna(), iso3)
    missing = out["iso3"].isna()
    if missing.any():
        raise DataError(
            f"{ctx.path}: country name(s) not recognised: "
            f"{sorted(out.loc[missing, 'country'].unique())}"
        )
    out, excluded = map_country_codes(out, "iso3", "iso3", ctx.data_dir, source=ctx.path)
    if excluded:
        raise DataError(f"{ctx.path}: locations in non-states {excluded}")
    troops = out["no.troops"].str.strip()
    ctx.notes["unknown_troop_numbers"] = int((troops == "unknown").sum())
    out["no.troops"] = pd.to_numeric(troops.replace("unknown", pd.NA)).astype("Float64")
    # Two entries may share a map, mission and place name ("unnamed location" at different
    # points; El Fasher listed twice with different units): number them in file order.
    out["entry"] = out.groupby(["source", "mission", "year", "month", "location"]).cumcount() + 1
    out = out.rename(columns={"source": "map"})
    out.columns = [c.replace(".", "_") for c in out.columns]
    columns = [
        "map",
        "mission",
        "year",
        "month",
        "location",
        "entry",
        "country",
        "gwno",
        "latitude",
        "longitude",
        "no_troops",
        "hq",
        "no_tcc",
        *(u.replace(".", "_") for u in GEOPKO_UNITS),
    ]
    return out[columns].sort_values(
        ["mission", "year", "month", "map", "location", "entry"], ignore_index=True
    )


GEOPKO = Source(
    key="geopko",
    path="peacekeeping/geopko_v2_location_map.csv",
    title="Geo-PKO v2 (Cil, Fjelde, Hultman & Nilsson 2020)",
    raw_schema=pa.DataFrameSchema(
        {
            "source": pa.Column(str, coerce=True),
            "mission": pa.Column(str, coerce=True),
            "year": _YEAR,
            "month": _MONTH,
            "location": pa.Column(str, coerce=True),
            "country": pa.Column(str, coerce=True),
            "latitude": pa.Column(float, pa.Check.in_range(-90, 90), nullable=True, coerce=True),
            "longitude": pa.Column(float, pa.Check.in_range(-180, 180), nullable=True, coerce=True),
            "no.troops": pa.Column(
                str, pa.Check.str_matches(r"^\s*(\d+|unknown)\s*$"), coerce=True
            ),
            "hq": pa.Column(int, pa.Check.isin([0, 1, 2, 3]), coerce=True),
            "no.tcc": pa.Column(int, pa.Check.ge(0), coerce=True),
            **{u: _DUMMY for u in GEOPKO_UNITS},
        },
        # An exact repeat of a row is an error (entries sharing a place name differ elsewhere).
        unique=[
            "source",
            "mission",
            "year",
            "month",
            "location",
            "country",
            "latitude",
            "longitude",
            "no.troops",
            "hq",
            "no.tcc",
            *GEOPKO_UNITS,
        ],
    ),
    tidy=_tidy_geopko,
    key_columns=("map", "mission", "year", "month", "location", "entry"),
)
"""One row per deployment location on a UN deployment map, 1994–2018.

Output columns: ``map`` (UN map number and revision), ``mission``, ``year``, ``month`` (of the
map), ``location``, ``entry`` (1, 2… for entries sharing map, mission and place name),
``country`` (the file's name), ``gwno`` (from the name), ``latitude``, ``longitude``,
``no_troops`` (troops at the location; NaN where the file says "unknown"), ``hq`` (0 none,
1 mission, 2 sector, 3 regional headquarters), ``no_tcc`` (number of troop contributors), and
0/1 unit types: ``fpu`` formed police unit, ``unpol_dummy`` UN police, ``unmo_dummy`` military
observers, ``inf`` infantry, ``eng`` engineers, ``med`` medical, ``avia`` aviation, ``sig``
signals, ``trans`` transport, ``maint`` maintenance, ``recon`` reconnaissance, ``mp`` military
police, ``demining``, ``uav`` drones, ``riv`` riverine, ``he_sup`` helicopter support, ``sf``
special forces, ``armor``, ``res`` reserve, ``fp`` force protection, ``lo`` liaison office.

Quirks: "Western Sahara" is mapped to Morocco (600) like every other source here; locations in
"Ethiopia/Eritrea" (UNMEE on the disputed border) are excluded and counted in
``notes['disputed_border_rows']``; some locations are outside the mission's host (MONUC liaison
offices in Uganda, Zambia…). A map's ``month`` can differ from the others of its revision.
"""


# --------------------------------------------------------------------------------------------
# UN peacekeeping mission list


def _tidy_mission_list(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    out = raw.rename(columns={"mission_acronym": "mission", "mission_location": "location"})
    out["start_date"] = pd.to_datetime(out["start_date"], format="%Y-%m-%d", errors="raise")
    out["end_date"] = pd.to_datetime(out["end_date"], format="%Y-%m-%d", errors="raise")
    out["is_active"] = (out["mission_isactive"] == "Yes").astype("int8")
    if ((out["is_active"] == 1) != out["end_date"].isna()).any():
        raise DataError(f"{ctx.path}: 'mission_isactive' disagrees with a blank 'end_date'")
    hosts = ctx.load(UN_MISSION_ISO3)
    out = out.merge(hosts[["mission", "iso3"]], on="mission", how="left", validate="1:m")
    no_host = out["iso3"].isna()
    ctx.notes["missions_without_single_host"] = sorted(out.loc[no_host, "mission"])
    out = out.loc[~no_host.to_numpy()]
    out, excluded = map_country_codes(out, "iso3", "iso3", ctx.data_dir, source=ctx.path)
    if excluded:
        raise DataError(f"{ctx.path}: hosts that are not states {excluded}")
    columns = [
        "mission",
        "mission_name",
        "gwno",
        "iso3",
        "start_date",
        "end_date",
        "is_active",
        "location",
    ]
    return out[columns].sort_values(["mission", "gwno"], ignore_index=True)


UN_MISSION_LIST = Source(
    key="un_mission_list",
    path="peacekeeping/un_pko_mission_list.csv",
    title="UN peacekeeping missions (UN DPPA/DPO)",
    raw_schema=pa.DataFrameSchema(
        {
            "mission_acronym": pa.Column(str, unique=True, coerce=True),
            "mission_name": pa.Column(str, coerce=True),
            "mission_isactive": pa.Column(str, pa.Check.isin(["Yes", "No"]), coerce=True),
            "start_date": pa.Column(str, pa.Check.str_matches(_DATE), nullable=True, coerce=True),
            "end_date": pa.Column(str, pa.Check.str_matches(_DATE), nullable=True, coerce=True),
            "mission_location": pa.Column(str, nullable=True, coerce=True),
        }
    ),
    tidy=_tidy_mission_list,
    year_column=None,
    key_columns=("mission", "gwno"),
    cut=_cut_missions("start_date", "end_date", "is_active"),
)
"""UN peacekeeping missions, one row per mission and host state.

Output columns: ``mission`` (acronym), ``mission_name``, ``gwno`` and ``iso3`` (host, from
``crosswalks/un_pko_mission_to_iso3.csv``; a mission with several hosts has several rows),
``start_date``, ``end_date`` (NaT: still active at the end of the vintage year), ``is_active``
(0/1), ``location`` (headquarters town).

Vintage cut at T: missions starting after T are dropped, end dates after T are blanked and the
mission marked active. Quirks: the umbrella rows UNEF, UNAVEM and UNOSOM repeat their parts
(UNEF I/II…) and, with UNPF and UNFOR, have no host in the crosswalk: excluded and listed in
``notes['missions_without_single_host']``. UNOHCI, UNFOR and UNSCOB have no start date. The
coordinates (decimal commas, some with latitude and longitude swapped) are not kept.
"""


# --------------------------------------------------------------------------------------------
# UN contributions (contributor × mission × year)


def _tidy_contributions(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    out = raw.rename(
        columns={
            "Year": "year",
            "Country": "contributor",
            "Mission": "mission",
            "Female": "female",
            "Male": "male",
            "Total": "total",
        }
    )
    ctx.notes["rows_total_not_female_plus_male"] = int(
        (out["total"] != out["female"] + out["male"]).sum()
    )
    columns = ["contributor", "mission", "year", "female", "male", "total"]
    return out[columns].sort_values(["mission", "year", "contributor"], ignore_index=True)


UN_CONTRIBUTIONS = Source(
    key="un_contributions",
    path="peacekeeping/un_pko_contributions_contributor_mission_year.csv",
    title="UN peacekeeping contributions by contributor, mission and year (UN DPO)",
    raw_schema=pa.DataFrameSchema(
        {
            "Year": _YEAR,
            "Country": pa.Column(str, coerce=True),
            "Mission": pa.Column(str, coerce=True),
            "Female": pa.Column(int, pa.Check.ge(0), coerce=True),
            "Male": pa.Column(int, pa.Check.ge(0), coerce=True),
            "Total": pa.Column(int, pa.Check.ge(0), coerce=True),
        }
    ),
    tidy=_tidy_contributions,
    key_columns=("contributor", "mission", "year"),
)
"""Uniformed personnel by contributing country, UN mission and year, 2010–2018.

Output columns: ``contributor`` (UN name of the contributing country), ``mission``, ``year``,
``female``, ``male``, ``total``. The leading unnamed index column of the file is ignored.

Quirks: the annual figures are not consistent over time (2010 holds a few months only, and
2017 mission sums are about half of 2016 and 2018), and ``total`` differs from ``female`` +
``male`` in some rows (counted in ``notes``): use it for who contributed, not for how many.
Missions are not mapped to hosts here (several are political missions absent from the
crosswalk).
"""


# --------------------------------------------------------------------------------------------
# Mullenbach third-party peacekeeping missions

MULLENBACH_COW_FIXES: dict[int, int] = {
    851: 860,  # East Timor (UNMISET, ISF, UNMIT) is COW 860; 851 is not a COW code.
}
"""Host codes in Mullenbach that are miscoded, and their COW code."""

MULLENBACH_NOT_GW_STATES: dict[int, str] = {
    55: "Grenada (1983–85 Caribbean Peace Force): a microstate outside the GW system",
    941: "Tonga (2006 RAMSI-led deployment): a microstate outside the GW system",
}
"""Host codes of missions in states the Gleditsch–Ward list leaves out: excluded, counted."""


def _tidy_mullenbach(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    if ((raw["ONGOING"] == 1) != raw["ENDYR"].isna()).any():
        raise DataError(f"{ctx.path}: 'ENDYR' must be blank exactly when 'ONGOING' is 1")
    if (raw["ENDYR"] < raw["STARTYR"]).any():
        raise DataError(f"{ctx.path}: a mission ends before it starts")
    out = raw.assign(CCODE1=raw["CCODE1"].replace(MULLENBACH_COW_FIXES))
    not_state = out["CCODE1"].isin(list(MULLENBACH_NOT_GW_STATES))
    ctx.notes["missions_in_non_gw_states"] = out.loc[not_state, "CCODE1"].value_counts().to_dict()
    out, _ = map_country_codes(
        out.loc[~not_state.to_numpy()], "CCODE1", "cow", ctx.data_dir, source=ctx.path
    )
    out = out.rename(
        columns={
            "OBSNUM": "obsnum",
            "PKMNAMElocation": "mission",
            "STATE": "state",
            "TPTYPE": "tptype",
            "UNMANDATE": "un_mandate",
            "STARTYR": "start_year",
            "STARTMON": "start_month",
            "ENDYR": "end_year",
            "ENDMON": "end_month",
            "ONGOING": "ongoing",
            "PKMNUM1": "personnel_1",
            "PKMNUM2": "personnel_2",
            "PURPOSE1": "purpose_1",
            "PURPOSE2": "purpose_2",
            "PURPOSE3": "purpose_3",
            "PURPOSE4": "purpose_4",
        }
    )
    out["un"] = (out["tptype"] == 1).astype("int8")
    out["end_year"] = out["end_year"].astype("Int64")
    out["end_month"] = out["end_month"].astype("Int64")
    columns = [
        "obsnum",
        "mission",
        "state",
        "gwno",
        "tptype",
        "un",
        "un_mandate",
        "start_year",
        "start_month",
        "end_year",
        "end_month",
        "ongoing",
        "personnel_1",
        "personnel_2",
        "purpose_1",
        "purpose_2",
        "purpose_3",
        "purpose_4",
    ]
    return out[columns].sort_values("obsnum", ignore_index=True)


MULLENBACH = Source(
    key="mullenbach",
    path="peacekeeping/mullenbach_third_party_pko_missions.csv",
    title="Mullenbach third-party peacekeeping missions, 1947–2016",
    raw_schema=pa.DataFrameSchema(
        {
            "OBSNUM": pa.Column(int, unique=True, coerce=True),
            "STATE": pa.Column(str, coerce=True),
            "CCODE1": pa.Column(int, pa.Check.in_range(1, COUNTRY_CODE_MAX), coerce=True),
            "TPTYPE": pa.Column(int, pa.Check.isin([1, 2, 3, 4]), coerce=True),
            "UNMANDATE": _DUMMY,
            "PKMNAMElocation": pa.Column(str, coerce=True),
            **{
                f"PURPOSE{i}": pa.Column(int, pa.Check.in_range(0, 8), coerce=True)
                for i in range(1, 5)
            },
            "STARTYR": _YEAR,
            "STARTMON": _MONTH,
            "ENDYR": pa.Column(float, pa.Check.in_range(1900, 2100), nullable=True, coerce=True),
            "ENDMON": pa.Column(float, pa.Check.in_range(1, 12), nullable=True, coerce=True),
            "ONGOING": _DUMMY,
            "PKMNUM1": _COUNT,
            "PKMNUM2": _COUNT,
        }
    ),
    tidy=_tidy_mullenbach,
    year_column="start_year",
    key_columns=("obsnum",),
    cut=_cut_missions("start_year", "end_year", "ongoing"),
)
"""Third-party (UN and non-UN) peacekeeping missions, one row per mission, 1947–2016.

Output columns: ``obsnum``, ``mission`` (name and place), ``state`` (the file's name),
``gwno`` (host, from COW ``CCODE1``), ``tptype`` (1 UN, 2 regional organisation, 3 state or
coalition, 4 joint UN–regional, e.g. UNAMID), ``un`` (1 if ``tptype`` is 1), ``un_mandate``
(Security Council mandate, 0/1), ``start_year``, ``start_month``, ``end_year``, ``end_month``
(<NA> while ongoing), ``ongoing`` (1: no end by the end of 2016, the file's last year),
``personnel_1``/``personnel_2`` (``PKMNUM1``/``PKMNUM2``, personnel over the mission's life:
not annual, so not usable for a given year without looking ahead), ``purpose_1``…``purpose_4``
(the file's purpose codes; 8 = none).

Vintage cut at T: missions starting after T are dropped; an end after T is blanked and the
mission marked ongoing. Quirks: East Timor is coded 851 (fixed to 860); Grenada (55) and Tonga
(941) are not GW states and their missions are excluded, counted in
``notes['missions_in_non_gw_states']``. Kosovo missions are coded to Serbia (345).
"""


# --------------------------------------------------------------------------------------------
# Doyle & Sambanis mission type (country-year)

DS_TYPES: dict[int, str] = {
    1: "observer",
    2: "traditional",
    3: "multidimensional",
    4: "enforcement",
}
"""Doyle–Sambanis ``DS_ordinal`` codes."""


def _tidy_doyle_sambanis(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    # Two rows (1962-63, a multidimensional mission without a state code or ISO2: UNTEA/UNSF
    # in West New Guinea, then not a state) cannot be placed in a GW state.
    no_state = raw["State.Code"].isna()
    ctx.notes["rows_without_state"] = int(no_state.sum())
    out, _ = map_country_codes(
        raw.loc[~no_state.to_numpy()], "State.Code", "cow", ctx.data_dir, source=ctx.path
    )
    out = out.rename(
        columns={
            "Year": "year",
            "DS_ordinal": "ds_ordinal",
            "DS_Observe": "observer",
            "DS_TradPKO": "traditional",
            "DS_MultiPKO": "multidimensional",
            "DS_Enforce": "enforcement",
        }
    )
    out["mission_type"] = out["ds_ordinal"].map(DS_TYPES)
    columns = [
        "gwno",
        "year",
        "ds_ordinal",
        "mission_type",
        "observer",
        "traditional",
        "multidimensional",
        "enforcement",
    ]
    return out[columns].sort_values(["gwno", "year"], ignore_index=True)


DOYLE_SAMBANIS = Source(
    key="doyle_sambanis",
    path="peacekeeping/doyle_sambanis_pko_type_country_year.csv",
    title="Doyle & Sambanis UN peace operation type, 1948–2010",
    raw_schema=pa.DataFrameSchema(
        {
            "State.Code": pa.Column(
                float, pa.Check.in_range(1, COUNTRY_CODE_MAX), nullable=True, coerce=True
            ),
            "Year": _YEAR,
            "DS_ordinal": pa.Column(int, pa.Check.isin(list(DS_TYPES)), coerce=True),
            "DS_Observe": _DUMMY,
            "DS_TradPKO": _DUMMY,
            "DS_MultiPKO": _DUMMY,
            "DS_Enforce": _DUMMY,
        }
    ),
    tidy=_tidy_doyle_sambanis,
    key_columns=("gwno", "year"),
)
"""Country-years with a UN peace operation and its strongest mandate, 1948–2010.

Output columns: ``gwno`` (from COW ``State.Code``), ``year``, ``ds_ordinal`` (1 observer,
2 traditional, 3 multidimensional, 4 enforcement), ``mission_type`` (the label), and the file's
0/1 dummies ``observer``, ``traditional``, ``multidimensional``, ``enforcement``.

Quirks: the dummies do not always agree with ``ds_ordinal`` (14 rows have none set, 8
enforcement rows have all four set): ``ds_ordinal`` is the authoritative code. Two 1962–63 rows
have no state code and are excluded (``notes['rows_without_state']``). The file's
``DS_ordinal_t1`` (last year's type) is not kept.
"""

SOURCES: tuple[Source, ...] = (
    BARA_HULTMAN,
    UN_PERSONNEL,
    GEOPKO,
    UN_MISSION_LIST,
    UN_CONTRIBUTIONS,
    MULLENBACH,
    DOYLE_SAMBANIS,
)
