"""Peacekeeping loaders on the real snapshot, and on altered copies that must fail loudly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from helpers.data import materialise

from relapse.errors import DataError
from relapse.sources.base import cut_to_vintage, load_source
from relapse.sources.peacekeeping import SOURCES

BY_KEY = {s.key: s for s in SOURCES}


@pytest.fixture(scope="module")
def tables(data_dir: Path) -> dict[str, pd.DataFrame]:
    return {key: load_source(s, data_dir).table for key, s in BY_KEY.items()}


@pytest.mark.snapshot
@pytest.mark.parametrize(
    ("key", "min_rows", "max_rows", "first", "last"),
    [
        ("bara_hultman", 8000, 8100, 1993, 2016),
        ("un_personnel", 4000, 4833, 1990, 2015),
        ("geopko", 17000, 17042, 1994, 2018),
        ("un_mission_list", 76, 120, None, None),
        ("un_contributions", 41000, 41873, 2010, 2018),
        ("mullenbach", 215, 222, 1947, 2016),
        ("doyle_sambanis", 600, 617, 1948, 2010),
    ],
)
def test_loads_with_plausible_rows_and_years(
    tables: dict[str, pd.DataFrame],
    key: str,
    min_rows: int,
    max_rows: int,
    first: int | None,
    last: int | None,
) -> None:
    table, source = tables[key], BY_KEY[key]
    assert min_rows <= len(table) <= max_rows
    assert not table.duplicated(list(source.key_columns)).any()
    if "gwno" in table:
        assert table["gwno"].dtype == "int64"
    if first is not None:
        years = table[source.year_column]
        assert (int(years.min()), int(years.max())) == (first, last)


def _rows(table: pd.DataFrame, **where: object) -> pd.DataFrame:
    mask = pd.Series(True, index=table.index)
    for column, value in where.items():
        mask &= table[column] == value
    return table.loc[mask]


@pytest.mark.snapshot
@pytest.mark.parametrize(
    ("key", "where", "gwno"),
    [
        ("un_mission_list", {"mission": "MINUSTAH"}, {41}),
        ("un_mission_list", {"mission": "UNAMSIL"}, {451}),
        ("un_mission_list", {"mission": "UNMIL"}, {450}),
        ("un_mission_list", {"mission": "UNMIK"}, {345, 347}),
        ("bara_hultman", {"mission": "MINUSTAH"}, {41}),
        ("bara_hultman", {"mission": "UNAMSIL"}, {451}),
        ("bara_hultman", {"mission": "KFOR"}, {345}),
        ("un_personnel", {"mission": "UNMIL"}, {450}),
        ("un_personnel", {"mission": "MINUSMA"}, {432}),
        ("geopko", {"mission": "MINURSO", "country": "Western Sahara"}, {600}),
        ("geopko", {"mission": "MINUSTAH"}, {41}),
        ("mullenbach", {"mission": "NATO Kosovo Force (NATO KFOR)"}, {345}),
        ("doyle_sambanis", {"year": 2001, "gwno": 451}, {451}),
    ],
)
def test_known_hosts(
    tables: dict[str, pd.DataFrame], key: str, where: dict[str, object], gwno: set[int]
) -> None:
    rows = _rows(tables[key], **where)
    assert set(rows["gwno"]) == gwno


@pytest.mark.snapshot
def test_known_facts(tables: dict[str, pd.DataFrame]) -> None:
    kfor = _rows(tables["bara_hultman"], mission="KFOR")
    assert set(kfor["un"]) == {0} and kfor["year"].min() == 1999
    kfor_m = _rows(tables["mullenbach"], mission="NATO Kosovo Force (NATO KFOR)").iloc[0]
    assert (kfor_m["un"], kfor_m["start_year"], kfor_m["ongoing"]) == (0, 1999, 1)
    missions = tables["un_mission_list"].set_index("mission")
    assert pd.isna(missions.loc["MINUSMA", "end_date"])
    assert missions.loc["MINUSTAH", "end_date"] == pd.Timestamp("2017-10-01")
    sl = _rows(tables["un_personnel"], mission="UNAMSIL", year=2001, month=12)
    assert sl["troops"].iloc[0] > 10_000
    assert _rows(tables["doyle_sambanis"], gwno=451, year=2001)["ds_ordinal"].iloc[0] >= 3
    assert _rows(tables["mullenbach"], gwno=860)["mission"].str.contains("UNMISET").any()


@pytest.mark.snapshot
@pytest.mark.parametrize("key", ["un_mission_list", "mullenbach"])
def test_mission_cut_drops_later_starts_and_blanks_later_ends(
    tables: dict[str, pd.DataFrame], key: str
) -> None:
    source = BY_KEY[key]
    start, end = (
        ("start_date", "end_date") if key == "un_mission_list" else ("start_year", "end_year")
    )
    cut = cut_to_vintage(tables[key], source, 2005)
    start_year = cut[start].dt.year if key == "un_mission_list" else cut[start]
    end_year = cut[end].dt.year if key == "un_mission_list" else cut[end].astype("Float64")
    assert (start_year.dropna() <= 2005).all()
    assert (end_year.dropna() <= 2005).all()
    name = "UNMIL" if key == "un_mission_list" else "United Nations Mission in Liberia (UNMIL)"
    unmil = cut.loc[cut["mission"] == name].iloc[0]
    assert pd.isna(unmil[end])


# Bad input: (file, how it is altered, what the error must say).
def _rename(column: str, new: str):
    return lambda df: df.rename(columns={column: new})


def _set(column: str, value: object):
    def alter(df: pd.DataFrame) -> pd.DataFrame:
        df[column] = df[column].astype(object)
        df.loc[df.index[3], column] = value
        return df

    return alter


def _duplicate(df: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([df, df.iloc[[5]]], ignore_index=True)


BAD_INPUTS = [
    ("bara_hultman", _rename("troops_backward", "troops_bwd"), r"missing column.*troops_backward"),
    ("bara_hultman", _set("troops_backward", "many"), r"troops_backward"),
    ("bara_hultman", _duplicate, r"share a key"),
    ("bara_hultman", _set("ccode", 999), r"cannot be mapped"),
    ("un_personnel", _rename("missionccode", "ccode"), r"missing column.*missionccode"),
    ("un_personnel", _set("troop", "several"), r"troop"),
    ("un_personnel", _duplicate, r"mission"),
    ("geopko", _rename("no.troops", "troops"), r"missing column.*no\.troops"),
    ("geopko", _set("latitude", "north"), r"latitude"),
    ("geopko", _duplicate, r"unique|duplicate|share a key"),
    ("geopko", _set("country", "Atlantis"), r"not recognised"),
    ("un_mission_list", _rename("start_date", "start"), r"missing column.*start_date"),
    ("un_mission_list", _set("end_date", "sometime"), r"end_date"),
    ("un_mission_list", _duplicate, r"mission_acronym"),
    ("un_contributions", _rename("Total", "Sum"), r"missing column.*Total"),
    ("un_contributions", _set("Total", "lots"), r"Total"),
    ("un_contributions", _duplicate, r"share a key"),
    ("mullenbach", _rename("CCODE1", "CCODE"), r"missing column.*CCODE1"),
    ("mullenbach", _set("STARTYR", "early"), r"STARTYR"),
    ("mullenbach", _duplicate, r"OBSNUM"),
    ("doyle_sambanis", _rename("State.Code", "ccode"), r"missing column.*State\.Code"),
    ("doyle_sambanis", _set("DS_ordinal", "big"), r"DS_ordinal"),
    ("doyle_sambanis", _duplicate, r"share a key"),
]


@pytest.mark.snapshot
@pytest.mark.parametrize(("key", "alter", "message"), BAD_INPUTS)
def test_bad_input_raises_naming_the_file(data_copy: Path, key: str, alter, message: str) -> None:
    source = BY_KEY[key]
    path = materialise(data_copy / source.path)
    alter(pd.read_csv(path, low_memory=False)).to_csv(path, index=False)
    with pytest.raises(DataError, match=message) as info:
        load_source(source, data_copy, verify=False)
    assert source.path in str(info.value)


@pytest.mark.snapshot
def test_altered_file_fails_checksum(data_copy: Path) -> None:
    source = BY_KEY["mullenbach"]
    path = materialise(data_copy / source.path)
    path.write_text(path.read_text().replace("KFOR", "KFOR2"))
    with pytest.raises(DataError, match=f"{source.path}.*SHA-256"):
        load_source(source, data_copy)
