"""``relapse train``: backtest, fit the final models, log everything to MLflow, register.

1. rolling-origin backtest (:func:`relapse.backtest.backtest`) of the relapse model (one
   :class:`relapse.model.HazardModel` per origin, all horizons at once) and both baselines,
   evaluated pooled over origins (:func:`relapse.evaluate.evaluate`), beside the baseline with
   paired intervals (:func:`relapse.evaluate.compare`) and the top-k record;
2. the **final model** is fitted exactly like a backtest fold with the origin at the data's
   last year: each interval on every row whose outcome is known, early stopping on the last
   ``split.validation_years`` of its window, then refitted on all of them; its recalibration
   is fitted on every backtest origin's out-of-sample forecasts whose outcome is known;
3. the final model is registered once per horizon as ``relapse-h{h}`` and once for every
   horizon as ``mlflow.model_name`` (``relapse``; alias ``candidate``).

Only when every horizon is registered and the report written are the candidates promoted to
``champion``, all horizons (and ``relapse``) together or none
(:func:`relapse.registry.promote_run`): each must be at least as good as its champion like
for like and not worse than the history baseline on its own backtest rows. A run that fails
or is killed before that step changes no champion.
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
from relapse.backtest import backtest, population
from relapse.evaluate import (
    compare,
    difference_rows,
    evaluate,
    metric_value,
    plot_reliability,
    top_k_record,
    verdict_from_comparison,
)
from relapse.forecast import save_model
from relapse.model import HISTORY_FEATURES


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
    model: Any = None
    """The final :class:`relapse.model.HazardModel` (every horizon)."""
    combined_version: str = ""
    """The version of ``mlflow.model_name`` (every horizon) registered by the run."""
    comparison: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Model − history baseline with paired intervals (:func:`relapse.evaluate.compare`)."""
    top_k: pd.DataFrame = field(default_factory=pd.DataFrame)
    """The top-k record per horizon and origin (:func:`relapse.evaluate.top_k_record`)."""
    top_k_size: int = 3
    not_at_war_metrics: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Skill on every country-year not at war (routed model vs climatology)."""
    tracking_uri: str = ""
    seconds: float = 0.0
    report_path: Path | None = None
    promotion: dict[int, Any] = field(default_factory=dict)
    """Horizon → :class:`relapse.registry.PromotionCheck`."""


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


def comparison_metrics(comparison: pd.DataFrame, top_k: pd.DataFrame) -> dict[str, float]:
    """MLflow metrics of the model − baseline comparison and the top-k record."""
    out: dict[str, float] = {}
    for row in comparison.itertuples():
        key = f"diff_history_{row.metric}_h{int(row.horizon)}"
        for suffix, value in (("", row.difference), ("_lo", row.lo), ("_hi", row.hi)):
            if pd.notna(value):
                out[key + suffix] = float(value)
    for h, df in top_k.groupby("horizon"):
        out[f"top_k_hits_model_h{int(h)}"] = float(df["hits_model"].sum())
        out[f"top_k_hits_history_h{int(h)}"] = float(df["hits_history"].sum())
        out[f"top_k_origins_h{int(h)}"] = float(len(df))
    return out


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


def fit_final(panel: pd.DataFrame, features: list[str], cfg: DictConfig, result: Any) -> Any:
    """The final model (every horizon, routed; see module docs) with its recalibration."""
    from relapse.backtest import (
        build_hazard_model,
        final_recalibration,
        fit_not_at_war,
        label_frame,
        not_at_war,
        population,
        routed,
    )

    horizons = [int(h) for h in cfg.target.horizons]
    pop = population(panel)
    last_year = int(panel["year"].max())
    model = build_hazard_model(cfg).fit(
        pop[features], label_frame(pop, horizons), pop["year"], last_year
    )
    model.set_recalibration(final_recalibration(result, cfg, last_year))
    other = (
        fit_not_at_war(not_at_war(panel), last_year, features, cfg)
        if cfg.model.not_at_war
        else None
    )
    return routed(model, other, cfg)


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
        "calibration_first_origin": cfg.split.calibration_first_origin,
        "model_design": "hazard intervals; history logit + boosted trees per interval",
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


@dataclass
class BacktestScores:
    """The backtest's evaluation: what the run logs, the report reads and promotion weighs."""

    metrics: pd.DataFrame
    """The metrics table with the model − history difference rows."""
    comparison: pd.DataFrame
    """Model − history baseline with paired intervals (:func:`relapse.evaluate.compare`)."""
    top_k: pd.DataFrame
    not_at_war: pd.DataFrame
    """Skill on every country-year not at war (empty when ``model.not_at_war`` is off)."""


def evaluate_backtest(result: Any, cfg: DictConfig) -> BacktestScores:
    """Metrics, the comparison with the baseline, the top-k record and the not-at-war skill."""
    samples, seed = int(cfg.split.bootstrap_samples), int(cfg.seed)
    predictions = result.predictions
    metrics = evaluate(predictions, bootstrap_samples=samples, seed=seed)
    comparison = compare(predictions, bootstrap_samples=samples, seed=seed)
    not_at_war_metrics = (
        evaluate(
            result.not_at_war,
            bootstrap_samples=samples,
            seed=seed,
            models=("model", "climatology"),
        )
        if len(result.not_at_war)
        else pd.DataFrame()
    )
    return BacktestScores(
        metrics=pd.concat([metrics, difference_rows(comparison)], ignore_index=True),
        comparison=comparison,
        top_k=top_k_record(predictions, k=int(cfg.report.top_k)),
        not_at_war=not_at_war_metrics,
    )


def train(cfg: DictConfig, progress: Callable[[str], None] | None = None) -> TrainResult:
    """Build the panel, backtest every horizon, fit and register the final models.

    Parameters
    ----------
    cfg
        ``compose_config(overrides)``.
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
    from relapse import tracking

    start = time.perf_counter()
    say = progress or (lambda _msg: None)
    refuse_older_vintage(cfg, [int(h) for h in cfg.target.horizons])
    experiment_id = tracking.ensure_experiment(cfg)  # a store that cannot be written fails now
    built = training_panel(cfg)
    panel = built.panel
    last_year = int(panel["year"].max())
    features = feats.feature_columns(cfg)
    families = feats.family_map(cfg)
    if not features:
        raise ValueError("no model features: features.families enables no registered feature")
    say("panel ready")

    result = backtest(panel, features, cfg, progress=progress)
    scores = evaluate_backtest(result, cfg)
    say("backtest evaluated")
    final = fit_final(panel, features, cfg, result)
    say("final model fitted")

    uri = tracking.tracking_uri(cfg)
    with tracking.bounded_run(experiment_id, uri) as run:
        with tracking.mlflow_errors("logging the training run", uri):
            log_run_contents(
                cfg, built, last_year, features, scores.metrics, result.predictions, result.folds
            )
            log_model_checks(result, final, scores.comparison, scores.top_k, scores.not_at_war)
        example = population(panel)[features].head(20)
        versions, combined = register_final(cfg, final, built, example, families, say)
        report_path = None
        if cfg.report.on_train:
            say("writing the analyst report")
            report_path = log_training_report(cfg, built, scores.metrics, result, versions)
        # Last step, after everything else succeeded: all horizons switch together or none.
        checks = promote_candidates(cfg, scores, result.predictions, versions, combined)
        with tracking.mlflow_errors("logging the promotion", uri):
            log_promotion(checks)
        run_id = run.info.run_id
    return TrainResult(
        metrics=scores.metrics,
        predictions=result.predictions,
        run_id=run_id,
        versions=versions,
        combined_version=combined,
        promoted={h: check.promoted for h, check in checks.items()},
        data_vintage=built.data_vintage,
        folds=result.folds,
        model=final,
        comparison=scores.comparison,
        top_k=scores.top_k,
        top_k_size=int(cfg.report.top_k),
        not_at_war_metrics=scores.not_at_war,
        tracking_uri=uri,
        seconds=time.perf_counter() - start,
        report_path=report_path,
        promotion=checks,
    )


def register_final(
    cfg: DictConfig,
    final: Any,
    built: Any,
    example: pd.DataFrame,
    families: dict[str, str],
    say: Callable[[str], None],
) -> tuple[dict[int, str], str]:
    """Register the final model per horizon and for every horizon, all as candidates.

    Returns the version of each ``relapse-h{h}`` and that of ``mlflow.model_name``.
    """
    from relapse import registry

    last_year = int(built.panel["year"].max())
    tags = {"data_vintage": built.data_vintage, registry.DATA_LAST_YEAR: str(last_year)}
    versions: dict[int, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "model"
        save_model(final, model_dir)
        for h in (int(h) for h in cfg.target.horizons):
            versions[h] = registry.register_model(
                cfg, h, model_dir, example, families, {**tags, "horizon": str(h)}
            )
            say(f"registered {registry.model_name(cfg, h)} v{versions[h]} (candidate)")
        combined = registry.register_model(cfg, None, model_dir, example, families, tags)
        say(f"registered {cfg.mlflow.model_name} v{combined} (candidate, every horizon)")
    return versions, combined


def log_training_report(
    cfg: DictConfig, built: Any, metrics: pd.DataFrame, result: Any, versions: dict[int, str]
) -> Path:
    """Write the analyst report (:func:`write_training_report`) and log it to the run."""
    import mlflow

    from relapse import tracking

    path = write_training_report(cfg, built, metrics, result.predictions, versions)
    uri = tracking.tracking_uri(cfg)
    with tracking.mlflow_errors("logging the report", uri):
        mlflow.log_artifact(str(path), artifact_path="report")
    return path


def promote_candidates(
    cfg: DictConfig,
    scores: BacktestScores,
    predictions: pd.DataFrame,
    versions: dict[int, str],
    combined: str,
) -> dict[int, Any]:
    """Promote the run's candidates, every horizon together or none.

    :func:`relapse.registry.promote_run` weighs each horizon's backtest average precision
    against its champion and the verdict against the history baseline; returns its checks.
    """
    from relapse import registry

    horizons = [int(h) for h in cfg.target.horizons]
    return registry.promote_run(
        cfg,
        {
            h: (versions[h], metric_value(scores.metrics, h, "model", "average_precision"))
            for h in horizons
        },
        force=bool(cfg.promote),
        predictions=predictions,
        baseline_verdicts={
            h: verdict_from_comparison(scores.comparison, h)["verdict"] for h in horizons
        },
        combined=combined,
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

    from relapse import registry, tracking
    from relapse.config import to_container

    mlflow.set_tags(
        {
            "data_vintage": built.data_vintage,
            registry.DATA_LAST_YEAR: str(last_year),
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


def log_model_checks(
    result: Any,
    final: Any,
    comparison: pd.DataFrame,
    top_k: pd.DataFrame,
    not_at_war_metrics: pd.DataFrame,
) -> None:
    """The comparison with the baseline, the top-k record, the not-at-war skill, final fits."""
    import mlflow

    from relapse import tracking

    mlflow.log_metrics(comparison_metrics(comparison, top_k))
    tracking.log_frame(comparison, "comparison")
    tracking.log_frame(top_k, "top_k_record")
    tracking.log_frame(result.interval_scores, "backtest_interval_scores", ("parquet",))
    for end, comp in final.relapse.components_.items():
        mlflow.log_metric(f"final_best_iteration_h{end}", comp.best_iteration_)
        mlflow.log_metric(f"final_n_train_h{end}", final.relapse.n_train_[end])
    if len(result.not_at_war):
        tracking.log_frame(not_at_war_metrics, "metrics_not_at_war")
        tracking.log_frame(result.not_at_war, "backtest_not_at_war", ("parquet",))
        mlflow.log_metrics(
            {
                f"not_at_war_{r.metric}_h{int(r.horizon)}": float(r.value)
                for r in not_at_war_metrics.itertuples()
                if r.model == "model" and pd.notna(r.value)
            }
        )


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
    from relapse import registry
    from relapse.build import data_last_year
    from relapse.errors import DataError

    if cfg.allow_older_vintage:
        return
    recorded: dict[int, tuple[str | None, int]] = {}
    for h in horizons:
        version, year = registry.champion_data_last_year(cfg, h)
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
            f"the data end in {last}, but the champion {registry.model_name(cfg, h)} v{version} "
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
    from relapse import registry
    from relapse.report import make_report
    from relapse.report.inputs import report_notes

    models = {h: registry.load_registered(cfg, h, str(v)) for h, v in versions.items()}
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
        **report_notes(cfg, built),
    )
