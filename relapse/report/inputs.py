"""Fetch the report's inputs from MLflow: the champion models and their run's back-test tables.

The only part of :mod:`relapse.report` that talks to the registry; everything else takes plain
objects, so it can be tested without MLflow.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

METRICS_ARTIFACT = "metrics.csv"
PREDICTIONS_ARTIFACT = "backtest_predictions.parquet"


def report_horizons(cfg: Any) -> list[int]:
    """``report.horizons``, or every horizon of ``target.horizons``."""
    return [int(h) for h in (cfg.report.horizons or cfg.target.horizons)]


def champion_models(cfg: Any, horizons: Sequence[int]) -> dict[int, Any]:
    """``relapse.registry.load_registered`` for each horizon at ``report.model_version``,
    all from one training run (:func:`relapse.registry.require_one_run`)."""
    from relapse.registry import load_registered, require_one_run

    models = {int(h): load_registered(cfg, int(h), cfg.report.model_version) for h in horizons}
    require_one_run(models)
    return models


def run_tables(
    cfg: Any, models: dict[int, Any]
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, list[str]]:
    """The back-test metrics and predictions logged by the runs that produced ``models``.

    Each horizon's rows come from the run of that horizon's model. A missing artifact is not
    fatal (the report then says it has no back-test); its message is returned in ``problems``.

    Returns
    -------
    metrics, predictions, problems
    """
    import mlflow

    from relapse import tracking
    from relapse.errors import ModelError

    uri = tracking.configure(cfg)
    metrics: list[pd.DataFrame] = []
    predictions: list[pd.DataFrame] = []
    problems: list[str] = []
    by_run: dict[str, list[int]] = {}
    for h, model in models.items():
        by_run.setdefault(str(model.run_id), []).append(int(h))
    for run_id, horizons in by_run.items():
        with tempfile.TemporaryDirectory() as tmp:
            for artifact, sink, read in (
                (METRICS_ARTIFACT, metrics, pd.read_csv),
                (PREDICTIONS_ARTIFACT, predictions, pd.read_parquet),
            ):
                try:
                    with tracking.mlflow_errors(f"downloading {artifact} of run {run_id}", uri):
                        local = mlflow.artifacts.download_artifacts(
                            run_id=run_id, artifact_path=artifact, dst_path=tmp, tracking_uri=uri
                        )
                        table = read(Path(local))
                except ModelError as exc:
                    problems.append(str(exc))
                    continue
                sink.append(table.loc[table["horizon"].isin(horizons)])
    return (
        pd.concat(metrics, ignore_index=True) if metrics else None,
        pd.concat(predictions, ignore_index=True) if predictions else None,
        problems,
    )


def report_notes(cfg: Any, panel: pd.DataFrame) -> dict[str, Any]:
    """The report's ``location_note`` and ``track_record`` arguments of ``build_context``.

    The location note is for the report's forecast year (the panel's last post-conflict year,
    :func:`relapse.scoring.scope.location_note`); the track record is the last written
    ``${paths.scores_dir}/track_record.csv`` (None when there is none yet).
    """
    from relapse.scoring.scope import load_conflict_tables, location_note
    from relapse.track_record import read_track_record

    as_of = int(panel.loc[panel["in_population"].astype(bool), "year"].max())
    return {
        "location_note": location_note(cfg, panel, load_conflict_tables(cfg), as_of),
        "track_record": read_track_record(cfg.paths.scores_dir),
    }
