"""``relapse score``: the unattended batch job that scores countries with the champion models.

For year ``score.as_of`` (default: the last year of the data) and each horizon of
``target.horizons`` it loads the registered model (``score.model_version``, default the
``champion`` alias), builds the panel (cached by content hash), selects the countries of
``score.scope`` and writes one row per country × horizon to
``${paths.scores_dir}/as_of=<year>/`` (``scores.parquet``, ``scores.csv``, ``brief.md``,
``brief.html``).

Row status
----------
``scored``
    In the post-conflict population at ``as_of``: probability, risk band and drivers given.
``active_conflict``
    The country had an active internal conflict-year in ``as_of`` (e.g. Mali, DR Congo,
    South Sudan in 2018): it is listed, never dropped, but has no relapse probability.
``outside_population``
    Not active and no active year within ``target.window_years`` (never in conflict, or at
    peace for longer): the model was not trained for such rows, so no probability.
``missing_data``
    The row cannot be built: the host is not a Gleditsch–Ward state in the panel's spine in
    ``as_of`` (Western Sahara for MINURSO; a state that did not exist that year). Missing
    *feature values* are not missing data: LightGBM handles NaN, and such rows are scored.

Contract for consumers
----------------------
* Columns and order: :data:`COLUMNS`; checked with :func:`score_schema` before writing.
  Rows sorted by country, ISO3 and horizon. ``relapse_probability`` is rounded to 4
  decimals; risk bands come from ``report.risk_bands`` (thresholds; a value equal to a
  threshold falls in the higher band). ``top_drivers_up`` / ``top_drivers_down`` are factor
  families with their summed SHAP contributions (log-odds, LightGBM ``pred_contrib``) to
  the raw model score, largest first, at most three each, |value| ≥ 0.005.
* Empty (null in parquet, blank in CSV) when not scored: probability. Empty string: risk band,
  drivers, missions when there are none. ``gwno`` is null only for non-state hosts.
* **CSV injection**: in ``scores.csv`` every text cell starting with ``=``, ``+``, ``-``,
  ``@``, tab or carriage return gets a leading apostrophe (``'``), so spreadsheet programs
  show it as text instead of running it as a formula. ``scores.parquet`` holds raw values.
* **Atomic and reproducible**: the four files of a run are written (and fsynced) into a new
  hidden directory ``.as_of=<year>.<content hash>``; ``as_of=<year>`` is then a symlink
  switched to it with one ``os.replace``. A run killed at any point leaves the previous
  outputs complete. The files carry no timestamps, so the same inputs and models give
  byte-identical files (and the same directory name).
* **Lock**: ``${paths.scores_dir}/.lock`` (``filelock``). A second run waits up to
  ``score.lock_timeout_s`` seconds, then fails with :class:`ScoreLockError` (exit 2).
* **Data year check**: a model whose ``data_last_year`` tag is later than the last year of
  the data is refused with :class:`~relapse.errors.DataError` (exit 3) before anything is
  written: an older data release must not be scored by a model trained on a newer one.
* **Full disk**: an :class:`OSError` while writing becomes
  :class:`~relapse.errors.OutputError` (exit 5) naming the file; see :func:`write_outputs`.
* **Feature check**: a model whose feature list differs from the built features (as sets)
  is refused with :class:`~relapse.errors.ModelError` (exit 4) naming the differences; a
  difference in order only is resolved by passing columns in the model's order.
* **Tracking**: after the files are in place the run is logged to MLflow (experiment
  ``relapse-scoring``: input hash, data vintage, model versions, row counts, the CSV). If the
  tracking server cannot be reached the command exits 4 *but keeps the written scores*:
  they are a pure function of data and registered models, and the non-zero code makes the
  scheduler alert that the audit record is missing.
"""

from __future__ import annotations

import hashlib
import html
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from relapse.errors import ConfigError, DataError, ModelError, output_dir, writing

EXPERIMENT = "relapse-scoring"
STATUSES: tuple[str, ...] = ("scored", "active_conflict", "outside_population", "missing_data")
BAND_LABELS: tuple[str, ...] = ("low", "moderate", "high", "very high")
COLUMNS: tuple[str, ...] = (
    "gwno",
    "iso3",
    "country",
    "as_of_year",
    "horizon_years",
    "relapse_probability",
    "status",
    "risk_band",
    "top_drivers_up",
    "top_drivers_down",
    "missions",
    "model_name",
    "model_version",
    "data_vintage",
)
TEXT_COLUMNS: tuple[str, ...] = (
    "iso3",
    "country",
    "status",
    "risk_band",
    "top_drivers_up",
    "top_drivers_down",
    "missions",
    "model_name",
    "model_version",
    "data_vintage",
)
FILES: tuple[str, ...] = ("scores.parquet", "scores.csv", "brief.md", "brief.html")
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
DRIVER_MIN = 0.005
DRIVERS_SHOWN = 3
PROBABILITY_DECIMALS = 4


class ScoreLockError(ConfigError):
    """Another ``relapse score`` holds the scores directory's lock (exit 2)."""


class ScoringModel(Protocol):
    """What scoring needs of a registered model (``relapse.tracking.RegisteredModel``)."""

    name: str
    version: Any
    run_id: str
    booster: Any
    feature_names: list[str]
    family_map: Mapping[str, str]
    data_vintage: str

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray: ...


ModelLoader = Callable[[DictConfig, int, str], ScoringModel]
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

    @property
    def counts(self) -> dict[str, int]:
        """Rows per status (all horizons)."""
        vc = self.table["status"].value_counts()
        return {s: int(vc.get(s, 0)) for s in STATUSES}


# --------------------------------------------------------------------------------- the job


def score(
    cfg: DictConfig,
    *,
    load_model: ModelLoader | None = None,
    log_run: RunLogger | None = None,
) -> ScoreResult:
    """Score the configured scope with the registered models and write the outputs.

    Parameters
    ----------
    cfg
        Composed config (``compose_config("score", overrides)``).
    load_model
        ``(cfg, horizon, version) -> model``; default ``relapse.tracking.load_registered``.
    log_run
        ``(cfg, result) -> None`` called after the outputs are written; default logs to
        MLflow (:func:`log_to_mlflow`).

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
        result = compute_scores(cfg, load_model=load_model)
        files = render_files(result)
        result.out_dir = write_outputs(files, scores_dir, result.as_of)
        (log_run or log_to_mlflow)(cfg, result)
    finally:
        lock.release()
    return result


def compute_scores(cfg: DictConfig, *, load_model: ModelLoader | None = None) -> ScoreResult:
    """Everything but writing: models, panel, scope, probabilities, drivers."""
    from relapse.build import build_panel, data_last_year
    from relapse.features import feature_columns
    from relapse.missions import active_missions, load_mission_tables
    from relapse.tracking import require_one_run

    horizons = [int(h) for h in cfg.target.horizons]
    version = str(cfg.score.model_version)
    loader = load_model or _registered_loader()
    models = {h: loader(cfg, h, version) for h in horizons}
    require_one_run(models)
    features = feature_columns(cfg)
    for h, model in models.items():
        check_features(model, features, h)
    # Refusals come before the build, so a refused run leaves the cached panel as it was.
    check_data_year(models, data_last_year(cfg))
    built = build_panel(cfg)
    panel = built.panel
    check_data_year(models, int(panel["year"].max()))
    as_of = resolve_as_of(cfg, panel)
    data_dir = Path(cfg.paths.data_dir)
    missions = active_missions(
        load_mission_tables(data_dir, verify=bool(cfg.data.verify_checksums)), as_of
    )
    # Mission sources are registered sources, so the panel's vintage already covers them.
    vintage = built.data_vintage
    targets = select_scope(cfg, panel, as_of, missions)
    table = score_table(panel, targets, models, as_of, vintage, list(cfg.report.risk_bands))
    notes = mission_notes(missions, as_of)
    return ScoreResult(
        table=table,
        out_dir=Path(),
        as_of=as_of,
        input_hash=built.input_hash,
        data_vintage=vintage,
        models={h: (str(m.name), str(m.version)) for h, m in models.items()},
        notes=notes,
    )


def _registered_loader() -> ModelLoader:
    try:
        from relapse.tracking import load_registered
    except ImportError as exc:
        raise ModelError(
            f"cannot load registered models: relapse.tracking unavailable ({exc})"
        ) from exc
    return cast(ModelLoader, load_registered)


def check_data_year(models: Mapping[int, ScoringModel], last_year: int) -> None:
    """Refuse a model trained on data later than the data being scored (:class:`DataError`).

    A model without a ``data_last_year`` tag (registered before the tag existed) is not
    checked.
    """
    for h, model in sorted(models.items()):
        year = getattr(model, "data_last_year", None)
        if year is not None and int(year) > last_year:
            raise DataError(
                f"the data end in {last_year}, but {model.name} v{model.version} (horizon {h}) "
                f"was trained on data up to {year}: the data release is older than the model's "
                "(check paths.data_dir and data.vintage_year), or score with a model version "
                "trained on this release (score.model_version=<n>). Nothing was written"
            )


def check_features(model: ScoringModel, features: Sequence[str], horizon: int) -> None:
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


def resolve_countries(codes: Sequence[Any], panel: pd.DataFrame) -> list[int]:
    """GW codes of ``codes`` (ISO3 or GW numbers); :class:`ConfigError` naming unknown ones."""
    known_gw = set(panel["gwno"].astype(int))
    by_iso = (
        panel.dropna(subset=["iso3"])
        .drop_duplicates("iso3", keep="last")
        .set_index("iso3")["gwno"]
        .astype(int)
        .to_dict()
    )
    out, unknown = [], []
    for code in codes:
        text = str(code).strip()
        if text.isdigit() and int(text) in known_gw:
            out.append(int(text))
        elif text.upper() in by_iso:
            out.append(int(by_iso[text.upper()]))
        else:
            unknown.append(text)
    if unknown:
        raise ConfigError(
            f"score.countries: unknown ISO3 or GW code(s) {unknown} (not in the panel's states)"
        )
    return sorted(set(out))


def select_scope(cfg: DictConfig, panel: pd.DataFrame, as_of: int, missions: Any) -> pd.DataFrame:
    """The countries to list: ``gwno`` (Int64), ``iso3``, ``country``, ``missions``."""
    scope = str(cfg.score.scope)
    hosts = missions.hosts.set_index("gwno")["missions"]
    names = panel.sort_values("year").drop_duplicates("gwno", keep="last").set_index("gwno")
    if scope == "active_missions":
        gws = sorted(int(g) for g in hosts.index)
    elif scope == "all_post_conflict":
        year = panel.loc[(panel["year"] == as_of) & panel["in_population"]]
        gws = sorted(int(g) for g in year["gwno"])
    elif scope == "countries":
        if not cfg.score.countries:
            raise ConfigError("score.scope=countries needs score.countries (ISO3 or GW codes)")
        gws = resolve_countries(list(cfg.score.countries), panel)
    else:  # validate_config already refuses other values
        raise ConfigError(f"unknown score.scope {scope!r}")
    rows = pd.DataFrame(
        {
            "gwno": pd.array(gws, dtype="Int64"),
            "iso3": [names["iso3"].get(g) for g in gws],
            "country": [names["country"].get(g) for g in gws],
            "missions": [hosts.get(g, "") for g in gws],
        }
    )
    if scope == "active_missions" and len(missions.non_state_hosts):
        extra = missions.non_state_hosts.assign(gwno=pd.NA)[list(rows.columns)]
        rows = pd.concat([rows, extra.astype({"gwno": "Int64"})], ignore_index=True)
    return rows.astype({"iso3": "string", "country": "string", "missions": "string"})


def score_table(
    panel: pd.DataFrame,
    targets: pd.DataFrame,
    models: Mapping[int, ScoringModel],
    as_of: int,
    vintage: str,
    risk_bands: Sequence[float],
) -> pd.DataFrame:
    """One row per target country × horizon, in the output contract's columns and order."""
    year = panel.loc[panel["year"] == as_of].drop_duplicates("gwno").set_index("gwno")
    status = []
    for g in targets["gwno"]:
        if pd.isna(g) or int(g) not in year.index:
            status.append("missing_data")
        elif bool(year.at[int(g), "active"]):
            status.append("active_conflict")
        elif not bool(year.at[int(g), "in_population"]):
            status.append("outside_population")
        else:
            status.append("scored")
    base = targets.assign(status=status)
    scored_gw = [int(g) for g, s in zip(base["gwno"], status, strict=True) if s == "scored"]
    parts = []
    for h, model in sorted(models.items()):
        part = base.assign(
            as_of_year=as_of,
            horizon_years=int(h),
            relapse_probability=np.nan,
            risk_band="",
            top_drivers_up="",
            top_drivers_down="",
            model_name=str(model.name),
            model_version=str(model.version),
            data_vintage=vintage,
        )
        if scored_gw:
            X = year.loc[scored_gw, list(model.feature_names)].astype("float64")
            proba = np.round(_positive_proba(model.predict_proba(X)), PROBABILITY_DECIMALS)
            up, down = family_drivers(model, X)
            mask = part["status"] == "scored"
            part.loc[mask, "relapse_probability"] = proba
            part.loc[mask, "risk_band"] = [risk_band(p, risk_bands) for p in proba]
            part.loc[mask, "top_drivers_up"] = up
            part.loc[mask, "top_drivers_down"] = down
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    table = table.sort_values(
        ["country", "iso3", "horizon_years"], ignore_index=True, kind="mergesort"
    )
    table = table[list(COLUMNS)].astype(
        {
            "gwno": "Int64",
            "as_of_year": "int64",
            "horizon_years": "int64",
            "relapse_probability": "float64",
            **{c: "string" for c in TEXT_COLUMNS},
        }
    )
    return score_schema().validate(table)


def _positive_proba(p: Any) -> np.ndarray:
    arr = np.asarray(p, dtype="float64")
    return arr[:, 1] if arr.ndim == 2 else arr


def risk_band(p: float, thresholds: Sequence[float]) -> str:
    """The band of probability ``p``: ``low`` below the first threshold, then upwards."""
    if len(thresholds) != len(BAND_LABELS) - 1:
        raise ConfigError(
            f"report.risk_bands needs {len(BAND_LABELS) - 1} thresholds for the "
            f"bands {list(BAND_LABELS)}, got {list(thresholds)}"
        )
    return BAND_LABELS[int(np.searchsorted(np.asarray(thresholds), p, side="right"))]


def family_drivers(model: ScoringModel, X: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Per row: families pushing the raw score up and down (summed SHAP log-odds)."""
    from relapse.explain import contributions

    contrib, _ = contributions(model.booster, X, list(X.columns))
    fam = pd.DataFrame(contrib, columns=list(X.columns)).T
    fam.index = [model.family_map.get(f, "unassigned") for f in X.columns]
    sums = fam.groupby(level=0, sort=True).sum().T
    names = [str(c) for c in sums.columns]
    values = sums.to_numpy(dtype="float64")
    # Stable sorts (ties keep the families' alphabetical order), as per-row mergesorts would.
    by_up = np.argsort(-values, axis=1, kind="stable")[:, :DRIVERS_SHOWN]
    by_down = np.argsort(values, axis=1, kind="stable")[:, :DRIVERS_SHOWN]
    up_v = np.take_along_axis(values, by_up, axis=1)
    down_v = np.take_along_axis(values, by_down, axis=1)
    up = [
        "; ".join(f"{names[j]} {v:+.2f}" for j, v in zip(js, vs, strict=True) if v >= DRIVER_MIN)
        for js, vs in zip(by_up, up_v, strict=True)
    ]
    down = [
        "; ".join(f"{names[j]} {v:+.2f}" for j, v in zip(js, vs, strict=True) if v <= -DRIVER_MIN)
        for js, vs in zip(by_down, down_v, strict=True)
    ]
    return up, down


@cache
def score_schema() -> Any:
    """Pandera schema of the score table (columns, order, types, status ↔ probability)."""
    import pandera.pandas as pa

    text = {c: pa.Column("string", nullable=False) for c in TEXT_COLUMNS}
    text["status"] = pa.Column("string", pa.Check.isin(list(STATUSES)))
    text["risk_band"] = pa.Column("string", pa.Check.isin(["", *BAND_LABELS]))
    columns = {
        "gwno": pa.Column("Int64", nullable=True),
        "as_of_year": pa.Column("int64"),
        "horizon_years": pa.Column("int64", pa.Check.ge(1)),
        "relapse_probability": pa.Column("float64", pa.Check.in_range(0, 1), nullable=True),
        **text,
    }
    scored_iff_probability = pa.Check(
        lambda df: (df["status"] == "scored") == df["relapse_probability"].notna(),
        error="relapse_probability must be given exactly for status 'scored'",
    )
    return pa.DataFrameSchema(
        {c: columns[c] for c in COLUMNS}, strict=True, ordered=True, checks=[scored_iff_probability]
    )


def mission_notes(missions: Any, as_of: int) -> list[str]:
    """Plain-language caveats on mission coverage for the brief."""
    notes = []
    last = missions.non_un_last_year
    if last is not None and last < as_of:
        notes.append(
            f"Non-UN missions: the snapshot has no non-UN mission source after {last} "
            f"(Mullenbach; Bara & Hultman). Non-UN missions recorded as ongoing at the end of "
            f"{last} are carried forward to {as_of}; missions begun or ended since are not known."
        )
    for row in missions.non_state_hosts.itertuples(index=False):
        notes.append(
            f"{row.missions} is hosted by {row.country} ({row.iso3}), which is not a "
            "Gleditsch–Ward state: listed with status missing_data, not attributed "
            "to another country."
        )
    if missions.undated:
        notes.append(
            "UN missions marked active in the UN list but without a start date, so "
            f"not counted: {', '.join(missions.undated)}."
        )
    return notes


# --------------------------------------------------------------------------------- writing


def render_files(result: ScoreResult) -> dict[str, bytes]:
    """The bytes of every output file (deterministic: no timestamps, fixed formatting)."""
    table = result.table
    buf = io.BytesIO()
    table.to_parquet(buf, index=False, engine="pyarrow", compression="snappy")
    csv = escape_csv_injection(table).to_csv(
        index=False, float_format=f"%.{PROBABILITY_DECIMALS}f", lineterminator="\n"
    )
    return {
        "scores.parquet": buf.getvalue(),
        "scores.csv": csv.encode("utf-8"),
        "brief.md": render_brief_md(result).encode("utf-8"),
        "brief.html": render_brief_html(result).encode("utf-8"),
    }


def escape_csv_injection(table: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with an apostrophe."""
    out = table.copy()
    for col in TEXT_COLUMNS:
        s = out[col].astype("string").fillna("")
        risky = s.str.startswith(FORMULA_PREFIXES)
        out[col] = s.where(~risky, "'" + s)
    return out


def _brief_rows(result: ScoreResult) -> list[list[str]]:
    rows = []
    for r in result.table.itertuples(index=False):
        p = r.relapse_probability
        rows.append(
            [
                str(r.country),
                str(r.iso3 if pd.notna(r.iso3) else ""),
                str(r.horizon_years),
                "" if pd.isna(p) else f"{p:.1%}",
                str(r.risk_band),
                str(r.status).replace("_", " "),
                str(r.top_drivers_up),
                str(r.top_drivers_down),
                str(r.missions),
            ]
        )
    return rows


BRIEF_HEADER = [
    "Country",
    "ISO3",
    "Horizon (years)",
    "Relapse probability",
    "Risk band",
    "Status",
    "Families pushing risk up",
    "Families pushing risk down",
    "Missions",
]


def _brief_intro(result: ScoreResult) -> list[str]:
    counts = result.counts
    horizons = sorted(result.models)
    lines = [
        f"Forecast of post-conflict relapse as of the end of {result.as_of}: the probability "
        "that a country at peace after an internal armed conflict has an active internal "
        f"conflict-year (UCDP, 25+ battle deaths) within the next {', '.join(map(str, horizons))}"
        " years.",
        "These are associations learned from past cases, not causal effects: a family that "
        "pushes risk up or down is associated with higher or lower risk in similar past "
        "cases, and changing it is not shown to change the risk.",
        f"Data vintage {result.data_vintage} (panel input hash {result.input_hash}).",
        "Models: "
        + "; ".join(
            f"{h}-year horizon {n} version {v}" for h, (n, v) in sorted(result.models.items())
        )
        + ".",
        f"Rows: {sum(counts.values())} ("
        + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in counts.items())
        + ").",
        "Status: scored = in the post-conflict population; active conflict = fighting in "
        f"{result.as_of}, no relapse probability; outside population = not within the "
        "post-conflict window; missing data = not a state in the data that year. Drivers are "
        "summed SHAP contributions per factor family on the log-odds scale.",
    ]
    return lines + result.notes


def render_brief_md(result: ScoreResult) -> str:
    """The short brief in Markdown (every row listed)."""

    def cell(text: str) -> str:
        # Markdown renderers pass raw HTML through: escape the tag brackets, so a hostile name
        # stays text (a bare "&" cannot open a tag, and stays readable as "Bara & Hultman").
        text = text.replace("<", "&lt;").replace(">", "&gt;")
        return text.replace("|", "\\|").replace("\n", " ")

    out = [f"# Relapse risk brief — as of {result.as_of}", ""]
    out += [f"- {cell(line)}" for line in _brief_intro(result)]
    out += ["", "| " + " | ".join(BRIEF_HEADER) + " |", "|" + "---|" * len(BRIEF_HEADER)]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in _brief_rows(result)]
    return "\n".join(out) + "\n"


def render_brief_html(result: ScoreResult) -> str:
    """The short brief as a standalone HTML page (every value escaped)."""
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>Relapse risk brief — as of {result.as_of}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style>",
        "</head>",
        "<body>",
        f"<h1>Relapse risk brief — as of {result.as_of}</h1>",
        "<ul>",
    ]
    out += [f"<li>{e(line)}</li>" for line in _brief_intro(result)]
    out += [
        "</ul>",
        "<table>",
        "<thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in BRIEF_HEADER) + "</tr></thead>",
        "<tbody>",
    ]
    out += [
        "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in _brief_rows(result)
    ]
    out += ["</tbody>", "</table>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


def _write_file(path: Path, data: bytes) -> None:
    """Write and fsync one file."""
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_outputs(files: Mapping[str, bytes], scores_dir: Path, as_of: int) -> Path:
    """Write a run's files into a fresh directory, then switch ``as_of=<year>`` to it.

    ``as_of=<year>`` is a symlink to ``.as_of=<year>.<hash of the files>``; the switch is one
    ``os.replace`` of the link, so readers see the old set of files or the new one, never a
    mix. Call with the lock held. Returns the ``as_of=<year>`` path. An :class:`OSError`
    (disk full) becomes :class:`~relapse.errors.OutputError` naming the file; the previous
    outputs stay in place and the temporary directory is removed.
    """
    scores_dir = Path(scores_dir)
    final = scores_dir / f"as_of={as_of}"
    with writing(final):
        _switch_outputs(files, scores_dir, final, as_of)
    return final


def _switch_outputs(files: Mapping[str, bytes], scores_dir: Path, final: Path, as_of: int) -> None:
    """The body of :func:`write_outputs`."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    target_name = f".as_of={as_of}.{digest.hexdigest()[:16]}"
    target = scores_dir / target_name
    if not target.is_dir():
        tmp = Path(tempfile.mkdtemp(dir=scores_dir, prefix=f".as_of={as_of}.tmp-"))
        try:
            for name in sorted(files):
                with writing(final / name):
                    _write_file(tmp / name, files[name])
            _fsync_dir(tmp)
            os.rename(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    if not (final.is_symlink() and os.readlink(final) == target_name):
        if final.exists() and not final.is_symlink():
            # A plain directory left by hand or an older version: keep it aside, never delete.
            os.rename(final, scores_dir / f".as_of={as_of}.previous-dir")
        link = scores_dir / f".as_of={as_of}.link-{os.getpid()}"
        link.unlink(missing_ok=True)
        os.symlink(target_name, link)
        os.replace(link, final)
        _fsync_dir(scores_dir)
    for stale in scores_dir.glob(f".as_of={as_of}.*"):
        if stale.name != target_name and not stale.name.endswith(".previous-dir"):
            shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink()


# -------------------------------------------------------------------------------- tracking


def tracking_uri(cfg: DictConfig) -> str:
    """``mlflow.tracking_uri``, else ``$MLFLOW_TRACKING_URI``, else the embedded SQLite store."""
    uri = cfg.mlflow.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    return str(uri) if uri else f"sqlite:///{Path(cfg.mlflow.embedded_store).resolve()}"


def log_to_mlflow(cfg: DictConfig, result: ScoreResult) -> None:
    """Log the run to the ``relapse-scoring`` experiment; :class:`ModelError` on failure."""
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(cfg.mlflow.max_retries))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(cfg.mlflow.request_timeout_s))
    uri = tracking_uri(cfg)
    try:
        import mlflow

        mlflow.set_tracking_uri(uri)
        if mlflow.get_experiment_by_name(EXPERIMENT) is None:
            local = uri.startswith(("sqlite:", "file:")) or "://" not in uri
            location = Path(cfg.mlflow.artifact_root).resolve().as_uri() if local else None
            mlflow.create_experiment(EXPERIMENT, artifact_location=location)
        mlflow.set_experiment(EXPERIMENT)
        with mlflow.start_run(run_name=f"score as_of={result.as_of}"):
            mlflow.log_params(
                {
                    "as_of": result.as_of,
                    "scope": str(cfg.score.scope),
                    "model_version_requested": str(cfg.score.model_version),
                    "input_hash": result.input_hash,
                    "data_vintage": result.data_vintage,
                    **{f"model_h{h}": f"{n}:{v}" for h, (n, v) in result.models.items()},
                }
            )
            mlflow.log_metrics(
                {f"rows_{s}": float(n) for s, n in result.counts.items()}
                | {"rows": float(len(result.table))}
            )
            mlflow.log_artifact(str(result.out_dir / "scores.csv"))
    except Exception as exc:
        raise ModelError(
            f"scores were written to {result.out_dir}, but logging the run to MLflow at {uri} "
            f"failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from exc
