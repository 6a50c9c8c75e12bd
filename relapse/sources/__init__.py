"""One loader per raw dataset of the snapshot, each validated against a schema on load.

``SOURCES`` maps a short key (used in config and code) to its :class:`Source`. Use
:func:`load` for one table, :func:`load_tables` for several with one manifest read, and
:func:`check_all` for ``relapse data check``.

Which file a source reads is configuration (``data.files.<key>``, listed in
``conf/data/*.yaml``): :func:`configure_files` records it for the data directory (commands
do so through :func:`relapse.data_dir.ensure_data_dir`), and every load from that directory
uses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pandas as pd

from relapse.errors import ConfigError, DataError
from relapse.sources import conflict, crosswalks, economic, governance, peacekeeping
from relapse.sources.base import (
    MANIFEST,
    LoadResult,
    Source,
    load_source,
    located,
    read_manifest,
    set_files,
)

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


def resolve_files(files: Mapping[str, str]) -> dict[str, str]:
    """The file of every source: ``files`` (``data.files``) where given, else its default.

    Raises
    ------
    ConfigError
        For a key that is not a source, a path that is absolute or leaves the data directory,
        or one file configured for two sources.
    """
    problems = [f"data.files.{k}: no such source" for k in files if k not in SOURCES]
    for key, path in files.items():
        pure = PurePosixPath(str(path))
        if not str(path) or pure.is_absolute() or ".." in pure.parts:
            problems.append(f"data.files.{key}={path!r} must be a path inside the data directory")
    chosen = {k: str(files.get(k, s.path)) for k, s in SOURCES.items()}
    shared = pd.Series(chosen).loc[lambda s: s.duplicated(keep=False)]
    for path, keys in shared.groupby(shared).groups.items():
        problems.append(f"data.files: {path!r} is configured for several sources {list(keys)}")
    if problems:
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(problems))
    return chosen


def configure_files(data_dir: Path | str, files: Mapping[str, str]) -> dict[str, Source]:
    """Record ``data.files`` for ``data_dir``; return every source at its configured file.

    Every later load from ``data_dir`` reads these files (see :func:`resolve_files` for the
    checks, which raise :class:`~relapse.errors.ConfigError`).
    """
    set_files(data_dir, resolve_files(files))
    return sources_in(data_dir)


def sources_in(data_dir: Path | str) -> dict[str, Source]:
    """Every registered source at the file configured for ``data_dir``."""
    return {key: located(source, data_dir) for key, source in SOURCES.items()}


@dataclass
class CheckResult:
    """One line of ``relapse data check``: a source (or a manifest file) and its outcome."""

    source: Source
    result: LoadResult | None
    message: str
    used: bool = True

    @property
    def failed(self) -> bool:
        """A used source that did not load (a file nobody reads never fails)."""
        return self.used and self.result is None


def check_all(data_dir: Path | str, *, verify: bool = True) -> list[CheckResult]:
    """Load every source from its configured file; one :class:`CheckResult` per source.

    Files listed in ``MANIFEST.csv`` that no source reads are reported as not used (a
    release may ship more than the loaders need); they are not failures.
    """
    data_dir = Path(data_dir)
    manifest = read_manifest(data_dir) if verify else None
    results: list[CheckResult] = []
    sources = sources_in(data_dir)
    for source in sources.values():
        try:
            result = load_source(source, data_dir, manifest=manifest, verify=verify)
        except DataError as exc:
            results.append(CheckResult(source, None, str(exc)))
        else:
            results.append(CheckResult(source, result, "ok"))
    listed = set(manifest.index) if manifest is not None else set()
    for path in sorted(listed - {s.path for s in sources.values()}):
        results.append(
            CheckResult(_unknown(path), None, f"listed in {MANIFEST}, no loader reads it", False)
        )
    return results


def _unknown(path: str) -> Source:
    import pandera.pandas as pa

    return Source(
        key="—",
        path=path,
        title="(not used)",
        raw_schema=pa.DataFrameSchema({}),
        tidy=lambda df, ctx: df,
    )


__all__ = [
    "SOURCES",
    "CheckResult",
    "LoadResult",
    "Source",
    "check_all",
    "configure_files",
    "get_source",
    "load",
    "load_tables",
    "resolve_files",
    "sources_in",
]
