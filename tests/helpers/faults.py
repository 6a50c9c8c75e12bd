"""Faults and fast runs for the end-to-end fault tests: overrides, hashes, a full disk and a
tracking server that never answers."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import socket
import threading
from pathlib import Path
from typing import Any

FAST = [
    "features.families=[conflict_legacy]",
    "target.horizons=[1]",
    "split.first_origin=2012",
    "split.bootstrap_samples=30",
    "model.num_boost_round=60",
    "model.params.num_threads=1",
    "report.on_train=false",
]
"""Small but real training: conflict-legacy features, one horizon, origins from 2012."""


def tmp_overrides(tmp: Path) -> list[str]:
    """Every output and the MLflow store under ``tmp``."""
    return [
        f"paths.processed_dir={tmp / 'processed'}",
        f"paths.scores_dir={tmp / 'scores'}",
        f"paths.reports_dir={tmp / 'reports'}",
        f"paths.output_dir={tmp / 'outputs'}",
        f"mlflow.embedded_store={tmp / 'mlflow.db'}",
        f"mlflow.artifact_root={tmp / 'mlartifacts'}",
    ]


def tree_hashes(root: Path) -> dict[str, str]:
    """Relative path → SHA-256 of every file under ``root`` (symlinks followed)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


class FullDiskOS:
    """Stands in for the ``os`` module of one writer: data reach the temporary file, then
    ``fsync``/``replace`` fail with ENOSPC, as a full disk does for buffered writes."""

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    @staticmethod
    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    @staticmethod
    def replace(src: Any, dst: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts, reads the request and never answers.

    Connections are held open until :meth:`close`, so the client sees a read timeout; the
    accept loop polls a stop flag, so the thread always ends.
    """

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.connections = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            conn.settimeout(0.5)
            with contextlib.suppress(OSError):
                conn.recv(65536)
            self._held.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._held:
            conn.close()
        self.sock.close()
