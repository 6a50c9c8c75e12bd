"""Mission features: known cases on the snapshot, vintage invariance, and a hand-made case."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers.data import builder_args

from relapse.config import compose_config
from relapse.features import mission
from relapse.panel import build_spine
from relapse.sources import get_source, load_tables
from relapse.sources.base import cut_to_vintage

LAST_YEAR = 2018


@pytest.fixture(scope="module")
def cfg():
    return compose_config()


@pytest.fixture(scope="module")
def tables(data_dir: Path) -> dict[str, pd.DataFrame]:
    loaded = load_tables([*mission.SOURCES_USED, "gw_states"], data_dir)
    loaded["spine"] = build_spine(loaded.pop("gw_states"), 1946, LAST_YEAR)
    return loaded


@pytest.fixture(scope="module")
def features(tables: dict[str, pd.DataFrame], cfg) -> pd.DataFrame:
    return mission.build(*builder_args(tables), cfg)


def _at(features: pd.DataFrame, gwno: int, year: int) -> pd.Series:
    return features.loc[(features["gwno"] == gwno) & (features["year"] == year)].iloc[0]


@pytest.mark.snapshot
def test_one_float_row_per_spine_row(features: pd.DataFrame, tables, cfg) -> None:
    spine = tables["spine"]
    assert list(features.columns) == ["gwno", "year", *mission.FEATURES]
    assert len(features) == len(spine)
    assert (features[["gwno", "year"]].to_numpy() == spine[["gwno", "year"]].to_numpy()).all()
    assert (features[list(mission.FEATURES)].dtypes == "float64").all()
    registry = {
        k for k, s in cfg.features.registry.items() if k.startswith("mis_") and s.age_of is None
    }
    assert registry == set(mission.FEATURES)


@pytest.mark.snapshot
@pytest.mark.parametrize(
    ("gwno", "year", "expected"),
    [
        (451, 2001, {"mis_un_present": 1, "mis_nonun_present": 0}),  # UNAMSIL
        (450, 2005, {"mis_un_present": 1, "mis_mandate_type": 4}),  # UNMIL
        (345, 1999, {"mis_nonun_present": 1, "mis_un_present": 1}),  # KFOR, UNMIK
        (345, 2010, {"mis_nonun_present": 1}),
        (41, 2005, {"mis_un_present": 1}),  # MINUSTAH
        (41, 2018, {"mis_un_present": 1, "mis_un_ended_recent": 1}),  # MINUSTAH ended 2017
        (
            540,
            2005,
            {
                "mis_un_present": 0,
                "mis_nonun_present": 0,
                "mis_personnel": 0,
                "mis_years_deployed": 0,
                "mis_locations": 0,
            },
        ),
        (432, 2018, {"mis_un_present": 1}),  # MINUSMA, after the personnel sources end
        (352, 2010, {"mis_un_present": 1, "mis_mandate_type": 2}),  # UNFICYP
    ],
)
def test_known_cases(features: pd.DataFrame, gwno: int, year: int, expected: dict) -> None:
    row = _at(features, gwno, year)
    for column, value in expected.items():
        assert row[column] == value, column


@pytest.mark.snapshot
@pytest.mark.parametrize(("gwno", "year"), [(451, 2001), (450, 2005)])
def test_large_un_missions_have_thousands_of_troops(features, gwno: int, year: int) -> None:
    row = _at(features, gwno, year)
    assert row["mis_personnel"] > 5000
    assert 0 < row["mis_personnel_per_1000"] < 20
    assert row["mis_locations"] > 10


@pytest.mark.snapshot
def test_kfor_years_and_coverage_limits(features: pd.DataFrame) -> None:
    serbia = features.loc[features["gwno"] == 345].set_index("year")
    assert (serbia.loc[1999:2016, "mis_nonun_present"] == 1).all()
    assert serbia.loc[2017:2018, "mis_nonun_present"].isna().all()
    assert serbia.loc[2000:2007, "mis_personnel"].gt(1000).all()  # UNMIK police, before 2008
    assert features.loc[features["year"] < 1947, "mis_un_present"].isna().all()


@pytest.mark.snapshot
def test_mandate_after_doyle_sambanis(features: pd.DataFrame) -> None:
    """After 2010: the 2010 type while the same UN missions stay, unknown for newer ones."""
    assert (
        _at(features, 490, 2018)["mis_mandate_type"] == _at(features, 490, 2010)["mis_mandate_type"]
    )
    assert _at(features, 660, 2018)["mis_mandate_type"] == 2  # UNIFIL, traditional
    assert np.isnan(_at(features, 432, 2018)["mis_mandate_type"])  # MINUSMA, from 2013
    assert np.isnan(_at(features, 482, 2018)["mis_mandate_type"])  # MINUSCA, from 2014
    assert _at(features, 540, 2018)["mis_mandate_type"] == 0  # no UN mission


@pytest.mark.snapshot
@pytest.mark.parametrize(
    ("gwno", "mission_name", "size_2018"),
    [
        (660, "UNIFIL", 10476),
        (490, "MONUSCO", 16781),
        (626, "UNMISS", 15846),
        (432, "MINUSMA", 13885),
    ],
)
def test_mission_size_spliced_to_contributions(
    features: pd.DataFrame, tables, gwno: int, mission_name: str, size_2018: int
) -> None:
    """Older series in their years, raw contribution sums after them, 2017 unknown."""
    c = tables["un_contributions"]
    assert c.loc[(c["mission"] == mission_name) & (c["year"] == 2018), "total"].sum() == size_2018
    assert _at(features, gwno, 2018)["mis_personnel"] == size_2018
    assert np.isnan(_at(features, gwno, 2017)["mis_personnel"])  # incomplete 2017 release
    pers = tables["un_personnel"]
    dec = pers.loc[(pers["gwno"] == gwno) & (pers["year"] == 2014) & (pers["month"] == 12)]
    older = dec.drop_duplicates("mission")[["troops", "police", "observers"]].sum().sum()
    assert _at(features, gwno, 2014)["mis_personnel"] == older


def test_incomplete_contribution_years_are_not_used() -> None:
    totals = {2010: 10, 2011: 100, 2012: 95, 2013: 70, 2014: 110}
    c = pd.DataFrame({"year": list(totals), "total": list(totals.values())})
    # 2010 has no earlier year; 2013 is below 80 % of the median of 2010-2012 (95).
    assert mission._usable_contribution_years(c) == [2011, 2012, 2014]


@pytest.mark.snapshot
@pytest.mark.parametrize("vintage", [2000, 2012, 2017])
def test_vintage_invariance(tables, features: pd.DataFrame, cfg, vintage: int) -> None:
    cut = {
        key: (table if key == "spine" else cut_to_vintage(table, get_source(key), vintage))
        for key, table in tables.items()
    }
    early = mission.build(*builder_args(cut), cfg)
    keep = features["year"] <= vintage - 1
    pd.testing.assert_frame_equal(
        early.loc[keep].reset_index(drop=True), features.loc[keep].reset_index(drop=True)
    )


def _toy_tables() -> dict[str, pd.DataFrame]:
    """One country (GW 999), 2000–2003, a mission repeated over two conflict episodes."""
    months = [(y, m) for y in (2000, 2001) for m in range(1, 13)]
    bh = pd.DataFrame(
        [
            {
                "gwno": 999,
                "year": y,
                "month": m,
                "mission": "TOY",
                "missionid": 1,
                "org": 1,
                "un": 1,
                "onlypolice": 0,
                "activity": 0,
                "troops": 100.0 * (y - 1999),
                "police": 10.0,
                "observers": 5.0,
                "conflictid": 1,
                "episodenum": ep,
                "incomp": 1,
                "location": "Toyland",
            }
            for y, m in months
            for ep in (101, 102)
        ]
        # The mission leaves in June 2002: present that year, no one left at year end.
        + [
            {
                "gwno": 999,
                "year": 2002,
                "month": m,
                "mission": "TOY",
                "missionid": 1,
                "org": 1,
                "un": 1,
                "onlypolice": 0,
                "activity": 0,
                "troops": 50.0,
                "police": 0.0,
                "observers": 0.0,
                "conflictid": 1,
                "episodenum": 101,
                "incomp": 1,
                "location": "Toyland",
            }
            for m in range(1, 7)
        ]
    )
    empty_personnel = pd.DataFrame(
        {
            c: pd.Series(dtype=float)
            for c in (
                "gwno",
                "year",
                "month",
                "troops",
                "police",
                "observers",
                "auth_total",
                "total",
            )
        }
    ).assign(mission=pd.Series(dtype=object))
    mission_list = pd.DataFrame(
        {
            "mission": ["TOY"],
            "mission_name": ["Toy"],
            "gwno": [999],
            "iso3": ["TOY"],
            "start_date": [pd.Timestamp("2000-01-01")],
            "end_date": [pd.Timestamp("2002-06-30")],
            "is_active": [0],
            "location": ["Toy City"],
        }
    )
    geopko = pd.DataFrame(
        {
            "map": ["M1", "M1", "M2"],
            "mission": "TOY",
            "year": [2001, 2001, 2001],
            "month": [3, 3, 11],
            "location": ["A", "B", "A"],
            "entry": 1,
            "country": "Toyland",
            "gwno": 999,
            "latitude": 0.0,
            "longitude": [0.0, 1.0, 0.0],
            "no_troops": 10.0,
            "fpu": [0, 1, 0],
        }
    )
    contributions = pd.DataFrame(
        {
            "contributor": ["X"],
            "mission": ["TOY"],
            "year": [2001],
            "female": [0],
            "male": [1],
            "total": [1],
        }
    )
    mullenbach = pd.DataFrame(
        {"gwno": [998], "tptype": [2], "start_year": [1999], "end_year": pd.array([2001], "Int64")}
    )
    ds = pd.DataFrame({"gwno": [999], "year": [2001], "ds_ordinal": [3]})
    spine = pd.DataFrame({"gwno": 999, "year": np.arange(2000, 2004)}).astype("int64")
    population = pd.DataFrame(
        {"gwno": 999, "year": np.arange(1999, 2004), "population": 1_000_000.0}
    )
    return {
        "bara_hultman": bh,
        "un_personnel": empty_personnel,
        "geopko": geopko,
        "un_mission_list": mission_list,
        "un_contributions": contributions,
        "mullenbach": mullenbach,
        "doyle_sambanis": ds,
        "wdi_population": population,
        "spine": spine,
    }


def test_toy_monthly_to_annual_and_episode_duplicates(cfg) -> None:
    out = mission.build(*builder_args(_toy_tables()), cfg).set_index("year")
    # Each mission-month appears once per episode: counted once, December value.
    assert out.loc[2000, "mis_personnel"] == 115.0
    assert out.loc[2001, "mis_personnel"] == 215.0
    assert out.loc[2001, "mis_personnel_per_1000"] == pytest.approx(0.215)
    # Left in June 2002: deployed during the year, nobody at year end, ended "recently".
    assert out.loc[2002, "mis_un_present"] == 1.0
    assert out.loc[2002, "mis_personnel"] == 0.0
    assert out.loc[[2002, 2003], "mis_un_ended_recent"].tolist() == [1.0, 1.0]
    assert out.loc[2003, "mis_un_present"] == 0.0
    # No non-UN source covers 2003 (the toy sources end in 2002): presence there is unknown.
    assert np.isnan(out.loc[2003, "mis_nonun_present"])
    # Years deployed follow the mission list's dates (2000 to June 2002).
    assert out["mis_years_deployed"].tolist() == [1.0, 2.0, 3.0, 0.0]
    # Only the latest map of the year counts (one location, no formed police unit there).
    assert out.loc[2001, "mis_locations"] == 1.0
    assert out.loc[2001, "mis_fpu_present"] == 0.0
    assert out.loc[2001, "mis_mandate_type"] == 3.0
    assert np.isnan(out.loc[2000, "mis_mandate_type"])  # before the toy DS coverage
    assert out.loc[2001, "mis_contributors"] == 1.0
