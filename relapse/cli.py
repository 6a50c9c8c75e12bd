"""The ``relapse`` command line: ``relapse <command> [options] [hydra overrides]``.

Every command composes the one primary config ``conf/relapse.yaml`` with the given Hydra
overrides (``key=value``, ``group=option``), so anything in the config can be changed from
here, and a misspelt key fails before any work starts. Heavy libraries are imported inside
the command that needs them, so ``relapse score`` starts quickly.

Exit codes: 0 ok, 2 usage or configuration, 3 data, 4 model or registry, 5 outputs could not
be written (see :mod:`relapse.errors`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from relapse.errors import ConfigError, RelapseError

EPILOG = """\
Overrides use Hydra syntax, e.g.:
  relapse build target.window_years=5 'target.horizons=[1,3]'
  relapse build 'features.families=[conflict_legacy,mission]'
  relapse build paths.data_dir=/path/to/new/vintage
Print the resolved configuration with --cfg.
Exit codes: 0 ok, 2 usage/config, 3 data, 4 model/registry, 5 output not written,
1 unexpected (a bug; RELAPSE_DEBUG=1 shows the traceback)."""


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Logs and pipes get wide lines (file paths unbroken); terminals keep their own width.
    width = None if stream.isatty() else 200
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=width)


def _compose(overrides: Sequence[str]) -> Any:
    from relapse.config import compose_config

    return compose_config(overrides)


def _print_cfg(cfg: Any) -> None:
    from omegaconf import OmegaConf

    print(OmegaConf.to_yaml(cfg, resolve=True))


# ---------------------------------------------------------------------------------- commands


def cmd_data_check(args: argparse.Namespace) -> int:
    """Load and validate every source; verify checksums; print a table."""
    from relapse.data_dir import ensure_data_dir
    from relapse.sources import check_all

    cfg = _compose(args.overrides)
    if args.cfg:
        _print_cfg(cfg)
        return 0
    data_dir = ensure_data_dir(cfg)
    results = check_all(data_dir, verify=bool(cfg.data.verify_checksums))
    _print_checks(results, f"Raw sources in {data_dir}")
    failures = sum(c.failed for c in results)
    used = sum(c.used for c in results)
    if failures:
        _console(stderr=True).print(
            f"[red]error:[/red] {failures} of {used} sources failed validation"
        )
        return 3
    unused = len(results) - used
    note = f" ({unused} listed file(s) not used)" if unused else ""
    _console().print(f"all {used} sources valid{note}")
    return 0


def _print_checks(results: Sequence[Any], title: str) -> None:
    """The data check table, then the units each source excluded, by name."""
    from rich.table import Table

    from relapse.sources.base import NEW_EXCLUDED_UNITS

    table = Table(title=title)
    for col in ("source", "file", "rows", "years", "status"):
        table.add_column(col, overflow="fold")
    excluded: list[str] = []
    for check in results:
        source, result = check.source, check.result
        if result is None:
            status = (
                f"[red]FAIL[/red] {check.message}" if check.used else f"not used: {check.message}"
            )
            table.add_row(source.key, source.path, "", "", status)
            continue
        years = f"{result.first_year}–{result.last_year}" if result.first_year is not None else "—"
        units = _excluded_units(result.notes)
        note = f" ({sum(units.values()):,} rows of {len(units)} non-state units excluded)"
        table.add_row(
            source.key,
            source.path,
            f"{result.raw_rows:,}",
            years,
            "[green]ok[/green]" + (note if units else ""),
        )
        if units:
            new = set(result.notes.get(NEW_EXCLUDED_UNITS, []))
            names = ", ".join(f"{u}{' [new]' if u in new else ''} ({n})" for u, n in units.items())
            excluded.append(f"  {source.path}: {names}")
    console = _console()
    console.print(table)
    if excluded:
        console.print("Units excluded as not states of the GW system (rows):", markup=False)
        for line in excluded:
            console.print(line, markup=False)


def _excluded_units(notes: dict[str, Any]) -> dict[str, int]:
    """Rows excluded per unit that is not a state (the load's ``EXCLUDED_NON_STATES`` note)."""
    from relapse.sources.base import EXCLUDED_NON_STATES

    units = notes.get(EXCLUDED_NON_STATES, {})
    return {str(unit): int(units[unit]) for unit in sorted(units, key=str)}


def cmd_data_manifest(args: argparse.Namespace) -> int:
    """Validate the configured files and write the data directory's MANIFEST.csv."""
    from relapse.data_dir import ensure_data_dir
    from relapse.sources.manifest import describe, write_manifest

    cfg = _compose(args.overrides)
    if args.cfg:
        _print_cfg(cfg)
        return 0
    result = write_manifest(ensure_data_dir(cfg), force=args.force)
    if not result.written:
        print(f"{result.path} is up to date ({len(result.table)} files)")
    elif result.previous_exists:
        print(f"replaced {result.path} ({len(result.table)} files): {describe(result)}")
    else:
        print(f"wrote {result.path} ({len(result.table)} files, no previous manifest)")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    """Build the country-year panel (cached by content hash) and print its summary."""
    cfg = _compose(args.overrides)
    if args.cfg:
        _print_cfg(cfg)
        return 0
    result = _build(cfg, force=args.force)
    _print_build_summary(result, cfg)
    return 0


def _build(cfg: Any, force: bool = False) -> Any:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from relapse.build import build_panel

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=_console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("building panel: checking inputs", total=None)

        def step(name: str) -> None:
            bar.update(task, description=f"building panel: {name} done")

        return build_panel(cfg, force=force, progress=step)


def _print_build_summary(result: Any, cfg: Any) -> None:
    from rich.table import Table

    from relapse.build import summary

    s = summary(result.panel, cfg)
    console = _console()
    state = "cached (inputs unchanged)" if result.cached else "built"
    console.print(
        f"panel {state}: {result.path}  ({s['rows']:,} country-years, {s['countries']} "
        f"states, {s['first_year']}–{s['last_year']}; data vintage {result.data_vintage})"
    )
    console.print(
        f"post-conflict population: {s['population']:,} country-years "
        f"(not active, ≤ {cfg.target.window_years} years after the last active year; "
        f"level={cfg.target.level})"
    )
    outside = result.notes.get("outside_state_system", [])
    if outside:
        console.print(
            "[yellow]note:[/yellow] active conflict-years located outside the GW state list "
            f"(not in the panel): {'; '.join(outside)}"
        )
    rates = Table(title="Relapse base rate per horizon (population rows with a known label)")
    for col in ("horizon", "labelled", "relapses", "base rate", "censored"):
        rates.add_column(col, justify="right")
    for h, r in s["base_rates"].items():
        rates.add_row(
            f"{h} y",
            f"{r['labelled']:,}",
            f"{r['relapses']:,}",
            f"{r['base_rate']:.1%}",
            f"{r['censored']:,}",
        )
    console.print(rates)
    if s["by_outcome"]:
        by = Table(title="Base rate by how the last episode ended (UCDP Termination)")
        by.add_column("ended by")
        for h in cfg.target.horizons:
            by.add_column(f"h={h}", justify="right")
        for outcome, values in s["by_outcome"].items():
            by.add_row(outcome, *(f"{v:.1%}" if v == v else "—" for v in values.values()))
        console.print(by)


def cmd_features(args: argparse.Namespace) -> int:
    """Print the feature registry with coverage by decade and in the last year (population)."""
    from rich.table import Table

    from relapse.features import registry_table

    cfg = _compose(args.overrides)
    if args.cfg:
        _print_cfg(cfg)
        return 0
    result = _build(cfg)
    pop = result.panel.loc[result.panel["in_population"]]
    decades = sorted({int(y) // 10 * 10 for y in pop["year"]})
    decades = [d for d in decades if d >= 1950]
    registry = registry_table(cfg)
    pop_decade = pop["year"] // 10 * 10
    last_year = int(result.panel["year"].max())
    last = pop.loc[pop["year"] == last_year]
    console = _console()
    console.print(
        f"Feature registry: {int(registry['enabled'].sum())} features in "
        f"{registry.loc[registry['enabled'], 'family'].nunique()} families. Coverage = share "
        f"non-missing among the {len(pop):,} post-conflict country-years, by decade and in "
        f"the last year, {last_year} ({len(last)} rows; missing values stay missing)."
    )
    for family, rows in registry.loc[registry["enabled"]].groupby("family", sort=False):
        table = Table(title=f"{family}", title_justify="left")
        for col in (
            "feature",
            "unit",
            "lag",
            *[f"{d}s" for d in decades],
            str(last_year),
            "sources",
            "description",
        ):
            table.add_column(
                col,
                overflow="fold",
                justify="right" if col[0].isdigit() else "left",
            )
        for row in rows.itertuples(index=False):
            cover = [f"{pop.loc[pop_decade == d, row.name].notna().mean():.0%}" for d in decades]
            cover.append(f"{last[row.name].notna().mean():.0%}" if len(last) else "-")
            table.add_row(
                str(row.name),
                str(row.unit),
                str(row.lag),
                *cover,
                str(row.sources),
                str(row.description),
            )
        console.print(table)
    off = registry.loc[~registry["enabled"], "family"].unique().tolist()
    if off:
        _console().print(f"families switched off: {', '.join(off)}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Backtest, fit the final models, log to MLflow, register and promote; print a summary."""
    multirun = getattr(args, "multirun", False)
    if multirun and not args.cfg:
        return _multirun_train(args)
    if multirun:  # --cfg -m: the config shared by every job (sweeps left out)
        from relapse.sweep import plain_overrides

        args.overrides = plain_overrides(args.overrides)
    cfg = _compose(args.overrides)
    if cfg.tune.enabled and not args.cfg:
        raise ConfigError(
            "hparams_search is a sweep: run it as relapse train -m hparams_search=optuna"
        )
    if args.cfg:
        _print_cfg(cfg)
        return 0
    from relapse.train import train

    with _console(stderr=True).status("training: building panel") as status:
        result = train(cfg, progress=lambda msg: status.update(f"training: {msg}"))
    _print_train_summary(result, cfg)
    return 0


def _multirun_train(args: argparse.Namespace) -> int:
    """``relapse train -m``: a Hydra sweep (see :mod:`relapse.sweep`); print its runs."""
    from relapse.sweep import multirun, train_command

    result = multirun(args.overrides)
    runs = result.runs
    console = _console()
    shown = [
        c
        for c in (
            "run_id",
            "tags.mlflow.runName",
            "params.families",
            "metrics.tune_objective",
            *sorted(
                c
                for c in runs.columns
                if c.startswith("metrics.backtest_average_precision_h") and c[-1].isdigit()
            ),
        )
        if c in runs.columns
    ]
    console.print(runs[shown].to_string(index=False) if len(runs) else "no runs logged")
    console.print(
        f"{len(runs)} MLflow runs (tag sweep_id={result.sweep_id}) at {result.tracking_uri}"
    )
    if result.parent_run_id is not None:
        console.print(
            f"tuning sweep: parent run {result.parent_run_id}; best tuning objective "
            f"{result.best_value:.4f} with {result.best_params}"
        )
        console.print(f"train and register with them:\n  {train_command(result.best_params)}")
    return 0


def _print_train_summary(result: Any, cfg: Any) -> None:
    """Per horizon the metrics, the comparison and the registration; then the run."""
    console = _console()
    for h in sorted(int(h) for h in result.metrics["horizon"].unique()):
        console.print(_metrics_table(result, h))
        _print_comparison(console, result, h)
        version = result.versions.get(h)
        state = _promotion_state(result, h)
        console.print(f"registered {cfg.mlflow.model_name_prefix}{h} v{version}: {state}\n")
    if result.combined_version:
        together = "promoted to champion" if all(result.promoted.values()) else "candidate only"
        console.print(
            f"registered {cfg.mlflow.model_name} v{result.combined_version} (every horizon, "
            f"mlflow.pyfunc): {together}\n"
        )
    _print_not_at_war(console, result)
    console.print(
        f"MLflow run {result.run_id} at {result.tracking_uri} "
        f"(data vintage {result.data_vintage}); {result.seconds:.0f} s"
    )
    if result.report_path is not None:
        console.print(f"analyst report: {result.report_path}")


def _metrics_table(result: Any, h: int) -> Any:
    """The backtest metrics of the model and both baselines at horizon ``h``, with intervals."""
    from rich.table import Table

    from relapse.evaluate import metric_value

    table = result.metrics

    def cell(model: str, metric: str) -> str:
        m = (table["horizon"] == h) & (table["model"] == model) & (table["metric"] == metric)
        if not m.any():
            return "—"
        row = table.loc[m].iloc[0]
        text = f"{row['value']:.3f}"
        if row["lo"] == row["lo"]:
            text += f" [{row['lo']:.3f}–{row['hi']:.3f}]"
        return text

    n = int(metric_value(table, h, "model", "n"))
    rate = metric_value(table, h, "model", "base_rate")
    years = result.predictions.loc[result.predictions["horizon"] == h, "year"]
    out = Table(
        title=f"Relapse within {h} y — backtest pooled over origins "
        f"{years.min()}–{years.max()}, {n} test rows, base rate {rate:.1%} "
        f"(95% country-bootstrap intervals)"
    )
    for col in ("model", "ROC-AUC", "average precision", "base rate", "Brier", "Brier skill"):
        out.add_column(col, justify="left" if col == "model" else "right")
    for model, label in (
        ("model", "relapse model"),
        ("history", "history baseline (logit)"),
        ("climatology", "climatology"),
    ):
        out.add_row(
            label,
            cell(model, "roc_auc"),
            cell(model, "average_precision"),
            f"{rate:.3f}",
            cell(model, "brier"),
            cell(model, "brier_skill"),
        )
    return out


def _promotion_state(result: Any, h: int) -> str:
    """Whether horizon ``h`` was promoted, and on what basis."""
    state = "promoted to champion" if result.promoted.get(h) else "candidate only"
    check = result.promotion.get(h)
    if check is None:
        return state
    if check.champion_ap is not None:
        where = f"on {check.rows} shared backtest rows" if check.rows else "logged backtest metrics"
        state += (
            f" (average precision {check.candidate_ap:.3f} vs champion "
            f"v{check.champion_version} {check.champion_ap:.3f}, {where})"
        )
    else:
        reasons = {"no champion": "there was no champion yet", "forced": "promote=true"}
        state += f" ({reasons.get(check.basis, check.basis)})"
    if check.held_back_by and h not in check.held_back_by:
        state += (
            f"; held back with the run: horizon(s) {list(check.held_back_by)} did not pass "
            "(champion or baseline), and all horizons are promoted together"
        )
    return state


def _print_comparison(console: Any, result: Any, h: int) -> None:
    """Model − baseline with paired intervals, calibration, top-k, and the verdict."""
    from rich.table import Table

    from relapse.evaluate import verdict_from_comparison

    comp = result.comparison.loc[result.comparison["horizon"] == h]
    out = Table(title=f"h={h}: model − history baseline, same rows (paired 95% intervals)")
    for col in ("metric", "model", "baseline", "difference", "interval", "reading"):
        out.add_column(col, justify="left" if col in ("metric", "reading") else "right")
    names = {
        "roc_auc": "ROC-AUC",
        "average_precision": "average precision",
        "brier": "Brier",
        "ece": "calibration error (ECE, 10 deciles)",
    }
    for row in comp.itertuples():
        out.add_row(
            names.get(row.metric, row.metric),
            f"{row.model:.3f}",
            f"{row.baseline:.3f}",
            f"{row.difference:+.3f}",
            f"[{row.lo:+.3f}, {row.hi:+.3f}]",
            str(row.verdict),
        )
    top = result.top_k.loc[result.top_k["horizon"] == h]
    if len(top):
        k = int(result.top_k_size)
        out.add_row(
            f"top-{k} hits ({len(top)} origin years)",
            str(int(top["hits_model"].sum())),
            str(int(top["hits_history"].sum())),
            f"{int(top['hits_model'].sum() - top['hits_history'].sum()):+d}",
            "",
            f"of {int(top['relapsed'].clip(upper=k).sum())} possible",
        )
    console.print(out)
    verdict = verdict_from_comparison(result.comparison, h)
    colour = {"beats": "green", "is worse than": "red"}.get(verdict["verdict"], "yellow")
    console.print(f"[{colour}]h={h}: {verdict['text']}.[/{colour}]")


def _print_not_at_war(console: Any, result: Any) -> None:
    """Skill on every country-year not at war (post-conflict, long peace, never in conflict)."""
    table = result.not_at_war_metrics
    if table is None or table.empty:
        return
    from relapse.evaluate import metric_value

    for h in sorted(table["horizon"].unique()):
        h = int(h)

        def fmt(model: str, metric: str, t: Any = table, hh: int = h) -> str:
            row = t.loc[(t["horizon"] == hh) & (t["model"] == model) & (t["metric"] == metric)]
            if row.empty:
                return "—"
            r = row.iloc[0]
            return f"{r['value']:.3f}" + (
                f" [{r['lo']:.3f}–{r['hi']:.3f}]" if r["lo"] == r["lo"] else ""
            )

        console.print(
            f"every country not at war, h={h}: {int(metric_value(table, h, 'model', 'n'))} rows, "
            f"base rate {metric_value(table, h, 'model', 'base_rate'):.1%}; ROC-AUC "
            f"{fmt('model', 'roc_auc')} (climatology {fmt('climatology', 'roc_auc')}), "
            f"average precision {fmt('model', 'average_precision')}, Brier "
            f"{fmt('model', 'brier')} (climatology {fmt('climatology', 'brier')})"
        )


def cmd_run(args: argparse.Namespace) -> int:
    """The main job: check the data, build the panel, train (and report), then score."""
    for step in (cmd_data_check, cmd_build, cmd_train, cmd_score):
        code = step(args)
        if code:
            return code
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    """Score the configured scope with the registered models; write scores and a brief.

    Exit codes: 0 ok; 2 bad config, unknown country, or another run holds the scores lock
    (waited ``score.lock_timeout_s``); 3 data (incl. data older than the champion's); 4 no
    registered model, feature-list mismatch, or MLflow unreachable (scores already written in
    that case); 5 outputs could not be written (previous outputs intact).
    """
    cfg = _compose(args.overrides)
    if args.cfg:
        _print_cfg(cfg)
        return 0
    from relapse.mlflow_worker import MlflowWorker

    with MlflowWorker(cfg) as worker:  # MLflow starts loading while pandas is imported
        from relapse.scoring.job import score

        result = score(cfg, worker=worker)
    counts = ", ".join(f"{n} {s}" for s, n in result.counts.items() if n)
    models = "; ".join(f"h{h} {n} v{v}" for h, (n, v) in sorted(result.models.items()))
    print(
        f"scored as of {result.as_of} ({cfg.score.scope}): {len(result.table)} rows "
        f"({counts}); models {models}; data vintage {result.data_vintage}"
    )
    print(f"wrote {result.out_dir}/scores.parquet, scores.csv, brief.md, brief.html")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    """Explain the champion models on every post-conflict row; write the SHAP tables."""
    cfg = _compose(args.overrides)
    if args.cfg:
        _print_cfg(cfg)
        return 0
    from relapse.mlflow_worker import MlflowWorker, ModelFetch
    from relapse.report.inputs import champion_models, report_horizons

    horizons = report_horizons(cfg)
    with MlflowWorker(cfg) as worker:  # the champions load while the panel is read
        fetch = ModelFetch(worker, cfg, horizons, cfg.report.model_version)
        from pathlib import Path

        from relapse.explain import explain_panel
        from relapse.features import family_map
        from relapse.report.render import write_parquet

        panel = _build(cfg).panel
        import relapse.model  # noqa: F401  (LightGBM, while the worker fetches)

        models = champion_models(cfg, horizons, fetch.load)
    fmap = family_map(cfg)
    for model in models.values():
        fmap.update(model.family_map or {})
    shap_long, families = explain_panel(panel, models, fmap)
    out = Path(cfg.paths.reports_dir)
    for name, table in (("shap_values", shap_long), ("family_contributions", families)):
        path = write_parquet(out / f"{name}.parquet", table)
        print(f"wrote {path} ({len(table):,} rows)")
    _print_missing_share(shap_long)
    return 0


def _print_missing_share(shap_long: Any) -> None:
    """The share of |SHAP| from missing values in the forecast year, and its largest parts."""
    from relapse.explain import missing_share, missing_weight_by_feature

    year = int(shap_long["year"].max())
    share = missing_share(shap_long, year)
    print(
        f"forecast year {year}: {share:.1%} of the absolute SHAP weight comes from missing "
        f"values (all horizons)"
    )
    for name, part in missing_weight_by_feature(shap_long, year).head(5).items():
        print(f"  {name}: {part:.1%}")


def cmd_report(args: argparse.Namespace) -> int:
    """Write the analyst report (one self-contained HTML file) for the champion models."""
    cfg = _compose(args.overrides)
    if args.cfg:
        _print_cfg(cfg)
        return 0
    from relapse.mlflow_worker import MlflowWorker, ModelFetch
    from relapse.report.inputs import champion_models, report_horizons, report_notes, run_tables

    horizons = report_horizons(cfg)
    with MlflowWorker(cfg) as worker:  # the champions load while the panel is read
        fetch = ModelFetch(worker, cfg, horizons, cfg.report.model_version)
        from pathlib import Path

        from relapse.features import registry_table
        from relapse.report import build_context, render_report, write_report

        built = _build(cfg)
        import relapse.model  # noqa: F401  (LightGBM, while the worker fetches)

        models = champion_models(cfg, horizons, fetch.load)
        metrics, backtest, problems = run_tables(cfg, models, worker)
    for problem in problems:
        _console(stderr=True).print(f"[yellow]warning:[/yellow] {problem}")
    context = build_context(
        built.panel,
        models,
        registry_table(cfg),
        metrics=metrics,
        backtest=backtest,
        options=cfg.report,
        data_vintage=built.data_vintage,
        **report_notes(cfg, built),
    )
    path = write_report(Path(cfg.paths.reports_dir) / "report.html", render_report(context))
    print(f"wrote {path}")
    return 0


def cmd_track_record(args: argparse.Namespace) -> int:
    """Score the archived forecasts whose outcome the data now know; write track_record.csv."""
    from rich.table import Table

    from relapse.track_record import track_record, write_track_record

    cfg = _compose(args.overrides)
    if args.cfg:
        _print_cfg(cfg)
        return 0
    result = track_record(cfg)
    path = write_track_record(result, cfg.paths.scores_dir)
    table = Table(title="How our past forecasts did")
    for col in ("as of", "horizon", "resolved", "relapsed", "ROC-AUC", "AP", "Brier", "top-k"):
        table.add_column(col, justify="right")
    table.add_column("relapsed (forecast, baseline)", overflow="fold")
    for r in result.summary.itertuples(index=False):
        table.add_row(
            str(r.as_of_year),
            f"{r.horizon_years} y",
            str(r.resolved),
            str(r.relapsed),
            *(f"{v:.2f}" if v == v else "—" for v in (r.roc_auc, r.average_precision, r.brier)),
            f"{r.top_k_hits}/{r.top_k}",
            r.relapsed_countries or "none",
        )
    console = _console()
    if result.empty:
        console.print(f"no archived forecast in {cfg.paths.scores_dir} has a known outcome yet")
    else:
        console.print(table)
    for line in result.pending:
        console.print(f"pending: {line}", markup=False)
    console.print(f"wrote {path}")
    return 0


# ------------------------------------------------------------------------------------ parser

COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {
    "build": (cmd_build, "Build the country-year panel with labels and features."),
    "features": (cmd_features, "Print the feature registry with coverage by decade."),
    "train": (cmd_train, "Backtest, train, register and promote the models (MLflow)."),
    "run": (
        cmd_run,
        "The main job: data check, build, train (with the analyst report), "
        "then score the mission hosts.",
    ),
    "score": (
        cmd_score,
        "Score mission hosts (or score.scope) with the champion models; "
        "exit 2 config/lock busy, 3 data, 4 model/registry/tracking, 5 output not "
        "written.",
    ),
    "explain": (
        cmd_explain,
        "SHAP values of the champion models per feature and family "
        "(writes shap_values.parquet, family_contributions.parquet).",
    ),
    "report": (
        cmd_report,
        "Write the analyst report (self-contained HTML) for the champion models.",
    ),
    "track-record": (
        cmd_track_record,
        "Score every archived forecast (paths.scores_dir/as_of=YEAR) whose outcome the "
        "current data know: ROC-AUC, AP, Brier, top-k hits and the countries that relapsed, "
        "beside the history baseline; writes track_record.csv.",
    ),
}


_DATA = """\
  paths.data_dir=DIR          raw data directory (default $RELAPSE_DATA_DIR, else data/raw)
  data=synthetic              the seeded simulator instead of the snapshot (data.n_units=N)
  data.vintage_year=T         cut every source as if released at the end of year T
"""
_PANEL = """\
  target.horizons=[1,2,5]     relapse horizons in years
  target.window_years=10      post-conflict window after the last active year
  target.conflict_types=[3,4] UCDP types that count as conflict
  target.level=conflict       same-conflict recurrence instead of country-level relapse
  'features.families=[...]'  families to build (ablations)
  paths.processed_dir=DIR     where panel.parquet is cached
"""
_MODEL = """\
  report.model_version=champion    alias or version number of the registered models
  mlflow.tracking_uri=URL          tracking server (default $MLFLOW_TRACKING_URI, else mlflow.db)
"""
COMMAND_OPTIONS: dict[str, str] = {
    "check": "Main options:\n"
    + _DATA
    + "  data.files.SOURCE=PATH      a source's file, relative to paths.data_dir\n"
    + "  data.verify_checksums=false check a release that has no manifest yet\n\n",
    "manifest": "Main options:\n"
    + _DATA
    + "  data.files.SOURCE=PATH      a source's file, relative to paths.data_dir\n\n",
    "build": "Main options:\n" + _DATA + _PANEL + "\n",
    "features": "Main options:\n" + _DATA + _PANEL + "\n",
    "train": "Main options:\n"
    + _DATA
    + _PANEL
    + """\
  split.first_origin=2000     first backtest origin (tuning origins lie before it)
  split.bootstrap_samples=500 country-block bootstrap resamples for the intervals
  model.calibration=none      none | intercept | logistic (fitted on earlier origins)
  model.params.KEY=VALUE      LightGBM parameters (learning_rate, num_leaves, ...)
  promote=true                make the new models champions regardless of the rule
  report.on_train=false       skip the analyst report
  mlflow.tracking_uri=URL     tracking server (default $MLFLOW_TRACKING_URI, else mlflow.db)
  -m hparams_search=optuna    Optuna sweep; -m hydra/launcher=joblib for parallel jobs

""",
    "explain": "Main options:\n"
    + _DATA
    + "  report.horizons=[1,5]       horizons to explain\n"
    + _MODEL
    + "  paths.reports_dir=DIR       where the parquet tables go\n\n",
    "report": "Main options:\n"
    + _DATA
    + """\
  report.horizons=[1,5]       horizons in the report (default: all)
  'report.countries=[LBR,451]' countries (ISO3 or GW numbers; default: every scored one)
  report.top_features=5       features listed per country
"""
    + _MODEL
    + "  paths.reports_dir=DIR       where report.html goes\n\n",
    "score": "Main options:\n"
    + _DATA
    + """\
  score.scope=active_missions active_missions | not_at_war | all_post_conflict | countries
  'score.countries=[MLI,451]' with score.scope=countries (ISO3 or GW numbers)
  score.as_of=YEAR            year to score (default: the data's last year)
  score.model_version=champion alias or version number of the registered models
  score.lock_timeout_s=600    wait this long for a concurrent run, then exit 2
  paths.scores_dir=DIR        outputs go to DIR/as_of=YEAR/
  mlflow.tracking_uri=URL     tracking server (default $MLFLOW_TRACKING_URI, else mlflow.db)

""",
    "run": "Runs: data check, build, train (with the report), score; takes all their options.\n\n",
    "track-record": "Main options:\n"
    + _DATA
    + """\
  paths.scores_dir=DIR        the archive of scores (DIR/as_of=YEAR/scores.parquet)
  track_record.top_k=3        hits counted among the k highest forecasts
  target.window_years=10      the outcome definitions (as for build)

""",
}
"""Per-command help: the configuration keys a user reaches for first."""


def make_parser() -> argparse.ArgumentParser:
    """The argument parser (one sub-parser per command)."""
    parser = argparse.ArgumentParser(
        prog="relapse",
        description="Forecast post-conflict relapse: build, train, explain, report, score.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from relapse import __version__

    parser.add_argument("--version", action="version", version=f"relapse {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)

    def add(
        name: str, func: Callable[[argparse.Namespace], int], help_: str, parent: Any = sub
    ) -> argparse.ArgumentParser:
        p = parent.add_parser(
            name,
            help=help_,
            description=help_,
            epilog=COMMAND_OPTIONS.get(name, "") + EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument(
            "overrides",
            nargs="*",
            metavar="override",
            help="Hydra override, e.g. target.window_years=5",
        )
        p.add_argument("--cfg", action="store_true", help="print the resolved config and exit")
        p.set_defaults(func=func)
        return p

    data = sub.add_parser(
        "data", help="Check the raw data snapshot.", description="Check the raw data snapshot."
    )
    data_sub = data.add_subparsers(dest="data_command", metavar="<data-command>", required=True)
    add(
        "check",
        cmd_data_check,
        "Load and validate every source, verify SHA-256 against MANIFEST.csv, print a table "
        "with each source's configured file (data.files.<source>) and the units excluded as "
        "not states. Exit 0 only when every source is valid (3 otherwise).",
        parent=data_sub,
    )
    manifest = add(
        "manifest",
        cmd_data_manifest,
        "Validate every configured file (without the checksum check) and write the data "
        "directory's MANIFEST.csv; says what changed against the old one. Exit 3, nothing "
        "written, if a file fails or a different manifest exists (use --force).",
        parent=data_sub,
    )
    manifest.add_argument(
        "--force", action="store_true", help="replace an existing manifest that differs"
    )
    for name, (func, help_) in COMMANDS.items():
        p = add(name, func, help_)
        if name in ("build", "run"):
            p.add_argument(
                "--force",
                action="store_true",
                help="rebuild the panel even if its inputs are unchanged",
            )
        if name == "train":
            p.add_argument(
                "-m",
                "--multirun",
                action="store_true",
                help="Hydra multirun: sweeps ('features.families=[a],[a,b]'), "
                "hydra/launcher=joblib, hparams_search=optuna",
            )
    return parser


DEBUG_ENV = "RELAPSE_DEBUG"
"""Set to 1 to let unexpected exceptions raise with their traceback."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``relapse`` console script: the one error boundary.

    A :class:`~relapse.errors.RelapseError` prints ``error: <message>`` (its first line is
    the whole story) and returns its exit code; any other exception is a bug, reported in one
    line with exit code 1 (``RELAPSE_DEBUG=1`` shows the traceback).
    """
    parser = make_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "force"):
        args.force = False
    bad = [o for o in args.overrides if "=" not in o]
    _show_warnings()
    try:
        if bad:
            raise ConfigError(f"not a key=value override: {' '.join(bad)}")
        code = args.func(args)
    except RelapseError as exc:
        _error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if os.environ.get(DEBUG_ENV, "").strip() not in ("", "0"):
            raise
        _error(
            f"unexpected {type(exc).__name__} in relapse {args.command}: {_one_line(exc)} "
            f"(a bug: rerun with {DEBUG_ENV}=1 for the traceback)"
        )
        return 1
    return code


class _StderrWarnings:
    """A logging handler printing ``warning: <message>`` to the current ``sys.stderr``."""

    level = 30  # logging.WARNING

    def handle(self, record: Any) -> bool:
        print(f"warning: {record.getMessage()}", file=sys.stderr)
        return True


def _show_warnings() -> None:
    """Route the package's logged warnings to stderr (once per process)."""
    import logging

    logger = logging.getLogger("relapse")
    if not any(isinstance(h, _StderrWarnings) for h in logger.handlers):
        logger.addHandler(_StderrWarnings())  # type: ignore[arg-type]


def _error(message: str) -> None:
    """Print ``error: message`` to stderr (rich markup in the message is not interpreted)."""
    from rich.markup import escape

    _console(stderr=True).print(f"[red]error:[/red] {escape(message)}", markup=True)


def _one_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's text, at most 300 characters."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return (lines[0] if lines else "no message")[:300]


def run() -> None:
    """The ``relapse`` console script: :func:`main`, then exit with its code.

    The objects still alive are frozen first (:func:`gc.freeze`): the interpreter's last
    garbage collections would otherwise walk every object of pandas, LightGBM and the panel
    (≈ 0.4 s of a command's exit) only to free memory the ending process gives back anyway.
    Objects are still finalised and ``atexit`` still runs; only :func:`main` called from
    Python (tests, notebooks) leaves the collector alone.
    """
    import gc

    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
