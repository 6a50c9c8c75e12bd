"""Properties of labels and splits on random toy histories (hypothesis).

Labels are recomputed naively from their definition (``relapse.panel`` module docstring) on
small random state systems — states entering and leaving, random conflict-years of random
UCDP types — and compared with :func:`relapse.panel.build_base_panel`. Splits are checked
against the invariants :class:`relapse.splits.Origin` promises.
"""

from __future__ import annotations

import itertools
from functools import cache

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relapse.config import compose_config
from relapse.panel import build_base_panel
from relapse.splits import Origin, rolling_origins

HORIZONS = (1, 2, 5)
FIRST_YEAR = 2000
LAST_UPDATE = "2017-12-31"
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def _cfg(window: int):  # type: ignore[no-untyped-def]
    return compose_config(
        [
            f"target.first_year={FIRST_YEAR}",
            f"target.horizons=[{','.join(map(str, HORIZONS))}]",
            f"target.window_years={window}",
        ],
    )


@st.composite
def histories(draw: st.DrawFn) -> dict:
    """A few states (one always present to the end), each with random conflict-years."""
    n = draw(st.integers(1, 4))
    states, acd = [], []
    for i in range(n + 1):
        gwno = 100 + 10 * i
        anchor = i == 0
        start = 1990 if anchor else draw(st.integers(1995, 2012))
        exit_year = None if anchor else draw(st.none() | st.integers(start, 2014))
        end = LAST_UPDATE if exit_year is None else f"{exit_year}-06-30"
        states.append((gwno, f"Q{i:02d}", f"State {i}", f"{start}-03-01", end))
        years = draw(st.sets(st.integers(FIRST_YEAR, 2015), min_size=int(anchor), max_size=8))
        for y in sorted(years):
            kind = draw(st.sampled_from([1, 2, 3, 3, 4, 4]))
            acd.append((draw(st.integers(1, 3)) + 10 * i, y, gwno, kind, draw(st.integers(1, 2))))
    window = draw(st.sampled_from([1, 3, 10]))
    return {"states": states, "acd": acd, "window": window}


def _tables(h: dict) -> dict[str, pd.DataFrame]:
    states = pd.DataFrame(
        h["states"], columns=["gwno", "stateabb", "statename", "startdate", "enddate"]
    )
    states["startdate"] = pd.to_datetime(states["startdate"])
    states["enddate"] = pd.to_datetime(states["enddate"])
    acd = pd.DataFrame(
        h["acd"], columns=["conflict_id", "year", "gwno", "type_of_conflict", "intensity_level"]
    )
    codes = pd.DataFrame(
        {
            "iso3": states["stateabb"],
            "country": states["statename"],
            "gwno": pd.array(states["gwno"], dtype="Int64"),
        }
    )
    return {"ucdp_acd": acd, "gw_states": states, "country_codes": codes}


def _naive(h: dict, panel: pd.DataFrame) -> pd.DataFrame:
    """Population and labels recomputed from the definitions, row by row."""
    last = max(y for _, y, *_ in h["acd"])
    present = set(zip(panel["gwno"], panel["year"], strict=True))
    active = {(g, y) for _, y, g, kind, _ in h["acd"] if kind in (3, 4)}
    rows = []
    for g, t in sorted(present):
        past = [y for (gg, y) in present if gg == g and y <= t and (g, y) in active]
        in_pop = (g, t) not in active and bool(past) and t - max(past) <= h["window"]
        row = {"gwno": g, "year": t, "in_population": in_pop}
        for k in HORIZONS:
            future = [(g, t + j) for j in range(1, k + 1)]
            at_peace = (g, t) not in active
            known = at_peace and t + k <= last and all(f in present for f in future)
            row[f"relapse_h{k}"] = int(any(f in active for f in future)) if known else None
        rows.append(row)
    return pd.DataFrame(rows).set_index(["gwno", "year"])


@PROPERTY
@given(histories())
def test_labels_match_their_definition(h: dict) -> None:
    panel = build_base_panel(_tables(h), _cfg(h["window"])).frame
    expected = _naive(h, panel)
    got = panel.set_index(["gwno", "year"]).sort_index()
    assert got.index.equals(expected.index)
    assert (got["in_population"] == expected["in_population"]).all()
    for k in HORIZONS:
        col = f"relapse_h{k}"
        mine = got[col].astype("Float64")
        theirs = pd.Series(expected[col], dtype="Float64")
        assert (mine.isna() == theirs.isna()).all(), col
        both = mine.notna()
        assert (mine[both] == theirs[both]).all(), col


@PROPERTY
@given(histories())
def test_labels_are_monotone_and_population_is_at_peace(h: dict) -> None:
    panel = build_base_panel(_tables(h), _cfg(h["window"])).frame
    pop = panel.loc[panel["in_population"]]
    assert not pop["active"].any()
    assert pop["years_since_conflict"].between(1, h["window"]).all()
    at_war = panel.loc[panel["active"], [f"relapse_h{k}" for k in HORIZONS]]
    assert at_war.isna().all().all()
    for short, long in itertools.pairwise(HORIZONS):
        a, b = panel[f"relapse_h{short}"], panel[f"relapse_h{long}"]
        known = a.notna() & b.notna()
        assert (b[known] >= a[known]).all(), (short, long)


# -------------------------------------------------------------------------------- splits


@PROPERTY
@given(
    years=st.sets(st.integers(1950, 2020), min_size=1, max_size=40),
    horizon=st.integers(1, 6),
    first=st.integers(1945, 2025),
    last=st.none() | st.integers(1945, 2025),
    validation=st.integers(0, 4),
)
def test_rolling_origins_never_leak(
    years: set[int], horizon: int, first: int, last: int | None, validation: int
) -> None:
    stop = max(years) - horizon if last is None else min(max(years) - horizon, last)
    candidates = [t for t in range(first, stop + 1) if t in years]
    windows = {t: [y for y in years if y + horizon <= t] for t in candidates}
    feasible = all(len(w) > validation if validation else w for w in windows.values())
    if not feasible:  # an origin without enough training years cannot be constructed
        with pytest.raises(ValueError):
            rolling_origins(
                years, horizon, first_origin=first, last_origin=last, validation_years=validation
            )
        return
    folds = rolling_origins(
        years, horizon, first_origin=first, last_origin=last, validation_years=validation
    )
    assert [o.origin for o in folds] == candidates
    for o in folds:
        assert all(y + horizon <= o.origin for y in o.train_years)
        assert o.origin not in o.train_years
        assert set(o.validation_years) <= set(o.train_years)
        assert list(o.train_years) == sorted(windows[o.origin])


@PROPERTY
@given(
    horizon=st.integers(-1, 5),
    origin=st.integers(1990, 2010),
    train=st.lists(st.integers(1985, 2012), max_size=8),
    validation=st.lists(st.integers(1985, 2012), max_size=4),
)
def test_origin_refuses_every_broken_invariant(
    horizon: int, origin: int, train: list[int], validation: list[int]
) -> None:
    valid = (
        horizon >= 1
        and bool(train)
        and train == sorted(set(train))
        and all(y + horizon <= origin for y in train)
        and origin not in train
        and set(validation) <= set(train)
        and (not validation or len(validation) < len(train))
    )
    if valid:
        o = Origin(
            horizon=horizon,
            origin=origin,
            train_years=tuple(train),
            validation_years=tuple(validation),
        )
        assert o.test_year == origin
    else:
        with pytest.raises(ValueError):
            Origin(
                horizon=horizon,
                origin=origin,
                train_years=tuple(train),
                validation_years=tuple(validation),
            )
