"""Split invariants: no test-year row and no label past the origin reaches training."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from relapse.splits import Origin, final_origin, make_origin, origins_from_config, rolling_origins


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"horizon": 1, "origin": 2000, "train_years": (1998, 1999, 2000)},
            r"training years \[2000\] have labels that look past the origin",
        ),
        (
            {"horizon": 5, "origin": 2000, "train_years": (1990, 1995, 1996)},
            r"training years \[1996\] .* last allowed training year is 1995",
        ),
        ({"horizon": 2, "origin": 2000, "train_years": (1990, 1999)}, r"training years \[1999\]"),
        (
            {
                "horizon": 1,
                "origin": 2000,
                "train_years": (1995, 1996),
                "validation_years": (1997,),
            },
            r"validation years \[1997\] are outside the training window",
        ),
        ({"horizon": 1, "origin": 2000, "train_years": ()}, "training window is empty"),
        ({"horizon": 0, "origin": 2000, "train_years": (1990,)}, "horizon must be a positive"),
        ({"horizon": 1, "origin": 2000, "train_years": (1996, 1995)}, "sorted and unique"),
        (
            {
                "horizon": 1,
                "origin": 2000,
                "train_years": (1998, 1999),
                "validation_years": (1998, 1999),
            },
            "leave no years to fit on",
        ),
    ],
)
def test_bad_origins_are_refused(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Origin(**kwargs)


def test_origin_is_frozen_and_exposes_its_years() -> None:
    o = make_origin(range(1990, 2019), horizon=2, origin=2005, validation_years=3)
    assert o.test_year == 2005
    assert o.train_years[-1] == 2003
    assert o.validation_years == (2001, 2002, 2003)
    assert o.fit_years[-1] == 2000
    with pytest.raises(AttributeError):
        o.origin = 2010  # type: ignore[misc]


@pytest.mark.parametrize(
    ("h", "last_origin", "expected"),
    [
        (1, None, (2000, 2017)),
        (5, None, (2000, 2013)),
        (2, 2010, (2000, 2010)),
        (2, 2030, (2000, 2016)),
    ],
)
def test_rolling_origins_span(h: int, last_origin: int | None, expected: tuple[int, int]) -> None:
    origins = rolling_origins(range(1946, 2019), h, first_origin=2000, last_origin=last_origin)
    assert (origins[0].origin, origins[-1].origin) == expected
    assert [o.origin for o in origins] == list(range(expected[0], expected[1] + 1))


def test_masks_on_a_toy_panel() -> None:
    panel = pd.DataFrame(
        {
            "gwno": [1] * 6,
            "year": [1995, 1996, 1997, 1998, 1999, 2000],
            "in_population": [True, True, False, True, True, True],
            "relapse_h2": pd.array([0, 1, 0, 1, pd.NA, pd.NA], dtype="Int8"),
        }
    )
    o = make_origin(panel["year"], horizon=2, origin=1998, validation_years=1)
    assert panel.loc[o.train_mask(panel), "year"].tolist() == [1995, 1996]
    assert panel.loc[o.validation_mask(panel), "year"].tolist() == [1996]
    assert panel.loc[o.test_mask(panel), "year"].tolist() == [1998]
    # An origin whose test row is censored has no test rows (never evaluated on NA).
    o2 = make_origin(panel["year"], horizon=2, origin=1999, validation_years=1)
    assert not o2.test_mask(panel).any()


@pytest.fixture(scope="module")
def real_panel(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> tuple:
    from relapse.build import build_panel
    from relapse.config import compose_config

    out = tmp_path_factory.mktemp("panel")
    cfg = compose_config(
        [
            "features.families=[conflict_legacy]",
            f"paths.data_dir={data_dir}",
            f"paths.processed_dir={out}",
        ],
    )
    return build_panel(cfg).panel, cfg


@pytest.mark.slow
@pytest.mark.snapshot
@pytest.mark.parametrize("h", [1, 2, 5])
def test_every_fold_of_the_real_panel_is_honest(real_panel: tuple, h: int) -> None:
    panel, cfg = real_panel
    origins = origins_from_config(panel, h, cfg.split)
    assert origins and origins[0].origin == cfg.split.first_origin
    assert origins[-1].origin == int(panel["year"].max()) - h
    for o in origins:
        train = panel.loc[o.train_mask(panel)]
        test = panel.loc[o.test_mask(panel)]
        assert len(train) > 0 and len(test) > 0
        assert (train["year"] + h <= o.origin).all(), "a training label resolves after T"
        assert not (train["year"] == o.origin).any(), "a test-year row is in training"
        assert (test["year"] == o.origin).all()
        assert train["in_population"].all() and test["in_population"].all()
        assert train[f"relapse_h{h}"].notna().all() and test[f"relapse_h{h}"].notna().all()
        val = panel.loc[o.validation_mask(panel)]
        assert set(val.index) <= set(train.index)
    final = final_origin(panel, h, 3)
    assert final.train_years[-1] == int(panel["year"].max()) - h
