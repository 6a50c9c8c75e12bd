"""The analyst report: one self-contained HTML file per run.

``build_context`` gathers forecasts, explanations, back-test skill and caveats from plain
objects (panel, models, registry, metrics, back-test predictions); ``render_report`` turns the
context into HTML; ``write_report`` writes it atomically. ``make_report`` does all three.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["build_context", "make_report", "render_report", "write_report"]


def __getattr__(name: str) -> Any:
    """Import the report's heavy parts (matplotlib, the plots) only when they are used, so that
    ``relapse score`` can read :mod:`relapse.report.words` without them."""
    if name == "build_context":
        from relapse.report.context import build_context

        return build_context
    if name in ("render_report", "write_report"):
        from relapse.report import render

        return getattr(render, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def make_report(path: str | os.PathLike[str], *args: Any, **kwargs: Any) -> Path:
    """Build the context (same arguments as :func:`build_context`), render, write to ``path``."""
    from relapse.report.context import build_context
    from relapse.report.render import render_report, write_report

    return write_report(path, render_report(build_context(*args, **kwargs)))
