"""Cold-start cost of ``relapse score`` (process start to exit): wall time and peak RSS.

Usage (from the repository, ``RELAPSE_DATA_DIR`` set)::

    .venv/bin/python benchmarks/bench_score.py                # the real command, champions
    .venv/bin/python benchmarks/bench_score.py --standin      # stand-in boosters (no registry)
    .venv/bin/python benchmarks/bench_score.py --repeat 3 -- 'features.families=[conflict_legacy]'

Each run is a fresh subprocess; the panel cache (``relapse build``) and the MLflow store are
warmed by one untimed run first, as in the batch job after ``relapse build``. Peak memory is
``ru_maxrss`` of the children (``resource.getrusage(RUSAGE_CHILDREN)``), the largest child.
``--standin`` trains small LightGBM models on the real panel (untimed, saved in LightGBM's
text format) and runs the same CLI with the registry lookup swapped for loading those files,
for use before the champions are registered. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CHILD = """
import json, sys
from dataclasses import dataclass, field
import lightgbm as lgb
import relapse.scoring.job as s
from relapse import cli

spec = json.loads(sys.argv[1])

@dataclass
class StandIn:
    name: str
    version: str
    booster: object
    feature_names: list
    family_map: dict
    run_id: str = "standin"
    data_vintage: str = "standin"
    data_last_year: object = None
    metrics: dict = field(default_factory=dict)
    def predict_proba(self, X):
        return self.booster.predict(X[self.feature_names])

def load(cfg, h, version):
    b = lgb.Booster(model_file=spec["models"][str(h)])
    return StandIn(f"relapse-h{h}", "standin", b, b.feature_name(), spec["family_map"])

s._registered_loader = lambda: load
sys.exit(cli.main(["score", *spec["overrides"]]))
"""


def train_standins(overrides: list[str], out: Path) -> dict:
    """Train one small booster per horizon; return the spec the child process reads."""
    import lightgbm as lgb

    from relapse.build import build_panel
    from relapse.config import compose_config
    from relapse.features import family_map, feature_columns

    cfg = compose_config(overrides)
    panel = build_panel(cfg).panel
    feats = feature_columns(cfg)
    models = {}
    for h in cfg.target.horizons:
        rows = panel.loc[panel["in_population"] & panel[f"relapse_h{h}"].notna()]
        booster = lgb.train(
            {
                "objective": "binary",
                "num_leaves": 7,
                "verbose": -1,
                "seed": 1,
                "deterministic": True,
                "num_threads": 1,
            },
            lgb.Dataset(rows[feats], label=rows[f"relapse_h{h}"].astype(int)),
            60,
        )
        path = out / f"h{h}.txt"
        booster.save_model(str(path))
        models[str(h)] = str(path)
    return {"models": models, "family_map": family_map(cfg), "overrides": overrides}


def run_once(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and exit code of one subprocess."""
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    wall = time.perf_counter() - start
    if proc.returncode:
        print(f"exit {proc.returncode}: {proc.stderr.strip()[-500:]}", file=sys.stderr)
    return wall, proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--standin", action="store_true", help="use stand-in boosters")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_score_"))
    overrides = [f"paths.scores_dir={work / 'scores'}", *args.overrides]
    python = sys.executable
    if args.standin:
        spec = train_standins(overrides, work)
        cmd = [python, "-c", CHILD, json.dumps(spec)]
    else:
        relapse = str(Path(python).with_name("relapse"))
        cmd = [relapse, "score", *overrides]
    print(f"command: {' '.join(cmd[:2])} ... {' '.join(overrides)}")
    print(f"cores: {os.cpu_count()}  output: {work / 'scores'}")
    warm, code = run_once(cmd)
    print(f"warm-up run (panel cache, MLflow store): {warm:.2f} s, exit {code}")
    walls = []
    for _ in range(args.repeat):
        wall, code = run_once(cmd)
        walls.append(wall)
        print(f"run: {wall:.2f} s, exit {code}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"cold start: median {sorted(walls)[len(walls) // 2]:.2f} s, max {max(walls):.2f} s; "
        f"peak RSS {peak_mb:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
