"""Aligning source tables with the panel's spine: same-year values and trailing windows.

Every helper reads only rows dated at or before the spine row's year, so features built with
them are safe for the vintage-invariance test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import overload

import pandas as pd


@dataclass(frozen=True)
class Grid:
    """The country-years every family builds its features for.

    Attributes
    ----------
    spine
        ``gwno``, ``year``, ``iso3``, ``country``: one row per state and year
        (:func:`relapse.panel.build_spine`), in the order the builders return their rows.
    timeline
        The spine with each country's conflict history up to each year
        (:func:`relapse.panel.build_base_panel`); read by the conflict-legacy family only.
    """

    spine: pd.DataFrame
    timeline: pd.DataFrame | None = None


@overload
def on_spine(spine: pd.DataFrame, table: pd.DataFrame, columns: str) -> pd.Series: ...
@overload
def on_spine(spine: pd.DataFrame, table: pd.DataFrame, columns: list[str]) -> pd.DataFrame: ...
def on_spine(
    spine: pd.DataFrame, table: pd.DataFrame, columns: str | list[str]
) -> pd.Series | pd.DataFrame:
    """Same-year values of ``columns`` for each spine (gwno, year); NaN where the table has none.

    Parameters
    ----------
    spine
        ``gwno`` and ``year`` of the rows wanted.
    table
        A country-year table unique on (``gwno``, ``year``).
    columns
        One column (returns a Series) or a list of columns (returns a DataFrame).

    Returns
    -------
    Series or DataFrame
        float64, aligned with ``spine``'s index.
    """
    names = [columns] if isinstance(columns, str) else list(columns)
    merged = spine[["gwno", "year"]].merge(
        table[["gwno", "year", *names]], on=["gwno", "year"], how="left", validate="many_to_one"
    )
    merged.index = spine.index
    values = merged[names].apply(pd.to_numeric).astype("float64")
    return values[columns] if isinstance(columns, str) else values


def window_max(spine: pd.DataFrame, table: pd.DataFrame, column: str, years: int) -> pd.Series:
    """Largest value of ``column`` in calendar years ``y-years+1 … y`` for each spine row.

    Years without a value are skipped; the result is NaN only when none of the window's years
    has one. Only rows dated ``y`` or earlier are read.
    """
    values = table[["gwno", "year", column]].dropna()
    stacked = [on_spine(spine.assign(year=spine["year"] - k), values, column) for k in range(years)]
    return pd.concat(stacked, axis=1).max(axis=1, skipna=True)


def recent_flag(
    spine: pd.DataFrame,
    agreements: pd.DataFrame,
    provision: str,
    years: int,
    *,
    first_year: int,
    last_year: int | None = None,
) -> pd.Series:
    """1 if an agreement signed in ``y-years+1 … y`` has ``provision``, else 0.

    Parameters
    ----------
    spine
        ``gwno`` and ``year`` of the rows wanted.
    agreements
        One row per agreement and location country: ``gwno``, ``year`` (signature year) and
        the 0/1 ``provision``.
    provision
        The provision column.
    years
        Window length in years, the current year included.
    first_year, last_year
        Years the agreement data cover: outside them the indicator is NaN, inside a year
        without a qualifying agreement is a structural 0. ``last_year`` None: no end.

    Returns
    -------
    Series
        float64 0/1/NaN aligned with ``spine``'s index.
    """
    signed = agreements.loc[agreements[provision] > 0, ["gwno", "year"]].drop_duplicates()
    signed = signed.assign(flag=1.0)
    hit = window_max(spine, signed, "flag", years).fillna(0.0)
    covered = spine["year"] >= first_year
    if last_year is not None:
        covered &= spine["year"] <= last_year
    return hit.where(covered)
