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
  ``org`` 2/3 (1993–2016). NaN after 2016 here: no source covers non-UN missions in
  2017–2018; the assembler's as-of rule carries the 2016 value (registry ``max_age_years``
  2), and ``mis_data_age`` says so.
* ``mis_years_deployed`` — years, up to and including ``t``, of the current spell of UN
  presence on the UN mission list (start date to end date; successive missions count as one
  spell, so MONUC → MONUSCO counts from 1999); 0 without a UN mission. The list holds every
  UN mission from the first (1948), so the value is never missing.
* ``mis_personnel`` — UN uniformed personnel (troops + police + military observers) at the
  end of the year, spliced from three series, each used only where the earlier ones stop
  (*level splice, no rescaling*):

  1. UN personnel (December, 1990–2014; the file ends in May 2015);
  2. Bara–Hultman UN rows (December, to 2016) for country-years the first lacks (UNPROFOR,
     2015–2016);
  3. after 2016, UN contributions: the sum over contributors of the mission-year (the file's
     "mission size"), in the state where UN personnel data last recorded a multi-host
     mission (UNDOF → Syria, UNMOGIP → India, UNISFA → Sudan). Only *complete* release years
     count: an all-mission total of at least :data:`CONTRIBUTIONS_COMPLETE` of the median of
     the file's earlier years (2010 has no earlier year; 2017 reaches 44 % — every
     mission's figure about halves — and is unknown, carried from 2016 by the as-of rule).

  On the overlap years both series are complete (2013–2014) the contributions run 5–17 %
  below the UN personnel December figures (UNIFIL 9,863 vs 10,413 in 2013; MONUSCO 19,368 vs
  21,036 in 2014; UNMISS 9,517 vs 11,433 and MINUSMA 8,120 vs 9,494 in 2014), with no stable
  ratio, so they are not rescaled: 2018 values are the file's own sums (UNIFIL 10,476,
  MONUSCO 16,781, UNMISS 15,846, MINUSMA 13,885). Geo-PKO troop numbers are not used for
  size: they are rounded per deployment site and run far above both series (MINUSMA 16,080
  on its last 2015 map against about 10,300 deployed). 0 when no UN mission is at year end;
  NaN when the mission list has one but no series has its personnel (UNTSO, spread over five
  states, is not counted and does not void the count).
* ``mis_personnel_per_1000`` — the same per 1000 inhabitants, population of ``t - 1`` (WDI),
  which is published by the end of ``t``.
* ``mis_mandate_type`` — Doyle–Sambanis strongest UN mandate: 0 none, 1 observer,
  2 traditional, 3 multidimensional, 4 enforcement; 1948–2010. After 2010: 0 without a UN
  mission; the country's 2010 type while every UN mission there was already deployed in
  2010 (UNIFIL, MONUSCO — renamed from MONUC in 2010 —, UNFICYP …); **unknown** (NaN) where a
  mission began after 2010 (UNMISS, UNISFA, MINUSMA, MINUSCA, MINUJUSTH): no source in the
  snapshot codes their mandates, and we do not guess them from mission names.
* ``mis_locations`` and ``mis_fpu_present`` — Geo-PKO, per mission the latest map of the
  year: number of distinct deployment locations in the country (and whether any hosts a formed
  police unit), counting only locations in one of the mission's host states (MONUC's liaison
  offices in Uganda or Zambia do not make those hosts). 1994–2018: 0 when no UN mission is
  present, NaN when one is but has no map that year.
* ``mis_contributors`` — number of countries contributing personnel to UN missions hosted
  (UN contributions, 2010–2018; 0 when no UN mission is present, NaN before 2010).
* ``mis_un_ended_recent`` — a UN mission (mission list) ended in ``t - 1`` or ``t``; from 1948.

Features dropped because no source reaches the forecast year: troops, police and observers
separately (and per capita; only UN personnel and Bara–Hultman split them, to 2016), the
authorised-strength shortfall (UN personnel, to 2015) and "any mission ended recently"
(non-UN endings unknown after 2016).

Annual values from monthly data: presence is "any month of the year"; personnel
are the December value (the state of play when a forecast is made at the end of the year);
locations use each mission's last map of the year; contributions are annual.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from relapse.features.align import Grid

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

CONTRIBUTIONS_COMPLETE = 0.8
"""A contributions year is complete when its all-mission total reaches this share of the
median total of the file's earlier years."""

FEATURES: tuple[str, ...] = (
    "mis_un_present",
    "mis_nonun_present",
    "mis_years_deployed",
    "mis_personnel",
    "mis_personnel_per_1000",
    "mis_mandate_type",
    "mis_locations",
    "mis_fpu_present",
    "mis_contributors",
    "mis_un_ended_recent",
)
"""The features :func:`build` returns, in order."""

_KEY = ["gwno", "year"]
_PERSONNEL = ("troops", "police", "observers")


def build(grid: Grid, tables: Mapping[str, pd.DataFrame], cfg: DictConfig) -> pd.DataFrame:
    """Mission features for every spine row (see the module docstring for the rules).

    Parameters
    ----------
    grid
        The country-years to build (:class:`~relapse.features.align.Grid`; its ``spine``).
    tables
        Tidy tables of :data:`SOURCES_USED`.
    cfg
        The composed configuration (not used: the rules have no settings).

    Returns
    -------
    DataFrame
        ``gwno``, ``year`` and the float64 features of :data:`FEATURES`, one row per spine row
        in spine order, unlagged.
    """
    spine = grid.spine[_KEY].astype("int64")
    years = (int(spine["year"].min()), int(spine["year"].max()))
    out = spine.copy()

    un_list = _mission_list_years(tables["un_mission_list"], years[1])
    un = _un_presence(tables, un_list)
    nonun, nonun_last = _nonun_presence(tables, years[1])
    first_un = int(un_list["year"].min()) if len(un_list) else years[1] + 1
    first_nonun = int(tables["mullenbach"]["start_year"].min())

    out["mis_un_present"] = _indicator(out, un, first_un, years[1])
    out["mis_nonun_present"] = _indicator(out, nonun, first_nonun, nonun_last)
    # The mission list holds every UN mission from the first (1948): none before it.
    listed = _indicator(out, un_list, first_un, years[1]).fillna(0.0)
    out["mis_years_deployed"] = _years_deployed(out.assign(present=listed))

    out = out.merge(_un_personnel(grid, tables, un_list), on=_KEY, how="left")
    population = _population(tables["wdi_population"])
    out = out.merge(population, on=_KEY, how="left")
    out["mis_personnel_per_1000"] = out["mis_personnel"] / (out["population_prev"] / 1000.0)
    out = out.drop(columns="population_prev")

    out = out.merge(_mandate(tables["doyle_sambanis"]), on=_KEY, how="left")
    out = out.merge(_locations(tables["geopko"], tables["un_mission_list"]), on=_KEY, how="left")
    out = out.merge(
        _contributors(tables["un_contributions"], tables["un_mission_list"]), on=_KEY, how="left"
    )

    ds_span = _span(tables["doyle_sambanis"]["year"])
    out["mis_mandate_type"] = _fill_zero(out["mis_mandate_type"], out["year"], *ds_span)
    out["mis_mandate_type"] = _mandate_after(out, un_list, ds_span[1])
    no_un = out["mis_un_present"] == 0
    in_geo = out["year"].between(*_span(tables["geopko"]["year"]))
    for col in ("mis_locations", "mis_fpu_present"):
        out[col] = out[col].where(~(no_un & in_geo), 0.0).where(in_geo)
    in_contrib = out["year"].between(*_span(tables["un_contributions"]["year"]))
    out["mis_contributors"] = out["mis_contributors"].where(~(no_un & in_contrib), 0.0)
    out["mis_contributors"] = out["mis_contributors"].where(in_contrib)

    ended_un = _endings(tables["un_mission_list"])
    out["mis_un_ended_recent"] = _indicator(out, ended_un, first_un, years[1])

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
    """Length of the current spell of ``present`` (0/1/NaN), counted up to each year."""
    present = out["present"].to_numpy(dtype="float64", na_value=np.nan)
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


def _un_personnel(
    grid: Grid, tables: Mapping[str, pd.DataFrame], un_list: pd.DataFrame
) -> pd.DataFrame:
    """Year-end UN uniformed personnel by country-year, the older series spliced to the newer."""
    bh = tables["bara_hultman"].copy()
    bh.loc[bh["year"] >= BH_NO_OBSERVERS_FROM, "observers"] = np.nan
    bh = assign_state(_december(bh, ["gwno", "mission", "year"]))
    un_pers = assign_state(_december(tables["un_personnel"], ["gwno", "mission", "year"]))

    def total(df: pd.DataFrame) -> pd.DataFrame:
        sums = df.groupby(_KEY)[list(_PERSONNEL)].sum(min_count=1)
        return sums.sum(axis=1, min_count=1).rename("size").reset_index()

    un_a = total(un_pers)
    un_b = total(bh.loc[bh["un"] == 1])
    # UN personnel data win for a country-year they cover; Bara–Hultman fills the rest
    # (UNPROFOR, which UN personnel data cannot split by country, and 2015–2016).
    older = pd.concat([un_a, un_b.loc[~_in(un_b, un_a)]], ignore_index=True)
    older_years = pd.Series(
        np.concatenate(
            [tables[k]["year"].to_numpy(dtype=float) for k in ("un_personnel", "bara_hultman")]
        )
    )
    first, older_last = _span(older_years)
    newer = _contribution_sizes(tables)
    newer = newer.loc[newer["year"] > older_last]
    country_years = grid.spine[_KEY].astype("int64")
    country_years = country_years.loc[
        country_years["year"].between(first, int(country_years["year"].max()))
    ]
    sizes = pd.concat([older, newer], ignore_index=True)
    out = country_years.merge(sizes, on=_KEY, how="left", indicator="rows")
    # No personnel rows at year end is a zero, unless the mission list has a UN mission there
    # still, and after the older series a year without usable contributions is unknown.
    counted = un_list.loc[
        un_list["active_at_end"] & ~un_list["mission"].isin(list(UNCOUNTED_UN_MISSIONS))
    ]
    # After the older series, a mission counts only in the state its contributions go to.
    hosts = _size_hosts(tables).assign(host=True)
    counted = counted.merge(hosts, on=["mission", "gwno"], how="left")
    counted = counted.loc[(counted["year"] <= older_last) | counted["host"].notna().to_numpy()]
    zero = (out["rows"] == "left_only").to_numpy() & ~_in(out, counted[_KEY].drop_duplicates())
    usable = _usable_contribution_years(tables["un_contributions"])
    zero &= (out["year"] <= older_last).to_numpy() | out["year"].isin(usable).to_numpy()
    out["mis_personnel"] = out["size"].where(~zero, 0.0)
    return out[[*_KEY, "mis_personnel"]]


def _in(rows: pd.DataFrame, keys: pd.DataFrame) -> np.ndarray:
    """Whether each (gwno, year) of ``rows`` is among ``keys``."""
    return pd.MultiIndex.from_frame(rows[_KEY]).isin(pd.MultiIndex.from_frame(keys[_KEY]))


def _usable_contribution_years(contributions: pd.DataFrame) -> list[int]:
    """Years whose all-mission total reaches :data:`CONTRIBUTIONS_COMPLETE` of the median of
    the file's earlier years (2010 has no earlier year; 2017 reaches 44 %)."""
    totals = contributions.groupby("year")["total"].sum().sort_index()
    return [
        int(y)
        for i, y in enumerate(totals.index)
        if i > 0 and totals.iloc[i] >= CONTRIBUTIONS_COMPLETE * totals.iloc[:i].median()
    ]


def _size_hosts(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """(mission, gwno): the state a UN mission's personnel count in (see
    :func:`_contribution_sizes`)."""
    personnel = tables["un_personnel"]
    last = personnel.loc[personnel.groupby("mission")["year"].transform("max") == personnel["year"]]
    recorded = last[["mission", "gwno"]].drop_duplicates()
    listed = tables["un_mission_list"][["mission", "gwno"]]
    return pd.concat([recorded, listed.loc[~listed["mission"].isin(recorded["mission"])]])


def _contribution_sizes(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Mission size (sum over contributors) by host country-year, complete years only.

    A mission listed in several host states counts in the state where UN personnel data last
    recorded it (UNDOF in Syria, UNMOGIP in India, UNISFA in Sudan), as the older series do;
    :data:`UNCOUNTED_UN_MISSIONS` are left out, as there.
    """
    contributions = tables["un_contributions"]
    complete = _usable_contribution_years(contributions)
    usable = contributions.loc[
        contributions["year"].isin(complete)
        & ~contributions["mission"].isin(list(UNCOUNTED_UN_MISSIONS))
    ]
    size = usable.groupby(["mission", "year"], as_index=False)["total"].sum()
    hosted = assign_state(size.merge(_size_hosts(tables), on="mission", how="inner"))
    return hosted.groupby(_KEY, as_index=False)["total"].sum().rename(columns={"total": "size"})


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


def _mandate_after(out: pd.DataFrame, un_list: pd.DataFrame, last: int) -> pd.Series:
    """Mandate type after Doyle–Sambanis's last year: 0 without a UN mission; the country's
    last coded type while every UN mission there was already deployed in that year; else NaN."""
    mandate = out["mis_mandate_type"].copy()
    later = out["year"] > last
    coded = out.loc[out["year"] == last, ["gwno", "mis_mandate_type"]].rename(
        columns={"mis_mandate_type": "coded"}
    )
    then = un_list.loc[un_list["year"] == last, ["gwno", "mission"]].assign(old=True)
    now = un_list.loc[un_list["year"] > last, [*_KEY, "mission"]]
    now = now.merge(then, on=["gwno", "mission"], how="left")
    new_mission = now.loc[now["old"].isna(), _KEY].drop_duplicates()
    carried = out[_KEY].merge(coded, on="gwno", how="left")["coded"].to_numpy()
    value = np.where(_in(out, new_mission), np.nan, carried)
    value = np.where(out["mis_un_present"].to_numpy() == 0, 0.0, value)
    mandate[later] = value[later.to_numpy()]
    return mandate


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


def _contributions_hosted(contributions: pd.DataFrame, missions: pd.DataFrame) -> pd.DataFrame:
    """Contributor-mission-years with personnel, one row per host state (state-assigned)."""
    c = contributions.loc[contributions["total"] > 0]
    hosted = c.merge(missions[["mission", "gwno"]], on="mission", how="inner")
    return assign_state(hosted)


def _contributors(contributions: pd.DataFrame, missions: pd.DataFrame) -> pd.DataFrame:
    hosted = _contributions_hosted(contributions, missions)
    out = hosted.groupby(_KEY)["contributor"].nunique().astype(float)
    return out.rename("mis_contributors").reset_index()


def _endings(missions: pd.DataFrame) -> pd.DataFrame:
    """Country-years in which a listed UN mission ended that year or the year before."""
    un = missions.dropna(subset=["end_date"])
    end = un["end_date"].dt.year.astype("int64").to_numpy()
    gwno = un["gwno"].to_numpy()
    both = pd.DataFrame(
        {"gwno": np.concatenate([gwno, gwno]), "year": np.concatenate([end, end + 1])}
    )
    return assign_state(both).drop_duplicates()
