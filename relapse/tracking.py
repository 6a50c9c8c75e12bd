"""MLflow tracking: where runs go, how the store is reached, one client, run logging.

Tracking URI, in order: ``mlflow.tracking_uri`` in config, ``$MLFLOW_TRACKING_URI``, else an
embedded SQLite store ``sqlite:///<abs path of mlflow.embedded_store>`` with artifacts under
``mlflow.artifact_root``. :func:`configure` points MLflow at it and sets its HTTP timeout,
retries and backoff from config, never overwriting a variable the user set; every look-up of
a process shares one client per store (:func:`mlflow_client`). Every failure talking to
MLflow becomes a :class:`relapse.errors.ModelError` (exit code 4, :func:`mlflow_errors`),
bounded by ``mlflow.deadline_s``. Registration, loading and promotion of models are
:mod:`relapse.registry`'s.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from relapse.errors import ModelError


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


class _DeadlinePassed(BaseException):
    """Raised by the alarm inside a tracking block (a BaseException: MLflow's own
    ``except Exception`` wrappers must not swallow it)."""


_DEADLINE_S: list[float] = [0.0]
"""``mlflow.deadline_s`` of the last :func:`configure` (0: no deadline)."""


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[list[bool]]:
    """Interrupt the block after ``seconds`` (SIGALRM; main thread only, outermost block only).

    Yields a one-item list that is ``[True]`` once the deadline has passed.
    """
    import signal
    import threading

    fired = [False]
    armed = (
        seconds > 0
        and threading.current_thread() is threading.main_thread()
        and hasattr(signal, "setitimer")
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0
    )
    if not armed:
        yield fired
        return

    def alarm(_signum: int, _frame: Any) -> None:
        fired[0] = True
        raise _DeadlinePassed

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _store_errors() -> tuple[type[BaseException], ...]:
    """Exception types of a failing store: MLflow, HTTP, the file system, SQLite/SQLAlchemy."""
    import sqlite3

    import requests
    from mlflow.exceptions import MlflowException

    types: list[type[BaseException]] = [
        MlflowException,
        requests.exceptions.RequestException,
        OSError,
        sqlite3.Error,
    ]
    with contextlib.suppress(ImportError):
        from sqlalchemy.exc import SQLAlchemyError

        types.append(SQLAlchemyError)
    return tuple(types)


@contextlib.contextmanager
def mlflow_errors(action: str, uri: str | None = None) -> Iterator[None]:
    """Turn MLflow, store and network failures inside the block into :class:`ModelError`.

    The outermost block is also bounded by ``mlflow.deadline_s`` (set by :func:`configure`):
    however many retries MLflow makes, the block ends with a :class:`ModelError` then.
    """
    where = f" at {uri}" if uri else ""
    seconds = _DEADLINE_S[0]
    late = ModelError(
        f"MLflow {action} did not finish within mlflow.deadline_s={seconds:g}s{where} "
        "(server too slow or not answering)"
    )
    with _deadline(seconds) as fired:
        try:
            yield
        except ModelError:
            raise
        except _DeadlinePassed:
            raise late from None
        except _store_errors() as exc:
            if fired[0]:
                raise late from exc
            raise ModelError(f"MLflow {action} failed{where}: {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    """The most telling line of a store failure: the SQLite error behind SQLAlchemy's and
    MLflow's wrappers (``database is locked``), else the exception's first line."""
    import sqlite3

    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or current in seen:
            continue
        if isinstance(current, sqlite3.Error):
            return f"SQLite: {first_line(current)}"
        seen.append(current)
        todo += [getattr(current, "orig", None), current.__cause__, current.__context__]
    return first_line(exc)


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's text (at most 400 characters)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return (lines[0] if lines else type(exc).__name__)[:400]


def http_settings(cfg: Any) -> dict[str, str]:
    """The MLflow HTTP variables the config asks for (timeout, retries, backoff)."""
    return {
        "MLFLOW_HTTP_REQUEST_TIMEOUT": str(int(cfg.mlflow.request_timeout_s)),
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(int(cfg.mlflow.max_retries)),
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": str(int(cfg.mlflow.backoff_factor)),
    }


_SET_HERE: dict[str, str] = {}
"""The MLflow variables :func:`configure` set itself, with their values."""


def _set_unless_users(name: str, value: str) -> None:
    """Set ``name`` unless the user did: unset, or still the value an earlier call set."""
    current = os.environ.get(name)
    if current is None or _SET_HERE.get(name) == current:
        os.environ[name] = value
        _SET_HERE[name] = value


_CLIENTS: dict[str, Any] = {}


def mlflow_client(uri: str) -> Any:
    """The process's one :class:`mlflow.MlflowClient` for ``uri`` (tracking and registry).

    Creating a client opens the store (for SQLite: SQLAlchemy and a schema check), so every
    look-up of a command shares one.
    """
    if uri not in _CLIENTS:
        from mlflow import MlflowClient

        _CLIENTS[uri] = MlflowClient(tracking_uri=uri, registry_uri=uri)
    return _CLIENTS[uri]


def configure(cfg: Any) -> str:
    """Point MLflow at the configured store and set its HTTP timeout and retries.

    ``MLFLOW_HTTP_REQUEST_TIMEOUT``, ``_MAX_RETRIES`` and ``_BACKOFF_FACTOR`` come from
    ``mlflow.request_timeout_s``, ``max_retries`` and ``backoff_factor``, except that a
    variable the user set in the environment is never overwritten.

    Returns
    -------
    str
        The tracking URI in use.
    """
    import mlflow

    # MLflow reads these on every request; set from config so a dead server fails fast,
    # unless the user set them (their environment wins; see http_settings).
    for name, value in http_settings(cfg).items():
        _set_unless_users(name, value)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    _DEADLINE_S[0] = float(cfg.mlflow.deadline_s)
    # MLflow logs a failing SQL store's full traceback itself; mlflow_errors reports it in
    # one line instead.
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
    uri = tracking_uri(cfg)
    if uri.startswith("sqlite:///"):
        with mlflow_errors("creating the embedded store's folder", uri):
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


SQL_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql")
"""Tracking URI schemes MLflow serves with its SQLAlchemy store."""


def import_store(cfg: Any) -> None:
    """Import MLflow and the store module the configured URI needs, opening nothing.

    The MLflow worker's first call (:mod:`relapse.mlflow_worker`): importing is most of what
    a store costs, and unlike opening it cannot fail on a broken store, whose error is then
    reported once, by the call that uses it.
    """
    import importlib

    modules = ["mlflow"]
    if tracking_uri(cfg).split(":", 1)[0].split("+", 1)[0] in SQL_SCHEMES:
        modules += [
            f"mlflow.store.{kind}.sqlalchemy_store" for kind in ("tracking", "model_registry")
        ]
    for module in modules:
        importlib.import_module(module)


def ensure_experiment(cfg: Any) -> str:
    """The id of ``mlflow.experiment_name``, created if needed (embedded: local artifacts).

    Writes a ``relapse.checked_at`` experiment tag too: a store that is read-only or locked
    then fails here, before a command starts its work, rather than at its end.
    """
    import time

    uri = configure(cfg)
    with mlflow_errors("experiment lookup", uri):
        client = mlflow_client(uri)
        exp = client.get_experiment_by_name(cfg.mlflow.experiment_name)
        if exp is not None:
            experiment_id = str(exp.experiment_id)
        else:
            location = None
            if is_embedded(cfg):
                root = Path(cfg.mlflow.artifact_root).resolve()
                root.mkdir(parents=True, exist_ok=True)
                location = root.as_uri()
            experiment_id = str(
                client.create_experiment(cfg.mlflow.experiment_name, artifact_location=location)
            )
        client.set_experiment_tag(experiment_id, "relapse.checked_at", str(int(time.time())))
    return experiment_id


@contextlib.contextmanager
def bounded_run(experiment_id: str, uri: str, **kwargs: Any) -> Iterator[Any]:
    """An active MLflow run whose start and end are tracking steps under :func:`mlflow_errors`
    (each with its deadline), while the work inside is not: a long report is not a timeout.

    The run ends ``FINISHED``, or ``FAILED`` when the block raises (an error ending the run
    then does not hide the block's own error).
    """
    import mlflow

    with mlflow_errors("starting the run", uri):
        run = mlflow.start_run(experiment_id=experiment_id, **kwargs)
    try:
        yield run
    except BaseException:
        with contextlib.suppress(ModelError), mlflow_errors("ending the failed run", uri):
            mlflow.end_run("FAILED")
        raise
    with mlflow_errors("ending the run", uri):
        mlflow.end_run("FINISHED")


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


def log_batch(
    client: Any, run_id: str, params: Mapping[str, Any], metrics: Mapping[str, float]
) -> None:
    """Log ``params`` (as text, like ``mlflow.log_params``) and ``metrics`` to a run in one call."""
    import time

    from mlflow.entities import Metric, Param

    now = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()],
        params=[Param(k, str(v)) for k, v in params.items()],
    )


def context_tags() -> dict[str, str]:
    """The source tags MLflow's fluent ``start_run`` gives a run (user, entry point, type,
    commit), without its context providers (the git one imports GitPython: ~0.5 s)."""
    import getpass
    import sys

    from mlflow.utils.mlflow_tags import (
        MLFLOW_GIT_COMMIT,
        MLFLOW_SOURCE_NAME,
        MLFLOW_SOURCE_TYPE,
        MLFLOW_USER,
    )

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (containers)
        user = "unknown"
    tags = {MLFLOW_USER: user, MLFLOW_SOURCE_NAME: sys.argv[0], MLFLOW_SOURCE_TYPE: "LOCAL"}
    commit = git_commit()
    if commit != "unknown":
        tags[MLFLOW_GIT_COMMIT] = commit
    return tags
