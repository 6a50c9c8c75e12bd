"""What each group of features from the 2025 sources adds to the backtest (issue 12).

For each group (neighbourhood conflict, battle-death intensity, non-state and one-sided
violence, ethnic exclusion) the default backtest is rerun without the group's features and
compared with the full model on the same rows: the difference full − without, with the paired
country-block bootstrap interval of :func:`relapse.evaluate.compare`.

Usage (panel built first with ``relapse build``)::

    RELAPSE_DATA_DIR=../shared/data .venv/bin/python benchmarks/ablation_new_sources.py \
        [--bootstrap 500] [--out benchmarks/results/ablation_new_sources.csv]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from relapse import features as feats
from relapse.backtest import backtest
from relapse.build import build_panel
from relapse.config import compose_config
from relapse.evaluate import compare

GROUPS: dict[str, tuple[str, ...]] = {
    "neighbourhood conflict (CShapes distances, capitals)": (
        "nbr_conflict_count",
        "nbr_conflict_share",
        "nbr_capital_km_to_conflict",
    ),
    "battle-death intensity (UCDP BRD)": (
        "leg_battle_deaths_log_10y",
        "leg_battle_deaths_log_last_episode",
    ),
    "non-state and one-sided violence (UCDP GED country-year)": (
        "leg_nonstate_deaths_log",
        "leg_onesided_deaths_log",
    ),
    "ethnic exclusion (EPR)": ("gov_excluded_population",),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bootstrap", type=int, default=500)
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/ablation_new_sources.csv")
    )
    args = parser.parse_args()
    cfg = compose_config(["model.not_at_war=false"])
    panel = build_panel(cfg).panel
    features = feats.feature_columns(cfg)
    full = backtest(panel, features, cfg).predictions
    rows = []
    for group, names in GROUPS.items():
        missing = [n for n in names if n not in features]
        if missing:
            raise SystemExit(f"{group}: features {missing} are not in the registry")
        without = backtest(panel, [f for f in features if f not in names], cfg).predictions
        # compare() pairs p_model with a reference column: here the model without the group.
        reference = without[["gwno", "year", "horizon", "p_model"]].rename(
            columns={"p_model": "p_history"}
        )
        paired = full.drop(columns=["p_history"]).merge(
            reference, on=["gwno", "year", "horizon"], validate="one_to_one"
        )
        table = compare(paired, bootstrap_samples=args.bootstrap, seed=int(cfg.seed))
        table.insert(0, "group", group)
        rows.append(table)
        print(table.round(4).to_string(index=False), flush=True)
    out = pd.concat(rows, ignore_index=True).rename(
        columns={"model": "with_group", "baseline": "without_group"}
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(args.out, index=False)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
