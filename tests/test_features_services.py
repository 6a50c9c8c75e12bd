"""Services family: real-snapshot facts, the infant-mortality fallback, and no leakage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers.data import builder_args, family_inputs

from relapse.config import compose_config
from relapse.features import build_family, services
from relapse.sources import get_source
from relapse.sources.base import cut_to_vintage


@pytest.fixture(scope="module")
def cfg():
    return compose_config()


@pytest.fixture(scope="module")
def tables(data_dir: Path) -> dict[str, pd.DataFrame]:
    return family_inputs(services.SOURCES_USED, data_dir)


@pytest.fixture(scope="module")
def built(tables, cfg) -> pd.DataFrame:
    return build_family("services", *builder_args(tables), cfg)


@pytest.mark.snapshot
def test_one_float_row_per_spine_row(built, tables):
    spine = tables["spine"]
    assert built[["gwno", "year"]].equals(spine[["gwno", "year"]].reset_index(drop=True))
    features = [c for c in built.columns if c not in ("gwno", "year")]
    assert all(c.startswith("srv_") for c in features)
    assert (built[features].dtypes == "float64").all()


@pytest.mark.snapshot
def test_known_cases(built):
    v = built.set_index(["gwno", "year"])
    sierra_leone, portugal = v.loc[(451, 2005)], v.loc[(235, 2005)]
    assert sierra_leone["srv_infant_mortality"] > 10 * portugal["srv_infant_mortality"]
    assert sierra_leone["srv_under5_mortality"] > 10 * portugal["srv_under5_mortality"]
    assert sierra_leone["srv_basic_water_pct"] < portugal["srv_basic_water_pct"]
    recent = built.loc[built["year"].between(1990, 2018), "srv_under5_mortality"]
    assert recent.notna().mean() > 0.9


def test_infant_mortality_prefers_gapminder_then_vdem(cfg):
    spine = pd.DataFrame({"gwno": [1, 1, 1], "year": [2000, 2001, 2002]}, dtype="int64")
    gap = pd.DataFrame({"gwno": [1, 1], "year": [2000, 2001], "infant_mortality": [50.0, np.nan]})
    for column in services.GAPMINDER_FEATURES.values():
        gap[column] = np.nan
    vdem = pd.DataFrame(
        {"gwno": [1, 1, 1], "year": [2000, 2001, 2002], "e_peinfmor": [60.0, 40.0, np.nan]}
    )
    out = services.build(
        *builder_args({"spine": spine, "gapminder": gap, "vdem_infant_cso": vdem}), cfg
    )
    # Same-year values only: 2002 stays missing although 2001 is known.
    assert out["srv_infant_mortality"].tolist()[:2] == [50.0, 40.0]
    assert np.isnan(out["srv_infant_mortality"].iloc[2])


@pytest.mark.snapshot
@pytest.mark.parametrize("vintage", [1995, 2010, 2016])
def test_vintage_cut_does_not_change_past_rows(tables, cfg, vintage):
    full = services.build(*builder_args(tables), cfg)
    cut = {
        key: cut_to_vintage(t, get_source(key), vintage)
        for key, t in tables.items()
        if key != "spine"
    }
    cut["spine"] = tables["spine"]
    again = services.build(*builder_args(cut), cfg)
    past = full["year"] <= vintage - 1
    assert full.loc[past].notna().sum().sum() > 0
    pd.testing.assert_frame_equal(full.loc[past], again.loc[past])
