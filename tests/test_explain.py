"""TreeSHAP explanations: exact additivity, family sums, planted effects, year-on-year change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import synthetic_explain as syn

from relapse import explain
from relapse.errors import ModelError


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return syn.panel()


@pytest.fixture(scope="module")
def boosters(frame: pd.DataFrame) -> dict:
    return {h: syn.train(frame, h) for h in syn.HORIZONS}


@pytest.fixture(scope="module")
def explained(frame, boosters):
    return explain.explain_panel(frame, boosters, syn.family_map())


def test_shap_plus_base_equals_raw_score_for_every_row(frame, boosters):
    booster = boosters[1]
    X = frame.loc[frame["in_population"]]
    long = explain.shap_values(booster, X, X[["gwno", "year"]], horizon=1)
    assert set(long.columns) >= {"gwno", "year", "horizon", "feature", "value", "base_value"}
    assert len(long) == len(X) * len(syn.features())
    wide = (
        explain.wide(long)
        .set_index(["gwno", "year"])
        .loc[list(zip(X["gwno"], X["year"], strict=True))]
    )
    total = wide[syn.features()].sum(axis=1).to_numpy() + wide["base_value"].to_numpy()
    raw = booster.predict(X[syn.features()], raw_score=True)
    np.testing.assert_allclose(total, raw, atol=1e-6, rtol=0)
    assert wide["base_value"].nunique() == 1


def test_family_contributions_add_up_to_raw_score(frame, boosters, explained):
    _, fam = explained
    assert sorted(fam["family"].unique()) == sorted(set(syn.family_map().values()))
    per_row = fam.groupby(["gwno", "year", "horizon"]).agg(
        total=("value", "sum"), base=("base_value", "first"), raw=("raw_score", "first")
    )
    np.testing.assert_allclose(per_row["total"] + per_row["base"], per_row["raw"], atol=1e-9)
    X = frame.loc[frame["in_population"]]
    for h, booster in boosters.items():
        got = per_row.xs(h, level="horizon").loc[list(zip(X["gwno"], X["year"], strict=True))]
        np.testing.assert_allclose(
            got["raw"], booster.predict(X[syn.features()], raw_score=True), atol=1e-6
        )


@pytest.mark.parametrize("h", syn.HORIZONS)
def test_planted_driver_ranks_first_and_noise_family_last(explained, h):
    imp = explain.global_importance(explained[0], syn.family_map())
    fam = imp.loc[(imp["level"] == "family") & (imp["horizon"] == h)].sort_values("rank")
    assert fam["name"].iloc[0] == syn.DRIVER
    assert fam["name"].iloc[-1] == syn.NOISE
    feat = imp.loc[(imp["level"] == "feature") & (imp["horizon"] == h)].sort_values("rank")
    assert feat["name"].iloc[0] == f"{syn.DRIVER}_x1"


def test_change_since_last_year_splits_the_raw_score_change_exactly(explained):
    _, fam = explained
    change = explain.change_since_last_year(fam)
    assert len(change)
    per = change.groupby(["gwno", "year", "horizon"]).agg(
        delta=("delta", "sum"), raw_change=("raw_change", "first")
    )
    np.testing.assert_allclose(per["delta"], per["raw_change"], atol=1e-9)
    # raw_change really is raw(t) − raw(t−1)
    raw = fam.groupby(["gwno", "year", "horizon"])["raw_score"].first()
    g, y, h = per.index[0]
    assert per["raw_change"].iloc[0] == pytest.approx(raw[(g, y, h)] - raw[(g, y - 1, h)])


def test_change_since_last_year_skips_rows_without_previous_year(explained):
    _, fam = explained
    one = fam.loc[fam["gwno"] == 101]
    years = sorted(one["year"].unique())
    gaps = [y for y in years if y - 1 not in set(years)]
    change = explain.change_since_last_year(fam, gwno=101)
    assert not set(gaps) & set(change["year"])
    only = explain.change_since_last_year(fam, gwno=101, year=years[-1])
    assert set(only["year"]) <= {years[-1]}


def test_country_contributions_one_column_per_family(explained):
    _, fam = explained
    table = explain.country_contributions(fam, 101, horizon=1)
    families = set(syn.family_map().values())
    assert families <= set(table.columns)
    total = table[sorted(families)].sum(axis=1) + table["base_value"]
    np.testing.assert_allclose(total, table["raw_score"], atol=1e-9)


def test_missing_feature_fails_loudly(frame, boosters):
    X = frame.drop(columns=["mission_x1"])
    with pytest.raises(ModelError, match=r"missing from the data.*mission_x1"):
        explain.shap_values(boosters[1], X)


def test_feature_without_family_fails_loudly(explained):
    fmap = {k: v for k, v in syn.family_map().items() if k != "economy_x2"}
    with pytest.raises(ModelError, match=r"without a family.*economy_x2"):
        explain.family_contributions(explained[0], fmap)


@pytest.mark.slow
@pytest.mark.snapshot
def test_real_panel_additivity(tmp_path, data_dir):
    import lightgbm as lgb

    from relapse.build import build_panel
    from relapse.config import compose_config
    from relapse.features import family_map, feature_columns

    cfg = compose_config(
        [
            "features.families=[conflict_legacy]",
            f"paths.processed_dir={tmp_path}",
            f"paths.data_dir={data_dir}",
        ],
    )
    panel = build_panel(cfg).panel
    pop = panel.loc[panel["in_population"] & panel["relapse_h1"].notna()]
    names = feature_columns(cfg)
    booster = lgb.train(
        dict(cfg.model.params), lgb.Dataset(pop[names], pop["relapse_h1"].astype(int)), 50
    )
    _, fam = explain.explain_panel(panel, {1: booster}, family_map(cfg))
    rows = panel.loc[panel["in_population"]]
    raw = booster.predict(rows[names], raw_score=True)
    got = (
        fam.groupby(["gwno", "year"])["raw_score"]
        .first()
        .loc[list(zip(rows["gwno"], rows["year"], strict=True))]
    )
    np.testing.assert_allclose(got.to_numpy(), raw, atol=1e-6)


def test_a_bare_booster_is_seen_as_a_model(frame, boosters):
    model = explain.as_model(boosters[1])
    assert isinstance(model, explain.BoosterModel) and model.feature_names == syn.features()
    X = frame[syn.features()].head(30)
    values, base = explain.contributions(boosters[1], X)
    np.testing.assert_allclose(values.sum(axis=1) + base, model.raw_score(X), atol=1e-9)
    other = object()
    assert explain.as_model(other) is other, "models are used as they are, never guessed at"
