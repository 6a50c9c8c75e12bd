"""Render the report context to one self-contained HTML file, and write it atomically.

The template (``templates/report.html.j2``) runs with autoescape on and undefined values as
errors: every string from the data (country names, descriptions) is HTML-escaped, and a
missing key fails loudly instead of printing nothing. Images are inline base64 PNGs and the
CSS is inline, so the file opens offline and makes no network requests.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from relapse import atomic

TEMPLATE = "report.html.j2"


def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(
        loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_report(context: dict[str, Any]) -> str:
    """The report as an HTML string.

    Parameters
    ----------
    context
        Output of :func:`relapse.report.build_context`.
    """
    return _environment().get_template(TEMPLATE).render(**context)


def write_report(path: str | os.PathLike[str], html: str) -> Path:
    """Write ``html`` to ``path`` atomically (temporary file in the same folder, then rename).

    A reader (a web server, a browser refreshing) never sees a half-written report; an
    :class:`OSError` (disk full) becomes :class:`~relapse.errors.OutputError` naming ``path``.

    Returns
    -------
    Path
        The written file.
    """
    return atomic.write_text(path, html)


def write_parquet(path: str | os.PathLike[str], table: Any) -> Path:
    """Write a DataFrame to parquet atomically (temporary file, then rename)."""
    return atomic.write_with(path, lambda tmp: table.to_parquet(tmp, index=False))
