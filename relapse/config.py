"""Typed configuration: dataclass schemas registered with Hydra, and one compose helper.

The primary config ``conf/relapse.yaml`` starts from :class:`RelapseConfig`, so a misspelt key
(in a YAML file or on the command line) fails when the config is composed instead of being
silently ignored. :func:`compose_config` is the single entry point used by the command line,
notebooks, tests and the batch job.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from omegaconf import MISSING, DictConfig, OmegaConf

from relapse.errors import ConfigError, OutputError


class Vocabulary(StrEnum):
    """A closed set of config values: each member's name is its value, as written in YAML and
    on the command line, and it compares, hashes and prints (``repr`` too) as that string."""

    __repr__ = str.__repr__


class Family(Vocabulary):
    """The seven factor families of ``shared/docs/DOMAIN.md``; every feature is in exactly one
    (its builder: :data:`relapse.features.FAMILY_MODULES`, its registry:
    ``conf/features/registry/<family>.yaml``)."""

    mission = "mission"
    security_sector_reform = "security_sector_reform"
    elections = "elections"
    governance = "governance"
    services = "services"
    economy = "economy"
    conflict_legacy = "conflict_legacy"


class TargetLevel(Vocabulary):
    """``target.level``: any internal conflict in the country, or the same conflict again."""

    country = "country"
    conflict = "conflict"


class Location(Vocabulary):
    """``target.location``: UCDP's location (the government's country) or, from 1989, where
    the battles were (ucdp_brd's ``gwno_battle``)."""

    government = "government"
    battle = "battle"


class Calibration(Vocabulary):
    """``model.calibration``: none, or a recalibration of each interval's log-odds fitted on
    earlier origins' out-of-sample forecasts: a shift (``intercept``) or slope and shift
    (``logistic``)."""

    none = "none"
    intercept = "intercept"
    logistic = "logistic"


class ScoreScope(Vocabulary):
    """``score.scope``: which countries the batch job scores (:mod:`relapse.scoring`)."""

    active_missions = "active_missions"
    not_at_war = "not_at_war"
    all_post_conflict = "all_post_conflict"
    countries = "countries"


class DataSource(Vocabulary):
    """``data.name``: the raw public snapshot, or the seeded simulation (relapse.synthetic)."""

    snapshot = "snapshot"
    synthetic = "synthetic"


FAMILIES: tuple[str, ...] = tuple(f.value for f in Family)
"""The family names in their report order (plain strings)."""


@dataclass
class PathsConfig:
    """Where things are read from and written to (relative paths are relative to the cwd)."""

    data_dir: str = "${oc.env:RELAPSE_DATA_DIR,data/raw}"
    processed_dir: str = "data/processed"
    reports_dir: str = "reports"
    scores_dir: str = "scores"
    output_dir: str = "outputs"


@dataclass
class DataConfig:
    """Which raw data to read and how strictly."""

    name: DataSource = DataSource.snapshot
    verify_checksums: bool = True
    # Cut every source at this year, as if the data had been released then (None: no cut).
    vintage_year: int | None = None
    # data=synthetic only (relapse.synthetic): how many states and years to simulate.
    n_units: int = 60
    n_years: int = 73
    first_year: int = 1946
    # Each source's file relative to paths.data_dir, by source key (relapse.sources.SOURCES);
    # listed in conf/data/*.yaml so a renamed file in a new release is one override away.
    files: dict[str, str] = field(default_factory=dict)


@dataclass
class TargetConfig:
    """What counts as conflict, as post-conflict, and as relapse."""

    level: TargetLevel = TargetLevel.country
    location: Location = Location.government
    horizons: list[int] = field(default_factory=lambda: [1, 2, 5])
    window_years: int = 10
    conflict_types: list[int] = field(default_factory=lambda: [3, 4])
    first_year: int = 1946


@dataclass
class FeatureSpec:
    """One entry of the feature registry."""

    family: Family = MISSING
    sources: list[str] = MISSING
    unit: str = MISSING
    description: str = MISSING
    # None: the largest lag of its sources in ``features.source_lags``.
    lag: int | None = None
    # None: the smallest ``features.max_age_years`` of its sources (0 for unlisted sources).
    max_age_years: int | None = None
    # An age feature: how many years older than usual the carried values of these features
    # are (see :func:`relapse.features.carry_forward`); it has no builder of its own.
    age_of: list[str] | None = None


@dataclass
class FeaturesConfig:
    """The feature registry, per-source publication lags and the families switched on."""

    families: list[Family] = field(default_factory=lambda: list(Family))
    source_lags: dict[str, int] = field(default_factory=dict)
    # As-of rule: a missing value may be replaced by the source's last value from at most
    # this many years before the year normally used; sources not listed: 0 (never carried).
    max_age_years: dict[str, int] = field(default_factory=dict)
    # Neighbourhood features: states whose borders are at most this far apart (0: contiguity).
    neighbour_km: float = 100.0
    registry: dict[str, FeatureSpec] = field(default_factory=dict)


@dataclass
class SplitConfig:
    """Rolling-origin backtest design."""

    first_origin: int = 2000
    # None: the last year in the data minus the horizon.
    last_origin: int | None = None
    # Early stopping uses the last ``validation_years`` of each training window.
    validation_years: int = 3
    bootstrap_samples: int = 500
    # Origins before first_origin whose out-of-sample forecasts only feed the recalibration
    # of later origins (never evaluated): calibration_first_origin … first_origin - 1.
    calibration_first_origin: int = 1990
    # Hyperparameter search (``hparams_search=optuna``) scores trials on the tuning origins
    # tune_first_origin … tune_last_origin (None: first_origin - 1), and for horizon h never
    # past first_origin - h, so no tuning label resolves after the first evaluation origin.
    tune_first_origin: int = 1990
    tune_last_origin: int | None = None


@dataclass
class TuneConfig:
    """Hyperparameter search; switched on by ``relapse train -m hparams_search=optuna``."""

    # True: each multirun job is a tuning trial (backtest on the tuning origins only, an
    # MLflow child run, no final model, nothing registered) instead of a training run.
    enabled: bool = False
    # The MLflow run the trials are nested under (set by ``relapse train -m``).
    parent_run_id: str | None = None
    # The Optuna trial a tuning job runs (set by the search; logged as a child-run tag).
    trial_number: int | None = None


@dataclass
class SearchParam:
    """One searched parameter: a float or int range, log-uniform when ``log``."""

    low: float = MISSING
    high: float = MISSING
    log: bool = False
    # float | int
    type: str = "float"


@dataclass
class HparamsSearchConfig:
    """The Optuna search of ``relapse train -m hparams_search=optuna`` (see its yaml)."""

    # None: the study lives in memory (one process). A database URL (``sqlite:///study.db``,
    # ``postgresql://host/db``): workers started on several machines with the same URL and
    # study_name share one study; each asks Optuna for its own trials.
    storage: str | None = None
    study_name: str = "relapse-tune"
    n_trials: int = 8
    # TPE samples at random for the first trials of the study.
    n_startup_trials: int = 4
    # Override key → range, e.g. model.params.learning_rate: {low: 0.01, high: 0.2, log: true}
    params: dict[str, SearchParam] = field(default_factory=dict)


@dataclass
class ModelConfig:
    """The relapse model: per hazard interval, the history logit boosted by LightGBM trees."""

    params: dict[str, Any] = field(default_factory=dict)
    num_boost_round: int = 500
    early_stopping_rounds: int = 50
    # Recalibrate each interval's log-odds on earlier origins' out-of-sample forecasts
    # (relapse.backtest).
    calibration: Calibration = Calibration.none
    # Also fit the not-at-war model (every non-active country-year) for the countries beyond
    # the post-conflict window or never in conflict (relapse.model.RoutedModel).
    not_at_war: bool = True
    # Model features added to the conflict-history inputs of each interval's starting logit
    # (the comparison baseline stays the four-variable history logit).
    logit_features: list[str] = field(default_factory=list)


@dataclass
class MlflowConfig:
    """Tracking and registry.

    ``tracking_uri`` None means ``$MLFLOW_TRACKING_URI``, else the embedded SQLite store.
    """

    tracking_uri: str | None = None
    embedded_store: str = "mlflow.db"
    artifact_root: str = "mlartifacts"
    experiment_name: str = "relapse"
    model_name_prefix: str = "relapse-h"
    # The one registered model holding every horizon (mlflow.pyfunc, mlflow models serve).
    model_name: str = "relapse"
    request_timeout_s: int = 20
    max_retries: int = 3
    # Seconds of exponential backoff between retries (MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR).
    backoff_factor: int = 1
    # Overall bound of one tracking step (a lookup, a registration, a download), retries
    # included: then exit 4, however many retries are left.
    deadline_s: float = 120.0
    # relapse score/explain/report: MLflow's import, the store and the downloads run in a
    # second process while the command builds its panel (relapse.mlflow_worker); false runs
    # them in the command's own process (a debugger, a profiler, one core).
    worker_process: bool = True


def _default_band_multiples() -> list[float]:
    """:data:`relapse.bands.DEFAULT_MULTIPLES` (imported when composing: it brings pandas)."""
    from relapse.bands import DEFAULT_MULTIPLES

    return list(DEFAULT_MULTIPLES)


@dataclass
class ReportConfig:
    """What the analyst report shows."""

    horizons: list[int] | None = None
    countries: list[str] | None = None
    model_version: str = "champion"
    top_features: int = 5
    # The top-k record: of the k highest-ranked countries each origin year, how many relapsed.
    top_k: int = 3
    # Risk bands as multiples of each horizon's base rate (relapse.bands).
    risk_band_multiples: list[float] = field(default_factory=_default_band_multiples)
    # Write the report at the end of `relapse train` (for the models just registered).
    on_train: bool = True


@dataclass
class MissionHost:
    """One entry of ``score.mission_hosts`` (see ``conf/score/default.yaml``)."""

    reason: str = MISSING
    hosts: list[int] | None = None
    from_year: int | None = None
    earlier_hosts: list[int] = field(default_factory=list)
    interstate: bool = False


@dataclass
class ScoreConfig:
    """What the batch job scores."""

    scope: ScoreScope = ScoreScope.active_missions
    countries: list[str] | None = None
    as_of: int | None = None
    model_version: str = "champion"
    lock_timeout_s: float = 600.0
    mission_hosts: dict[str, MissionHost] = field(default_factory=dict)


@dataclass
class TrackRecordConfig:
    """How ``relapse track-record`` scores the archived forecasts."""

    # Hits counted among the k highest forecasts of each as_of year and horizon.
    top_k: int = 3


@dataclass
class RelapseConfig:
    """The root of every composed configuration."""

    seed: int = 20190101
    promote: bool = False
    # Train on data that end before the current champion's data (a release going backwards).
    allow_older_vintage: bool = False
    paths: PathsConfig = field(default_factory=PathsConfig)
    data: DataConfig = field(default_factory=DataConfig)
    target: TargetConfig = field(default_factory=TargetConfig)
    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    tune: TuneConfig = field(default_factory=TuneConfig)
    hparams_search: HparamsSearchConfig = field(default_factory=HparamsSearchConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    mlflow: MlflowConfig = field(default_factory=MlflowConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    score: ScoreConfig = field(default_factory=ScoreConfig)
    track_record: TrackRecordConfig = field(default_factory=TrackRecordConfig)
    # Free-form tags of an experiment file (e.g. its name), logged to MLflow.
    tags: dict[str, str] = field(default_factory=dict)


_REGISTERED = False


def _age_feature_problems(registry: Any) -> list[str]:
    """Age features must describe registered, non-age features of their own family."""
    problems = []
    for name, spec in registry.items():
        if spec.max_age_years is not None and spec.max_age_years < 0:
            problems.append(f"feature {name!r} has negative max_age_years {spec.max_age_years}")
        if spec.age_of is None:
            continue
        for member in spec.age_of:
            other = registry.get(member)
            if other is None or other.age_of is not None or other.family != spec.family:
                problems.append(
                    f"age feature {name!r}: {member!r} is not a registered feature of "
                    f"family {spec.family!r}"
                )
    return problems


def register_configs() -> None:
    """Register the schema with Hydra's ConfigStore (idempotent)."""
    global _REGISTERED
    if _REGISTERED:
        return
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name="relapse_schema", node=RelapseConfig)
    _REGISTERED = True


def config_dir() -> Path:
    """The directory of the shipped configs: inside the installed wheel, or the repository."""
    packaged = Path(__file__).resolve().parent / "conf"
    if packaged.is_dir():
        return packaged
    repo = Path(__file__).resolve().parent.parent / "conf"
    if repo.is_dir():
        return repo
    raise ConfigError(f"cannot find the config directory (looked in {packaged} and {repo})")


PRIMARY_CONFIG = "relapse"
"""The one primary config (``conf/relapse.yaml``) that every command composes."""


def compose_config(overrides: Sequence[str] = ()) -> DictConfig:
    """Compose the primary config with Hydra overrides, validate it, and return it.

    A composition is cached (:func:`_cached_composition`): the same config files, schema and
    overrides give the same composed (unresolved) config, so it is composed by Hydra once and
    read back afterwards; validation runs every time.

    Parameters
    ----------
    overrides
        Hydra override strings, e.g. ``["target.horizons=[1,5]", "data.vintage_year=2012"]``.

    Raises
    ------
    ConfigError
        On an unknown config, group option or key, a value of the wrong type, or a value
        outside its allowed range (see :func:`validate_config`).
    """
    if isinstance(overrides, str):
        raise TypeError(f"overrides must be a sequence of key=value strings, got {overrides!r}")
    key = _composition_key(list(overrides))
    cfg = _cached_composition(key)
    if cfg is None:
        cfg = _hydra_compose(list(overrides))
        _store_composition(key, cfg)
    validate_config(cfg)
    return cfg


def _hydra_compose(overrides: list[str]) -> DictConfig:
    """Hydra's composition of the primary config (no caching, no validation)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    register_configs()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            return compose(config_name=PRIMARY_CONFIG, overrides=overrides)
    except (HydraException, OmegaConfBaseException) as exc:
        message = _vocabulary_problem(exc) or _first_line(exc)
        raise ConfigError(f"invalid configuration: {message}") from exc
    finally:
        GlobalHydra.instance().clear()


VOCABULARY: dict[str, type[Vocabulary]] = {
    "data.name": DataSource,
    "target.level": TargetLevel,
    "target.location": Location,
    "features.families": Family,
    "model.calibration": Calibration,
    "score.scope": ScoreScope,
}
"""The config keys that take one of a closed set of values (and ``features.registry.*.family``)."""


def _vocabulary_problem(exc: BaseException) -> str | None:
    """The message for a value outside its :class:`Vocabulary`, None for any other error."""
    import re

    from omegaconf.errors import ValidationError

    while exc is not None and not isinstance(exc, ValidationError):
        exc = exc.__cause__  # type: ignore[assignment]
    if exc is None or not str(exc).startswith("Invalid value"):
        return None
    key = re.sub(r"\[\d+\]$", "", str(getattr(exc, "full_key", "")))
    value = re.match(r"Invalid value '(.*?)'", str(exc))
    got = value.group(1) if value else "?"
    feature = re.fullmatch(r"features\.registry\.(.+)\.family", key)
    if feature:
        return f"feature {feature.group(1)!r} has unknown family {got!r}"
    if key == "features.families":
        return f"features.families has unknown families [{got!r}]; known: {list(FAMILIES)}"
    if key in VOCABULARY:
        return f"{key} must be one of {', '.join(VOCABULARY[key])}, got {got!r}"
    return None


COMPOSE_CACHE_ENV = "RELAPSE_CACHE_DIR"
"""Directory of the composition cache (default ``$XDG_CACHE_HOME/relapse``, else
``~/.cache/relapse``); set to an empty string to compose without a cache."""

_MEMO: dict[str, bytes] = {}


def _composition_key(overrides: list[str]) -> str:
    """SHA-256 of everything a composition depends on.

    The config files (names and bytes), the schema's modules (this one and
    :mod:`relapse.bands`, whose multiples are a default), the Python, Hydra and OmegaConf
    versions and the overrides. Environment variables are not part of it:
    ``${oc.env:...}`` stays an unresolved interpolation in the composed config.
    """
    import json
    import sys
    from importlib.metadata import version

    import omegaconf

    digest = hashlib.sha256()
    meta = [sys.version, version("hydra-core"), omegaconf.__version__, overrides]
    digest.update(json.dumps(meta).encode())
    for module in ("config.py", "bands.py"):
        digest.update(Path(__file__).with_name(module).read_bytes())
    root = config_dir()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(f"\0{path.relative_to(root).as_posix()}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _cache_dir() -> Path | None:
    """The composition cache directory, None when switched off."""
    import os

    configured = os.environ.get(COMPOSE_CACHE_ENV)
    if configured is not None:
        return Path(configured) / "compose" if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "relapse" / "compose"


def _private(directory: Path) -> bool:
    """Whether ``directory`` is this user's and writable by no one else (safe to unpickle from)."""
    import os

    try:
        info = directory.stat()
    except OSError:
        return False
    return info.st_uid == os.getuid() and not info.st_mode & 0o022


def _cached_composition(key: str) -> DictConfig | None:
    """The composed config stored under ``key`` (in this process, else on disk), or None."""
    import pickle

    data = _MEMO.get(key)
    directory = _cache_dir()
    if data is None and directory is not None and _private(directory):
        try:
            data = (directory / f"{key}.pickle").read_bytes()
        except OSError:
            return None
    if data is None:
        return None
    try:
        cfg = pickle.loads(data)
    except Exception:  # a damaged or foreign entry is composed again
        return None
    if not isinstance(cfg, DictConfig):
        return None
    _MEMO[key] = data
    return cfg


def _store_composition(key: str, cfg: DictConfig) -> None:
    """Keep a composition in this process and, where possible, on disk (atomically)."""
    import pickle

    from relapse import atomic

    data = pickle.dumps(cfg, protocol=pickle.HIGHEST_PROTOCOL)
    _MEMO[key] = data
    directory = _cache_dir()
    if directory is None:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if _private(directory):
            atomic.write_bytes(directory / f"{key}.pickle", data)
    except (OSError, OutputError):  # a read-only or full disk costs the next run a composition
        pass


def validate_config(cfg: DictConfig) -> None:
    """Check value ranges the type system cannot express; raise :class:`ConfigError`.

    Closed sets of values (:data:`VOCABULARY`) are enforced when the config is composed.
    """
    problems: list[str] = []
    target = cfg.target
    if not target.horizons:
        problems.append("target.horizons must list at least one horizon")
    if any(h < 1 for h in target.horizons):
        problems.append(f"target.horizons must be positive years, got {list(target.horizons)}")
    if len(set(target.horizons)) != len(target.horizons):
        problems.append(f"target.horizons has duplicates: {list(target.horizons)}")
    if target.window_years < 1:
        problems.append(f"target.window_years must be at least 1, got {target.window_years}")
    bad_types = [t for t in target.conflict_types if t not in (1, 2, 3, 4)]
    if bad_types or not target.conflict_types:
        problems.append(f"target.conflict_types must be UCDP types 1-4, got {bad_types or '[]'}")
    for source, lag in cfg.features.source_lags.items():
        if lag < 0:
            problems.append(f"features.source_lags.{source} must be >= 0, got {lag}")
    for source, age in cfg.features.max_age_years.items():
        if age < 0:
            problems.append(f"features.max_age_years.{source} must be >= 0, got {age}")
    if cfg.features.neighbour_km < 0:
        problems.append(f"features.neighbour_km must be >= 0, got {cfg.features.neighbour_km}")
    problems.extend(_age_feature_problems(cfg.features.registry))
    for fname, spec in cfg.features.registry.items():
        if spec.lag is not None and spec.lag < 0:
            problems.append(f"feature {fname!r} has negative lag {spec.lag}")
        unlagged = [s for s in spec.sources if s not in cfg.features.source_lags]
        if spec.lag is None and unlagged:
            problems.append(
                f"feature {fname!r}: source(s) {unlagged} have no entry in features.source_lags"
            )
    registered = set(cfg.features.registry)
    unknown_logit = [f for f in cfg.model.logit_features if f not in registered]
    if unknown_logit:
        problems.append(f"model.logit_features {unknown_logit} are not registered features")
    if cfg.split.calibration_first_origin > cfg.split.first_origin:
        problems.append(
            f"split.calibration_first_origin ({cfg.split.calibration_first_origin}) must be at "
            f"most split.first_origin ({cfg.split.first_origin})"
        )
    if cfg.split.validation_years < 1:
        problems.append("split.validation_years must be at least 1")
    problems.extend(_tuning_problems(cfg.split))
    problems.extend(_band_problems(list(cfg.report.risk_band_multiples)))
    if cfg.track_record.top_k < 1:
        problems.append(f"track_record.top_k must be at least 1, got {cfg.track_record.top_k}")
    if cfg.data.name == "synthetic":
        problems.extend(_synthetic_problems(cfg.data))
    problems.extend(_range_problems(cfg))
    if problems:
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(problems))


def _band_problems(multiples: list[float]) -> list[str]:
    """Risk-band multiples: three, positive and strictly increasing."""
    ok = len(multiples) == 3 and all(m > 0 for m in multiples)
    if not ok or any(b <= a for a, b in itertools.pairwise(multiples)):
        return [
            "report.risk_band_multiples must be three increasing positive multiples of the "
            f"base rate, got {multiples}"
        ]
    return []


LIGHTGBM_RANGES: dict[str, tuple[float, float, bool]] = {
    "learning_rate": (0.0, float("inf"), False),
    "num_leaves": (2, 131072, True),
    "min_data_in_leaf": (0, float("inf"), True),
    "feature_fraction": (0.0, 1.0, False),
    "bagging_fraction": (0.0, 1.0, False),
    "bagging_freq": (0, float("inf"), True),
    "lambda_l1": (0.0, float("inf"), True),
    "lambda_l2": (0.0, float("inf"), True),
    "max_bin": (2, float("inf"), True),
    "num_threads": (0, float("inf"), True),
    "max_depth": (-1, float("inf"), True),
}
"""LightGBM parameter → (low, high, low included); high is always included. LightGBM's own
documented ranges (``learning_rate > 0``, ``0 < feature_fraction <= 1``, ...)."""


def _range_problems(cfg: DictConfig) -> list[str]:
    """Every numeric key outside its range, so no command starts work it cannot finish."""
    import datetime
    import math

    this_year = datetime.date.today().year
    first = int(cfg.target.first_year)
    checks: list[tuple[str, Any, float, float]] = [
        ("seed", cfg.seed, 0, 2**31 - 1),
        ("target.first_year", first, 1900, this_year),
        ("data.vintage_year", cfg.data.vintage_year, first, this_year),
        ("split.first_origin", cfg.split.first_origin, first, this_year),
        ("split.last_origin", cfg.split.last_origin, cfg.split.first_origin, this_year),
        ("split.bootstrap_samples", cfg.split.bootstrap_samples, 0, 100_000),
        ("model.num_boost_round", cfg.model.num_boost_round, 1, 1_000_000),
        ("model.early_stopping_rounds", cfg.model.early_stopping_rounds, 1, 1_000_000),
        ("mlflow.request_timeout_s", cfg.mlflow.request_timeout_s, 1, 3600),
        ("mlflow.max_retries", cfg.mlflow.max_retries, 0, 100),
        ("mlflow.backoff_factor", cfg.mlflow.backoff_factor, 0, 3600),
        ("mlflow.deadline_s", cfg.mlflow.deadline_s, 1, 86_400),
        ("report.top_features", cfg.report.top_features, 1, 1000),
        ("report.top_k", cfg.report.top_k, 1, 1000),
        ("score.as_of", cfg.score.as_of, first, this_year),
        ("score.lock_timeout_s", cfg.score.lock_timeout_s, 0, 86_400),
        ("hparams_search.n_trials", cfg.hparams_search.n_trials, 1, 100_000),
        ("hparams_search.n_startup_trials", cfg.hparams_search.n_startup_trials, 0, 100_000),
    ]
    problems = [
        f"{key} must be {low:g}-{high:g}, got {value}"
        for key, value, low, high in checks
        if value is not None and not (math.isfinite(value) and low <= value <= high)
    ]
    problems += _lightgbm_problems(cfg.model.params)
    problems += _report_problems(cfg)
    horizon_names = {f"{cfg.mlflow.model_name_prefix}{h}" for h in cfg.target.horizons}
    if not str(cfg.mlflow.model_name) or cfg.mlflow.model_name in horizon_names:
        problems.append(
            f"mlflow.model_name must be a name of its own, not one of {sorted(horizon_names)}"
        )
    return problems


def _lightgbm_problems(params: Any) -> list[str]:
    """``model.params`` values of known LightGBM parameters: numbers within their range."""
    problems = []
    for key, (low, high, closed) in LIGHTGBM_RANGES.items():
        value = params.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"model.params.{key} must be a number, got {value!r}")
        elif not ((low <= value if closed else low < value) and value <= high):
            bound = "[" if closed else "("
            problems.append(f"model.params.{key} must be in {bound}{low:g}, {high:g}], got {value}")
    return problems


def _report_problems(cfg: DictConfig) -> list[str]:
    """Report horizons among the trained ones (risk bands: :func:`_band_problems`)."""
    problems = []
    extra = [h for h in (cfg.report.horizons or []) if h not in cfg.target.horizons]
    if extra:
        problems.append(f"report.horizons {extra} are not in target.horizons")
    return problems


def _tuning_problems(split: Any) -> list[str]:
    """The tuning origins must be a non-empty range strictly before the evaluation origins."""
    last = split.first_origin - 1 if split.tune_last_origin is None else split.tune_last_origin
    if last >= split.first_origin:
        return [
            f"split.tune_last_origin ({last}) must be before split.first_origin "
            f"({split.first_origin}): tuning never looks at the evaluation origins"
        ]
    if split.tune_first_origin > last:
        return [
            f"split.tune_first_origin ({split.tune_first_origin}) must be at most the last "
            f"tuning origin ({last})"
        ]
    return []


def _synthetic_problems(data: Any) -> list[str]:
    """Range checks of the synthetic data set's sizes (see :mod:`relapse.synthetic`)."""
    import datetime

    from relapse.synthetic import MAX_UNITS

    problems = []
    if not 1 <= data.n_units <= MAX_UNITS:
        problems.append(f"data.n_units must be 1-{MAX_UNITS}, got {data.n_units}")
    if data.n_years < 12:
        problems.append(f"data.n_years must be at least 12, got {data.n_years}")
    last = data.first_year + data.n_years - 1
    this_year = datetime.date.today().year
    if data.first_year < 1900 or last > this_year:
        problems.append(
            f"synthetic years {data.first_year}-{last} must lie within 1900-{this_year} "
            "(data.first_year, data.n_years)"
        )
    return problems


def to_container(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config as plain Python containers (for logging and hashing)."""
    out = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True, enum_to_str=True)
    assert isinstance(out, dict)
    return {str(k): v for k, v in out.items()}


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    # Hydra puts the useful part ("Key 'x' is not in struct") on the second line.
    return " — ".join(lines[:2]) if lines else type(exc).__name__
