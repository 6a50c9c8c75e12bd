"""Writing the synthetic data set: CSV files, ``MANIFEST.csv`` and the marker, atomically.

:func:`write_dataset` writes the simulated tables into a folder; :func:`ensure_dataset` does
so once, into a folder staged beside ``paths.data_dir`` (:func:`relapse.atomic.staged_directory`)
and renamed into place, the first time a command reads the configured data directory.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relapse.atomic import fsync, staged_directory
from relapse.errors import DataError, writing
from relapse.sources import SOURCES, Source, resolve_files
from relapse.synthetic.tables import simulate
from relapse.synthetic.world import EFFECTS, NOISE_FAMILY

GENERATOR_VERSION = 2
"""Bumped whenever the generated files change for the same seed and sizes."""

MARKER = "SYNTHETIC.json"
"""Written beside ``MANIFEST.csv``: the parameters and planted effects of the data set."""


def to_csv_bytes(table: pd.DataFrame) -> bytes:
    """CSV bytes of a table (pyarrow's writer: fast, deterministic; missing values empty)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    columns = {}
    for name in table.columns:
        s = table[name]
        if s.dtype == object:
            values = s.to_numpy()
            mask = pd.isna(values)
            columns[str(name)] = pa.array(
                np.where(mask, "", values.astype(str)), type=pa.string(), mask=mask
            )
        else:
            columns[str(name)] = pa.array(s.to_numpy(), from_pandas=True)
    sink = io.BytesIO()
    options = pcsv.WriteOptions(include_header=True, quoting_style="needed")
    pcsv.write_csv(pa.table(columns), sink, write_options=options)
    return sink.getvalue()


def write_dataset(cfg: Any, directory: Path | str) -> Path:
    """Simulate and write every raw file under ``directory``, with ``MANIFEST.csv``.

    Every file is fsynced, so a folder that is then renamed into place is complete on disk.

    Returns
    -------
    Path
        ``directory``.
    """
    directory = Path(directory)
    files = resolve_files(cfg.data.get("files", {}))
    year_columns = {files[k]: _raw_year_column(s) for k, s in SOURCES.items()}
    manifest = []
    for path, table in simulate(cfg).items():
        data = to_csv_bytes(table)
        _write(directory / path, data)
        manifest.append(_manifest_row(path, data, table, year_columns[path]))
    frame = pd.DataFrame(manifest).astype({"first_year": "Int64", "last_year": "Int64"})
    _write(directory / "MANIFEST.csv", frame.to_csv(index=False).encode())
    marker = json.dumps(_marker(cfg), indent=2, sort_keys=True) + "\n"
    _write(directory / MARKER, marker.encode())
    for folder in {directory, *(p.parent for p in directory.rglob("*") if p.is_file())}:
        fsync(folder)
    return directory


def _write(path: Path, data: bytes) -> None:
    """Write and fsync one file of the data set (its folder is created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    fsync(path)


def _manifest_row(path: str, data: bytes, table: pd.DataFrame, year_col: str | None) -> dict:
    """The ``MANIFEST.csv`` row of one written file."""
    years = pd.to_numeric(table[year_col], errors="coerce").dropna() if year_col else None
    return {
        "file": path,
        "sha256": hashlib.sha256(data).hexdigest(),
        "rows": len(table),
        "columns": table.shape[1],
        "first_year": int(years.min()) if years is not None and len(years) else None,
        "last_year": int(years.max()) if years is not None and len(years) else None,
        "vintage_cut": "synthetic",
    }


def _raw_year_column(source: Source) -> str | None:
    """The raw column whose range the manifest records as the file's years, if any."""
    for name in ("year", "Year", "STARTYR"):
        if name in source.raw_schema.columns:
            return name
    return None


def _marker(cfg: Any) -> dict[str, Any]:
    """The marker's content: generator version, sizes, seed and planted effects."""
    return {
        "generator_version": GENERATOR_VERSION,
        "seed": int(cfg.seed),
        "n_units": int(cfg.data.n_units),
        "n_years": int(cfg.data.n_years),
        "first_year": int(cfg.data.first_year),
        "planted_effects_log_odds": asdict(EFFECTS),
        "noise_family": NOISE_FAMILY,
    }


def is_complete(directory: Path, cfg: Any) -> bool:
    """Whether ``directory`` holds this config's data set (marker, manifest and every file)."""
    marker = directory / MARKER
    if not marker.is_file() or not (directory / "MANIFEST.csv").is_file():
        return False
    try:
        if json.loads(marker.read_text()) != json.loads(json.dumps(_marker(cfg))):
            return False
    except ValueError:
        return False
    files = resolve_files(cfg.data.get("files", {}))
    return all((directory / path).is_file() for path in files.values())


def ensure_dataset(cfg: Any) -> Path:
    """Generate the synthetic data set in ``paths.data_dir`` unless it is already there.

    Written into a staged sibling folder and renamed into place, so a reader (or a concurrent
    run) sees a complete data set or none. An existing directory is replaced only if it is an
    incomplete or outdated synthetic data set (it has the marker file or is empty).

    Raises
    ------
    DataError
        If ``paths.data_dir`` exists, is not a synthetic data set, and is not empty.
    OutputError
        If the data set cannot be written (no permission, disk full); nothing is replaced.
    """
    target = Path(cfg.paths.data_dir)
    if is_complete(target, cfg):
        return target
    if target.exists() and any(target.iterdir()) and not (target / MARKER).is_file():
        raise DataError(
            f"{target} exists and is not a synthetic data set: refusing to overwrite it "
            "(data=synthetic writes to paths.data_dir; point it at a new directory)"
        )
    with staged_directory(target) as staged, writing(target):
        write_dataset(cfg, staged)
        _move_into_place(staged, target, cfg)
    return target


def _move_into_place(staged: Path, target: Path, cfg: Any) -> None:
    """Replace ``target`` (absent or an outdated data set) with ``staged``, unless another
    process has meanwhile put a complete data set there."""
    if target.exists():
        if is_complete(target, cfg):  # another process finished first
            return
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
        shutil.rmtree(old, ignore_errors=True)
    try:
        os.replace(staged, target)
    except OSError:
        if not is_complete(target, cfg):
            raise
