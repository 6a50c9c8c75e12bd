"""A command's MLflow calls in a second process, while the command does its own work.

Importing MLflow and opening its SQLite store cost a fresh process ≈ 3.5 s of CPU (MLflow's
import ≈ 2.4 s, SQLAlchemy and alembic ≈ 1.3 s: ``benchmarks/README.md``), more than
pandas, pyarrow and LightGBM together. ``relapse score``, ``explain`` and ``report``
therefore start one worker process (:class:`MlflowWorker`) before they import anything
heavy; it imports MLflow, opens the store, resolves and downloads the champions
(:class:`ModelFetch`) and, for ``relapse score``, logs the scoring run, while the command
imports pandas and LightGBM and builds its panel. On two or more cores both run at once.

The worker runs the same functions the command would run itself (named as
``"module:function"`` so that submitting one imports nothing here); what they raise comes
back as raised (a :class:`~relapse.errors.ModelError` keeps its message and exit code 4),
and a worker that dies is a ``ModelError``. Nothing downloaded is parsed in the worker: the
command checks the files against their recorded checksums and reads them
(:func:`relapse.registry.open_fetched`). ``mlflow.worker_process=false`` runs every call in
the command's own process instead (a debugger, a profiler, a one-core machine).

This module imports only the standard library, so starting the worker costs the command
nothing it would not pay anyway.
"""

from __future__ import annotations

import contextlib
import importlib
import tempfile
from collections.abc import Iterable
from concurrent.futures import Future, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import TracebackType
from typing import Any

from relapse.errors import ModelError

WARM_UP = "relapse.tracking:import_store"
"""What the worker does first: import MLflow and the configured store's module."""


def _leave() -> None:
    """End the worker process at once (its last call, once every other call is answered).

    A process holding MLflow, SQLAlchemy and pydantic spends ≈ 0.8 s tearing its interpreter
    down; with every result already sent back there is nothing left in it to finish, so it
    flushes its output and exits without that.
    """
    import os
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _call(target: str, args: tuple[Any, ...]) -> Any:
    """Run ``module:function`` with ``args`` (in the worker)."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)(*args)


class MlflowWorker:
    """One process for a command's MLflow calls (``with MlflowWorker(cfg) as worker: ...``).

    The process is started, and told to import MLflow and the store's module, when the
    worker is created. :meth:`submit` queues a call; :meth:`result` waits for it. Leaving
    the ``with`` block normally waits for the queued calls; leaving it with an exception
    stops the process at once (until a command hands it the run to log, it only reads).
    """

    def __init__(self, cfg: Any) -> None:
        self.in_process = not bool(cfg.mlflow.worker_process)
        self._pool: Any = None
        self._calls: list[Future[Any]] = []
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        if not self.in_process:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # spawn, not fork: the command may already hold threads and locks (pytest,
            # a notebook); the worker starts from a clean interpreter on every platform.
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
            self.submit(WARM_UP, cfg)

    def submit(self, target: str, *args: Any) -> Future[Any]:
        """Queue ``module:function(*args)``; in-process, run it now (its error is kept for
        :meth:`result`, as the worker would keep it)."""
        if self._pool is not None:
            self._calls.append(self._pool.submit(_call, target, args))
            return self._calls[-1]
        future: Future[Any] = Future()
        try:
            future.set_result(_call(target, args))
        except Exception as exc:
            future.set_exception(exc)
        return future

    def result(self, future: Future[Any]) -> Any:
        """The call's result, or what it raised; :class:`ModelError` if the worker died."""
        try:
            return future.result()
        except BrokenProcessPool as exc:
            raise ModelError(
                f"the MLflow worker process ended unexpectedly ({exc}); rerun, or set "
                "mlflow.worker_process=false to see the failure in this process"
            ) from exc

    @property
    def scratch(self) -> Path:
        """A temporary folder for the worker's downloads, removed by :meth:`close`."""
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="relapse-mlflow-")
        return Path(self._scratch.name)

    def close(self, stop: bool = False) -> None:
        """Wait for the queued calls, end the process (``stop``: end it now, for a command
        that failed), then remove :attr:`scratch`."""
        pool, self._pool = self._pool, None
        if pool is not None:
            if stop:
                for process in list(getattr(pool, "_processes", {}).values()):
                    process.terminate()
            else:
                wait(self._calls)
                with contextlib.suppress(BrokenProcessPool):  # a worker that died has left
                    pool.submit(_leave)
            pool.shutdown(wait=True, cancel_futures=stop)
        scratch, self._scratch = self._scratch, None
        if scratch is not None:
            scratch.cleanup()

    def __enter__(self) -> MlflowWorker:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(stop=kind is not None)


class ModelFetch:
    """The registered models of ``horizons`` at ``version``, fetched by ``worker`` now.

    Creating it queues :func:`relapse.registry.fetch_registered` for every horizon (into the
    worker's :attr:`~MlflowWorker.scratch` folder); :meth:`load` is a model loader
    ``(cfg, horizon, version) -> Forecast`` that waits for its horizon and opens it with
    :func:`relapse.registry.open_fetched`.
    """

    def __init__(
        self, worker: MlflowWorker, cfg: Any, horizons: Iterable[int], version: str | int
    ) -> None:
        self.worker = worker
        self.version = str(version)
        self._pending = {
            int(h): worker.submit(
                "relapse.registry:fetch_registered",
                cfg,
                int(h),
                self.version,
                str(worker.scratch / f"{version}-h{int(h)}"),
            )
            for h in horizons
        }

    def load(self, cfg: Any, horizon: int, version: str | int) -> Any:
        """The :class:`~relapse.forecast.Forecast` of ``horizon`` (fetched at ``version``)."""
        from relapse.registry import open_fetched

        if int(horizon) not in self._pending or str(version) != self.version:
            raise ValueError(f"horizon {horizon} at {version!r} was not fetched")
        return open_fetched(self.worker.result(self._pending[int(horizon)]))
