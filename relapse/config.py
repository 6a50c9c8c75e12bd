"""Typed configuration: dataclass schemas registered with Hydra, and one compose helper.

Every primary config under ``conf/`` starts from :class:`RelapseConfig`, so a misspelt key
(in a YAML file or on the command line) fails when the config is composed instead of being
silently ignored. :func:`compose_config` is the single entry point used by the command line,
notebooks, tests and the batch job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import MISSING, DictConfig, OmegaConf

from relapse.errors import ConfigError

FAMILIES: tuple[str, ...] = (
    "mission",
    "security_sector_reform",
    "elections",
    "governance",
    "services",
    "economy",
    "conflict_legacy",
)
"""The seven factor families of ``shared/docs/DOMAIN.md``; every feature is in exactly one."""


@dataclass
class PathsConfig:
    """Where things are read from and written to (relative paths are relative to the cwd)."""

    data_dir: str = "${oc.env:RELAPSE_DATA_DIR,data/raw}"
    processed_dir: str = "data/processed"
    models_dir: str = "models"
    reports_dir: str = "reports"
    scores_dir: str = "scores"
    output_dir: str = "outputs"


@dataclass
class DataConfig:
    """Which raw data to read and how strictly."""

    name: str = "snapshot"
    manifest: str = "MANIFEST.csv"
    verify_checksums: bool = True
    # Cut every source at this year, as if the data had been released then (None: no cut).
    vintage_year: int | None = None
    # data=synthetic only (relapse.synthetic): how many states and years to simulate.
    n_units: int = 60
    n_years: int = 73
    first_year: int = 1946


@dataclass
class TargetConfig:
    """What counts as conflict, as post-conflict, and as relapse."""

    level: str = "country"
    horizons: list[int] = field(default_factory=lambda: [1, 2, 5])
    window_years: int = 10
    conflict_types: list[int] = field(default_factory=lambda: [3, 4])
    first_year: int = 1946


@dataclass
class FeatureSpec:
    """One entry of the feature registry."""

    family: str = MISSING
    sources: list[str] = MISSING
    unit: str = MISSING
    description: str = MISSING
    # None: the largest lag of its sources in ``features.source_lags``.
    lag: int | None = None


@dataclass
class FeaturesConfig:
    """The feature registry, per-source publication lags and the families switched on."""

    families: list[str] = field(default_factory=lambda: list(FAMILIES))
    source_lags: dict[str, int] = field(default_factory=dict)
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


@dataclass
class ModelConfig:
    """The gradient-boosted model and its optional in-fold calibration."""

    name: str = "lightgbm"
    params: dict[str, Any] = field(default_factory=dict)
    num_boost_round: int = 400
    early_stopping_rounds: int = 40
    calibration: str = "none"
    # After early stopping on the validation slice, retrain on the whole training window with
    # the chosen number of rounds (the final model is trained the same way).
    refit: bool = True


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
    request_timeout_s: int = 20
    max_retries: int = 3
    # Seconds of exponential backoff between retries (MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR).
    backoff_factor: int = 1
    # Overall bound of one tracking step (a lookup, a registration, a download), retries
    # included: then exit 4, however many retries are left.
    deadline_s: float = 120.0


@dataclass
class ReportConfig:
    """What the analyst report shows."""

    horizons: list[int] | None = None
    countries: list[str] | None = None
    model_version: str = "champion"
    top_features: int = 5
    risk_bands: list[float] = field(default_factory=lambda: [0.05, 0.15, 0.30])
    # Write the report at the end of `relapse train` (for the models just registered).
    on_train: bool = True


@dataclass
class ScoreConfig:
    """What the batch job scores."""

    scope: str = "active_missions"
    countries: list[str] | None = None
    as_of: int | None = None
    model_version: str = "champion"
    lock_timeout_s: float = 600.0


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
    model: ModelConfig = field(default_factory=ModelConfig)
    mlflow: MlflowConfig = field(default_factory=MlflowConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    score: ScoreConfig = field(default_factory=ScoreConfig)
    # Free-form tags of an experiment file (e.g. its name), logged to MLflow.
    tags: dict[str, str] = field(default_factory=dict)


_REGISTERED = False


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


def compose_config(name: str = "build", overrides: Sequence[str] = ()) -> DictConfig:
    """Compose a primary config with Hydra overrides, validate it, and return it.

    Parameters
    ----------
    name
        Primary config under ``conf/`` (``build``, ``train``, ``score``, ``report``, ...).
    overrides
        Hydra override strings, e.g. ``["target.horizons=[1,5]", "data.vintage_year=2012"]``.

    Raises
    ------
    ConfigError
        On an unknown config, group option or key, a value of the wrong type, or a value
        outside its allowed range (see :func:`validate_config`).
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    register_configs()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            cfg = compose(config_name=name, overrides=list(overrides))
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(f"invalid configuration: {_first_line(exc)}") from exc
    finally:
        GlobalHydra.instance().clear()
    validate_config(cfg)
    return cfg


def validate_config(cfg: DictConfig) -> None:
    """Check value ranges the type system cannot express; raise :class:`ConfigError`."""
    problems: list[str] = []
    target = cfg.target
    if target.level not in ("country", "conflict"):
        problems.append(f"target.level must be 'country' or 'conflict', got {target.level!r}")
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
    unknown = [f for f in cfg.features.families if f not in FAMILIES]
    if unknown:
        problems.append(
            f"features.families has unknown families {unknown}; known: {list(FAMILIES)}"
        )
    for source, lag in cfg.features.source_lags.items():
        if lag < 0:
            problems.append(f"features.source_lags.{source} must be >= 0, got {lag}")
    for fname, spec in cfg.features.registry.items():
        if spec.family not in FAMILIES:
            problems.append(f"feature {fname!r} has unknown family {spec.family!r}")
        if spec.lag is not None and spec.lag < 0:
            problems.append(f"feature {fname!r} has negative lag {spec.lag}")
        unlagged = [s for s in spec.sources if s not in cfg.features.source_lags]
        if spec.lag is None and unlagged:
            problems.append(
                f"feature {fname!r}: source(s) {unlagged} have no entry in features.source_lags"
            )
    if cfg.model.calibration not in ("none", "isotonic", "platt"):
        problems.append(
            f"model.calibration must be none, isotonic or platt, got {cfg.model.calibration!r}"
        )
    if cfg.split.validation_years < 1:
        problems.append("split.validation_years must be at least 1")
    problems.extend(_tuning_problems(cfg.split))
    if cfg.score.scope not in ("active_missions", "all_post_conflict", "countries"):
        problems.append(
            "score.scope must be active_missions, all_post_conflict or countries, "
            f"got {cfg.score.scope!r}"
        )
    if cfg.data.name not in ("snapshot", "synthetic"):
        problems.append(f"data.name must be 'snapshot' or 'synthetic', got {cfg.data.name!r}")
    if cfg.data.name == "synthetic":
        problems.extend(_synthetic_problems(cfg.data))
    problems.extend(_range_problems(cfg))
    if problems:
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(problems))


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
        ("score.as_of", cfg.score.as_of, first, this_year),
        ("score.lock_timeout_s", cfg.score.lock_timeout_s, 0, 86_400),
    ]
    problems = [
        f"{key} must be {low:g}-{high:g}, got {value}"
        for key, value, low, high in checks
        if value is not None and not (math.isfinite(value) and low <= value <= high)
    ]
    problems += _lightgbm_problems(cfg.model.params)
    problems += _report_problems(cfg)
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
    """Risk bands strictly increasing within (0, 1); report horizons among the trained ones."""
    problems = []
    bands = [float(b) for b in cfg.report.risk_bands]
    if not bands or any(not 0 < b < 1 for b in bands) or bands != sorted(set(bands)):
        problems.append(
            f"report.risk_bands must be strictly increasing probabilities in (0, 1), got {bands}"
        )
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
    out = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    assert isinstance(out, dict)
    return {str(k): v for k, v in out.items()}


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    # Hydra puts the useful part ("Key 'x' is not in struct") on the second line.
    return " — ".join(lines[:2]) if lines else type(exc).__name__
