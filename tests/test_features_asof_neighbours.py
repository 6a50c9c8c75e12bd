"""The as-of rule of the assembler, and the neighbourhood and organised-violence features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from relapse.features import carry_forward, neighbours


def _series(values: list[float], first: int = 2000, gwno: int = 1) -> pd.DataFrame:
    years = np.arange(first, first + len(values))
    return pd.DataFrame({"gwno": gwno, "year": years, "x": values})


def test_carry_forward_uses_only_earlier_values_within_the_limit() -> None:
    values = _series([1.0, np.nan, np.nan, np.nan, 5.0, np.nan])
    carried, ages = carry_forward(values, ["x"], {"x": 2})
    np.testing.assert_array_equal(carried["x"], [1.0, 1.0, 1.0, np.nan, 5.0, 5.0])
    # 2003's value would be three years old: beyond the limit.
    assert ages["x"].tolist()[:3] == [0.0, 1.0, 2.0]
    assert np.isnan(ages["x"][3]) and ages["x"][4] == 0.0 and ages["x"][5] == 1.0


def test_carry_forward_never_reads_later_years_or_other_countries() -> None:
    values = pd.concat([_series([np.nan, np.nan, 3.0]), _series([7.0, np.nan, np.nan], gwno=2)])
    values = values.sample(frac=1.0, random_state=0)  # order must not matter
    carried, ages = carry_forward(values, ["x"], {"x": 5})
    got = carried.assign(age=ages["x"]).set_index(["gwno", "year"]).sort_index()
    assert np.isnan(got.loc[(1, 2000), "x"])  # 3.0 is from 2002: never carried backwards
    assert np.isnan(got.loc[(1, 2001), "x"])
    assert got.loc[(2, 2002), "x"] == 7.0 and got.loc[(2, 2002), "age"] == 2.0
    # A vintage cut changes nothing before it.
    early, _ = carry_forward(values.loc[values["year"] <= 2001], ["x"], {"x": 5})
    early = early.set_index(["gwno", "year"]).sort_index()
    pd.testing.assert_series_equal(early["x"], got.loc[early.index, "x"])


def test_zero_limit_carries_nothing() -> None:
    carried, ages = carry_forward(_series([1.0, np.nan]), ["x"], {"x": 0})
    assert np.isnan(carried["x"][1]) and np.isnan(ages["x"][1]) and ages["x"][0] == 0.0


@pytest.mark.snapshot
def test_assembled_panel_obeys_max_age(data_dir) -> None:
    """On the snapshot: ages within the configured limit and the age features their maximum."""
    from relapse.build import make_panel
    from relapse.config import compose_config
    from relapse.features import age_features, max_age

    cfg = compose_config([f"paths.data_dir={data_dir}", "features.families=[services]"])
    panel = make_panel(cfg).frame
    limit = max(max_age(cfg, m) for m in age_features(cfg)["srv_data_age"])
    assert panel["srv_data_age"].max() <= limit
    # Infant mortality (Gapminder ends 2016) is carried into 2018, two years old.
    at_2018 = panel.loc[panel["year"] == 2018]
    assert at_2018["srv_infant_mortality"].notna().mean() > 0.9
    assert (at_2018["srv_data_age"].dropna() >= 1).all()


def test_neighbour_counts_and_contiguity() -> None:
    spine = pd.DataFrame({"gwno": [1, 2, 3], "year": 2000})
    active = pd.DataFrame({"gwno": [1, 2, 3], "year": 2000, "active": [0, 1, 1]})
    dist = pd.DataFrame(
        {
            "gwno": [1, 1, 2, 3],
            "gwno_other": [2, 3, 1, 1],
            "year": 2000,
            "km": [0.0, 50.0, 0.0, 50.0],
        }
    )
    wide = neighbours.neighbour_conflict(spine, active, dist, 100.0)
    assert wide["nbr_conflict_count"].tolist() == [2.0, 0.0, 0.0]
    assert wide["nbr_conflict_share"].tolist() == [1.0, 0.0, 0.0]
    land = neighbours.neighbour_conflict(spine, active, dist, 0.0)
    assert land["nbr_conflict_count"].tolist() == [1.0, 0.0, 0.0]


def _violence(ns: list[int], os_: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"gwno": 1, "year": [1989, 1990, 1991], "ns_deaths": ns, "os_deaths": os_})


def _leaky(spine: pd.DataFrame, violence: pd.DataFrame) -> pd.DataFrame:
    """What a careless builder would do: log deaths as published, small counts included."""
    out = violence.set_index("year")[["ns_deaths", "os_deaths"]].reindex(spine["year"])
    return np.log1p(out.astype(float)).set_axis(spine.index)


@pytest.mark.parametrize("build", [neighbours.organised_violence, _leaky])
def test_sub_threshold_counts_cannot_move_the_feature(build) -> None:
    """GED keeps a sub-25 count only if the dyad escalated later: it must not matter."""
    spine = pd.DataFrame({"gwno": 1, "year": [1989, 1990, 1991]})
    base = build(spine, _violence([0, 30, 0], [0, 0, 40])).to_numpy()
    # The same years with small counts added, as a later escalation would make GED list them.
    later = build(spine, _violence([12, 30, 24], [3, 24, 40])).to_numpy()
    unchanged = np.array_equal(base, later, equal_nan=True)
    assert unchanged == (build is neighbours.organised_violence)
    if unchanged:
        assert base[1, 0] == pytest.approx(np.log1p(30)) and base[0, 0] == 0.0


def test_organised_violence_missing_before_the_data() -> None:
    spine = pd.DataFrame({"gwno": 1, "year": [1988, 1989]})
    out = neighbours.organised_violence(spine, _violence([0, 0, 0], [0, 0, 0]))
    assert np.isnan(out.iloc[0]).all() and (out.iloc[1] == 0).all()
