"""Explanations that describe data, not gaps: the missing-value share of |SHAP| and the
report's "not recorded since" and "data as of" wording (hand-made tables)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from relapse.explain import missing_share, missing_weight_by_feature


def _shap_long() -> pd.DataFrame:
    # Two rows in 2018, one in 2017; feature b is missing in 2018 for country 1 only.
    return pd.DataFrame(
        {
            "gwno": [1, 1, 2, 2, 1, 1],
            "year": [2018, 2018, 2018, 2018, 2017, 2017],
            "horizon": [1] * 6,
            "feature": ["a", "b", "a", "b", "a", "b"],
            "value": [0.3, -0.1, -0.5, 0.1, 0.2, 0.8],
            "base_value": [-2.0] * 6,
            "feature_value": [1.0, np.nan, 2.0, 3.0, 1.0, np.nan],
        }
    )


def test_missing_share_counts_absolute_weight_of_missing_inputs() -> None:
    shap = _shap_long()
    assert missing_share(shap, 2018) == pytest.approx(0.1 / 1.0)
    assert missing_share(shap) == pytest.approx((0.1 + 0.8) / 2.0)
    by_feature = missing_weight_by_feature(shap, 2018)
    assert by_feature.to_dict() == pytest.approx({"b": 0.1})
    assert by_feature.sum() == pytest.approx(missing_share(shap, 2018))


def test_missing_share_without_weight_is_nan_and_without_gaps_zero() -> None:
    shap = _shap_long()
    assert math.isnan(missing_share(shap.assign(value=0.0), 2018))
    assert missing_share(shap.assign(feature_value=1.0)) == 0.0
    assert missing_weight_by_feature(shap.assign(feature_value=1.0)).empty
