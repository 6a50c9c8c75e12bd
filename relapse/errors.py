"""Errors the command line turns into one clear message and a documented exit code.

Exit codes (stable, relied on by the batch job's scheduler):

====  =====================================================
0     success
2     usage or configuration error (bad override, unknown key)
3     data error (missing/altered/malformed source, unmapped code)
4     model or registry error (no champion, tracking server down)
5     output error (an output file could not be written: disk full, no permission)
1     unexpected error: a bug (one line; ``RELAPSE_DEBUG=1`` shows the traceback)
====  =====================================================
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


class RelapseError(Exception):
    """Base class: an expected failure with a message meant for the user."""

    exit_code = 1


class ConfigError(RelapseError):
    """The configuration or the command line is wrong."""

    exit_code = 2


class DataError(RelapseError):
    """A raw source is missing, altered or does not match its schema."""

    exit_code = 3


class ModelError(RelapseError):
    """A model, the registry or the tracking server cannot be used."""

    exit_code = 4


class OutputError(RelapseError):
    """An output file could not be written (disk full, read-only, no permission)."""

    exit_code = 5


@contextlib.contextmanager
def writing(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn an :class:`OSError` raised while writing ``path`` into :class:`OutputError`.

    Used only inside the atomic writers, which remove their temporary file first, so the
    message can promise that the previous output is untouched.
    """
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise OutputError(
            f"could not write {path}: {reason}; the previous output (if any) is unchanged"
        ) from exc


def output_dir(path: str | os.PathLike[str]) -> Path:
    """Create the output directory ``path`` (and its parents); :class:`OutputError` if it
    cannot be (a file in the way, no permission, read-only file system). Returns the path."""
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise OutputError(f"could not create the output directory {out}: {reason}") from exc
    return out
