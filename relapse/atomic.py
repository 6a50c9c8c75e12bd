"""Atomic output: a reader sees the previous file (or folder) or the new one, never half.

Every writer of the package (the panel cache, the report, the scores, the simulator) goes
through these helpers. A file is written to a hidden temporary sibling in the same folder,
flushed and fsynced, then moved over the target with one :func:`os.replace`; on any failure
the temporary is removed and an :class:`OSError` becomes
:class:`~relapse.errors.OutputError` naming the target, so the message can promise that the
previous output is untouched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from relapse.errors import writing

FILE_MODE = 0o644


def fsync(path: str | os.PathLike[str]) -> None:
    """Flush ``path`` (a file or a folder's entries) to disk."""
    flags = os.O_RDONLY | (os.O_DIRECTORY if Path(path).is_dir() else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_with(path: str | os.PathLike[str], writer: Callable[[Path], object]) -> Path:
    """Write ``path`` atomically by calling ``writer(temporary_path)``.

    For writers that want a path (``DataFrame.to_parquet``, ``savefig``). The temporary file
    is a hidden sibling of ``path``; it is fsynced, given mode 644 and renamed over ``path``.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    OutputError
        On any :class:`OSError` (disk full, no permission, a folder in the way), naming
        ``path``; the previous file, if any, is unchanged.
    """
    target = Path(path)
    with writing(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        os.close(fd)
        tmp = Path(name)
        try:
            writer(tmp)
            fsync(tmp)
            os.chmod(tmp, FILE_MODE)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return target


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`write_with`)."""
    return write_with(path, lambda tmp: tmp.write_bytes(data))


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically (see :func:`write_with`)."""
    return write_bytes(path, text.encode("utf-8"))


@contextmanager
def staged_directory(target: str | os.PathLike[str]) -> Iterator[Path]:
    """A new hidden folder next to ``target`` to fill, removed again unless moved.

    The caller fills it (fsyncing what it writes) and moves it into place inside the block,
    with ``os.replace`` of the folder or of a link pointing at it. Whatever is still at the
    temporary path when the block ends, because it failed or chose not to move it, is removed.

    Raises
    ------
    OutputError
        If the folder cannot be created (no permission, read-only file system).
    """
    final = Path(target)
    with writing(final):
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp"))
    try:
        yield tmp
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
