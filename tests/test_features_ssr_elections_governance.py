"""Security-sector-reform, elections and governance features: known cases, vintage invariance,
and hand-made aggregation cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers.data import builder_args

from relapse.config import compose_config
from relapse.features import build_family, family_module
from relapse.features.align import recent_flag, window_max
from relapse.features.elections import years_since_election
from relapse.features.security_sector_reform import _ssr_aid
from relapse.panel import build_spine
from relapse.sources import get_source, load_tables
from relapse.sources.base import cut_to_vintage

FAMILIES = ("security_sector_reform", "elections", "governance")


def _keys() -> list[str]:
    keys = {"gw_states", "country_codes"}
    for family in FAMILIES:
        keys |= set(family_module(family).SOURCES_USED)
    return sorted(keys)


@pytest.fixture(scope="module")
def cfg():
    return compose_config()


@pytest.fixture(scope="module")
def tables(data_dir: Path) -> dict[str, pd.DataFrame]:
    loaded = load_tables(_keys(), data_dir)
    loaded["spine"] = build_spine(loaded["gw_states"], 1946, 2018, loaded["country_codes"])
    return loaded


@pytest.fixture(scope="module")
def built(tables, cfg) -> dict[str, pd.DataFrame]:
    return {
        family: build_family(family, *builder_args(tables), cfg).set_index(["gwno", "year"])
        for family in FAMILIES
    }


def _value(built, family: str, feature: str, gwno: int, year: int) -> float:
    return float(built[family].loc[(gwno, year), feature])


@pytest.mark.snapshot
@pytest.mark.parametrize("family", FAMILIES)
def test_one_float_row_per_spine_row(tables, built, family: str) -> None:
    out = built[family]
    spine = tables["spine"].set_index(["gwno", "year"])
    assert out.index.equals(spine.index)
    assert (out.dtypes == "float64").all()
    prefix = {"security_sector_reform": "ssr_", "elections": "ele_", "governance": "gov_"}
    assert all(c.startswith(prefix[family]) for c in out.columns)


@pytest.mark.snapshot
@pytest.mark.parametrize(
    ("family", "feature", "gwno", "year", "expected"),
    [
        # Sierra Leone: Abidjan 1996 and Lomé 1999 provide for DDR and army integration.
        ("security_sector_reform", "ssr_ddr_10y", 451, 1995, 0.0),
        ("security_sector_reform", "ssr_ddr_10y", 451, 1999, 1.0),
        ("security_sector_reform", "ssr_ddr_10y", 451, 2009, 1.0),  # Nov 2000 accord + 9
        ("security_sector_reform", "ssr_ddr_10y", 451, 2010, 0.0),
        ("security_sector_reform", "ssr_army_integration_10y", 451, 2000, 1.0),
        ("security_sector_reform", "ssr_army_integration_10y", 451, 1970, np.nan),
        ("security_sector_reform", "ssr_police_reform_10y", 451, 1999, 1.0),
        ("security_sector_reform", "ssr_police_reform_10y", 451, 2011, np.nan),
        ("security_sector_reform", "ssr_police_reform_10y", 2, 2000, 0.0),
        ("security_sector_reform", "ssr_coup_attempt", 451, 1997, 1.0),
        ("security_sector_reform", "ssr_coup_5y", 451, 2001, 1.0),
        ("security_sector_reform", "ssr_coup_5y", 451, 2003, 0.0),
        # AidData: Sierra Leone listed 1979-2010 except 1995 (structural zero), nothing 2011.
        ("security_sector_reform", "ssr_aid_share", 451, 1995, 0.0),
        ("security_sector_reform", "ssr_aid_share", 451, 2011, np.nan),
        ("security_sector_reform", "ssr_aid_share", 2, 2000, np.nan),
        # Liberia's post-war election of 2005.
        ("elections", "ele_election_this_year", 450, 2005, 1.0),
        ("elections", "ele_election_last_year", 450, 2006, 1.0),
        ("elections", "ele_years_since_election", 450, 2005, 0.0),
        ("elections", "ele_years_since_election", 450, 2008, 3.0),
        ("elections", "ele_agreement_elections_10y", 450, 2003, 1.0),
        ("elections", "ele_election_this_year", 626, 2015, np.nan),
        # Unified Germany's first all-German election (December 1990).
        ("elections", "ele_election_this_year", 260, 1990, 1.0),
        ("governance", "gov_rule_of_law", 450, 1997, np.nan),  # WGI biennial before 2002
        ("governance", "gov_polity2", 530, 1992, np.nan),  # transition: interpolated
        ("governance", "gov_polity2", 530, 1991, 0.0),  # interregnum
        ("governance", "gov_power_sharing_10y", 451, 1999, 1.0),
    ],
)
def test_known_cases(built, family, feature, gwno, year, expected) -> None:
    value = _value(built, family, feature, gwno, year)
    if np.isnan(expected):
        assert np.isnan(value)
    else:
        assert value == expected


@pytest.mark.snapshot
def test_coverage_boundaries(built) -> None:
    ssr = built["security_sector_reform"].reset_index()
    assert ssr.loc[ssr["year"] > 2010, "ssr_police_reform_10y"].isna().all()
    assert ssr.loc[ssr["year"] > 2011, "ssr_aid_share"].isna().all()
    assert ssr.loc[ssr["year"] < 1975, "ssr_ddr_10y"].isna().all()
    assert ssr.loc[ssr["year"] >= 1975, "ssr_ddr_10y"].notna().all()
    gov = built["governance"].reset_index()
    assert gov.loc[gov["year"].isin([1997, 1999, 2001]), "gov_rule_of_law"].isna().all()
    assert gov.loc[gov["year"] == 2002, "gov_rule_of_law"].notna().mean() > 0.9


@pytest.mark.snapshot
@pytest.mark.slow
@pytest.mark.parametrize("cut", [1996, 2005])
def test_vintage_invariance(tables, built, cfg, cut: int) -> None:
    """Every source cut at T: features for years up to T-1 are unchanged."""
    early = {
        key: cut_to_vintage(table, get_source(key), cut)
        for key, table in tables.items()
        if key != "spine"
    }
    early["spine"] = tables["spine"].loc[tables["spine"]["year"] <= cut]
    for family in FAMILIES:
        a = built[family].loc[pd.IndexSlice[:, : cut - 1], :]
        b = build_family(family, *builder_args(early), cfg).set_index(["gwno", "year"])
        b = b.loc[pd.IndexSlice[:, : cut - 1], :]
        pd.testing.assert_frame_equal(a, b, obj=family)


# --------------------------------------------------------------------------------------------
# Hand-made cases


def _spine(gwnos: list[int], first: int, last: int) -> pd.DataFrame:
    years = range(first, last + 1)
    return pd.DataFrame([(g, y) for g in gwnos for y in years], columns=["gwno", "year"])


def test_recent_flag_window_and_coverage() -> None:
    spine = _spine([1, 2], 1973, 1992)
    agreements = pd.DataFrame(
        {
            # Country 1: a 1980 agreement with the provision and a 1985 one without; both
            # signed agreements are locations of one multi-country accord in 1990 (only 2
            # has the provision there, rows are per location).
            "gwno": [1, 1, 1, 2],
            "year": [1980, 1985, 1990, 1990],
            "ddr": [1, 0, 0, 1],
        }
    )
    flag = recent_flag(spine, agreements, "ddr", 10, first_year=1975, last_year=1991)
    got = spine.assign(flag=flag).set_index(["gwno", "year"])["flag"]
    assert np.isnan(got[(1, 1974)])  # before the data
    assert got[(1, 1979)] == 0  # before signature
    assert got[(1, 1980)] == 1 and got[(1, 1989)] == 1  # signed in y-9 ... y
    assert got[(1, 1990)] == 0  # 11th year: out of the window; the 1990 one has no DDR
    assert got[(2, 1989)] == 0 and got[(2, 1990)] == 1 and got[(2, 1991)] == 1
    assert np.isnan(got[(2, 1992)])  # after the data


def test_window_max_skips_missing_years() -> None:
    spine = _spine([1], 2000, 2006)
    coups = pd.DataFrame(
        {"gwno": [1, 1, 1], "year": [2000, 2001, 2003], "attempt": [1.0, np.nan, 0.0]}
    )
    got = window_max(spine, coups, "attempt", 3).tolist()
    # 2000: 1; 2001: 1 (2000); 2002: 1 (2000); 2003: 0 (2001 missing, 2003 0);
    # 2004: 0; 2005: 0 (2003); 2006: nothing observed in 2004-2006.
    assert got[:6] == [1, 1, 1, 0, 0, 0] and np.isnan(got[6])


def test_years_since_election_censoring() -> None:
    # State 1 exists from 1946 (no election until 1950); state 2 enters in 1960 and never votes;
    # state 3 is not in the elections file.
    spine = pd.concat(
        [_spine([1], 1946, 1953), _spine([2], 1960, 1962), _spine([3], 1960, 1961)],
        ignore_index=True,
    )
    elections = pd.DataFrame(
        {
            "gwno": [1] * 9 + [2] * 18,
            "year": list(range(1945, 1954)) + list(range(1945, 1963)),
            "natelec": [0, 0, 0, 0, 0, 1, 0, 0, 1] + [0] * 18,
        }
    )
    got = years_since_election(spine, elections).tolist()
    assert got[:8] == [1, 2, 3, 4, 0, 1, 2, 0]  # censored from 1945, then since 1950, 1953
    assert got[8:11] == [1, 2, 3]  # censored from independence (1960)
    assert np.isnan(got[11]) and np.isnan(got[12])


def test_ssr_aid_zero_only_from_first_listed_year() -> None:
    spine = _spine([1, 2], 1990, 2012)
    aid = pd.DataFrame(
        {
            "gwno": [1, 1],
            "year": [1992, 1995],
            "ssr_commitment_usd": [5e6, 1e6],
            "ssr_share": [0.1, 0.02],
        }
    )
    got = _ssr_aid(spine, aid).assign(gwno=spine["gwno"], year=spine["year"])
    got = got.set_index(["gwno", "year"])["ssr_share"]
    assert np.isnan(got[(1, 1991)])  # before the recipient is first listed
    assert got[(1, 1992)] == 0.1 and got[(1, 1993)] == 0 and got[(1, 2010)] == 0
    assert np.isnan(got[(1, 2011)])  # after the data
    assert got.loc[2].isna().all()  # never a recipient
