"""Mission features: which peacekeeping missions a country hosts, how big, how long, what kind.

Seven sources overlap in time and scope; each feature below says which source counts in which
years. Values describe year ``t`` itself and use only source rows dated ``t`` or earlier (the
assembler applies the registry lag). A zero means "inside the sources' coverage and no such
mission"; outside every source's coverage the value is NaN.

Host country. Every source's host code is a GW code (see :mod:`relapse.sources.peacekeeping`).
Territories that became states later are assigned to the state they belonged to before
independence (:data:`SECESSIONS`: Kosovo → Serbia 345 before 2008, Montenegro → 345 before
2006, South Sudan → Sudan 625 before 2011), so UNMIK's and KFOR's Kosovo years count for GW 345
as in UCDP. Other non-state years (East Timor before 2002) are not spine rows and drop out.

Reconciliation, feature by feature:

* ``mis_un_present`` — a UN mission was deployed at any time in the year. 1 if any source
  says so: the UN mission list (start to end date, all years from its first mission, 1948; a
  blank end date means still deployed), Bara–Hultman UN rows (1993–2016), UN personnel with
  uniformed staff (1990–2015), a Geo-PKO location in a host country (1994–2018) or UN
  contributions to a hosted mission (2010–2018). 0 otherwise from 1948; NaN before. 2017–2018
  rest on the mission list, Geo-PKO and contributions.
* ``mis_nonun_present`` — a non-UN mission (regional organisation, coalition, or the non-UN
  side of a joint mission): Mullenbach (start to end year, 1947–2016) or Bara–Hultman
  ``org`` 2/3 (1993–2016). NaN after 2016: no source covers non-UN missions in 2017–2018
  (missions Mullenbach lists as ongoing are not carried forward).
* ``mis_years_deployed`` — consecutive years up to and including ``t`` with a UN or non-UN
  mission present (0 when none; successive missions count as one spell). NaN once presence
  is unknown (2017–2018 in a country without a UN mission) and for the rest of that spell.
* ``mis_troops``, ``mis_police``, ``mis_observers`` — uniformed personnel of all missions at
  the end of the year (December; a mission that left during the year counts 0): the UN part
  from UN personnel (1990–2015, when it has the country-year) else Bara–Hultman UN rows; the
  non-UN part from Bara–Hultman. Defined 1993–2016 (both parts covered); NaN in 1990–1992
  (non-UN part unknown) and 2017–2018 (no personnel source: contribution totals are not
  consistent across years). NaN also when the mission list has a UN mission active at year
  end but neither source has its personnel (UNTSO, spread over five states, is not counted).
  Bara–Hultman merges observers into troops from 2015: its observers are NaN from 2015.
* ``mis_troops_per_1000`` … — the same per 1000 inhabitants, population of ``t - 1`` (WDI),
  which is published by the end of ``t``.
* ``mis_mandate_type`` — Doyle–Sambanis strongest UN mandate: 0 none, 1 observer,
  2 traditional, 3 multidimensional, 4 enforcement; 1948–2010, NaN after (no source codes
  mandates later; we do not guess it from mission names).
* ``mis_locations`` and ``mis_fpu_present`` — Geo-PKO, per mission the latest map of the
  year: number of distinct deployment locations in the country (and whether any hosts a formed
  police unit), counting only locations in one of the mission's host states (MONUC's liaison
  offices in Uganda or Zambia do not make those hosts). 1994–2018: 0 when no UN mission is
  present, NaN when one is but has no map that year.
* ``mis_shortfall`` — UN personnel at year end: authorised strength not deployed, summed over
  missions, as a share of the authorised strength. 1990–2015; NaN without an authorised
  mission (a share of nothing).
* ``mis_contributors`` — number of countries contributing personnel to UN missions hosted
  (UN contributions, 2010–2018; 0 when no UN mission is present, NaN before 2010).
* ``mis_un_ended_recent`` — a UN mission (mission list) ended in ``t - 1`` or ``t``; from 1948.
* ``mis_ended_recent`` — any mission (mission list or Mullenbach) ended in ``t - 1`` or ``t``;
  1947–2016, and after 2016 1 when a UN mission ended, else NaN.

Annual values from monthly data: presence is "any month of the year"; personnel and shortfall
are the December value (the state of play when a forecast is made at the end of the year);
locations use each mission's last map of the year.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from omegaconf import DictConfig

FAMILY = "mission"
SOURCES_USED: tuple[str, ...] = (
    "bara_hultman",
    "un_personnel",
    "geopko",
    "un_mission_list",
    "un_contributions",
    "mullenbach",
    "doyle_sambanis",
    "wdi_population",
)

SECESSIONS: dict[int, tuple[int, int]] = {
    347: (345, 2008),  # Kosovo, part of Serbia/Yugoslavia before February 2008
    341: (345, 2006),  # Montenegro, part of Serbia and Montenegro before June 2006
    626: (625, 2011),  # South Sudan, part of Sudan before July 2011
}
"""GW code → (the state it belonged to, first year as a state of its own)."""

UNCOUNTED_UN_MISSIONS: frozenset[str] = frozenset({"UNTSO"})
"""UN missions whose personnel no source splits by host; they do not void personnel counts."""

BH_NO_OBSERVERS_FROM = 2015
"""From this year Bara–Hultman counts military observers as troops (codebook p. 3)."""

FEATURES: tuple[str, ...] = (
    "mis_un_present",
    "mis_nonun_present",
    "mis_years_deployed",
    "mis_troops",
    "mis_police",
    "mis_observers",
    "mis_troops_per_1000",
    "mis_police_per_1000",
    "mis_observers_per_1000",
    "mis_mandate_type",
    "mis_locations",
    "mis_fpu_present",
    "mis_shortfall",
    "mis_contributors",
    "mis_un_ended_recent",
    "mis_ended_recent",
)
"""The features :func:`build` returns, in order."""

_KEY = ["gwno", "year"]
_PERSONNEL = ("troops", "police", "observers")


def build(tables: Mapping[str, pd.DataFrame], cfg: DictConfig) -> pd.DataFrame:
    """Mission features for every spine row (see the module docstring for the rules).

    Parameters
    ----------
    tables
        Tidy tables of :data:`SOURCES_USED` plus ``spine`` (``gwno``, ``year`` …).
    cfg
        The composed configuration (not used: the rules have no settings).

    Returns
    -------
    DataFrame
        ``gwno``, ``year`` and the float64 features of :data:`FEATURES`, one row per spine row
        in spine order, unlagged.
    """
    spine = tables["spine"][_KEY].astype("int64")
    years = (int(spine["year"].min()), int(spine["year"].max()))
    out = spine.copy()

    un_list = _mission_list_years(tables["un_mission_list"], years[1])
    un = _un_presence(tables, un_list)
    nonun, nonun_last = _nonun_presence(tables, years[1])
    first_un = int(un_list["year"].min()) if len(un_list) else years[1] + 1
    first_nonun = int(tables["mullenbach"]["start_year"].min())

    out["mis_un_present"] = _indicator(out, un, first_un, years[1])
    out["mis_nonun_present"] = _indicator(out, nonun, first_nonun, nonun_last)
    out["mis_years_deployed"] = _years_deployed(out)

    personnel = _personnel(tables, un_list)
    out = out.merge(personnel, on=_KEY, how="left")
    population = _population(tables["wdi_population"])
    out = out.merge(population, on=_KEY, how="left")
    for kind in _PERSONNEL:
        out[f"mis_{kind}_per_1000"] = out[f"mis_{kind}"] / (out["population_prev"] / 1000.0)
    out = out.drop(columns="population_prev")

    out = out.merge(_mandate(tables["doyle_sambanis"]), on=_KEY, how="left")
    out = out.merge(_locations(tables["geopko"], tables["un_mission_list"]), on=_KEY, how="left")
    out = out.merge(_shortfall(tables["un_personnel"]), on=_KEY, how="left")
    out = out.merge(
        _contributors(tables["un_contributions"], tables["un_mission_list"]), on=_KEY, how="left"
    )

    out["mis_mandate_type"] = _fill_zero(
        out["mis_mandate_type"], out["year"], *_span(tables["doyle_sambanis"]["year"])
    )
    no_un = out["mis_un_present"] == 0
    in_geo = out["year"].between(*_span(tables["geopko"]["year"]))
    for col in ("mis_locations", "mis_fpu_present"):
        out[col] = out[col].where(~(no_un & in_geo), 0.0).where(in_geo)
    in_contrib = out["year"].between(*_span(tables["un_contributions"]["year"]))
    out["mis_contributors"] = out["mis_contributors"].where(~(no_un & in_contrib), 0.0)
    out["mis_contributors"] = out["mis_contributors"].where(in_contrib)

    ended_un, ended_any = _endings(tables["un_mission_list"], tables["mullenbach"])
    out["mis_un_ended_recent"] = _indicator(out, ended_un, first_un, years[1])
    any_ended = _indicator(out, ended_any, min(first_un, first_nonun), nonun_last)
    out["mis_ended_recent"] = any_ended.where(
        out["year"] <= nonun_last, out["mis_un_ended_recent"].where(out["mis_un_ended_recent"] == 1)
    )

    out = out[[*_KEY, *FEATURES]]
    out[list(FEATURES)] = out[list(FEATURES)].astype("float64")
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Host assignment and presence


def assign_state(df: pd.DataFrame) -> pd.DataFrame:
    """Move years before a territory's independence to its parent state (:data:`SECESSIONS`).

    Parameters
    ----------
    df
        A table with int ``gwno`` and ``year``.

    Returns
    -------
    DataFrame
        A copy with ``gwno`` remapped where needed.
    """
    out = df.copy()
    for code, (parent, first_year) in SECESSIONS.items():
        before = (out["gwno"] == code) & (out["year"] < first_year)
        out.loc[before, "gwno"] = parent
    out["gwno"] = out["gwno"].astype("int64")
    return out


def _spell_years(starts: pd.Series, ends: pd.Series) -> pd.Series:
    """A list of years per spell (inclusive)."""
    return pd.Series(
        [list(range(int(s), int(e) + 1)) for s, e in zip(starts, ends, strict=True)],
        index=starts.index,
        dtype=object,
    )


def _mission_list_years(missions: pd.DataFrame, last_year: int) -> pd.DataFrame:
    """(mission, gwno, year, active_at_end) for every year a listed UN mission was deployed."""
    m = missions.dropna(subset=["start_date"])
    start = m["start_date"].dt.year
    end = m["end_date"].dt.year.fillna(last_year).clip(upper=last_year)
    m = m.assign(year=_spell_years(start, end), end_year=m["end_date"].dt.year)
    m = m.explode("year").dropna(subset=["year"])
    m["year"] = m["year"].astype("int64")
    # Active at the end of the year: not ended, or ending in a later year.
    m["active_at_end"] = m["end_year"].isna() | (m["end_year"] > m["year"])
    return assign_state(m[["mission", "gwno", "year", "active_at_end"]])


def _un_presence(tables: Mapping[str, pd.DataFrame], un_list: pd.DataFrame) -> pd.DataFrame:
    """Country-years with a UN mission according to any source."""
    bh = tables["bara_hultman"]
    personnel = tables["un_personnel"]
    uniformed = personnel[list(_PERSONNEL)].sum(axis=1, min_count=1) > 0
    parts = [
        un_list[_KEY],
        bh.loc[bh["un"] == 1, _KEY],
        personnel.loc[uniformed, _KEY],
        _geopko_in_hosts(tables["geopko"], tables["un_mission_list"])[_KEY],
        _contributions_hosted(tables["un_contributions"], tables["un_mission_list"])[_KEY],
    ]
    return assign_state(pd.concat(parts, ignore_index=True)).drop_duplicates()


def _nonun_presence(tables: Mapping[str, pd.DataFrame], last_year: int) -> tuple[pd.DataFrame, int]:
    """Country-years with a non-UN mission, and the last year the sources cover."""
    bh = tables["bara_hultman"]
    mull = tables["mullenbach"]
    known = pd.concat([bh["year"], mull["start_year"], mull["end_year"]]).astype("Float64")
    covered_to = _span(known)[1]
    m = mull.loc[mull["tptype"] != 1]
    end = m["end_year"].astype("Float64").fillna(covered_to).astype("int64")
    m = m.assign(year=_spell_years(m["start_year"], end)).explode("year")
    m["year"] = m["year"].astype("int64")
    parts = [m[_KEY], bh.loc[bh["un"] == 0, _KEY]]
    present = assign_state(pd.concat(parts, ignore_index=True)).drop_duplicates()
    return present, min(covered_to, last_year)


def _span(years: pd.Series) -> tuple[int, int]:
    """First and last year of a source (an empty range when the table is empty)."""
    years = years.dropna()
    return (int(years.min()), int(years.max())) if len(years) else (1, 0)


def _indicator(spine: pd.DataFrame, present: pd.DataFrame, first: int, last: int) -> pd.Series:
    """1 where (gwno, year) is in ``present``, 0 elsewhere in [first, last], NaN outside."""
    keys = pd.MultiIndex.from_frame(present[_KEY].drop_duplicates())
    hit = pd.MultiIndex.from_frame(spine[_KEY]).isin(keys)
    value = pd.Series(hit.astype(float), index=spine.index)
    return value.where(spine["year"].between(first, last))


def _fill_zero(values: pd.Series, year: pd.Series, first: int, last: int) -> pd.Series:
    """Missing values become 0 inside [first, last] and stay NaN outside."""
    inside = year.between(first, last)
    return values.where(values.notna() | ~inside, 0.0).where(inside)


def _years_deployed(out: pd.DataFrame) -> pd.Series:
    """Length of the current spell of mission presence, counted up to each year."""
    un = out["mis_un_present"].to_numpy(dtype="float64", na_value=np.nan)
    nonun = out["mis_nonun_present"].to_numpy(dtype="float64", na_value=np.nan)
    present = np.full(len(out), np.nan)
    present[(un == 0) & (nonun == 0)] = 0.0
    present[(un == 1) | (nonun == 1)] = 1.0
    gwno, year = out["gwno"].to_numpy(), out["year"].to_numpy()
    result = np.full(len(out), np.nan)
    # One pass in (gwno, year) order over plain lists: a per-row pandas loop is minutes at 1M rows.
    order = np.lexsort((year, gwno)).tolist()
    gws, years, pres = gwno.tolist(), year.tolist(), present.tolist()
    previous_gwno, previous_year, run = None, None, np.nan
    for i in order:
        gw, yr, p = gws[i], years[i], pres[i]
        continues = gw == previous_gwno and previous_year is not None and yr == previous_year + 1
        # After a year of unknown presence the spell's start is unknown: it stays NaN.
        grown = run + 1.0 if continues else 1.0
        run = p if np.isnan(p) or p == 0 else grown
        result[i] = run
        previous_gwno, previous_year = gw, yr
    return pd.Series(result, index=out.index)


# --------------------------------------------------------------------------------------------
# Personnel


def _december(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """December rows, one per ``keys`` (Bara–Hultman repeats a mission per conflict episode)."""
    dec = table.loc[table["month"] == 12]
    return dec.drop_duplicates(keys)


def _personnel(tables: Mapping[str, pd.DataFrame], un_list: pd.DataFrame) -> pd.DataFrame:
    """Year-end troops, police and observers of all missions, by country-year."""
    bh = tables["bara_hultman"].copy()
    first, last = _span(bh["year"])
    bh.loc[bh["year"] >= BH_NO_OBSERVERS_FROM, "observers"] = np.nan
    bh = assign_state(_december(bh, ["gwno", "mission", "year"]))
    un_pers = assign_state(_december(tables["un_personnel"], ["gwno", "mission", "year"]))

    def total(df: pd.DataFrame) -> pd.DataFrame:
        return df.groupby(_KEY)[list(_PERSONNEL)].sum(min_count=1).reset_index()

    un_a = total(un_pers)
    un_b = total(bh.loc[bh["un"] == 1])
    # UN personnel data win for a country-year they cover; Bara–Hultman fills the rest
    # (UNPROFOR, which UN personnel data cannot split by country, and 2016).
    un_b = un_b.merge(un_a[_KEY], on=_KEY, how="left", indicator=True)
    un_b = un_b.loc[un_b["_merge"] == "left_only"].drop(columns="_merge")
    un_part = pd.concat([un_a, un_b], ignore_index=True)
    nonun_part = total(bh.loc[bh["un"] == 0])

    grid = tables["spine"][_KEY].astype("int64")
    grid = grid.loc[grid["year"].between(first, last)]
    un_part = grid.merge(un_part, on=_KEY, how="left", indicator="un_rows")
    nonun_part = grid.merge(nonun_part, on=_KEY, how="left", indicator="nonun_rows")
    # No UN rows at year end is a zero, unless the mission list has a UN mission still there.
    active = un_list.loc[
        un_list["active_at_end"] & ~un_list["mission"].isin(list(UNCOUNTED_UN_MISSIONS)), _KEY
    ].drop_duplicates()
    listed = pd.MultiIndex.from_frame(un_part[_KEY]).isin(pd.MultiIndex.from_frame(active))
    un_zero = (un_part["un_rows"] == "left_only").to_numpy() & ~listed
    nonun_zero = (nonun_part["nonun_rows"] == "left_only").to_numpy()
    out = grid.copy()
    for kind in _PERSONNEL:
        un_value = un_part[kind].where(~un_zero, 0.0).to_numpy()
        nonun_value = nonun_part[kind].where(~nonun_zero, 0.0).to_numpy()
        out[f"mis_{kind}"] = un_value + nonun_value
    return out


def _population(population: pd.DataFrame) -> pd.DataFrame:
    """Population of the previous year, keyed by the year it is used for."""
    pop = population[[*_KEY, "population"]].dropna()
    return pop.assign(year=pop["year"] + 1).rename(columns={"population": "population_prev"})


# --------------------------------------------------------------------------------------------
# Mandate, locations, shortfall, contributors, endings


def _mandate(ds: pd.DataFrame) -> pd.DataFrame:
    out = assign_state(ds[[*_KEY, "ds_ordinal"]])
    out = out.groupby(_KEY, as_index=False)["ds_ordinal"].max()
    out["ds_ordinal"] = out["ds_ordinal"].astype(float)
    return out.rename(columns={"ds_ordinal": "mis_mandate_type"})


def _hosts(missions: pd.DataFrame) -> dict[str, set[int]]:
    """Host states per UN mission, with parent states added for pre-independence years."""
    hosts: dict[str, set[int]] = {}
    for mission, gwno in zip(missions["mission"], missions["gwno"], strict=True):
        codes = hosts.setdefault(str(mission), set())
        codes.add(int(gwno))
        if int(gwno) in SECESSIONS:
            codes.add(SECESSIONS[int(gwno)][0])
    return hosts


def _geopko_in_hosts(geopko: pd.DataFrame, missions: pd.DataFrame) -> pd.DataFrame:
    """Geo-PKO rows located in one of their mission's host states (state-assigned)."""
    geo = assign_state(geopko)
    hosts = _hosts(missions)
    keep = [
        (m not in hosts) or (g in hosts[m])
        for m, g in zip(geo["mission"], geo["gwno"], strict=True)
    ]
    return geo.loc[keep]


def _locations(geopko: pd.DataFrame, missions: pd.DataFrame) -> pd.DataFrame:
    """Distinct locations and formed police units on each mission's last map of the year."""
    geo = _geopko_in_hosts(geopko, missions)
    last_month = geo.groupby(["mission", "year"])["month"].transform("max")
    geo = geo.loc[geo["month"] == last_month]
    latest = geo.groupby(["mission", "year", "month"])["map"].transform("max")
    geo = geo.loc[geo["map"] == latest]
    places = geo.drop_duplicates(["gwno", "year", "mission", "location", "latitude", "longitude"])
    out = places.groupby(_KEY).agg(
        mis_locations=("location", "size"), mis_fpu_present=("fpu", "max")
    )
    return out.astype(float).reset_index()


def _shortfall(personnel: pd.DataFrame) -> pd.DataFrame:
    dec = assign_state(personnel.loc[(personnel["month"] == 12) & (personnel["auth_total"] > 0)])
    gap = (dec["auth_total"] - dec["total"].fillna(0.0)).clip(lower=0.0)
    dec = dec.assign(gap=gap)
    out = dec.groupby(_KEY).agg(gap=("gap", "sum"), auth=("auth_total", "sum"))
    return (out["gap"] / out["auth"]).rename("mis_shortfall").reset_index()


def _contributions_hosted(contributions: pd.DataFrame, missions: pd.DataFrame) -> pd.DataFrame:
    """Contributor-mission-years with personnel, one row per host state (state-assigned)."""
    c = contributions.loc[contributions["total"] > 0]
    hosted = c.merge(missions[["mission", "gwno"]], on="mission", how="inner")
    return assign_state(hosted)


def _contributors(contributions: pd.DataFrame, missions: pd.DataFrame) -> pd.DataFrame:
    hosted = _contributions_hosted(contributions, missions)
    out = hosted.groupby(_KEY)["contributor"].nunique().astype(float)
    return out.rename("mis_contributors").reset_index()


def _endings(missions: pd.DataFrame, mullenbach: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Country-years in which a UN mission (list) / any mission ended that year or the last."""
    un = missions.dropna(subset=["end_date"])
    un = pd.DataFrame({"gwno": un["gwno"], "end": un["end_date"].dt.year.astype("int64")})
    mull = mullenbach.dropna(subset=["end_year"])
    mull = pd.DataFrame({"gwno": mull["gwno"], "end": mull["end_year"].astype("int64")})

    def recent(df: pd.DataFrame) -> pd.DataFrame:
        both = pd.concat([df.assign(year=df["end"]), df.assign(year=df["end"] + 1)])
        return assign_state(both[_KEY]).drop_duplicates()

    return recent(un), recent(pd.concat([un, mull], ignore_index=True))
