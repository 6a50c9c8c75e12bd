"""The model registry: how a relapse model is registered, checked, loaded and promoted.

Models are registered as ``<model_name_prefix><h>``, MLflow models from code
(:mod:`relapse.mlflow_model`) whose artifact is the model directory of
:func:`relapse.forecast.save_model` (JSON and LightGBM's native text format) with a
signature, plus ``families.json``; :func:`load_registered` reads them back without
unpickling anything. Promotion uses aliases (``candidate``, ``champion``), never stages.
Every failure talking to MLflow becomes a :class:`relapse.errors.ModelError` (exit code 4);
where the store is and how it is reached is :mod:`relapse.tracking`'s business.

Integrity: at registration the SHA-256 of every file of the model (``model.lgb``, the
``extra_files``, ``MLmodel`` and the environment files) is recorded in the version's
:data:`ARTIFACT_SHA256` tag; :func:`load_registered` checks the downloaded files against it
before LightGBM parses anything (a damaged model file can crash its C parser), takes the
feature order from the booster itself and validates ``features.json``, ``families.json`` and
``calibration.json``. The champions of one run are switched together (:func:`promote_run`),
and :func:`require_one_run` refuses a set of models that mixes runs.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relapse.errors import ModelError
from relapse.forecast import Forecast
from relapse.tracking import configure, first_line, mlflow_client, mlflow_errors, tracking_uri

CANDIDATE = "candidate"


CHAMPION = "champion"


PROMOTION_METRIC = "backtest_average_precision_h{h}"
"""The run metric compared on promotion (the champion's own run holds the same metric)."""


DATA_LAST_YEAR = "data_last_year"
"""Model-version tag: the last year of the data the model was trained on."""


ARTIFACTS_DIR = "artifacts"
"""Where a pyfunc model keeps its artifacts (the relapse model directory is ``model``)."""


FAMILIES_FILE = "families.json"


ARTIFACT_SHA256 = "artifact_sha256"
"""Model-version tag: JSON ``{relative path: SHA-256}`` of every file of the registered model."""


def model_name(cfg: Any, horizon: int) -> str:
    """Registered model name of a horizon, e.g. ``relapse-h1``."""
    return f"{cfg.mlflow.model_name_prefix}{int(horizon)}"


def register_model(
    cfg: Any,
    horizon: int | None,
    model_dir: Path,
    X_example: pd.DataFrame,
    family_map: Mapping[str, str],
    tags: Mapping[str, str] | None = None,
) -> str:
    """Log a saved relapse model (:func:`relapse.forecast.save_model`) and register it.

    The model is an MLflow *model from code* (:mod:`relapse.mlflow_model`) whose artifact is
    the model directory (:func:`relapse.forecast.save_model`: JSON and one LightGBM text file
    per interval), with a signature and an input example; ``families.json`` (feature →
    family) goes beside it. It is registered as :func:`model_name` of ``horizon``, or, with
    ``horizon`` None, as ``mlflow.model_name`` (the one model for every horizon, for
    ``mlflow.pyfunc`` and ``mlflow models serve``). Every version holds all horizons and its
    pyfunc predicts them all. The SHA-256 of every stored file goes into the
    :data:`ARTIFACT_SHA256` tag (the stored model files are first checked against the bytes
    written). The new version gets the ``candidate`` alias; promotion is
    :func:`promote_run`'s job.

    Returns
    -------
    str
        The registered version number.

    Raises
    ------
    ModelError
        A feature without a known family, or MLflow failing or storing other bytes.
    """
    import mlflow
    from mlflow.models import infer_signature

    from relapse import forecast

    name = str(cfg.mlflow.model_name) if horizon is None else model_name(cfg, horizon)
    uri = tracking_uri(cfg)
    model = forecast.load_model(model_dir)
    features = [str(f) for f in model.feature_names_in_]
    families = _checked_families({f: family_map.get(f, "unknown") for f in features}, name)
    (Path(model_dir) / FAMILIES_FILE).write_text(json.dumps(families, indent=2))
    written = {
        f"{ARTIFACTS_DIR}/model/{rel}": digest
        for rel, digest in artifact_digests(Path(model_dir)).items()
    }
    X = X_example[features].astype("float64")
    output = pd.DataFrame(
        model.predict_horizons(X),
        columns=[f"relapse_probability_h{h}" for h in model.horizons_],
    )
    signature = infer_signature(X, output)
    with mlflow_errors(f"registering {name}", uri):
        info = mlflow.pyfunc.log_model(
            name="model" if horizon is None else f"model_h{int(horizon)}",
            python_model=str(Path(__file__).with_name("mlflow_model.py")),
            artifacts={"model": str(model_dir)},
            signature=signature,
            input_example=X.head(3),
            registered_model_name=name,
            pip_requirements=[
                f"lightgbm=={_version('lightgbm')}",
                f"pandas=={_version('pandas')}",
                f"scikit-learn=={_version('scikit-learn')}",
                f"scipy=={_version('scipy')}",
            ],
            code_paths=[str(Path(__file__).parent)],
            await_registration_for=60,
        )
        version = str(info.registered_model_version)
        digests = _stored_digests(name, version, written)
        client = mlflow_client(uri)
        all_tags = {**(tags or {}), ARTIFACT_SHA256: json.dumps(digests, sort_keys=True)}
        for key, value in all_tags.items():
            client.set_model_version_tag(name, version, key, str(value))
        client.set_registered_model_alias(name, CANDIDATE, version)
    return version


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


DOWNLOAD_NOTE = "registered_model_meta"
"""Written by MLflow's client into a downloaded ``models:/`` folder; not a stored artifact."""


def artifact_digests(root: Path) -> dict[str, str]:
    """``{path relative to root: SHA-256}`` of every stored file under ``root``."""
    from relapse.sources.base import sha256_of

    return {
        p.relative_to(root).as_posix(): sha256_of(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).as_posix() != DOWNLOAD_NOTE
    }


def _download_model(name: str, version: str, dst: str) -> Path:
    import mlflow

    return Path(mlflow.artifacts.download_artifacts(f"models:/{name}/{version}", dst_path=dst))


def _stored_digests(name: str, version: str, written: Mapping[str, str]) -> dict[str, str]:
    """The digests of the files the store holds for a new version, checked against ``written``."""
    with tempfile.TemporaryDirectory() as tmp:
        stored = artifact_digests(_download_model(name, version, tmp))
    differ = [f for f, digest in written.items() if stored.get(f) != digest]
    if differ:
        raise ModelError(
            f"{name} v{version}: the store holds other bytes than were written for {differ}; "
            "nothing was promoted"
        )
    return stored


def champion_metric(cfg: Any, horizon: int) -> tuple[str | None, float | None]:
    """The current champion's version and its run's promotion metric (None, None if none)."""
    name = model_name(cfg, horizon)
    uri = tracking_uri(cfg)
    with mlflow_errors(f"looking up the champion of {name}", uri):
        client = mlflow_client(uri)
        mv = _version_or_none(client, name, CHAMPION)
        if mv is None:
            return None, None
        metrics = client.get_run(mv.run_id).data.metrics
    value = metrics.get(PROMOTION_METRIC.format(h=int(horizon)))
    return str(mv.version), (None if value is None else float(value))


def champion_data_last_year(cfg: Any, horizon: int) -> tuple[str | None, int | None]:
    """The champion's version and the last year of its training data (its
    ``data_last_year`` tag); None for either when there is no champion or no tag."""
    name = model_name(cfg, horizon)
    uri = configure(cfg)
    with mlflow_errors(f"looking up the champion of {name}", uri):
        client = mlflow_client(uri)
        mv = _version_or_none(client, name, CHAMPION)
    if mv is None:
        return None, None
    return str(mv.version), _int_or_none((mv.tags or {}).get(DATA_LAST_YEAR))


def _int_or_none(value: Any) -> int | None:
    return int(value) if value is not None and str(value).strip().isdigit() else None


@dataclass(frozen=True)
class PromotionCheck:
    """How a candidate compared with the champion (see :func:`promote_run`)."""

    promoted: bool
    basis: str
    """``"no champion"``, ``"forced"``, ``"common backtest rows"``, ``"logged metric"`` or
    ``"worse than the history baseline"``."""
    candidate_ap: float
    champion_ap: float | None = None
    champion_version: str | None = None
    rows: int = 0
    held_back_by: tuple[int, ...] = ()
    """Horizons of the same run that did not pass (then no horizon is promoted)."""


MIN_COMMON_ROWS = 20
"""Fewer shared backtest rows than this (or only one class among them) → compare the logged
metrics instead. Small shared samples are noisy, but still like for like; below this the
comparison says too little to be preferred over the full backtests."""


def promote(
    cfg: Any,
    horizon: int,
    version: str,
    score: float,
    force: bool = False,
    predictions: pd.DataFrame | None = None,
) -> PromotionCheck:
    """:func:`promote_run` for one horizon (one candidate)."""
    return promote_run(cfg, {int(horizon): (str(version), score)}, force, predictions)[int(horizon)]


def promote_run(
    cfg: Any,
    candidates: Mapping[int, tuple[str, float]],
    force: bool = False,
    predictions: pd.DataFrame | None = None,
    baseline_verdicts: Mapping[int, str] | None = None,
    combined: str | None = None,
) -> dict[int, PromotionCheck]:
    """Make a run's candidates the champions of their horizons, all of them or none.

    A candidate whose backtest is worse than the conflict-history baseline on its own rows
    (``baseline_verdicts[h] == "is worse than"``, by :func:`relapse.evaluate.skill_verdict`)
    is never promoted, whatever the champion, unless ``force``.

    Each candidate is compared with its horizon's champion like for like: the candidate's
    and the champion's backtest forecasts on the rows both backtests forecast (same
    country-years, horizon and labels; with a new data release those are the older origins,
    whose labels a vintage cut does not change), by average precision. When the champion's
    run has no backtest predictions or too few shared rows, the logged
    :data:`PROMOTION_METRIC` values are compared instead (the basis is returned and logged,
    so the choice is visible). Only when every horizon passes are the ``champion`` aliases
    switched, one after the other in one tight step at the very end of a run, so that the
    champions of all horizons always come from one run (:func:`require_one_run` refuses a
    mix, which only a process killed inside this step can leave). The run's one model for
    every horizon (``mlflow.model_name``, version ``combined``) holds the same model as the
    per-horizon candidates and is switched in that same step, after them.

    Parameters
    ----------
    cfg
        Composed config.
    candidates
        Horizon → (candidate version, its backtest average precision).
    force
        Promote regardless (``promote=true``).
    predictions
        The candidates' backtest predictions (``gwno, year, horizon, y_true, p_model``).
    baseline_verdicts
        Horizon → the verdict of the model against the history baseline.
    combined
        The run's version of ``mlflow.model_name`` (None: the run registered none).

    Returns
    -------
    dict[int, PromotionCheck]
    """
    from dataclasses import replace

    uri = tracking_uri(cfg)
    with promotion_lock(cfg):  # compare-and-set: parallel runs must not both win
        checks = {
            h: _compare(cfg, h, score, force, predictions) for h, (_, score) in candidates.items()
        }
        if not force:
            for h, verdict in (baseline_verdicts or {}).items():
                if verdict == "is worse than" and h in checks:
                    checks[h] = replace(
                        checks[h], promoted=False, basis="worse than the history baseline"
                    )
        failed = tuple(sorted(h for h, c in checks.items() if not c.promoted))
        if failed:
            return {h: replace(c, promoted=False, held_back_by=failed) for h, c in checks.items()}
        with mlflow_errors("promoting the run's candidates", uri):
            client = mlflow_client(uri)
            for h, (version, _) in sorted(candidates.items()):
                client.set_registered_model_alias(model_name(cfg, h), CHAMPION, str(version))
            if combined is not None:
                client.set_registered_model_alias(
                    str(cfg.mlflow.model_name), CHAMPION, str(combined)
                )
    return checks


def require_one_run(models: Mapping[int, Any]) -> None:
    """Refuse models of several training runs (:class:`ModelError`, exit 4).

    The champions of all horizons come from one run (:func:`promote_run`); a mix means a
    run was killed while switching them, or a run trained only some horizons.
    """
    runs = {str(m.run_id) for m in models.values()}
    if len(runs) > 1:
        which = "; ".join(
            f"h{h} {m.name} v{m.version} from run {m.run_id}" for h, m in sorted(models.items())
        )
        raise ModelError(
            f"the models come from different training runs ({which}): a training run was "
            "interrupted while promoting, or trained only some horizons. Nothing was served; "
            "train every horizon again (relapse train) or pick versions of one run"
        )


def _compare(
    cfg: Any, horizon: int, score: float, force: bool, predictions: pd.DataFrame | None
) -> PromotionCheck:
    from sklearn.metrics import average_precision_score

    champion_version, best = champion_metric(cfg, horizon)
    if champion_version is None:
        return PromotionCheck(True, "no champion", score)
    if force:
        return PromotionCheck(True, "forced", score, best, champion_version)
    theirs = champion_predictions(cfg, horizon)
    if predictions is not None and theirs is not None:
        ours = predictions.loc[
            predictions["horizon"] == horizon, ["gwno", "year", "y_true", "p_model"]
        ]
        both = ours.merge(
            theirs[["gwno", "year", "p_model"]], on=["gwno", "year"], suffixes=("", "_champion")
        )
        if len(both) >= MIN_COMMON_ROWS and both["y_true"].nunique() == 2:
            mine = float(average_precision_score(both["y_true"], both["p_model"]))
            other = float(average_precision_score(both["y_true"], both["p_model_champion"]))
            return PromotionCheck(
                mine >= other, "common backtest rows", mine, other, champion_version, len(both)
            )
    ok = best is None or (bool(np.isfinite(score)) and score >= best)
    return PromotionCheck(ok, "logged metric", score, best, champion_version)


def champion_predictions(cfg: Any, horizon: int) -> pd.DataFrame | None:
    """The champion run's backtest predictions for ``horizon`` (None if it has none)."""
    import mlflow

    name = model_name(cfg, horizon)
    uri = tracking_uri(cfg)
    with mlflow_errors(f"reading the backtest of the champion of {name}", uri):
        client = mlflow_client(uri)
        mv = _version_or_none(client, name, CHAMPION)
        if mv is None:
            return None
        try:
            with tempfile.TemporaryDirectory() as tmp:
                path = mlflow.artifacts.download_artifacts(
                    run_id=str(mv.run_id),
                    artifact_path="backtest_predictions.parquet",
                    dst_path=tmp,
                    tracking_uri=uri,
                )
                table = pd.read_parquet(path)
        except (OSError, mlflow.exceptions.MlflowException):
            return None
    return table.loc[table["horizon"] == horizon]


def promotion_lock(cfg: Any) -> Any:
    """A file lock beside the embedded store (parallel local runs); none for a server."""
    if not tracking_uri(cfg).startswith("sqlite:///"):
        return contextlib.nullcontext()
    from filelock import FileLock

    store = Path(tracking_uri(cfg).removeprefix("sqlite:///"))
    store.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(store) + ".lock", timeout=600)


def _version_or_none(client: Any, name: str, alias: str) -> Any:
    """The version behind ``alias``, or None when the registry says the model or alias does
    not exist. Only MLflow's own error codes count: a 404 page from something that is not an
    MLflow server (a proxy, a wrong URL) is an error, not "no champion"."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException as exc:
        code = str(getattr(exc, "error_code", ""))
        if code == "RESOURCE_DOES_NOT_EXIST" or (
            code == "INVALID_PARAMETER_VALUE" and "alias" in str(exc).lower()
        ):
            return None
        raise


RegisteredModel = Forecast
"""A registered model read back from the registry: a :class:`relapse.forecast.Forecast`."""


LOADED_PARTS = ("MLmodel", f"{ARTIFACTS_DIR}/model")
"""What loading a version downloads and checks: ``MLmodel`` and the relapse model directory.

The copy of the package's code and the environment files that a pyfunc model carries for
``mlflow.pyfunc.load_model`` and ``mlflow models serve`` are not read by relapse's own
commands, so they are not fetched (each version holds ≈ 75 of them)."""


@dataclass(frozen=True)
class FetchedVersion:
    """A registered version's downloaded files and what the registry records of it.

    Plain values only: it is what the MLflow worker process (:mod:`relapse.mlflow_worker`)
    hands back; :func:`open_fetched` turns it into a :class:`~relapse.forecast.Forecast`.
    """

    name: str
    version: str
    run_id: str
    horizon: int
    local: str
    """The folder holding :data:`LOADED_PARTS` as downloaded (not yet checked)."""
    tags: dict[str, str]
    """The model version's tags (:data:`ARTIFACT_SHA256`, :data:`DATA_LAST_YEAR`)."""
    data_vintage: str | None
    metrics: dict[str, float]
    """The run's metrics of this horizon (``*_h<h>``, with their ``_lo``/``_hi`` bounds)."""


def fetch_registered(
    cfg: Any, horizon: int, version: str | int, dest: str | Path
) -> FetchedVersion:
    """Resolve a registered version (alias or number) and download :data:`LOADED_PARTS`.

    Talks to MLflow only; nothing downloaded is parsed here (:func:`open_fetched` checks the
    files against their recorded checksums first).

    Raises
    ------
    ModelError
        The model or alias does not exist, or the registry cannot be reached.
    """
    uri = configure(cfg)
    name = model_name(cfg, horizon)
    with mlflow_errors(f"loading {name} ({version})", uri):
        client = mlflow_client(uri)
        if str(version).isdigit():
            mv = client.get_model_version(name, str(version))
        else:
            mv = _version_or_none(client, name, str(version))
            if mv is None:
                what = "no champion" if str(version) == CHAMPION else f"no alias {version!r}"
                raise ModelError(f"{what} for {name}; run relapse train")
        local = Path(dest)
        local.mkdir(parents=True, exist_ok=True)
        _download_parts(name, str(mv.version), local)
        run = client.get_run(str(mv.run_id))
    suffix = f"_h{int(horizon)}"
    return FetchedVersion(
        name=name,
        version=str(mv.version),
        run_id=str(mv.run_id),
        horizon=int(horizon),
        local=str(local),
        tags={str(k): str(v) for k, v in (mv.tags or {}).items()},
        data_vintage=run.data.tags.get("data_vintage"),
        metrics={
            k: float(v)
            for k, v in run.data.metrics.items()
            if k.endswith(suffix) or k.endswith((suffix + "_lo", suffix + "_hi"))
        },
    )


def _download_parts(name: str, version: str, dst: Path) -> None:
    """Download those of :data:`LOADED_PARTS` the version holds into ``dst`` (a missing one
    is reported by :func:`verify_artifacts`, naming it)."""
    import mlflow

    root = f"models:/{name}/{version}"
    present = {f.path for f in mlflow.artifacts.list_artifacts(artifact_uri=root)}
    for part in LOADED_PARTS:
        if part.split("/")[0] in present:
            mlflow.artifacts.download_artifacts(artifact_uri=f"{root}/{part}", dst_path=str(dst))


def open_fetched(fetched: FetchedVersion) -> Forecast:
    """Check a fetched version's files against its recorded checksums, then read them.

    Raises
    ------
    ModelError
        A file is missing, altered, unexpected or invalid (the message names it), or the
        version does not forecast its horizon.
    """
    label = f"{fetched.name} v{fetched.version}"
    local = Path(fetched.local)
    try:
        verify_artifacts(local, fetched.tags.get(ARTIFACT_SHA256), label, parts=LOADED_PARTS)
    except OSError as exc:
        raise ModelError(
            f"{label}: the downloaded files cannot be read: {first_line(exc)}"
        ) from exc
    model, families = read_artifacts(local, label)
    if fetched.horizon not in model.horizons_:
        raise ModelError(f"{label} does not forecast {fetched.horizon}-year relapse")
    return Forecast(
        model=model,
        horizon=fetched.horizon,
        family_map={str(k): str(v) for k, v in families.items()},
        name=fetched.name,
        version=fetched.version,
        run_id=fetched.run_id,
        data_vintage=fetched.data_vintage,
        metrics=dict(fetched.metrics),
        data_last_year=_int_or_none(fetched.tags.get(DATA_LAST_YEAR)),
    )


def load_registered(cfg: Any, horizon: int, version: str | int = CHAMPION) -> Forecast:
    """Load a registered model of ``horizon`` by alias (``champion``) or version number.

    :func:`fetch_registered` then :func:`open_fetched`, in this process: the downloaded files
    are checked against the checksums recorded at registration before anything parses them
    (:func:`verify_artifacts`), then read by :func:`read_artifacts`. The commands fetch in
    the MLflow worker instead (:class:`relapse.mlflow_worker.ModelFetch`).

    Raises
    ------
    ModelError
        If the model or alias does not exist, the registry cannot be reached, or an artifact
        is missing, altered or invalid (the message names it).
    """
    with tempfile.TemporaryDirectory() as tmp:
        return open_fetched(fetch_registered(cfg, horizon, version, tmp))


def verify_artifacts(
    local: Path, recorded: str | None, label: str, parts: tuple[str, ...] | None = None
) -> None:
    """Check the files under ``local`` against the :data:`ARTIFACT_SHA256` tag ``recorded``.

    Every recorded file must be present with its digest, and no other file may be there;
    with ``parts`` (paths of files or folders), only the recorded files inside them count.

    Raises
    ------
    ModelError
        Naming the first missing, altered or unexpected artifact (or the missing tag).
    """
    if not recorded:
        raise ModelError(
            f"{label}: no artifact checksums recorded (model-version tag {ARTIFACT_SHA256}); "
            "it was registered before checksums existed or the tag was removed. Retrain it "
            "(relapse train)"
        )
    try:
        expected = json.loads(recorded)
        assert isinstance(expected, dict) and expected
    except (ValueError, AssertionError):
        raise ModelError(f"{label}: the {ARTIFACT_SHA256} tag is not a checksum table") from None
    if parts is not None:
        expected = {p: d for p, d in expected.items() if _inside(p, parts)}
    actual = artifact_digests(local)
    for path in sorted(set(expected) | set(actual)):
        if path not in actual:
            problem = "is missing"
        elif path not in expected:
            problem = "was not there at registration"
        elif actual[path] != expected[path]:
            problem = "does not match the SHA-256 recorded at registration (altered or damaged)"
        else:
            continue
        raise ModelError(f"{label}: artifact {path} {problem}; refusing to load the model")


def _inside(path: str, parts: tuple[str, ...]) -> bool:
    """Whether the artifact ``path`` is one of ``parts`` or lies in one of them."""
    return any(path == part or path.startswith(part + "/") for part in parts)


def read_artifacts(local: Path, label: str) -> tuple[Any, dict[str, str]]:
    """The model and family map of a verified model directory, validated.

    The feature order is the boosters' own (each must match the model's list exactly, in
    order); every number must be finite (:func:`relapse.forecast.load_model`);
    ``families.json`` must give each feature one of :data:`relapse.config.FAMILIES`.

    Raises
    ------
    ModelError
        Naming the artifact that is unreadable or invalid.
    """
    from relapse import forecast

    model_dir = local / ARTIFACTS_DIR / "model"
    try:
        model = forecast.load_model(model_dir)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(
            f"{label}: artifact {ARTIFACTS_DIR}/model is invalid: {first_line(exc)}"
        ) from exc
    families = _read_json(model_dir / FAMILIES_FILE, label)
    order = [str(f) for f in model.feature_names_in_]
    if not isinstance(families, dict) or sorted(families) != sorted(order):
        raise ModelError(f"{label}: artifact {FAMILIES_FILE} does not map exactly the features")
    return model, _checked_families(families, f"{label}: artifact {FAMILIES_FILE}")


def _read_json(path: Path, label: str) -> Any:
    """A JSON artifact; :class:`ModelError` if unreadable, not JSON, or holding NaN/Infinity."""

    def no_constant(word: str) -> Any:
        raise ValueError(f"{word} is not a finite number")

    where = f"{label}: artifact {path.parent.name}/{path.name}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_constant=no_constant)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelError(f"{where} is not valid JSON: {first_line(exc)}") from exc
    if not _all_finite(data):
        raise ModelError(f"{where} holds a number that is not finite")
    return data


def _all_finite(data: Any) -> bool:
    """True when every number inside ``data`` (nested lists and dicts) is finite."""
    if isinstance(data, dict):
        return all(_all_finite(v) for v in data.values())
    if isinstance(data, list):
        return all(_all_finite(v) for v in data)
    if isinstance(data, float):
        return bool(np.isfinite(data))
    return True


def _checked_families(families: Mapping[str, Any], where: str) -> dict[str, str]:
    """``families`` if every value is a known family, else :class:`ModelError`."""
    from relapse.config import FAMILIES

    unknown = sorted({str(v) for v in families.values() if v not in FAMILIES})
    if unknown:
        raise ModelError(f"{where}: unknown families {unknown}; known: {list(FAMILIES)}")
    return {str(k): str(v) for k, v in families.items()}
