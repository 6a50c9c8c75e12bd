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
    Not at war in ``as_of``: probability, risk band and drivers given; ``risk_type`` says
    relapse (post-conflict), renewed (conflict long ago) or onset, with ``years_at_peace``.
``active_conflict``
    The country had an active internal conflict-year in ``as_of`` (e.g. Mali, DR Congo,
    South Sudan in 2018): it is listed, never dropped, but has no relapse probability.
``missing_data``
    The row cannot be built: the host is not a Gleditsch–Ward state in the panel's spine in
    ``as_of`` (a state that did not exist that year). Missing
    *feature values* are not missing data: LightGBM handles NaN, and such rows are scored.

Contract for consumers
----------------------
* Columns and order: :data:`COLUMNS`; checked with :func:`score_schema` before writing.
  Rows sorted by country, ISO3 and horizon. ``relapse_probability`` is rounded to 4
  decimals; risk bands are multiples of each horizon's base rate
  (:mod:`relapse.bands`; a value equal to a cut falls in the higher band).
  ``top_drivers_up`` / ``top_drivers_down`` are factor
  families with their summed SHAP contributions (log-odds, LightGBM ``pred_contrib``) to
  the raw model score, largest first, at most three each, |value| ≥ 0.005.
* Empty (null in parquet, blank in CSV) when not scored: probability. Empty string: risk band,
  drivers, missions when there are none. ``gwno`` is never null for mission hosts
  (``score.mission_hosts`` attributes every mission to GW states).
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
import io
import os
import re
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

from relapse import bands
from relapse.errors import ConfigError, DataError, ModelError, output_dir, writing

EXPERIMENT = "relapse-scoring"
STATUSES: tuple[str, ...] = ("scored", "active_conflict", "missing_data")
BAND_LABELS: tuple[str, ...] = bands.BAND_LABELS
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
    # Added by issue 14 (after the original columns; none renamed).
    "risk_type",
    "years_at_peace",
    "base_rate",
    "rank",
    "previous_probability",
    "change_since_last",
    "driver_up_family",
    "driver_up_contribution",
    "driver_down_family",
    "driver_down_contribution",
    "conflicts",
    "conflict_ids",
    "episode_start_year",
    "intensity",
    "battle_deaths",
    "mission_status",
    "interstate_mission",
    "baseline_probability",
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
    "risk_type",
    "driver_up_family",
    "driver_down_family",
    "conflicts",
    "conflict_ids",
    "mission_status",
)
INT_COLUMNS: tuple[str, ...] = (
    "years_at_peace",
    "rank",
    "episode_start_year",
    "intensity",
    "battle_deaths",
)
FLOAT_COLUMNS: tuple[str, ...] = (
    "baseline_probability",
    "base_rate",
    "previous_probability",
    "change_since_last",
    "driver_up_contribution",
    "driver_down_contribution",
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
    feature_names: list[str]
    family_map: Mapping[str, str]
    data_vintage: str

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray: ...

    def contributions(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]: ...

    def baseline_proba(self, X: pd.DataFrame) -> np.ndarray: ...


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
    """Everything but writing: models, panel, scope, probabilities, drivers, conflict facts."""
    from omegaconf import OmegaConf

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
    overrides = cast(dict, OmegaConf.to_container(cfg.score.mission_hosts, resolve=True))
    missions = active_missions(
        load_mission_tables(data_dir, verify=bool(cfg.data.verify_checksums)), as_of, overrides
    )
    # Mission sources are registered sources, so the panel's vintage already covers them.
    vintage = built.data_vintage
    targets = select_scope(cfg, panel, as_of, missions)
    conflict = load_conflict_tables(cfg)
    facts = conflict_facts(panel, conflict, cfg, as_of)
    previous, prev_note = previous_scores(Path(cfg.paths.scores_dir), as_of)
    rates = bands.base_rates(panel, horizons)
    multiples = [float(m) for m in cfg.report.risk_band_multiples]
    table = score_table(
        panel, targets, models, as_of, vintage, rates, multiples, facts=facts, previous=previous
    )
    notes = mission_notes(missions, as_of) + ([prev_note] if prev_note else [])
    notes.append(location_note(cfg, panel, conflict, as_of))
    return ScoreResult(
        table=table,
        out_dir=Path(),
        as_of=as_of,
        input_hash=built.input_hash,
        data_vintage=vintage,
        models={h: (str(m.name), str(m.version)) for h, m in models.items()},
        notes=notes,
        missions=missions.missions,
        skill={h: skill_verdict(getattr(m, "metrics", None) or {}, h) for h, m in models.items()},
        base_rates=rates,
        multiples=multiples,
        previous=previous,
    )


def load_conflict_tables(cfg: DictConfig) -> dict[str, pd.DataFrame]:
    """The ACD and battle-death tables (validated loaders), cut like the panel's sources."""
    from relapse.sources import load_tables

    return load_tables(
        ["ucdp_acd", "ucdp_brd"],
        cfg.paths.data_dir,
        verify=bool(cfg.data.verify_checksums),
        vintage_year=cfg.data.vintage_year,
    )


def conflict_facts(
    panel: pd.DataFrame, conflict: Mapping[str, pd.DataFrame], cfg: DictConfig, as_of: int
) -> pd.DataFrame:
    """Per country at war in ``as_of``: its conflicts by UCDP name, episode start, intensity and
    battle deaths that year.

    Conflicts are placed as ``target.location`` says (:func:`relapse.panel.battle_locations`)
    and named ``location: territory (side A vs side B)``, or ``location: government (…)`` for
    conflicts over the government. Battle deaths are UCDP's best estimate summed over the
    dyads of those conflicts in ``as_of`` (all their locations). Returns ``gwno``,
    ``conflicts``, ``conflict_ids``, ``episode_start_year``, ``intensity``, ``battle_deaths``.
    """
    from relapse.panel import battle_locations

    acd = battle_locations(conflict["ucdp_acd"], conflict["ucdp_brd"], str(cfg.target.location))
    rows = acd.loc[(acd["year"] == as_of) & acd["type_of_conflict"].isin(cfg.target.conflict_types)]
    brd = conflict["ucdp_brd"]
    deaths = brd.loc[brd["year"] == as_of].groupby("conflict_id")["bd_best"].sum()
    year = panel.loc[panel["year"] == as_of].set_index("gwno")
    out = []
    for gwno, g in rows.groupby("gwno", sort=True):
        g = g.drop_duplicates("conflict_id").sort_values("conflict_id")
        names = [
            f"{r.location}: {_incompatibility(r.territory_name)} ({r.side_a} vs {r.side_b})"
            for r in g.itertuples(index=False)
        ]
        ids = [int(c) for c in g["conflict_id"]]
        known = [c for c in ids if c in deaths.index]
        start = year["spell_start"].get(int(gwno)) if "spell_start" in year else pd.NA
        out.append(
            {
                "gwno": int(gwno),
                "conflicts": "; ".join(names),
                "conflict_ids": "; ".join(map(str, ids)),
                "episode_start_year": start,
                "intensity": int(g["intensity_level"].max()),
                "battle_deaths": int(deaths.loc[known].sum()) if known else pd.NA,
            }
        )
    cols = ["gwno", "conflicts", "conflict_ids", "episode_start_year", "intensity", "battle_deaths"]
    return pd.DataFrame(out, columns=cols)


def _incompatibility(territory: Any) -> str:
    """The territory fought over, or 'government' for conflicts over the government."""
    return territory if isinstance(territory, str) and territory else "government"


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


def location_note(
    cfg: DictConfig, panel: pd.DataFrame, conflict: Mapping[str, pd.DataFrame], as_of: int
) -> str:
    """Which conflict location is used and which countries the other choice would change."""
    from relapse.panel import location_changes

    spine = panel[["gwno", "year", "iso3", "country"]]
    changes = location_changes(conflict["ucdp_acd"], conflict["ucdp_brd"], spine, cfg.target, as_of)
    used = str(cfg.target.location)
    other = "battle" if used == "government" else "government"
    listed = "; ".join(
        f"{r.country}: {getattr(r, used)} (with {other}: {getattr(r, other)})"
        for r in changes.itertuples(index=False)
    )
    return (
        f"Conflicts are placed by target.location={used} ("
        + (
            "UCDP's location, the government's country"
            if used == "government"
            else "where the battles were, UCDP battle-death file from 1989"
        )
        + f"). With target.location={other}, {len(changes)} countr"
        + ("y" if len(changes) == 1 else "ies")
        + f" would have another status in {as_of}"
        + (f": {listed}." if listed else ".")
    )


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
    """The countries to list: ``gwno`` (Int64), ``iso3``, ``country``, ``missions``,
    ``mission_status`` and ``interstate_mission``."""
    scope = str(cfg.score.scope)
    hosts = missions.hosts.set_index("gwno")
    names = panel.sort_values("year").drop_duplicates("gwno", keep="last").set_index("gwno")
    year = panel.loc[panel["year"] == as_of]
    if scope == "active_missions":
        gws = sorted(int(g) for g in hosts.index)
    elif scope == "not_at_war":
        gws = sorted(int(g) for g in year.loc[~year["active"].astype(bool), "gwno"])
    elif scope == "all_post_conflict":
        gws = sorted(int(g) for g in year.loc[year["in_population"], "gwno"])
    elif scope == "countries":
        if not cfg.score.countries:
            raise ConfigError("score.scope=countries needs score.countries (ISO3 or GW codes)")
        gws = resolve_countries(list(cfg.score.countries), panel)
    else:  # validate_config already refuses other values
        raise ConfigError(f"unknown score.scope {scope!r}")
    table = missions.missions
    rows = pd.DataFrame(
        {
            "gwno": pd.array(gws, dtype="Int64"),
            "iso3": [names["iso3"].get(g) for g in gws],
            "country": [names["country"].get(g) for g in gws],
            "missions": [hosts["missions"].get(g, "") for g in gws],
            "mission_status": [_mission_status(table, g) for g in gws],
            "interstate_mission": [bool(hosts["interstate"].get(g, False)) for g in gws],
        }
    )
    return rows.astype(
        {"iso3": "string", "country": "string", "missions": "string", "mission_status": "string"}
    )


def _mission_status(missions: pd.DataFrame, gwno: int) -> str:
    """'EUPOL, RSM: not recorded since 2016' for a host's missions not active on record."""
    if missions.empty:
        return ""
    own = missions.loc[(missions["gwno"] == gwno) & (missions["status"] != "active")]
    return "; ".join(
        f"{', '.join(g['mission'])}: {status}" for status, g in own.groupby("status", sort=True)
    )


def score_table(
    panel: pd.DataFrame,
    targets: pd.DataFrame,
    models: Mapping[int, ScoringModel],
    as_of: int,
    vintage: str,
    rates: Mapping[int, float],
    multiples: Sequence[float] = bands.DEFAULT_MULTIPLES,
    *,
    facts: pd.DataFrame | None = None,
    previous: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per target country × horizon, in the output contract's columns and order.

    Every country not at war in ``as_of`` is scored (``risk_type`` says whether it is
    post-conflict, renewed-conflict or onset risk); countries at war carry ``facts``
    (:func:`conflict_facts`); ``previous`` (last year's scores) gives the change.
    """
    year = panel.loc[panel["year"] == as_of].drop_duplicates("gwno").set_index("gwno")
    status = []
    for g in targets["gwno"]:
        if pd.isna(g) or int(g) not in year.index:
            status.append("missing_data")
        elif bool(year.at[int(g), "active"]):
            status.append("active_conflict")
        else:
            status.append("scored")
    base = targets.assign(status=status)
    base = _with_panel_facts(base, year, facts)
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
            base_rate=float(rates[int(h)]),
            driver_up_family="",
            driver_up_contribution=np.nan,
            driver_down_family="",
            driver_down_contribution=np.nan,
            baseline_probability=np.nan,
        )
        if scored_gw:
            X = year.loc[scored_gw, list(model.feature_names)].astype("float64")
            proba = np.round(_positive_proba(model.predict_proba(X)), PROBABILITY_DECIMALS)
            drivers = family_drivers(model, X)
            mask = part["status"] == "scored"
            part.loc[mask, "relapse_probability"] = proba
            part.loc[mask, "baseline_probability"] = np.round(
                model.baseline_proba(X), PROBABILITY_DECIMALS
            )
            part.loc[mask, "risk_band"] = [bands.band(p, rates[int(h)], multiples) for p in proba]
            part.loc[mask, "top_drivers_up"] = drivers.up
            part.loc[mask, "top_drivers_down"] = drivers.down
            for col in ("driver_up_family", "driver_up_contribution"):
                part.loc[mask, col] = drivers.top_up[col.removeprefix("driver_up_")].to_numpy()
            for col in ("driver_down_family", "driver_down_contribution"):
                part.loc[mask, col] = drivers.top_down[col.removeprefix("driver_down_")].to_numpy()
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    table["rank"] = (
        table.groupby("horizon_years")["relapse_probability"]
        .rank(method="min", ascending=False)
        .astype("Int64")
    )
    table = _with_change(table, previous)
    table = table.sort_values(
        ["country", "iso3", "horizon_years"], ignore_index=True, kind="mergesort"
    )
    table = table[list(COLUMNS)].astype(
        {
            "gwno": "Int64",
            "as_of_year": "int64",
            "horizon_years": "int64",
            "relapse_probability": "float64",
            "interstate_mission": bool,
            **{c: "string" for c in TEXT_COLUMNS},
            **{c: "Int64" for c in INT_COLUMNS},
            **{c: "float64" for c in FLOAT_COLUMNS},
        }
    )
    return score_schema().validate(table)


def _with_panel_facts(
    base: pd.DataFrame, year: pd.DataFrame, facts: pd.DataFrame | None
) -> pd.DataFrame:
    """Add ``risk_type`` and ``years_at_peace`` (not at war) and the conflict facts (at war)."""
    gw = [None if pd.isna(g) else int(g) for g in base["gwno"]]
    known = [g is not None and g in year.index for g in gw]
    base = base.assign(
        risk_type=[year.at[g, "risk_type"] if k else pd.NA for g, k in zip(gw, known, strict=True)],
        years_at_peace=[
            year.at[g, "years_at_peace"] if k else pd.NA for g, k in zip(gw, known, strict=True)
        ],
    )
    base["risk_type"] = base["risk_type"].astype("string").fillna("")
    cols = ["conflicts", "conflict_ids", "episode_start_year", "intensity", "battle_deaths"]
    if facts is None or facts.empty:
        facts = pd.DataFrame(columns=["gwno", *cols])
    at_war = base["status"] == "active_conflict"
    merged = base.merge(facts.astype({"gwno": "Int64"}), on="gwno", how="left")
    for col in cols:
        merged[col] = merged[col].where(at_war.to_numpy(), pd.NA)
    for col in ("conflicts", "conflict_ids"):
        merged[col] = merged[col].astype("string").fillna("")
    return merged


def _with_change(table: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """``previous_probability`` and ``change_since_last`` from last year's scores."""
    if previous is None or previous.empty:
        return table.assign(previous_probability=np.nan, change_since_last=np.nan)
    prev = previous.dropna(subset=["gwno"])[["gwno", "horizon_years", "relapse_probability"]]
    prev = prev.rename(columns={"relapse_probability": "previous_probability"})
    prev = prev.astype({"gwno": "Int64", "horizon_years": "int64"})
    out = table.merge(prev, on=["gwno", "horizon_years"], how="left")
    out["change_since_last"] = (out["relapse_probability"] - out["previous_probability"]).round(
        PROBABILITY_DECIMALS
    )
    return out


def _positive_proba(p: Any) -> np.ndarray:
    arr = np.asarray(p, dtype="float64")
    return arr[:, 1] if arr.ndim == 2 else arr


@dataclass
class Drivers:
    """Per scored row: driver text (contract columns) and the top family each way."""

    up: list[str]
    down: list[str]
    top_up: pd.DataFrame
    """``family`` and ``contribution`` of the family pushing most up ('' / NaN if none)."""
    top_down: pd.DataFrame


def family_drivers(model: ScoringModel, X: pd.DataFrame) -> Drivers:
    """Per row: families pushing the raw score up and down (summed SHAP log-odds)."""
    from relapse.explain import contributions

    contrib, _ = contributions(model, X)
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

    def top(idx: np.ndarray, vals: np.ndarray, keep: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "family": np.where(keep, [names[j] for j in idx[:, 0]], ""),
                "contribution": np.where(keep, np.round(vals[:, 0], 4), np.nan),
            }
        )

    return Drivers(
        up,
        down,
        top(by_up, up_v, up_v[:, 0] >= DRIVER_MIN),
        top(by_down, down_v, down_v[:, 0] <= -DRIVER_MIN),
    )


@cache
def score_schema() -> Any:
    """Pandera schema of the score table (columns, order, types, status ↔ probability)."""
    import pandera.pandas as pa

    text = {c: pa.Column("string", nullable=False) for c in TEXT_COLUMNS}
    text["status"] = pa.Column("string", pa.Check.isin(list(STATUSES)))
    text["risk_band"] = pa.Column("string", pa.Check.isin(["", *BAND_LABELS]))
    text["risk_type"] = pa.Column("string", pa.Check.isin(["", "relapse", "renewed", "onset"]))
    ints = {c: pa.Column("Int64", pa.Check.ge(0), nullable=True) for c in INT_COLUMNS}
    floats = {c: pa.Column("float64", nullable=True) for c in FLOAT_COLUMNS}
    columns = {
        **ints,
        **floats,
        "interstate_mission": pa.Column(bool),
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
            f"{last} are listed as 'not recorded since {last}' (mission_status), not as "
            f"active in {as_of}: some have ended since (EUPOL Afghanistan ended in 2016), and "
            "missions begun since are not known."
        )
    table = missions.missions
    if len(table) and table["interstate"].any():
        names = sorted(set(table.loc[table["interstate"], "mission"]))
        notes.append(
            f"{', '.join(names)} watch interstate lines: the scenario they guard against is "
            "not the internal conflict this model forecasts (interstate_mission)."
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


MD_SPECIAL = re.compile(r"([\\`*_\[\]()!|#~{}])")
"""Markdown syntax characters escaped in data-derived brief text (links, images, HTML)."""


def md_text(value: Any) -> str:
    """Data-derived text safe for a Markdown table cell: no live link, image or HTML.

    HTML's ``& < >`` become entities (a Markdown viewer shows them as text, never as
    markup); every other character that can open Markdown syntax (``[ ] ( ) ! | ` * _ # ~
    { }`` and the backslash) is backslash-escaped, ``://`` is broken so no autolink forms,
    and line breaks become spaces: ``[x](javascript:…)`` and ``![t](http://…)`` stay literal text.
    """
    text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = MD_SPECIAL.sub(r"\\\1", text.replace("\r", " ").replace("\n", " "))
    return text.replace("://", ":\\/\\/")


def _pct(p: Any) -> str:
    return "" if p is None or pd.isna(p) else f"{100 * float(p):.1f}%"


def _driver_words(family: Any, value: Any, up: bool) -> str:
    """'Conflict history (strongly raises risk)' from a family and its contribution."""
    from relapse.report import words

    if not isinstance(family, str) or not family or pd.isna(value):
        return ""
    verb = "raises risk" if up else "lowers risk"
    return f"{words.family_label(family)} ({words.strength(float(value))} {verb})"


def _change_words(row: Any) -> str:
    if pd.isna(row.change_since_last):
        return "new" if pd.notna(row.relapse_probability) else ""
    d = 100 * float(row.change_since_last)
    return "no change" if abs(d) < 0.05 else f"{d:+.1f} pts"


INTENSITY_WORDS: dict[int, str] = {1: "minor (25–999 deaths)", 2: "war (1,000+ deaths)"}
"""UCDP intensity levels in the brief's words."""


def brief_context(result: ScoreResult) -> dict[str, Any]:
    """Everything the brief templates show (plain strings, computed once for both formats)."""
    t = result.table
    horizons = sorted(result.models)
    scored = t.loc[t["status"] == "scored"].sort_values(
        ["horizon_years", "rank", "country"], kind="mergesort"
    )
    rows = [
        {
            "rank": str(r.rank),
            "country": str(r.country),
            "iso3": "" if pd.isna(r.iso3) else str(r.iso3),
            "horizon": f"{r.horizon_years}",
            "probability": _pct(r.relapse_probability),
            "band": str(r.risk_band),
            "change": _change_words(r),
            "risk_type": {
                "relapse": "relapse (post-conflict)",
                "renewed": "renewed conflict after long peace",
                "onset": "onset (never in conflict)",
            }.get(str(r.risk_type), str(r.risk_type)),
            "peace": "" if pd.isna(r.years_at_peace) else str(r.years_at_peace),
            "up": _driver_words(r.driver_up_family, r.driver_up_contribution, True),
            "down": _driver_words(r.driver_down_family, r.driver_down_contribution, False),
            "missions": str(r.missions),
        }
        for r in scored.itertuples(index=False)
    ]
    first = t.loc[t["horizon_years"] == horizons[0]]
    war = [
        {
            "country": str(r.country),
            "conflicts": str(r.conflicts),
            "since": "" if pd.isna(r.episode_start_year) else str(r.episode_start_year),
            "intensity": INTENSITY_WORDS.get(-1 if pd.isna(r.intensity) else int(r.intensity), ""),
            "deaths": "" if pd.isna(r.battle_deaths) else f"{int(r.battle_deaths):,}",
            "missions": str(r.missions),
        }
        for r in first.loc[first["status"] == "active_conflict"].itertuples(index=False)
    ]
    missing = [str(r.country) for r in first.loc[first["status"] == "missing_data"].itertuples()]
    return {
        "as_of": result.as_of,
        "horizons": horizons,
        "intro": _brief_intro(result),
        "skill": [
            {"horizon": h, "text": result.skill.get(h, {}).get("text", "not available")}
            for h in horizons
        ],
        "bands": bands.legend(result.base_rates, result.multiples) if result.base_rates else [],
        "rows": rows,
        "war": war,
        "missing": missing,
        "missions": _mission_rows(result),
        "entries": _entries_exits(result)[0],
        "exits": _entries_exits(result)[1],
        "has_previous": result.previous is not None,
    }


def _mission_rows(result: ScoreResult) -> list[dict[str, str]]:
    names = result.table.dropna(subset=["gwno"]).drop_duplicates("gwno")
    host = dict(zip(names["gwno"].astype(int), names["country"].astype(str), strict=True))
    out = []
    for r in result.missions.itertuples(index=False) if len(result.missions) else []:
        strength = "" if pd.isna(r.strength) else f"{int(r.strength):,} ({int(r.strength_year)})"
        out.append(
            {
                "mission": str(r.mission),
                "host": host.get(int(r.gwno), f"GW {int(r.gwno)}"),
                "strength": strength or "not recorded",
                "status": str(r.status) + (" · interstate line" if r.interstate else ""),
            }
        )
    return out


def _entries_exits(result: ScoreResult) -> tuple[list[str], list[str]]:
    """Countries listed this year but not last year, and the reverse (first horizon)."""
    if result.previous is None:
        return [], []
    now = set(result.table["country"].astype(str))
    before = set(result.previous["country"].astype(str))
    return sorted(now - before), sorted(before - now)


def _templates(autoescape: bool = False) -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(
        loader=FileSystemLoader(Path(__file__).resolve().parent / "report" / "templates"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=autoescape,
    )


def render_brief_md(result: ScoreResult) -> str:
    """The brief in Markdown (``brief.md.j2``); data-derived text through :func:`md_text`."""
    env = _templates()
    env.filters["md"] = md_text
    return env.get_template("brief.md.j2").render(**brief_context(result))


def render_brief_html(result: ScoreResult) -> str:
    """The brief as a standalone HTML page (``brief.html.j2``, every value escaped)."""
    env = _templates(autoescape=True)
    return env.get_template("brief.html.j2").render(**brief_context(result))


def _brief_intro(result: ScoreResult) -> list[str]:
    counts = result.counts
    horizons = sorted(result.models)
    lines = [
        f"Forecast as of the end of {result.as_of}: the probability that a country not at war "
        "has an active internal armed conflict-year (UCDP, 25+ battle deaths) within the next "
        f"{', '.join(map(str, horizons))} years: relapse for post-conflict countries, renewed "
        "conflict after a long peace, or onset where there has been none since the data begin.",
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
    ]
    return lines + result.notes


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
    """The body of :func:`write_outputs`.

    A directory of the run's name that does not hold exactly ``files`` (a file edited in
    place, deleted or added) is rebuilt: the link first points at a fresh complete copy, the
    damaged directory is replaced, then the link points back at the run's name.
    """
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    target_name = f".as_of={as_of}.{digest.hexdigest()[:16]}"
    target = scores_dir / target_name
    if not _holds_exactly(target, files):
        tmp = _write_tmp(files, scores_dir, final, as_of)
        if target.exists() or target.is_symlink():
            _point(final, tmp.name, scores_dir, as_of)
            _remove(target)
        os.rename(tmp, target)
    _point(final, target_name, scores_dir, as_of)
    for stale in scores_dir.glob(f".as_of={as_of}.*"):
        if stale.name != target_name and not stale.name.endswith(".previous-dir"):
            _remove(stale)


def _holds_exactly(directory: Path, files: Mapping[str, bytes]) -> bool:
    """Whether ``directory`` is a real directory with exactly ``files``, byte for byte."""
    if directory.is_symlink() or not directory.is_dir():
        return False
    present = sorted(p.name for p in directory.iterdir())
    if present != sorted(files):
        return False
    return all(
        (directory / n).is_file()
        and not (directory / n).is_symlink()
        and (directory / n).read_bytes() == files[n]
        for n in files
    )


def _write_tmp(files: Mapping[str, bytes], scores_dir: Path, final: Path, as_of: int) -> Path:
    """A new hidden directory holding ``files`` (fsynced); removed again on failure."""
    tmp = Path(tempfile.mkdtemp(dir=scores_dir, prefix=f".as_of={as_of}.tmp-"))
    try:
        for name in sorted(files):
            with writing(final / name):
                _write_file(tmp / name, files[name])
        _fsync_dir(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def _point(final: Path, target_name: str, scores_dir: Path, as_of: int) -> None:
    """Switch the ``as_of=<year>`` link to ``target_name`` with one ``os.replace``."""
    if final.is_symlink() and os.readlink(final) == target_name:
        return
    if final.exists() and not final.is_symlink():
        # A plain directory left by hand or an older version: keep it aside, never delete.
        os.rename(final, scores_dir / f".as_of={as_of}.previous-dir")
    link = scores_dir / f".as_of={as_of}.link-{os.getpid()}"
    link.unlink(missing_ok=True)
    os.symlink(target_name, link)
    os.replace(link, final)
    _fsync_dir(scores_dir)


def _remove(path: Path) -> None:
    """Remove a file, link or directory tree."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


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
