"""Time the explanations and the report on the real panel (prints timings; never asserts).

    RELAPSE_DATA_DIR=/path/to/snapshot .venv/bin/python benchmarks/bench_explain_report.py \\
        'features.families=[conflict_legacy]'

Trains one quick LightGBM booster per horizon on the post-conflict rows (no MLflow), then
times: TreeSHAP on every post-conflict row for every horizon, the family / global / change
tables, and a full report (context + render + write). Also times SHAP on a synthetic matrix
of 4,000 rows × 100 features (the size the full feature set will reach). Targets: explaining
every population row < 5 s; a full report < 20 s.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def clock(label: str, func, *args, **kwargs):
    start = time.perf_counter()
    out = func(*args, **kwargs)
    print(f"{label:<55s} {time.perf_counter() - start:7.2f} s", flush=True)
    return out


def main(overrides: list[str]) -> None:
    import lightgbm as lgb

    from relapse import explain
    from relapse.build import build_panel
    from relapse.config import compose_config
    from relapse.features import family_map, feature_columns, registry_table
    from relapse.report import build_context, render_report, write_report

    tmp = Path(tempfile.mkdtemp(prefix="bench-relapse-"))
    cfg = compose_config([f"paths.processed_dir={tmp}", *overrides])
    panel = clock("build panel", lambda: build_panel(cfg).panel)
    names = feature_columns(cfg)
    fmap = family_map(cfg)
    pop = panel.loc[panel["in_population"]]
    params = {**dict(cfg.model.params)}
    models = {}
    for h in cfg.target.horizons:
        rows = pop.loc[pop[f"relapse_h{h}"].notna()]
        models[h] = lgb.train(
            params, lgb.Dataset(rows[names], rows[f"relapse_h{h}"].astype(int)), 200
        )
    print(
        f"panel: {len(panel):,} rows, {len(pop):,} post-conflict, {len(names)} features, "
        f"horizons {list(models)}"
    )

    shap_long, fam = clock(
        f"explain {len(pop):,} rows × {len(models)} horizons (TreeSHAP)",
        explain.explain_panel,
        panel,
        models,
        fmap,
    )
    clock("global importance", explain.global_importance, shap_long, fmap)
    clock("change since last year (all rows)", explain.change_since_last_year, fam)

    # Same-shape stand-ins for the back-test tables, so the report has every section.
    bt = pop.loc[pop["year"] >= 2000, ["gwno", "year"]]
    backtest = pd.concat(
        [
            bt.assign(
                horizon=h,
                y_true=pop.loc[bt.index, f"relapse_h{h}"].astype("float64"),
                p_model=models[h].predict(pop.loc[bt.index, names]),
                p_history=0.1,
                p_climatology=0.1,
            )
            for h in models
        ],
        ignore_index=True,
    )
    metrics = pd.DataFrame(
        [
            {"horizon": h, "model": m, "metric": k, "value": v, "lo": v - 0.05, "hi": v + 0.05}
            for h in models
            for m, k, v in (
                ("model", "average_precision", 0.3),
                ("history", "average_precision", 0.25),
                ("climatology", "base_rate", 0.1),
            )
        ]
    )

    forecasts = {h: explain.booster_forecast(b, h, fmap) for h, b in models.items()}

    def full_report() -> Path:
        ctx = build_context(
            panel,
            forecasts,
            registry_table(cfg),
            metrics=metrics,
            backtest=backtest,
            options=cfg.report,
            data_vintage="bench",
        )
        return write_report(tmp / "report.html", render_report(ctx))

    path = clock("full report (context + plots + render + write)", full_report)
    print(f"report: {path} ({path.stat().st_size / 1e6:.1f} MB)")

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(4000, 100)), columns=[f"f{i}" for i in range(100)])
    y = (X["f0"] + rng.normal(size=4000) > 1.5).astype(int)
    big = lgb.train(
        {"objective": "binary", "num_leaves": 15, "verbosity": -1, "num_threads": 2},
        lgb.Dataset(X, y),
        400,
    )
    keys = pd.DataFrame({"gwno": np.arange(4000), "year": 2000})
    clock(
        "synthetic 4,000 rows × 100 features × 400 trees, one horizon",
        explain.shap_values,
        big,
        X,
        keys,
        horizon=1,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
