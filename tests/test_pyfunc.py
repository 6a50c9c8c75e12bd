"""The one registered model ``relapse``: every horizon, registered and promoted with the run,
loaded by ``mlflow.pyfunc`` it gives exactly the batch job's scores, and it serves."""

from __future__ import annotations

import contextlib
import json
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

pytestmark = [pytest.mark.slow, pytest.mark.snapshot]

REPO = Path(__file__).resolve().parent.parent


def _env(uri: str | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    # `mlflow models serve --env-manager local` runs uvicorn from PATH: this interpreter's.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("MLFLOW_TRACKING_URI", None)
    if uri:
        env["MLFLOW_TRACKING_URI"] = uri
    return env


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, data_dir: Path):  # type: ignore[no-untyped-def]
    """One small training run, then ``relapse score`` as a fresh process (imports traced)."""
    from relapse.train import train

    tmp = tmp_path_factory.mktemp("pyfunc")
    overrides = [*fast_overrides(tmp, data_dir), "report.on_train=false", "promote=true"]
    cfg = compose_config(overrides)
    result = train(cfg)
    score = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "relapse.cli",
            "score",
            *overrides,
            f"paths.scores_dir={tmp / 'scores'}",
        ],
        cwd=tmp,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    (tmp / "score_importtime.txt").write_text(score.stderr)
    assert score.returncode == 0, score.stdout[-2000:] + score.stderr[-3000:]
    return cfg, result, tmp, score.stderr


def test_one_model_every_horizon_registered_and_promoted_with_the_run(trained) -> None:  # type: ignore[no-untyped-def]
    from mlflow import MlflowClient

    from relapse import registry, tracking

    cfg, result, _, _ = trained
    assert result.combined_version == "1" and all(result.promoted.values())
    uri = tracking.configure(cfg)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    mv = client.get_model_version_by_alias("relapse", "champion")
    assert str(mv.version) == result.combined_version and mv.run_id == result.run_id
    assert {mv.run_id} == {
        client.get_model_version_by_alias(f"relapse-h{h}", "champion").run_id for h in (1, 5)
    }
    assert registry.ARTIFACT_SHA256 in mv.tags


def test_pyfunc_gives_exactly_the_batch_scores(trained) -> None:  # type: ignore[no-untyped-def]
    import mlflow

    from relapse import tracking
    from relapse.build import build_panel
    from relapse.scoring.table import PROBABILITY_DECIMALS

    cfg, _, tmp, _ = trained
    tracking.configure(cfg)
    model = mlflow.pyfunc.load_model("models:/relapse@champion")
    inputs = model.metadata.get_input_schema().input_names()
    outputs = model.metadata.get_output_schema().input_names()
    assert outputs == ["relapse_probability_h1", "relapse_probability_h5"]
    (path,) = (tmp / "scores").glob("as_of=*/scores.parquet")
    scores = pd.read_parquet(path)
    scored = scores.loc[scores["status"] == "scored"]
    as_of = int(scored["as_of_year"].iloc[0])
    panel = build_panel(cfg).panel
    year = panel.loc[panel["year"] == as_of].drop_duplicates("gwno").set_index("gwno")
    gw = sorted(scored["gwno"].astype(int).unique())
    assert len(gw) >= 5
    predicted = model.predict(year.loc[gw, inputs].reset_index(drop=True))
    for h in (1, 5):
        batch = scored.loc[scored["horizon_years"] == h].set_index("gwno").loc[gw]
        mine = np.round(predicted[f"relapse_probability_h{h}"].to_numpy(), PROBABILITY_DECIMALS)
        np.testing.assert_array_equal(mine, batch["relapse_probability"].to_numpy())


def test_relapse_score_never_imports_shap_or_matplotlib(trained) -> None:  # type: ignore[no-untyped-def]
    importtime = trained[3]
    modules = {line.rsplit("|", 1)[-1].strip() for line in importtime.splitlines() if "|" in line}
    assert "relapse.scoring.job" in modules and "lightgbm" in modules  # the trace is real
    assert not {m for m in modules if m.split(".")[0] in ("shap", "matplotlib")}


@pytest.mark.server
def test_served_model_answers_one_request(trained) -> None:  # type: ignore[no-untyped-def]
    from relapse import tracking
    from relapse.build import build_panel
    from relapse.features import feature_columns

    cfg, _, tmp, _ = trained
    port = free_port()
    log = (tmp / "serve.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "models",
            "serve",
            "-m",
            "models:/relapse@champion",
            "--env-manager",
            "local",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=tmp,
        env=_env(tracking.tracking_uri(cfg)),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"mlflow models serve exited: {(tmp / 'serve.log').read_text()[-2000:]}"
                )
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{url}/ping", timeout=2) as r,
            ):
                if r.status == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail("mlflow models serve did not answer /ping within 120 s")
            time.sleep(0.5)
        panel = build_panel(cfg).panel
        rows = panel.loc[panel["in_population"], feature_columns(cfg)].tail(3).astype("float64")
        body = json.dumps(
            {"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}
        )
        request = urllib.request.Request(
            f"{url}/invocations", data=body.encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as r:
            answer = json.loads(r.read())["predictions"]
        from relapse.registry import load_registered

        expected = load_registered(cfg, 5).model.predict_horizons(rows)
        got = pd.DataFrame(answer)[["relapse_probability_h1", "relapse_probability_h5"]]
        np.testing.assert_allclose(got.to_numpy(), expected, rtol=1e-12)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        log.close()


@pytest.mark.parametrize("override", ["mlflow.model_name=relapse-h5", "hparams_search.n_trials=0"])
def test_model_name_and_trial_counts_are_checked_at_compose_time(override: str) -> None:
    from relapse.errors import ConfigError

    with pytest.raises(ConfigError, match=override.split("=")[0]):
        compose_config([override])
