"""Fast real training runs: overrides under a temporary folder and a free local port."""

from __future__ import annotations

import socket
from pathlib import Path

from helpers.faults import tmp_overrides


def fast_overrides(tmp: Path, data_dir: Path) -> list[str]:
    """Small but real: two horizons, origins from 2008, few rounds and resamples.

    From 2008 the model matches the history baseline at both horizons, so it may be promoted
    (from 2010, with six origins, it is worse at one year, and the promotion rule holds it
    back: see :func:`test_a_candidate_worse_than_the_baseline_is_held_back`)."""
    return [
        "features.families=[conflict_legacy]",
        "target.horizons=[1,5]",
        "split.first_origin=2008",
        "split.bootstrap_samples=30",
        "model.num_boost_round=100",
        "model.early_stopping_rounds=20",
        f"paths.data_dir={data_dir}",
        *tmp_overrides(tmp),
    ]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
