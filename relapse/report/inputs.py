"""Fetch the report's inputs from MLflow: the champion models and their run's back-test tables.

The only part of :mod:`relapse.report` that talks to the registry; everything else takes plain
objects, so it can be tested without MLflow.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported when used: the commands start the MLflow worker first
    import pandas as pd

    from relapse.build import BuildResult
    from relapse.mlflow_worker import MlflowWorker

METRICS_ARTIFACT = "metrics.csv"
PREDICTIONS_ARTIFACT = "backtest_predictions.parquet"


def report_horizons(cfg: Any) -> list[int]:
    """``report.horizons``, or every horizon of ``target.horizons``."""
    return [int(h) for h in (cfg.report.horizons or cfg.target.horizons)]


def champion_models(
    cfg: Any, horizons: Sequence[int], load: Callable[[Any, int, str], Any] | None = None
) -> dict[int, Any]:
    """The models of ``horizons`` at ``report.model_version``, all from one training run
    (:func:`relapse.registry.require_one_run`).

    ``load`` is ``(cfg, horizon, version) -> Forecast``: the commands pass
    :meth:`relapse.mlflow_worker.ModelFetch.load`; default
    :func:`relapse.registry.load_registered` (in this process).
    """
    from relapse.registry import load_registered, require_one_run

    version = str(cfg.report.model_version)
    models = {int(h): (load or load_registered)(cfg, int(h), version) for h in horizons}
    require_one_run(models)
    return models


def run_tables(
    cfg: Any, models: Mapping[int, Any], worker: MlflowWorker | None = None
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, list[str]]:
    """The back-test metrics and predictions logged by the runs that produced ``models``.

    Each horizon's rows come from the run of that horizon's model. A missing artifact is not
    fatal (the report then says it has no back-test); its message is returned in ``problems``.
    The files are downloaded by ``worker`` (:func:`download_run_tables`; default: in this
    process) and read here.

    Returns
    -------
    metrics, predictions, problems
    """
    import pandas as pd

    by_run: dict[str, list[int]] = {}
    for h, model in models.items():
        by_run.setdefault(str(model.run_id), []).append(int(h))
    with contextlib.ExitStack() as stack:
        if worker is None:
            dest = stack.enter_context(tempfile.TemporaryDirectory())
            files, problems = download_run_tables(cfg, by_run, dest)
        else:
            dest = str(worker.scratch / "run_tables")
            call = worker.submit(f"{__name__}:download_run_tables", cfg, by_run, dest)
            files, problems = worker.result(call)
        tables: dict[str, list[pd.DataFrame]] = {METRICS_ARTIFACT: [], PREDICTIONS_ARTIFACT: []}
        readers = {METRICS_ARTIFACT: pd.read_csv, PREDICTIONS_ARTIFACT: pd.read_parquet}
        for artifact, run_id, local in files:
            table = readers[artifact](Path(local))
            tables[artifact].append(table.loc[table["horizon"].isin(by_run[run_id])])
    metrics, predictions = tables[METRICS_ARTIFACT], tables[PREDICTIONS_ARTIFACT]
    return (
        pd.concat(metrics, ignore_index=True) if metrics else None,
        pd.concat(predictions, ignore_index=True) if predictions else None,
        problems,
    )


def download_run_tables(
    cfg: Any, by_run: Mapping[str, Sequence[int]], dest: str
) -> tuple[list[tuple[str, str, str]], list[str]]:
    """Download each run's back-test metrics and predictions into ``dest`` (MLflow only).

    Returns
    -------
    files, problems
        ``(artifact, run id, local path)`` of every file downloaded, and the message of each
        one that could not be (a :class:`~relapse.errors.ModelError`'s).
    """
    import mlflow

    from relapse import tracking
    from relapse.errors import ModelError

    uri = tracking.configure(cfg)
    files: list[tuple[str, str, str]] = []
    problems: list[str] = []
    for run_id in by_run:
        folder = Path(dest) / run_id
        folder.mkdir(parents=True, exist_ok=True)
        for artifact in (METRICS_ARTIFACT, PREDICTIONS_ARTIFACT):
            try:
                with tracking.mlflow_errors(f"downloading {artifact} of run {run_id}", uri):
                    local = mlflow.artifacts.download_artifacts(
                        run_id=run_id,
                        artifact_path=artifact,
                        dst_path=str(folder),
                        tracking_uri=uri,
                    )
            except ModelError as exc:
                problems.append(str(exc))
                continue
            files.append((artifact, run_id, str(local)))
    return files, problems


def report_notes(cfg: Any, built: BuildResult) -> dict[str, Any]:
    """The report's ``location_note`` and ``track_record`` arguments of ``build_context``.

    The location note is for the report's forecast year (the panel's last post-conflict year,
    :func:`relapse.scoring.scope.location_words`): read from the location changes cached
    beside the panel when ``relapse score`` has cached them (:func:`relapse.build.
    read_scoring_inputs`), else computed for that year from the conflict tables; nothing is
    written. The track record is the last written ``${paths.scores_dir}/track_record.csv``
    (None when there is none yet).
    """
    from relapse.build import read_scoring_inputs
    from relapse.scoring.scope import location_words
    from relapse.track_record import read_track_record

    panel = built.panel
    as_of = int(panel.loc[panel["in_population"].astype(bool), "year"].max())
    cached = read_scoring_inputs(cfg)
    if cached is not None and cached.input_hash == built.input_hash:
        changes = cached.changes_in(as_of)
    else:
        changes = _location_changes(cfg, panel, as_of)
    return {
        "location_note": location_words(cfg, changes, as_of),
        "track_record": read_track_record(cfg.paths.scores_dir),
    }


def _location_changes(cfg: Any, panel: pd.DataFrame, as_of: int) -> pd.DataFrame:
    """:func:`relapse.panel.location_changes` of ``as_of``, from the validated ACD and
    battle-death tables (cut like the panel's sources)."""
    from relapse.build import load_configured
    from relapse.panel import location_changes

    conflict = load_configured(cfg, ["ucdp_acd", "ucdp_brd"])
    spine = panel[["gwno", "year", "iso3", "country"]]
    return location_changes(conflict["ucdp_acd"], conflict["ucdp_brd"], spine, cfg.target, as_of)
