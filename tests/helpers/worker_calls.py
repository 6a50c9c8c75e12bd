"""Calls for the MLflow worker's tests: importable by name in the worker process."""

from __future__ import annotations

import os
import time

from relapse.errors import ModelError


def pid() -> int:
    """The process the call runs in."""
    return os.getpid()


def refuse(message: str) -> None:
    """A call failing the way the registry look-ups fail."""
    raise ModelError(message)


def die() -> None:
    """A worker process that ends in the middle of a call (a crash, the OOM killer)."""
    os._exit(9)


def sleep(seconds: float) -> float:
    """A call still running when the command fails."""
    time.sleep(seconds)
    return seconds
