"""The MLflow worker (relapse.mlflow_worker): calls in a second process, errors that come back.

The commands' own results with and without the worker (byte-identical scores, MLflow never
imported by the command's process) are in ``test_hardening.py``, beside its trained registry.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from relapse.config import compose_config
from relapse.errors import ModelError
from relapse.mlflow_worker import MlflowWorker

CALLS = "helpers.worker_calls"


def config(tmp_path: Path, worker_process: bool = True) -> object:
    return compose_config(
        [
            f"mlflow.embedded_store={tmp_path / 'mlflow.db'}",
            f"mlflow.worker_process={str(worker_process).lower()}",
        ]
    )


def test_a_call_runs_in_another_process_and_returns(tmp_path: Path) -> None:
    with MlflowWorker(config(tmp_path)) as worker:
        pid = worker.result(worker.submit(f"{CALLS}:pid"))
    assert isinstance(pid, int) and pid != os.getpid()


def test_worker_process_false_runs_calls_here(tmp_path: Path) -> None:
    with MlflowWorker(config(tmp_path, worker_process=False)) as worker:
        assert worker.result(worker.submit(f"{CALLS}:pid")) == os.getpid()
        failed = worker.submit(f"{CALLS}:refuse", "no champion for relapse-h1")
        with pytest.raises(ModelError, match="no champion for relapse-h1"):
            worker.result(failed)  # kept for result(), as the worker keeps it


def test_an_error_comes_back_with_its_message_and_exit_code(tmp_path: Path) -> None:
    with MlflowWorker(config(tmp_path)) as worker:
        call = worker.submit(f"{CALLS}:refuse", "no champion for relapse-h1; run relapse train")
        with pytest.raises(ModelError) as info:
            worker.result(call)
    assert str(info.value) == "no champion for relapse-h1; run relapse train"
    assert info.value.exit_code == 4


def test_a_worker_that_dies_is_a_model_error(tmp_path: Path) -> None:
    with MlflowWorker(config(tmp_path)) as worker:
        call = worker.submit(f"{CALLS}:die")
        with pytest.raises(ModelError, match="MLflow worker process ended unexpectedly") as info:
            worker.result(call)
    assert info.value.exit_code == 4
    assert "mlflow.worker_process=false" in str(info.value)


def test_a_failing_command_stops_the_worker_at_once(tmp_path: Path) -> None:
    start = time.monotonic()
    with (
        pytest.raises(RuntimeError, match="the command failed"),
        MlflowWorker(config(tmp_path)) as worker,
    ):
        worker.submit(f"{CALLS}:sleep", 120.0)
        time.sleep(1.0)  # the call is running
        raise RuntimeError("the command failed")
    assert time.monotonic() - start < 30


def test_a_finished_command_leaves_no_process_and_no_files(tmp_path: Path) -> None:
    import multiprocessing

    with MlflowWorker(config(tmp_path)) as worker:
        scratch = worker.scratch
        (scratch / "model").mkdir()
        assert worker.result(worker.submit(f"{CALLS}:sleep", 0.1)) == 0.1
    assert not scratch.exists()
    assert multiprocessing.active_children() == []


def test_warm_up_imports_the_store_and_opens_nothing(tmp_path: Path) -> None:
    """The worker's first call cannot fail on a broken store (the look-up reports it)."""
    from relapse.tracking import import_store

    store = tmp_path / "mlflow.db"
    store.write_bytes(b"not a database " * 1000)
    cfg = config(tmp_path)
    import_store(cfg)  # no error, and the file is untouched
    assert store.read_bytes() == b"not a database " * 1000
