"""Errors the command line turns into one clear message and a documented exit code.

Exit codes (stable, relied on by the batch job's scheduler):

====  =====================================================
0     success
2     usage or configuration error (bad override, unknown key)
3     data error (missing/altered/malformed source, unmapped code)
4     model or registry error (no champion, tracking server down)
====  =====================================================
"""

from __future__ import annotations


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
