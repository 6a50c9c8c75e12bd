"""The analyst report: one self-contained HTML file per run.

``build_context`` gathers forecasts, explanations, back-test skill and caveats from plain
objects (panel, models, registry, metrics, back-test predictions); ``render_report`` turns the
context into HTML; ``write_report`` writes it atomically. ``make_report`` does all three.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from relapse.report.context import build_context
from relapse.report.render import render_report, write_report

__all__ = ["build_context", "make_report", "render_report", "write_report"]


def make_report(path: str | os.PathLike[str], *args: Any, **kwargs: Any) -> Path:
    """Build the context (same arguments as :func:`build_context`), render, write to ``path``."""
    return write_report(path, render_report(build_context(*args, **kwargs)))
