"""Spine, population and labels on a toy history where every label is counted by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from relapse.config import compose_config
from relapse.panel import build_base_panel, build_spine, conflict_history

LAST_UPDATE = "2017-12-31"


def _states() -> pd.DataFrame:
    rows = [
        (100, "AAA", "Alphaland", "1990-01-01", LAST_UPDATE),
        (200, "BBB", "Betaland", "1990-01-01", LAST_UPDATE),
        (300, "CCC", "Gammaland", "1990-01-01", LAST_UPDATE),
        # A split state: 626 secedes from 625 in mid-2011 (like South Sudan).
        (625, "SUD", "Sudan", "1956-01-01", LAST_UPDATE),
        (626, "SSD", "South Sudan", "2011-07-09", LAST_UPDATE),
        # A state that leaves the system in 2008 (like the GDR in 1990).
        (265, "GDR", "Eastland", "1949-10-05", "2008-10-02"),
    ]
    df = pd.DataFrame(rows, columns=["gwno", "stateabb", "statename", "startdate", "enddate"])
    df["startdate"] = pd.to_datetime(df["startdate"])
    df["enddate"] = pd.to_datetime(df["enddate"])
    return df


def _acd() -> pd.DataFrame:
    """Conflict-years already expanded to one row per location (as the loader returns)."""
    rows = [
        # conflict, year, gwno, type, intensity
        (1, 2001, 100, 3, 1),
        (1, 2002, 100, 3, 2),
        (1, 2006, 100, 4, 1),  # the same conflict restarts: a relapse
        (2, 2003, 200, 3, 1),  # one conflict located in two countries ("200, 300")
        (2, 2003, 300, 3, 1),
        (3, 2011, 300, 3, 1),  # a different conflict, running to the last year
        (3, 2012, 300, 3, 1),
        (4, 2004, 625, 3, 1),
        (4, 2005, 625, 3, 1),
        (5, 2012, 626, 3, 1),  # conflict in the new state must not count for 625
        (6, 2005, 265, 3, 1),
        (7, 2008, 200, 2, 1),  # interstate: not internal, ignored by default
    ]
    df = pd.DataFrame(
        rows, columns=["conflict_id", "year", "gwno", "type_of_conflict", "intensity_level"]
    )
    return df


def _codes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "iso3": ["AAA", "BBB", "CCC", "SDN", "SSD", "DDR"],
            "country": ["Alphaland", "Betaland", "Gammaland", "Sudan", "South Sudan", "Eastland"],
            "gwno": pd.array([100, 200, 300, 625, 626, 265], dtype="Int64"),
        }
    )


def _panel(*overrides: str) -> pd.DataFrame:
    cfg = compose_config(["target.first_year=2000", "target.horizons=[1,2]", *overrides])
    tables = {"ucdp_acd": _acd(), "gw_states": _states(), "country_codes": _codes()}
    return build_base_panel(tables, cfg).frame.set_index(["gwno", "year"]).sort_index()


NA = None
# Hand-counted labels (h1, h2) for every population row; rows not listed are outside it.
EXPECTED_COUNTRY: dict[tuple[int, int], tuple[int | None, int | None]] = {
    # Alphaland: active 2001-02 and 2006.
    (100, 2003): (0, 0),
    (100, 2004): (0, 1),
    (100, 2005): (1, 1),
    (100, 2007): (0, 0),
    (100, 2008): (0, 0),
    (100, 2009): (0, 0),
    (100, 2010): (0, 0),
    (100, 2011): (0, NA),
    (100, 2012): (NA, NA),
    # Betaland: active 2003 only (the 2008 interstate war does not count).
    **{(200, y): (0, 0) for y in range(2004, 2011)},
    (200, 2011): (0, NA),
    (200, 2012): (NA, NA),
    # Gammaland: active 2003, then 2011-12 (a different conflict).
    **{(300, y): (0, 0) for y in range(2004, 2009)},
    (300, 2009): (0, 1),
    (300, 2010): (1, 1),
    # Sudan: active 2004-05; South Sudan's 2012 conflict is not Sudan's.
    **{(625, y): (0, 0) for y in range(2006, 2011)},
    (625, 2011): (0, NA),
    (625, 2012): (NA, NA),
    # Eastland: active 2005, leaves the system in 2008: labels past 2008 are unknown.
    (265, 2006): (0, 0),
    (265, 2007): (0, NA),
    (265, 2008): (NA, NA),
}


def test_population_is_exactly_the_hand_counted_rows() -> None:
    panel = _panel()
    population = set(panel.index[panel["in_population"]])
    assert population == set(EXPECTED_COUNTRY)


@pytest.mark.parametrize(("key", "expected"), sorted(EXPECTED_COUNTRY.items()))
def test_country_level_labels_counted_by_hand(key, expected) -> None:
    panel = _panel()
    got = tuple(
        None if pd.isna(v) else int(v) for v in panel.loc[key, ["relapse_h1", "relapse_h2"]]
    )
    assert got == expected


def test_labels_missing_on_active_rows_defined_on_every_non_active_row() -> None:
    panel = _panel()
    active = panel.loc[panel["active"], ["relapse_h1", "relapse_h2"]]
    assert active.isna().all().all()
    # Alphaland 2000 has never been in conflict (onset): conflict 1 begins in 2001.
    assert panel.loc[(100, 2000), "risk_type"] == "onset"
    assert tuple(int(v) for v in panel.loc[(100, 2000), ["relapse_h1", "relapse_h2"]]) == (1, 1)
    assert panel.loc[(100, 2000), "years_at_peace"] == 0


def test_risk_type_and_years_at_peace() -> None:
    panel = _panel()
    assert panel.loc[panel["active"], "risk_type"].isna().all()
    assert panel.loc[panel["active"], "years_at_peace"].isna().all()
    pop = panel["in_population"]
    assert (panel.loc[pop, "risk_type"] == "relapse").all()
    assert (panel.loc[pop, "years_at_peace"] == panel.loc[pop, "years_since_conflict"]).all()
    never = ~panel["active"] & panel["last_active_year"].isna()
    assert (panel.loc[never, "risk_type"] == "onset").all()
    renewed = ~panel["active"] & ~pop & panel["last_active_year"].notna()
    assert (panel.loc[renewed, "risk_type"] == "renewed").all()


def test_censoring_no_label_past_last_year() -> None:
    panel = _panel().reset_index()
    for h in (1, 2):
        past = panel["year"] + h > 2012
        assert panel.loc[past, f"relapse_h{h}"].isna().all()


def test_conflict_level_counts_only_the_same_conflict() -> None:
    panel = _panel("target.level=conflict")
    # Alphaland relapses into the same conflict 1 in 2006.
    assert int(panel.loc[(100, 2005), "relapse_h1"]) == 1
    # Gammaland's 2011 war is a new conflict (3), not conflict 2 restarting.
    assert int(panel.loc[(300, 2010), "relapse_h1"]) == 0
    assert int(panel.loc[(300, 2009), "relapse_h2"]) == 0


def test_window_limits_population() -> None:
    panel = _panel("target.window_years=3")
    betaland = panel.loc[200]
    assert betaland.index[betaland["in_population"]].tolist() == [2004, 2005, 2006]


def test_conflict_types_are_configurable() -> None:
    panel = _panel("target.conflict_types=[2,3,4]")
    # Now Betaland's 2008 interstate war counts: 2007 relapses within a year.
    assert bool(panel.loc[(200, 2008), "active"])
    assert int(panel.loc[(200, 2007), "relapse_h1"]) == 1


def test_spine_follows_state_system() -> None:
    spine = build_spine(_states(), 2000, 2012)
    years = spine.groupby("gwno")["year"].agg(["min", "max"])
    assert tuple(years.loc[626]) == (2011, 2012)  # from independence
    assert tuple(years.loc[265]) == (2000, 2008)  # to its last year
    assert tuple(years.loc[100]) == (2000, 2012)  # "still a state" runs to the data's end
    assert not spine.duplicated(["gwno", "year"]).any()


def test_history_uses_only_past_years() -> None:
    panel = _panel()
    # Alphaland in 2004: one past episode, two years long, reached war intensity.
    row = panel.loc[(100, 2004)]
    assert (row["n_spells"], row["spell_length"], row["spell_max_intensity"]) == (1, 2, 2)
    assert int(row["years_since_conflict"]) == 2
    assert int(row["war_years"]) == 1


def test_multi_country_conflict_counts_in_each_location() -> None:
    history = conflict_history(_acd(), [3, 4])
    active = set(zip(history.active["gwno"], history.active["year"], strict=True))
    assert {(200, 2003), (300, 2003)} <= active


def _brd() -> pd.DataFrame:
    """Battle-death dyad-years: conflict 8 is fought by Alphaland's government in Betaland."""
    return pd.DataFrame(
        {
            "conflict_id": [8, 8],
            "dyad_id": [80, 80],
            "year": [2007, 2008],
            "gwno_loc": ["100", "100"],
            "gwno_battle": ["200", "200,300"],
        }
    )


def _acd_with_battle_abroad() -> pd.DataFrame:
    extra = pd.DataFrame(
        [(8, 2007, 100, 4, 1), (8, 2008, 100, 4, 1)],
        columns=["conflict_id", "year", "gwno", "type_of_conflict", "intensity_level"],
    )
    return pd.concat([_acd(), extra], ignore_index=True)


def test_battle_location_moves_conflict_years_to_where_the_battles_were() -> None:
    from relapse.panel import battle_locations

    placed = battle_locations(_acd_with_battle_abroad(), _brd(), "battle")
    eight = placed.loc[placed["conflict_id"] == 8, ["year", "gwno"]]
    assert sorted(map(tuple, eight.to_numpy().tolist())) == [(2007, 200), (2008, 200), (2008, 300)]
    # Conflict-years without battle-death rows keep the ACD's location, never dropped.
    others = placed.loc[placed["conflict_id"] != 8].sort_values(["conflict_id", "year", "gwno"])
    expected = _acd().sort_values(["conflict_id", "year", "gwno"])
    assert others[["conflict_id", "year", "gwno"]].to_numpy().tolist() == (
        expected[["conflict_id", "year", "gwno"]].to_numpy().tolist()
    )


def test_location_choice_changes_population_and_is_listed() -> None:
    from relapse.panel import build_spine, location_changes

    cfg = compose_config(["target.first_year=2000", "target.horizons=[1,2]"])
    spine = build_spine(_states(), 2000, 2012, _codes())
    changes = location_changes(_acd_with_battle_abroad(), _brd(), spine, cfg.target, 2008)
    by_gw = changes.set_index("gwno")
    # Government location: Alphaland active in 2008; battle location: Betaland and Gammaland.
    assert by_gw.loc[100, "government"] == "active"
    assert by_gw.loc[100, "battle"] != "active"
    assert by_gw.loc[300, "battle"] == "active"
