"""Governance tables (V-Dem, Polity, Freedom House, WGI, elections, police reform, EPR, SSR
aid), driven by the latent governance level."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from relapse.sources.governance import POLICE_IMPLEMENTATION, POLICE_PROVISIONS, WGI_INDICATORS
from relapse.synthetic.context import Context, window

EPR_FIRST_YEAR = 1946
"""First year of EPR's country-year file."""

EPR_MAX_GROUPS = 8
"""Most politically relevant ethnic groups a synthetic state has."""


def governance_values(ctx: Context) -> dict[str, np.ndarray]:
    g = ctx.cy(ctx.world.governance)
    return {
        "polyarchy": np.round(expit(1.3 * g + ctx.noise(0.25)), 3),
        "libdem": np.round(expit(1.3 * g - 0.4 + ctx.noise(0.25)), 3),
        "partipdem": np.round(expit(1.0 * g - 0.6 + ctx.noise(0.3)), 3),
        "delibdem": np.round(expit(1.1 * g - 0.5 + ctx.noise(0.3)), 3),
        "egaldem": np.round(expit(1.2 * g - 0.3 + ctx.noise(0.25)), 3),
        "g": g,
    }


def vdem_indices(ctx: Context, gv: dict[str, np.ndarray]) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "country_text_id": ctx.iso3[ctx.u],
            "year": ctx.year,
            "GWn": ctx.gw[ctx.u].astype(float),
        }
    )
    for key, col in (
        ("polyarchy", "v2x_polyarchy"),
        ("libdem", "v2x_libdem"),
        ("partipdem", "v2x_partipdem"),
        ("delibdem", "v2x_delibdem"),
        ("egaldem", "v2x_egaldem"),
    ):
        v = gv[key]
        out[col] = v
        out[f"{col}_codelow"] = np.round(np.clip(v - 0.06, 0, 1), 3)
        out[f"{col}_codehigh"] = np.round(np.clip(v + 0.06, 0, 1), 3)
    return out


def vdem_econ_coups(ctx: Context, gv: dict[str, np.ndarray]) -> pd.DataFrame:
    n = len(ctx.u)
    coup = np.where(ctx.rng.random(n) < 0.03, ctx.rng.integers(1, 3, n), 0).astype(float)
    oil = ctx.economy.oil[ctx.u]
    oil_income = np.where(oil, np.round(np.exp(ctx.rng.normal(5, 1, n)), 1), 0.0)
    return pd.DataFrame(
        {
            "COWcode": ctx.gw[ctx.u].astype(float),
            "year": ctx.year,
            "e_pt_coup": np.where(ctx.year >= 1950, coup, np.nan),
            "v2xpe_exlsocgr": np.round(expit(-1.1 * gv["g"] + ctx.noise(0.4)), 3),
            "v2x_polyarchy": gv["polyarchy"],
            "e_total_fuel_income_pc": np.round(oil_income * 1.2, 1),
            "e_total_oil_income_pc": oil_income,
            "e_total_resources_income_pc": np.round(
                oil_income + np.exp(ctx.rng.normal(3, 1, n)), 1
            ),
            "e_pop": np.round(np.exp(ctx.cy(ctx.economy.log_pop)) / 1000, 1),
            "e_gdppc": np.round(np.exp(ctx.cy(ctx.economy.log_gdp)) / 1000, 3),
        }
    )


def vdem_infant_cso(ctx: Context, gv: dict[str, np.ndarray]) -> pd.DataFrame:
    imr = np.round(np.exp(ctx.cy(ctx.world.log_imr)), 1)
    regime = np.digitize(gv["polyarchy"], [0.25, 0.5, 0.75]).astype(float)
    return pd.DataFrame(
        {
            "ccode": ctx.gw[ctx.u].astype(float),
            "year": ctx.year,
            "country_name": ctx.name[ctx.u],
            "v2csprtcpt_ord": np.clip(np.round(1.5 + gv["g"] + ctx.noise(0.5)), 0, 3),
            "e_peinfmor": np.clip(imr, 1, 999),
            "v2x_regime": regime,
        }
    )


def polity(ctx: Context, gv: dict[str, np.ndarray]) -> pd.DataFrame:
    g = gv["g"]
    p = np.clip(np.round(7 * g + ctx.noise(1.5)), -10, 10).astype(int)
    democ = np.round((p + 10) / 2).astype(int)
    autoc = democ - p
    durable = _durable(ctx, p)
    return pd.DataFrame(
        {
            "scode": ctx.iso3[ctx.u],
            "polity_annual_country": ctx.name[ctx.u],
            "year": ctx.year,
            "GWn": ctx.gw[ctx.u],
            "polity": p,
            "polity2": p.astype(float),
            "durable": durable,
            "democ": democ,
            "autoc": autoc,
            "xconst": np.clip(np.round(4 + 2.5 * g), 1, 7).astype(int),
            "parcomp": np.clip(np.round(2.5 + 1.5 * g), 0, 5).astype(int),
        }
    )


def _durable(ctx: Context, polity: np.ndarray) -> np.ndarray:
    """Years since the state's entry or its last polity change of 3 points or more."""
    out = np.zeros(len(polity))
    first = np.r_[True, ctx.u[1:] != ctx.u[:-1]]
    change = np.r_[False, np.abs(np.diff(polity)) >= 3] & ~first
    reset = first | change
    idx = np.arange(len(polity))
    last_reset = np.maximum.accumulate(np.where(reset, idx, 0))
    out = (idx - last_reset).astype(float)
    return np.minimum(out, 300)


def freedom_house(ctx: Context, gv: dict[str, np.ndarray]) -> pd.DataFrame:
    keep = (ctx.year >= 1972) & (ctx.year != 1982)
    g = gv["g"][keep]
    n = int(keep.sum())
    pr = np.clip(np.round(4 - 1.8 * g + ctx.rng.normal(0, 0.6, n)), 1, 7).astype(int)
    cl = np.clip(np.round(4 - 1.6 * g + ctx.rng.normal(0, 0.6, n)), 1, 7).astype(int)
    total = pr + cl
    status = np.where(total <= 5, "F", np.where(total <= 10, "PF", "NF"))
    return pd.DataFrame(
        {
            "fh_country": ctx.name[ctx.u[keep]],
            "year": ctx.year[keep],
            "pr": pr,
            "cl": cl,
            "status": status,
            "fh_total": total,
            "GWn": ctx.gw[ctx.u[keep]].astype(float),
        }
    )


def wgi(ctx: Context, gv: dict[str, np.ndarray]) -> pd.DataFrame:

    keep = (ctx.year >= 1996) & ~np.isin(ctx.year, (1997, 1999, 2001))
    parts = []
    for indicator in WGI_INDICATORS:
        est = np.clip(0.9 * gv["g"][keep] + ctx.rng.normal(0, 0.35, int(keep.sum())), -2.5, 2.5)
        parts.append(
            pd.DataFrame(
                {
                    "Code": ctx.iso3[ctx.u[keep]],
                    "Year": ctx.year[keep],
                    "Estimate": np.round(est, 3),
                    "Indicator": indicator,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def elections(ctx: Context, gv: dict[str, np.ndarray]) -> pd.DataFrame:
    n = len(ctx.u)
    held = ctx.cy(ctx.world.elections)
    pres = held & (ctx.rng.random(n) < 0.4)
    leg = held & (~pres | (ctx.rng.random(n) < 0.7))
    since = _since(ctx, held)
    keep = ctx.year >= 1945
    return pd.DataFrame(
        {
            "iso3c": ctx.iso3[ctx.u],
            "year": ctx.year,
            "natelec": held.astype(int),
            "natelec.n": pres.astype(int),
            "natelec.l": leg.astype(int),
            "years_since_last_elec": since,
        }
    ).loc[keep]


def _since(ctx: Context, event: np.ndarray) -> np.ndarray:
    """The published counter: 1 in the first row and right after an event, +1 a year."""
    first = np.r_[True, ctx.u[1:] != ctx.u[:-1]]
    prev_event = np.r_[False, event[:-1]] & ~first
    reset = first | prev_event
    idx = np.arange(len(event))
    last_reset = np.maximum.accumulate(np.where(reset, idx, 0))
    return np.minimum(idx - last_reset + 1, 300)


def aiddata(ctx: Context) -> pd.DataFrame:
    years = ctx.world.years[(ctx.world.years >= 1968) & (ctx.world.years <= 2010)][::5]
    return pd.DataFrame(
        {
            "recipient": "Regional, unspecified (synthetic)",
            "Year": years,
            "SSRcommitment": 1.0e6,
            "aid_total": 5.0e7,
            "SSRshare": 0.02,
            "iso2c": None,
        }
    )


def police(ctx: Context, agreements: pd.DataFrame) -> pd.DataFrame:

    a = agreements.loc[agreements["year"].between(1978, 2010)]
    a = a.loc[ctx.rng.random(len(a)) < 0.7]
    n = len(a)
    date = pd.to_datetime(a["pa_date"])
    ended = ctx.rng.random(n) < 0.2
    end_year = np.minimum(a["year"].to_numpy() + ctx.rng.integers(1, 6, n), 2010)
    out = pd.DataFrame(
        {
            "Year": a["year"].to_numpy(),
            "GWNO": a["gwno"].astype(int).to_numpy(),
            "PAID": [
                int(f"{g}{d:%Y%m%d}{k % 100:02d}")
                for g, d, k in zip(a["gwno"], date, a["paid"], strict=True)
            ],
            "PA.Name": [f"Synthetic agreement {p}" for p in a["paid"]],
            "pa_date": date.dt.strftime("%d.%m.%Y").to_numpy(),
            "ended": ended.astype(int),
            "Duration": np.where(ended, [f"01.06.{y}" for y in end_year], None),  # type: ignore[call-overload]  # numpy stubs reject None
        }
    )
    for col in POLICE_PROVISIONS:
        out[col] = (ctx.rng.random(n) < 0.3).astype(int)
    for col in POLICE_IMPLEMENTATION:
        values = (ctx.rng.random(n) < 0.5).astype(float)
        out[col] = np.where(ctx.rng.random(n) < 0.2, np.nan, values)
    return out


def epr(ctx: Context) -> pd.DataFrame:
    """Country-years of EPR: groups with fixed sizes whose exclusion flips now and then."""
    rng = ctx.stream(14)
    w = ctx.world
    U, T = w.in_system.shape
    G = EPR_MAX_GROUPS
    relevant = np.asarray(rng.random(U) < 0.8)
    n_groups = np.where(relevant, np.minimum(2 + rng.poisson(1.5, U), G), 0)
    exists = np.arange(G)[None, :] < n_groups[:, None]
    weight = np.where(exists, rng.gamma(1.0, 1.0, (U, G)), 0.0)
    outside = rng.gamma(0.4, 1.0, U)  # population in no politically relevant group
    size = weight / (weight.sum(axis=1) + outside)[:, None]
    g0 = w.governance[np.arange(U), w.entry]
    excluded0 = rng.random((U, G)) < expit(-0.4 - 0.8 * g0)[:, None]
    flips = np.cumsum(rng.random((U, G, T)) < 0.02, axis=2) % 2 == 1
    excluded = (excluded0[:, :, None] ^ flips) & exists[:, :, None]
    excluded[:, 0, :] = False  # the group in power
    discriminated = excluded & (rng.random((U, G))[:, :, None] < 0.35)
    autonomous = exists & (rng.random((U, G)) < 0.15)
    first, last = window(w.years, EPR_FIRST_YEAR, int(w.years[-1]))
    keep = (ctx.year >= first) & (ctx.year <= last)
    u, t = ctx.u[keep], ctx.t[keep]
    s = size[u]
    ex, di = excluded[u, :, t], discriminated[u, :, t]
    return pd.DataFrame(
        {
            "countries_gwid": ctx.gw[u],
            "year": ctx.year[keep],
            "countryname": ctx.name[u],
            "rlvt_groups_count": n_groups[u],
            "excl_groups_count": ex.sum(axis=1),
            "egippop": np.round((s * (exists[u] & ~ex)).sum(axis=1), 4),
            "exclpop": np.round((s * ex).sum(axis=1), 4),
            "discrimpop": np.round((s * di).sum(axis=1), 4),
            "maxexclpop": np.round((s * ex).max(axis=1), 4),
            "regautpop": np.round((s * autonomous[u]).sum(axis=1), 4),
            "cntr_relevance": np.where(relevant[u], "R", "P"),
        }
    )
