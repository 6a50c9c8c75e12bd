"""One loader per raw dataset of the snapshot, each validated against a schema on load.

``SOURCES`` maps a short key (used in config and code) to its :class:`Source`. Use
:func:`load` for one table, :func:`load_tables` for several with one manifest read, and
:func:`check_all` for ``relapse data check``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from relapse.errors import DataError
from relapse.sources import conflict, crosswalks, economic, governance, peacekeeping
from relapse.sources.base import LoadResult, Source, load_source, read_manifest

SOURCES: dict[str, Source] = {
    s.key: s
    for module in (conflict, peacekeeping, governance, economic, crosswalks)
    for s in module.SOURCES
}


def get_source(key: str) -> Source:
    """The source registered under ``key``; :class:`DataError` listing the keys otherwise."""
    try:
        return SOURCES[key]
    except KeyError:
        raise DataError(f"unknown source {key!r}; known: {sorted(SOURCES)}") from None


def load(
    key: str,
    data_dir: Path | str,
    *,
    verify: bool = True,
    vintage_year: int | None = None,
) -> pd.DataFrame:
    """Load one validated, tidy source table (see each source's docstring for its columns)."""
    return load_source(get_source(key), data_dir, verify=verify, vintage_year=vintage_year).table


def load_tables(
    keys: Iterable[str],
    data_dir: Path | str,
    *,
    verify: bool = True,
    vintage_year: int | None = None,
) -> dict[str, pd.DataFrame]:
    """Load several sources, reading the manifest once."""
    data_dir = Path(data_dir)
    manifest = read_manifest(data_dir) if verify else None
    return {
        key: load_source(
            get_source(key), data_dir, manifest=manifest, verify=verify, vintage_year=vintage_year
        ).table
        for key in keys
    }


def ensure_data_dir(cfg: Any) -> Path:
    """The configured raw data directory, generated first when ``data.name`` is synthetic.

    Every command that reads raw data calls this once before reading (``relapse data check``,
    :func:`relapse.build.build_panel`, and through it training, reports and scoring). For the
    snapshot it only returns ``paths.data_dir``; for ``data=synthetic`` it writes the simulated
    data set there unless it is already complete (:func:`relapse.synthetic.ensure_dataset`).
    """
    if str(cfg.data.name) == "synthetic":
        from relapse.synthetic import ensure_dataset

        return ensure_dataset(cfg)
    return Path(cfg.paths.data_dir)


def check_all(data_dir: Path | str) -> list[tuple[Source, LoadResult | None, str]]:
    """Load every source; return (source, result or None, status message) per source."""
    data_dir = Path(data_dir)
    manifest = read_manifest(data_dir)
    results: list[tuple[Source, LoadResult | None, str]] = []
    for source in SOURCES.values():
        try:
            result = load_source(source, data_dir, manifest=manifest, verify=True)
        except DataError as exc:
            results.append((source, None, str(exc)))
        else:
            results.append((source, result, "ok"))
    listed = set(manifest.index)
    known = {s.path for s in SOURCES.values()}
    for path in sorted(listed - known):
        results.append((_unknown(path), None, f"{path}: listed in MANIFEST.csv but has no loader"))
    return results


def _unknown(path: str) -> Source:
    import pandera.pandas as pa

    return Source(
        key="?",
        path=path,
        title="(no loader)",
        raw_schema=pa.DataFrameSchema({}),
        tidy=lambda df, ctx: df,
    )


__all__ = [
    "SOURCES",
    "LoadResult",
    "Source",
    "check_all",
    "ensure_data_dir",
    "get_source",
    "load",
    "load_tables",
]
