"""Economic and services tables: services indicators driven by infant mortality, and the
economy (PWT, WDI, Maddison, COW NMC, fractionalisation), the noise family."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from relapse.sources.economic import GAPMINDER_COLUMNS, WDI_YEARS
from relapse.synthetic.context import Context


def gapminder(ctx: Context) -> pd.DataFrame:

    n = len(ctx.u)
    imr = np.exp(ctx.cy(ctx.world.log_imr))
    z = (np.log(imr) - np.log(60.0)) / 0.6
    y = ctx.year
    gdp = np.exp(ctx.cy(ctx.economy.log_gdp))
    oil = ctx.economy.oil[ctx.u]
    values = {
        "gdp_pc_ppp_long": np.round(gdp * 1.8, 1),
        "gdp_pc_constant_usd": np.round(gdp, 1),
        "infant_mortality": np.round(np.clip(imr, 1, 999), 1),
        "under5_mortality": np.round(np.clip(imr * 1.45 * np.exp(ctx.noise(0.05)), 1, 999), 1),
        "basic_water_pct": np.where(
            y >= 2000, np.round(100 * expit(1.0 - 1.2 * z + ctx.noise(0.3)), 1), np.nan
        ),
        "basic_sanitation_pct": np.where(
            y >= 2000, np.round(100 * expit(0.3 - 1.3 * z + ctx.noise(0.3)), 1), np.nan
        ),
        "electricity_kwh_pc": np.where(
            y >= 1960, np.round(np.exp(6.5 - 1.2 * z + ctx.noise(0.4)), 1), np.nan
        ),
        "life_expectancy": np.round(np.clip(80 - 0.15 * imr + ctx.noise(1.5), 20, 95), 1),
        "adult_literacy_pct": np.where(
            ctx.rng.random(n) < 0.15,
            np.round(100 * expit(1.0 - 1.5 * z + ctx.noise(0.3)), 1),
            np.nan,
        ),
        "aid_pc_usd": np.round(ctx.noise(20) + 15, 2),
        "aid_pct_gni": np.round(ctx.noise(3) + 2, 2),
        "milex_pct_gdp": np.round(np.exp(ctx.noise(0.5) + 0.7), 2),
        "armed_forces_pct_labour": np.round(np.clip(np.exp(ctx.noise(0.6)), 0, 100), 2),
        "oil_production_pc": np.where(oil, np.round(np.exp(ctx.noise(1.0) - 1), 3), np.nan),
        "urban_pct": np.round(100 * expit(ctx.noise(0.8) + 0.01 * (y - 1980)), 1),
        "schooling_women_years": np.where(
            y <= 2009, np.round(np.clip(6 - 2.5 * z + ctx.noise(0.8), 0, 25), 1), np.nan
        ),
    }
    out = pd.DataFrame(
        {
            "geo": np.char.lower(ctx.iso3[ctx.u].astype(str)),
            "iso3": ctx.iso3[ctx.u],
            "name": ctx.name[ctx.u],
            "year": y,
        }
    )
    for raw, tidy in GAPMINDER_COLUMNS.items():
        out[raw] = values[tidy]
    return out


def wdi(ctx: Context, which: str) -> pd.DataFrame:

    T = len(ctx.world.years)
    table = ctx.economy.log_gdp if which == "gdp" else ctx.economy.log_pop
    values = np.exp(table)
    code, label = (
        ("NY.GDP.PCAP.CD", "GDP per capita (current US$)")
        if which == "gdp"
        else ("SP.POP.TOTL", "Population, total")
    )
    out = pd.DataFrame(
        {
            "Country Name": ctx.name,
            "Country Code": ctx.iso3,
            "Indicator Name": label,
            "Indicator Code": code,
        }
    )
    for y in WDI_YEARS:
        t = y - int(ctx.world.years[0])
        if 0 <= t < T:
            v = values[:, t] * (1.1 if which == "gdp" else 1.0)
            col = np.round(v, 2) if which == "gdp" else np.round(v)
            out[str(y)] = np.where(ctx.world.in_system[:, t], col, np.nan)
        else:
            out[str(y)] = np.nan
    return out


def pwt(ctx: Context) -> pd.DataFrame:
    keep = ctx.year >= 1950
    u, y = ctx.u[keep], ctx.year[keep]
    n = len(u)
    pop = np.exp(ctx.economy.log_pop[u, ctx.t[keep]]) / 1e6
    gdp = np.exp(ctx.economy.log_gdp[u, ctx.t[keep]])
    rgdpna_pc = gdp * np.exp(ctx.rng.normal(0, 0.03, n))
    shares = {
        c: np.round(ctx.rng.uniform(lo, hi, n), 3)
        for c, lo, hi in (
            ("csh_c", 0.4, 0.8),
            ("csh_i", 0.1, 0.35),
            ("csh_g", 0.08, 0.3),
            ("csh_x", 0.05, 0.6),
            ("csh_m", -0.7, -0.05),
        )
    }
    return pd.DataFrame(
        {
            "country": ctx.name[u],
            "isocode": ctx.iso3[u],
            "year": y,
            "rgdpe": np.round(gdp * pop, 2),
            "rgdpo": np.round(gdp * pop * 0.98, 2),
            "rgdpna": np.round(rgdpna_pc * pop, 2),
            "pop": np.round(pop, 5),
            "emp": np.round(pop * 0.4, 5),
            "hc": np.round(ctx.rng.uniform(1, 3.5, n), 3),
            **shares,
            "i_outlier": np.where(ctx.rng.random(n) < 0.02, "yes", "no"),
        }
    )


def maddison(ctx: Context) -> pd.DataFrame:
    gdp = np.exp(ctx.cy(ctx.economy.log_gdp))
    return pd.DataFrame(
        {
            "countrycode": ctx.iso3[ctx.u],
            "country": ctx.name[ctx.u],
            "year": ctx.year,
            "cgdppc": np.round(gdp * 0.9, 1),
            "rgdpnapc": np.round(gdp * 0.9 * np.exp(ctx.noise(0.02)), 1),
            "pop": np.round(np.exp(ctx.cy(ctx.economy.log_pop)) / 1000, 1),
        }
    )


def cow_nmc(ctx: Context) -> pd.DataFrame:
    n = len(ctx.u)
    pop_k = np.exp(ctx.cy(ctx.economy.log_pop)) / 1000
    milper = np.round(pop_k * np.exp(ctx.noise(0.5) - 5.0), 1)
    missing = ctx.rng.random(n) < 0.03
    tpop = np.round(pop_k)
    share = tpop / pd.Series(tpop).groupby(ctx.year).transform("sum").to_numpy()
    return pd.DataFrame(
        {
            "stateabb": ctx.iso3[ctx.u],
            "ccode": ctx.gw[ctx.u],
            "year": ctx.year,
            "milex": np.where(missing, -9, np.round(np.exp(ctx.noise(1.0) + 10))),
            "milper": milper,
            "irst": np.round(np.exp(ctx.noise(1.5) + 3)),
            "pec": np.round(np.exp(ctx.noise(1.2) + 6)),
            "tpop": tpop,
            "upop": np.round(tpop * 0.3),
            "cinc": np.round(share, 6),
        }
    )


def creg(ctx: Context) -> pd.DataFrame:
    keep = ctx.year <= 2013
    u = ctx.u[keep]
    base = ctx.rng.uniform(0.05, 0.9, (len(ctx.gw), 4))[u]
    values = np.clip(base + ctx.rng.normal(0, 0.005, base.shape), 0, 1).round(4)
    return pd.DataFrame(
        {
            "ccode": ctx.gw[u],
            "gwcode": ctx.gw[u],
            "creg_ccode": ctx.gw[u],
            "year": ctx.year[keep],
            "ethfrac": values[:, 0],
            "ethpol": values[:, 1],
            "relfrac": values[:, 2],
            "relpol": values[:, 3],
        }
    )


def hief(ctx: Context) -> pd.DataFrame:
    keep = ctx.year <= 2013
    u = ctx.u[keep]
    base = ctx.rng.uniform(0.05, 0.9, len(ctx.gw))[u]
    return pd.DataFrame(
        {
            "ccode": ctx.gw[u],
            "gwcode": ctx.gw[u],
            "year": ctx.year[keep],
            "efindex": np.clip(base + ctx.rng.normal(0, 0.003, len(u)), 0, 1).round(3),
        }
    )
