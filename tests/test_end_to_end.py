"""`relapse run` end to end on the snapshot: check → build → train → register → report → score."""

from __future__ import annotations

import pandas as pd
import pytest

from relapse.cli import main
from relapse.config import compose_config

pytestmark = [pytest.mark.slow, pytest.mark.snapshot]


def test_run_trains_registers_reports_and_scores(data_dir, tmp_path, capsys) -> None:
    overrides = [
        f"paths.data_dir={data_dir}",
        f"paths.processed_dir={tmp_path / 'processed'}",
        f"paths.reports_dir={tmp_path / 'reports'}",
        f"paths.scores_dir={tmp_path / 'scores'}",
        f"mlflow.embedded_store={tmp_path / 'mlflow.db'}",
        f"mlflow.artifact_root={tmp_path / 'artifacts'}",
        "split.first_origin=2010",
        "split.bootstrap_samples=50",
        "model.num_boost_round=120",
    ]
    assert main(["run", *overrides]) == 0
    out = capsys.readouterr().out
    assert "all 37 sources valid" in out
    assert "promoted to champion" in out

    from relapse.registry import load_registered

    cfg = compose_config(overrides)
    champions = {h: load_registered(cfg, h, "champion") for h in (1, 2, 5)}
    for h, model in champions.items():
        assert model.name == f"relapse-h{h}"
        assert model.feature_names, "a registered model without its feature list"

    report = (tmp_path / "reports" / "report.html").read_text()
    for section in (
        'id="headline"',
        'id="countries"',
        'id="drivers"',
        'id="skill"',
        'id="caveats"',
    ):
        assert section in report
    assert "Association, not cause" in report

    scores = pd.read_parquet(tmp_path / "scores" / "as_of=2018" / "scores.parquet")
    assert set(scores["horizon_years"]) == {1, 2, 5}
    # Mission hosts still at war are listed, with no probability: relapse is undefined there.
    at_war = scores.loc[scores["iso3"].isin(["MLI", "COD", "SSD"])]
    assert len(at_war) == 9
    assert (at_war["status"] == "active_conflict").all()
    assert at_war["relapse_probability"].isna().all()
    scored = scores.loc[scores["status"] == "scored"]
    assert len(scored) > 0
    assert scored["relapse_probability"].between(0, 1).all()
    # The scores name the champions they came from and the data release of the training run.
    for h, model in champions.items():
        versions = scored.loc[scored["horizon_years"] == h, "model_version"].astype(str)
        assert (versions == str(model.version)).all()
    assert set(scores["data_vintage"]) == {champions[1].data_vintage}
