"""Explanations that describe data, not gaps: the missing-value share of |SHAP| and the
report's "not recorded since" and "data as of" wording (hand-made tables)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from helpers import synthetic_explain as syn

from relapse.explain import missing_share, missing_weight_by_feature
from relapse.features import last_recorded_year
from relapse.report import build_context, render_report
from relapse.track_record import SUMMARY_COLUMNS


def _shap_long() -> pd.DataFrame:
    # Two rows in 2018, one in 2017; feature b is missing in 2018 for country 1 only.
    return pd.DataFrame(
        {
            "gwno": [1, 1, 2, 2, 1, 1],
            "year": [2018, 2018, 2018, 2018, 2017, 2017],
            "horizon": [1] * 6,
            "feature": ["a", "b", "a", "b", "a", "b"],
            "value": [0.3, -0.1, -0.5, 0.1, 0.2, 0.8],
            "base_value": [-2.0] * 6,
            "feature_value": [1.0, np.nan, 2.0, 3.0, 1.0, np.nan],
        }
    )


def test_missing_share_counts_absolute_weight_of_missing_inputs() -> None:
    shap = _shap_long()
    assert missing_share(shap, 2018) == pytest.approx(0.1 / 1.0)
    assert missing_share(shap) == pytest.approx((0.1 + 0.8) / 2.0)
    by_feature = missing_weight_by_feature(shap, 2018)
    assert by_feature.to_dict() == pytest.approx({"b": 0.1})
    assert by_feature.sum() == pytest.approx(missing_share(shap, 2018))


def test_missing_share_without_weight_is_nan_and_without_gaps_zero() -> None:
    shap = _shap_long()
    assert math.isnan(missing_share(shap.assign(value=0.0), 2018))
    assert missing_share(shap.assign(feature_value=1.0)) == 0.0
    assert missing_weight_by_feature(shap.assign(feature_value=1.0)).empty


# --------------------------------------------------------------- the report, hand-made panel


GAP_FEATURE = "services_x1"
STOP = 2014
"""services_x1 of country 101 is recorded up to this panel year, missing after."""


def test_last_recorded_year_inverts_the_as_of_rule() -> None:
    # Panel rows to 2014 carry a value; with lag 1 and a 2-year limit the source stopped in 2011.
    assert last_recorded_year([2010, 2012, 2014], lag=1, max_age_years=2) == 2011
    assert last_recorded_year([2014], lag=0, max_age_years=0) == 2014
    assert last_recorded_year([], lag=1, max_age_years=2) is None


@pytest.fixture(scope="module")
def gap_frame() -> pd.DataFrame:
    frame = syn.panel()
    gap = (frame["gwno"] == 101) & (frame["year"] > STOP)
    frame.loc[frame["gwno"] == 101, GAP_FEATURE] = 1.5
    frame.loc[gap, GAP_FEATURE] = np.nan
    return frame


@pytest.fixture(scope="module")
def gap_boosters(gap_frame) -> dict:
    return {h: syn.train(gap_frame, h, rounds=40) for h in syn.HORIZONS}


def _registry() -> pd.DataFrame:
    reg = syn.registry().assign(max_age_years=0, age_of="")
    reg.loc[reg["name"] == GAP_FEATURE, ["lag", "max_age_years"]] = [1, 2]
    return reg


def _context(frame, boosters, **kwargs) -> dict:
    return build_context(
        frame,
        syn.forecasts(boosters),
        _registry(),
        options={"countries": ["101", "S02"]},
        **kwargs,
    )


def test_a_missing_value_is_not_a_driver_but_not_recorded_since(gap_frame, gap_boosters) -> None:
    context = _context(gap_frame, gap_boosters)
    country = next(c for c in context["countries"] if c["gwno"] == 101)
    description = "Synthetic services indicator 1 <b>1</b>"
    for h in country["horizons"]:
        assert all(f["description"] != description for f in h["top_features"])
        assert all(f["value"] != "not recorded" for f in h["top_features"])
    row = next(d for d in country["data_as_of"] if d["family"] == "Basic services")
    # Panel year 2014 is the last with a value: lag 1, limit 2 -> the source's 2011.
    assert row["gaps"] == f"{description} (not recorded since {STOP - 1 - 2})"
    assert row["recorded"] == "1 of 2"
    year = country["year"]
    assert row["years"] == str(year)
    other = next(d for d in country["data_as_of"] if d["family"] == "Economy")
    assert other["recorded"] == "2 of 2" and other["gaps"] == ""
    html = render_report(context)
    assert "Data as of" in html and f"not recorded since {STOP - 3}" in html


def test_missing_share_in_caveats_matches_explain(gap_frame, gap_boosters) -> None:
    context = _context(gap_frame, gap_boosters)
    text = context["caveats"]["missing_share"]
    assert text.startswith(f"In {context['as_of']}, ") and "not recorded" in text


def test_track_record_section_with_and_without_a_table(gap_frame, gap_boosters) -> None:
    none = _context(gap_frame, gap_boosters)
    assert not none["track_record"]["available"]
    assert "No track record yet" in render_report(none)
    row = dict.fromkeys(SUMMARY_COLUMNS, np.nan)
    row.update(
        as_of_year=2012,
        horizon_years=1,
        outcome_year=2013,
        forecasts=40,
        resolved=38,
        unresolved=2,
        relapsed=3,
        roc_auc=0.8123,
        baseline_roc_auc=0.7,
        average_precision=0.3,
        baseline_average_precision=0.2,
        brier=0.05,
        top_k=10,
        top_k_hits=2,
        relapsed_countries="Mali 23.0% (baseline 10.0%)",
    )
    table = pd.DataFrame([row])
    context = _context(gap_frame, gap_boosters, track_record=table)
    rows = context["track_record"]["rows"]
    assert context["track_record"]["available"] and len(rows) == 1
    assert rows[0]["auc"] == "0.81 (baseline 0.70)" and rows[0]["brier"] == "0.05 (baseline —)"
    html = render_report(context)
    assert 'id="track-record"' in html and "Mali 23.0% (baseline 10.0%)" in html
    assert "2 of 10" in html and "38 of 40" in html
    empty = _context(gap_frame, gap_boosters, track_record=table.iloc[:0])
    assert "No archived forecast has a known outcome yet" in render_report(empty)


def test_location_note_is_in_the_caveats(gap_frame, gap_boosters) -> None:
    note = "Conflicts are placed by target.location=government (test)."
    html = render_report(_context(gap_frame, gap_boosters, location_note=note))
    assert "Where the fighting was:" in html and note in html
    assert "Where the fighting was:" not in render_report(_context(gap_frame, gap_boosters))
