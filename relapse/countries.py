"""Country codes: everything is joined on Gleditsch–Ward (GW) codes.

Sources speak ISO3 (World Bank, PWT, Gapminder, WGI), COW codes (COW, Mullenbach, V-Dem
extracts, Doyle–Sambanis) or names (UN peacekeeping files). This module maps each to GW with
the snapshot's crosswalk (``crosswalks/country_codes_iso3_gw_cow.csv``), overridden by the
explicit trap table below, and uses ``country_converter`` only to turn *names* into ISO3.

Conventions (the UCDP ones, since UCDP defines conflict):

* **Serbia/Yugoslavia**: GW 345 throughout (Yugoslavia to 2006, then Serbia). UCDP keeps 345
  after 2006, so ISO3 ``SRB``/``YUG`` and GW 340 all map to 345. Montenegro is 341, Kosovo 347.
* **Sudan/South Sudan**: ``SDN`` → 625, ``SSD`` → 626 (South Sudan exists from 2011).
* **Yemen**: unified Yemen continues North Yemen's GW 678 (COW uses 679, which maps to 678);
  South Yemen (``YMD``, COW 680) is GW 680 until 1990. ``country_converter`` says 680 for
  ``YEM``, which is wrong for GW.
* **Germany**: unified Germany continues West Germany's GW 260 (COW 255 after 1990 → 260);
  East Germany (``DDR``) is 265.
* **Vietnam**: ``VNM`` is the Democratic Republic, GW 816 (``country_converter`` says 817,
  which is South Vietnam, ``VDR``).
* **Ethiopia/Eritrea**: ``ETH`` → 530, ``ERI`` → 531 (a state from 1993).

Codes that are not states (regional aggregates, dependencies) are listed explicitly in
:data:`NON_STATE_ISO3`; any other code that cannot be mapped is reported, never dropped
silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from relapse.errors import DataError

CROSSWALK = "crosswalks/country_codes_iso3_gw_cow.csv"
GW_STATES = "crosswalks/gw_states.csv"

ISO3_TO_GW_TRAPS: dict[str, int] = {
    "SRB": 345,
    "YUG": 345,
    "SCG": 345,
    "MNE": 341,
    "XKX": 347,
    "KSV": 347,
    "KOS": 347,
    "SDN": 625,
    "SSD": 626,
    "YEM": 678,
    "YAR": 678,
    "YMD": 680,
    "YPR": 680,
    "DEU": 260,
    "DDR": 265,
    "VNM": 816,
    "VDR": 817,
    "ETH": 530,
    "ERI": 531,
    "ZAR": 490,  # Zaire, old ISO3 of DR Congo
    "ROM": 360,  # old ISO3 of Romania
    "TMP": 860,  # East Timor, old ISO3
    # GW states the V-Dem-based crosswalk lacks.
    "BHS": 31,  # Bahamas
    "BLZ": 80,  # Belize
    "BRN": 835,  # Brunei
    "RVN": 817,  # NELDA's code for South Vietnam
    # Dissolved states under their ISO 3166-3 codes (e.g. in Maddison).
    "CSK": 315,  # Czechoslovakia
    "SUN": 365,  # USSR: GW continues it as Russia
}
"""ISO3 codes whose GW code is a known trap; these win over the crosswalk."""

COW_TO_GW_TRAPS: dict[int, int] = {
    255: 260,  # COW Germany (unified, from 1990) -> GW German Federal Republic
    679: 678,  # COW Yemen (unified, from 1990) -> GW Yemen (Arab Republic)
    340: 345,  # GW/COW-style Serbia code -> UCDP's 345
}
"""COW codes that differ from GW codes for the post-1946 period."""

GW_TO_GW_TRAPS: dict[int, int] = {340: 345}
"""GW codes remapped to the UCDP convention (Serbia after 2006 stays 345)."""

NON_STATE_ISO3: frozenset[str] = frozenset(
    # World Bank / Gapminder / WGI regional and income aggregates.
    {
        "AFE",
        "AFW",
        "ARB",
        "CEB",
        "CSS",
        "EAP",
        "EAR",
        "EAS",
        "ECA",
        "ECS",
        "EMU",
        "EUU",
        "FCS",
        "HIC",
        "HPC",
        "IBD",
        "IBT",
        "IDA",
        "IDB",
        "IDX",
        "INX",
        "LAC",
        "LCN",
        "LDC",
        "LIC",
        "LMC",
        "LMY",
        "LTE",
        "MEA",
        "MIC",
        "MNA",
        "NAC",
        "OED",
        "OSS",
        "PRE",
        "PSS",
        "PST",
        "SAS",
        "SSA",
        "SSF",
        "SST",
        "TEA",
        "TEC",
        "TLA",
        "TMN",
        "TSA",
        "TSS",
        "UMC",
        "WLD",
    }
    # Dependencies, territories and other non-sovereign units.
    | {
        "ABW",
        "AIA",
        "ANT",
        "ASM",
        "BMU",
        "CHI",
        "CUW",
        "CYM",
        "FLK",
        "FRO",
        "GIB",
        "GLP",
        "GRL",
        "GUF",
        "GUM",
        "HKG",
        "IMN",
        "JEY",
        "MAC",
        "MAF",
        "MNP",
        "MSR",
        "MTQ",
        "MYT",
        "NCL",
        "NIU",
        "PRI",
        "PYF",
        "REU",
        "SHN",
        "SPM",
        "SXM",
        "TCA",
        "TKL",
        "VGB",
        "VIR",
        "WLF",
        "ESH",
        "COK",
        "BES",
        "GGY",
        "ALA",
        "ATF",
        "BVT",
        "CCK",
        "CXR",
        "HMD",
        "IOT",
        "NFK",
        "PCN",
        "SGS",
        "SJM",
        "UMI",
        "ATA",
        "BLM",
    }
    # Not states in the GW list: Palestine (World Bank WBG, ISO PSE), Abkhazia, South Ossetia.
    | {"WBG", "PSE", "ABK", "SOT"}
)
"""ISO3-like codes that are not states in the GW system: excluded on purpose, and counted."""

MICROSTATES_ISO3: frozenset[str] = frozenset(
    {
        "ADO",
        "AND",
        "ATG",
        "DMA",
        "FSM",
        "GRD",
        "KIR",
        "KNA",
        "LCA",
        "LIE",
        "MCO",
        "MHL",
        "NRU",
        "PLW",
        "SMR",
        "TON",
        "TUV",
        "VAT",
        "VCT",
        "WSM",
    }
)
"""Sovereign microstates that Gleditsch & Ward keep on a separate list (not in
``gw_states.csv``, so never on the spine): Andorra (``ADO`` is the World Bank's old code),
Antigua, Dominica, Micronesia, Grenada, Kiribati, St Kitts, St Lucia, Liechtenstein, Monaco,
Marshall Islands, Nauru, Palau, San Marino, Tonga, Tuvalu, Vatican, St Vincent, Samoa.
Excluded on purpose, and counted."""

MICROSTATES_COW: frozenset[int] = frozenset(
    # Dominica 54, Grenada 55, St Lucia 56, St Vincent 57, Antigua 58, St Kitts 60, Monaco 221,
    # Liechtenstein 223, Andorra 232, San Marino 331, Kiribati 946, Tuvalu 947, Tonga 955,
    # Nauru 970, Marshall Is. 983, Palau 986, Micronesia 987, Samoa 990.
    {54, 55, 56, 57, 58, 60, 221, 223, 232, 331, 946, 947, 955, 970, 983, 986, 987, 990}
)
"""COW codes of the same microstates: excluded on purpose, and counted."""

GW_MICROSTATES: frozenset[int] = frozenset(
    # Dominica 54, Grenada 55, St Lucia 56, St Vincent 57, Antigua 58, St Kitts 60, Monaco 221,
    # Liechtenstein 223, Andorra 232, San Marino 331, Abkhazia 396, South Ossetia 397,
    # Sao Tome 403, Seychelles 591, Vanuatu 935, Kiribati 970, Nauru 971, Tonga 972,
    # Tuvalu 973, Marshall Is. 983, Palau 986, Micronesia 987, Samoa 990.
    {54, 55, 56, 57, 58, 60, 221, 223, 232, 331, 396, 397, 403, 591, 935}
    | {970, 971, 972, 973, 983, 986, 987, 990}
)
"""GW codes of Gleditsch & Ward's separate list of microstates (not in ``gw_states.csv``).
Sources that speak GW codes (Freedom House, V-Dem) use them; they are valid codes of the
state system, so rows carrying them are not errors (they never join the spine)."""


def _file(key: str, default: str, data_dir: str) -> str:
    """The configured file of a crosswalk source (``data.files``), relative to ``data_dir``."""
    from relapse.sources.base import file_of

    return file_of(key, default, data_dir)


@cache
def _read_crosswalk(data_dir: str, name: str) -> pd.DataFrame:
    """The ISO3/GW/COW crosswalk, its code columns checked to be whole numbers."""
    from relapse.sources.base import read_csv_file

    path = Path(data_dir) / name
    if not path.is_file():
        raise DataError(f"{name}: file not found in {data_dir}")
    xw = read_csv_file(path, name)
    missing = {"country_text_id", "GWn", "cown"} - set(xw.columns)
    if missing:
        raise DataError(f"{name}: missing column(s) {sorted(missing)}")
    for column in ("GWn", "cown"):
        xw[column] = _whole_numbers(xw[column], f"{name}: column {column!r}")
    return xw


def _whole_numbers(values: pd.Series, where: str) -> pd.Series:
    """``values`` as nullable integers; :class:`DataError` naming a value that is not one."""
    numbers = pd.to_numeric(values, errors="coerce")
    bad = values[(numbers.isna() & values.notna()) | (numbers.notna() & (numbers % 1 != 0))]
    if len(bad):
        raise DataError(
            f"{where}: {len(bad)} value(s) that are not whole numbers, e.g. {bad.iloc[0]!r}"
        )
    return numbers.astype("Int64")


def _gw_states(data_dir: str) -> pd.DataFrame:
    return _read_gw_states(data_dir, _file("gw_states", GW_STATES, data_dir))


@cache
def _read_gw_states(data_dir: str, name: str) -> pd.DataFrame:
    """The GW state list, its codes checked to be whole numbers."""
    from relapse.sources.base import read_csv_file

    path = Path(data_dir) / name
    if not path.is_file():
        raise DataError(f"{name}: file not found in {data_dir}")
    states = read_csv_file(path, name)
    missing = {"gwcode", "statename"} - set(states.columns)
    if missing:
        raise DataError(f"{name}: missing column(s) {sorted(missing)}")
    states["gwcode"] = _whole_numbers(states["gwcode"], f"{name}: column 'gwcode'")
    return states.dropna(subset=["gwcode"])


def iso3_table(data_dir: str) -> dict[str, int]:
    """ISO3 → GW for every code of the crosswalk, with the traps applied."""
    return _iso3_table(data_dir, _file("country_codes", CROSSWALK, data_dir))


@cache
def _iso3_table(data_dir: str, name: str) -> dict[str, int]:
    xw = _read_crosswalk(data_dir, name).dropna(subset=["GWn"])
    table: dict[str, int] = {}
    for iso3, group in xw.groupby("country_text_id"):
        codes = sorted({int(c) for c in group["GWn"]})
        # Several GW codes for one ISO3 (DEU: 255 and 260) are historical predecessors; the
        # post-1946 state is the one the traps name, else the largest (most recent) code.
        table[str(iso3)] = codes[-1]
    table.update(ISO3_TO_GW_TRAPS)
    return {k: GW_TO_GW_TRAPS.get(v, v) for k, v in table.items()}


def cow_table(data_dir: str) -> dict[int, int]:
    """COW → GW: shared codes of the GW state list, then the crosswalk, then the traps.

    COW and GW numbers coincide for most states; the crosswalk and the trap table hold the
    exceptions. A COW code in none of the three is unmapped (and reported).
    """
    return _cow_table(
        data_dir,
        _file("gw_states", GW_STATES, data_dir),
        _file("country_codes", CROSSWALK, data_dir),
    )


@cache
def _cow_table(data_dir: str, states: str, crosswalk: str) -> dict[int, int]:
    table: dict[int, int] = {int(c): int(c) for c in _read_gw_states(data_dir, states)["gwcode"]}
    xw = _read_crosswalk(data_dir, crosswalk).dropna(subset=["GWn", "cown"])
    for cow, group in xw.groupby("cown"):
        codes = sorted({int(c) for c in group["GWn"]})
        table[int(cow)] = codes[-1]
    table.update(COW_TO_GW_TRAPS)
    return {k: GW_TO_GW_TRAPS.get(v, v) for k, v in table.items()}


def iso3_to_gw(codes: Iterable[str], data_dir: str | Path) -> pd.Series:
    """Map ISO3 codes to GW codes (nullable Int64; <NA> where unmapped or not a state)."""
    table = iso3_table(str(data_dir))
    s = pd.Series(list(codes), dtype="string").str.strip().str.upper()
    return s.map(table).astype("Int64")


def cow_to_gw(codes: Iterable[float | int], data_dir: str | Path) -> pd.Series:
    """Map COW codes to GW codes (nullable Int64; <NA> where unmapped)."""
    table = cow_table(str(data_dir))
    s = pd.Series(pd.array(list(codes), dtype="Float64")).astype("Int64")
    return s.map(lambda c: table.get(int(c), pd.NA) if pd.notna(c) else pd.NA).astype("Int64")


def normalise_gw(codes: Iterable[int]) -> pd.Series:
    """Apply the GW-to-GW conventions (Serbia 340 → 345) to GW codes from any source."""
    s = pd.Series(pd.array(list(codes), dtype="Int64"))
    return s.map(lambda c: GW_TO_GW_TRAPS.get(int(c), int(c)) if pd.notna(c) else pd.NA).astype(
        "Int64"
    )


_NAME_FIXES: dict[str, str] = {
    # Names whose country_converter reading is ambiguous or missing in the UN files.
    "Yugoslavia": "SRB",
    "Serbia and Montenegro": "SRB",
    "Kosovo": "XKX",
    "Sudan": "SDN",
    "South Sudan": "SSD",
    "Congo": "COG",
    "Zaire": "COD",
    "DRC": "COD",
    "Western Sahara": "ESH",
}


def name_to_iso3(names: Iterable[str]) -> pd.Series:
    """Map country names to ISO3 with ``country_converter`` (fixes for known traps first)."""
    import country_converter as coco

    names = [str(n).strip() for n in names]
    unique = sorted(set(names) - set(_NAME_FIXES))
    converted: dict[str, str] = dict(_NAME_FIXES)
    if unique:
        import logging

        logging.getLogger("country_converter").setLevel(logging.ERROR)
        out = coco.convert(unique, to="ISO3", not_found=None)
        out = out if isinstance(out, list) else [out]
        for name, iso in zip(unique, out, strict=True):
            if isinstance(iso, str) and len(iso) == 3 and iso != name:
                converted[name] = iso
    return pd.Series([converted.get(n) for n in names], dtype="string")


def state_codes(data_dir: str | Path) -> frozenset[int]:
    """Every code of the GW state system: ``gw_states.csv`` (as configured) and microstates."""
    states = _gw_states(str(data_dir))
    return frozenset(int(c) for c in states["gwcode"]) | GW_MICROSTATES


def check_state_codes(
    gw: pd.Series, units: pd.Series, data_dir: str | Path, *, source: str, column: str
) -> None:
    """Raise :class:`DataError` for GW codes (after the conventions) outside the state system.

    A release that adds a state (a split) must come with a state list that has it: the
    message names the file, the unit, its code and the first CSV line (header = line 1).
    """
    known = state_codes(data_dir)
    bad = gw.notna().to_numpy() & ~gw.isin(known).to_numpy()
    if bad.any():
        rows = pd.DataFrame({"unit": units.to_numpy()[bad], "code": gw.to_numpy()[bad]})
        rows["line"] = gw.index[bad] + 2 if pd.api.types.is_integer_dtype(gw.index) else -1
        first = rows.drop_duplicates(["unit", "code"]).head(10)
        shown = "; ".join(
            f"{u} (code {c}, line {n})"
            for u, c, n in zip(first["unit"], first["code"], first["line"], strict=True)
        )
        raise DataError(
            f"{source}: {len(first)} unit(s) in column {column!r} claim a code that is not in "
            f"the state-system list ({_file('gw_states', GW_STATES, str(data_dir))} and the "
            f"GW microstates): {shown}"
        )


def exclude_uncoded_units(
    df: pd.DataFrame, code: str, unit: str, data_dir: str | Path, *, source: str
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Drop the rows of units without a country code that are not states; name them.

    A unit without a code in ``code`` is a territory, a region or an aggregate (Freedom
    House's disputed territories, a new one in a later release included) and is excluded and
    counted by name. Two cases are errors instead, since a state would silently leave the
    panel: the unit has a code in other rows (its code vanished), or it is named like a state
    of the state list.

    Returns
    -------
    (DataFrame, dict)
        The coded rows, and the number of rows excluded per unit name.

    Raises
    ------
    DataError
        Naming the file, the unit, the first CSV line and the reason.
    """
    missing = df[code].isna()
    uncoded = df.loc[missing, unit].astype(str)
    coded = set(df.loc[~missing, unit].astype(str))
    states = set(_gw_states(str(data_dir))["statename"].astype(str))
    for name, reason in (
        (coded, "has a country code in other rows (its code vanished)"),
        (states, "is named like a state of the state list but has no code"),
    ):
        hit = uncoded.isin(name)
        if hit.any():
            first = uncoded[hit].index[0]
            line = f"line {first + 2}" if isinstance(first, int | np.integer) else "a row"
            raise DataError(
                f"{source}: unit {uncoded[hit].iloc[0]!r} ({line}) {reason}: column {code!r} "
                f"is empty in {int(hit.sum())} row(s) of {uncoded[hit].nunique()} unit(s)"
            )
    excluded = uncoded.value_counts().sort_index()
    return df.loc[~missing].copy(), {str(k): int(v) for k, v in excluded.items()}


def map_country_codes(
    df: pd.DataFrame,
    column: str,
    scheme: str,
    data_dir: str | Path,
    *,
    source: str,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Add a ``gwno`` column mapped from ``column`` and exclude known non-states.

    Parameters
    ----------
    df
        A source table.
    column
        The column holding the source's country code.
    scheme
        ``"iso3"``, ``"cow"`` or ``"gw"``.
    data_dir
        The raw data directory (for the crosswalk).
    source
        The file name used in error messages.

    Returns
    -------
    (DataFrame, dict)
        The table without known non-state and microstate rows, with ``gwno`` (int64), and a
        count of the rows excluded per code.

    Raises
    ------
    DataError
        If any code is neither mappable nor a known non-state: the message names the file
        and lists the codes.
    """
    codes = df[column]
    excluded: dict[str, int] = {}
    if scheme == "iso3":
        upper = codes.astype("string").str.strip().str.upper()
        non_state = upper.isin(NON_STATE_ISO3 | MICROSTATES_ISO3)
        excluded = upper[non_state].value_counts().to_dict()
        df = df.loc[~non_state.to_numpy()].copy()
        gw = iso3_to_gw(df[column], data_dir)
    elif scheme == "cow":
        micro = pd.to_numeric(codes, errors="coerce").isin(MICROSTATES_COW)
        excluded = codes[micro].astype("Int64").astype(str).value_counts().to_dict()
        df = df.loc[~micro.to_numpy()].copy()
        gw = cow_to_gw(df[column], data_dir)
    elif scheme == "gw":
        gw = normalise_gw(df[column])
        gw.index = df.index
        check_state_codes(gw, df[column], data_dir, source=source, column=column)
    else:
        raise ValueError(f"unknown country-code scheme {scheme!r}")
    gw.index = df.index
    unmapped = df.loc[gw.isna().to_numpy(), column]
    if len(unmapped):
        shown = ", ".join(sorted({str(c) for c in unmapped})[:10])
        raise DataError(
            f"{source}: {unmapped.nunique()} country code(s) in column {column!r} cannot be "
            f"mapped to Gleditsch-Ward codes: {shown}"
        )
    df = df.assign(gwno=gw.astype("int64"))
    return df, {str(k): int(v) for k, v in excluded.items()}
