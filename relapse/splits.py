"""Rolling-origin backtest splits: time as a value object.

A forecast made at the end of year ``T`` for horizon ``h`` may learn only from rows whose
label was already known at ``T``: the label of year ``t`` looks at years ``t+1 … t+h``, so it
is known at the end of ``t + h``. The training window of origin ``T`` is therefore every year
``t`` with ``t + h <= T``; the test rows are the population rows of year ``T`` itself (their
label is scored against what happened in ``T+1 … T+h``). :class:`Origin` checks this on
construction, so a leaky split cannot exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Origin:
    """One forecast origin of a rolling-origin backtest.

    Parameters
    ----------
    horizon
        Forecast horizon ``h`` in years.
    origin
        The origin year ``T``: the forecast is made at the end of ``T`` and tested on the
        population rows of year ``T``.
    train_years
        Years whose labelled population rows may be learned from (sorted, unique).
    validation_years
        The last years of the training window, held out for early stopping and calibration.

    Raises
    ------
    ValueError
        If a training year's label would not be known at ``T`` (``year + h > T``), the test
        year is inside the training window, or a validation year is outside it.
    """

    horizon: int
    origin: int
    train_years: tuple[int, ...]
    validation_years: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        h, t = int(self.horizon), int(self.origin)
        if h < 1:
            raise ValueError(f"horizon must be a positive number of years, got {h}")
        train = tuple(int(y) for y in self.train_years)
        val = tuple(int(y) for y in self.validation_years)
        object.__setattr__(self, "train_years", train)
        object.__setattr__(self, "validation_years", val)
        if not train:
            raise ValueError(f"origin {t} (h={h}): the training window is empty")
        if list(train) != sorted(set(train)):
            raise ValueError(f"origin {t} (h={h}): train_years must be sorted and unique")
        late = [y for y in train if y + h > t]
        if late:
            raise ValueError(
                f"origin {t} (h={h}): training years {late} have labels that look past the "
                f"origin (year + h > {t}); the last allowed training year is {t - h}"
            )
        if t in train:
            raise ValueError(f"origin {t} (h={h}): the test year {t} is in the training window")
        outside = [y for y in val if y not in train]
        if outside:
            raise ValueError(
                f"origin {t} (h={h}): validation years {outside} are outside the training "
                f"window {train[0]}–{train[-1]}"
            )
        if val and len(val) >= len(train):
            raise ValueError(
                f"origin {t} (h={h}): validation years {list(val)} leave no years to fit on"
            )

    @property
    def test_year(self) -> int:
        """The year whose population rows are forecast (always the origin year)."""
        return int(self.origin)

    @property
    def fit_years(self) -> tuple[int, ...]:
        """Training years that are not validation years."""
        val = set(self.validation_years)
        return tuple(y for y in self.train_years if y not in val)

    def train_mask(self, panel: pd.DataFrame) -> pd.Series:
        """Labelled population rows of the training window (validation rows included)."""
        return _labelled(panel, self.horizon) & panel["year"].isin(self.train_years)

    def validation_mask(self, panel: pd.DataFrame) -> pd.Series:
        """Labelled population rows of the validation years."""
        return _labelled(panel, self.horizon) & panel["year"].isin(self.validation_years)

    def test_mask(self, panel: pd.DataFrame) -> pd.Series:
        """Labelled population rows of the test year ``T``."""
        return _labelled(panel, self.horizon) & (panel["year"] == self.origin)


def label_column(horizon: int) -> str:
    """The panel column holding the relapse label for ``horizon``."""
    return f"relapse_h{int(horizon)}"


def _labelled(panel: pd.DataFrame, horizon: int) -> pd.Series:
    return panel["in_population"].astype(bool) & panel[label_column(horizon)].notna()


def make_origin(
    years: Iterable[int], horizon: int, origin: int, validation_years: int = 3
) -> Origin:
    """The origin ``T`` with every available year ``t <= T - h`` in its training window.

    Parameters
    ----------
    years
        Years present in the data.
    horizon, origin
        ``h`` and ``T``.
    validation_years
        How many of the window's last years to hold out for early stopping (0: none).
    """
    train = tuple(sorted({int(y) for y in years if int(y) + horizon <= origin}))
    val = train[-validation_years:] if validation_years > 0 else ()
    return Origin(horizon=horizon, origin=origin, train_years=train, validation_years=val)


def rolling_origins(
    years: Iterable[int],
    horizon: int,
    *,
    first_origin: int,
    last_origin: int | None = None,
    validation_years: int = 3,
) -> list[Origin]:
    """Every origin ``T = first_origin … min(last_origin, last_year - h)``.

    Parameters
    ----------
    years
        Years present in the data (e.g. ``panel["year"]``).
    horizon
        Forecast horizon ``h``.
    first_origin
        First origin year.
    last_origin
        Last origin year; None, or later than ``last_year - h``, means ``last_year - h``
        (the last year whose ``h``-year label is known).
    validation_years
        Years held out at the end of each training window.

    Returns
    -------
    list of Origin
        In increasing order of ``T``; empty if ``first_origin`` is past the last origin.
    """
    all_years = sorted({int(y) for y in years})
    if not all_years:
        return []
    last = all_years[-1] - horizon
    if last_origin is not None:
        last = min(last, int(last_origin))
    return [
        make_origin(all_years, horizon, t, validation_years)
        for t in range(int(first_origin), last + 1)
        if t in all_years
    ]


def origins_from_config(panel: pd.DataFrame, horizon: int, split: object) -> list[Origin]:
    """:func:`rolling_origins` for a panel and the ``split`` config group."""
    return rolling_origins(
        np.unique(panel["year"].to_numpy()),
        horizon,
        first_origin=int(split.first_origin),  # type: ignore[attr-defined]
        last_origin=split.last_origin,  # type: ignore[attr-defined]
        validation_years=int(split.validation_years),  # type: ignore[attr-defined]
    )


def final_origin(panel: pd.DataFrame, horizon: int, validation_years: int) -> Origin:
    """The window of the final model: every labelled year, the last ones for validation.

    The origin is ``last_year`` of the data, so the training window holds every year whose
    ``h``-year label is known (``t <= last_year - h``).
    """
    years = np.unique(panel["year"].to_numpy())
    return make_origin(years, horizon, int(years.max()), validation_years)
