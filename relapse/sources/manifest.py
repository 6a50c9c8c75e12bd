"""``MANIFEST.csv`` for a data release: written only from files that pass their schemas.

A release as users receive it has no manifest (or the previous one). :func:`write_manifest`
loads every configured source without the checksum check, refuses the whole manifest when
any file fails (naming each), and otherwise writes one row per file (SHA-256, rows, columns,
year range of the tidy table), atomically, reporting what changed against the old manifest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from relapse.errors import DataError
from relapse.sources.base import MANIFEST

COLUMNS: tuple[str, ...] = ("file", "sha256", "rows", "columns", "first_year", "last_year")
"""The columns :func:`write_manifest` writes (those of the snapshot's own manifest)."""


@dataclass
class ManifestResult:
    """What ``relapse data manifest`` did: the table, the changes, and whether it wrote."""

    path: Path
    table: pd.DataFrame
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    written: bool = False
    previous_exists: bool = False

    @property
    def unchanged(self) -> bool:
        """The old manifest lists the same files with the same contents."""
        return self.previous_exists and not (self.added or self.removed or self.changed)


def manifest_table(data_dir: Path | str) -> pd.DataFrame:
    """One manifest row per configured source file, after validating each file.

    Raises
    ------
    DataError
        Listing every file that fails (missing, malformed, schema, unmapped units...).
    """
    from relapse.sources import check_all

    checks = check_all(data_dir, verify=False)
    failures = [c.message for c in checks if c.failed]
    if failures:
        raise DataError(
            f"{MANIFEST} not written: {len(failures)} file(s) failed validation:\n  - "
            + "\n  - ".join(failures)
        )
    rows = [
        {
            "file": c.source.path,
            "sha256": c.result.sha256,
            "rows": c.result.raw_rows,
            "columns": c.result.raw_columns,
            "first_year": c.result.first_year,
            "last_year": c.result.last_year,
        }
        for c in checks
        if c.result is not None
    ]
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    return table.astype({"first_year": "Int64", "last_year": "Int64"})


def compare(old: pd.DataFrame | None, new: pd.DataFrame) -> tuple[list[str], list[str], list[str]]:
    """Files added, removed and changed (another SHA-256) from ``old`` to ``new``."""
    if old is None:
        return sorted(new["file"]), [], []
    before = dict(zip(old["file"].astype(str), old["sha256"].astype(str).str.lower(), strict=True))
    after = dict(zip(new["file"], new["sha256"], strict=True))
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(f for f in set(after) & set(before) if after[f] != before[f])
    return added, removed, changed


def write_manifest(data_dir: Path | str, *, force: bool = False) -> ManifestResult:
    """Validate the configured files of ``data_dir`` and write its ``MANIFEST.csv``.

    Parameters
    ----------
    data_dir
        The release's directory (its files as configured by ``data.files``).
    force
        Replace an existing manifest that differs from the new one.

    Returns
    -------
    ManifestResult
        ``written`` is False only when the existing manifest already matches.

    Raises
    ------
    DataError
        When a file fails validation, or a different manifest exists and ``force`` is False;
        nothing is written then.
    OutputError
        When the manifest cannot be written (read-only directory, full disk).
    """
    from relapse.report.render import write_report

    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"data directory {data_dir} does not exist (set paths.data_dir)")
    table = manifest_table(data_dir)
    path = data_dir / MANIFEST
    try:
        old = _read_old(path)
    except DataError:
        if not force:
            raise
        old = None
    added, removed, changed = compare(old, table)
    result = ManifestResult(path, table, added, removed, changed, previous_exists=old is not None)
    if result.unchanged:
        return result
    if old is not None and not force:
        raise DataError(
            f"{path}: a manifest exists and differs ({describe(result)}); nothing written. "
            "Rerun with --force to replace it"
        )
    write_report(path, table.to_csv(index=False))
    result.written = True
    return result


def describe(result: ManifestResult) -> str:
    """The changes in one line: ``2 added (a, b); 1 changed (c)``."""
    parts = [
        f"{len(files)} {what} ({', '.join(files)})"
        for what, files in (
            ("added", result.added),
            ("removed", result.removed),
            ("changed", result.changed),
        )
        if files
    ]
    return "; ".join(parts) if parts else "no change"


def _read_old(path: Path) -> pd.DataFrame | None:
    """The existing manifest, or None; an unreadable one is an error (kept unless forced)."""
    if not path.is_file():
        return None
    try:
        old = pd.read_csv(path, dtype={"file": "string", "sha256": "string"})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: the existing manifest is not a readable CSV ({exc})") from exc
    missing = {"file", "sha256"} - set(old.columns)
    if missing:
        raise DataError(f"{path}: the existing manifest lacks column(s) {sorted(missing)}")
    return old
