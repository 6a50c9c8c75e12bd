"""Scoring with stand-in models: configs under a temporary folder, a run, file hashes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relapse.config import compose_config
from relapse.scoring.job import score

FAMILIES = "features.families=[conflict_legacy]"


@dataclass
class StandInModel:
    """The slice of :class:`relapse.forecast.Forecast` that scoring uses."""

    name: str
    version: str
    booster: Any
    feature_names: list[str]
    family_map: dict[str, str]
    run_id: str = "test-run"
    data_vintage: str = "test"
    calibration: Any = None
    metrics: dict[str, float] = field(default_factory=dict)
    data_last_year: int | None = None

    def raw_score(self, X: pd.DataFrame) -> np.ndarray:
        return self.booster.predict(X[self.feature_names], raw_score=True)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.booster.predict(X[self.feature_names])

    def contributions(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        from relapse.explain import BoosterModel

        return BoosterModel(self.booster).contributions(X)

    def baseline_proba(self, X: pd.DataFrame) -> np.ndarray:
        """A stand-in baseline: the probability halved (only its plumbing is tested here)."""
        return self.predict_proba(X) / 2


def make_cfg(tmp: Path, processed: Path, *extra: str) -> Any:
    """The score config with conflict-legacy features, outputs and MLflow under ``tmp``."""
    return compose_config(
        [
            FAMILIES,
            f"paths.scores_dir={tmp / 'scores'}",
            f"paths.processed_dir={processed}",
            f"mlflow.tracking_uri=sqlite:///{tmp / 'mlflow.db'}",
            f"mlflow.artifact_root={tmp / 'mlartifacts'}",
            *extra,
        ],
    )


class Calls:
    """A run logger that records instead of talking to MLflow."""

    def __init__(self) -> None:
        self.results: list[Any] = []

    def __call__(self, cfg: Any, result: Any) -> None:
        self.results.append(result)


def run(tmp: Path, processed: Path, models: dict, *extra: str, **kw: Any) -> Any:
    """Score with the stand-in ``models`` and a recording run logger."""
    cfg = make_cfg(tmp, processed, *extra)
    return score(cfg, load_model=lambda c, h, v: models[h], log_run=kw.get("log_run", Calls()))


def file_hashes(out_dir: Path) -> dict[str, str]:
    """File name → SHA-256 of every file in ``out_dir``."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out_dir.iterdir())}


def train_stand_in_models(processed_dir: Path, tmp_path_factory: Any) -> dict[int, StandInModel]:
    """One LightGBM booster per horizon on the snapshot's conflict-legacy panel."""
    import lightgbm as lgb

    from relapse.build import build_panel
    from relapse.features import family_map, feature_columns

    cfg = make_cfg(tmp_path_factory.mktemp("train"), processed_dir)
    panel = build_panel(cfg).panel
    feats = feature_columns(cfg)
    out = {}
    for h in cfg.target.horizons:
        rows = panel.loc[panel["in_population"] & panel[f"relapse_h{h}"].notna()]
        data = lgb.Dataset(rows[feats], label=rows[f"relapse_h{h}"].astype(int))
        booster = lgb.train(
            {
                "objective": "binary",
                "num_leaves": 7,
                "learning_rate": 0.05,
                "min_data_in_leaf": 20,
                "verbose": -1,
                "seed": 1,
                "deterministic": True,
                "num_threads": 1,
            },
            data,
            60,
        )
        out[int(h)] = StandInModel(f"relapse-h{h}", "3", booster, feats, family_map(cfg))
    return out
