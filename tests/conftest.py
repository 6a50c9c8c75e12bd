"""Shared fixtures: the real snapshot directory, temporary altered copies, composed configs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def snapshot_dir() -> Path:
    """The raw data snapshot: $RELAPSE_DATA_DIR, else ../shared/data beside the repository."""
    env = os.environ.get("RELAPSE_DATA_DIR")
    return (Path(env) if env else REPO.parent / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real snapshot. Missing snapshot is an error, not a skip: CI must test real data."""
    path = snapshot_dir()
    if not (path / "MANIFEST.csv").is_file():
        pytest.fail(f"data snapshot not found at {path}: set RELAPSE_DATA_DIR")
    return path


@pytest.fixture
def data_copy(tmp_path: Path, data_dir: Path) -> Path:
    """A writable copy of the snapshot (symlinks to the read-only originals, plus MANIFEST).

    Tests that alter a file must first call :func:`materialise` on it, which replaces the
    symlink with a real copy, so the shared originals are never touched.
    """
    root = tmp_path / "data"
    for src in data_dir.rglob("*"):
        dst = root / src.relative_to(data_dir)
        if src.is_dir():
            dst.mkdir(parents=True, exist_ok=True)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.symlink_to(src)
    return root


def materialise(path: Path) -> Path:
    """Replace a symlink made by ``data_copy`` with a writable copy of its target."""
    if path.is_symlink():
        target = path.resolve()
        path.unlink()
        shutil.copyfile(target, path)
        path.chmod(0o644)
    return path


@pytest.fixture(autouse=True)
def _outside_the_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test from a temporary directory, with no tracking server from the shell.

    Relative default paths (``data/processed``, ``mlflow.db``, ``reports/``) then land in the
    test's own folder, so no test can write into the repository or a user's real MLflow store.
    """
    if os.environ.get("RELAPSE_DATA_DIR"):  # a relative path must survive the chdir
        monkeypatch.setenv("RELAPSE_DATA_DIR", str(Path(os.environ["RELAPSE_DATA_DIR"]).resolve()))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def builder_args(inputs: dict) -> tuple:
    """A test's inputs (source tables plus ``spine``) as a builder's ``grid, tables``."""
    from relapse.features.align import Grid

    tables = {key: table for key, table in inputs.items() if key != "spine"}
    return Grid(spine=inputs["spine"]), tables


def family_inputs(sources: tuple[str, ...], data_dir: Path, last_year: int = 2018) -> dict:
    """A family builder's inputs from the snapshot: its sources plus the GW spine (the builder
    gets them through :func:`builder_args`)."""
    from relapse.panel import build_spine
    from relapse.sources import load, load_tables

    tables = load_tables(sources, data_dir)
    tables["spine"] = build_spine(
        load("gw_states", data_dir), 1946, last_year, load("country_codes", data_dir)
    )
    return tables
