"""Economy and services data: WDI, Gapminder, Penn World Table, Maddison, COW NMC, CREG, HIEF.

Every loader returns one row per Gleditsch-Ward state-year (``gwno`` int64, ``year`` int64).
Country codes go through :func:`relapse.countries.map_country_codes`, which excludes the
explicitly listed aggregates, territories and microstates. Rows excluded on purpose are counted
in the load notes (``LoadResult.notes``), never dropped silently.

Where two rows of a source describe one GW state-year (a predecessor and a successor state, a
unification year), one rule applies, stated per source below: the row of the state that held
the GW code for the larger part of the calendar year wins.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from relapse.countries import exclude_uncoded_units, map_country_codes
from relapse.sources.base import (
    COUNTRY_CODE_MAX,
    EXCLUDED_NON_STATES,
    NEW_EXCLUDED_UNITS,
    LoadContext,
    Source,
)

_YEAR = pa.Column(int, pa.Check.in_range(1800, 2100), coerce=True)
_ISO3 = pa.Column(str, pa.Check.str_matches(r"^[A-Z]{3}$"), coerce=True)
_NONNEG = pa.Check.ge(0)
_PERCENT = pa.Check.in_range(0, 100)
_SHARE = pa.Check.in_range(0, 1)


def map_iso3(df: pd.DataFrame, column: str, ctx: LoadContext) -> pd.DataFrame:
    """Add ``gwno`` from an ISO3 column, excluding non-states and microstates (counted).

    Parameters
    ----------
    df
        Raw or partly tidied table.
    column
        The ISO3 column.
    ctx
        Load context; exclusions are counted in ``ctx.notes``.

    Returns
    -------
    DataFrame
        ``df`` without excluded rows, with an int64 ``gwno`` column.

    Raises
    ------
    DataError
        For any code that is neither mappable nor explicitly excluded.
    """
    mapped, excluded = map_country_codes(df, column, "iso3", ctx.data_dir, source=ctx.path)
    _merge_counts(ctx, EXCLUDED_NON_STATES, excluded)
    return mapped


def _count(ctx: LoadContext, key: str, codes: pd.Series) -> None:
    _merge_counts(ctx, key, {str(k): int(v) for k, v in codes.value_counts().items()})


def _merge_counts(ctx: LoadContext, key: str, counts: dict[str, int]) -> None:
    if not counts:
        return
    into = ctx.notes.setdefault(key, {})
    for code, n in counts.items():
        into[code] = into.get(code, 0) + int(n)


def _drop_rows(df: pd.DataFrame, mask: pd.Series, ctx: LoadContext, key: str) -> pd.DataFrame:
    """Drop rows on purpose and count them under ``key`` in the notes."""
    n = int(mask.sum())
    if n:
        ctx.notes[key] = ctx.notes.get(key, 0) + n
    return df.loc[~mask.to_numpy()]


# --------------------------------------------------------------------------------------------
# World Bank WDI (wide layout)

WDI_YEARS: tuple[int, ...] = tuple(range(1960, 2019))
"""Year columns of the World Bank wide files in the snapshot."""


def _wdi_schema(indicator: str, value_check: pa.Check) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "Country Name": pa.Column(str, coerce=True),
            "Country Code": _ISO3,
            "Indicator Code": pa.Column(str, pa.Check.isin([indicator]), coerce=True),
            **{
                str(y): pa.Column(float, value_check, nullable=True, coerce=True) for y in WDI_YEARS
            },
        },
        unique=["Country Code"],
    )


def _wdi_tidy(value: str):
    def tidy(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
        long = raw.melt(
            id_vars=["Country Code", "Country Name"],
            value_vars=[str(y) for y in WDI_YEARS],
            var_name="year",
            value_name=value,
        )
        ctx.notes["empty_cells"] = int(long[value].isna().sum())
        long = long.dropna(subset=[value])
        long = long.rename(columns={"Country Code": "iso3", "Country Name": "country"})
        long["year"] = long["year"].astype("int64")
        out = map_iso3(long, "iso3", ctx)
        columns = ["gwno", "iso3", "country", "year", value]
        return out[columns].sort_values(["gwno", "year"], ignore_index=True)

    return tidy


WDI_GDP_PC = Source(
    key="wdi_gdp_pc",
    path="economic/wdi_NY.GDP.PCAP.CD_wide.csv",
    title="World Bank WDI: GDP per capita (current US$), NY.GDP.PCAP.CD",
    raw_schema=_wdi_schema("NY.GDP.PCAP.CD", pa.Check.gt(0)),
    tidy=_wdi_tidy("gdp_pc_usd"),
    key_columns=("gwno", "year"),
)
"""GDP per capita in current US$, long layout, 1960–2018.

Output columns: ``gwno``, ``iso3``, ``country`` (World Bank name), ``year``, ``gdp_pc_usd``.
Empty cells are not rows (counted as ``empty_cells``); aggregates (WLD, regions, income
groups), territories and microstates are excluded and counted per code.
"""

WDI_POPULATION = Source(
    key="wdi_population",
    path="economic/wdi_SP.POP.TOTL_wide.csv",
    title="World Bank WDI: population, total, SP.POP.TOTL",
    raw_schema=_wdi_schema("SP.POP.TOTL", _NONNEG),
    tidy=_wdi_tidy("population"),
    key_columns=("gwno", "year"),
)
"""Total population (persons), long layout, 1960–2018.

Output columns: ``gwno``, ``iso3``, ``country``, ``year``, ``population``; exclusions as for
``wdi_gdp_pc``.
"""


# --------------------------------------------------------------------------------------------
# Gapminder Systema Globalis

GAPMINDER_COLUMNS: dict[str, str] = {
    "income_per_person_long_series": "gdp_pc_ppp_long",
    "gdppercapita_us_inflation_adjusted": "gdp_pc_constant_usd",
    "infant_mortality_rate_per_1000_births": "infant_mortality",
    "under_five_mortality_from_cme_per_1000_born": "under5_mortality",
    "at_least_basic_water_source_overall_access_percent": "basic_water_pct",
    "at_least_basic_sanitation_overall_access_percent": "basic_sanitation_pct",
    "electricity_use_per_person": "electricity_kwh_pc",
    "life_expectancy_at_birth_data_from_ihme": "life_expectancy",
    "literacy_rate_adult_total_percent_of_people_ages_15_and_above": "adult_literacy_pct",
    "aid_received_per_person_current_us": "aid_pc_usd",
    "aid_received_percent_of_gni": "aid_pct_gni",
    "military_expenditure_percent_of_gdp": "milex_pct_gdp",
    "armed_forces_personnel_percent_of_labor_force": "armed_forces_pct_labour",
    "oil_production_per_person": "oil_production_pc",
    "urban_population_percent_of_total": "urban_pct",
    "mean_years_in_school_women_25_years_and_older": "schooling_women_years",
}
"""Gapminder indicator → output name. ``total_population_with_projections`` is not kept: it
mixes UN projections into the series (use ``wdi_population``)."""

GAPMINDER_HISTORICAL_GEO: dict[str, int | None] = {
    # Gapminder entities without an ISO3 code. None: not a state (excluded, counted).
    "akr_a_dhe": None,  # Akrotiri and Dhekelia (UK sovereign base areas)
    "ant": None,  # Netherlands Antilles
    "chanisl": None,  # Channel Islands
    "stmar": None,  # St. Martin
    "cheslo": 315,  # Czechoslovakia
    "deu_east": 265,  # German Democratic Republic
    "deu_west": 260,  # German Federal Republic (collides with DEU: see below)
    "eri_a_eth": 530,  # Ethiopia including Eritrea (collides with ETH)
    "kos": 347,  # Kosovo
    "scg": 345,  # Serbia and Montenegro (collides with SRB)
    "scg_ex_kos": 345,  # Serbia excluding Kosovo (collides with SRB)
    "ussr": 365,  # USSR (collides with RUS)
    "yem_north": 678,  # North Yemen (collides with YEM)
    "yem_south": 680,  # South Yemen
    "yug": 345,  # Yugoslavia (collides with SRB)
}
"""How Gapminder's historical entities (blank ``iso3``) map to GW codes."""

_GAPMINDER_CHECKS: dict[str, pa.Check | None] = {
    "gdp_pc_ppp_long": pa.Check.gt(0),
    "gdp_pc_constant_usd": pa.Check.gt(0),
    "infant_mortality": pa.Check.in_range(0, 1000),
    "under5_mortality": pa.Check.in_range(0, 1000),
    "basic_water_pct": _PERCENT,
    "basic_sanitation_pct": _PERCENT,
    "electricity_kwh_pc": _NONNEG,
    "life_expectancy": pa.Check.in_range(0, 100),
    "adult_literacy_pct": _PERCENT,
    # Net aid can be negative (repayments exceed disbursements).
    "aid_pc_usd": None,
    "aid_pct_gni": None,
    "milex_pct_gdp": _NONNEG,
    "armed_forces_pct_labour": _PERCENT,
    "oil_production_pc": _NONNEG,
    "urban_pct": _PERCENT,
    "schooling_women_years": pa.Check.in_range(0, 25),
}


def _gapminder_column(name: str) -> pa.Column:
    check = _GAPMINDER_CHECKS[GAPMINDER_COLUMNS[name]]
    return (
        pa.Column(float, check, nullable=True, coerce=True)
        if check is not None
        else (pa.Column(float, nullable=True, coerce=True))
    )


def _tidy_gapminder(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    df = raw.rename(columns={**GAPMINDER_COLUMNS, "name": "country"})
    no_iso = df["iso3"].isna()
    historical = df.loc[no_iso].copy()
    historical["gwno"] = historical["geo"].map(GAPMINDER_HISTORICAL_GEO)
    # Entities without an ISO3 code and no GW mapping (historical regions, a unit a later
    # release adds) are excluded by name; a state losing its code is an error there.
    historical, excluded = exclude_uncoded_units(
        historical, "gwno", "geo", ctx.data_dir, source=ctx.path
    )
    _merge_counts(ctx, EXCLUDED_NON_STATES, excluded)
    ctx.notes[NEW_EXCLUDED_UNITS] = sorted(set(excluded) - set(GAPMINDER_HISTORICAL_GEO))
    historical["gwno"] = historical["gwno"].astype("int64")
    modern = map_iso3(df.loc[~no_iso], "iso3", ctx)
    # Gapminder back-casts today's states to their present borders with every indicator; the
    # predecessor entities (USSR, Yugoslavia, West Germany...) carry only infant mortality and
    # population. Where both give one GW state-year, the ISO3 series wins (counted).
    clash = historical.set_index(["gwno", "year"]).index.isin(
        modern.set_index(["gwno", "year"]).index
    )
    _count(ctx, "historical_rows_replaced_by_iso3_series", historical.loc[clash, "geo"])
    historical = historical.loc[~clash]
    out = pd.concat([modern, historical], ignore_index=True)
    columns = ["gwno", "iso3", "geo", "country", "year", *GAPMINDER_COLUMNS.values()]
    return out[columns].sort_values(["gwno", "year"], ignore_index=True)


GAPMINDER = Source(
    key="gapminder",
    path="economic/gapminder_systema_globalis_subset.csv",
    title="Gapminder Systema Globalis (selected indicators)",
    raw_schema=pa.DataFrameSchema(
        {
            "geo": pa.Column(str, coerce=True),
            "iso3": pa.Column(str, pa.Check.str_matches(r"^[A-Z]{3}$"), nullable=True, coerce=True),
            "name": pa.Column(str, coerce=True),
            "year": _YEAR,
            **{raw: _gapminder_column(raw) for raw in GAPMINDER_COLUMNS},
        },
        unique=["geo", "year"],
    ),
    tidy=_tidy_gapminder,
    key_columns=("gwno", "year"),
)
"""Gapminder indicators by GW state-year, 1800–2018 (most indicators start 1960–2000).

Output columns: ``gwno``, ``iso3`` (blank for historical entities), ``geo`` (Gapminder id),
``country``, ``year``, and (NaN where missing): ``gdp_pc_ppp_long`` (GDP per person, constant
PPP dollars, Gapminder's gap-filled long series), ``gdp_pc_constant_usd`` (GDP per capita,
constant US$), ``infant_mortality`` (deaths before age 1 per 1,000 live births),
``under5_mortality`` (per 1,000 born), ``basic_water_pct`` and ``basic_sanitation_pct``
(% of people with at least basic access), ``electricity_kwh_pc`` (kWh per person),
``life_expectancy`` (years at birth, IHME), ``adult_literacy_pct`` (% of 15+), ``aid_pc_usd``
(net aid received per person, current US$; may be negative), ``aid_pct_gni`` (net aid received,
% of GNI; may be negative), ``milex_pct_gdp`` (military expenditure, % of GDP),
``armed_forces_pct_labour`` (armed forces personnel, % of labour force),
``oil_production_pc`` (tonnes oil equivalent per person), ``urban_pct`` (% urban),
``schooling_women_years`` (mean years in school, women 25+).

Historical entities without ISO3 are mapped by :data:`GAPMINDER_HISTORICAL_GEO`; where they
collide with an ISO3 series for one GW state-year the ISO3 row wins (counted).
"""


# --------------------------------------------------------------------------------------------
# Penn World Table 10.01

PWT_COLUMNS: tuple[str, ...] = (
    "rgdpe",
    "rgdpo",
    "rgdpna",
    "pop",
    "emp",
    "hc",
    "csh_c",
    "csh_i",
    "csh_g",
    "csh_x",
    "csh_m",
)
"""PWT variables kept (codebook names)."""


def _tidy_pwt(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    df = raw.rename(columns={"isocode": "iso3"})
    out = map_iso3(df, "iso3", ctx)
    # Both in millions, so the ratio is US$ per person.
    out["rgdpe_pc"] = out["rgdpe"] / out["pop"]
    out["rgdpna_pc"] = out["rgdpna"] / out["pop"]
    out["outlier"] = out["i_outlier"].map({"yes": 1.0, "no": 0.0})
    columns = ["gwno", "iso3", "country", "year", *PWT_COLUMNS, "rgdpe_pc", "rgdpna_pc", "outlier"]
    return out[columns].sort_values(["gwno", "year"], ignore_index=True)


PWT = Source(
    key="pwt",
    path="economic/pwt10_01.csv",
    title="Penn World Table 10.01",
    raw_schema=pa.DataFrameSchema(
        {
            "country": pa.Column(str, coerce=True),
            "isocode": _ISO3,
            "year": _YEAR,
            **{
                c: pa.Column(float, _NONNEG, nullable=True, coerce=True)
                for c in ("rgdpe", "rgdpo", "rgdpna", "pop", "emp", "hc")
            },
            # Shares at current PPPs: imports are negative; small re-exporters exceed +-10.
            **{
                c: pa.Column(float, pa.Check.in_range(-100, 100), nullable=True, coerce=True)
                for c in ("csh_c", "csh_i", "csh_g", "csh_x", "csh_m")
            },
            "i_outlier": pa.Column(str, pa.Check.isin(["yes", "no"]), nullable=True, coerce=True),
        },
        unique=["isocode", "year"],
    ),
    tidy=_tidy_pwt,
    key_columns=("gwno", "year"),
)
"""Penn World Table 10.01, 1950–2018.

Output columns: ``gwno``, ``iso3``, ``country``, ``year``; ``rgdpe`` / ``rgdpo`` (real GDP,
expenditure / output side, chained PPPs, million 2017 US$), ``rgdpna`` (real GDP at constant
national prices, million 2017 US$), ``pop`` and ``emp`` (millions), ``hc`` (human-capital
index), ``csh_c``, ``csh_i``, ``csh_g``, ``csh_x``, ``csh_m`` (shares of household consumption,
investment, government consumption, exports, imports in GDP at current PPPs), ``rgdpe_pc`` and
``rgdpna_pc`` (2017 US$ per person), ``outlier`` (1.0 where PWT flags the price level as an
outlier, 0.0 otherwise, NaN without data).
"""


# --------------------------------------------------------------------------------------------
# Maddison Project Database 2018

MADDISON_ERAS: dict[str, tuple[int | None, int | None]] = {
    # Maddison carries the dissolved states to 2016 (as sums of their successors) and
    # back-casts the successors from 1950. For the shared GW code, the state that held it for
    # the larger part of each year wins: the USSR through 1991, Russia from 1992; the SFRY
    # through 1991, Serbia (for the FRY / Serbia, GW 345) from 1992. Czechoslovakia (315) does
    # not share a code and simply ends with 1992.
    "SUN": (None, 1991),
    "RUS": (1992, None),
    "YUG": (None, 1991),
    "SRB": (1992, None),
    "CSK": (None, 1992),
}
"""Years (first, last; None = open) in which a Maddison code stands for its GW state."""


def _tidy_maddison(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    df = raw.rename(columns={"countrycode": "iso3"})
    outside = pd.Series(False, index=df.index)
    for code, (first, last) in MADDISON_ERAS.items():
        is_code = df["iso3"] == code
        if first is not None:
            outside |= is_code & (df["year"] < first)
        if last is not None:
            outside |= is_code & (df["year"] > last)
    _count(ctx, "rows_outside_state_era", df.loc[outside, "iso3"])
    df = df.loc[~outside].copy()
    # Czechoslovakia (CSK) and the USSR (SUN) map through the shared trap table.
    out = map_iso3(df, "iso3", ctx)
    columns = ["gwno", "iso3", "country", "year", "cgdppc", "rgdpnapc", "pop"]
    return out[columns].sort_values(["gwno", "year"], ignore_index=True)


MADDISON = Source(
    key="maddison",
    path="economic/maddison_mpd2018.csv",
    title="Maddison Project Database 2018",
    raw_schema=pa.DataFrameSchema(
        {
            "countrycode": _ISO3,
            "country": pa.Column(str, coerce=True),
            # Benchmark years reach back to year 1 AD; all are kept.
            "year": pa.Column(int, pa.Check.in_range(1, 2100), coerce=True),
            "cgdppc": pa.Column(float, pa.Check.gt(0), nullable=True, coerce=True),
            "rgdpnapc": pa.Column(float, pa.Check.gt(0), nullable=True, coerce=True),
            "pop": pa.Column(float, pa.Check.gt(0), nullable=True, coerce=True),
        },
        unique=["countrycode", "year"],
    ),
    tidy=_tidy_maddison,
    key_columns=("gwno", "year"),
)
"""Maddison Project 2018: long-run GDP per capita and population, year 1 to 2016.

Output columns: ``gwno``, ``iso3`` (Maddison's code: ``SUN`` USSR, ``CSK`` Czechoslovakia,
``YUG`` former Yugoslavia kept as given), ``country``, ``year``, ``cgdppc`` (real GDP per capita,
2011 US$, multiple benchmarks: for cross-country comparison), ``rgdpnapc`` (real GDP per
capita, 2011 US$, for growth over time), ``pop`` (thousands). Former-state and successor
series are used in their state's years only (:data:`MADDISON_ERAS`; dropped rows counted).
Maddison interpolates between benchmark years, so a value may reflect later benchmarks.
"""


# --------------------------------------------------------------------------------------------
# COW National Material Capabilities v6

NMC_COLUMNS: tuple[str, ...] = ("milex", "milper", "irst", "pec", "tpop", "upop", "cinc")
"""NMC variables (codebook names); -9 (missing) becomes NaN."""

_NMC_MISSING = -9

NMC_DROPPED_IN_TRANSITION: dict[tuple[int, int], str] = {
    # COW codes two states in a unification year; the one holding the GW code for the larger
    # part of the year wins.
    (255, 1990): "unified Germany (from 3 Oct): the GFR row (COW 260) stands for GW 260",
    (678, 1990): "Yemen Arab Republic (to 22 May): the unified Yemen row (COW 679) wins",
}
"""(COW code, year) rows dropped because another row holds that GW state-year."""


def _tidy_nmc(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    df = raw.rename(columns={"ccode": "cow"})
    transition = pd.Series(
        [(c, y) in NMC_DROPPED_IN_TRANSITION for c, y in zip(df["cow"], df["year"], strict=True)],
        index=df.index,
    )
    df = _drop_rows(df, transition, ctx, "dropped_transition_rows")
    out, excluded = map_country_codes(df, "cow", "cow", ctx.data_dir, source=ctx.path)
    _merge_counts(ctx, EXCLUDED_NON_STATES, excluded)
    # COW 255 is Germany (Prussia) up to 1945, GW 255; the shared trap 255 -> 260 is for 1990+.
    out.loc[(out["cow"] == 255) & (out["year"] <= 1945), "gwno"] = 255
    for col in NMC_COLUMNS:
        missing = out[col] == _NMC_MISSING
        ctx.notes.setdefault("missing_coded_-9", {})[col] = int(missing.sum())
        out[col] = out[col].astype("float64").mask(missing)
    columns = ["gwno", "cow", "stateabb", "year", *NMC_COLUMNS]
    return out[columns].sort_values(["gwno", "year"], ignore_index=True)


def _nmc_count(missing_allowed: bool) -> pa.Column:
    check = (
        pa.Check(lambda s: (s == _NMC_MISSING) | (s >= 0), name="ge_0_or_minus_9")
        if missing_allowed
        else _NONNEG
    )
    return pa.Column(float, check, coerce=True)


COW_NMC = Source(
    key="cow_nmc",
    path="economic/cow_nmc_v6.csv",
    title="Correlates of War National Material Capabilities v6.0",
    raw_schema=pa.DataFrameSchema(
        {
            "stateabb": pa.Column(str, pa.Check.str_length(3, 3), coerce=True),
            "ccode": pa.Column(int, pa.Check.in_range(1, COUNTRY_CODE_MAX), coerce=True),
            "year": _YEAR,
            "milex": _nmc_count(True),
            "milper": _nmc_count(True),
            "irst": _nmc_count(True),
            "pec": _nmc_count(True),
            "tpop": _nmc_count(True),
            "upop": _nmc_count(True),
            "cinc": pa.Column(float, _SHARE, coerce=True),
        },
        unique=["ccode", "year"],
    ),
    tidy=_tidy_nmc,
    key_columns=("gwno", "year"),
)
"""COW National Material Capabilities, 1816–2016.

Output columns: ``gwno``, ``cow``, ``stateabb``, ``year``; ``milex`` (military expenditure,
thousands of current US$; pounds sterling before 1914), ``milper`` (military personnel,
thousands), ``irst`` (iron and steel production, thousand tons), ``pec`` (primary energy
consumption, thousand tons of coal equivalent), ``tpop`` and ``upop`` (total and urban
population, thousands), ``cinc`` (composite index of national capability, share of the system).
COW's missing code -9 is NaN (counts per column in the notes). COW 255 is GW 255 up to 1945 and
GW 260 from 1990; unification-year duplicates are resolved by :data:`NMC_DROPPED_IN_TRANSITION`.
"""


# --------------------------------------------------------------------------------------------
# Fractionalisation: CREG and HIEF

CREG_VALUES: tuple[str, ...] = ("ethfrac", "ethpol", "relfrac", "relpol")

CREG_ERAS: dict[int, tuple[int | None, int | None]] = {
    # CREG keeps predecessor and successor groups under one GW code: creg 345 SFRY and 340
    # FRY/Serbia (GW 345), creg 365 USSR and 393 Russia (GW 365). The state that held the GW
    # code for the larger part of the year wins: the SFRY through 1991 (the FRY was proclaimed
    # in April 1992), the USSR through 1991.
    345: (None, 1991),
    340: (1992, None),
    365: (None, 1991),
    393: (1992, None),
}
"""Years (first, last) in which a CREG group code stands for its GW state."""


def _tidy_creg(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    df = raw.rename(columns={"ccode": "cow"})
    # CREG is rectangular (every group 1945-2013); rows without any value are years in which
    # the group was not a state.
    empty = df[list(CREG_VALUES)].isna().all(axis=1)
    df = _drop_rows(df, empty, ctx, "dropped_rows_without_values")
    outside = pd.Series(False, index=df.index)
    for code, (first, last) in CREG_ERAS.items():
        is_code = df["creg_ccode"] == code
        if first is not None:
            outside |= is_code & (df["year"] < first)
        if last is not None:
            outside |= is_code & (df["year"] > last)
    df = _drop_rows(df, outside, ctx, "dropped_rows_outside_state_era")
    out, _ = map_country_codes(df, "gwcode", "gw", ctx.data_dir, source=ctx.path)
    columns = ["gwno", "cow", "creg_ccode", "year", *CREG_VALUES]
    return out[columns].sort_values(["gwno", "year"], ignore_index=True)


CREG = Source(
    key="creg",
    path="economic/creg_ethnic_religious_fractionalization.csv",
    title="Composition of Religious and Ethnic Groups (CREG), fractionalisation",
    raw_schema=pa.DataFrameSchema(
        {
            "ccode": pa.Column(int, pa.Check.in_range(1, COUNTRY_CODE_MAX), coerce=True),
            "gwcode": pa.Column(int, pa.Check.in_range(1, COUNTRY_CODE_MAX), coerce=True),
            "creg_ccode": pa.Column(int, pa.Check.in_range(1, COUNTRY_CODE_MAX), coerce=True),
            "year": _YEAR,
            **{c: pa.Column(float, _SHARE, nullable=True, coerce=True) for c in CREG_VALUES},
        },
        unique=["creg_ccode", "gwcode", "year"],
    ),
    tidy=_tidy_creg,
    key_columns=("gwno", "year"),
)
"""CREG ethnic and religious fractionalisation and polarisation, 1945–2013.

Output columns: ``gwno`` (from CREG's ``gwcode``, Serbia 340 → 345), ``cow``, ``creg_ccode``
(CREG's group code), ``year``, ``ethfrac``, ``ethpol``, ``relfrac``, ``relpol`` (0–1).
Rows without any value are dropped (counted); predecessor/successor groups sharing a GW code
follow :data:`CREG_ERAS`. CREG interpolates between census years.
"""

HIEF_GW_CORRECTIONS: dict[int, int] = {
    # HIEF gives COW 816 (Vietnam, DRV and unified) GW code 817 (South Vietnam) in every
    # year, which would merge North and South Vietnam 1954-1975.
    816: 816,
}
"""COW code → correct GW code where HIEF's ``gwcode`` is wrong."""

HIEF_TRANSITIONS: frozenset[tuple[int, int]] = frozenset(
    # USSR and Russia both under 365 in 1991; the USSR held the code for the year.
    {(365, 1991)}
)
"""GW state-years with two different HIEF values; the row continuing the previous year's
value (the predecessor, which held the code for most of the year) is kept."""


def _tidy_hief(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    df = raw.rename(columns={"ccode": "cow"}).copy()
    fix = df["cow"].isin(HIEF_GW_CORRECTIONS)
    df.loc[fix, "gwcode"] = df.loc[fix, "cow"].map(HIEF_GW_CORRECTIONS)
    ctx.notes["gwcode_corrected"] = int(fix.sum())
    df = _drop_rows(df, df.duplicated(), ctx, "dropped_exact_duplicates")
    out, _ = map_country_codes(df, "gwcode", "gw", ctx.data_dir, source=ctx.path)
    out = out.drop(columns="gwcode")
    dup = out.duplicated(["gwno", "year"], keep=False)
    keys = set(zip(out.loc[dup, "gwno"], out.loc[dup, "year"], strict=True))
    unexpected = keys - HIEF_TRANSITIONS
    if unexpected:
        # Left for check_keys to report with the file name.
        return out[["gwno", "cow", "year", "efindex"]]
    previous = out.set_index(["gwno", "year"])["efindex"]
    previous = previous[~previous.index.duplicated(keep=False)]
    drop = pd.Series(False, index=out.index)
    for gwno, year in keys:
        rows = out.index[(out["gwno"] == gwno) & (out["year"] == year)]
        before = previous.get((gwno, year - 1), np.nan)
        distance = (out.loc[rows, "efindex"] - before).abs()
        drop.loc[rows] = True
        drop.loc[distance.idxmin()] = False
    out = _drop_rows(out, drop, ctx, "dropped_transition_rows")
    return out[["gwno", "cow", "year", "efindex"]].sort_values(["gwno", "year"], ignore_index=True)


HIEF = Source(
    key="hief",
    path="economic/hief_ethnic_fractionalization.csv",
    title="Historical Index of Ethnic Fractionalization (HIEF)",
    raw_schema=pa.DataFrameSchema(
        {
            "ccode": pa.Column(int, pa.Check.in_range(1, COUNTRY_CODE_MAX), coerce=True),
            "gwcode": pa.Column(int, pa.Check.in_range(1, COUNTRY_CODE_MAX), coerce=True),
            "year": _YEAR,
            "efindex": pa.Column(float, _SHARE, coerce=True),
        }
    ),
    tidy=_tidy_hief,
    key_columns=("gwno", "year"),
)
"""HIEF ethnic fractionalisation, 1945–2013.

Output columns: ``gwno``, ``cow``, ``year``, ``efindex`` (0–1). Exact duplicate rows in the file
are dropped (counted); HIEF's wrong GW code for Vietnam is corrected
(:data:`HIEF_GW_CORRECTIONS`); the USSR/Russia 1991 double is resolved by
:data:`HIEF_TRANSITIONS`.
"""

SOURCES: tuple[Source, ...] = (
    WDI_GDP_PC,
    WDI_POPULATION,
    GAPMINDER,
    PWT,
    MADDISON,
    COW_NMC,
    CREG,
    HIEF,
)
