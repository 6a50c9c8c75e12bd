"""Conflict tables: UCDP/PRIO ACD, Termination, peace agreements, battle deaths and the
organised-violence country-years, all consistent with the world's conflict-years."""

from __future__ import annotations

import numpy as np
import pandas as pd

from relapse.sources.conflict import GED_THRESHOLD, PROVISIONS
from relapse.synthetic.context import Context, dates, window

BRD_FIRST_YEAR = 1989
"""First year of the UCDP battle-deaths and GED-based files."""


def episodes(ctx: Context) -> pd.DataFrame:
    w = ctx.world
    u, t = np.nonzero(w.active)
    prev = np.zeros_like(w.active)
    prev[:, 1:] = w.active[:, :-1]
    nxt = np.zeros_like(w.active)
    nxt[:, :-1] = w.active[:, 1:]
    starts = w.active & ~prev
    ep = np.cumsum(starts.ravel()).reshape(starts.shape) - 1
    T = len(w.years)
    df = pd.DataFrame(
        {
            "unit": u,
            "t": t,
            "episode": ep[u, t],
            "conflict": w.conflict[u, t],
            "intensity": w.intensity[u, t],
            "ep_end": (~nxt[u, t] & (t < T - 1)).astype(int),
            "outcome": w.outcome[u, t],
        }
    )
    first = df.groupby("episode")["t"].transform("min")
    df["ep_start_t"] = first
    df["conflict_start_t"] = df.groupby("conflict")["t"].transform("min")
    last = df.groupby("episode")["t"].transform("max")
    df["ep_last_t"] = last
    df["ended"] = df.groupby("episode")["ep_end"].transform("max")
    n_ep = int(df["episode"].max()) + 1 if len(df) else 0
    months = ctx.rng.integers(1, 13, (max(n_ep, 1), 2))
    days = ctx.rng.integers(1, 29, (max(n_ep, 1), 2))
    df["start_month"], df["start_day"] = months[df["episode"], 0], days[df["episode"], 0]
    df["end_month"], df["end_day"] = months[df["episode"], 1], days[df["episode"], 1]
    info = w.conflict_info.set_index("conflict_id")
    df["type"] = info["type"].reindex(df["conflict"]).to_numpy()
    df["incompatibility"] = info["incompatibility"].reindex(df["conflict"]).to_numpy()
    later = df.groupby("conflict")["episode"].transform("max") > df["episode"]
    df["recur"] = later.astype(int)
    return df


def acd(ctx: Context, ep: pd.DataFrame) -> pd.DataFrame:
    years = ctx.world.years
    cid = ep["conflict"].to_numpy() + 1000
    first_ep = ep.groupby("conflict")["episode"].transform("min")
    first_rows = ep.loc[ep["episode"] == first_ep].groupby("conflict").first()
    c_month = first_rows["start_month"].reindex(ep["conflict"]).to_numpy()
    c_day = first_rows["start_day"].reindex(ep["conflict"]).to_numpy()
    out = pd.DataFrame(
        {
            "conflict_id": cid,
            "location": ctx.name[ep["unit"]],
            "side_a": [f"Government of {n}" for n in ctx.name[ep["unit"]]],
            "side_b": [f"Armed group {c}" for c in cid],
            "incompatibility": ep["incompatibility"].to_numpy(),
            "territory_name": np.where(  # type: ignore[call-overload]  # numpy stubs reject None
                ep["incompatibility"] == 1, [f"Region {c}" for c in cid], None
            ),
            "year": years[ep["t"]],
            "intensity_level": ep["intensity"].to_numpy(),
            "type_of_conflict": ep["type"].to_numpy(),
            "start_date": dates(years[ep["conflict_start_t"]], c_month, c_day),
            "start_date2": dates(years[ep["ep_start_t"]], ep["start_month"], ep["start_day"]),
            "ep_end": ep["ep_end"].to_numpy(),
            "ep_end_date": np.where(  # type: ignore[call-overload]  # numpy stubs reject None
                ep["ep_end"] == 1, dates(years[ep["t"]], ep["end_month"], ep["end_day"]), None
            ),
            "gwno_loc": ctx.gw[ep["unit"]].astype(str),
        }
    )
    return pd.concat(
        [out, interstate(ctx, int(cid.max()) + 1 if len(cid) else 1000)], ignore_index=True
    ).sort_values(["conflict_id", "year"], ignore_index=True)


def interstate(ctx: Context, first_id: int) -> pd.DataFrame:
    """A few interstate conflict-years (type 2), always one in the last year, so that the
    conflict data end in the last simulated year and type filtering is exercised."""
    w = ctx.world
    T = len(w.years)
    k = max(1, len(w.units) // 40)
    ts = np.append(ctx.rng.integers(0, T, k - 1), T - 1)
    rows = []
    for j, t in enumerate(ts):
        present = np.flatnonzero(w.in_system[:, t])
        pair = ctx.rng.choice(present, size=min(2, len(present)), replace=False)
        loc = ", ".join(str(ctx.gw[p]) for p in sorted(pair))
        y = int(w.years[t])
        rows.append(
            {
                "conflict_id": first_id + j,
                "location": " - ".join(ctx.name[sorted(pair)]),
                "side_a": f"Government of {ctx.name[pair[0]]}",
                "side_b": f"Government of {ctx.name[pair[-1]]}",
                "incompatibility": 1,
                "territory_name": f"Border area {first_id + j}",
                "year": y,
                "intensity_level": 1,
                "type_of_conflict": 2,
                "start_date": f"{y}-03-01",
                "start_date2": f"{y}-03-01",
                "ep_end": int(t < T - 1),
                "ep_end_date": f"{y}-09-30" if t < T - 1 else None,
                "gwno_loc": loc,
            }
        )
    return pd.DataFrame(rows)


def termination(ctx: Context, ep: pd.DataFrame) -> pd.DataFrame:
    years = ctx.world.years
    last = ep["t"] == ep["ep_last_t"]
    ended = ep["ended"] == 1
    end_date = dates(years[ep["ep_last_t"]], ep["end_month"], ep["end_day"])
    return pd.DataFrame(
        {
            "conflictep_id": 100000 + ep["episode"].to_numpy(),
            "conflict_id": ep["conflict"].to_numpy() + 1000,
            "year": years[ep["t"]],
            "type_of_conflict": ep["type"].to_numpy(),
            "intensity_level": ep["intensity"].to_numpy(),
            "confterm": (last & ended).astype(int).to_numpy(),
            "ependdate": np.where(ended, end_date, None),  # type: ignore[call-overload]  # numpy stubs reject None
            # As in UCDP, a few endings have no recorded outcome.
            "outcome": np.where(
                last & ended & (ctx.rng.random(len(ep)) >= 0.05),
                ep["outcome"].astype(float),
                np.nan,
            ),
            "recur": ep["recur"].to_numpy(),
            "gwno_loc": ctx.gw[ep["unit"]].astype(str),
        }
    )


def agreements(ctx: Context) -> pd.DataFrame:
    a = ctx.world.agreements
    years = ctx.world.years[a["t"].to_numpy()]
    day = ctx.rng.integers(1, 29, len(a))
    out = pd.DataFrame(
        {
            "paid": np.arange(1, len(a) + 1) + 3000,
            "gwno": ctx.gw[a["unit"].to_numpy()].astype(str),
            "conflict_id": (a["conflict_id"].to_numpy() + 1000).astype(str),
            "year": years,
            "pa_date": dates(years, a["month"], day),
            "pa_type": a["pa_type"].to_numpy(),
            "inclusive": (ctx.rng.random(len(a)) < 0.4).astype(int),
        }
    )
    for p in PROVISIONS:
        out[p] = a[p].to_numpy()
    return out


def battle_deaths(ctx: Context, acd: pd.DataFrame) -> pd.DataFrame:
    """One or two dyads per conflict-year of the ACD from 1989, deaths by intensity."""
    rng = ctx.stream(10)
    first, last = window(ctx.world.years, BRD_FIRST_YEAR, int(ctx.world.years[-1]))
    cy = acd.loc[acd["year"].between(first, last)].reset_index(drop=True)
    n = len(cy)
    war = cy["intensity_level"].to_numpy() == 2
    low, high = (
        np.where(war, np.log(1000), np.log(25)),
        np.where(war, np.log(30000), np.log(999)),
    )
    total = np.round(np.exp(rng.uniform(low, high))).astype(np.int64)
    internal = cy["type_of_conflict"].isin([3, 4]).to_numpy()
    second = internal & (cy["conflict_id"].to_numpy() % 7 == 0) & (rng.random(n) < 0.6)
    share = rng.uniform(0.2, 0.8, n)
    first_dyad = cy.assign(
        dyad_id=cy["conflict_id"] * 10 + 1,
        bd_best=np.where(second, np.round(total * share), total).astype(np.int64),
    )
    second_dyad = cy.loc[second].assign(
        dyad_id=cy.loc[second, "conflict_id"] * 10 + 2,
        side_b=cy.loc[second, "side_b"] + " (faction B)",
        bd_best=(total - np.round(total * share)).astype(np.int64)[second],
    )
    out = pd.concat([first_dyad, second_dyad], ignore_index=True)
    m = len(out)
    best = out["bd_best"].to_numpy()
    out["bd_low"] = np.floor(best * rng.uniform(0.6, 1.0, m)).astype(np.int64)
    out["bd_high"] = np.ceil(best * rng.uniform(1.0, 1.6, m)).astype(np.int64)
    out["gwno_battle"] = _battle_places(ctx, out, rng)
    names = dict(zip(ctx.gw.astype(str), ctx.name, strict=True))
    out["battle_location"] = [
        ", ".join(names[c] for c in places.split(", ")) for places in out["gwno_battle"]
    ]
    columns = [
        "conflict_id", "dyad_id", "side_a", "side_b", "incompatibility", "year", "bd_best",
        "bd_low", "bd_high", "type_of_conflict", "battle_location", "gwno_loc", "gwno_battle",
    ]  # fmt: skip
    return out[columns].sort_values(["dyad_id", "year"], ignore_index=True)


def _battle_places(ctx: Context, brd: pd.DataFrame, rng: np.random.Generator) -> list[str]:
    """``gwno_battle``: usually the host; sometimes also, or only, its nearest neighbour
    (a rebel base across the border); for interstate dyads one or both parties."""
    geo = ctx.geography
    index = {int(g): i for i, g in enumerate(ctx.gw)}
    t0 = int(ctx.world.years[0])
    u = rng.random(len(brd))
    places = []
    for loc, year, draw in zip(brd["gwno_loc"], brd["year"], u, strict=True):
        parties = [p.strip() for p in str(loc).split(",")]
        if len(parties) > 1:
            places.append(", ".join(parties) if draw < 0.5 else parties[int(draw < 0.75)])
            continue
        host = index[int(parties[0])]
        near = geo.nearest[host]
        if near < 0 or not ctx.world.in_system[near, int(year) - t0] or draw >= 0.15:
            places.append(parties[0])
        elif draw < 0.10:
            places.append(f"{parties[0]}, {ctx.gw[near]}")
        else:
            places.append(str(ctx.gw[near]))
    return places


def organized_violence(ctx: Context, brd: pd.DataFrame, episodes: pd.DataFrame) -> pd.DataFrame:
    """Country-years from 1989 with state-based deaths where the BRD battles were, plus
    non-state and one-sided violence drawn under GED's inclusion rule (module docstring)."""
    rng = ctx.stream(11)
    w = ctx.world
    U, T = w.in_system.shape
    t0 = int(w.years[0])
    first, last = window(w.years, BRD_FIRST_YEAR, int(w.years[-1]))
    index = pd.Series(np.arange(U), index=ctx.gw)
    sb = np.zeros((U, T))
    sb_intra = np.zeros((U, T))
    places = brd["gwno_battle"].str.split(", ")
    rows = brd.assign(place=places, k=places.str.len()).explode("place")
    unit = index.reindex(rows["place"].astype(np.int64)).to_numpy()
    deaths = rows["bd_best"].to_numpy() / rows["k"].to_numpy()
    t = rows["year"].to_numpy() - t0
    np.add.at(sb, (unit, t), deaths)
    intra = rows["type_of_conflict"].isin([3, 4]).to_numpy()
    np.add.at(sb_intra, (unit[intra], t[intra]), deaths[intra])
    # GED keeps the events of a dyad that escalates the following year: a count below 25
    # in the year before an episode starts, which a feature must not use.
    starts = episodes.loc[episodes["t"] == episodes["ep_start_t"], ["unit", "t"]].to_numpy()
    before = starts[(starts[:, 1] >= 1) & (rng.random(len(starts)) < 0.5)]
    before = before[w.in_system[before[:, 0], before[:, 1] - 1]]
    extra = rng.integers(1, GED_THRESHOLD, len(before))
    np.add.at(sb, (before[:, 0], before[:, 1] - 1), extra)
    np.add.at(sb_intra, (before[:, 0], before[:, 1] - 1), extra)
    ns_n, ns_d, _ = _ged_actors(ctx, rng, 0.03, 3.3, 1.1)
    os_n, os_d, os_govt = _ged_actors(ctx, rng, 0.04, 3.5, 1.2)
    keep = (ctx.year >= first) & (ctx.year <= last)
    u, tt = ctx.u[keep], ctx.t[keep]

    def at(values: np.ndarray) -> np.ndarray:
        return np.round(values[u, tt]).astype(np.int64)

    return pd.DataFrame(
        {
            "country_id_cy": ctx.gw[u],
            "country_cy": ctx.name[u],
            "year_cy": ctx.year[keep],
            "sb_total_deaths_best_cy": at(sb),
            "sb_intrastate_deaths_best_cy": at(sb_intra),
            "ns_dyad_count_cy": at(ns_n),
            "ns_total_deaths_best_cy": at(ns_d),
            "os_dyad_count_cy": at(os_n),
            "os_total_deaths_best_cy": at(os_d),
            "os_any_govt_killings_best_cy": at(os_govt),
            "os_nsgroup_killings_best_cy": at(os_d) - at(os_govt),
        }
    )


def _ged_actors(
    ctx: Context, rng: np.random.Generator, rate: float, log_median: float, log_sd: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Non-state dyads or one-sided actors: (count, deaths, deaths by governments), unit ×
    year. Each lasts 1-5 years; one that never reaches 25 deaths in a year is left out,
    as GED leaves it out, so the kept years below 25 are those of actors that reach it in
    another year (before or after)."""
    w = ctx.world
    U, T = w.in_system.shape
    hazard = rate * np.exp(0.5 * w.frailty[ctx.u]) * (1 + 2 * w.active[ctx.u, ctx.t])
    born = rng.poisson(hazard)
    actor_u, actor_t = np.repeat(ctx.u, born), np.repeat(ctx.t, born)
    length = np.minimum(rng.geometric(0.5, len(actor_u)), 5)
    govt = rng.random(len(actor_u)) < 0.4
    actor = np.repeat(np.arange(len(actor_u)), length)
    step = np.arange(len(actor)) - np.repeat(np.cumsum(length) - length, length)
    uu, tt = actor_u[actor], actor_t[actor] + step
    inside = tt < T
    inside[inside] = w.in_system[uu[inside], tt[inside]]
    actor, uu, tt = actor[inside], uu[inside], tt[inside]
    deaths = np.round(np.exp(rng.normal(log_median, log_sd, len(actor))))
    peak = np.zeros(len(actor_u))
    np.maximum.at(peak, actor, deaths)
    kept = (peak >= GED_THRESHOLD)[actor] & (deaths > 0)
    count, total, by_govt = (np.zeros((U, T)) for _ in range(3))
    np.add.at(count, (uu[kept], tt[kept]), 1)
    np.add.at(total, (uu[kept], tt[kept]), deaths[kept])
    g = kept & govt[actor]
    np.add.at(by_govt, (uu[g], tt[g]), deaths[g])
    return count, total, by_govt
