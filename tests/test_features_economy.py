"""Economy family: real-snapshot facts, growth from past values only, and no leakage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers.data import builder_args, family_inputs

from relapse.config import compose_config
from relapse.features import build_family, economy
from relapse.sources import get_source
from relapse.sources.base import cut_to_vintage


@pytest.fixture(scope="module")
def cfg():
    return compose_config()


@pytest.fixture(scope="module")
def tables(data_dir: Path) -> dict[str, pd.DataFrame]:
    return family_inputs(economy.SOURCES_USED, data_dir)


@pytest.fixture(scope="module")
def built(tables, cfg) -> pd.DataFrame:
    return build_family("economy", *builder_args(tables), cfg)


@pytest.mark.snapshot
def test_one_float_row_per_spine_row(built, tables):
    assert built[["gwno", "year"]].equals(tables["spine"][["gwno", "year"]].reset_index(drop=True))
    features = [c for c in built.columns if c not in ("gwno", "year")]
    assert all(c.startswith("eco_") for c in features)
    assert (built[features].dtypes == "float64").all()


@pytest.mark.snapshot
def test_known_cases(built):
    v = built.set_index(["gwno", "year"])
    usa, portugal, sierra_leone = v.loc[(2, 2015)], v.loc[(235, 2015)], v.loc[(451, 2015)]
    for column in ("eco_log_gdp_pc", "eco_log_gdp_pc_usd"):
        assert usa[column] > portugal[column] > sierra_leone[column]
    assert np.exp(sierra_leone["eco_log_population"]) == pytest.approx(7.04e6, rel=0.02)
    # Sierra Leone's economy shrank in 2015 (Ebola, iron-ore collapse).
    assert sierra_leone["eco_gdp_growth_pct"] < -10
    assert sierra_leone["eco_aid_pc_usd"] > 50
    # Growth of the USSR before 1990 comes from the Maddison fallback.
    assert not np.isnan(v.loc[(365, 1980), "eco_gdp_growth_pct"])
    recent = built.loc[built["year"].between(1990, 2018)]
    # Only the GDR and South Yemen in 1990 lack a population figure.
    assert recent["eco_log_population"].isna().sum() == 2


def test_growth_uses_only_the_year_and_the_year_before():
    spine = pd.DataFrame({"gwno": [7] * 5, "year": [2000, 2001, 2002, 2003, 2004]}, dtype="int64")
    levels = pd.DataFrame(
        {"gwno": [7, 7, 7, 7], "year": [2000, 2001, 2003, 2004], "x": [100.0, 110.0, 121.0, 60.5]}
    )
    growth = economy.growth_pct(spine, levels, "x")
    expected = [np.nan, 10.0, np.nan, np.nan, -50.0]  # 2002 missing: no growth in 2002 or 2003
    np.testing.assert_allclose(growth.to_numpy(), expected)
    # A later value never moves an earlier growth rate.
    changed = levels.assign(x=levels["x"].where(levels["year"] != 2004, 1.0))
    np.testing.assert_allclose(economy.growth_pct(spine, changed, "x").to_numpy()[:4], expected[:4])


def test_growth_falls_back_to_maddison_only_where_pwt_is_missing(cfg):
    spine = pd.DataFrame({"gwno": [7, 7, 7], "year": [2000, 2001, 2002]}, dtype="int64")
    empty = {"gwno": [7], "year": [1900]}
    pwt = pd.DataFrame(
        {
            "gwno": [7, 7],
            "year": [2001, 2002],
            "rgdpe_pc": [1.0, 1.0],
            "rgdpna_pc": [200.0, 210.0],
            "pop": [1.0, 1.0],
        }
    )
    maddison = pd.DataFrame(
        {
            "gwno": [7, 7, 7],
            "year": [2000, 2001, 2002],
            "rgdpnapc": [100.0, 120.0, 120.0],
            "pop": [1000.0] * 3,
        }
    )
    tables = {
        "spine": spine,
        "pwt": pwt,
        "maddison": maddison,
        "wdi_gdp_pc": pd.DataFrame({**empty, "gdp_pc_usd": [1.0]}),
        "wdi_population": pd.DataFrame({**empty, "population": [1.0]}),
        "gapminder": pd.DataFrame(
            {**empty, "oil_production_pc": [0.0], "aid_pc_usd": [0.0], "aid_pct_gni": [0.0]}
        ),
        "vdem_econ_coups": pd.DataFrame(
            {**empty, "e_total_oil_income_pc": [0.0], "e_total_resources_income_pc": [0.0]}
        ),
    }
    out = economy.build(*builder_args(tables), cfg)
    np.testing.assert_allclose(out["eco_gdp_growth_pct"], [np.nan, 20.0, 5.0])
    np.testing.assert_allclose(out["eco_log_population"], np.log([1e6, 1e6, 1e6]))


@pytest.mark.snapshot
@pytest.mark.parametrize("vintage", [1995, 2010, 2016])
def test_vintage_cut_does_not_change_past_rows(tables, cfg, vintage):
    full = economy.build(*builder_args(tables), cfg)
    cut = {
        key: cut_to_vintage(t, get_source(key), vintage)
        for key, t in tables.items()
        if key != "spine"
    }
    cut["spine"] = tables["spine"]
    again = economy.build(*builder_args(cut), cfg)
    past = full["year"] <= vintage - 1
    assert full.loc[past].notna().sum().sum() > 0
    pd.testing.assert_frame_equal(full.loc[past], again.loc[past])
