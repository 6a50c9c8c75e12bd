"""How our past forecasts did: every archived score whose outcome the current data know.

``relapse score`` keeps each run's table under ``${paths.scores_dir}/as_of=<year>/``. Once a
later data release covers year ``as_of + h``, the horizon-``h`` forecasts of that run can be
scored: the outcome of a row is the panel's ``relapse_h{h}`` label of the country in the
``as_of`` year, built from the *current* data with the current ``target`` definitions. Rows
whose outcome is still unknown (``as_of + h`` past the data's end), or not defined any more
(the country left the state system, or revised data put it outside the post-conflict
population), are counted and left out.

Per ``as_of`` year and horizon, :func:`track_record` gives ROC-AUC, average precision, the
Brier score, the hits among the ``track_record.top_k`` highest forecasts, and every country
that relapsed with the probability it had been given, beside the history baseline's
probability as the batch job stored it (``baseline_probability``; "not recorded" for runs
made before the column existed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from relapse.errors import DataError
from relapse.evaluate import average_precision, brier, roc_auc

FILE = "track_record.csv"
SCORES = "scores.parquet"
REQUIRED: tuple[str, ...] = (
    "gwno",
    "country",
    "as_of_year",
    "horizon_years",
    "relapse_probability",
    "status",
)
"""Columns of an archived score table the track record reads (``baseline_probability`` is
optional)."""

SUMMARY_COLUMNS: tuple[str, ...] = (
    "as_of_year",
    "horizon_years",
    "outcome_year",
    "forecasts",
    "resolved",
    "unresolved",
    "relapsed",
    "roc_auc",
    "average_precision",
    "brier",
    "baseline_roc_auc",
    "baseline_average_precision",
    "baseline_brier",
    "top_k",
    "top_k_hits",
    "relapsed_countries",
)


@dataclass
class TrackRecordResult:
    """The track record: one summary row per (as_of, horizon), and the resolved forecasts."""

    summary: pd.DataFrame
    forecasts: pd.DataFrame
    pending: list[str]

    @property
    def empty(self) -> bool:
        """No archived forecast has a known outcome yet."""
        return self.summary.empty


def archived_scores(scores_dir: Path | str) -> pd.DataFrame:
    """Every archived score table under ``scores_dir`` (``as_of=<year>/scores.parquet``).

    Raises
    ------
    DataError
        Naming the file, when a table cannot be read, lacks a required column, or holds
        another ``as_of`` year than its folder says.
    """
    tables = []
    for folder in sorted(Path(scores_dir).glob("as_of=*")):
        path = folder / SCORES
        if not path.is_file():
            continue
        try:
            table = pd.read_parquet(path)
        except (OSError, ValueError) as exc:
            raise DataError(f"{path}: not a readable score table ({exc})") from exc
        missing = [c for c in REQUIRED if c not in table.columns]
        if missing:
            raise DataError(f"{path}: missing column(s) {missing}")
        year = folder.name.removeprefix("as_of=")
        if set(table["as_of_year"].astype(str)) - {year}:
            raise DataError(f"{path}: as_of_year {sorted(set(table['as_of_year']))} in {year}")
        if "baseline_probability" not in table.columns:
            table = table.assign(baseline_probability=np.nan)
        tables.append(table[[*REQUIRED, "baseline_probability"]])
    if not tables:
        return pd.DataFrame(columns=[*REQUIRED, "baseline_probability"])
    return pd.concat(tables, ignore_index=True)


def outcomes(cfg: DictConfig, horizons: list[int]) -> pd.DataFrame:
    """``relapse_h{h}`` per (gwno, year) from the current data, for ``horizons``."""
    from relapse.build import BASE_SOURCES, load_configured
    from relapse.data_dir import ensure_data_dir
    from relapse.panel import build_base_panel, label_columns

    ensure_data_dir(cfg)
    tables = load_configured(cfg, BASE_SOURCES)
    target = OmegaConf.to_container(cfg.target, resolve=True)
    assert isinstance(target, dict)
    labelled = OmegaConf.create({"target": {**target, "horizons": sorted(horizons)}})
    panel = build_base_panel(tables, labelled).frame
    return panel[["gwno", "year", *label_columns(sorted(horizons))]]


def resolve(
    scores: pd.DataFrame, labels: pd.DataFrame
) -> tuple[pd.DataFrame, pd.Series, list[str]]:
    """The scored rows with their outcome (``relapsed``), the unresolved counts, what is pending.

    Returns
    -------
    (DataFrame, Series, list)
        Scored rows whose outcome is known, with an int ``relapsed`` column; the number of rows
        per (as_of_year, horizon_years) whose year is known but that have no label (the state
        left the system, or the revised data put the row outside the post-conflict
        population); and one line per (as_of, horizon) whose outcome the data do not know yet.
    """
    scored = scores.loc[scores["status"].astype(str) == "scored"].copy()
    scored["as_of_year"] = scored["as_of_year"].astype("int64")
    scored["horizon_years"] = scored["horizon_years"].astype("int64")
    scored["gwno"] = scored["gwno"].astype("int64")
    last_year = int(labels["year"].max())
    long = labels.melt(id_vars=["gwno", "year"], var_name="label", value_name="relapsed")
    long["horizon_years"] = long["label"].str.removeprefix("relapse_h").astype("int64")
    merged = scored.merge(
        long.drop(columns="label").rename(columns={"year": "as_of_year"}),
        on=["gwno", "as_of_year", "horizon_years"],
        how="left",
    )
    resolvable = merged["as_of_year"] + merged["horizon_years"] <= last_year
    known = resolvable & merged["relapsed"].notna()
    waiting = merged.loc[~resolvable, ["as_of_year", "horizon_years"]].drop_duplicates()
    pending = [
        f"as of {a}, {h}-year horizon: outcome known after {a + h} (the data end in {last_year})"
        for a, h in sorted(zip(waiting["as_of_year"], waiting["horizon_years"], strict=True))
    ]
    out = merged.loc[known].assign(relapsed=lambda d: d["relapsed"].astype("int64"))
    unresolved = merged.loc[resolvable & ~known].groupby(["as_of_year", "horizon_years"]).size()
    return out, unresolved, pending


def summarise(resolved: pd.DataFrame, unresolved: pd.Series, top_k: int) -> pd.DataFrame:
    """One row per (as_of, horizon): counts, model and baseline metrics, top-k hits, relapses.

    ``resolved`` and ``unresolved`` are the first two results of :func:`resolve`.
    """
    rows = []
    for (as_of, h), group in resolved.groupby(["as_of_year", "horizon_years"], sort=True):
        y = group["relapsed"].to_numpy()
        p = group["relapse_probability"].to_numpy(dtype="float64")
        base = group["baseline_probability"].to_numpy(dtype="float64")
        has_base = bool(np.isfinite(base).all())
        top = group.sort_values(["relapse_probability", "gwno"], ascending=[False, True])
        k = min(int(top_k), len(group))
        rows.append(
            {
                "as_of_year": int(as_of),
                "horizon_years": int(h),
                "outcome_year": int(as_of) + int(h),
                "forecasts": len(group) + int(unresolved.get((as_of, h), 0)),
                "resolved": len(group),
                "unresolved": int(unresolved.get((as_of, h), 0)),
                "relapsed": int(y.sum()),
                "roc_auc": roc_auc(y, p),
                "average_precision": average_precision(y, p),
                "brier": brier(y, p),
                "baseline_roc_auc": roc_auc(y, base) if has_base else math.nan,
                "baseline_average_precision": average_precision(y, base) if has_base else math.nan,
                "baseline_brier": brier(y, base) if has_base else math.nan,
                "top_k": k,
                "top_k_hits": int(top["relapsed"].head(k).sum()),
                "relapsed_countries": relapsed_countries(group),
            }
        )
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def relapsed_countries(group: pd.DataFrame) -> str:
    """``Mali 23% (baseline 10%); Chad 8% (baseline not recorded)``, highest forecast first."""
    hit = group.loc[group["relapsed"] == 1].sort_values(
        ["relapse_probability", "gwno"], ascending=[False, True]
    )
    return "; ".join(
        f"{row.country} {_pct(row.relapse_probability)} (baseline {_pct(row.baseline_probability)})"
        for row in hit.itertuples(index=False)
    )


def _pct(p: float) -> str:
    return f"{100 * float(p):.1f}%" if pd.notna(p) else "not recorded"


def track_record(cfg: DictConfig) -> TrackRecordResult:
    """Score every archived forecast under ``paths.scores_dir`` whose outcome is known.

    Parameters
    ----------
    cfg
        Composed config (``compose_config()``): ``paths``, ``data``, ``target``
        (the outcome definitions) and ``track_record.top_k``.

    Returns
    -------
    TrackRecordResult
        Empty when nothing is archived or no outcome is known yet (``pending`` says when).
    """
    scores = archived_scores(cfg.paths.scores_dir)
    if scores.empty:
        empty = pd.DataFrame(columns=list(SUMMARY_COLUMNS))
        return TrackRecordResult(empty, scores, [])
    horizons = sorted({int(h) for h in scores["horizon_years"]})
    resolved, unresolved, pending = resolve(scores, outcomes(cfg, horizons))
    summary = summarise(resolved, unresolved, int(cfg.track_record.top_k))
    return TrackRecordResult(summary, resolved, pending)


def write_track_record(result: TrackRecordResult, scores_dir: Path | str) -> Path:
    """Write ``track_record.csv`` into ``scores_dir`` atomically (one row per as_of, horizon)."""
    from relapse.report.render import write_report

    return write_report(Path(scores_dir) / FILE, result.summary.to_csv(index=False))


def read_track_record(scores_dir: Path | str) -> pd.DataFrame | None:
    """The last written ``track_record.csv`` (for the report), or None if there is none."""
    path = Path(scores_dir) / FILE
    if not path.is_file():
        return None
    table = pd.read_csv(path, keep_default_na=True)
    missing = [c for c in SUMMARY_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing} (rerun `relapse track-record`)")
    return table
