"""End to end: train on the real snapshot, register, promote, load the champion back."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers.training import fast_overrides, free_port

from relapse.config import compose_config
from relapse.errors import ModelError


def check_champion_round_trip(cfg, result) -> None:  # type: ignore[no-untyped-def]
    from relapse.build import build_panel
    from relapse.registry import load_registered

    panel = build_panel(cfg).panel
    rows = panel.loc[panel["in_population"]].tail(50)
    for h in cfg.target.horizons:
        loaded = load_registered(cfg, h)  # alias "champion"
        assert loaded.name == f"relapse-h{h}"
        assert loaded.version == result.versions[h]
        assert loaded.run_id == result.run_id
        assert loaded.data_vintage == result.data_vintage
        assert set(loaded.family_map.values()) == {"conflict_legacy"}
        assert loaded.metrics[f"backtest_average_precision_h{h}"] > 0
        for key in (
            f"backtest_roc_auc_h{h}",
            f"baseline_history_brier_h{h}",
            f"baseline_climatology_brier_h{h}",
            f"backtest_log_loss_h{h}",
        ):
            assert key in loaded.metrics
        expected = result.model.predict_proba(rows, h)
        np.testing.assert_allclose(loaded.predict_proba(rows), expected, rtol=1e-10)
        by_number = load_registered(cfg, h, version=result.versions[h])
        assert by_number.version == loaded.version


@pytest.mark.slow
@pytest.mark.snapshot
def test_train_registers_promotes_and_loads(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relapse.cli import main
    from relapse.registry import champion_metric, load_registered, promote, promote_run
    from relapse.train import train

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    overrides = fast_overrides(tmp_path, data_dir)
    cfg = compose_config(overrides)

    with pytest.raises(ModelError, match="no champion for relapse-h1; run relapse train"):
        load_registered(cfg, 1)

    assert main(["train", *overrides]) == 0  # first run: no champion yet, so promoted
    result = train(cfg)  # same seed, same data: same backtest AP, so promoted again
    assert result.versions == {1: "2", 5: "2"}
    assert result.promoted == {1: True, 5: True}
    assert list(result.predictions.columns) == [
        "gwno",
        "year",
        "horizon",
        "y_true",
        "p_model",
        "p_history",
        "p_climatology",
    ]
    assert result.predictions["year"].min() == 2008
    assert (tmp_path / "mlartifacts").is_dir()
    check_champion_round_trip(cfg, result)

    version, best = champion_metric(cfg, 1)
    assert version == "2" and best is not None
    # Without the candidate's forecasts, the logged metrics are compared.
    check = promote(cfg, 1, "1", score=best - 0.01)
    assert (check.promoted, check.basis) == (False, "logged metric")  # worse: stays candidate
    assert load_registered(cfg, 1).version == "2"
    # With them, the comparison is like for like on the rows both backtests forecast: the
    # champion's own forecasts tie (promoted), reversed forecasts lose (not promoted).
    same = result.predictions
    check = promote(cfg, 1, "1", score=0.0, predictions=same)
    assert check.basis == "common backtest rows" and check.rows == (same["horizon"] == 1).sum()
    assert check.promoted and check.candidate_ap == pytest.approx(check.champion_ap)
    promote(cfg, 1, "2", score=0.0, force=True)
    worse = same.assign(p_model=1.0 - same["p_model"])
    check = promote(cfg, 1, "1", score=1.0, predictions=worse)
    assert not check.promoted and check.candidate_ap < check.champion_ap
    assert load_registered(cfg, 1).version == "2"
    assert promote(cfg, 1, "1", score=0.0, force=True).promoted  # promote=true
    assert load_registered(cfg, 1).version == "1"

    # Not worse than the history baseline, whatever the champion: else held back, both
    # horizons together (promote=true still forces).
    verdicts = {1: "is worse than", 5: "matches"}
    candidates = {1: ("2", 1.0), 5: ("2", 1.0)}
    checks = promote_run(cfg, candidates, predictions=same, baseline_verdicts=verdicts)
    assert checks[1].basis == "worse than the history baseline"
    assert not checks[1].promoted and not checks[5].promoted and checks[5].held_back_by == (1,)
    assert load_registered(cfg, 1).version == "1"
    checks = promote_run(cfg, candidates, force=True, baseline_verdicts=verdicts)
    assert checks[1].promoted and load_registered(cfg, 1).version == "2"


def test_unreachable_server_is_a_model_error(tmp_path: Path) -> None:
    from relapse.registry import load_registered

    cfg = compose_config(
        [
            f"mlflow.tracking_uri=http://127.0.0.1:{free_port()}",
            "mlflow.request_timeout_s=2",
            "mlflow.max_retries=0",
        ],
    )
    with pytest.raises(ModelError, match=r"MLflow loading relapse-h1 .* failed at http") as exc:
        load_registered(cfg, 1)
    assert exc.value.exit_code == 4


@pytest.fixture
def mlflow_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A real ``mlflow server`` on a free local port; killed in teardown."""
    port = free_port()
    store = tmp_path / "server"
    store.mkdir()
    log = (store / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{store / 'mlflow.db'}",
            "--artifacts-destination",
            str(store / "artifacts"),
            "--serve-artifacts",
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"mlflow server exited: {(store / 'server.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("mlflow server did not start within 90 s")
            time.sleep(0.5)
        yield url
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        log.close()


@pytest.mark.slow
@pytest.mark.server
@pytest.mark.snapshot
def test_train_and_score_over_http(
    tmp_path: Path, data_dir: Path, mlflow_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relapse.train import train

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    cfg = compose_config(
        [
            *fast_overrides(tmp_path, data_dir),
            "target.horizons=[1]",
            f"mlflow.tracking_uri={mlflow_server}",
        ],
    )
    result = train(cfg)
    assert result.tracking_uri == mlflow_server
    assert result.promoted == {1: True}
    assert not (tmp_path / "mlflow.db").exists(), "nothing may go to the embedded store"
    check_champion_round_trip(cfg, result)

    # The batch job against the same server: loads the champion over HTTP, scores, logs.
    from mlflow import MlflowClient

    from relapse.cli import main

    scores_dir = tmp_path / "scores"
    overrides = [
        *fast_overrides(tmp_path, data_dir),
        "target.horizons=[1]",
        f"mlflow.tracking_uri={mlflow_server}",
        f"paths.scores_dir={scores_dir}",
    ]
    assert main(["score", *overrides]) == 0
    scores = pd.read_parquet(scores_dir / "as_of=2018" / "scores.parquet")
    scored = scores.loc[scores["status"] == "scored"]
    assert len(scored) and set(scored["model_version"].astype(str)) == {result.versions[1]}
    client = MlflowClient(tracking_uri=mlflow_server)
    scoring = client.get_experiment_by_name("relapse-scoring")
    assert scoring is not None
    assert client.search_runs([scoring.experiment_id]), "the scoring run was not logged"
    assert not (tmp_path / "mlflow.db").exists(), "nothing may go to the embedded store"
