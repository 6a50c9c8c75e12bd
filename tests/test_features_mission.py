"""Mission features: known cases on the snapshot, vintage invariance, and a hand-made case."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from relapse.config import compose_config
from relapse.features import mission
from relapse.panel import build_spine
from relapse.sources import get_source, load_tables
from relapse.sources.base import cut_to_vintage

LAST_YEAR = 2018


@pytest.fixture(scope="module")
def cfg():
    return compose_config("build")


@pytest.fixture(scope="module")
def tables(data_dir: Path) -> dict[str, pd.DataFrame]:
    loaded = load_tables([*mission.SOURCES_USED, "gw_states"], data_dir)
    loaded["spine"] = build_spine(loaded.pop("gw_states"), 1946, LAST_YEAR)
    return loaded


@pytest.fixture(scope="module")
def features(tables: dict[str, pd.DataFrame], cfg) -> pd.DataFrame:
    return mission.build(tables, cfg)


def _at(features: pd.DataFrame, gwno: int, year: int) -> pd.Series:
    return features.loc[(features["gwno"] == gwno) & (features["year"] == year)].iloc[0]


@pytest.mark.snapshot
def test_one_float_row_per_spine_row(features: pd.DataFrame, tables, cfg) -> None:
    spine = tables["spine"]
    assert list(features.columns) == ["gwno", "year", *mission.FEATURES]
    assert len(features) == len(spine)
    assert (features[["gwno", "year"]].to_numpy() == spine[["gwno", "year"]].to_numpy()).all()
    assert (features[list(mission.FEATURES)].dtypes == "float64").all()
    registry = {k for k in cfg.features.registry if k.startswith("mis_")}
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
                "mis_troops": 0,
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
    assert row["mis_troops"] > 5000
    assert 0 < row["mis_troops_per_1000"] < 20
    assert row["mis_locations"] > 10


@pytest.mark.snapshot
def test_kfor_years_and_coverage_limits(features: pd.DataFrame) -> None:
    serbia = features.loc[features["gwno"] == 345].set_index("year")
    assert (serbia.loc[1999:2016, "mis_nonun_present"] == 1).all()
    assert serbia.loc[2017:2018, "mis_nonun_present"].isna().all()
    assert serbia.loc[1999:2016, "mis_troops"].gt(1000).all()
    assert features.loc[features["year"] < 1947, "mis_un_present"].isna().all()
    assert features.loc[features["year"] > 2010, "mis_mandate_type"].isna().all()


@pytest.mark.snapshot
@pytest.mark.parametrize("vintage", [2000, 2012, 2017])
def test_vintage_invariance(tables, features: pd.DataFrame, cfg, vintage: int) -> None:
    cut = {
        key: (table if key == "spine" else cut_to_vintage(table, get_source(key), vintage))
        for key, table in tables.items()
    }
    early = mission.build(cut, cfg)
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
    out = mission.build(_toy_tables(), cfg).set_index("year")
    # Each mission-month appears once per episode: counted once, December value.
    assert out.loc[2000, "mis_troops"] == 100.0
    assert out.loc[2001, "mis_troops"] == 200.0
    assert out.loc[2001, "mis_troops_per_1000"] == pytest.approx(0.2)
    # Left in June 2002: deployed during the year, nobody at year end, ended "recently".
    assert out.loc[2002, "mis_un_present"] == 1.0
    assert out.loc[2002, "mis_troops"] == 0.0
    assert out.loc[[2002, 2003], "mis_un_ended_recent"].tolist() == [1.0, 1.0]
    assert out.loc[2003, "mis_un_present"] == 0.0
    # No non-UN source covers 2003 (the toy sources end in 2002): presence there is unknown.
    assert np.isnan(out.loc[2003, "mis_nonun_present"])
    assert out["mis_years_deployed"].tolist()[:3] == [1.0, 2.0, 3.0]
    assert np.isnan(out.loc[2003, "mis_years_deployed"])
    # Only the latest map of the year counts (one location, no formed police unit there).
    assert out.loc[2001, "mis_locations"] == 1.0
    assert out.loc[2001, "mis_fpu_present"] == 0.0
    assert out.loc[2001, "mis_mandate_type"] == 3.0
    assert np.isnan(out.loc[2000, "mis_mandate_type"])  # before the toy DS coverage
    assert out.loc[2001, "mis_contributors"] == 1.0
