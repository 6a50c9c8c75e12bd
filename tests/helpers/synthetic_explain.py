"""A seeded synthetic panel with planted effects, for the explain and report tests.

Seven families of two features each. Relapse risk is driven mostly by ``mission`` (the first
feature of each family carries a graded weight, the second is noise) and ``economy`` is pure
noise, so SHAP must rank ``mission`` first and ``economy`` last.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from relapse.config import FAMILIES

WEIGHTS: dict[str, float] = {
    "mission": 2.0,
    "conflict_legacy": 1.0,
    "governance": 0.8,
    "services": 0.6,
    "elections": 0.5,
    "security_sector_reform": 0.4,
    "economy": 0.0,
}
DRIVER, NOISE = "mission", "economy"
HORIZONS = (1, 2)
PARAMS = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 7,
    "min_data_in_leaf": 40,
    "verbosity": -1,
    "num_threads": 2,
    "deterministic": True,
    "force_row_wise": True,
    "seed": 1,
}
EVIL = "Côte d'Ivoire <script>alert('x')</script> & Co"


def registry() -> pd.DataFrame:
    """Registry table in the shape of ``relapse.features.registry_table``."""
    rows = []
    for family in FAMILIES:
        for j, unit in ((1, "index"), (2, "0/1")):
            rows.append(
                {
                    "name": f"{family}_x{j}",
                    "family": family,
                    "sources": "synthetic",
                    "unit": unit,
                    "lag": 0,
                    "enabled": True,
                    "description": f"Synthetic {family.replace('_', ' ')} indicator {j} "
                    f"<b>{j}</b>.",
                }
            )
    return pd.DataFrame(rows)


def family_map() -> dict[str, str]:
    """Feature → family of the synthetic registry."""
    reg = registry()
    return dict(zip(reg["name"], reg["family"], strict=True))


def panel(n_countries: int = 80, n_years: int = 50, seed: int = 7) -> pd.DataFrame:
    """The synthetic country-year panel (same columns as ``build_panel(cfg).panel``)."""
    rng = np.random.default_rng(seed)
    n = n_countries * n_years
    gwno = np.repeat(np.arange(100, 100 + n_countries), n_years)
    year = np.tile(np.arange(1970, 1970 + n_years), n_countries)
    out = pd.DataFrame({"gwno": gwno, "year": year})
    out["iso3"] = pd.array([f"S{g % 100:02d}" for g in gwno], dtype="string")
    names = [EVIL if g == 100 else f"Country {g}" for g in gwno]
    out["country"] = pd.array(names, dtype="string")
    logit = np.full(n, -2.5)
    for family in FAMILIES:
        x1 = rng.normal(size=n)
        x2 = (rng.random(n) < 0.4).astype(float)
        logit += WEIGHTS[family] * x1
        out[f"{family}_x1"] = x1
        out[f"{family}_x2"] = x2
    # A few missing values so coverage has something to report.
    out.loc[rng.random(n) < 0.1, "services_x1"] = np.nan
    active = rng.random(n) < 0.08
    # The first ten countries are post-conflict in the last two years (scored in the report).
    active[(gwno < 110) & (year >= 1970 + n_years - 2)] = False
    out["active"] = active
    out["in_population"] = ~active
    out["years_since_conflict"] = pd.array(rng.integers(1, 11, n), dtype="Int64")
    p = expit(logit)
    event = rng.random(n) < p
    for h in HORIZONS:
        label = pd.array((event | (rng.random(n) < 0.03 * (h - 1))).astype(int), dtype="Int8")
        label[(year > 1970 + n_years - 1 - h) | active] = pd.NA
        out[f"relapse_h{h}"] = label
    cols = [
        "gwno",
        "iso3",
        "country",
        "year",
        "in_population",
        "years_since_conflict",
        *[f"relapse_h{h}" for h in HORIZONS],
        *registry()["name"],
        "active",
    ]
    return out[cols]


def features() -> list[str]:
    """Model features of the synthetic registry."""
    return registry()["name"].tolist()


def train(frame: pd.DataFrame, h: int, rounds: int = 150):
    """A LightGBM booster for horizon ``h`` on the labelled population rows."""
    import lightgbm as lgb

    rows = frame.loc[frame["in_population"] & frame[f"relapse_h{h}"].notna()]
    data = lgb.Dataset(rows[features()], rows[f"relapse_h{h}"].astype(int))
    return lgb.train(PARAMS, data, rounds)


def backtest(frame: pd.DataFrame, boosters: dict) -> pd.DataFrame:
    """Stand-in back-test predictions (in-sample model scores, a one-feature baseline)."""
    parts = []
    for h, booster in boosters.items():
        rows = frame.loc[
            frame["in_population"] & frame[f"relapse_h{h}"].notna() & (frame["year"] >= 2000)
        ]
        y = rows[f"relapse_h{h}"].astype(float).to_numpy()
        hist = expit(-2.5 + 1.0 * rows["conflict_legacy_x1"].to_numpy())
        parts.append(
            pd.DataFrame(
                {
                    "gwno": rows["gwno"].to_numpy(),
                    "year": rows["year"].to_numpy(),
                    "horizon": h,
                    "y_true": y,
                    "p_model": booster.predict(rows[features()]),
                    "p_history": hist,
                    "p_climatology": np.full(len(rows), y.mean()),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def metrics(bt: pd.DataFrame, model_wins: bool = True) -> pd.DataFrame:
    """A metrics table in the training engineer's shape, from back-test predictions."""
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    rows = []
    for h, g in bt.groupby("horizon"):
        for model, col in (
            ("lightgbm", "p_model"),
            ("history", "p_history"),
            ("climatology", "p_climatology"),
        ):
            p = g[col] if model_wins or model != "lightgbm" else g["p_climatology"]
            for metric, fn in (
                ("average_precision", average_precision_score),
                ("roc_auc", roc_auc_score),
                ("brier", brier_score_loss),
            ):
                v = float(fn(g["y_true"], p)) if metric != "roc_auc" or p.nunique() > 1 else 0.5
                rows.append(
                    {
                        "horizon": h,
                        "model": model,
                        "metric": metric,
                        "value": v,
                        "lo": v - 0.02,
                        "hi": v + 0.02,
                    }
                )
        for metric in ("average_precision", "roc_auc", "brier"):
            sign = 1.0 if (metric != "brier") == model_wins else -1.0
            rows.append(
                {
                    "horizon": h,
                    "model": "difference_history",
                    "metric": metric,
                    "value": 0.05 * sign,
                    "lo": 0.01 * sign,
                    "hi": 0.09 * sign,
                }
            )
        rows.append(
            {
                "horizon": h,
                "model": "climatology",
                "metric": "base_rate",
                "value": float(g["y_true"].mean()),
                "lo": np.nan,
                "hi": np.nan,
            }
        )
    return pd.DataFrame(rows)


def forecast(booster, h: int, **provenance):
    """A ``relapse.forecast.Forecast`` serving horizon ``h`` with a bare booster's scores."""
    from relapse.explain import booster_forecast

    return booster_forecast(booster, h, family_map(), **provenance)


def forecasts(boosters: dict) -> dict:
    """:func:`forecast` of each horizon's booster."""
    return {h: forecast(b, h) for h, b in boosters.items()}
