"""Geography loaders (CShapes border distances, capitals): the real snapshot and altered copies."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from helpers.data import materialise

from relapse.errors import DataError
from relapse.sources import crosswalks, load
from relapse.sources.base import load_source

pytestmark = pytest.mark.snapshot

MINDIST = crosswalks.MINDIST
CAPITALS = crosswalks.CAPITALS


@pytest.fixture(scope="module")
def mindist(data_dir: Path) -> pd.DataFrame:
    return load_source(MINDIST, data_dir).table


@pytest.fixture(scope="module")
def capitals(data_dir: Path) -> pd.DataFrame:
    return load_source(CAPITALS, data_dir).table


# --------------------------------------------------------------------------------------------
# Border distances


def test_mindist_has_both_directions_with_unique_keys(mindist: pd.DataFrame) -> None:
    assert mindist[["gwno", "gwno_other", "year"]].dtypes.eq("int64").all()
    assert not mindist.duplicated(["gwno", "gwno_other", "year"]).any()
    assert not (mindist["gwno"] == mindist["gwno_other"]).any()
    assert mindist["km"].between(0, 20_100).all()  # half the Earth's circumference
    # Each pair appears both ways with the same distance.
    mirrored = mindist.rename(columns={"gwno": "gwno_other", "gwno_other": "gwno"})
    both = mindist.merge(mirrored, on=["gwno", "gwno_other", "year"], suffixes=("", "_back"))
    assert len(both) == len(mindist)
    assert (both["km"] == both["km_back"]).all()


def test_mindist_known_facts(mindist: pd.DataFrame) -> None:
    km = mindist.set_index(["gwno", "gwno_other", "year"])["km"]
    # DR Congo and Uganda share a border; so do Sudan and South Sudan after 2011.
    assert km[(490, 500, 2000)] == 0 and km[(500, 490, 2000)] == 0
    assert km[(625, 626, 2012)] == 0
    assert (626, 625, 2010) not in km.index  # South Sudan did not exist yet
    # The United States and Canada touch; the United States and Australia do not.
    assert km[(2, 20, 2018)] == 0
    assert km[(2, 900, 2018)] > 5000
    # CShapes' Serbia 340 (from 2006) is 345, as in every other table: it borders Montenegro.
    assert not mindist[["gwno", "gwno_other"]].isin([340]).any().any()
    assert km[(345, 341, 2010)] == 0 and km[(345, 344, 2000)] == 0


def test_mindist_notes_and_vintage(data_dir: Path, mindist: pd.DataFrame) -> None:
    result = load_source(MINDIST, data_dir)
    assert result.notes["pairs_mirrored"] == result.raw_rows == len(mindist) // 2
    raw = pd.read_csv(data_dir / MINDIST.path)
    serbia = raw[["gwcode1", "gwcode2"]].isin([340]).any(axis=1).sum()
    assert result.notes["gw_recoded_rows"] == serbia > 0
    cut = load("gw_mindist", data_dir, vintage_year=1990)
    assert cut["year"].max() == 1990
    assert len(cut) == (mindist["year"] <= 1990).sum()


# --------------------------------------------------------------------------------------------
# Capitals


def test_capitals_unique_and_plausible(capitals: pd.DataFrame) -> None:
    assert capitals["gwno"].dtype == "int64"
    assert not capitals.duplicated(["gwno", "start"]).any()
    assert capitals["lat"].between(-90, 90).all() and capitals["lng"].between(-180, 180).all()
    ended = capitals.dropna(subset=["end"])
    assert (ended["end"] >= ended["start"]).all()
    # At most one capital period is open per state.
    assert capitals.loc[capitals["end"].isna()].groupby("gwno").size().max() == 1


def test_capitals_known_facts(capitals: pd.DataFrame) -> None:
    nigeria = capitals.loc[capitals["gwno"] == 475].set_index("capital")
    assert nigeria.loc["Lagos", "end"] == pd.Timestamp("1991-12-11")
    assert nigeria.loc["Abuja", "start"] == pd.Timestamp("1991-12-12")
    assert pd.isna(nigeria.loc["Abuja", "end"])
    abuja = nigeria.loc["Abuja"]
    assert 8 < abuja["lat"] < 10 and 7 < abuja["lng"] < 8


def test_capitals_vintage_drops_later_capitals_and_reopens_the_current(data_dir: Path) -> None:
    cut = load("gw_capitals", data_dir, vintage_year=1990)
    nigeria = cut.loc[cut["gwno"] == 475]
    assert nigeria["capital"].tolist() == ["Lagos"]
    assert pd.isna(nigeria["end"].iloc[0])  # its end lies after the vintage
    assert (cut["start"].dt.year <= 1990).all()
    assert not (cut["end"].dt.year > 1990).any()
    # Burundi moved its capital to Gitega in December 2018.
    assert "Gitega" not in set(load("gw_capitals", data_dir, vintage_year=2017)["capital"])
    assert "Gitega" in set(load("gw_capitals", data_dir)["capital"])


# --------------------------------------------------------------------------------------------
# Altered copies


def _edit_text(path: Path, change) -> None:
    materialise(path)
    path.write_text(change(path.read_text()))


def _append(line: str):
    return lambda text: text.rstrip("\n") + "\n" + line + "\n"


def _replace_header(old: str, new: str):
    def change(text: str) -> str:
        head, rest = text.split("\n", 1)
        return head.replace(old, new) + "\n" + rest

    return change


def _first_row(old: str, new: str):
    def change(text: str) -> str:
        head, first, rest = text.split("\n", 2)
        assert old in first
        return "\n".join([head, first.replace(old, new, 1), rest])

    return change


BAD_INPUTS = [
    (MINDIST, _replace_header("mindist", "distance"), r"missing column.*mindist"),
    (MINDIST, _append("2,20,1886,-4.0"), r"'mindist'.*-4"),
    (MINDIST, _append("2,twenty,1886,1.0"), r"'gwcode2'"),
    # The same pair listed the other way round with another distance.
    (MINDIST, _append("20,2,1886,12.5"), r"share a key"),
    (CAPITALS, _replace_header("lat", "latitude"), r"missing column.*lat"),
    (CAPITALS, _first_row("1816-01-01", "01/01/1816"), r"'stdate'"),
    (CAPITALS, _first_row("38.8950368", "north"), r"'lat'"),
    (CAPITALS, _first_row("-77.0365427", "-277.0"), r"'lng'"),
    (CAPITALS, _append("2,United States,Nowhere,2000-01-01,1999-01-01,1.0,1.0"), r"ends before"),
]


@pytest.mark.parametrize(
    ("source", "change", "message"),
    BAD_INPUTS,
    ids=[f"{s.key}-{m[:24]}" for s, _, m in BAD_INPUTS],
)
def test_bad_input_raises_data_error_naming_the_file(
    data_copy: Path, source, change, message
) -> None:
    _edit_text(data_copy / source.path, change)
    with pytest.raises(DataError, match=message) as info:
        load_source(source, data_copy, verify=False)
    assert str(info.value).startswith(source.path)


def test_a_pair_listed_both_ways_with_one_distance_is_kept_once(data_copy: Path) -> None:
    _edit_text(data_copy / MINDIST.path, _append("20,2,1886,0.0"))
    table = load_source(MINDIST, data_copy, verify=False).table
    assert len(table.query("gwno == 2 and gwno_other == 20 and year == 1886")) == 1
