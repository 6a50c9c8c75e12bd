"""Shared fixtures: the real snapshot directory, temporary altered copies, stand-in models.

Helpers that are not fixtures (altering a copied file, overrides, stand-ins) live in
``tests/helpers/`` and are imported from there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from helpers.data import snapshot_dir

if TYPE_CHECKING:
    import pandas as pd
    from helpers.scoring import StandInModel


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

    Tests that alter a file must first call :func:`helpers.data.materialise` on it, which
    replaces the symlink with a real copy, so the shared originals are never touched.
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


@pytest.fixture(scope="session")
def processed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The processed-data folder (the cached conflict-legacy panel) of the scoring tests.

    One per session: the tests read the cached panel and never alter it (a test that builds
    another configuration there only makes the next one rebuild it, with the same content)."""
    return tmp_path_factory.mktemp("processed")


@pytest.fixture(scope="session")
def models(
    processed_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[int, StandInModel]:
    """Stand-in models per horizon, trained once per session on the snapshot (conflict
    legacy) for the scoring and fault tests, which only read them."""
    from helpers.scoring import train_stand_in_models

    return train_stand_in_models(processed_dir, tmp_path_factory)


@pytest.fixture(scope="session")
def synthetic_frame() -> pd.DataFrame:
    """The seeded synthetic panel of :mod:`helpers.synthetic_explain` (read only)."""
    from helpers import synthetic_explain as syn

    return syn.panel()


@pytest.fixture(scope="session")
def synthetic_boosters(synthetic_frame: pd.DataFrame) -> dict:
    """Boosters per horizon (80 rounds) on ``synthetic_frame``, trained once for the report
    tests, which only read them."""
    from helpers import synthetic_explain as syn

    return {h: syn.train(synthetic_frame, h, rounds=80) for h in syn.HORIZONS}


@pytest.fixture(scope="session")
def synthetic_backtest(synthetic_frame: pd.DataFrame, synthetic_boosters: dict) -> pd.DataFrame:
    """Stand-in back-test predictions of ``synthetic_boosters`` (read only)."""
    from helpers import synthetic_explain as syn

    return syn.backtest(synthetic_frame, synthetic_boosters)
