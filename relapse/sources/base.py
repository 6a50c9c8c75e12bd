"""The machinery shared by every loader: reading, checksums, schema validation, vintage cuts.

A :class:`Source` describes one raw file: where it lives under the data directory, the raw
columns it needs, a pandera schema for those columns, and a ``tidy`` function that turns the
validated raw table into the documented, typed output. :func:`load_source` runs the steps in
order and turns every failure into one :class:`~relapse.errors.DataError` naming the file.
"""

from __future__ import annotations

import datetime
import hashlib
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

from relapse.errors import DataError

MANIFEST = "MANIFEST.csv"
LATEST_POSSIBLE_YEAR = 2100
"""Upper bound for year columns in raw schemas; :func:`load_source` also rejects years after
the current calendar year."""
COUNTRY_CODE_MAX = 99_999
"""Upper bound for numeric country-code columns (GW, COW) in raw schemas. Real codes are below
1000; the synthetic data set (:mod:`relapse.synthetic`) needs more than 1000 states for its
scaling runs and numbers them from 1000 up. A code that is not a state still fails where it is
mapped (:func:`relapse.countries.map_country_codes`)."""

EXCLUDED_NON_STATES = "excluded_non_states"
"""Load-notes key: rows excluded per unit that is not a state of the GW system (territories,
regional aggregates, unallocated aid); ``relapse data check`` lists them by source."""

NEW_EXCLUDED_UNITS = "new_excluded_units"
"""Load-notes key: the excluded units not in a loader's list of known ones (a new release's)."""

TidyFn = Callable[[pd.DataFrame, "LoadContext"], pd.DataFrame]
CutFn = Callable[[pd.DataFrame, int], pd.DataFrame]


@dataclass
class LoadContext:
    """What a ``tidy`` function may need besides its raw table."""

    data_dir: Path
    path: str
    notes: dict[str, Any] = field(default_factory=dict)
    verify: bool = True
    manifest: pd.DataFrame | None = None

    def load(self, source: Source) -> pd.DataFrame:
        """Another source this one joins, read under the same checks (checksum included).

        The joined source is read from its configured file (:func:`located`).
        """
        return load_source(source, self.data_dir, manifest=self.manifest, verify=self.verify).table


@dataclass(frozen=True)
class Source:
    """One raw dataset of the snapshot.

    Attributes
    ----------
    key
        Short name used in config (``features.source_lags``) and code.
    path
        Default file path relative to the data directory, as in ``MANIFEST.csv``;
        ``data.files.<key>`` configures another (:func:`located`).
    title
        Producer and dataset, for tables and reports.
    raw_schema
        Pandera schema of the raw columns used (others are ignored); types are coerced.
    tidy
        Turns the validated raw table into the documented output.
    year_column
        Output column holding the calendar year (None: the table is not time-indexed).
    key_columns
        Output columns that must identify rows uniquely (duplicates are an error).
    cut
        How to cut the tidy table to a data vintage; default drops rows after the year.
    read_kwargs
        Extra arguments for :func:`pandas.read_csv`.
    """

    key: str
    path: str
    title: str
    raw_schema: pa.DataFrameSchema
    tidy: TidyFn
    year_column: str | None = "year"
    key_columns: tuple[str, ...] = ()
    cut: CutFn | None = None
    read_kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class LoadResult:
    """A loaded source with what happened on the way (for ``relapse data check``)."""

    source: Source
    table: pd.DataFrame
    raw_rows: int
    raw_columns: int
    first_year: int | None
    last_year: int | None
    sha256: str
    notes: dict[str, Any]


_DIGESTS: dict[tuple[str, int, int, int], str] = {}

_FILES: dict[Path, dict[str, str]] = {}
"""Configured file per source key, per resolved data directory (see :func:`set_files`)."""


def set_files(data_dir: Path | str, files: Mapping[str, str]) -> None:
    """Record which file each source key reads in ``data_dir`` (``data.files`` of the config).

    Every load from that directory (:func:`load_source`, joins through
    :meth:`LoadContext.load`, the country crosswalks) then uses these paths; keys not given
    keep their loader's default path.
    """
    _FILES[Path(data_dir).resolve()] = {str(k): str(v) for k, v in files.items()}


def file_of(key: str, default: str, data_dir: Path | str) -> str:
    """The file source ``key`` reads in ``data_dir``: configured, else ``default``."""
    return _FILES.get(Path(data_dir).resolve(), {}).get(key, default)


def located(source: Source, data_dir: Path | str) -> Source:
    """``source`` with the path configured for ``data_dir`` (see :func:`set_files`)."""
    path = file_of(source.key, source.path, data_dir)
    return source if path == source.path else replace(source, path=path)


def sha256_of(path: Path) -> str:
    """SHA-256 hex digest of a file, read in chunks.

    Remembered per process for an unchanged file (same inode, size and modification time), so
    the data vintage and the checksum check of one command read each file once.
    """
    stat = path.stat()
    key = (str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        _DIGESTS[key] = digest.hexdigest()
    return _DIGESTS[key]


def read_csv_file(path: Path, label: str, **kwargs: Any) -> pd.DataFrame:
    """:func:`pandas.read_csv`, with an unreadable or malformed file a :class:`DataError`
    whose message starts with ``label`` (every CSV of the data directory is read here)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            return pd.read_csv(path, low_memory=False, **kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{label}: malformed CSV ({_one_line(exc)})") from exc
    except (ValueError, TypeError) as exc:  # e.g. a value that does not fit a given dtype
        raise DataError(f"{label}: malformed CSV ({_one_line(exc)})") from exc
    except OSError as exc:
        raise DataError(f"{label}: cannot be read ({exc.strerror or _one_line(exc)})") from exc


def read_manifest(data_dir: Path) -> pd.DataFrame:
    """The data directory's ``MANIFEST.csv`` indexed by file path, validated.

    Raises
    ------
    DataError
        Missing, unreadable or malformed: missing columns, a file listed twice or blank, a
        SHA-256 that is not 64 hex digits, a row count that is not a non-negative integer.
    """
    path = data_dir / MANIFEST
    if not data_dir.is_dir():
        raise DataError(f"data directory {data_dir} does not exist (set RELAPSE_DATA_DIR)")
    if not path.is_file():
        raise DataError(
            f"{MANIFEST}: not found in {data_dir} (a new release: check it with "
            "`relapse data check data.verify_checksums=false`, then write one with "
            "`relapse data manifest`)"
        )
    manifest = read_csv_file(path, MANIFEST, dtype=str, keep_default_na=False)
    manifest.columns = [str(c).strip() for c in manifest.columns]
    missing = {"file", "sha256", "rows"} - set(manifest.columns)
    if missing:
        raise DataError(f"{MANIFEST}: missing column(s) {sorted(missing)}")
    files = manifest["file"].str.strip()
    problems = [
        ("a blank file name", files == ""),
        ("a file listed twice", files.duplicated(keep=False)),
        (
            "a SHA-256 that is not 64 hex digits",
            ~manifest["sha256"].str.strip().str.fullmatch("[0-9a-fA-F]{64}"),
        ),
        (
            "a row count that is not a non-negative integer",
            ~manifest["rows"].str.strip().str.fullmatch("[0-9]+"),
        ),
    ]
    for what, bad in problems:
        if bad.any():
            raise DataError(
                f"{MANIFEST}: {int(bad.sum())} line(s) with {what}, e.g. line "
                f"{int(bad.to_numpy().nonzero()[0][0]) + 2}"
            )
    manifest["file"] = files
    manifest["sha256"] = manifest["sha256"].str.strip().str.lower()
    manifest["rows"] = manifest["rows"].astype("int64")
    return manifest.set_index("file")


def load_source(
    source: Source,
    data_dir: Path | str,
    *,
    manifest: pd.DataFrame | None = None,
    verify: bool = True,
    vintage_year: int | None = None,
) -> LoadResult:
    """Read, verify, validate and tidy one source.

    Parameters
    ----------
    source
        The source description.
    data_dir
        The raw data directory.
    manifest
        The parsed ``MANIFEST.csv`` (read from ``data_dir`` when None and ``verify``).
    verify
        Check the SHA-256 and row count against the manifest.
    vintage_year
        Cut the tidy table as if the data had been released at the end of this year.

    Raises
    ------
    DataError
        With the file's path and the problem: missing, checksum mismatch, truncated,
        malformed, missing column, wrong type, duplicate keys, future years, unmapped codes.
    """
    data_dir = Path(data_dir)
    source = located(source, data_dir)
    path = data_dir / source.path
    if not path.is_file():
        raise DataError(f"{source.path}: file not found in {data_dir}")
    digest = sha256_of(path)
    expected_rows: int | None = None
    if verify:
        if manifest is None:
            manifest = read_manifest(data_dir)
        if source.path not in manifest.index:
            raise DataError(f"{source.path}: not listed in {MANIFEST}")
        entry = manifest.loc[source.path]
        expected_rows = int(entry["rows"])
        if digest != str(entry["sha256"]).strip().lower():
            raise DataError(
                f"{source.path}: SHA-256 {digest[:12]}… does not match {MANIFEST} "
                f"({str(entry['sha256'])[:12]}…): the file was altered or is from another vintage"
            )
    # utf-8-sig: a byte-order mark some tools write must not stick to the first header.
    kwargs = {"encoding": "utf-8-sig", **dict(source.read_kwargs)}
    raw = read_csv_file(path, source.path, **kwargs)
    if expected_rows is not None and len(raw) != expected_rows:
        raise DataError(
            f"{source.path}: {len(raw)} rows but {MANIFEST} lists {expected_rows} (truncated?)"
        )
    raw.columns = [str(c).strip() for c in raw.columns]
    raw_columns = raw.shape[1]
    missing = [c for c in source.raw_schema.columns if c not in raw.columns]
    if missing:
        raise DataError(f"{source.path}: missing column(s) {missing}")
    raw = validate(raw[list(source.raw_schema.columns)], source.raw_schema, source.path)
    context = LoadContext(data_dir=data_dir, path=source.path, verify=verify, manifest=manifest)
    table = source.tidy(raw, context)
    check_keys(table, source)
    first, last = year_range(table, source)
    this_year = datetime.date.today().year
    if last is not None and last > this_year:
        raise DataError(f"{source.path}: year {last} is in the future (today is {this_year})")
    if vintage_year is not None:
        table = cut_to_vintage(table, source, vintage_year)
        first, last = year_range(table, source)
    return LoadResult(
        source=source,
        table=table.reset_index(drop=True),
        raw_rows=len(raw),
        raw_columns=raw_columns,
        first_year=first,
        last_year=last,
        sha256=digest,
        notes=context.notes,
    )


def validate(df: pd.DataFrame, schema: pa.DataFrameSchema, path: str) -> pd.DataFrame:
    """Validate (and coerce) with pandera; one readable :class:`DataError` on failure."""
    try:
        return schema.validate(df, lazy=True)
    except SchemaErrors as exc:
        raise DataError(f"{path}: {summarise_schema_errors(exc)}") from exc
    except SchemaError as exc:
        raise DataError(f"{path}: {_one_line(exc)}") from exc


def summarise_schema_errors(exc: SchemaErrors) -> str:
    """One line per failing column and check, with a few example values."""
    cases = exc.failure_cases
    lines = []
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=True):
        examples = ", ".join(repr(v) for v in group["failure_case"].astype(str).unique()[:3])
        where = f"column {column!r}" if pd.notna(column) else "table"
        lines.append(f"{where} fails {check} ({len(group)} value(s), e.g. {examples})")
    return "; ".join(lines)


def check_keys(table: pd.DataFrame, source: Source) -> None:
    """Raise :class:`DataError` when the key columns do not identify rows uniquely."""
    if not source.key_columns:
        return
    dup = table.duplicated(list(source.key_columns), keep=False)
    if dup.any():
        example = table.loc[dup, list(source.key_columns)].head(3).to_dict("records")
        raise DataError(
            f"{source.path}: {int(dup.sum())} rows share a key {list(source.key_columns)}, "
            f"e.g. {example}"
        )


def year_range(table: pd.DataFrame, source: Source) -> tuple[int | None, int | None]:
    """First and last year of a tidy table (None when not time-indexed or empty)."""
    if source.year_column is None or table.empty:
        return None, None
    years = table[source.year_column].dropna()
    if years.empty:
        return None, None
    return int(years.min()), int(years.max())


def cut_to_vintage(table: pd.DataFrame, source: Source, year: int) -> pd.DataFrame:
    """The table as it would have been released at the end of ``year``."""
    if source.cut is not None:
        return source.cut(table, year)
    if source.year_column is None:
        return table
    return table.loc[table[source.year_column] <= year].copy()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().replace("\n", " ")
    return text[:300] if text else type(exc).__name__
