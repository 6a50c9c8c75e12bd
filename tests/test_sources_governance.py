"""Governance, elections and SSR loaders: the real snapshot and altered copies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from helpers.data import materialise

from relapse.errors import DataError
from relapse.sources import governance
from relapse.sources.base import cut_to_vintage, load_source

SOURCES = {s.key: s for s in governance.SOURCES}
COUNTRY_YEAR = [k for k, s in SOURCES.items() if s.key_columns == ("gwno", "year")]


@pytest.fixture(scope="module")
def loaded(data_dir: Path) -> dict[str, pd.DataFrame]:
    return {key: load_source(s, data_dir).table for key, s in SOURCES.items()}


@pytest.mark.snapshot
def test_every_file_has_a_loader() -> None:
    assert sorted(SOURCES) == sorted(
        [
            "vdem_indices",
            "vdem_econ_coups",
            "vdem_infant_cso",
            "polity5",
            "freedom_house",
            "wgi",
            "elections",
            "aiddata_ssr",
            "police_reform",
            "epr",
        ]
    )


@pytest.mark.snapshot
@pytest.mark.parametrize("key", sorted(SOURCES))
def test_loads_with_unique_keys_and_int_gwno(loaded: dict[str, pd.DataFrame], key: str) -> None:
    table = loaded[key]
    assert len(table) > 0
    assert table["gwno"].dtype == "int64"
    assert not table.duplicated(list(SOURCES[key].key_columns)).any()
    assert table["year"].max() <= 2018
    # UCDP conventions: Serbia is 345, never 340.
    assert not (table["gwno"] == 340).any()


@pytest.mark.snapshot
@pytest.mark.parametrize(
    ("key", "column", "low", "high"),
    [
        ("vdem_indices", "v2x_polyarchy", 0, 1),
        ("vdem_indices", "v2x_egaldem", 0, 1),
        ("vdem_econ_coups", "e_pt_coup", 0, 2),
        ("vdem_econ_coups", "v2xpe_exlsocgr", 0, 1),
        ("vdem_infant_cso", "v2csprtcpt_ord", 0, 3),
        ("polity5", "polity2", -10, 10),
        ("polity5", "polity", -10, 10),
        ("freedom_house", "pr", 1, 7),
        ("wgi", "rule_of_law", -3.5, 3.5),
        ("elections", "natelec", 0, 1),
        ("aiddata_ssr", "ssr_share", 0, 1),
        ("police_reform", "any_provision", 0, 1),
        ("epr", "exclpop", 0, 1),
        ("epr", "discrimpop", 0, 1),
        ("epr", "rlvt_groups_count", 0, 60),
    ],
)
def test_plausible_ranges(
    loaded: dict[str, pd.DataFrame], key: str, column: str, low: float, high: float
) -> None:
    values = loaded[key][column].dropna()
    assert len(values) > 0
    assert values.between(low, high).all()


def _row(table: pd.DataFrame, gwno: int, year: int) -> pd.Series:
    rows = table[(table["gwno"] == gwno) & (table["year"] == year)]
    assert len(rows) == 1, (gwno, year)
    return rows.iloc[0]


# Sources without South Sudan after 2011, each for a documented reason (checked below).
NO_SOUTH_SUDAN = {
    "aiddata_ssr": "source ends before South Sudan's independence",
    "elections": "the elections file has no South Sudan rows",
}


@pytest.mark.snapshot
@pytest.mark.parametrize("key", [k for k in COUNTRY_YEAR if k not in NO_SOUTH_SUDAN])
def test_sudan_and_south_sudan_distinct_after_2011(
    loaded: dict[str, pd.DataFrame], key: str
) -> None:
    table = loaded[key]
    both = table[(table["year"] == 2012) & table["gwno"].isin([625, 626])]
    assert sorted(both["gwno"]) == [625, 626]


@pytest.mark.snapshot
@pytest.mark.parametrize("key", sorted(NO_SOUTH_SUDAN))
def test_documented_south_sudan_gaps_still_hold(loaded: dict[str, pd.DataFrame], key: str) -> None:
    """If a new release fills a gap, this fails and the exception above should go."""
    table = loaded[key]
    assert not (table["gwno"] == 626).any(), NO_SOUTH_SUDAN[key]
    if key == "aiddata_ssr":
        assert table["year"].max() <= 2011
    else:  # Sudan itself is there after 2011: the gap is South Sudan's alone
        assert (table.loc[table["gwno"] == 625, "year"] > 2011).any()


@pytest.mark.snapshot
def test_known_facts(loaded: dict[str, pd.DataFrame]) -> None:
    # Serbia after Montenegro's independence stays GW 345 (Polity's SER row).
    assert _row(loaded["polity5"], 345, 2010)["scode"] == "SER"
    assert _row(loaded["polity5"], 345, 2000)["scode"] == "YGS"
    # Unified Germany continues GW 260; in 1990 Polity's unified-Germany row wins.
    assert _row(loaded["polity5"], 260, 1990)["scode"] == "GMY"
    assert _row(loaded["polity5"], 625, 2011)["scode"] == "SDN"
    # -88 transition years: polity missing, polity2 interpolated.
    p5 = loaded["polity5"]
    transition = p5[p5["polity_special"] == -88]
    assert transition["polity"].isna().all() and transition["polity2"].notna().mean() > 0.9
    # Freedom House: Serbia and Montenegro 2004 is GW 345, Montenegro 341 from 2006.
    assert _row(loaded["freedom_house"], 345, 2004)["fh_country"] == "Serbia and Montenegro"
    assert _row(loaded["freedom_house"], 341, 2007)["fh_country"] == "Montenegro"
    # WGI biennial before 2002: no 1997 or 2001 rows.
    assert not loaded["wgi"]["year"].isin([1997, 1999, 2001]).any()
    # Elections: Liberia's 2005 and Sierra Leone's 2002 elections; Germany's 1990 election.
    assert _row(loaded["elections"], 450, 2005)["natelec"] == 1
    assert _row(loaded["elections"], 451, 2002)["natelec"] == 1
    assert _row(loaded["elections"], 260, 1990)["iso3"] == "DEU"
    assert _row(loaded["elections"], 315, 1990)["natelec"] == 1
    assert not loaded["elections"]["iso3"].isin(["ABK", "SOT"]).any()
    # V-Dem: Czechoslovakia is GW 315, the Czech Republic 316.
    assert _row(loaded["vdem_indices"], 315, 1980)["country_text_id"] == "CZE"
    assert _row(loaded["vdem_indices"], 316, 2000)["country_text_id"] == "CZE"
    # Coups: Sierra Leone's successful coup of 1997.
    assert _row(loaded["vdem_econ_coups"], 451, 1997)["e_pt_coup"] == 2
    # AidData: Namibia-style ISO2 parsing and Sierra Leone as a recipient.
    assert 451 in set(loaded["aiddata_ssr"]["gwno"])
    # Police reform: Sierra Leone's Lomé agreement (1999) has police provisions.
    lome = loaded["police_reform"].query("gwno == 451 and year == 1999").iloc[0]
    assert lome["any_provision"] == 1 and "Lom" in lome["pa_name"]


@pytest.mark.snapshot
def test_epr_known_facts(loaded: dict[str, pd.DataFrame]) -> None:
    epr = loaded["epr"]
    # Yugoslavia (345) and Serbia (340 → 345) both have 2006: the successor's row is kept.
    assert _row(epr, 345, 2006)["epr_country"] == "Serbia"
    assert _row(epr, 345, 2005)["epr_country"] == "Yugoslavia"
    # Discriminated groups and the largest excluded group are parts of the excluded share
    # (included + excluded may exceed 1 slightly: EPR groups can overlap, e.g. Bangladesh
    # 1971); countries where ethnicity is irrelevant have no relevant groups.
    assert (epr["discrimpop"] <= epr["exclpop"] + 1e-3).all()
    assert (epr["maxexclpop"] <= epr["exclpop"] + 1e-3).all()
    assert (epr.loc[epr["ethnic_relevance"] == "P", "rlvt_groups_count"] == 0).all()
    assert epr["year"].min() == 1946


@pytest.mark.snapshot
def test_epr_transition_note_and_vintage(data_dir: Path) -> None:
    result = load_source(SOURCES["epr"], data_dir)
    assert result.notes["transition_rows_dropped"] == {"Yugoslavia 2006": 1}
    cut = load_source(SOURCES["epr"], data_dir, vintage_year=2000).table
    assert cut["year"].max() == 2000
    assert len(cut) == (result.table["year"] <= 2000).sum()


@pytest.mark.snapshot
def test_non_states_are_counted(data_dir: Path) -> None:
    notes = load_source(SOURCES["elections"], data_dir).notes
    assert notes["excluded_non_states"]["ABK"] == 74
    assert notes["rows_outside_code_period"] > 0
    notes = load_source(SOURCES["vdem_indices"], data_dir).notes
    assert notes["excluded_non_states"]["PSE"] > 0


@pytest.mark.snapshot
def test_polity_cut_blanks_open_transitions(loaded: dict[str, pd.DataFrame]) -> None:
    p5 = loaded["polity5"]
    # Ethiopia: interregnum 1991 (-77, polity2 0), transition 1992-1994 (-88, interpolated).
    cut = cut_to_vintage(p5, SOURCES["polity5"], 1993)
    eth = cut[cut["gwno"] == 530].set_index("year")
    assert list(eth.loc[1991:1993, "polity_special"]) == [-77, -88, -88]
    assert eth.loc[1991, "polity2"] == 0
    assert eth.loc[1992:1993, "polity2"].isna().all()
    full = p5[p5["gwno"] == 530].set_index("year")
    assert full.loc[1992:1994, "polity2"].notna().all()


@pytest.mark.snapshot
def test_police_cut_blanks_later_collapse(loaded: dict[str, pd.DataFrame]) -> None:
    table = loaded["police_reform"]
    cut = cut_to_vintage(table, SOURCES["police_reform"], 1999)
    lome = cut.query("gwno == 451 and year == 1999").iloc[0]
    assert lome["ended"] == 0 and pd.isna(lome["end_year"])
    assert table.query("gwno == 451 and year == 1999").iloc[0]["ended"] == 1


# --------------------------------------------------------------------------------------------
# Altered copies


def _edit(path: Path, change: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    materialise(path)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    change(df).to_csv(path, index=False)


def _rename(old: str, new: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda df: df.rename(columns={old: new})


def _set(column: str, value: str, where: Callable[[pd.DataFrame], pd.Series] | None = None):
    def change(df: pd.DataFrame) -> pd.DataFrame:
        rows = where(df) if where is not None else df.index == df.index[0]
        df.loc[rows, column] = value
        return df

    return change


def _duplicate_row(index: int) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda df: pd.concat([df, df.iloc[[index]]], ignore_index=True)


BAD_INPUTS = [
    ("vdem_indices", _rename("GWn", "gw_code"), r"missing column.*GWn"),
    ("polity5", _rename("polity2", "Polity2"), r"missing column.*polity2"),
    ("wgi", _rename("Indicator", "indicator"), r"missing column.*Indicator"),
    ("freedom_house", _set("pr", "three"), r"'pr'"),
    ("polity5", _set("durable", "long"), r"'durable'"),
    ("aiddata_ssr", _set("SSRcommitment", "lots"), r"'SSRcommitment'"),
    ("vdem_econ_coups", _set("e_pt_coup", "yes"), r"'e_pt_coup'"),
    ("police_reform", _set("I..Capacity", "x"), r"I\.\.Capacity"),
    ("freedom_house", _duplicate_row(100), r"share a key"),
    ("vdem_infant_cso", _duplicate_row(5000), r"share a key"),
    ("elections", _duplicate_row(10), r"unique|share a key"),
    ("elections", _set("iso3c", "QQQ"), r"cannot be mapped.*QQQ"),
    ("wgi", _set("Code", "QQQ"), r"cannot be mapped.*QQQ"),
    ("aiddata_ssr", _set("iso2c", "QQ"), r"cannot be mapped.*QQ"),
    ("vdem_indices", _set("GWn", ""), r"country code in other rows \(its code vanished\)"),
    ("vdem_infant_cso", _set("ccode", "9999"), r"ccode"),
    ("police_reform", _set("Year", "2150"), r"'Year'.*2150"),
    ("wgi", _set("Year", "2150"), r"'Year'.*2150"),
    ("freedom_house", _set("year", "2150"), r"'year'.*2150"),
    ("elections", _set("year", "2150"), r"'year'.*2150"),
    ("epr", _rename("countries_gwid", "gwid"), r"missing column.*countries_gwid"),
    ("epr", _set("exclpop", "1.5"), r"'exclpop'"),
    ("epr", _set("excl_groups_count", "several"), r"'excl_groups_count'"),
    ("epr", _set("excl_groups_count", "-1"), r"'excl_groups_count'.*-1"),
    ("epr", _duplicate_row(20), r"unique|share a key"),
]


@pytest.mark.snapshot
@pytest.mark.parametrize(
    ("key", "change", "message"), BAD_INPUTS, ids=[f"{k}-{m[:20]}" for k, _, m in BAD_INPUTS]
)
def test_bad_input_raises_data_error_naming_the_file(
    data_copy: Path, key: str, change: Callable[[pd.DataFrame], pd.DataFrame], message: str
) -> None:
    source = SOURCES[key]
    _edit(data_copy / source.path, change)
    with pytest.raises(DataError, match=message) as info:
        load_source(source, data_copy, verify=False)
    assert str(info.value).startswith(source.path)


@pytest.mark.snapshot
def test_checksum_catches_an_altered_file(data_copy: Path) -> None:
    source = SOURCES["polity5"]
    _edit(data_copy / source.path, _set("polity2", "5"))
    with pytest.raises(DataError, match="SHA-256"):
        load_source(source, data_copy)
