"""The output folder ``${paths.scores_dir}/as_of=<year>/``, switched atomically.

The four files of a run (:data:`FILES`) are written and fsynced into a new hidden folder
(:func:`relapse.atomic.staged_directory`) that is renamed to ``.as_of=<year>.<content
hash>``; ``as_of=<year>`` is a symlink switched to it with one ``os.replace``. A run killed at
any point leaves the previous outputs complete, and the same files give the same folder name.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from relapse import atomic
from relapse.errors import writing
from relapse.scoring.brief import escape_csv_injection, render_brief_html, render_brief_md
from relapse.scoring.table import PROBABILITY_DECIMALS

if TYPE_CHECKING:
    from relapse.scoring.job import ScoreResult

FILES: tuple[str, ...] = ("scores.parquet", "scores.csv", "brief.md", "brief.html")


def render_files(result: ScoreResult) -> dict[str, bytes]:
    """The bytes of every output file (deterministic: no timestamps, fixed formatting)."""
    table = result.table
    buf = io.BytesIO()
    table.to_parquet(buf, index=False, engine="pyarrow", compression="snappy")
    csv = escape_csv_injection(table).to_csv(
        index=False, float_format=f"%.{PROBABILITY_DECIMALS}f", lineterminator="\n"
    )
    return {
        "scores.parquet": buf.getvalue(),
        "scores.csv": csv.encode("utf-8"),
        "brief.md": render_brief_md(result).encode("utf-8"),
        "brief.html": render_brief_html(result).encode("utf-8"),
    }


def _write_file(path: Path, data: bytes) -> None:
    """Write and fsync one file of the staged folder."""
    path.write_bytes(data)
    atomic.fsync(path)


def write_outputs(files: Mapping[str, bytes], scores_dir: Path, as_of: int) -> Path:
    """Write a run's files into a fresh directory, then switch ``as_of=<year>`` to it.

    ``as_of=<year>`` is a symlink to ``.as_of=<year>.<hash of the files>``; the switch is one
    ``os.replace`` of the link, so readers see the old set of files or the new one, never a
    mix. Call with the lock held. Returns the ``as_of=<year>`` path. An :class:`OSError`
    (disk full) becomes :class:`~relapse.errors.OutputError` naming the file; the previous
    outputs stay in place and the temporary directory is removed.
    """
    scores_dir = Path(scores_dir)
    final = scores_dir / f"as_of={as_of}"
    with writing(final):
        _switch_outputs(files, scores_dir, final, as_of)
    return final


def _switch_outputs(files: Mapping[str, bytes], scores_dir: Path, final: Path, as_of: int) -> None:
    """The body of :func:`write_outputs`.

    A directory of the run's name that does not hold exactly ``files`` (a file edited in
    place, deleted or added) is rebuilt: the link first points at a fresh complete copy, the
    damaged directory is replaced, then the link points back at the run's name.
    """
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    target_name = f".as_of={as_of}.{digest.hexdigest()[:16]}"
    target = scores_dir / target_name
    if not _holds_exactly(target, files):
        with atomic.staged_directory(final) as tmp:
            _fill(tmp, files, final)
            if target.exists() or target.is_symlink():
                _point(final, tmp.name, scores_dir, as_of)
                _remove(target)
            os.rename(tmp, target)
    _point(final, target_name, scores_dir, as_of)
    for stale in scores_dir.glob(f".as_of={as_of}.*"):
        if stale.name != target_name and not stale.name.endswith(".previous-dir"):
            _remove(stale)


def _holds_exactly(directory: Path, files: Mapping[str, bytes]) -> bool:
    """Whether ``directory`` is a real directory with exactly ``files``, byte for byte."""
    if directory.is_symlink() or not directory.is_dir():
        return False
    present = sorted(p.name for p in directory.iterdir())
    if present != sorted(files):
        return False
    return all(
        (directory / n).is_file()
        and not (directory / n).is_symlink()
        and (directory / n).read_bytes() == files[n]
        for n in files
    )


def _fill(tmp: Path, files: Mapping[str, bytes], final: Path) -> None:
    """Write ``files`` into the staged folder ``tmp`` and fsync it; errors name ``final``'s file."""
    for name in sorted(files):
        with writing(final / name):
            _write_file(tmp / name, files[name])
    atomic.fsync(tmp)


def _point(final: Path, target_name: str, scores_dir: Path, as_of: int) -> None:
    """Switch the ``as_of=<year>`` link to ``target_name`` with one ``os.replace``."""
    if final.is_symlink() and os.readlink(final) == target_name:
        return
    if final.exists() and not final.is_symlink():
        # A plain directory left by hand or an older version: keep it aside, never delete.
        os.rename(final, scores_dir / f".as_of={as_of}.previous-dir")
    link = scores_dir / f".as_of={as_of}.link-{os.getpid()}"
    link.unlink(missing_ok=True)
    os.symlink(target_name, link)
    os.replace(link, final)
    atomic.fsync(scores_dir)


def _remove(path: Path) -> None:
    """Remove a file, link or directory tree."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
