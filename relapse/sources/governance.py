"""Governance, elections and security-sector data: V-Dem, Polity5, Freedom House, WGI, NELDA-
derived elections, AidData security-sector-reform aid and police reform in peace agreements.

Every country-year table ends with an int64 ``gwno`` (Gleditsch–Ward, UCDP conventions: Serbia
345 throughout, unified Yemen 678, unified Germany 260, Vietnam 816). Rows that are not GW
states (Palestine, Somaliland, Abkhazia, Hong Kong, microstates outside the GW list...) are
excluded on purpose through the explicit lists below and counted in the load notes; any other
unmappable code is a :class:`~relapse.errors.DataError`. Where one GW state-year appears twice
in a source (a predecessor and its successor in the year of a merger or split), the rule
used to keep one row is stated in the source's docstring.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pandera.pandas as pa

from relapse.countries import (
    check_state_codes,
    exclude_uncoded_units,
    map_country_codes,
    normalise_gw,
)
from relapse.errors import DataError
from relapse.sources.base import (
    COUNTRY_CODE_MAX,
    EXCLUDED_NON_STATES,
    LATEST_POSSIBLE_YEAR,
    NEW_EXCLUDED_UNITS,
    LoadContext,
    Source,
)

_YEAR = pa.Column(int, pa.Check.in_range(1700, LATEST_POSSIBLE_YEAR), coerce=True)
_GW_CODE = pa.Column(float, pa.Check.in_range(2, COUNTRY_CODE_MAX), nullable=True, coerce=True)


def _share(nullable: bool = True) -> pa.Column:
    return pa.Column(float, pa.Check.in_range(0, 1), nullable=nullable, coerce=True)


def _exclude_non_states(
    df: pd.DataFrame, code: str, name: str, non_states: frozenset[str], ctx: LoadContext
) -> pd.DataFrame:
    """Drop (and name) units without a country code; flag those not in the known list.

    The rule is :func:`relapse.countries.exclude_uncoded_units`: a territory a later release
    adds is excluded like the known ones and listed under
    :data:`~relapse.sources.base.NEW_EXCLUDED_UNITS`.
    """
    kept, excluded = exclude_uncoded_units(df, code, name, ctx.data_dir, source=ctx.path)
    ctx.notes[EXCLUDED_NON_STATES] = excluded
    ctx.notes[NEW_EXCLUDED_UNITS] = sorted(set(excluded) - non_states)
    return kept


def _gw_codes(df: pd.DataFrame, unit: str, ctx: LoadContext) -> np.ndarray:
    """The ``GWn`` column as int64 GW codes (Serbia 340 → 345), checked against the states."""
    gw = normalise_gw(df["GWn"].astype("int64"))
    gw.index = df.index
    check_state_codes(gw, df[unit], ctx.data_dir, source=ctx.path, column="GWn")
    return gw.astype("int64").to_numpy()


def _resolve_transition_years(df: pd.DataFrame, unit: str, ctx: LoadContext) -> pd.DataFrame:
    """Keep the successor where a predecessor and its successor share a GW state-year.

    Of two rows for one (gwno, year), the kept one belongs to the unit that still has a row
    for the same GW code in the next year (the state in place at the end of the year: unified
    Germany in 1990, Sudan-North in 2011, the Socialist Republic of Vietnam in 1976). Anything
    that rule cannot settle stays duplicated and fails the key check.
    """
    dup = df.duplicated(["gwno", "year"], keep=False)
    if not dup.any():
        ctx.notes["transition_rows_dropped"] = {}
        return df
    present = set(zip(df[unit], df["gwno"], df["year"], strict=True))
    continues = pd.Series(
        [
            (u, g, y + 1) in present
            for u, g, y in zip(df[unit], df["gwno"], df["year"], strict=True)
        ],
        index=df.index,
    )
    drop = dup & ~continues
    # Only drop when the rule leaves exactly one row of the pair.
    kept_per_key = (dup & continues).groupby([df["gwno"], df["year"]]).transform("sum")
    drop &= kept_per_key == 1
    dropped = df.loc[drop]
    ctx.notes["transition_rows_dropped"] = {
        f"{u} {y}": 1 for u, y in zip(dropped[unit], dropped["year"], strict=True)
    }
    return df.loc[~drop].copy()


# --------------------------------------------------------------------------------------------
# V-Dem

VDEM_NON_STATES: frozenset[str] = frozenset(
    {"PSE", "PSG", "PSB", "SML", "HKG", "WRG", "HRG", "BRW", "OLD", "SAX", "NSS"}
)
"""V-Dem units without a GW code: Palestine (West Bank, Gaza, British Mandate), Somaliland,
Hong Kong and the pre-1871 German states (Württemberg, Hamburg, Brunswick, Oldenburg,
Saxe-Weimar-Eisenach, Nassau)."""

VDEM_NON_STATE_NAMES: frozenset[str] = frozenset(
    {
        "Palestine/West Bank",
        "Palestine/Gaza",
        "Palestine/British Mandate",
        "Somaliland",
        "Hong Kong",
        "Würtemberg",
        "Hamburg",
        "Brunswick",
        "Oldenburg",
        "Saxe-Weimar-Eisenach",
        "Nassau",
        "Piedmont-Sardinia",
    }
)
"""The same units by name, as in the COW-coded V-Dem extracts (Piedmont-Sardinia has no COW
code there; it is Italy's predecessor, merged in 1861)."""

VDEM_INDICES: tuple[str, ...] = (
    "v2x_polyarchy",
    "v2x_libdem",
    "v2x_partipdem",
    "v2x_delibdem",
    "v2x_egaldem",
)


def _tidy_vdem_indices(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    df = _exclude_non_states(raw, "GWn", "country_text_id", VDEM_NON_STATES, ctx)
    df["gwno"] = _gw_codes(df, "country_text_id", ctx)
    # V-Dem gives Czechoslovakia the Czech Republic's GW 316; GW (and V-Dem's own COW codes)
    # have Czechoslovakia as 315 until 1992.
    czechoslovakia = (df["country_text_id"] == "CZE") & (df["year"] <= 1992)
    df.loc[czechoslovakia, "gwno"] = 315
    # Piedmont-Sardinia and Italy both carry GW 325 in 1861, the year of unification.
    piedmont = (df["country_text_id"] == "SPD") & (df["year"] == 1861)
    ctx.notes["transition_rows_dropped"] = {"SPD 1861": int(piedmont.sum())}
    df = df.loc[~piedmont]
    columns = ["gwno", "year", "country_text_id"]
    columns += [f"{i}{s}" for i in VDEM_INDICES for s in ("", "_codelow", "_codehigh")]
    return df[columns].sort_values(["gwno", "year"], ignore_index=True)


VDEM_INDICES_SOURCE = Source(
    key="vdem_indices",
    path="governance/vdem_v2x_indices.csv",
    title="V-Dem Country-Year dataset: high-level democracy indices",
    raw_schema=pa.DataFrameSchema(
        {
            "country_text_id": pa.Column(str, pa.Check.str_matches(r"^[A-Z]{3}$"), coerce=True),
            "year": _YEAR,
            "GWn": _GW_CODE,
            **{f"{i}{s}": _share() for i in VDEM_INDICES for s in ("", "_codelow", "_codehigh")},
        }
    ),
    tidy=_tidy_vdem_indices,
    key_columns=("gwno", "year"),
)
"""V-Dem democracy indices, one row per GW state-year (1789–2018, including colonial years
V-Dem codes before independence).

Output columns: ``gwno``, ``year``, ``country_text_id`` (V-Dem's ISO3-like code), and for each
of ``v2x_polyarchy`` (electoral democracy), ``v2x_libdem`` (liberal), ``v2x_partipdem``
(participatory), ``v2x_delibdem`` (deliberative) and ``v2x_egaldem`` (egalitarian) the point
estimate and its ``_codelow``/``_codehigh`` bounds (all 0–1, missing where V-Dem has none).

Country codes: V-Dem's own ``GWn``, with Serbia 340 → 345. Units without a GW code (see
:data:`VDEM_NON_STATES`) are excluded and counted. Two corrections: Czechoslovakia (``CZE``
to 1992) is GW 315, not 316; Piedmont-Sardinia's 1861 row is dropped in favour of Italy's.
"""


def _tidy_vdem_cow(
    raw: pd.DataFrame, ctx: LoadContext, code: str, columns: list[str]
) -> pd.DataFrame:
    if "country_name" in raw.columns:
        df = _exclude_non_states(raw, code, "country_name", VDEM_NON_STATE_NAMES, ctx)
    else:
        # This extract has no name column; its rows without a COW code are the same V-Dem
        # units as in the companion extracts (Palestine, Somaliland, Hong Kong, the German
        # states, Piedmont-Sardinia), which are not states in the GW system.
        missing = raw[code].isna()
        ctx.notes[EXCLUDED_NON_STATES] = {"(no COW code)": int(missing.sum())}
        df = raw.loc[~missing].copy()
    df, _ = map_country_codes(df, code, "cow", ctx.data_dir, source=ctx.path)
    return df[["gwno", "year", *columns]].sort_values(["gwno", "year"], ignore_index=True)


VDEM_ECON_COLUMNS: list[str] = [
    "e_pt_coup",
    "v2xpe_exlsocgr",
    "v2x_polyarchy",
    "e_total_fuel_income_pc",
    "e_total_oil_income_pc",
    "e_total_resources_income_pc",
    "e_pop",
    "e_gdppc",
]

VDEM_ECON_COUPS = Source(
    key="vdem_econ_coups",
    path="governance/vdem_v12_selected_econ_coups.csv",
    title="V-Dem v12 selected variables: coups, social-group exclusion, resource income",
    raw_schema=pa.DataFrameSchema(
        {
            "COWcode": _GW_CODE,
            "year": _YEAR,
            "e_pt_coup": pa.Column(float, pa.Check.isin([0, 1, 2]), nullable=True, coerce=True),
            "v2xpe_exlsocgr": _share(),
            "v2x_polyarchy": _share(),
            "e_total_fuel_income_pc": pa.Column(float, pa.Check.ge(0), nullable=True, coerce=True),
            "e_total_oil_income_pc": pa.Column(float, pa.Check.ge(0), nullable=True, coerce=True),
            "e_total_resources_income_pc": pa.Column(
                float, pa.Check.ge(0), nullable=True, coerce=True
            ),
            "e_pop": pa.Column(float, pa.Check.gt(0), nullable=True, coerce=True),
            "e_gdppc": pa.Column(float, pa.Check.gt(0), nullable=True, coerce=True),
        }
    ),
    tidy=lambda raw, ctx: _tidy_vdem_cow(raw, ctx, "COWcode", VDEM_ECON_COLUMNS),
    key_columns=("gwno", "year"),
)
"""Selected V-Dem v12 variables, one row per GW state-year (1789–2018).

Output columns: ``gwno``, ``year``, ``e_pt_coup`` (Powell & Thyne coups: 0 none, 1 failed
attempt, 2 successful coup; coded from 1950, missing before), ``v2xpe_exlsocgr`` (exclusion
by social group, 0 none – 1 total), ``v2x_polyarchy``, ``e_total_fuel_income_pc``,
``e_total_oil_income_pc``, ``e_total_resources_income_pc`` (per-capita resource income),
``e_pop`` (population, thousands), ``e_gdppc`` (GDP per capita, thousands).

Country codes: COW (``COWcode``) mapped to GW (COW 255 → 260, 679 → 678). The file has no
name column; its 746 rows without a COW code are the non-state V-Dem units (Palestine,
Somaliland, Hong Kong, pre-unification German states, Piedmont-Sardinia) and are excluded
and counted.
"""

VDEM_INFANT_CSO = Source(
    key="vdem_infant_cso",
    path="governance/vdem_selected_infant_mortality_regime_cso.csv",
    title="V-Dem selected variables: infant mortality, regime type, civil-society participation",
    raw_schema=pa.DataFrameSchema(
        {
            "ccode": _GW_CODE,
            "year": _YEAR,
            "country_name": pa.Column(str, coerce=True),
            "v2csprtcpt_ord": pa.Column(
                float, pa.Check.isin([0, 1, 2, 3]), nullable=True, coerce=True
            ),
            "e_peinfmor": pa.Column(float, pa.Check.in_range(0, 1000), nullable=True, coerce=True),
            "v2x_regime": pa.Column(float, pa.Check.isin([0, 1, 2, 3]), nullable=True, coerce=True),
        }
    ),
    tidy=lambda raw, ctx: _tidy_vdem_cow(
        raw, ctx, "ccode", ["country_name", "v2csprtcpt_ord", "e_peinfmor", "v2x_regime"]
    ),
    key_columns=("gwno", "year"),
)
"""Selected V-Dem variables, one row per GW state-year (1789–2018).

Output columns: ``gwno``, ``year``, ``country_name``, ``v2csprtcpt_ord`` (civil-society
participation, ordinal 0–3: 0 not consulted … 3 very involved), ``e_peinfmor`` (infant
mortality per 1,000 live births), ``v2x_regime`` (Regimes of the World: 0 closed autocracy,
1 electoral autocracy, 2 electoral democracy, 3 liberal democracy).

Country codes: COW (``ccode``) mapped to GW; rows without a COW code are the units of
:data:`VDEM_NON_STATE_NAMES`, excluded and counted.
"""


# --------------------------------------------------------------------------------------------
# Polity5

POLITY_SPECIAL: dict[int, str] = {-66: "interruption", -77: "interregnum", -88: "transition"}
"""Polity's standardised codes for years without a regular authority pattern."""

POLITY_COMPONENTS: tuple[str, ...] = ("democ", "autoc", "xconst", "parcomp")


def _tidy_polity(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    df = raw.rename(columns={"polity_annual_country": "country"}).copy()
    df["gwno"] = _gw_codes(df, "country", ctx)
    df = _resolve_transition_years(df, "scode", ctx)
    special = df["polity"].isin(list(POLITY_SPECIAL))
    df["polity_special"] = df["polity"].where(special).astype("Int64")
    df["polity"] = df["polity"].where(~special).astype("float64")
    for col in POLITY_COMPONENTS:
        df[col] = df[col].where(~df[col].isin(list(POLITY_SPECIAL))).astype("float64")
    columns = [
        "gwno",
        "year",
        "scode",
        "country",
        "polity",
        "polity2",
        "polity_special",
        "durable",
        *POLITY_COMPONENTS,
    ]
    return df[columns].sort_values(["gwno", "year"], ignore_index=True)


def _cut_polity(table: pd.DataFrame, year: int) -> pd.DataFrame:
    out = table.loc[table["year"] <= year].copy()
    # polity2 interpolates across a transition (-88) from the value after it ends: within a
    # transition still open at the vintage year that end is not yet known.
    transition = (table["polity_special"] == -88).fillna(False).astype(bool)
    spell = (transition != transition.groupby(table["gwno"]).shift()).cumsum()
    last = table["year"].where(transition).groupby(spell).transform("max")
    open_at_cut = transition & (last > year)
    out.loc[open_at_cut.loc[out.index], "polity2"] = np.nan
    return out


POLITY5 = Source(
    key="polity5",
    path="governance/polity5.csv",
    title="Polity5 Annual Time-Series (Marshall & Gurr)",
    raw_schema=pa.DataFrameSchema(
        {
            "scode": pa.Column(str, coerce=True),
            "polity_annual_country": pa.Column(str, coerce=True),
            "year": _YEAR,
            "GWn": pa.Column(int, pa.Check.in_range(2, COUNTRY_CODE_MAX), coerce=True),
            "polity": pa.Column(int, pa.Check.isin([*range(-10, 11), -66, -77, -88]), coerce=True),
            "polity2": pa.Column(float, pa.Check.in_range(-10, 10), nullable=True, coerce=True),
            "durable": pa.Column(float, pa.Check.in_range(0, 300), nullable=True, coerce=True),
            "democ": pa.Column(int, pa.Check.isin([*range(0, 11), -66, -77, -88]), coerce=True),
            "autoc": pa.Column(int, pa.Check.isin([*range(0, 11), -66, -77, -88]), coerce=True),
            "xconst": pa.Column(int, pa.Check.isin([*range(1, 8), -66, -77, -88]), coerce=True),
            "parcomp": pa.Column(int, pa.Check.isin([*range(0, 6), -66, -77, -88]), coerce=True),
        }
    ),
    tidy=_tidy_polity,
    key_columns=("gwno", "year"),
    cut=_cut_polity,
)
"""Polity5 regime scores, one row per GW state-year (1776–2018).

Output columns: ``gwno``, ``year``, ``scode`` (Polity's country code), ``country``,
``polity`` (−10 full autocracy … +10 full democracy; missing in special years),
``polity2`` (Polity's "revised" series for time-series use: interruptions −66 are missing,
interregna −77 are 0 and transitions −88 are **linearly interpolated** between the scores
before and after, so they use later information), ``polity_special`` (−66 interruption,
−77 interregnum, −88 transition, else missing), ``durable`` (years since the last regime
change of ≥3 points or since independence), ``democ``, ``autoc``, ``xconst``, ``parcomp``
(components; special codes set to missing).

Country codes: Polity's own ``GWn`` (Serbia 340 → 345). In the year of a merger or split
Polity lists predecessor and successor (Germany 1945 and 1990, Yemen 1990, Vietnam 1976,
Yugoslavia 1991, Serbia 2006, Ethiopia 1993, Sudan 2011, Russia 1922, Italy 1861); the row of
the unit still present next year is kept (see :func:`_resolve_transition_years`).

Vintage cut: rows after the year are dropped, and ``polity2`` is blanked in transition years
whose transition had not ended by the vintage year (its interpolation end point was unknown).
"""


# --------------------------------------------------------------------------------------------
# Freedom House

FH_NON_STATES: frozenset[str] = frozenset(
    {
        "Chechnya",
        "Crimea",
        "Gaza Strip",
        "Hong Kong",
        "Indian Kashmir",
        "Israeli-Occupied Territories",
        "Kurdistan",
        "Macao",
        "Nagorno-Karabakh",
        "Northern Cyprus",
        "Northern Ireland",
        "Pakistani Kashmir",
        "Palestinian Authority-Administered Territories",
        "Puerto Rico",
        "Somaliland",
        "Transnistria",
        "West Bank",
        "West Bank and Gaza Strip",
        "West Papua",
        "Western Sahara",
    }
)
"""Freedom House's related and disputed territories: not GW states."""


def _tidy_freedom_house(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    df = _exclude_non_states(raw, "GWn", "fh_country", FH_NON_STATES, ctx)
    df["gwno"] = _gw_codes(df, "fh_country", ctx)
    df["status"] = df["status"].astype("string")
    columns = ["gwno", "year", "fh_country", "pr", "cl", "status", "fh_total"]
    return df[columns].sort_values(["gwno", "year"], ignore_index=True)


FREEDOM_HOUSE = Source(
    key="freedom_house",
    path="governance/freedom_house.csv",
    title="Freedom House, Freedom in the World",
    raw_schema=pa.DataFrameSchema(
        {
            "fh_country": pa.Column(str, coerce=True),
            "year": _YEAR,
            "pr": pa.Column(int, pa.Check.in_range(1, 7), coerce=True),
            "cl": pa.Column(int, pa.Check.in_range(1, 7), coerce=True),
            "status": pa.Column(str, pa.Check.isin(["F", "PF", "NF"]), coerce=True),
            "fh_total": pa.Column(int, pa.Check.in_range(2, 14), coerce=True),
            "GWn": _GW_CODE,
        }
    ),
    tidy=_tidy_freedom_house,
    key_columns=("gwno", "year"),
)
"""Freedom in the World ratings, one row per GW state-year (1972–2018; no 1982 edition,
since Freedom House's 1982 survey covered 1981–82 and is filed under 1981).

Output columns: ``gwno``, ``year``, ``fh_country``, ``pr`` (political rights, 1 most free –
7 least free), ``cl`` (civil liberties, 1–7), ``status`` (``F`` free, ``PF`` partly free,
``NF`` not free), ``fh_total`` (``pr + cl``, 2–14).

Country codes: the file's ``GWn`` (Serbia 340 → 345). Territories in :data:`FH_NON_STATES`
have no GW code and are excluded and counted.
"""


# --------------------------------------------------------------------------------------------
# Shared ISO3 handling (WGI, elections, AidData)


def _iso3_to_gwno(
    df: pd.DataFrame, column: str, ctx: LoadContext, extra: dict[str, int] | None = None
) -> pd.DataFrame:
    """Map an ISO3 column to ``gwno`` with the explicit microstate and non-state lists."""
    fixed = df[column].map(extra or {})
    rest = df.loc[fixed.isna()]
    rest, non_states = map_country_codes(rest, column, "iso3", ctx.data_dir, source=ctx.path)
    ctx.notes[EXCLUDED_NON_STATES] = dict(sorted(non_states.items()))
    done = df.loc[fixed.notna()].assign(gwno=fixed[fixed.notna()].astype("int64"))
    return pd.concat([done, rest]).sort_index()


# --------------------------------------------------------------------------------------------
# Worldwide Governance Indicators

WGI_INDICATORS: dict[str, str] = {
    "VoiceandAccountability": "voice_accountability",
    "PoliticalStability": "political_stability",
    "GovernmentEffectiveness": "government_effectiveness",
    "RegulatoryQuality": "regulatory_quality",
    "RuleofLaw": "rule_of_law",
    "ControlofCorruption": "control_of_corruption",
}
"""WGI indicator names → output columns."""


def _tidy_wgi(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    df = _iso3_to_gwno(raw.rename(columns={"Year": "year"}), "Code", ctx)
    df["indicator"] = df["Indicator"].map(WGI_INDICATORS)
    wide = df.pivot(
        index=["gwno", "year", "Code"], columns="indicator", values="Estimate"
    ).reset_index()
    wide.columns.name = None
    for col in WGI_INDICATORS.values():
        if col not in wide:
            wide[col] = np.nan
    values = list(WGI_INDICATORS.values())
    empty = wide[values].isna().all(axis=1)
    # WGI lists every country in every year; rows with no estimate at all (South Sudan before
    # independence, territories without sources) carry nothing.
    ctx.notes["empty_country_years"] = int(empty.sum())
    wide = wide.loc[~empty].rename(columns={"Code": "iso3"})
    return wide[["gwno", "year", "iso3", *values]].sort_values(["gwno", "year"], ignore_index=True)


WGI = Source(
    key="wgi",
    path="governance/wgi_six_indicators_long.csv",
    title="Worldwide Governance Indicators (World Bank)",
    raw_schema=pa.DataFrameSchema(
        {
            "Code": pa.Column(str, pa.Check.str_matches(r"^[A-Z]{3}$"), coerce=True),
            "Year": pa.Column(int, pa.Check.in_range(1996, LATEST_POSSIBLE_YEAR), coerce=True),
            "Estimate": pa.Column(float, pa.Check.in_range(-5, 5), nullable=True, coerce=True),
            "Indicator": pa.Column(str, pa.Check.isin(list(WGI_INDICATORS)), coerce=True),
        },
        unique=["Code", "Year", "Indicator"],
    ),
    tidy=_tidy_wgi,
    key_columns=("gwno", "year"),
    read_kwargs={"keep_default_na": False, "na_values": [""]},
)
"""WGI estimates reshaped to one row per GW state-year (1996, 1998, 2000, then yearly
2002–2018: the WGI were biennial before 2002, and the missing years are **not** filled).

Output columns: ``gwno``, ``year``, ``iso3``, and the six estimates (standard-normal units,
about −2.5 weak … +2.5 strong governance): ``voice_accountability``,
``political_stability`` (political stability and absence of violence/terrorism),
``government_effectiveness``, ``regulatory_quality``, ``rule_of_law``,
``control_of_corruption``.

Country codes: ISO3 (World Bank codes, incl. ``ROM``, ``ZAR``, ``TMP``, ``KSV``). Excluded and
counted: World Bank territories (:data:`relapse.countries.NON_STATE_ISO3`), West Bank and
Gaza, and microstates (:data:`relapse.countries.MICROSTATES_ISO3`). Country-years without any
estimate are dropped (counted in ``empty_country_years``).
"""


# --------------------------------------------------------------------------------------------
# National elections (NELDA-derived)

ELECTION_PERIODS: dict[str, tuple[int, int, int]] = {
    "BRD": (1945, 1989, 260),
    "DEU": (1990, LATEST_POSSIBLE_YEAR, 260),
    "YUG": (1945, 1991, 345),
    "SRB": (1992, LATEST_POSSIBLE_YEAR, 345),
    "YAR": (1945, 1989, 678),
    "YEM": (1990, LATEST_POSSIBLE_YEAR, 678),
    "SOV": (1945, 1990, 365),
    "RUS": (1991, LATEST_POSSIBLE_YEAR, 365),
}
"""Codes that share a GW state: (first year, last year, GW code) each one speaks for.

The file lists every code in every year 1945–2018 (zeros outside a country's existence),
so predecessor and successor would both claim one GW state-year. West Germany speaks for
GW 260 to 1989 and Germany from 1990 (the all-German election of December 1990); Yugoslavia
for GW 345 to 1991 and Serbia from 1992 (the FRY's first elections); North Yemen for 678 to
1989 and Yemen from 1990; the Soviet Union for 365 to 1990 and Russia from 1991 (the
Russian presidential election of June 1991)."""

ELECTION_SPLIT_CODES: dict[str, tuple[int, int, int]] = {"CZE": (1992, 315, 316)}
"""Codes whose GW code changes: (last year of the first GW code, first GW, second GW) —
NELDA files Czechoslovakia's elections under ``CZE``."""


def _tidy_elections(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    df = raw.rename(
        columns={"iso3c": "iso3", "natelec.n": "natelec_n", "natelec.l": "natelec_l"}
    ).copy()
    first = df["iso3"].map({k: v[0] for k, v in ELECTION_PERIODS.items()})
    last = df["iso3"].map({k: v[1] for k, v in ELECTION_PERIODS.items()})
    outside = (df["year"] < first) | (df["year"] > last)
    ctx.notes["rows_outside_code_period"] = int(outside.sum())
    df = df.loc[~outside]
    extra = {code: gw for code, (_, _, gw) in ELECTION_PERIODS.items()}
    df = _iso3_to_gwno(df, "iso3", ctx, extra=extra)
    for code, (last_year, before, after) in ELECTION_SPLIT_CODES.items():
        rows = df["iso3"] == code
        df.loc[rows, "gwno"] = np.where(df.loc[rows, "year"] <= last_year, before, after)
    df["gwno"] = df["gwno"].astype("int64")
    columns = ["gwno", "year", "iso3", "natelec", "natelec_n", "natelec_l", "years_since_last_elec"]
    return df[columns].sort_values(["gwno", "year"], ignore_index=True)


ELECTIONS = Source(
    key="elections",
    path="governance/national_elections_iso3_year.csv",
    title="National elections by country-year (derived from NELDA, Hyde & Marinov)",
    raw_schema=pa.DataFrameSchema(
        {
            "iso3c": pa.Column(str, pa.Check.str_matches(r"^[A-Z]{3}$"), coerce=True),
            "year": _YEAR,
            "natelec": pa.Column(int, pa.Check.isin([0, 1]), coerce=True),
            "natelec.n": pa.Column(int, pa.Check.isin([0, 1]), coerce=True),
            "natelec.l": pa.Column(int, pa.Check.isin([0, 1]), coerce=True),
            "years_since_last_elec": pa.Column(int, pa.Check.in_range(0, 300), coerce=True),
        },
        unique=["iso3c", "year"],
    ),
    tidy=_tidy_elections,
    key_columns=("gwno", "year"),
)
"""National elections, one row per GW code-year (1945–2018).

Output columns: ``gwno``, ``year``, ``iso3`` (the file's code), ``natelec`` (1: a national
election was held), ``natelec_n`` and ``natelec_l`` (the file's two sub-indicators, 0/1, as
published), ``years_since_last_elec`` (as published: a counter that starts at 1 in 1945,
so it is left-censored, and is 1 both in and right after an election year — features
recompute it from ``natelec``).

The file lists every code in every year, with zeros before a country existed: use it only on
the GW spine. South Sudan, Qatar, the United Arab Emirates and Brunei have no rows at all.
Country codes: ISO3 with the periods of :data:`ELECTION_PERIODS` for codes that share a GW
state (rows outside a code's period are dropped, counted in
``rows_outside_code_period``), ``CZE`` → 315 to 1992 and 316 after, ``RVN`` → 817. Excluded
and counted: Abkhazia and South Ossetia (not GW states) and the microstates of
:data:`relapse.countries.MICROSTATES_ISO3`.
"""


# --------------------------------------------------------------------------------------------
# AidData security-sector-reform aid

AIDDATA_NON_STATE = re.compile(r"regional|unspecified|multi-?country|global", re.IGNORECASE)
"""Recipient names that are regions or unallocated aid, not countries."""


def _tidy_aiddata(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    import logging

    import country_converter as coco

    non_state = raw["recipient"].str.contains(AIDDATA_NON_STATE)
    ctx.notes[EXCLUDED_NON_STATES] = {
        str(k): int(v) for k, v in raw.loc[non_state, "recipient"].value_counts().items()
    }
    df = raw.loc[~non_state].copy()
    if df["iso2c"].isna().any():
        shown = ", ".join(sorted(df.loc[df["iso2c"].isna(), "recipient"].unique())[:10])
        raise DataError(f"{ctx.path}: recipients without an ISO2 code: {shown}")
    logging.getLogger("country_converter").setLevel(logging.ERROR)
    codes = sorted(df["iso2c"].unique())
    iso3 = coco.convert(codes, src="ISO2", to="ISO3", not_found=None)
    iso3 = iso3 if isinstance(iso3, list) else [iso3]
    table = {c: i for c, i in zip(codes, iso3, strict=True) if i and i != c}
    df["iso3"] = df["iso2c"].map(table)
    unmapped = df.loc[df["iso3"].isna(), "iso2c"]
    if len(unmapped):
        raise DataError(
            f"{ctx.path}: {unmapped.nunique()} country code(s) in column 'iso2c' cannot be "
            f"mapped to ISO3: {', '.join(sorted(unmapped.unique())[:10])}"
        )
    df = _iso3_to_gwno(df, "iso3", ctx)
    df = df.rename(
        columns={
            "Year": "year",
            "SSRcommitment": "ssr_commitment_usd",
            "aid_total": "aid_total_usd",
            "SSRshare": "ssr_share",
        }
    )
    columns = ["gwno", "year", "recipient", "ssr_commitment_usd", "aid_total_usd", "ssr_share"]
    return df[columns].sort_values(["gwno", "year"], ignore_index=True)


AIDDATA_SSR = Source(
    key="aiddata_ssr",
    path="governance/aiddata_ssr_aid_recipient_year.csv",
    title="AidData: security-sector-reform aid by recipient-year",
    raw_schema=pa.DataFrameSchema(
        {
            "recipient": pa.Column(str, coerce=True),
            "Year": pa.Column(int, pa.Check.in_range(1945, LATEST_POSSIBLE_YEAR), coerce=True),
            "SSRcommitment": pa.Column(float, pa.Check.ge(0), coerce=True),
            "aid_total": pa.Column(float, pa.Check.ge(0), coerce=True),
            "SSRshare": pa.Column(float, pa.Check.in_range(0, 1), coerce=True),
            "iso2c": pa.Column(
                str, pa.Check.str_matches(r"^[A-Z]{2}$"), nullable=True, coerce=True
            ),
        }
    ),
    tidy=_tidy_aiddata,
    year_column="year",
    key_columns=("gwno", "year"),
    # "NA" is Namibia's ISO2 code, not a missing value.
    read_kwargs={"keep_default_na": False, "na_values": [""]},
)
"""Security-sector-reform aid commitments, one row per recipient state-year with a positive
commitment (33 recipients, 1968–2011; only India has a 2011 row, so the series effectively
ends in 2010).

Output columns: ``gwno``, ``year``, ``recipient``, ``ssr_commitment_usd`` (SSR aid committed,
US$ as published), ``aid_total_usd`` (all aid committed), ``ssr_share`` (SSR share of aid,
0–1). Years without a row are years without a recorded SSR commitment.

Country codes: ISO2 (``NA`` is Namibia, so pandas' default missing-value strings are off)
→ ISO3 with ``country_converter`` → GW. Recipients that are regions or "unspecified" are
excluded and counted (none in the 2018 snapshot); any other unmappable code is an error.
"""


# --------------------------------------------------------------------------------------------
# Police reform in peace agreements

POLICE_PROVISIONS: dict[str, str] = {
    "I..Capacity": "prov_capacity",
    "II..Training": "prov_training",
    "III..Human.Rights.Standards": "prov_human_rights",
    "IV..Police.accountability": "prov_accountability",
    "V..Composition": "prov_composition",
    "V..a..Composition..Gender": "prov_composition_gender",
    "V..b..Composition..Identity.Groups": "prov_composition_identity",
    "V..c..Composition..Warring.Parties": "prov_composition_warring",
    "VI...International.Presence..Monitoring...Training": "prov_intl_monitoring",
    "VII..International.Policing..Provision.of.Service": "prov_intl_policing",
    "VIII..Factional.Policing": "prov_factional_policing",
}
"""Police-reform provisions of the agreement text (0/1) → output columns."""

POLICE_MAIN_PROVISIONS: tuple[str, ...] = (
    "prov_capacity",
    "prov_training",
    "prov_human_rights",
    "prov_accountability",
    "prov_composition",
    "prov_intl_monitoring",
    "prov_intl_policing",
    "prov_factional_policing",
)
"""The eight provision categories (I–VIII) whose union is ``any_provision``."""

POLICE_IMPLEMENTATION: dict[str, str] = {
    "capincrease": "impl_capacity_increase",
    "capdecrease": "impl_capacity_decrease",
    "train": "impl_training",
    "hum_r": "impl_human_rights",
    "accstrength": "impl_accountability_strengthened",
    "accprosecute": "impl_accountability_prosecution",
    "comp_general": "impl_composition",
    "comp_gender": "impl_composition_gender",
    "comp_identity": "impl_composition_identity",
    "comp_warring": "impl_composition_warring",
    "intl_mon_train": "impl_intl_monitoring",
    "intl_service": "impl_intl_policing",
    "imp_d": "implemented",
}
"""Police-reform implementation codings (0/1, missing where not coded) → output columns."""

POLICE_LAST_CODED_YEAR = 2010
"""The police-reform data were coded with information up to 2010."""


def _end_year(text: pd.Series) -> pd.Series:
    """Year of an end date written ``dd.mm.yyyy``, ``yyyy-mm-dd`` or ``yyyy-mm-``."""
    found = text.astype("string").str.extract(r"(?:^|\.)(\d{4})(?:-|$)", expand=False)
    return pd.to_numeric(found, errors="coerce").astype("Int64")


def _tidy_police(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    df = raw.rename(
        columns={
            "PAID": "paid",
            "Year": "year",
            "PA.Name": "pa_name",
            **POLICE_PROVISIONS,
            **POLICE_IMPLEMENTATION,
        }
    ).copy()
    df, _ = map_country_codes(df, "GWNO", "gw", ctx.data_dir, source=ctx.path)
    df["pa_date"] = pd.to_datetime(df["pa_date"], format="%d.%m.%Y", errors="raise")
    df["any_provision"] = (df[list(POLICE_MAIN_PROVISIONS)].max(axis=1) > 0).astype("int8")
    for col in POLICE_PROVISIONS.values():
        df[col] = df[col].astype("int8")
    for col in POLICE_IMPLEMENTATION.values():
        df[col] = df[col].astype("Int8")
    df["end_year"] = _end_year(df["Duration"])
    df["ended"] = df["ended"].astype("Int8")
    columns = [
        "paid",
        "gwno",
        "year",
        "pa_name",
        "pa_date",
        *POLICE_PROVISIONS.values(),
        "any_provision",
        *POLICE_IMPLEMENTATION.values(),
        "ended",
        "end_year",
    ]
    return df[columns].sort_values(["gwno", "pa_date", "paid"], ignore_index=True)


def _cut_police(table: pd.DataFrame, year: int) -> pd.DataFrame:
    out = table.loc[table["year"] <= year].copy()
    # An agreement's collapse is known only once it has happened.
    known = out["end_year"].le(year).fillna(year >= POLICE_LAST_CODED_YEAR).astype(bool)
    unknown = (out["ended"] == 1).fillna(False).astype(bool) & ~known
    out.loc[unknown, "ended"] = 0
    out.loc[unknown, "end_year"] = pd.NA
    return out


_BINARY_INT = pa.Column(int, pa.Check.isin([0, 1]), coerce=True)
_BINARY_FLOAT = pa.Column(float, pa.Check.isin([0, 1]), nullable=True, coerce=True)

POLICE_REFORM = Source(
    key="police_reform",
    path="governance/police_reform_implementation_peace_agreement_year.csv",
    title="Police reform provisions and implementation in peace agreements",
    raw_schema=pa.DataFrameSchema(
        {
            "Year": pa.Column(int, pa.Check.in_range(1945, LATEST_POSSIBLE_YEAR), coerce=True),
            "GWNO": pa.Column(int, pa.Check.in_range(2, COUNTRY_CODE_MAX), coerce=True),
            "PAID": pa.Column(int, coerce=True, unique=True),
            "PA.Name": pa.Column(str, coerce=True),
            "pa_date": pa.Column(str, pa.Check.str_matches(r"^\d{2}\.\d{2}\.\d{4}$"), coerce=True),
            "ended": _BINARY_INT,
            "Duration": pa.Column(str, nullable=True, coerce=True),
            **{c: _BINARY_INT for c in POLICE_PROVISIONS},
            **{c: _BINARY_FLOAT for c in POLICE_IMPLEMENTATION},
        }
    ),
    tidy=_tidy_police,
    key_columns=("paid",),
    cut=_cut_police,
    read_kwargs={"keep_default_na": False, "na_values": ["", "NaN"]},
)
"""Peace agreements with their police-reform provisions and implementation, one row per
agreement (78 agreements in 33 countries, signed 1978–2010).

Output columns: ``paid`` (the dataset's 13-digit id: GW code, date, sequence — *not* UCDP's
``paid``), ``gwno``, ``year`` (signature year), ``pa_name``, ``pa_date``; provisions of the
text (0/1): ``prov_capacity``, ``prov_training``, ``prov_human_rights``,
``prov_accountability``, ``prov_composition`` (with ``_gender``, ``_identity``,
``_warring``), ``prov_intl_monitoring`` (international monitoring or training),
``prov_intl_policing`` (international police provide the service),
``prov_factional_policing``; ``any_provision`` (any of categories I–VIII); implementation
codings (0/1, missing where not coded): ``impl_capacity_increase``,
``impl_capacity_decrease``, ``impl_training``, ``impl_human_rights``,
``impl_accountability_strengthened``, ``impl_accountability_prosecution``,
``impl_composition`` (``_gender``, ``_identity``, ``_warring``), ``impl_intl_monitoring``,
``impl_intl_policing``, ``implemented`` (the dataset's summary dummy ``imp_d``); ``ended``
(1: the agreement collapsed) and ``end_year``.

Implementation is coded retrospectively (what happened after signature, up to 2010) without
dates: it is not known in the signature year, so features must not date it there.
Vintage cut: agreements signed after the year are dropped, and a collapse after the year
(or of unknown date, before 2010) is blanked.
"""


# --------------------------------------------------------------------------------------------
# Ethnic Power Relations (EPR Core 2021, country level from GROWup)

EPR_SHARES: tuple[str, ...] = ("egippop", "exclpop", "discrimpop", "maxexclpop", "regautpop")
"""Population shares kept (0–1): included groups, excluded, discriminated, the largest
excluded group, groups with regional autonomy."""


def _tidy_epr(raw: pd.DataFrame, ctx: LoadContext) -> pd.DataFrame:
    out = raw.rename(columns={"countries_gwid": "gwno", "countryname": "epr_country"}).copy()
    out["gwno"] = normalise_gw(out["gwno"].astype("int64")).astype("int64").to_numpy()
    out["ethnic_relevance"] = out["cntr_relevance"].astype("string")
    # Yugoslavia (345) and Serbia (340 → 345) both have 2006: keep the unit that continues.
    out = _resolve_transition_years(out, "epr_country", ctx)
    columns = [
        "gwno",
        "year",
        "epr_country",
        "rlvt_groups_count",
        "excl_groups_count",
        *EPR_SHARES,
        "ethnic_relevance",
    ]
    return out[columns].sort_values(["gwno", "year"], ignore_index=True)


EPR = Source(
    key="epr",
    path="governance/epr_country_year_growup_2021.csv",
    title="Ethnic Power Relations (EPR Core 2021), country-year, from GROWup",
    raw_schema=pa.DataFrameSchema(
        {
            "countries_gwid": pa.Column(int, pa.Check.in_range(2, COUNTRY_CODE_MAX), coerce=True),
            "year": _YEAR,
            "countryname": pa.Column(str, coerce=True),
            "rlvt_groups_count": pa.Column(float, pa.Check.ge(0), nullable=True, coerce=True),
            "excl_groups_count": pa.Column(float, pa.Check.ge(0), nullable=True, coerce=True),
            **{c: _share() for c in EPR_SHARES},
            "cntr_relevance": pa.Column(str, nullable=True, coerce=True),
        },
        unique=["countries_gwid", "year"],
    ),
    tidy=_tidy_epr,
    key_columns=("gwno", "year"),
)
"""Ethnic power relations, one row per GW state-year (1946–2018).

Output columns: ``gwno``, ``year``, ``epr_country``, ``rlvt_groups_count`` (politically
relevant ethnic groups), ``excl_groups_count`` (of them, excluded from executive power), and
population shares (0–1): ``egippop`` (ethnic groups in power), ``exclpop`` (excluded),
``discrimpop`` (discriminated), ``maxexclpop`` (largest excluded group), ``regautpop`` (groups
with regional autonomy); ``ethnic_relevance`` (EPR's ``cntr_relevance``: whether ethnicity is
politically relevant in the country). Country codes: EPR's own GW codes (Serbia 340 → 345);
where a predecessor and its successor share a year (Yugoslavia and Serbia in 2006) the
successor's row is kept.
"""


SOURCES: tuple[Source, ...] = (
    VDEM_INDICES_SOURCE,
    VDEM_ECON_COUPS,
    VDEM_INFANT_CSO,
    POLITY5,
    FREEDOM_HOUSE,
    WGI,
    ELECTIONS,
    AIDDATA_SSR,
    POLICE_REFORM,
    EPR,
)
