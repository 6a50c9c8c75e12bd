"""Economy and services loaders: the real snapshot, and altered copies that must fail."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from helpers.data import materialise

from relapse.errors import DataError
from relapse.sources import economic, get_source
from relapse.sources.base import EXCLUDED_NON_STATES, load_source

KEYS = [s.key for s in economic.SOURCES]

# Plausible ranges per source: (column, low, high) over non-missing values.
RANGES: dict[str, list[tuple[str, float, float]]] = {
    "wdi_gdp_pc": [("gdp_pc_usd", 10, 250_000)],
    "wdi_population": [("population", 1_000, 1.5e9)],
    "gapminder": [
        ("infant_mortality", 0, 500),
        ("basic_water_pct", 0, 100),
        ("life_expectancy", 10, 90),
    ],
    "pwt": [("rgdpe_pc", 100, 300_000), ("pop", 0, 1_500)],
    "maddison": [("cgdppc", 100, 250_000)],
    "cow_nmc": [("milex", 0, 1e9), ("cinc", 0, 1)],
    "creg": [("ethfrac", 0, 1), ("relfrac", 0, 1)],
    "hief": [("efindex", 0, 1)],
}


@pytest.fixture(scope="module")
def loaded(data_dir: Path) -> dict[str, object]:
    return {key: load_source(get_source(key), data_dir) for key in KEYS}


@pytest.mark.snapshot
@pytest.mark.parametrize("key", KEYS)
def test_loads_with_unique_gw_keys(loaded, key):
    result = loaded[key]
    table = result.table
    assert len(table) > 1000
    assert table["gwno"].dtype == "int64"
    assert table["year"].dtype == "int64"
    assert not table.duplicated(["gwno", "year"]).any()
    assert result.last_year <= 2018
    for column, low, high in RANGES[key]:
        values = table[column].dropna()
        assert len(values) > 100, column
        assert values.between(low, high).all(), column


@pytest.mark.snapshot
def test_wdi_long_layout_and_aggregates(loaded):
    result = loaded["wdi_population"]
    pop = result.table.set_index(["gwno", "year"])["population"]
    assert 7e6 <= pop[(451, 2015)] <= 8e6  # Sierra Leone
    assert result.table["year"].between(1960, 2018).all()
    assert set(result.table.columns) == {"gwno", "iso3", "country", "year", "population"}
    excluded = result.notes[EXCLUDED_NON_STATES]
    assert excluded["WLD"] == 59 and "SSF" in excluded
    assert "WLD" not in set(result.table["iso3"])
    # Gleditsch-Ward traps: Serbia 345, Yemen 678, Germany 260, Vietnam 816, Sudans.
    iso = result.table.drop_duplicates("iso3").set_index("iso3")["gwno"]
    assert iso[["SRB", "YEM", "DEU", "VNM", "SDN", "SSD", "XKX"]].tolist() == [
        345,
        678,
        260,
        816,
        625,
        626,
        347,
    ]
    # GW states missing from the crosswalk are mapped here, microstates excluded and counted.
    assert iso["BHS"] == 31
    assert "LIE" in result.notes[EXCLUDED_NON_STATES]


@pytest.mark.snapshot
def test_gdp_per_capita_facts(loaded):
    gdp = loaded["wdi_gdp_pc"].table.set_index(["gwno", "year"])["gdp_pc_usd"]
    assert gdp[(2, 2015)] > 20 * gdp[(451, 2015)]  # USA vs Sierra Leone
    pwt = loaded["pwt"].table.set_index(["gwno", "year"])["rgdpe_pc"]
    assert pwt[(2, 2015)] > pwt[(235, 2015)] > pwt[(451, 2015)]  # USA > Portugal > Sierra Leone


@pytest.mark.snapshot
def test_gapminder_services_and_historical_entities(loaded):
    result = loaded["gapminder"]
    g = result.table.set_index(["gwno", "year"])
    assert g.loc[(451, 2005), "infant_mortality"] > 10 * g.loc[(235, 2005), "infant_mortality"]
    assert "total_population_with_projections" not in g.columns
    # East Germany has its own GW code; the USSR's rows give way to Russia's series.
    assert g.loc[(265, 1970), "geo"] == "deu_east"
    assert g.loc[(365, 1980), "iso3"] == "RUS"
    assert result.notes["historical_rows_replaced_by_iso3_series"]["ussr"] > 0


@pytest.mark.snapshot
def test_state_transitions(loaded):
    maddison = loaded["maddison"].table.set_index(["gwno", "year"])["iso3"]
    assert maddison[(365, 1991)] == "SUN" and maddison[(365, 1992)] == "RUS"
    assert maddison[(345, 1991)] == "YUG" and maddison[(345, 1992)] == "SRB"
    assert (315, 1993) not in maddison.index
    nmc = loaded["cow_nmc"].table.set_index(["gwno", "year"])
    assert nmc.loc[(260, 1990), "cow"] == 260 and nmc.loc[(260, 1991), "cow"] == 255
    assert nmc.loc[(255, 1900), "cow"] == 255
    assert nmc.loc[(678, 1990), "cow"] == 679
    creg = loaded["creg"].table.set_index(["gwno", "year"])["creg_ccode"]
    assert creg[(365, 1991)] == 365 and creg[(365, 1992)] == 393
    hief = loaded["hief"].table.set_index(["gwno", "year"])["efindex"]
    assert hief[(365, 1991)] == pytest.approx(0.691)
    # HIEF's Vietnam fixed: North/unified 816 and South 817 are separate states.
    assert (816, 1960) in hief.index and (817, 1960) in hief.index


@pytest.mark.snapshot
def test_cow_missing_code_becomes_nan(loaded):
    nmc = loaded["cow_nmc"]
    assert (nmc.table[["milex", "milper", "upop"]] != -9).all().all()
    assert nmc.table["milex"].isna().sum() == nmc.notes["missing_coded_-9"]["milex"] > 0


# --------------------------------------------------------------------------------------------
# Altered copies

Alter = Callable[[pd.DataFrame], pd.DataFrame]


def _rename(old: str, new: str) -> Alter:
    return lambda df: df.rename(columns={old: new})


def _set(column: str, row: int, value: str) -> Alter:
    def alter(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[df.index[row], column] = value
        return df

    return alter


def _duplicate_row(row: int) -> Alter:
    return lambda df: pd.concat([df, df.iloc[[row]]], ignore_index=True)


def _where(column: str, old: str, new: str) -> Alter:
    def alter(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[df[column] == old, column] = new
        return df

    return alter


BAD_INPUTS = [
    pytest.param(
        "wdi_population",
        _rename("2015", "2015x"),
        r"missing column.*'2015'",
        id="wdi-year-column-renamed",
    ),
    pytest.param(
        "wdi_gdp_pc",
        _rename("Country Code", "Code"),
        r"missing column.*Country Code",
        id="wdi-renamed-column",
    ),
    pytest.param(
        "gapminder",
        _rename("infant_mortality_rate_per_1000_births", "imr"),
        r"gapminder.*missing column",
        id="gapminder-renamed-column",
    ),
    pytest.param(
        "pwt",
        _set("rgdpe", 5, "12.5 bn"),
        r"pwt10_01.csv: column 'rgdpe'",
        id="pwt-string-in-number",
    ),
    pytest.param(
        "cow_nmc",
        _set("milex", 3, "lots"),
        r"cow_nmc_v6.csv: column 'milex'",
        id="nmc-string-in-number",
    ),
    pytest.param(
        "wdi_population",
        _set("1990", 10, "-5"),
        r"column '1990' fails",
        id="wdi-negative-population",
    ),
    pytest.param(
        "creg", _set("ethfrac", 0, "1.7"), r"column 'ethfrac' fails", id="creg-out-of-range"
    ),
    pytest.param("pwt", _duplicate_row(100), r"pwt10_01.csv:.*isocode", id="pwt-duplicate"),
    pytest.param(
        "wdi_gdp_pc",
        _where("Country Code", "MNE", "SCG"),
        r"share a key.*345",
        id="wdi-two-codes-one-gw-state",
    ),
    pytest.param(
        "creg", _duplicate_row(0), r"creg_ethnic.*(unique|share a key)", id="creg-duplicate"
    ),
    pytest.param(
        "maddison",
        _where("countrycode", "SUN", "RUS"),
        r"maddison.*countrycode",
        id="maddison-duplicate-country-year",
    ),
    pytest.param(
        "wdi_gdp_pc",
        _where("Country Code", "ABW", "XYZ"),
        r"wdi_NY.GDP.PCAP.CD_wide.csv: 1 country code.*XYZ",
        id="wdi-unmapped-iso3",
    ),
    pytest.param(
        "pwt",
        _where("isocode", "ABW", "XYZ"),
        r"pwt10_01.csv:.*cannot be mapped.*XYZ",
        id="pwt-unmapped-iso3",
    ),
    pytest.param(
        "cow_nmc",
        _set("ccode", 0, "999"),
        r"cow_nmc_v6.csv:.*cannot be mapped.*999",
        id="nmc-unmapped-cow",
    ),
    pytest.param(
        # An entity without ISO3 is excluded by name (tests/test_release_units.py), unless
        # it is named like a state of the state list: a state that lost its code.
        "gapminder",
        _where("geo", "ussr", "Canada"),
        r"unit 'Canada' \(line \d+\) is named like a state",
        id="gapminder-state-without-code",
    ),
]


def _alter(data_copy: Path, key: str, alter: Alter) -> None:
    path = materialise(data_copy / get_source(key).path)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    alter(df).to_csv(path, index=False)


@pytest.mark.snapshot
@pytest.mark.parametrize(("key", "alter", "match"), BAD_INPUTS)
def test_bad_input_fails_with_file_name(data_copy, key, alter, match):
    _alter(data_copy, key, alter)
    with pytest.raises(DataError, match=match):
        load_source(get_source(key), data_copy, verify=False)


@pytest.mark.snapshot
@pytest.mark.parametrize("key", ["wdi_population", "cow_nmc", "hief"])
def test_truncated_file_fails(data_copy, key):
    path = materialise(data_copy / get_source(key).path)
    text = path.read_bytes()
    path.write_bytes(text[: len(text) // 2])
    source = get_source(key)
    with pytest.raises(DataError, match=rf"{source.path}: SHA-256 .* does not match"):
        load_source(source, data_copy, verify=True)
    # Cut mid-row: without the checksum, the schema still catches the broken last row.
    if key != "wdi_population":  # a cut WDI row is a row with missing years, which is valid
        with pytest.raises(DataError, match=source.path):
            load_source(source, data_copy, verify=False)


@pytest.mark.snapshot
def test_altered_value_fails_checksum(data_copy):
    _alter(data_copy, "gapminder", _set("infant_mortality_rate_per_1000_births", 5, "1"))
    with pytest.raises(DataError, match=r"gapminder_systema_globalis_subset.csv: SHA-256"):
        load_source(get_source("gapminder"), data_copy, verify=True)
