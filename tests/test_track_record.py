"""`relapse track-record`: archived forecasts scored once the data know their outcome."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from relapse.cli import main
from relapse.errors import DataError
from relapse.track_record import archived_scores, resolve, summarise


def _scores(as_of: int, rows: list[tuple[int, str, int, float | None, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "gwno": g,
                "iso3": c[:3].upper(),
                "country": c,
                "as_of_year": as_of,
                "horizon_years": h,
                "relapse_probability": p,
                "status": s,
            }
            for g, c, h, p, s in rows
        ]
    )


def _labels(last_year: int, values: dict[tuple[int, int], int | None]) -> pd.DataFrame:
    years = range(2000, last_year + 1)
    frame = pd.DataFrame([(g, y) for g in (1, 2, 3, 4) for y in years], columns=["gwno", "year"])
    frame["relapse_h1"] = pd.array(
        [values.get((g, y), 0) for g, y in zip(frame.gwno, frame.year, strict=True)], dtype="Int8"
    )
    return frame


def test_outcomes_metrics_and_relapses_counted_by_hand() -> None:
    scores = _scores(
        2010,
        [
            (1, "Aland", 1, 0.9, "scored"),
            (2, "Borduria", 1, 0.2, "scored"),
            (3, "Carpania", 1, 0.6, "scored"),
            (4, "Doria", 1, None, "active_conflict"),
        ],
    ).assign(baseline_probability=[0.5, 0.1, 0.05, np.nan])
    # Aland and Carpania relapse in 2011; Borduria does not.
    labels = _labels(2012, {(1, 2010): 1, (3, 2010): 1})
    resolved, unresolved, pending = resolve(scores, labels)
    assert pending == [] and len(resolved) == 3
    row = summarise(resolved, unresolved, top_k=2).iloc[0]
    assert (row.resolved, row.relapsed, row.top_k, row.top_k_hits) == (3, 2, 2, 2)
    assert row.roc_auc == 1.0 and row.average_precision == 1.0
    assert row.brier == pytest.approx((0.1**2 + 0.2**2 + 0.4**2) / 3)
    # The baseline ranks Carpania below Borduria: AUC 1/2.
    assert row.baseline_roc_auc == 0.5
    assert row.relapsed_countries == "Aland 90.0% (baseline 50.0%); Carpania 60.0% (baseline 5.0%)"


def test_unknown_outcomes_are_pending_and_missing_baseline_is_not_recorded() -> None:
    scores = _scores(2012, [(1, "Aland", 1, 0.3, "scored"), (2, "Borduria", 1, 0.1, "scored")])
    scores["baseline_probability"] = np.nan
    labels = _labels(2013, {(1, 2012): 1, (2, 2012): None})
    resolved, unresolved, pending = resolve(scores, labels)
    row = summarise(resolved, unresolved, top_k=3).iloc[0]
    # Borduria's label is undefined (left the population): counted, not scored.
    assert (row.forecasts, row.resolved, row.unresolved, row.top_k) == (2, 1, 1, 1)
    assert math.isnan(row.baseline_brier) and math.isnan(row.roc_auc)
    assert row.relapsed_countries == "Aland 30.0% (baseline not recorded)"
    later, _, pending = resolve(scores.assign(as_of_year=2013), labels)
    assert later.empty and pending == [
        "as of 2013, 1-year horizon: outcome known after 2014 (the data end in 2013)"
    ]


def test_an_unreadable_archive_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "as_of=2012"
    folder.mkdir()
    _scores(2012, [(1, "Aland", 1, 0.3, "scored")]).drop(columns="status").to_parquet(
        folder / "scores.parquet"
    )
    with pytest.raises(
        DataError, match=r"as_of=2012/scores.parquet: missing column\(s\) \['status'\]"
    ):
        archived_scores(tmp_path)
    assert main(["track-record", f"paths.scores_dir={tmp_path}"]) == 3
    assert not (tmp_path / "track_record.csv").exists()


@pytest.mark.slow
@pytest.mark.snapshot
def test_forecasts_made_in_2012_scored_on_the_2018_release(tmp_path, data_dir) -> None:
    """Train and score on the snapshot cut at 2012, then score that archive on 2018."""
    base = [
        f"paths.data_dir={data_dir}",
        "features.families=[conflict_legacy]",
        "target.horizons=[1,2]",
        "split.first_origin=2008",
        "split.bootstrap_samples=20",
        "model.num_boost_round=40",
        "model.params.num_threads=1",
        "report.on_train=false",
        "score.scope=all_post_conflict",
        f"paths.processed_dir={tmp_path / 'processed'}",
        f"paths.scores_dir={tmp_path / 'scores'}",
        f"paths.reports_dir={tmp_path / 'reports'}",
        f"paths.output_dir={tmp_path / 'outputs'}",
        f"mlflow.embedded_store={tmp_path / 'mlflow.db'}",
        f"mlflow.artifact_root={tmp_path / 'mlartifacts'}",
    ]
    assert main(["train", *base, "data.vintage_year=2012", "allow_older_vintage=true"]) == 0
    assert main(["score", *base, "data.vintage_year=2012"]) == 0
    archived = pd.read_parquet(tmp_path / "scores" / "as_of=2012" / "scores.parquet")

    assert main(["track-record", *base]) == 0
    record = pd.read_csv(tmp_path / "scores" / "track_record.csv")
    assert list(record[["as_of_year", "horizon_years"]].itertuples(index=False, name=None)) == [
        (2012, 1),
        (2012, 2),
    ]
    from relapse.config import compose_config
    from relapse.track_record import outcomes

    labels = outcomes(compose_config(base), [1, 2])
    for r in record.itertuples(index=False):
        h = r.horizon_years
        rows = archived.loc[(archived.horizon_years == h) & (archived.status == "scored")]
        truth = rows.merge(labels.loc[labels.year == 2012], on="gwno")[f"relapse_h{h}"].dropna()
        assert (r.resolved, r.relapsed) == (len(truth), int(truth.sum()))
        assert r.resolved + r.unresolved == len(rows) and r.top_k == 3
        assert 0 <= r.brier <= 1 and r.relapsed > 0
        named = rows.merge(labels.loc[labels.year == 2012], on="gwno")
        for country in named.loc[named[f"relapse_h{h}"] == 1, "country"]:
            assert country in r.relapsed_countries
