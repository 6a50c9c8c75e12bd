"""target.location=battle on the real snapshot: where the fighting was changes who is at war.

UCDP places a conflict in the government's country. The United States' war with al-Qaida
(conflict 418) was fought in Afghanistan, Pakistan, Yemen, Somalia, Syria... (on US soil only
in 2001), and Uganda's war with the ADF (conflict 314) in DR Congo after 2007, so with battle
locations the United States and Uganda stop being at war and DR Congo is at war instead.
"""

from __future__ import annotations

import pandas as pd
import pytest

from relapse.config import compose_config
from relapse.panel import build_base_panel, location_changes
from relapse.sources import load_tables

pytestmark = [pytest.mark.snapshot]

USA, UGANDA, DRC = 2, 500, 490


@pytest.fixture(scope="module")
def tables(data_dir) -> dict[str, pd.DataFrame]:
    return load_tables(["ucdp_acd", "ucdp_brd", "gw_states", "country_codes"], data_dir)


@pytest.fixture(scope="module")
def panels(data_dir, tables) -> dict[str, pd.DataFrame]:
    return {
        loc: build_base_panel(tables, _cfg(data_dir, loc)).frame for loc in ("government", "battle")
    }


def _cfg(data_dir, location: str):
    return compose_config([f"paths.data_dir={data_dir}", f"target.location={location}"])


def _status(panel: pd.DataFrame, gwno: int, year: int) -> str:
    row = panel.loc[(panel["gwno"] == gwno) & (panel["year"] == year)].iloc[0]
    if row["active"]:
        return "active"
    return "post-conflict" if row["in_population"] else "at peace"


@pytest.mark.parametrize(
    ("gwno", "year", "government", "battle"),
    [
        # al-Qaida: active in the US by UCDP's location; battles abroad (US soil only in 2001,
        # so post-conflict to 2011 and at peace from 2012 with the 10-year window).
        (USA, 2010, "active", "post-conflict"),
        (USA, 2015, "active", "at peace"),
        # 2018: the al-Qaida conflict is inactive, so the US is post-conflict by location only.
        (USA, 2018, "post-conflict", "at peace"),
        # ADF: fought in DR Congo from 2008 (last battles in Uganda in 2007).
        (UGANDA, 2010, "active", "post-conflict"),
        (UGANDA, 2015, "active", "post-conflict"),
        (DRC, 2015, "post-conflict", "active"),
    ],
)
def test_battle_location_changes_status(panels, gwno, year, government, battle) -> None:
    assert _status(panels["government"], gwno, year) == government
    assert _status(panels["battle"], gwno, year) == battle


def test_location_changes_lists_the_united_states_and_uganda(data_dir, tables) -> None:
    cfg = _cfg(data_dir, "government")
    spine = build_base_panel(tables, cfg).frame[["gwno", "year", "iso3", "country"]]
    changes = location_changes(tables["ucdp_acd"], tables["ucdp_brd"], spine, cfg.target, 2015)
    by_gw = changes.set_index("gwno")
    assert by_gw.loc[USA, ["government", "battle"]].tolist() == ["active", "at peace"]
    assert by_gw.loc[UGANDA, ["government", "battle"]].tolist() == ["active", "post-conflict"]
    assert by_gw.loc[DRC, ["government", "battle"]].tolist() == ["post-conflict", "active"]
    assert (changes["government"] != changes["battle"]).all()


def test_location_changes_of_every_year_hold_each_year(data_dir, tables) -> None:
    """The all-years table (cached for ``relapse score``) gives each year's changes exactly."""
    from relapse.build import ScoringInputs

    cfg = _cfg(data_dir, "government")
    spine = build_base_panel(tables, cfg).frame[["gwno", "year", "iso3", "country"]]
    every = location_changes(tables["ucdp_acd"], tables["ucdp_brd"], spine, cfg.target)
    assert list(every.columns) == ["gwno", "country", "year", "government", "battle"]
    inputs = ScoringInputs(tables={}, location_changes=every, data_last_year=2018, input_hash="")
    for year in (1995, 2008, 2015, 2018):
        one = location_changes(tables["ucdp_acd"], tables["ucdp_brd"], spine, cfg.target, year)
        pd.testing.assert_frame_equal(inputs.changes_in(year), one)


def test_report_note_from_the_scoring_cache_equals_the_note_computed(tmp_path, processed_dir):
    """The report reads the location changes relapse score cached beside the panel, or
    computes that year's without writing anything: both give the same note."""
    import shutil

    from relapse.build import SCORING_DIR, build_panel, scoring_inputs
    from relapse.report.inputs import report_notes

    local = tmp_path / "processed"
    cfg = compose_config(["features.families=[conflict_legacy]", f"paths.processed_dir={local}"])
    shutil.copytree(processed_dir, local, ignore=shutil.ignore_patterns(SCORING_DIR))
    built = build_panel(cfg)
    computed = report_notes(cfg, built)["location_note"]
    assert not (local / SCORING_DIR).exists()  # nothing written
    scoring_inputs(cfg, built)  # what relapse score caches
    assert (local / SCORING_DIR).is_dir()
    assert report_notes(cfg, built)["location_note"] == computed
    assert "target.location=government" in computed
