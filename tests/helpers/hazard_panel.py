"""A toy panel with a planted effect for the estimator tests, and a hazard model fitted on it."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from relapse.model import HISTORY_FEATURES, HazardModel


def synthetic_panel(
    seed: int = 0,
    n_units: int = 60,
    years: range = range(1980, 2019),
    signal: float = 2.0,
    drift: float = 0.0,
) -> pd.DataFrame:
    """A panel with a planted effect: relapse_h1 driven by ``x_signal`` (and noise columns).

    ``drift`` shifts the history features upward with the year, so fitted statistics tell
    which years they were computed from.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(n_units):
        for y in years:
            rows.append((g + 100, y))
    df = pd.DataFrame(rows, columns=["gwno", "year"])
    n = len(df)
    df["in_population"] = rng.random(n) < 0.7
    # The other rows are "at war" here: the not-at-war model sees the post-conflict rows only.
    df["risk_type"] = pd.array(np.where(df["in_population"], "relapse", None), dtype="string")
    df["x_signal"] = rng.normal(size=n)
    df["x_noise"] = rng.normal(size=n)
    for i, name in enumerate(HISTORY_FEATURES):
        v = rng.gamma(2.0, 2.0, size=n) + drift * (df["year"] - years[0]) + i
        v[rng.random(n) < 0.15] = np.nan
        df[name] = v
    logit = -2.0 + signal * df["x_signal"]
    # Relapse year after t (1..): geometric with a hazard driven by x_signal; cumulative labels.
    hazard = expit(logit)
    first = rng.geometric(hazard.clip(1e-3, 1 - 1e-3))
    for h in (1, 2, 5):
        label = pd.array((first <= h).astype("int64"), dtype="Int8")
        label[(~df["in_population"]).to_numpy()] = pd.NA
        label[(df["year"] + h > years[-1]).to_numpy()] = pd.NA  # censored at the data's end
        df[f"relapse_h{h}"] = label
    return df


FEATURES = ["x_signal", "x_noise", *HISTORY_FEATURES]


def labelled(df: pd.DataFrame, h: int = 1) -> pd.DataFrame:
    """The population rows with a known label at horizon ``h``."""
    return df.loc[df["in_population"] & df[f"relapse_h{h}"].notna()]


def fitted_hazard(seed: int = 0, origin: int = 2010, **kw) -> tuple[HazardModel, pd.DataFrame]:
    """A hazard model fitted on the toy panel before ``origin``, and the panel's population."""
    panel = synthetic_panel(seed=seed, **kw)
    pop = panel.loc[panel["in_population"]]
    train = pop.loc[pop["year"] < origin]
    model = HazardModel(
        params={"learning_rate": 0.1, "min_data_in_leaf": 10}, num_boost_round=60
    ).fit(
        train[FEATURES],
        train[["relapse_h1", "relapse_h2", "relapse_h5"]].astype("float64"),
        train["year"],
        origin,
    )
    return model, pop
