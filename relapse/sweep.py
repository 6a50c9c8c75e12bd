"""``relapse train -m``: Hydra multirun — ablations, parallel launchers, the Optuna search.

``relapse train`` normally composes one config with Hydra's Compose API. With ``-m`` the
overrides go to a ``hydra.main`` application instead (:func:`multirun`), so Hydra's sweep
syntax (``'features.families=[conflict_legacy],[conflict_legacy,mission]'``), its launchers
(``hydra/launcher=joblib``, or ``ray`` on a cluster) work. Each job runs :func:`run_job`:

* a normal job is an ordinary ``relapse train`` run (its own MLflow run, registered models,
  promotion as usual);
* with ``hparams_search=optuna`` (``tune.enabled``) the jobs are **tuning trials** asked
  from a current Optuna by :func:`search` (not Hydra's Optuna sweeper, which pins Optuna
  2.10, whose database storage fails on SQLAlchemy 2): each trial's config is composed with
  Hydra's Compose API, its job (:func:`run_trial`) is the rolling-origin backtest on the
  *tuning origins* only (:func:`tuning_origins`, all before ``split.first_origin``), logged
  as an MLflow child run of the sweep's parent run; nothing is registered. Its objective,
  the mean over horizons of the pooled average precision, is told to Optuna. With
  ``hparams_search.storage`` (a database URL) workers on several machines share the study.

Before launching, :func:`multirun` composes the non-sweep overrides (so a misspelt key fails
with exit code 2 before any job starts) and creates the MLflow experiment, so parallel jobs
never race to initialise the embedded SQLite store.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import os
import sys
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from omegaconf import DictConfig

from relapse.errors import ConfigError

log = logging.getLogger(__name__)

OBJECTIVE = "tune_objective"
"""Child-run metric: what Optuna maximises (mean over horizons of the tuning AP)."""
TUNE_AP = "tune_average_precision_h{h}"
TUNE_HISTORY_AP = "tune_baseline_history_average_precision_h{h}"
SWEEP_TAG = "sweep_id"
SEARCHED: tuple[str, ...] = (
    "learning_rate",
    "num_leaves",
    "min_data_in_leaf",
    "feature_fraction",
    "lambda_l2",
)
"""LightGBM parameters of ``conf/hparams_search/optuna.yaml`` (reported as best params)."""


@dataclass
class TrialResult:
    """One tuning trial: its objective and the backtest it was computed from."""

    objective: float
    average_precision: dict[int, float]
    history_average_precision: dict[int, float]
    origins: dict[int, tuple[int, int]]
    predictions: pd.DataFrame
    folds: pd.DataFrame
    run_id: str | None = None


@dataclass
class SweepResult:
    """What ``relapse train -m`` produced: one row per job, and the best trial if tuning."""

    sweep_id: str
    runs: pd.DataFrame
    parent_run_id: str | None = None
    best_params: dict[str, Any] = field(default_factory=dict)
    best_value: float | None = None
    tracking_uri: str = ""


# ------------------------------------------------------------------------------ tuning


def tuning_origins(cfg: DictConfig, horizon: int) -> tuple[int, int]:
    """First and last tuning origin of a horizon.

    ``split.tune_first_origin`` … ``split.tune_last_origin`` (None: ``split.first_origin -
    1``), capped at ``split.first_origin - horizon``: the label of a test row of origin ``T``
    resolves at ``T + h``, so every label a trial is scored on is known at the first
    evaluation origin, the same rule each backtest fold applies to its training rows.

    Raises
    ------
    ConfigError
        If no tuning origin is left for the horizon.
    """
    split = cfg.split
    last = split.first_origin - 1 if split.tune_last_origin is None else split.tune_last_origin
    last = min(int(last), int(split.first_origin) - int(horizon))
    first = int(split.tune_first_origin)
    if first > last:
        raise ConfigError(
            f"no tuning origins for h={horizon}: split.tune_first_origin={first} is after "
            f"{last} (split.first_origin - h); lower split.tune_first_origin"
        )
    return first, last


def tune_objective(
    cfg: DictConfig,
    panel: pd.DataFrame,
    features: Sequence[str],
) -> TrialResult:
    """Backtest every horizon on its tuning origins; the objective is the mean pooled AP.

    Parameters
    ----------
    cfg
        The trial's config (``model.params`` as suggested by Optuna).
    panel
        The panel (:func:`relapse.train.training_panel`).
    features
        Model feature columns.

    Returns
    -------
    TrialResult
        Objective, AP of the model and of the history baseline per horizon, the tuning
        origins, and the backtest predictions and folds (all of years before
        ``split.first_origin``).
    """
    from relapse.backtest import backtest
    from relapse.evaluate import average_precision

    ap: dict[int, float] = {}
    history: dict[int, float] = {}
    origins = {int(h): tuning_origins(cfg, int(h)) for h in cfg.target.horizons}
    tcfg = copy.deepcopy(cfg)
    tcfg.split.first_origin = min(first for first, _ in origins.values())
    tcfg.split.last_origin = max(last for _, last in origins.values())
    tcfg.split.calibration_first_origin = tcfg.split.first_origin
    result = backtest(panel, features, tcfg)
    preds = []
    for h, (first, last) in origins.items():
        p = result.predictions
        p = p.loc[(p["horizon"] == h) & p["year"].between(first, last)]
        ap[h] = average_precision(p["y_true"].to_numpy(), p["p_model"].to_numpy())
        history[h] = (
            average_precision(p["y_true"].to_numpy(), p["p_history"].to_numpy())
            if p["p_history"].notna().all()
            else math.nan
        )
        preds.append(p)
    folds = [result.folds]
    finite = [v for v in ap.values() if math.isfinite(v)]
    objective = sum(finite) / len(finite) if len(finite) == len(ap) else math.nan
    return TrialResult(
        objective=objective,
        average_precision=ap,
        history_average_precision=history,
        origins=origins,
        predictions=pd.concat(preds, ignore_index=True),
        folds=pd.concat(folds, ignore_index=True),
    )


def run_trial(cfg: DictConfig) -> TrialResult:
    """One tuning trial: :func:`tune_objective`, logged as a child of ``tune.parent_run_id``."""
    import mlflow

    from relapse import features as feats
    from relapse import tracking
    from relapse.config import to_container
    from relapse.train import curated_params, training_panel

    built = training_panel(cfg)
    features = feats.feature_columns(cfg)
    result = tune_objective(cfg, built.panel, features)
    number = _job_number() if cfg.tune.trial_number is None else str(cfg.tune.trial_number)
    experiment_id = tracking.ensure_experiment(cfg)
    uri = tracking.tracking_uri(cfg)
    params = {
        **curated_params(cfg, features),
        **{f"tune_origins_h{h}": f"{a}-{b}" for h, (a, b) in result.origins.items()},
    }
    metrics = {OBJECTIVE: result.objective}
    for h in result.average_precision:
        metrics[TUNE_AP.format(h=h)] = result.average_precision[h]
        metrics[TUNE_HISTORY_AP.format(h=h)] = result.history_average_precision[h]
    tags = {
        "data_vintage": built.data_vintage,
        "git_commit": tracking.git_commit(),
        "run_kind": "tuning_trial",
        **{str(k): str(v) for k, v in cfg.tags.items()},
    }
    with (
        tracking.mlflow_errors("logging a tuning trial", uri),
        mlflow.start_run(
            experiment_id=experiment_id,
            parent_run_id=cfg.tune.parent_run_id,
            run_name=f"trial-{number}",
            tags={**tags, "optuna_trial": number},
        ) as run,
    ):
        mlflow.log_dict(to_container(cfg), "config.yaml")
        mlflow.log_params(params)
        mlflow.log_metrics({k: v for k, v in metrics.items() if math.isfinite(v)})
        tracking.log_frame(result.folds, "tune_folds")
        tracking.log_frame(result.predictions, "tune_predictions", ("parquet",))
        result.run_id = run.info.run_id
    return result


# --------------------------------------------------------------------------------- jobs


def run_job(cfg: DictConfig) -> float:
    """The Hydra task function of ``relapse train -m``: one training run or tuning trial.

    Returns
    -------
    float
        The tuning objective (trial), or the mean backtest average precision over horizons
        on the evaluation origins (training run); the search tells it to Optuna.
    """
    from relapse.config import validate_config

    validate_config(cfg)
    if cfg.tune.enabled:
        trial = run_trial(cfg)
        log.info(
            "trial %s: tuning objective %.4f (AP by horizon %s) on origins %s",
            cfg.tune.trial_number,
            trial.objective,
            _rounded(trial.average_precision),
            trial.origins,
        )
        return trial.objective
    from relapse.evaluate import metric_value
    from relapse.train import train

    result = train(cfg)
    ap = {h: metric_value(result.metrics, h, "model", "average_precision") for h in result.versions}
    log.info(
        "job %s: MLflow run %s, families %s, backtest AP %s",
        _job_number(),
        result.run_id,
        list(cfg.features.families),
        _rounded(ap),
    )
    return sum(ap.values()) / len(ap)


def multirun(overrides: Sequence[str]) -> SweepResult:
    """Run ``relapse train -m <overrides>`` through Hydra (sweeps, launchers) or the Optuna search.

    Parameters
    ----------
    overrides
        Hydra overrides, sweeps included, e.g. ``["hparams_search=optuna"]`` or
        ``["hydra/launcher=joblib", "features.families=[a],[a,b]"]``.

    Returns
    -------
    SweepResult
        The MLflow runs of the jobs; with ``hparams_search`` the parent run and best trial.

    Raises
    ------
    ConfigError
        On a malformed override or an invalid configuration (before any job starts).
    """
    import hydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from relapse import tracking
    from relapse.config import PRIMARY_CONFIG, compose_config, config_dir, register_configs

    plain = plain_overrides(overrides)
    base = compose_config(plain)
    if base.tune.enabled and len(plain) != len(overrides):
        raise ConfigError(
            "hparams_search=optuna takes plain overrides only (no sweeps, launchers or hydra.* "
            "settings); run ablations as a separate relapse train -m"
        )
    experiment_id = tracking.ensure_experiment(base)  # create the store once, not per job
    sweep_id = uuid.uuid4().hex[:12]
    extra = [f"++tags.{SWEEP_TAG}={sweep_id}"]
    parent = None
    if base.tune.enabled:
        parent = _start_parent(base, experiment_id, sweep_id, overrides)
        extra.append(f"tune.parent_run_id={parent}")
    register_configs()
    app = hydra.main(config_path=str(config_dir()), config_name=PRIMARY_CONFIG, version_base="1.3")(
        run_job
    )
    status = "FAILED"
    try:
        if base.tune.enabled:
            search(base, [*plain, *extra], sweep_id)
        else:
            with _argv([sys.argv[0] if sys.argv else "relapse", "--multirun", *overrides, *extra]):
                app()
        status = "FINISHED"
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(f"invalid sweep: {str(exc).strip().splitlines()[0]}") from exc
    finally:
        result = collect(base, sweep_id, parent)
        if parent is not None:
            _finish_parent(base, parent, result, status)
    return result


def search(base: DictConfig, overrides: Sequence[str], sweep_id: str) -> None:
    """Run ``hparams_search.n_trials`` tuning trials asked from the Optuna study.

    The study (``hparams_search.study_name``) is created in ``hparams_search.storage`` or
    loaded when it exists, so several workers with the same storage share it: Optuna numbers
    every trial once, whichever worker asks. Each trial's parameters become overrides of a
    config composed with Hydra's Compose API; its objective (:func:`run_job`) is told back,
    and a trial that raises is told ``FAIL`` before the error ends the search. One worker's
    sampler is seeded with ``seed``; with a shared storage each worker draws its own seed
    (identical seeds would propose identical startup trials in every worker).

    Parameters
    ----------
    base
        The composed config without trial parameters (holds ``hparams_search``).
    overrides
        Plain overrides of every trial (the sweep's tags and parent run included).
    sweep_id
        This worker's sweep id.
    """
    import optuna

    from relapse.config import compose_config

    spec = base.hparams_search
    space = distributions(spec.params)
    seed = int(base.seed) if spec.storage is None else int(sweep_id, 16) % (2**31)
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=int(spec.n_startup_trials))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = _open_study(spec, sampler)
    for _ in range(int(spec.n_trials)):
        trial = study.ask(space)
        chosen = [f"{key}={value!r}" for key, value in trial.params.items()]
        try:
            cfg = compose_config([*overrides, *chosen, f"tune.trial_number={trial.number}"])
            value = run_job(cfg)
        except BaseException:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            raise
        if math.isfinite(value):
            study.tell(trial, value)
        else:  # no positive among the tuning rows: nothing to compare
            study.tell(trial, state=optuna.trial.TrialState.FAIL)


def _open_study(spec: Any, sampler: Any, attempts: int = 5) -> Any:
    """Create or load the study; retry while another worker is creating the same storage."""
    import time

    import optuna
    from sqlalchemy.exc import SQLAlchemyError

    def open_it() -> Any:
        return optuna.create_study(
            study_name=str(spec.study_name),
            storage=None if spec.storage is None else str(spec.storage),
            sampler=sampler,
            direction="maximize",
            load_if_exists=True,
        )

    for attempt in range(attempts - 1):
        with contextlib.suppress(SQLAlchemyError, optuna.exceptions.DuplicatedStudyError):
            return open_it()
        time.sleep(1.0 + attempt)
    return open_it()


def distributions(params: Any) -> dict[str, Any]:
    """Optuna distributions of ``hparams_search.params`` (:class:`ConfigError` if invalid)."""
    import optuna

    space: dict[str, Any] = {}
    for key, p in params.items():
        if p.type not in ("float", "int") or not p.low < p.high or (p.log and p.low <= 0):
            raise ConfigError(
                f"hparams_search.params.{key}: need low < high (> 0 if log), type float or int"
            )
        if p.type == "int":
            space[key] = optuna.distributions.IntDistribution(int(p.low), int(p.high), log=p.log)
        else:
            space[key] = optuna.distributions.FloatDistribution(p.low, p.high, log=p.log)
    if not space:
        raise ConfigError("hparams_search.params is empty: nothing to search")
    return space


def collect(cfg: DictConfig, sweep_id: str, parent_run_id: str | None = None) -> SweepResult:
    """The MLflow runs of a sweep (and its best trial when it was a tuning sweep)."""
    import mlflow

    from relapse import tracking

    uri = tracking.configure(cfg)
    with tracking.mlflow_errors("reading the sweep's runs", uri):
        runs = mlflow.search_runs(
            experiment_names=[cfg.mlflow.experiment_name],
            filter_string=f"tags.{SWEEP_TAG} = '{sweep_id}'",
            order_by=["attributes.start_time ASC"],
        )
    assert isinstance(runs, pd.DataFrame)
    if parent_run_id is not None and len(runs):
        runs = runs.loc[runs["run_id"] != parent_run_id].reset_index(drop=True)
    result = SweepResult(
        sweep_id=sweep_id, runs=runs, parent_run_id=parent_run_id, tracking_uri=uri
    )
    column = f"metrics.{OBJECTIVE}"
    if parent_run_id is not None and column in runs and runs[column].notna().any():
        best = runs.loc[runs[column].idxmax()]
        result.best_value = float(best[column])
        result.best_params = {
            p: _number(best[f"params.{p}"]) for p in SEARCHED if f"params.{p}" in runs
        }
    return result


def train_command(params: dict[str, Any]) -> str:
    """The ``relapse train`` command line that trains (and registers) with ``params``."""
    return "relapse train " + " ".join(f"model.params.{k}={v}" for k, v in params.items())


def plain_overrides(overrides: Sequence[str]) -> list[str]:
    """The overrides that are neither sweeps nor ``hydra`` settings (composable as is)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except HydraException as exc:
        raise ConfigError(f"invalid override: {str(exc).strip().splitlines()[0]}") from exc
    return [
        o.input_line
        for o in parsed
        if o.input_line and not o.is_sweep_override() and not o.is_hydra_override()
    ]


# ------------------------------------------------------------------------------ helpers


def _start_parent(
    cfg: DictConfig, experiment_id: str, sweep_id: str, overrides: Sequence[str]
) -> str:
    """Create the parent run of a tuning sweep (trials nest under it from any process)."""
    from mlflow import MlflowClient

    from relapse import tracking

    uri = tracking.tracking_uri(cfg)
    with tracking.mlflow_errors("starting the sweep's parent run", uri):
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        run = client.create_run(
            experiment_id,
            run_name=f"optuna-{sweep_id}",
            tags={
                SWEEP_TAG: sweep_id,
                "run_kind": "tuning_sweep",
                "git_commit": tracking.git_commit(),
                "overrides": " ".join(overrides)[:5000],
            },
        )
        run_id = str(run.info.run_id)
        params = {
            "first_origin": cfg.split.first_origin,
            "objective": OBJECTIVE,
            "tune_first_origin": cfg.split.tune_first_origin,
            "families": ",".join(cfg.features.families),
        }
        for h in cfg.target.horizons:
            first, last = tuning_origins(cfg, int(h))
            params[f"tune_origins_h{int(h)}"] = f"{first}-{last}"
        for key, value in params.items():
            client.log_param(run_id, key, value)
    return run_id


def _finish_parent(cfg: DictConfig, run_id: str, result: SweepResult, status: str) -> None:
    from mlflow import MlflowClient

    from relapse import tracking

    uri = tracking.tracking_uri(cfg)
    with tracking.mlflow_errors("closing the sweep's parent run", uri):
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        client.log_metric(run_id, "n_trials", len(result.runs))
        if result.best_value is not None:
            client.log_metric(run_id, f"best_{OBJECTIVE}", result.best_value)
            for key, value in result.best_params.items():
                client.log_param(run_id, f"best_{key}", value)
            client.set_tag(run_id, "best_train_command", train_command(result.best_params))
        client.set_terminated(run_id, status=status)


@contextlib.contextmanager
def _argv(argv: list[str]) -> Iterator[None]:
    """Hand ``argv`` to ``hydra.main``; let exceptions through instead of ``sys.exit(1)``."""
    saved, full_error = sys.argv, os.environ.get("HYDRA_FULL_ERROR")
    sys.argv = argv
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        yield
    finally:
        sys.argv = saved
        if full_error is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = full_error


def _job_number() -> str:
    from hydra.core.hydra_config import HydraConfig

    try:
        return str(HydraConfig.get().job.num)
    except ValueError:  # not inside a Hydra job
        return "0"


def _number(text: Any) -> Any:
    """A logged param (a string) back as int or float where it is one."""
    for kind in (int, float):
        with contextlib.suppress(TypeError, ValueError):
            return kind(text)
    return text


def _rounded(values: dict[int, float]) -> dict[int, float]:
    return {h: round(v, 4) for h, v in values.items()}
