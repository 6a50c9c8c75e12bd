"""The panel built from the real snapshot: vintage invariance, sanity bounds, known cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from relapse.build import make_panel
from relapse.config import compose_config
from relapse.features import feature_columns

pytestmark = [pytest.mark.snapshot, pytest.mark.slow]


@pytest.fixture(scope="module")
def full_panel(data_dir) -> pd.DataFrame:
    cfg = compose_config([f"paths.data_dir={data_dir}"])
    return make_panel(cfg).frame


@pytest.mark.parametrize("cut", [2005, 2012])
def test_vintage_invariance(data_dir, full_panel, cut) -> None:
    """Cutting every source at T changes nothing about years ≤ T−1 except censoring.

    This catches any feature computed from future rows (a centred window, a backfill, a
    scaler fitted on all years, an episode end read before it is known) in every family.
    """
    cfg = compose_config([f"paths.data_dir={data_dir}", f"data.vintage_year={cut}"])
    early = make_panel(cfg).frame
    assert early["year"].max() == cut
    cols = ["in_population", "years_since_conflict", *feature_columns(cfg)]
    a = full_panel.loc[full_panel["year"] <= cut - 1].set_index(["gwno", "year"])[cols]
    b = early.loc[early["year"] <= cut - 1].set_index(["gwno", "year"])[cols]
    pd.testing.assert_index_equal(a.index, b.index)
    for col in cols:
        pd.testing.assert_series_equal(a[col], b[col], check_names=False, obj=col)
    # Labels: identical where t + h ≤ T, missing where they would look past T.
    for h in cfg.target.horizons:
        col = f"relapse_h{h}"
        known = early["year"] + h <= cut
        assert early.loc[~known, col].isna().all(), f"{col} looks past {cut}"
        e = early.loc[known].set_index(["gwno", "year"])[col]
        f = full_panel.set_index(["gwno", "year"]).loc[e.index, col]
        pd.testing.assert_series_equal(e, f, check_names=False)


def test_base_rates_within_literature_bounds(full_panel) -> None:
    pop = full_panel.loc[full_panel["in_population"]]
    assert 1000 < len(pop) < 5000
    h1 = pop["relapse_h1"].dropna().mean()
    h5 = pop["relapse_h5"].dropna().mean()
    # Roughly 5% a year in the literature; minor conflicts (25+ deaths) make ours higher.
    assert 0.03 < h1 < 0.15
    assert h1 < pop["relapse_h2"].dropna().mean() < h5 < 0.5


def test_identifiers_are_not_features(full_panel) -> None:
    cfg = compose_config()
    assert not {"gwno", "year", "iso3", "country"} & set(feature_columns(cfg))


def test_one_row_per_state_year(full_panel) -> None:
    assert not full_panel.duplicated(["gwno", "year"]).any()
    south_sudan = full_panel.loc[full_panel["gwno"] == 626, "year"]
    assert south_sudan.min() == 2011
    assert full_panel["year"].max() == 2018


def _row(panel: pd.DataFrame, gwno: int, year: int) -> pd.Series:
    return panel.set_index(["gwno", "year"]).loc[(gwno, year)]


@pytest.mark.parametrize(
    ("gwno", "year", "in_population", "years_since", "h1"),
    [
        (451, 2002, True, 1, 0),  # Sierra Leone: war ended 2001, no relapse
        (451, 2011, True, 10, 0),  # ... and leaves the ten-year window after 2011
        # Beyond the window (renewed-conflict risk): labelled like every non-active row.
        (451, 2012, False, 11, 0),
        (450, 1999, True, 9, 1),  # Liberia: the second civil war starts in 2000
        (450, 2004, True, 1, 0),  # Liberia after the 2003 peace agreement
        (540, 2002, False, 0, None),  # Angola 2002: still active (Cabinda)
        (780, 2002, True, 1, 1),  # Sri Lanka: the 2002 ceasefire, fighting again in 2003
        (780, 2010, True, 1, 0),  # Sri Lanka after the 2009 government victory
    ],
)
def test_known_cases(full_panel, gwno, year, in_population, years_since, h1) -> None:
    row = _row(full_panel, gwno, year)
    assert bool(row["in_population"]) is in_population
    assert int(row["years_since_conflict"]) == years_since
    if h1 is None:
        assert pd.isna(row["relapse_h1"])
    else:
        assert int(row["relapse_h1"]) == h1


def test_sri_lanka_last_episode_ended_in_government_victory(full_panel) -> None:
    row = _row(full_panel, 780, 2012)
    assert row["leg_ended_government_victory"] == 1
    assert row["leg_ended_peace_agreement"] == 0


def test_features_are_float_and_missing_is_nan(full_panel) -> None:
    cfg = compose_config()
    for col in feature_columns(cfg):
        assert full_panel[col].dtype == np.float64, col
