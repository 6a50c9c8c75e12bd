"""Crosswalk tables: the state lists and code tables :mod:`relapse.countries` reads, the
mission-to-ISO3 table, border distances and capitals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from relapse.synthetic.context import Context, dates
from relapse.synthetic.geography import latitude, longitude


def gw_states(ctx: Context) -> pd.DataFrame:
    w = ctx.world
    start_year = w.years[w.entry]
    return pd.DataFrame(
        {
            "gwcode": ctx.gw,
            "stateabb": ctx.iso3,
            "statename": ctx.name,
            "startdate": dates(start_year, np.where(w.entry > 0, 7, 1), 1),
            "enddate": f"{int(w.years[-1])}-12-31",
        }
    )


def cow_states(ctx: Context) -> pd.DataFrame:
    w = ctx.world
    return pd.DataFrame(
        {
            "stateabb": ctx.iso3,
            "ccode": ctx.gw,
            "statenme": ctx.name,
            "styear": w.years[w.entry],
            "endyear": int(w.years[-1]),
        }
    )


def cow_system(ctx: Context) -> pd.DataFrame:
    return pd.DataFrame({"stateabb": ctx.iso3[ctx.u], "ccode": ctx.gw[ctx.u], "year": ctx.year})


def country_codes(ctx: Context) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "country_text_id": ctx.iso3,
            "vdem_country_name": ctx.name,
            "GWn": ctx.gw.astype(float),
            "cown": ctx.gw.astype(float),
            "extended_country_name": ctx.name,
        }
    )


def un_mission_iso3(ctx: Context, m: pd.DataFrame) -> pd.DataFrame:
    un = m.loc[m["un"]]
    return pd.DataFrame(
        {
            "mission_acronym": un["acronym"].to_numpy(),
            "mission_name": un["name"].to_numpy(),
            "iso3c": un["iso3"].to_numpy(),
        }
    )


def mindist(ctx: Context) -> pd.DataFrame:
    """Border distance of each near pair (lower code first, as CShapes) per year in which
    both states exist; pairs farther apart are not written (module docstring)."""
    geo = ctx.geography
    i, j = geo.pairs[:, 0], geo.pairs[:, 1]
    both = ctx.world.in_system[i] & ctx.world.in_system[j]
    p, t = np.nonzero(both)
    return pd.DataFrame(
        {
            "gwcode1": ctx.gw[i[p]],
            "gwcode2": ctx.gw[j[p]],
            "year": ctx.world.years[t],
            "mindist": np.round(geo.km[p], 3),
        }
    )


def capitals(ctx: Context) -> pd.DataFrame:
    """One capital per state from its entry; a few move it once (a second period)."""
    rng = ctx.stream(13)
    geo = ctx.geography
    w = ctx.world
    U = len(ctx.gw)
    side = geo.side
    entry_year = w.years[w.entry]
    start = dates(entry_year, np.where(w.entry > 0, 7, 1), 1)
    last_year = int(w.years[-1])
    moves = (rng.random(U) < 0.05) & (entry_year + 2 <= last_year)
    move_year = np.where(
        moves, rng.integers(entry_year + 1, np.maximum(entry_year + 2, last_year)), 0
    )
    offset = rng.uniform(-0.3, 0.3, (U, 2)) * geo.radius[:, None]
    first = pd.DataFrame(
        {
            "gwcode": ctx.gw,
            "statenme": ctx.name,
            "capital": [f"Capital of {n}" for n in ctx.name],
            "stdate": start,
            "enddate": np.where(moves, dates(move_year - 1, 12, 31), None),  # type: ignore[call-overload]  # numpy stubs reject None
            "lat": latitude(geo.xy[:, 1], side),
            "lng": longitude(geo.xy[:, 0], side),
        }
    )
    moved = np.flatnonzero(moves)
    second = pd.DataFrame(
        {
            "gwcode": ctx.gw[moved],
            "statenme": ctx.name[moved],
            "capital": [f"New capital of {n}" for n in ctx.name[moved]],
            "stdate": dates(move_year[moved], 1, 1),
            "enddate": None,
            "lat": latitude(geo.xy[moved, 1] + offset[moved, 1], side),
            "lng": longitude(geo.xy[moved, 0] + offset[moved, 0], side),
        }
    )
    out = pd.concat([first, second], ignore_index=True)
    out[["lat", "lng"]] = out[["lat", "lng"]].round(5)
    return out.sort_values(["gwcode", "stdate"], ignore_index=True)
