"""``relapse.tracking``: configuration from config and environment, one client per store."""

from __future__ import annotations

import os

import pytest

from relapse import tracking
from relapse.config import compose_config

HTTP = (
    "MLFLOW_HTTP_REQUEST_TIMEOUT",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR",
)


def _cfg(tmp_path, *extra: str):  # type: ignore[no-untyped-def]
    return compose_config(
        [
            f"mlflow.embedded_store={tmp_path / 'mlflow.db'}",
            f"mlflow.artifact_root={tmp_path / 'mlartifacts'}",
            *extra,
        ],
    )


def test_configure_never_overwrites_the_users_http_variables(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    for name in HTTP:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "42")  # the user's
    tracking.configure(_cfg(tmp_path, "mlflow.request_timeout_s=7", "mlflow.max_retries=1"))
    assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "42"
    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "1"
    # A value configure set itself is not the user's: the next config replaces it.
    tracking.configure(_cfg(tmp_path, "mlflow.request_timeout_s=9", "mlflow.max_retries=4"))
    assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "42"
    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "4"
    # Once the user sets one, it stays theirs.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    tracking.configure(_cfg(tmp_path, "mlflow.max_retries=5"))
    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "0"


@pytest.mark.parametrize("name", HTTP)
def test_http_settings_follow_the_config(tmp_path, name) -> None:
    cfg = _cfg(
        tmp_path, "mlflow.request_timeout_s=3", "mlflow.max_retries=2", "mlflow.backoff_factor=1"
    )
    expected = {
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "3",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    }
    assert tracking.http_settings(cfg)[name] == expected[name]


def test_one_client_per_store(tmp_path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    first = tracking.mlflow_client(uri)
    assert tracking.mlflow_client(uri) is first
    assert tracking.mlflow_client(f"sqlite:///{tmp_path / 'other.db'}") is not first
