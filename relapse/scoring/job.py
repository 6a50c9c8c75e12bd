"""The job: load the champions, build the panel, score the scope, write, log the run.

See :mod:`relapse.scoring` for the contract (statuses, refusals, exit codes).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pandas as pd
from omegaconf import DictConfig

from relapse import bands
from relapse.errors import ConfigError, DataError, ModelError, output_dir
from relapse.forecast import Forecast
from relapse.mlflow_worker import MlflowWorker
from relapse.scoring.table import STATUSES

EXPERIMENT = "relapse-scoring"


class ScoreLockError(ConfigError):
    """Another ``relapse score`` holds the scores directory's lock (exit 2)."""


ModelLoader = Callable[[DictConfig, int, str], Forecast]
RunLogger = Callable[[DictConfig, "ScoreResult"], None]


@dataclass
class ScoreResult:
    """What a scoring run wrote and from what."""

    table: pd.DataFrame
    out_dir: Path
    as_of: int
    input_hash: str
    data_vintage: str
    models: dict[int, tuple[str, str]]
    notes: list[str] = field(default_factory=list)
    missions: pd.DataFrame = field(default_factory=pd.DataFrame)
    """:attr:`relapse.missions.MissionsResult.missions` (the brief's mission table)."""
    skill: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Per horizon: the champion's backtest verdict beside the history baseline."""
    base_rates: dict[int, float] = field(default_factory=dict)
    multiples: list[float] = field(default_factory=lambda: list(bands.DEFAULT_MULTIPLES))
    previous: pd.DataFrame | None = None
    """The previous year's scores, if present (entries and exits)."""

    @property
    def counts(self) -> dict[str, int]:
        """Rows per status (all horizons)."""
        vc = self.table["status"].value_counts()
        return {s: int(vc.get(s, 0)) for s in STATUSES}


def score(
    cfg: DictConfig,
    *,
    load_model: ModelLoader | None = None,
    log_run: RunLogger | None = None,
    worker: MlflowWorker | None = None,
) -> ScoreResult:
    """Score the configured scope with the registered models and write the outputs.

    Parameters
    ----------
    cfg
        Composed config (``compose_config(overrides)``).
    load_model
        ``(cfg, horizon, version) -> model``; default: the registered models, fetched by the
        MLflow worker (:class:`relapse.mlflow_worker.ModelFetch`).
    log_run
        ``(cfg, result) -> None`` called after the outputs are written; default logs to
        MLflow through the worker (:func:`log_to_mlflow`).
    worker
        The MLflow worker to use (``relapse score`` starts it before importing pandas);
        default: one started here when the defaults above need it, and ended on return.

    Raises
    ------
    ScoreLockError
        Another run held the lock for longer than ``score.lock_timeout_s``.
    ConfigError
        Bad ``as_of`` or unknown countries.
    DataError
        A model was trained on data later than the data's last year.
    OutputError
        The outputs could not be written (disk full); the previous outputs are intact.
    ModelError
        No registered model, a feature-list mismatch, or tracking unavailable (the scores
        are written in that last case).
    """
    from filelock import FileLock, Timeout

    from relapse.scoring.outputs import render_files, write_outputs

    scores_dir = output_dir(cfg.paths.scores_dir)
    lock_path = scores_dir / ".lock"
    timeout = float(cfg.score.lock_timeout_s)
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise ScoreLockError(
            f"another `relapse score` is writing to {scores_dir} (lock {lock_path} held for "
            f"more than score.lock_timeout_s={timeout:g}s); try again when it has finished"
        ) from None
    try:
        with contextlib.ExitStack() as owned:
            if worker is None and (load_model is None or log_run is None):
                worker = owned.enter_context(MlflowWorker(cfg))
            loader = load_model or _registered_loader(cfg, cast(MlflowWorker, worker))
            result = compute_scores(cfg, load_model=loader)
            files = render_files(result)
            result.out_dir = write_outputs(files, scores_dir, result.as_of)
            if log_run is None:
                log_to_mlflow(cfg, result, cast(MlflowWorker, worker))
            else:
                log_run(cfg, result)
    finally:
        lock.release()
    return result


def compute_scores(cfg: DictConfig, *, load_model: ModelLoader | None = None) -> ScoreResult:
    """Everything but writing: models, panel, scope, probabilities, drivers, conflict facts.

    ``load_model`` defaults to :func:`relapse.registry.load_registered` (in this process).
    The panel work comes before the models are needed, so that a loader fetching them in the
    MLflow worker (:func:`score`) is not waited for while this process has work; only a
    panel that must be rebuilt waits for them first, so that a refused run leaves the cached
    panel as it was.
    """
    from omegaconf import OmegaConf

    # LightGBM and scikit-learn (the models' code): imported now, while they are fetched.
    import relapse.model  # noqa: F401
    from relapse.build import build_panel, data_last_year, read_scoring_inputs, scoring_inputs
    from relapse.features import feature_columns
    from relapse.missions import active_missions
    from relapse.scoring.scope import conflict_facts, location_words, mission_notes, select_scope
    from relapse.scoring.table import score_table

    horizons = [int(h) for h in cfg.target.horizons]
    version = str(cfg.score.model_version)
    loader = load_model or _in_process_loader()
    features = feature_columns(cfg)
    cached = read_scoring_inputs(cfg)
    models: dict[int, Forecast] | None = None
    if cached is None:  # the panel is (re)built below: refuse before that
        models = load_models(cfg, loader, horizons, version, features)
        check_data_year(models, data_last_year(cfg))
    built = build_panel(cfg)
    panel = built.panel
    inputs = scoring_inputs(cfg, built, cached)
    as_of = resolve_as_of(cfg, panel)
    overrides = cast(dict, OmegaConf.to_container(cfg.score.mission_hosts, resolve=True))
    missions = active_missions(inputs.tables, as_of, overrides)
    # Mission sources are registered sources, so the panel's vintage already covers them.
    vintage = built.data_vintage
    targets = select_scope(cfg, panel, as_of, missions)
    facts = conflict_facts(panel, inputs.tables, cfg, as_of)
    previous, prev_note = previous_scores(Path(cfg.paths.scores_dir), as_of)
    rates = bands.base_rates(panel, horizons)
    multiples = [float(m) for m in cfg.report.risk_band_multiples]
    if models is None:
        models = load_models(cfg, loader, horizons, version, features)
    check_data_year(models, int(panel["year"].max()))
    table = score_table(
        panel, targets, models, as_of, vintage, rates, multiples, facts=facts, previous=previous
    )
    notes = mission_notes(missions, as_of) + ([prev_note] if prev_note else [])
    notes.append(location_words(cfg, inputs.changes_in(as_of), as_of))
    return ScoreResult(
        table=table,
        out_dir=Path(),
        as_of=as_of,
        input_hash=built.input_hash,
        data_vintage=vintage,
        models={h: (str(m.name), str(m.version)) for h, m in models.items()},
        notes=notes,
        missions=missions.missions,
        skill={h: skill_verdict(m.metrics, h) for h, m in models.items()},
        base_rates=rates,
        multiples=multiples,
        previous=previous,
    )


def load_models(
    cfg: DictConfig,
    loader: ModelLoader,
    horizons: Sequence[int],
    version: str,
    features: Sequence[str],
) -> dict[int, Forecast]:
    """The models of ``horizons`` from ``loader``: of one training run, each with exactly the
    built ``features`` (:class:`ModelError` otherwise)."""
    from relapse.registry import require_one_run

    models = {h: loader(cfg, h, version) for h in horizons}
    require_one_run(models)
    for h, model in models.items():
        check_features(model, features, h)
    return models


def previous_scores(scores_dir: Path, as_of: int) -> tuple[pd.DataFrame | None, str]:
    """The previous year's scores (``as_of=<year-1>/scores.parquet``) if present, and a note."""
    path = scores_dir / f"as_of={as_of - 1}" / "scores.parquet"
    if not path.is_file():
        return None, f"No scores for {as_of - 1} in {scores_dir}: no change since last year."
    try:
        prev = pd.read_parquet(
            path, columns=["gwno", "country", "horizon_years", "status", "relapse_probability"]
        )
    except Exception as exc:  # a damaged earlier file must not stop this year's scores
        return None, f"The {as_of - 1} scores could not be read ({type(exc).__name__}): no change."
    return prev, ""


def skill_verdict(metrics: Mapping[str, float], h: int) -> dict[str, Any]:
    """The champion's backtest skill beside the history baseline, by the one verdict rule.

    Reads the champion run's logged model − baseline differences and their paired intervals
    (:func:`relapse.evaluate.verdict_from_run_metrics`).
    """
    from relapse.evaluate import verdict_from_run_metrics

    verdict = verdict_from_run_metrics(metrics, h)
    if verdict["verdict"] == "not available":
        return {"available": False, "text": "not available (no backtest metrics on the run)"}
    return {"available": True, "beats": verdict["verdict"] == "beats", "text": verdict["text"]}


def _registered_loader(cfg: DictConfig, worker: MlflowWorker) -> ModelLoader:
    """The registered models of ``target.horizons`` at ``score.model_version``, whose fetch
    by ``worker`` starts now."""
    from relapse.mlflow_worker import ModelFetch

    horizons = [int(h) for h in cfg.target.horizons]
    return ModelFetch(worker, cfg, horizons, str(cfg.score.model_version)).load


def _in_process_loader() -> ModelLoader:
    try:
        from relapse.registry import load_registered
    except ImportError as exc:
        raise ModelError(
            f"cannot load registered models: relapse.registry unavailable ({exc})"
        ) from exc
    return cast(ModelLoader, load_registered)


def check_data_year(models: Mapping[int, Forecast], last_year: int) -> None:
    """Refuse a model trained on data later than the data being scored (:class:`DataError`).

    A model without a ``data_last_year`` tag (registered before the tag existed) is not
    checked.
    """
    for h, model in sorted(models.items()):
        year = model.data_last_year
        if year is not None and int(year) > last_year:
            raise DataError(
                f"the data end in {last_year}, but {model.name} v{model.version} (horizon {h}) "
                f"was trained on data up to {year}: the data release is older than the model's "
                "(check paths.data_dir and data.vintage_year), or score with a model version "
                "trained on this release (score.model_version=<n>). Nothing was written"
            )


def check_features(model: Forecast, features: Sequence[str], horizon: int) -> None:
    """Refuse a model whose features differ (as a set) from the built ones; name them."""
    expected, built = list(model.feature_names), list(features)
    only_model = [f for f in expected if f not in set(built)]
    only_built = [f for f in built if f not in set(expected)]
    if only_model or only_built:
        raise ModelError(
            f"model {model.name} v{model.version} (horizon {horizon}) does not match the built "
            f"features: expected by the model but not built: {only_model or 'none'}; built but "
            f"not in the model: {only_built or 'none'}. Retrain, or score with the feature "
            "families the model was trained on ('features.families=[...]')"
        )


def resolve_as_of(cfg: DictConfig, panel: pd.DataFrame) -> int:
    """``score.as_of``, or the last year of the panel; must lie within the panel."""
    first, last = int(panel["year"].min()), int(panel["year"].max())
    as_of = last if cfg.score.as_of is None else int(cfg.score.as_of)
    if not first <= as_of <= last:
        raise ConfigError(f"score.as_of={as_of} is outside the data ({first}–{last})")
    return as_of


def log_to_mlflow(cfg: DictConfig, result: ScoreResult, worker: MlflowWorker) -> None:
    """Log the run to the ``relapse-scoring`` experiment through ``worker``
    (:func:`log_scoring_run`); :class:`ModelError` on failure.

    The store is the one :func:`relapse.tracking.configure` points at; a failure (within
    ``mlflow.deadline_s``) names the written scores, which are kept.
    """
    from relapse import tracking

    try:
        worker.result(worker.submit(f"{__name__}:log_scoring_run", cfg, scoring_run(cfg, result)))
    except Exception as exc:
        raise ModelError(
            f"scores were written to {result.out_dir}, but logging the run to MLflow at "
            f"{tracking.tracking_uri(cfg)} failed: {tracking.first_line(exc)}"
        ) from exc


def scoring_run(cfg: DictConfig, result: ScoreResult) -> dict[str, Any]:
    """What :func:`log_scoring_run` logs of ``result`` (plain values: they go to the worker)."""
    params = {
        "as_of": result.as_of,
        "scope": str(cfg.score.scope),
        "model_version_requested": str(cfg.score.model_version),
        "input_hash": result.input_hash,
        "data_vintage": result.data_vintage,
        **{f"model_h{h}": f"{n}:{v}" for h, (n, v) in result.models.items()},
    }
    metrics = {f"rows_{s}": float(n) for s, n in result.counts.items()}
    metrics["rows"] = float(len(result.table))
    return {
        "name": f"score as_of={result.as_of}",
        "params": params,
        "metrics": metrics,
        "artifact": str(result.out_dir / "scores.csv"),
    }


def log_scoring_run(cfg: DictConfig, run: Mapping[str, Any]) -> None:
    """One run of :data:`EXPERIMENT`: parameters, row counts and ``scores.csv`` (in the
    MLflow worker).

    Raises
    ------
    ModelError
        Whose message is the reason alone (the store's own error where there is one).
    """
    from relapse import tracking

    uri = tracking.configure(cfg)
    try:
        with tracking.mlflow_errors("logging the scoring run", uri):
            _log_run(cfg, run, uri)
    except Exception as exc:
        cause = exc.__cause__ if isinstance(exc, ModelError) and exc.__cause__ else exc
        raise ModelError(tracking.first_line(cause)) from None


def _log_run(cfg: DictConfig, run: Mapping[str, Any], uri: str) -> None:
    from relapse import tracking

    client = tracking.mlflow_client(uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is not None:
        experiment_id = str(experiment.experiment_id)
    else:
        local = uri.startswith(("sqlite:", "file:")) or "://" not in uri
        location = Path(cfg.mlflow.artifact_root).resolve().as_uri() if local else None
        experiment_id = str(client.create_experiment(EXPERIMENT, artifact_location=location))
    created = client.create_run(experiment_id, run_name=run["name"], tags=tracking.context_tags())
    run_id = created.info.run_id
    try:
        tracking.log_batch(client, run_id, run["params"], run["metrics"])
        client.log_artifact(run_id, run["artifact"])
    except BaseException:
        with contextlib.suppress(Exception):
            client.set_terminated(run_id, "FAILED")
        raise
    client.set_terminated(run_id, "FINISHED")
