"""Peacekeeping tables: the world's missions as the mission lists, mission-months, personnel,
contributions and mission-type files describe them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from relapse.sources.peacekeeping import GEOPKO
from relapse.synthetic.context import Context, dates, window


def mission_names(ctx: Context) -> pd.DataFrame:
    m = ctx.world.missions.copy()
    m["acronym"] = [f"{'UNSM' if un else 'RSM'}{k + 1:05d}" for k, un in enumerate(m["un"])]
    m["name"] = [
        f"{'United Nations' if un else 'Regional'} Synthetic Mission in {n}"
        for un, n in zip(m["un"], ctx.name[m["unit"]], strict=True)
    ]
    m["gwno"] = ctx.gw[m["unit"].to_numpy()]
    m["country"] = ctx.name[m["unit"].to_numpy()]
    m["iso3"] = ctx.iso3[m["unit"].to_numpy()]
    T = len(ctx.world.years)
    m["ongoing"] = m["end"] > T - 1
    m["start_year"] = ctx.world.years[0] + m["start"]
    m["end_year"] = ctx.world.years[0] + m["end"]
    m["troops"] = np.round(np.exp(ctx.rng.normal(7.5, 0.9, len(m))))
    m["police"] = np.round(np.exp(ctx.rng.normal(5.0, 1.0, len(m))))
    m["observers"] = np.round(np.exp(ctx.rng.normal(3.5, 0.8, len(m))))
    m["org"] = np.where(m["un"], 1, np.where(ctx.rng.random(len(m)) < 0.7, 2, 3))
    return m


def mission_months(ctx: Context, m: pd.DataFrame, first: int, last: int) -> pd.DataFrame:
    """One row per mission-month deployed within [first, last]."""
    rows = []
    for r in m.itertuples(index=False):
        end_year = min(r.end_year, int(ctx.world.years[-1]))
        end_month = r.end_month if not r.ongoing else 12
        for y in range(max(r.start_year, first), min(end_year, last) + 1):
            lo = r.start_month if y == r.start_year else 1
            hi = end_month if y == end_year else 12
            for month in range(lo, hi + 1):
                rows.append((r.acronym, y, month))
    months = pd.DataFrame(rows, columns=["acronym", "year", "month"])
    return months.merge(m, on="acronym", how="left")


def un_mission_list(ctx: Context, m: pd.DataFrame) -> pd.DataFrame:
    un = m.loc[m["un"]]
    n = len(un)
    return pd.DataFrame(
        {
            "mission_acronym": un["acronym"].to_numpy(),
            "mission_name": un["name"].to_numpy(),
            "mission_isactive": np.where(un["ongoing"], "Yes", "No"),
            "start_date": dates(un["start_year"], un["start_month"], 15),
            "end_date": np.where(  # type: ignore[call-overload]  # numpy stubs reject None
                un["ongoing"], None, dates(un["end_year"], un["end_month"], 15)
            ),
            "mission_location": [f"Capital of {c}" for c in un["country"]] if n else [],
        }
    )


def bara_hultman(ctx: Context, m: pd.DataFrame) -> pd.DataFrame:
    first, last = window(ctx.world.years, 1993, 2016)
    mm = mission_months(ctx, m, first, last)
    active = ctx.world.active[mm["unit"].to_numpy(), mm["year"].to_numpy() - ctx.world.years[0]]
    observers = np.where(mm["year"] >= 2015, 0.0, mm["observers"])
    return pd.DataFrame(
        {
            "ccode": mm["gwno"].to_numpy(),
            "location": mm["country"].to_numpy(),
            "conflictid": mm["conflict_id"].to_numpy() + 1000,
            "episodenum": (mm["conflict_id"].to_numpy() + 1000) * 100 + 1,
            "activity": active.astype(int),
            "incomp": ctx.world.conflict_info.set_index("conflict_id")["incompatibility"]
            .reindex(mm["conflict_id"])
            .to_numpy(),
            "date": dates(mm["year"], mm["month"], 1),
            "year": mm["year"].to_numpy(),
            "missionid": mm["acronym"]
            .map({a: 50000 + k for k, a in enumerate(m["acronym"])})
            .to_numpy(),
            "mission": mm["acronym"].to_numpy(),
            "org": mm["org"].to_numpy(),
            "onlypolice": 0,
            "troops_backward": mm["troops"].to_numpy(),
            "police_backward": mm["police"].to_numpy(),
            "observers_backward": observers,
        }
    )


def un_personnel(ctx: Context, m: pd.DataFrame) -> pd.DataFrame:
    first, last = window(ctx.world.years, 1990, 2015)
    mm = mission_months(ctx, m.loc[m["un"]], first, last)
    n = len(mm)
    auth_t = np.round(mm["troops"] * 1.2)
    auth_p = np.round(mm["police"] * 1.1)
    auth_o = np.round(mm["observers"] * 1.1)
    total = mm["troops"] + mm["police"] + mm["observers"]
    auth = auth_t + auth_p + auth_o
    return pd.DataFrame(
        {
            "mission": mm["acronym"].to_numpy(),
            "missioncountry": mm["country"].to_numpy(),
            "missionccode": mm["gwno"].astype(float).to_numpy(),
            "year": mm["year"].to_numpy(),
            "month": mm["month"].to_numpy(),
            "authtroop": auth_t.to_numpy(),
            "authpolice": auth_p.to_numpy(),
            "authmilobs": auth_o.to_numpy(),
            "troop": mm["troops"].to_numpy(),
            "police": mm["police"].to_numpy(),
            "milobs": mm["observers"].to_numpy(),
            "totalauth": auth.to_numpy(),
            "total": total.to_numpy(),
            "contributors": ctx.rng.integers(3, 30, n).astype(float),
            "propshortfall": np.clip((auth - total) / auth, 0, 1).round(4).to_numpy(),
        }
    )


def contributions(ctx: Context, m: pd.DataFrame) -> pd.DataFrame:
    first, last = window(ctx.world.years, 2010, 2018)
    rows = []
    un = m.loc[m["un"]]
    for r in un.itertuples(index=False):
        end_year = min(r.end_year, int(ctx.world.years[-1]))
        for y in range(max(r.start_year, first), min(end_year, last) + 1):
            k = int(ctx.rng.integers(2, 12))
            for c in sorted(ctx.rng.choice(60, size=k, replace=False)):
                female = int(ctx.rng.integers(0, 20))
                male = int(ctx.rng.integers(5, 800))
                rows.append((y, f"Contributor {c + 1:02d}", r.acronym, female, male, female + male))
    return pd.DataFrame(rows, columns=["Year", "Country", "Mission", "Female", "Male", "Total"])


def mullenbach(ctx: Context, m: pd.DataFrame) -> pd.DataFrame:
    n = len(m)
    tptype = np.where(m["un"], 1, np.where(m["org"] == 2, 2, 3))
    return pd.DataFrame(
        {
            "OBSNUM": np.arange(1, n + 1),
            "STATE": m["country"].to_numpy(),
            "CCODE1": m["gwno"].to_numpy(),
            "TPTYPE": tptype,
            "UNMANDATE": np.where(m["un"], 1, (ctx.rng.random(n) < 0.3).astype(int)),
            "PKMNAMElocation": [
                f"{nm} ({a})" for nm, a in zip(m["name"], m["acronym"], strict=True)
            ],
            "PURPOSE1": 2,
            "PURPOSE2": 8,
            "PURPOSE3": 8,
            "PURPOSE4": 8,
            "STARTYR": m["start_year"].to_numpy(),
            "STARTMON": m["start_month"].to_numpy(),
            "ENDYR": np.where(m["ongoing"], np.nan, m["end_year"]),
            "ENDMON": np.where(m["ongoing"], np.nan, m["end_month"]),
            "ONGOING": m["ongoing"].astype(int).to_numpy(),
            "PKMNUM1": (m["troops"] + m["police"] + m["observers"]).to_numpy(),
            "PKMNUM2": np.nan,
        }
    )


def doyle_sambanis(ctx: Context, m: pd.DataFrame) -> pd.DataFrame:
    first, last = window(ctx.world.years, 1948, 2010)
    rows = []
    for r in m.loc[m["un"]].itertuples(index=False):
        for y in range(max(r.start_year, first), min(r.end_year, last) + 1):
            rows.append((float(r.gwno), y, r.mandate))
    out = pd.DataFrame(rows, columns=["State.Code", "Year", "DS_ordinal"])
    for k, col in enumerate(("DS_Observe", "DS_TradPKO", "DS_MultiPKO", "DS_Enforce")):
        out[col] = (out["DS_ordinal"] == k + 1).astype(int)
    return out


def geopko(ctx: Context) -> pd.DataFrame:

    return pd.DataFrame({c: pd.Series(dtype=object) for c in GEOPKO.raw_schema.columns})
