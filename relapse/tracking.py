"""MLflow tracking and registry: where runs go, how models are registered, loaded, promoted.

Tracking URI, in order: ``mlflow.tracking_uri`` in config, ``$MLFLOW_TRACKING_URI``, else an
embedded SQLite store ``sqlite:///<abs path of mlflow.embedded_store>`` with artifacts under
``mlflow.artifact_root``. Models are registered as ``<model_name_prefix><h>``, MLflow
models from code (:mod:`relapse.mlflow_model`) whose artifact is the model directory of
:func:`relapse.forecast.save_model` (JSON and LightGBM's native text format) with a
signature, plus ``families.json``; :func:`load_registered` reads them back without
unpickling anything. Promotion uses aliases (``candidate``, ``champion``), never stages.
Every failure talking to MLflow becomes a :class:`relapse.errors.ModelError` (exit code 4).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relapse.errors import ModelError
from relapse.forecast import Forecast

CANDIDATE = "candidate"
CHAMPION = "champion"
PROMOTION_METRIC = "backtest_average_precision_h{h}"
"""The run metric compared on promotion (the champion's own run holds the same metric)."""

DATA_LAST_YEAR = "data_last_year"
"""Model-version tag: the last year of the data the model was trained on."""

ARTIFACTS_DIR = "artifacts"
"""Where a pyfunc model keeps its artifacts (the relapse model directory is ``model``)."""
FAMILIES_FILE = "families.json"


def tracking_uri(cfg: Any) -> str:
    """The tracking URI this config points at (see the module docstring for the order)."""
    if cfg.mlflow.tracking_uri:
        return str(cfg.mlflow.tracking_uri)
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    return "sqlite:///" + str(Path(cfg.mlflow.embedded_store).resolve())


def is_embedded(cfg: Any) -> bool:
    """True when the embedded SQLite store is used (no config URI, no environment URI)."""
    return not cfg.mlflow.tracking_uri and not os.environ.get("MLFLOW_TRACKING_URI")


def model_name(cfg: Any, horizon: int) -> str:
    """Registered model name of a horizon, e.g. ``relapse-h1``."""
    return f"{cfg.mlflow.model_name_prefix}{int(horizon)}"


@contextlib.contextmanager
def mlflow_errors(action: str, uri: str | None = None) -> Iterator[None]:
    """Turn MLflow and network failures inside the block into :class:`ModelError`."""
    import requests
    from mlflow.exceptions import MlflowException

    where = f" at {uri}" if uri else ""
    try:
        yield
    except ModelError:
        raise
    except (MlflowException, requests.exceptions.RequestException, OSError) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"MLflow {action} failed{where}: {text[:400]}") from exc


def configure(cfg: Any) -> str:
    """Point MLflow at the configured store and set its HTTP timeout and retries.

    Returns
    -------
    str
        The tracking URI in use.
    """
    import mlflow

    # MLflow reads these on every request; set from config so a dead server fails fast.
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = str(int(cfg.mlflow.request_timeout_s))
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = str(int(cfg.mlflow.max_retries))
    os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"] = str(int(cfg.mlflow.backoff_factor))
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    uri = tracking_uri(cfg)
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # mlflow.set_tracking_uri also exports MLFLOW_TRACKING_URI; restore the user's value so
    # that the next configure() (another config in the same process) resolves afresh.
    before = os.environ.get("MLFLOW_TRACKING_URI")
    try:
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
    finally:
        if before is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = before
    return uri


def ensure_experiment(cfg: Any) -> str:
    """The id of ``mlflow.experiment_name``, created if needed (embedded: local artifacts)."""
    from mlflow import MlflowClient

    uri = configure(cfg)
    with mlflow_errors("experiment lookup", uri):
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        exp = client.get_experiment_by_name(cfg.mlflow.experiment_name)
        if exp is not None:
            return str(exp.experiment_id)
        location = None
        if is_embedded(cfg):
            root = Path(cfg.mlflow.artifact_root).resolve()
            root.mkdir(parents=True, exist_ok=True)
            location = root.as_uri()
        return str(client.create_experiment(cfg.mlflow.experiment_name, artifact_location=location))


def git_commit(start: Path | None = None) -> str:
    """The checked-out commit read from ``.git`` (no git process), or ``unknown``."""
    env = os.environ.get("RELAPSE_GIT_COMMIT")
    if env:
        return env
    here = (start or Path(__file__)).resolve()
    for parent in [here, *here.parents]:
        git = parent / ".git"
        if not git.is_dir():
            continue
        with contextlib.suppress(OSError):
            head = (git / "HEAD").read_text().strip()
            if not head.startswith("ref:"):
                return head
            ref = head.removeprefix("ref:").strip()
            if (git / ref).is_file():
                return (git / ref).read_text().strip()
            packed = git / "packed-refs"
            if packed.is_file():
                for line in packed.read_text().splitlines():
                    if line.endswith(" " + ref):
                        return line.split()[0]
        return "unknown"
    return "unknown"


def register_model(
    cfg: Any,
    horizon: int,
    model_dir: Path,
    X_example: pd.DataFrame,
    family_map: Mapping[str, str],
    tags: Mapping[str, str] | None = None,
) -> str:
    """Log a saved relapse model (:func:`relapse.forecast.save_model`) and register it.

    The model is an MLflow *model from code* (:mod:`relapse.mlflow_model`) whose artifact is
    the model directory (``model.json`` and one LightGBM text file per interval), with a
    signature and an input example; ``families.json`` (feature → family) goes beside it. It
    is registered as :func:`model_name` of ``horizon`` (every version holds all horizons;
    this name serves one) and gets the ``candidate`` alias.

    Returns
    -------
    str
        The registered version number.
    """
    import mlflow
    from mlflow import MlflowClient
    from mlflow.models import infer_signature

    from relapse import forecast

    name = model_name(cfg, horizon)
    uri = tracking_uri(cfg)
    model = forecast.load_model(model_dir)
    features = [str(f) for f in model.feature_names_in_]
    (Path(model_dir) / FAMILIES_FILE).write_text(
        json.dumps({f: family_map.get(f, "unknown") for f in features}, indent=2)
    )
    X = X_example[features].astype("float64")
    output = pd.DataFrame(
        model.predict_horizons(X),
        columns=[f"relapse_probability_h{h}" for h in model.horizons_],
    )
    signature = infer_signature(X, output)
    with mlflow_errors(f"registering {name}", uri):
        info = mlflow.pyfunc.log_model(
            name=f"model_h{int(horizon)}",
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
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        for key, value in (tags or {}).items():
            client.set_model_version_tag(name, version, key, str(value))
        client.set_registered_model_alias(name, CANDIDATE, version)
    return version


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def champion_metric(cfg: Any, horizon: int) -> tuple[str | None, float | None]:
    """The current champion's version and its run's promotion metric (None, None if none)."""
    from mlflow import MlflowClient

    name = model_name(cfg, horizon)
    uri = tracking_uri(cfg)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    with mlflow_errors(f"looking up the champion of {name}", uri):
        mv = _version_or_none(client, name, CHAMPION)
        if mv is None:
            return None, None
        metrics = client.get_run(mv.run_id).data.metrics
    value = metrics.get(PROMOTION_METRIC.format(h=int(horizon)))
    return str(mv.version), (None if value is None else float(value))


def champion_data_last_year(cfg: Any, horizon: int) -> tuple[str | None, int | None]:
    """The champion's version and the last year of its training data (its
    ``data_last_year`` tag); None for either when there is no champion or no tag."""
    from mlflow import MlflowClient

    name = model_name(cfg, horizon)
    uri = configure(cfg)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    with mlflow_errors(f"looking up the champion of {name}", uri):
        mv = _version_or_none(client, name, CHAMPION)
    if mv is None:
        return None, None
    return str(mv.version), _int_or_none((mv.tags or {}).get(DATA_LAST_YEAR))


def _int_or_none(value: Any) -> int | None:
    return int(value) if value is not None and str(value).strip().isdigit() else None


@dataclass(frozen=True)
class PromotionCheck:
    """How a candidate compared with the champion (see :func:`promote`)."""

    promoted: bool
    basis: str
    """``"no champion"``, ``"forced"``, ``"common backtest rows"`` or ``"logged metric"``."""
    candidate_ap: float
    champion_ap: float | None = None
    champion_version: str | None = None
    rows: int = 0


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
    """Give ``version`` the ``champion`` alias if it is at least as good as the champion.

    "As good" is judged like for like: the candidate's and the champion's backtest forecasts
    are compared on the rows both backtests forecast (same country-years, horizon and
    labels; with a new data release those are the older origins, whose labels a vintage
    cut does not change), by average precision. When the champion's run has no backtest
    predictions or too few shared rows, the logged :data:`PROMOTION_METRIC` values are
    compared instead (the basis is returned and logged, so the choice is visible).

    Parameters
    ----------
    cfg
        Composed config.
    horizon
        Horizon of the model.
    version
        The candidate's version number.
    score
        The candidate's backtest average precision (:data:`PROMOTION_METRIC`).
    force
        Promote regardless (``promote=true``).
    predictions
        The candidate's backtest predictions (``gwno, year, horizon, y_true, p_model``).

    Returns
    -------
    PromotionCheck
    """
    from mlflow import MlflowClient

    name = model_name(cfg, horizon)
    uri = tracking_uri(cfg)
    with promotion_lock(cfg):  # compare-and-set: parallel runs must not both win
        check = _compare(cfg, horizon, score, force, predictions)
        if check.promoted:
            with mlflow_errors(f"promoting {name} v{version}", uri):
                MlflowClient(tracking_uri=uri, registry_uri=uri).set_registered_model_alias(
                    name, CHAMPION, str(version)
                )
    return check


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
    from mlflow import MlflowClient

    name = model_name(cfg, horizon)
    uri = tracking_uri(cfg)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    with mlflow_errors(f"reading the backtest of the champion of {name}", uri):
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
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException as exc:
        code = str(getattr(exc, "error_code", ""))
        if (
            "RESOURCE_DOES_NOT_EXIST" in code
            or "not found" in str(exc).lower()
            or ("INVALID_PARAMETER_VALUE" in code and "alias" in str(exc).lower())
        ):
            return None
        raise


RegisteredModel = Forecast
"""A registered model read back from the registry: a :class:`relapse.forecast.Forecast`."""


def load_registered(cfg: Any, horizon: int, version: str | int = CHAMPION) -> Forecast:
    """Load a registered model of ``horizon`` by alias (``champion``) or version number.

    Raises
    ------
    ModelError
        If the model or alias does not exist, its files are not a valid relapse model, or the
        registry cannot be reached.
    """
    import mlflow
    from mlflow import MlflowClient

    from relapse import forecast

    uri = configure(cfg)
    name = model_name(cfg, horizon)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    with mlflow_errors(f"loading {name} ({version})", uri):
        if str(version).isdigit():
            mv = client.get_model_version(name, str(version))
        else:
            mv = _version_or_none(client, name, str(version))
            if mv is None:
                what = "no champion" if str(version) == CHAMPION else f"no alias {version!r}"
                raise ModelError(f"{what} for {name}; run relapse train")
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(
                mlflow.artifacts.download_artifacts(
                    artifact_uri=f"models:/{name}/{mv.version}", dst_path=tmp
                )
            )
            model_dir = local / ARTIFACTS_DIR / "model"
            try:
                model = forecast.load_model(model_dir)
                families = json.loads((model_dir / FAMILIES_FILE).read_text())
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise ModelError(
                    f"{name} v{mv.version}: the model files are not valid ({exc})"
                ) from exc
        run = client.get_run(str(mv.run_id))
    suffix = f"_h{int(horizon)}"
    metrics = {
        k: float(v)
        for k, v in run.data.metrics.items()
        if k.endswith(suffix) or k.endswith((suffix + "_lo", suffix + "_hi"))
    }
    if int(horizon) not in model.horizons_:
        raise ModelError(f"{name} v{mv.version} does not forecast {horizon}-year relapse")
    return Forecast(
        model=model,
        horizon=int(horizon),
        family_map={str(k): str(v) for k, v in families.items()},
        name=name,
        version=str(mv.version),
        run_id=str(mv.run_id),
        data_vintage=run.data.tags.get("data_vintage"),
        metrics=metrics,
        data_last_year=_int_or_none((mv.tags or {}).get(DATA_LAST_YEAR)),
    )


def log_frame(df: pd.DataFrame, artifact_file: str, formats: Sequence[str] = ("csv",)) -> None:
    """Log a DataFrame to the active run as CSV (and/or parquet)."""
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        for fmt in formats:
            path = Path(tmp) / f"{artifact_file}.{fmt}"
            if fmt == "csv":
                df.to_csv(path, index=False)
            else:
                df.to_parquet(path, index=False)
            mlflow.log_artifact(str(path))
