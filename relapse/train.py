"""``relapse train``: backtest, fit the final models, log everything to MLflow, register.

Per horizon ``h``:

1. rolling-origin backtest (:func:`relapse.backtest.backtest`) of the model and both
   baselines, evaluated pooled over origins (:func:`relapse.evaluate.evaluate`);
2. the **final model** is fitted on every labelled population row (years ``t <= last_year -
   h``). Its number of boosting rounds is chosen by early stopping on a *final in-window
   validation slice* — the last ``split.validation_years`` labelled years — and it is then
   refitted on all rows with that number (``model.refit``), exactly as in each backtest fold;
   the calibrator, if any, is fitted on that slice's out-of-sample scores;
3. the final model is registered as ``relapse-h{h}`` with alias ``candidate``.

Only when every horizon is registered and the report written are the candidates promoted to
``champion``, all horizons together or none (:func:`relapse.tracking.promote_run`): a run
that fails or is killed before that step changes no champion.
"""

from __future__ import annotations

import copy
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig

from relapse import features as feats
from relapse.backtest import backtest
from relapse.evaluate import evaluate, metric_value, plot_reliability
from relapse.model import HISTORY_FEATURES, LightGBMRelapse, build_model
from relapse.splits import final_origin, label_column


@dataclass
class TrainResult:
    """What ``train`` produced."""

    metrics: pd.DataFrame
    predictions: pd.DataFrame
    run_id: str
    versions: dict[int, str]
    promoted: dict[int, bool]
    data_vintage: str
    folds: pd.DataFrame = field(default_factory=pd.DataFrame)
    models: dict[int, LightGBMRelapse] = field(default_factory=dict)
    tracking_uri: str = ""
    seconds: float = 0.0
    report_path: Path | None = None
    promotion: dict[int, Any] = field(default_factory=dict)
    """Horizon → :class:`relapse.tracking.PromotionCheck`."""


RUN_METRICS: dict[tuple[str, str], str] = {
    ("model", "roc_auc"): "backtest_roc_auc_h{h}",
    ("model", "average_precision"): "backtest_average_precision_h{h}",
    ("model", "brier"): "backtest_brier_h{h}",
    ("model", "log_loss"): "backtest_log_loss_h{h}",
    ("model", "brier_skill"): "backtest_brier_skill_h{h}",
    ("model", "ece"): "backtest_ece_h{h}",
    ("model", "base_rate"): "backtest_base_rate_h{h}",
    ("model", "n"): "backtest_n_h{h}",
    ("history", "roc_auc"): "baseline_history_roc_auc_h{h}",
    ("history", "average_precision"): "baseline_history_average_precision_h{h}",
    ("history", "brier"): "baseline_history_brier_h{h}",
    ("history", "log_loss"): "baseline_history_log_loss_h{h}",
    ("history", "brier_skill"): "baseline_history_brier_skill_h{h}",
    ("history", "ece"): "baseline_history_ece_h{h}",
    ("climatology", "roc_auc"): "baseline_climatology_roc_auc_h{h}",
    ("climatology", "average_precision"): "baseline_climatology_average_precision_h{h}",
    ("climatology", "brier"): "baseline_climatology_brier_h{h}",
    ("climatology", "log_loss"): "baseline_climatology_log_loss_h{h}",
}
"""(model, metric) of the metrics table → MLflow metric name."""


def run_metrics(table: pd.DataFrame) -> dict[str, float]:
    """The MLflow metrics of a metrics table (finite values only), incl. interval bounds."""
    out: dict[str, float] = {}
    for h in sorted(table["horizon"].unique()):
        for (model, metric), name in RUN_METRICS.items():
            m = (table["horizon"] == h) & (table["model"] == model) & (table["metric"] == metric)
            if not m.any():
                continue
            row = table.loc[m].iloc[0]
            key = name.format(h=int(h))
            for suffix, col in (("", "value"), ("_lo", "lo"), ("_hi", "hi")):
                value = row[col]
                if pd.notna(value):
                    out[key + suffix] = float(value)
    return out


def training_panel(cfg: DictConfig) -> Any:
    """Build the panel; add the conflict_legacy columns if the baseline needs them.

    The history baseline needs the four conflict-history features whatever the model's
    feature list is; when ``conflict_legacy`` is switched off they are built too, but stay
    out of the model (the model uses ``feature_columns`` of the config as given).
    """
    from relapse.build import build_panel

    if "conflict_legacy" in cfg.features.families:
        return build_panel(cfg)
    widened = copy.deepcopy(cfg)
    widened.features.families = [*cfg.features.families, "conflict_legacy"]
    return build_panel(widened)


def fit_final(
    panel: pd.DataFrame, features: list[str], horizon: int, cfg: DictConfig
) -> tuple[LightGBMRelapse, pd.DataFrame]:
    """The final model of a horizon on every labelled population row (see module docs)."""
    origin = final_origin(panel, horizon, int(cfg.split.validation_years))
    rows = panel.loc[origin.train_mask(panel)]
    y = rows[label_column(horizon)].astype("int64").to_numpy()
    validation = rows["year"].isin(origin.validation_years).to_numpy()
    model = build_model(cfg.model, int(cfg.seed)).fit(rows[features], y, validation=validation)
    return model, rows


def curated_params(cfg: DictConfig, features: list[str]) -> dict[str, Any]:
    """The params logged to MLflow (the full config goes in ``config.yaml``)."""
    p = dict(cfg.model.params)
    return {
        "horizons": ",".join(str(h) for h in cfg.target.horizons),
        "target_level": cfg.target.level,
        "window_years": cfg.target.window_years,
        "families": ",".join(cfg.features.families),
        "n_features": len(features),
        "first_origin": cfg.split.first_origin,
        "last_origin": cfg.split.last_origin,
        "validation_years": cfg.split.validation_years,
        "bootstrap_samples": cfg.split.bootstrap_samples,
        "num_boost_round": cfg.model.num_boost_round,
        "early_stopping_rounds": cfg.model.early_stopping_rounds,
        "calibration": cfg.model.calibration,
        "refit": cfg.model.refit,
        "final_rounds_from": "final in-window validation slice",
        **{
            k: p.get(k)
            for k in (
                "learning_rate",
                "num_leaves",
                "min_data_in_leaf",
                "feature_fraction",
                "bagging_fraction",
                "lambda_l2",
                "max_bin",
                "num_threads",
            )
        },
        "seed": cfg.seed,
    }


def train(cfg: DictConfig, progress: Callable[[str], None] | None = None) -> TrainResult:
    """Build the panel, backtest every horizon, fit and register the final models.

    Parameters
    ----------
    cfg
        ``compose_config("train", overrides)``.
    progress
        Optional callable receiving short progress messages.

    Returns
    -------
    TrainResult
        Metrics table, backtest predictions, MLflow run id, registered version and
        promotion flag per horizon.

    Raises
    ------
    DataError
        If the data end before the data of a current champion (see
        :func:`refuse_older_vintage`).
    ModelError
        If MLflow cannot be reached or refuses a write.
    """
    import mlflow

    from relapse import tracking

    start = time.perf_counter()
    say = progress or (lambda _msg: None)
    horizons = [int(h) for h in cfg.target.horizons]
    refuse_older_vintage(cfg, horizons)
    experiment_id = tracking.ensure_experiment(cfg)  # a store that cannot be written fails now
    built = training_panel(cfg)
    panel = built.panel
    last_year = int(panel["year"].max())
    features = feats.feature_columns(cfg)
    families = feats.family_map(cfg)
    if not features:
        raise ValueError("no model features: features.families enables no registered feature")
    say("panel ready")

    preds, folds = [], []
    for h in horizons:
        result = backtest(panel, features, h, cfg, progress=progress)
        preds.append(result.predictions)
        folds.append(result.folds)
    predictions = pd.concat(preds, ignore_index=True)
    fold_table = pd.concat(folds, ignore_index=True)
    metrics = evaluate(
        predictions, bootstrap_samples=int(cfg.split.bootstrap_samples), seed=int(cfg.seed)
    )
    say("backtest evaluated")

    finals: dict[int, tuple[LightGBMRelapse, pd.DataFrame]] = {
        h: fit_final(panel, features, h, cfg) for h in horizons
    }
    say("final models fitted")

    uri = tracking.tracking_uri(cfg)
    versions: dict[int, str] = {}
    with tracking.bounded_run(experiment_id, uri) as run:
        with tracking.mlflow_errors("logging the training run", uri):
            log_run_contents(cfg, built, last_year, features, metrics, predictions, fold_table)
        for h in horizons:
            model, rows = finals[h]
            with tracking.mlflow_errors("logging the training run", uri):
                mlflow.log_metric(f"final_best_iteration_h{h}", model.best_iteration_)
                mlflow.log_metric(f"final_n_train_h{h}", len(rows))
            calibration = model.calibrator_.to_dict() if model.calibrator_ else None
            versions[h] = tracking.register_model(
                cfg,
                h,
                model.booster_,
                rows[features].head(20),
                families,
                calibration,
                tags={
                    "data_vintage": built.data_vintage,
                    "horizon": str(h),
                    tracking.DATA_LAST_YEAR: str(last_year),
                },
            )
            say(f"registered {tracking.model_name(cfg, h)} v{versions[h]} (candidate)")
        report_path = None
        if cfg.report.on_train:
            say("writing the analyst report")
            report_path = write_training_report(cfg, built, metrics, predictions, versions)
            with tracking.mlflow_errors("logging the report", uri):
                mlflow.log_artifact(str(report_path), artifact_path="report")
        # Last step, after everything else succeeded: all horizons switch together or none.
        checks = tracking.promote_run(
            cfg,
            {
                h: (versions[h], metric_value(metrics, h, "model", "average_precision"))
                for h in horizons
            },
            force=bool(cfg.promote),
            predictions=predictions,
        )
        with tracking.mlflow_errors("logging the promotion", uri):
            log_promotion(checks)
        run_id = run.info.run_id
    promoted = {h: check.promoted for h, check in checks.items()}
    return TrainResult(
        metrics=metrics,
        predictions=predictions,
        run_id=run_id,
        versions=versions,
        promoted=promoted,
        data_vintage=built.data_vintage,
        folds=fold_table,
        models={h: finals[h][0] for h in horizons},
        tracking_uri=uri,
        seconds=time.perf_counter() - start,
        report_path=report_path,
        promotion=checks,
    )


def log_run_contents(
    cfg: DictConfig,
    built: Any,
    last_year: int,
    features: list[str],
    metrics: pd.DataFrame,
    predictions: pd.DataFrame,
    fold_table: pd.DataFrame,
) -> None:
    """Tags, config, params, metrics, backtest tables and reliability plots of the active run."""
    import mlflow

    from relapse import tracking
    from relapse.config import to_container

    mlflow.set_tags(
        {
            "data_vintage": built.data_vintage,
            tracking.DATA_LAST_YEAR: str(last_year),
            "git_commit": tracking.git_commit(),
            "history_features": ",".join(HISTORY_FEATURES),
            **{str(k): str(v) for k, v in cfg.tags.items()},
        }
    )
    mlflow.log_dict(to_container(cfg), "config.yaml")
    mlflow.log_params(curated_params(cfg, features))
    mlflow.log_metrics(run_metrics(metrics))
    tracking.log_frame(predictions, "backtest_predictions", ("parquet", "csv"))
    tracking.log_frame(metrics, "metrics")
    tracking.log_frame(fold_table, "backtest_folds")
    with tempfile.TemporaryDirectory() as tmp:
        for h in sorted({int(h) for h in predictions["horizon"]}):
            path = plot_reliability(predictions, h, Path(tmp) / f"reliability_h{h}.png")
            mlflow.log_artifact(str(path), artifact_path="plots")


def log_promotion(checks: dict[int, Any]) -> None:
    """The promotion basis and the compared average precisions, per horizon."""
    import mlflow

    mlflow.set_tag("promoted", str(all(c.promoted for c in checks.values())).lower())
    for h, check in checks.items():
        mlflow.set_tag(f"promotion_basis_h{h}", check.basis)
        mlflow.log_metric(f"promotion_candidate_ap_h{h}", check.candidate_ap)
        if check.champion_ap is not None:
            mlflow.log_metric(f"promotion_champion_ap_h{h}", check.champion_ap)
            mlflow.log_metric(f"promotion_common_rows_h{h}", check.rows)


def refuse_older_vintage(cfg: DictConfig, horizons: list[int]) -> None:
    """Refuse data ending before the data a current champion was trained on.

    Runs before any work: asks the registry for each champion's ``data_last_year`` tag, and
    reads the conflict data's last year (:func:`relapse.build.data_last_year`) only when a
    champion records one. ``allow_older_vintage=true`` skips the check (e.g. a deliberate
    backtest on an old release).

    Raises
    ------
    DataError
        Naming both years and the override.
    ModelError
        If the registry cannot be reached.
    """
    from relapse import tracking
    from relapse.build import data_last_year
    from relapse.errors import DataError

    if cfg.allow_older_vintage:
        return
    recorded: dict[int, tuple[str | None, int]] = {}
    for h in horizons:
        version, year = tracking.champion_data_last_year(cfg, h)
        if year is not None:
            recorded[h] = (version, year)
    if not recorded:
        return
    last = data_last_year(cfg)
    later = {h: vy for h, vy in recorded.items() if vy[1] > last}
    if later:
        h = max(later, key=lambda k: later[k][1])
        version, year = later[h]
        raise DataError(
            f"the data end in {last}, but the champion {tracking.model_name(cfg, h)} v{version} "
            f"was trained on data up to {year}: this looks like an older data release going "
            "backwards in time (check paths.data_dir and data.vintage_year). Nothing was "
            "trained; to train on it anyway, pass allow_older_vintage=true"
        )


def write_training_report(
    cfg: DictConfig,
    built: Any,
    metrics: pd.DataFrame,
    predictions: pd.DataFrame,
    versions: dict[int, str],
) -> Path:
    """The analyst report for the versions just registered (loaded back from the registry).

    Loading them back, rather than reusing the in-memory models, makes the report describe
    exactly what the registry serves to ``relapse score``.
    """
    from relapse import tracking
    from relapse.report import make_report

    models = {h: tracking.load_registered(cfg, h, str(v)) for h, v in versions.items()}
    return make_report(
        Path(cfg.paths.reports_dir) / "report.html",
        built.panel,
        models,
        feats.registry_table(cfg),
        metrics=metrics,
        backtest=predictions,
        options=cfg.report,
        data_vintage=built.data_vintage,
        seed=int(cfg.seed),
    )
