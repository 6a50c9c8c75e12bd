"""How the pipeline scales: synthetic panels of ~10k, ~100k and ~1M country-years.

Usage (from the repository)::

    .venv/bin/python benchmarks/bench_scaling.py                       # 140, 1,400, 14,000 units
    .venv/bin/python benchmarks/bench_scaling.py --units 140 1400 --threads 1 2 \\
        --csv benchmarks/results/scaling.csv --plot benchmarks/results/scaling.png

For each size, ``data=synthetic data.n_units=N data.n_years=73`` (``relapse/synthetic/``)
writes a raw data set with the snapshot's schemas into a temporary directory (deleted at the
end, ``--keep`` to keep it), and every stage runs in a **fresh process** whose own peak RSS
(``ru_maxrss`` from ``os.wait4``) is recorded:

``generate``  simulate and write the raw files (not a pipeline stage; for reference).
``build``     ``relapse build`` (CLI; process start to exit): load + validate every source,
              spine, conflict history, population, labels, the seven feature families.
``train``     LightGBM on the labelled post-conflict rows, as the final models of
              ``relapse train`` are fitted (:func:`relapse.train.fit_final`: early stopping on
              the last ``split.validation_years`` labelled years, then a refit on every row),
              horizons 1, 2 and 5 (``--horizons``); the booster files are kept for the next
              stages. No MLflow.
``backtest``  a *reduced* rolling-origin backtest (:func:`relapse.backtest.backtest`): h = 1,
              origins 2015–2017 (``split.first_origin=2015``), i.e. 3 of the 18 default folds
              of h = 1; each fold fits LightGBM (twice: early stopping + refit), the
              history logistic regression and climatology.
``predict``   ``booster.predict`` on **every** panel row (float matrix built first, not
              timed); throughput in rows/s. The booster has the shipped size, not the
              early-stopped one: ``model.num_boost_round`` (400) trees of the shipped params,
              fitted (untimed, in the ``train`` child) on up to 50,000 h = 1 rows.
``shap``      LightGBM TreeSHAP (``pred_contrib=True``, via
              :func:`relapse.explain.contributions`) of that 400-tree booster on every
              post-conflict row.
``score``     the scoring core of ``relapse score`` on every post-conflict row:
              :func:`relapse.scoring.table.score_table` (probabilities, risk bands, family drivers,
              the output schema) for each year's post-conflict countries and horizons 1, 2, 5,
              with the boosters of ``train`` standing in for the registered champions.
              ``BENCH_SCORE_LAST_YEARS=K`` in the environment restricts it to the
              post-conflict rows of the last K years (used for the ~1M panel, see the
              README: TreeSHAP of all 141k rows × 3 horizons takes ~7 minutes).

``wall_s`` of ``build`` and ``generate`` is the whole process; for the other stages it is the
timed section inside the child (reading the panel parquet and imports excluded; ``process_s``
has the whole process). ``--threads`` sets LightGBM's ``num_threads`` for train, backtest,
predict, shap and score (the shipped default is 1); stages that do not use LightGBM run once.
The 1-minute load average is read just before each stage (the 2 cores are shared). Prints a
table; asserts nothing. Targets (2 cores): ~1M rows train < 120 s, predict >= 200k rows/s,
peak memory < 8 GB.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIELDS = (
    "stage",
    "n_units",
    "rows",
    "wall_s",
    "process_s",
    "peak_mb",
    "throughput",
    "threads",
    "load_avg",
    "command",
    "note",
)
TARGETS = {"train_s": 120.0, "predict_rows_s": 200_000.0, "peak_mb": 8 * 1024.0}
LGB_STAGES = ("train", "backtest", "predict", "shap", "score")


# ------------------------------------------------------------------------------- children


def _overrides(n_units: int, work: Path) -> list[str]:
    return [
        "data=synthetic",
        f"data.n_units={n_units}",
        "data.n_years=73",
        f"paths.processed_dir={work}",
    ]


def _cfg(n_units: int, work: Path, threads: int, extra: list[str] | None = None):
    from relapse.config import compose_config

    return compose_config(
        [*_overrides(n_units, work), f"model.params.num_threads={threads}", *(extra or [])]
    )


def _panel(work: Path):
    import pandas as pd

    return pd.read_parquet(work / "panel.parquet")


def child_generate(n_units: int, work: Path, threads: int, horizons: list[int]) -> dict:
    from relapse.synthetic import ensure_dataset

    start = time.perf_counter()
    ensure_dataset(_cfg(n_units, work, threads))
    return {"wall_s": time.perf_counter() - start}


def child_train(n_units: int, work: Path, threads: int, horizons: list[int]) -> dict:
    from relapse.features import feature_columns
    from relapse.splits import label_column
    from relapse.train import fit_final

    cfg = _cfg(n_units, work, threads)
    panel = _panel(work)
    features = feature_columns(cfg)
    start = time.perf_counter()
    rows, notes = 0, []
    for h in horizons:
        t = time.perf_counter()
        model, fitted = fit_final(panel, features, h, cfg)
        model.booster_.save_model(str(work / f"model_h{h}_t{threads}.txt"))
        rows = max(rows, len(fitted))
        notes.append(
            f"h{h}: {len(fitted)} rows, {model.best_iteration_} rounds, "
            f"{time.perf_counter() - t:.1f}s"
        )
        assert fitted[label_column(h)].notna().all()
    wall = time.perf_counter() - start
    # Untimed: a booster of the shipped size (num_boost_round trees, no early stopping) for
    # the predict and shap stages, whose cost grows with the trees; 50k rows are plenty.
    import lightgbm as lgb

    from relapse.model import build_model

    rows_h1 = panel.loc[panel["in_population"] & panel[label_column(1)].notna()]
    rows_h1 = rows_h1.sample(min(len(rows_h1), 50_000), random_state=0)
    params = build_model(cfg.model, int(cfg.seed))._lgb_params()
    full = lgb.train(
        params,
        lgb.Dataset(
            rows_h1[features].to_numpy("float64"),
            rows_h1[label_column(1)].astype(int),
            feature_name=features,
        ),
        num_boost_round=int(cfg.model.num_boost_round),
    )
    full.save_model(str(work / f"model_full_t{threads}.txt"))
    return {
        "wall_s": wall,
        "rows": rows,
        "throughput": "",
        "note": f"{len(features)} features; " + "; ".join(notes),
    }


def child_backtest(n_units: int, work: Path, threads: int, horizons: list[int]) -> dict:
    from relapse.backtest import backtest
    from relapse.features import feature_columns

    cfg = _cfg(n_units, work, threads, ["split.first_origin=2015"])
    panel = _panel(work)
    start = time.perf_counter()
    result = backtest(panel, feature_columns(cfg), 1, cfg)
    wall = time.perf_counter() - start
    folds = result.folds
    return {
        "wall_s": wall,
        "rows": int(folds["n_train"].max()),
        "throughput": "",
        "note": f"h1, {len(folds)} origins ({folds['origin'].min()}-{folds['origin'].max()}),"
        f" train rows {folds['n_train'].min()}-{folds['n_train'].max()}",
    }


def _booster(work: Path, h: int | str, threads: int):
    """A booster saved by ``train`` (its ``num_threads`` is the one it was trained with)."""
    import lightgbm as lgb

    return lgb.Booster(
        model_file=str(work / f"model_{'' if h == 'full' else 'h'}{h}_t{threads}.txt")
    )


def child_predict(n_units: int, work: Path, threads: int, horizons: list[int]) -> dict:
    import numpy as np

    booster = _booster(work, "full", threads)
    panel = _panel(work)
    X = panel[booster.feature_name()].to_numpy(dtype=np.float64, na_value=np.nan)
    start = time.perf_counter()
    p = booster.predict(X, num_threads=threads)
    wall = time.perf_counter() - start
    assert len(p) == len(panel)
    return {
        "wall_s": wall,
        "rows": len(X),
        "throughput": len(X) / wall,
        "note": f"{booster.num_trees()}-tree h1 booster, all rows",
    }


def child_shap(n_units: int, work: Path, threads: int, horizons: list[int]) -> dict:
    from relapse.explain import contributions

    booster = _booster(work, "full", threads)
    pop = _panel(work)
    pop = pop.loc[pop["in_population"]]
    start = time.perf_counter()
    values, _ = contributions(booster, pop)
    wall = time.perf_counter() - start
    return {
        "wall_s": wall,
        "rows": len(pop),
        "throughput": len(pop) / wall,
        "note": f"{booster.num_trees()}-tree h1 booster, {values.shape[1]} features, "
        "post-conflict rows",
    }


def child_score(n_units: int, work: Path, threads: int, horizons: list[int]) -> dict:
    from dataclasses import dataclass

    import pandas as pd

    from relapse.features import family_map
    from relapse.scoring.table import score_table

    cfg = _cfg(n_units, work, threads)
    fmap = family_map(cfg)

    @dataclass
    class StandIn:
        name: str
        booster: object
        version: str = "bench"
        run_id: str = "bench"
        data_vintage: str = "bench"

        @property
        def feature_names(self) -> list[str]:
            return self.booster.feature_name()

        @property
        def family_map(self) -> dict[str, str]:
            return fmap

        def predict_proba(self, X):
            return self.booster.predict(X[self.feature_names], num_threads=threads)

    models = {h: StandIn(f"bench-h{h}", _booster(work, h, threads)) for h in horizons}
    panel = _panel(work)
    pop = panel.loc[panel["in_population"], ["gwno", "iso3", "country", "year"]]
    last_years = int(os.environ.get("BENCH_SCORE_LAST_YEARS", "0"))
    if last_years:
        pop = pop.loc[pop["year"] > pop["year"].max() - last_years]
    from relapse.bands import base_rates

    rates = base_rates(panel, horizons)
    multiples = list(cfg.report.risk_band_multiples)
    start = time.perf_counter()
    n = 0
    for year, rows in pop.groupby("year", sort=True):
        targets = pd.DataFrame(
            {
                "gwno": pd.array(rows["gwno"], dtype="Int64"),
                "iso3": rows["iso3"].astype("string").to_numpy(),
                "country": rows["country"].astype("string").to_numpy(),
                "missions": pd.array([""] * len(rows), dtype="string"),
                "mission_status": pd.array([""] * len(rows), dtype="string"),
                "interstate_mission": False,
            }
        )
        table = score_table(panel, targets, models, int(year), "bench", rates, multiples)
        n += int((table["status"] == "scored").sum())
    wall = time.perf_counter() - start
    return {
        "wall_s": wall,
        "rows": len(pop),
        "throughput": len(pop) / wall,
        "note": f"score_table per year, horizons {horizons}: {n} scored rows"
        + (f" (as_of years of the last {last_years} years only)" if last_years else ""),
    }


CHILDREN = {
    "generate": child_generate,
    "train": child_train,
    "backtest": child_backtest,
    "predict": child_predict,
    "shap": child_shap,
    "score": child_score,
}


# --------------------------------------------------------------------------------- parent


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run ``cmd``; wall seconds, its own ``ru_maxrss`` (MB) via ``os.wait4``, stdout."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{stderr[-3000:]}")
    return wall, usage.ru_maxrss / 1024, stdout


def panel_rows(work: Path) -> tuple[int, int]:
    import pandas as pd

    p = pd.read_parquet(work / "panel.parquet", columns=["in_population"])
    return len(p), int(p["in_population"].sum())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, nargs="+", default=[140, 1400, 14000])
    parser.add_argument(
        "--threads", type=int, nargs="+", default=[1], help="LightGBM num_threads values to measure"
    )
    parser.add_argument(
        "--threads-min-units",
        type=int,
        default=0,
        help="measure threads other than 1 only from this many units",
    )
    parser.add_argument("--horizons", type=int, nargs="+", default=[1, 2, 5])
    parser.add_argument("--stages", nargs="+", default=["generate", "build", *LGB_STAGES])
    parser.add_argument(
        "--data-root",
        type=Path,
        default=None,
        help="reuse/keep <root>/syn-<units>/raw (default: a temporary dir)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directories")
    parser.add_argument("--csv", type=Path, default=None, help="write (append) rows here")
    parser.add_argument("--plot", type=Path, default=None, help="plot --csv to this PNG")
    parser.add_argument("--plot-only", action="store_true", help="only plot --csv to --plot")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        import resource

        result = CHILDREN[args.child](args.units[0], args.work, args.threads[0], args.horizons)
        result["self_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result, default=str))
        return 0

    if args.plot_only:
        plot(args.csv, args.plot)
        return 0
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    relapse = str(Path(sys.executable).with_name("relapse"))
    root = args.data_root or Path(tempfile.mkdtemp(prefix="bench_scaling_"))
    rows_out: list[dict] = []
    try:
        for n in args.units:
            work = root / f"syn-{n}"
            n_rows = n_pop = 0
            for stage in args.stages:
                threads_list = args.threads if stage in LGB_STAGES else [1]
                for threads in threads_list:
                    if threads != 1 and n < args.threads_min_units:
                        continue
                    if stage == "build":
                        cmd = [relapse, "build", *_overrides(n, work), "--force"]
                    else:
                        cmd = [
                            sys.executable,
                            __file__,
                            "--child",
                            stage,
                            "--units",
                            str(n),
                            "--work",
                            str(work),
                            "--threads",
                            str(threads),
                            "--horizons",
                            *map(str, args.horizons),
                        ]
                    load = os.getloadavg()[0]
                    wall, peak, out = measure(cmd, env)
                    info = json.loads(out.strip().splitlines()[-1]) if stage != "build" else {}
                    if stage == "build":
                        n_rows, n_pop = panel_rows(work)
                        info = {
                            "wall_s": wall,
                            "rows": n_rows,
                            "throughput": n_rows / wall,
                            "note": f"{n_pop} post-conflict rows",
                        }
                    if stage == "generate":
                        info.update(rows="", throughput="", note="raw CSV files + manifest")
                    thr = info.get("throughput", "")
                    row = {
                        "stage": stage,
                        "n_units": n,
                        "rows": info.get("rows", ""),
                        "wall_s": round(info["wall_s"], 2),
                        "process_s": round(wall, 2),
                        "peak_mb": round(peak),
                        "throughput": round(thr) if thr != "" else "",
                        "threads": threads if stage in LGB_STAGES else "",
                        "load_avg": round(load, 2),
                        "command": " ".join(
                            Path(c).name if i < 2 else c for i, c in enumerate(cmd)
                        ).replace(str(root), "$ROOT"),
                        "note": info.get("note", ""),
                    }
                    rows_out.append(row)
                    print(
                        f"{stage:<9s} n={n:<6d} t={row['threads']!s:<2s} "
                        f"rows={row['rows']!s:>8s} {row['wall_s']:8.2f} s "
                        f"(process {wall:7.2f} s) {peak:7.0f} MB "
                        f"{row['throughput']!s:>9s} rows/s load {load:4.2f} | {row['note']}",
                        flush=True,
                    )
                    if args.csv:
                        write_rows(args.csv, [row])
            if not args.keep and args.data_root is None:
                shutil.rmtree(work, ignore_errors=True)
    finally:
        if args.data_root is None and not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    if args.csv and args.plot:
        plot(args.csv, args.plot)
    return 0


def write_rows(path: Path, rows: list[dict]) -> None:
    """Append rows to the CSV (header written when the file is new)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    with path.open("a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        if new:
            writer.writeheader()
        writer.writerows(rows)


def plot(csv_path: Path, png: Path) -> Path:
    """Wall time and peak memory against panel rows, log-log, with the targets drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    table = pd.read_csv(csv_path)
    table = table.loc[table["stage"] != "generate"]
    size = table.loc[table["stage"] == "build"].set_index("n_units")["rows"]
    table = table.assign(panel_rows=table["n_units"].map(size))
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(12, 5))
    for (stage, threads), g in table.groupby(["stage", table["threads"].fillna(0)], sort=False):
        label = stage if not threads else f"{stage} ({int(threads)} thr)"
        style = "--" if threads and threads > 1 else "-"
        g = g.sort_values("panel_rows")
        ax_t.plot(g["panel_rows"], g["wall_s"], style, marker="o", label=label)
        ax_m.plot(g["panel_rows"], g["peak_mb"], style, marker="o", label=label)
    ax_t.axhline(TARGETS["train_s"], color="red", lw=1, ls=":")
    ax_t.annotate(
        "train target 120 s (~1M rows)",
        (size.min(), TARGETS["train_s"] * 1.1),
        color="red",
        fontsize=8,
    )
    predict_target = size / TARGETS["predict_rows_s"]
    ax_t.plot(
        predict_target.index.map(size),
        predict_target.to_numpy(),
        color="red",
        lw=1,
        ls="-.",
        label="predict target (200k rows/s)",
    )
    ax_m.axhline(TARGETS["peak_mb"], color="red", lw=1, ls=":")
    ax_m.annotate(
        "peak memory target 8 GB", (size.min(), TARGETS["peak_mb"] * 1.1), color="red", fontsize=8
    )
    for ax, ylabel in ((ax_t, "wall time (s)"), (ax_m, "peak RSS (MB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("panel country-years")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
    ax_t.legend(fontsize=7, ncol=2)
    ax_t.set_title("Wall time per stage (fresh process each)")
    ax_m.set_title("Peak memory per stage (child ru_maxrss)")
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return png


if __name__ == "__main__":
    sys.exit(main())
