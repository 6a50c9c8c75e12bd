"""UCDP battle-deaths and organised-violence loaders: the real snapshot and altered copies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from helpers.data import materialise

from relapse.errors import DataError
from relapse.sources import conflict
from relapse.sources.base import load_source

pytestmark = pytest.mark.snapshot

BRD = conflict.BATTLE_DEATHS
OV = conflict.ORGANIZED_VIOLENCE


@pytest.fixture(scope="module")
def brd(data_dir: Path) -> pd.DataFrame:
    return load_source(BRD, data_dir).table


@pytest.fixture(scope="module")
def ov(data_dir: Path) -> pd.DataFrame:
    return load_source(OV, data_dir).table


# --------------------------------------------------------------------------------------------
# Battle-related deaths


def test_brd_unique_dyad_years_and_plausible_deaths(brd: pd.DataFrame) -> None:
    assert len(brd) > 1000
    assert not brd.duplicated(["dyad_id", "year"]).any()
    assert brd["year"].between(1989, 2018).all()
    # Low and high bounds are not always ordered around the best estimate in UCDP's file
    # (5 rows of v25.1), so only their scale is checked.
    assert (brd["bd_low"] <= 1.5 * brd["bd_best"]).all()
    assert brd["bd_best"].max() < 100_000
    assert brd["type_of_conflict"].isin([2, 3, 4]).all()
    # Every conflict-year reaches UCDP's threshold over its dyads.
    assert (brd.groupby(["conflict_id", "year"])["bd_best"].sum() >= 25).all()


def test_brd_lists_are_normalised_gw_codes(brd: pd.DataFrame) -> None:
    for column in ("gwno_loc", "gwno_battle"):
        assert brd[column].str.fullmatch(r"\d+(,\d+)*").all()
        expanded = conflict.expand_gw_list(brd, column, BRD.path)
        assert expanded["gwno"].dtype == "int64"
        assert not (expanded["gwno"] == 340).any()  # Serbia is 345


def test_brd_known_facts(brd: pd.DataFrame) -> None:
    row = brd.set_index(["dyad_id", "year"])
    # Syria, government vs Syrian insurgents, 2013.
    assert row.loc[(11973, 2013), "bd_best"] == 70516
    assert row.loc[(11973, 2013), "conflict_id"] == 299
    # Uganda vs ADF (conflict 314): Uganda's conflict, fought in DR Congo in 2014.
    adf = row.loc[(689, 2014)]
    assert (adf["gwno_loc"], adf["gwno_battle"], adf["bd_best"]) == ("500", "490", 835)
    assert row.loc[(689, 1996), "gwno_battle"] == "490,500"
    # Interstate: South Sudan vs Sudan 2012 lists both governments as location.
    assert brd.query("conflict_id == 11348 and year == 2012")["gwno_loc"].iloc[0] == "625,626"


def test_brd_counts_battles_elsewhere_and_cuts_to_vintage(data_dir: Path) -> None:
    result = load_source(BRD, data_dir)
    table = result.table
    assert (
        result.notes["battle_elsewhere_rows"] == (table["gwno_loc"] != table["gwno_battle"]).sum()
    )
    assert result.notes["battle_elsewhere_rows"] > 50
    cut = load_source(BRD, data_dir, vintage_year=2010).table
    assert cut["year"].max() == 2010
    assert len(cut) == (table["year"] <= 2010).sum()


# --------------------------------------------------------------------------------------------
# Organised violence (GED-based)


def test_ov_one_row_per_country_year_with_int_gwno(ov: pd.DataFrame) -> None:
    assert ov["gwno"].dtype == "int64"
    assert not ov.duplicated(["gwno", "year"]).any()
    assert ov["year"].between(1989, 2018).all()
    assert not (ov["gwno"] == 340).any()
    deaths = [c for c in ov.columns if c.endswith("deaths")]
    assert (ov[deaths] >= 0).all().all()
    assert (ov["sb_intrastate_deaths"] <= ov["sb_deaths"]).all()
    assert (ov["os_govt_deaths"] + ov["os_nsgroup_deaths"] <= ov["os_deaths"]).all()
    # Zeros included: every year has a row for most states.
    assert ov.groupby("year").size().min() > 150


def test_ov_known_facts(ov: pd.DataFrame) -> None:
    row = ov.set_index(["gwno", "year"])
    # The Rwandan genocide: one-sided violence, 1994.
    assert row.loc[(517, 1994), "os_deaths"] == 770581
    assert row.loc[(517, 1994), "os_govt_deaths"] > 500_000
    assert row.loc[(517, 1994), "sb_deaths"] == 1882
    # Serbia after 2006 is 345, as in UCDP.
    assert (345, 2010) in row.index


def test_ov_notes_count_rows_below_the_threshold(data_dir: Path) -> None:
    """The rows a feature must not use (a count below 25 can exist only because the dyad
    reached 25 later) are counted in the load notes, straight from the raw file."""
    raw = pd.read_csv(
        data_dir / OV.path, usecols=["ns_total_deaths_best_cy", "os_total_deaths_best_cy"]
    )
    notes = load_source(OV, data_dir).notes
    for column, note in (
        ("ns_total_deaths_best_cy", "ns_deaths_below_threshold_rows"),
        ("os_total_deaths_best_cy", "os_deaths_below_threshold_rows"),
    ):
        below = raw[column].between(1, conflict.GED_THRESHOLD - 1).sum()
        assert notes[note] == below > 0


def test_ov_cuts_to_vintage(data_dir: Path, ov: pd.DataFrame) -> None:
    cut = load_source(OV, data_dir, vintage_year=2005).table
    assert cut["year"].max() == 2005
    assert len(cut) == (ov["year"] <= 2005).sum()


# --------------------------------------------------------------------------------------------
# Altered copies


def _edit(path: Path, change: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    materialise(path)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    change(df).to_csv(path, index=False)


def _rename(old: str, new: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda df: df.rename(columns={old: new})


def _set(column: str, value: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[df.index[0], column] = value
        return df

    return change


def _duplicate_row(index: int) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda df: pd.concat([df, df.iloc[[index]]], ignore_index=True)


BAD_INPUTS = [
    (BRD, _rename("gwno_battle", "battle_gwno"), r"missing column.*gwno_battle"),
    (BRD, _set("bd_best", "many"), r"'bd_best'"),
    (BRD, _set("bd_best", "-5"), r"'bd_best'.*greater_than_or_equal"),
    (BRD, _set("gwno_battle", "DR Congo"), r"'gwno_battle'"),
    (BRD, _set("type_of_conflict", "7"), r"'type_of_conflict'"),
    (BRD, _duplicate_row(10), r"unique|share a key"),
    (BRD, _set("year", "2150"), r"'year'.*2150"),
    (OV, _rename("ns_total_deaths_best_cy", "ns_deaths"), r"missing column.*ns_total_deaths"),
    (OV, _set("os_total_deaths_best_cy", "-3"), r"'os_total_deaths_best_cy'.*-3"),
    (OV, _set("sb_total_deaths_best_cy", "lots"), r"'sb_total_deaths_best_cy'"),
    (OV, _set("country_id_cy", "Afghanistan"), r"'country_id_cy'"),
    (OV, _duplicate_row(3), r"unique|share a key"),
]


@pytest.mark.parametrize(
    ("source", "change", "message"),
    BAD_INPUTS,
    ids=[f"{s.key}-{m[:24]}" for s, _, m in BAD_INPUTS],
)
def test_bad_input_raises_data_error_naming_the_file(
    data_copy: Path, source, change: Callable[[pd.DataFrame], pd.DataFrame], message: str
) -> None:
    _edit(data_copy / source.path, change)
    with pytest.raises(DataError, match=message) as info:
        load_source(source, data_copy, verify=False)
    assert str(info.value).startswith(source.path)
