"""``hparams_search.storage``: two worker processes share one Optuna study in one database;
every trial is run once, told once and logged as one MLflow child run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.faults import tmp_overrides

from relapse.config import compose_config

pytestmark = [pytest.mark.slow, pytest.mark.snapshot]

REPO = Path(__file__).resolve().parent.parent
TRIALS_PER_WORKER = 2


def tiny_overrides(tmp: Path, data_dir: Path) -> list[str]:
    """One horizon, three tuning origins, few rounds: a trial takes seconds."""
    return [
        "features.families=[conflict_legacy]",
        "target.horizons=[1]",
        "split.first_origin=2012",
        "split.tune_first_origin=2009",
        "split.bootstrap_samples=10",
        "model.num_boost_round=30",
        "model.early_stopping_rounds=10",
        "report.on_train=false",
        f"paths.data_dir={data_dir}",
        *tmp_overrides(tmp),
    ]


def test_storage_is_a_config_key() -> None:
    cfg = compose_config(["hparams_search.storage=sqlite:///study.db"])
    assert cfg.hparams_search.storage == "sqlite:///study.db"
    assert compose_config([]).hparams_search.storage is None


def test_two_workers_share_one_study_without_losing_or_repeating_a_trial(
    tmp_path: Path, data_dir: Path
) -> None:
    import optuna
    from mlflow import MlflowClient

    from relapse import tracking
    from relapse.build import build_panel
    from relapse.sweep import OBJECTIVE

    overrides = tiny_overrides(tmp_path, data_dir)
    cfg = compose_config(overrides)
    build_panel(cfg)  # the panel cache and the store exist before the workers start,
    tracking.ensure_experiment(cfg)  # as on machines sharing a tracking server
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    command = [
        sys.executable,
        "-m",
        "relapse.cli",
        "train",
        "-m",
        "hparams_search=optuna",
        f"hparams_search.storage={storage}",
        f"hparams_search.n_trials={TRIALS_PER_WORKER}",
        *overrides,
    ]
    logs = [(tmp_path / f"worker{i}.log").open("w") for i in range(2)]
    workers = [
        subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
        for log in logs
    ]
    try:
        codes = [w.wait(timeout=900) for w in workers]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()
        for log in logs:
            log.close()
    texts = [(tmp_path / f"worker{i}.log").read_text()[-3000:] for i in range(2)]
    assert codes == [0, 0], texts

    study = optuna.load_study(study_name="relapse-tune", storage=storage)
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 2 * TRIALS_PER_WORKER
    assert sorted(t.number for t in trials) == list(range(2 * TRIALS_PER_WORKER))
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)

    client = MlflowClient(tracking_uri=tracking.configure(cfg))
    experiment = client.get_experiment_by_name(cfg.mlflow.experiment_name)
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if r.data.tags.get("run_kind") == "tuning_sweep"]
    children = [r for r in runs if r.data.tags.get("run_kind") == "tuning_trial"]
    assert len(parents) == 2 and all(p.info.status == "FINISHED" for p in parents)
    assert len(children) == len(trials)
    # Each trial was run by exactly one child run, with its parameters and objective.
    by_trial = {c.data.tags["optuna_trial"]: c for c in children}
    assert sorted(by_trial) == sorted(str(t.number) for t in trials)
    assert {p.info.run_id for p in parents} == {c.data.tags["mlflow.parentRunId"] for c in children}
    for trial in trials:
        run = by_trial[str(trial.number)]
        lr = trial.params["model.params.learning_rate"]
        assert float(run.data.params["learning_rate"]) == pytest.approx(lr, rel=1e-12)
        assert run.data.metrics[OBJECTIVE] == pytest.approx(trial.value, rel=1e-12)
