"""``relapse train -m``: the Optuna sweep on tuning origins, and a joblib-launched ablation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from helpers.faults import tmp_overrides

from relapse.config import compose_config
from relapse.errors import ConfigError


def small_overrides(tmp: Path, data_dir: Path) -> list[str]:
    """Real snapshot, small run: evaluation origins from 2012, few rounds and resamples."""
    return [
        "target.horizons=[1,5]",
        "split.first_origin=2012",
        "split.bootstrap_samples=20",
        "model.num_boost_round=100",
        "model.early_stopping_rounds=20",
        "report.on_train=false",
        f"paths.data_dir={data_dir}",
        *tmp_overrides(tmp),
    ]


def client_for(cfg: Any) -> Any:
    from mlflow import MlflowClient

    from relapse import tracking

    uri = tracking.configure(cfg)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


@pytest.mark.parametrize(
    ("overrides", "horizon", "expected"),
    [
        ([], 1, (1990, 1999)),
        ([], 5, (1990, 1995)),
        (["split.first_origin=2012", "split.tune_first_origin=2006"], 1, (2006, 2011)),
        (["split.first_origin=2012", "split.tune_first_origin=2006"], 5, (2006, 2007)),
        (["split.tune_last_origin=1996"], 2, (1990, 1996)),
        (["split.tune_last_origin=1996"], 5, (1990, 1995)),
    ],
)
def test_tuning_origins_end_before_the_first_evaluation_origin(
    overrides: list[str], horizon: int, expected: tuple[int, int]
) -> None:
    from relapse.sweep import tuning_origins

    cfg = compose_config(overrides)
    first, last = tuning_origins(cfg, horizon)
    assert (first, last) == expected
    assert last + horizon <= cfg.split.first_origin


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (["split.tune_last_origin=2000"], r"tune_last_origin \(2000\) must be before"),
        (["split.tune_first_origin=2001"], r"tune_first_origin \(2001\) must be at most"),
    ],
)
def test_tuning_origins_must_precede_evaluation(overrides: list[str], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        compose_config(overrides)


def test_no_tuning_origin_left_for_a_long_horizon() -> None:
    from relapse.sweep import tuning_origins

    cfg = compose_config(["split.tune_first_origin=1998"])
    with pytest.raises(ConfigError, match="no tuning origins for h=5"):
        tuning_origins(cfg, 5)


def test_hparams_search_without_multirun_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from relapse.cli import main

    assert main(["train", "hparams_search=optuna"]) == 2
    assert "relapse train -m hparams_search=optuna" in capsys.readouterr().err


def test_misspelt_key_fails_before_any_job(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from relapse.cli import main

    code = main(
        [
            "train",
            "-m",
            "split.first_orign=2012",
            "hydra/launcher=joblib",
            "features.families=[conflict_legacy],[mission]",
            f"paths.output_dir={tmp_path}",
            f"mlflow.embedded_store={tmp_path / 'm.db'}",
        ]
    )
    assert code == 2
    assert "first_orign" in capsys.readouterr().err
    assert not (tmp_path / "multirun").exists()


@pytest.mark.slow
@pytest.mark.snapshot
def test_optuna_sweep_logs_child_runs_scored_on_tuning_origins_only(
    tmp_path: Path,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from relapse.cli import main
    from relapse.sweep import OBJECTIVE

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    overrides = [*small_overrides(tmp_path, data_dir), "split.tune_first_origin=2006"]
    assert (
        main(["train", "-m", "hparams_search=optuna", "hparams_search.n_trials=3", *overrides]) == 0
    )
    out = capsys.readouterr().out
    assert "relapse train model.params.learning_rate=" in out

    cfg = compose_config(overrides)
    client = client_for(cfg)
    experiment = client.get_experiment_by_name(cfg.mlflow.experiment_name)
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if r.data.tags.get("run_kind") == "tuning_sweep"]
    assert len(parents) == 1
    parent = parents[0]
    assert parent.info.status == "FINISHED"
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(children) == 3
    objectives = [r.data.metrics[OBJECTIVE] for r in children]
    assert parent.data.metrics[f"best_{OBJECTIVE}"] == pytest.approx(max(objectives))
    assert parent.data.params["tune_origins_h5"] == "2006-2007"
    assert len({r.data.params["learning_rate"] for r in children}) == 3

    for child in children:
        assert child.data.params["tune_origins_h1"] == "2006-2011"
        folds = pd.read_csv(
            client.download_artifacts(child.info.run_id, "tune_folds.csv", str(tmp_path))
        )
        # One fold per tuning origin (every horizon's interval models fitted at once).
        assert folds["origin"].between(2006, cfg.split.first_origin - 1).all()
        preds = pd.read_parquet(
            client.download_artifacts(child.info.run_id, "tune_predictions.parquet", str(tmp_path))
        )
        assert set(preds["horizon"]) == {1, 5}
        # Every label the objective saw is known at the first evaluation origin.
        assert (preds["year"] + preds["horizon"] <= cfg.split.first_origin).all()
        assert (preds["year"] + preds["horizon"] <= cfg.split.first_origin).all()
    assert client.search_registered_models() == []  # a sweep never registers


@pytest.mark.slow
@pytest.mark.snapshot
def test_joblib_ablation_runs_two_training_jobs(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relapse.cli import main

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    # From 2008: on the six origins from 2012 the small model is worse than the history
    # baseline at one year, and the promotion rule rightly holds it back.
    overrides = [
        *(o for o in small_overrides(tmp_path, data_dir) if not o.startswith("split.first_")),
        "split.first_origin=2008",
    ]
    assert (
        main(
            [
                "train",
                "-m",
                "hydra/launcher=joblib",
                "hydra.launcher.n_jobs=2",
                "features.families=[conflict_legacy],[conflict_legacy,mission]",
                *overrides,
            ]
        )
        == 0
    )

    cfg = compose_config(overrides)
    client = client_for(cfg)
    experiment = client.get_experiment_by_name(cfg.mlflow.experiment_name)
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 2
    assert {r.data.params["families"] for r in runs} == {
        "conflict_legacy",
        "conflict_legacy,mission",
    }
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert len({r.data.tags["sweep_id"] for r in runs}) == 1
    for h in (1, 5):
        versions = client.search_model_versions(f"name='relapse-h{h}'")
        assert sorted(int(v.version) for v in versions) == [1, 2]
        champion = client.get_model_version_by_alias(f"relapse-h{h}", "champion")
        best = max(runs, key=lambda r: r.data.metrics[f"backtest_average_precision_h{h}"])
        assert champion.run_id == best.info.run_id
    # Each job wrote its own Hydra output directory under paths.output_dir.
    assert len(list((tmp_path / "outputs" / "multirun").glob("*/[01]/.hydra"))) == 2


def test_optuna_search_space_and_objective_origins() -> None:
    from omegaconf import OmegaConf

    from relapse.sweep import SEARCHED, distributions

    assert compose_config(["hparams_search=optuna"]).tune.enabled
    assert not compose_config().tune.enabled
    cfg = compose_config(["hparams_search=optuna"])
    assert cfg.hparams_search.n_trials == 8 and cfg.hparams_search.storage is None
    space = distributions(cfg.hparams_search.params)
    assert sorted(space) == sorted(f"model.params.{p}" for p in SEARCHED)
    assert space["model.params.learning_rate"].log
    bad = OmegaConf.create({"model.params.lambda_l2": {"low": 20, "high": 10, "log": True}})
    with pytest.raises(ConfigError, match="lambda_l2: need low < high"):
        distributions({k: OmegaConf.merge({"type": "float"}, v) for k, v in bad.items()})
