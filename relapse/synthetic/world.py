"""The latent simulated world: states, their drivers, and the conflict and mission histories.

:func:`simulate_world` draws everything the raw tables are written from (see the package
docstring for the process and :class:`PlantedEffects` for the relapse hazard). It draws from
one random stream in a fixed order, so the same seed and sizes give the same world.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from relapse.sources.conflict import PROVISIONS
from relapse.synthetic.codes import unit_codes

P_CONTINUE = 0.7
"""Probability that an active conflict episode continues into the next year."""

AGREEMENTS_FIRST_YEAR = 1975
"""Peace agreements are simulated from this year on, as in the UCDP data."""

OUTCOME_PROBABILITIES: tuple[float, ...] = (0.20, 0.15, 0.25, 0.05, 0.35)
"""How episodes end: peace agreement, ceasefire, government victory, rebel victory, low
activity (UCDP Termination outcomes 1–5)."""

NOISE_FAMILY = "economy"
"""The family whose indicators are independent of conflict (see the package docstring)."""

NEVER = -(10**6)
"""The year index of an event that has not happened (yet)."""


@dataclass(frozen=True)
class PlantedEffects:
    """Annual relapse hazard, in log-odds, of a country that has had internal conflict.

    ``logit p = base + log_years_at_peace * log(years since the last active year)
    + mission * [mission present in t-1] + army_integration * [intarmy agreement in the last
    10 years] + infant_mortality * z(log infant mortality, t-2) + governance * g(t-2)
    + election * [national election in t-1]
    + ceasefire_or_low_activity / government_victory (how the last episode ended)
    + frailty * (the state's latent frailty)``, where ``z = (log IMR - log 60) / 0.6`` and
    ``g`` is the latent governance level (about standard normal).
    """

    base: float = -1.7
    log_years_at_peace: float = -0.8
    mission: float = -1.5
    army_integration: float = -1.2
    infant_mortality: float = 0.9
    governance: float = -0.6
    election: float = 0.7
    ceasefire_or_low_activity: float = 0.4
    government_victory: float = -0.4
    frailty: float = 0.0
    onset_base: float = -4.3
    """Never-in-conflict states: ``onset_base + 0.6 z + 0.4 * -g + 0.5 frailty``."""


EFFECTS = PlantedEffects()

PROVISION_P: dict[str, float] = {
    "cease": 0.6,
    "intarmy": 0.6,
    "ddr": 0.45,
    "withd": 0.2,
    "pp": 0.4,
    "intgov": 0.3,
    "elections": 0.4,
    "pko": 0.3,
    "amn": 0.35,
    "recon": 0.3,
    "justice_prov": 0.25,
}
"""Probability that a simulated peace agreement has each provision."""

MISSION_COLUMNS = [
    "unit", "start", "end", "un", "conflict_id", "mandate", "start_month", "end_month",
]  # fmt: skip


@dataclass
class World:
    """Latent states, indicators and the conflict and mission histories (arrays: unit × year)."""

    units: pd.DataFrame
    years: np.ndarray
    entry: np.ndarray
    in_system: np.ndarray
    frailty: np.ndarray
    log_imr: np.ndarray
    governance: np.ndarray
    active: np.ndarray
    intensity: np.ndarray
    conflict: np.ndarray
    outcome: np.ndarray
    """Termination outcome (1-5) in an episode's last active year, 0 elsewhere."""
    conflict_info: pd.DataFrame
    """One row per conflict: ``conflict_id``, ``unit``, ``type``, ``incompatibility``."""
    agreements: pd.DataFrame
    missions: pd.DataFrame
    mission_on: np.ndarray
    elections: np.ndarray


@dataclass(frozen=True)
class Economy:
    """The latent economy (the noise family): independent of conflict and of every other
    family, drawn from the tables' stream."""

    level: np.ndarray
    log_gdp: np.ndarray
    """Log GDP per capita, unit × year."""
    log_pop: np.ndarray
    """Log population, unit × year."""
    oil: np.ndarray
    """Whether the state produces oil."""


def ar1(rng: np.random.Generator, n: int, t: int, rho: float, sd: float) -> np.ndarray:
    """Stationary AR(1) noise, ``n`` series of length ``t``."""
    shocks = rng.normal(0.0, sd, size=(n, t))
    out = np.empty((n, t))
    out[:, 0] = shocks[:, 0] / np.sqrt(1 - rho**2)
    for j in range(1, t):
        out[:, j] = rho * out[:, j - 1] + shocks[:, j]
    return out


def draw_economy(rng: np.random.Generator, n_units: int, n_years: int) -> Economy:
    """GDP per capita, population and oil of every state (see :class:`Economy`)."""
    level = rng.normal(size=n_units)
    trend = np.arange(n_years)[None, :]
    log_gdp = 7.6 + 1.0 * level[:, None] + 0.018 * trend + ar1(rng, n_units, n_years, 0.95, 0.04)
    log_pop = (
        15.5
        + 1.3 * rng.normal(size=n_units)[:, None]
        + 0.02 * trend
        + ar1(rng, n_units, n_years, 0.9, 0.02)
    )
    return Economy(level, log_gdp, log_pop, rng.random(n_units) < 0.2)


# --------------------------------------------------------------------------------------------
# States and their drivers


@dataclass(frozen=True)
class _States:
    """The states before any conflict: entry, frailty, infant mortality, governance, votes."""

    units: pd.DataFrame
    years: np.ndarray
    entry: np.ndarray
    in_system: np.ndarray
    frailty: np.ndarray
    log_imr: np.ndarray
    imr_z: np.ndarray
    governance: np.ndarray
    elections: np.ndarray


def _draw_states(rng: np.random.Generator, n_units: int, n_years: int, first_year: int) -> _States:
    """Entry years, latent frailty, development and governance, and the election calendar."""
    U, T = n_units, n_years
    units = unit_codes(n_units)
    years = first_year + np.arange(T)
    late = rng.random(U) < 0.3
    entry = np.where(late, rng.integers(1, max(2, min(45, T - 10)), U), 0)
    in_system = np.arange(T)[None, :] >= entry[:, None]
    frailty = rng.normal(size=U)
    development = rng.normal(size=U)
    gov_level = rng.normal(size=U)
    log_imr = (
        np.log(90.0)
        - 0.012 * np.arange(T)[None, :]
        - 0.55 * development[:, None]
        + ar1(rng, U, T, 0.8, 0.08)
    )
    imr_z = (log_imr - np.log(60.0)) / 0.6
    governance = 0.85 * gov_level[:, None] + ar1(rng, U, T, 0.9, 0.2)
    # Democracies vote every four years, autocracies now and then; agreements that provide
    # for elections add one a year or two later (see _end_episodes).
    phase = rng.integers(0, 4, U)
    elections = (
        np.where(
            governance > 0, (years[None, :] + phase[:, None]) % 4 == 0, rng.random((U, T)) < 0.12
        )
        & in_system
    )
    return _States(units, years, entry, in_system, frailty, log_imr, imr_z, governance, elections)


# --------------------------------------------------------------------------------------------
# Conflict and mission histories, year by year


@dataclass
class _History:
    """What the yearly loop has simulated so far (arrays: unit × year, or per unit)."""

    n_units: int
    n_years: int
    active: np.ndarray = field(init=False)
    intensity: np.ndarray = field(init=False)
    conflict: np.ndarray = field(init=False)
    outcome: np.ndarray = field(init=False)
    mission_on: np.ndarray = field(init=False)
    last_active: np.ndarray = field(init=False)
    last_outcome: np.ndarray = field(init=False)
    intarmy_year: np.ndarray = field(init=False)
    mission_end: np.ndarray = field(init=False)
    current: np.ndarray = field(init=False)
    """Each state's current (latest) conflict id, -1 before its first."""
    conflicts: list[tuple[int, int, int, int]] = field(default_factory=list)
    agreement_rows: list[dict[str, Any]] = field(default_factory=list)
    mission_rows: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        U, T = self.n_units, self.n_years
        self.active = np.zeros((U, T), dtype=bool)
        self.intensity = np.zeros((U, T), dtype=np.int8)
        self.conflict = np.full((U, T), -1, dtype=np.int64)
        self.outcome = np.zeros((U, T), dtype=np.int8)
        self.mission_on = np.zeros((U, T), dtype=bool)
        self.last_active = np.full(U, NEVER)
        self.last_outcome = np.zeros(U, dtype=np.int8)
        self.intarmy_year = np.full(U, NEVER)
        self.mission_end = np.full(U, -1)
        self.current = np.full(U, -1, dtype=np.int64)


@dataclass(frozen=True)
class _YearDraws:
    """One year's random draws, of a fixed size so the stream does not depend on outcomes."""

    continue_: np.ndarray
    start: np.ndarray
    same: np.ndarray
    war: np.ndarray
    outcome: np.ndarray
    agree: np.ndarray
    mission: np.ndarray
    un: np.ndarray
    delay: np.ndarray
    duration: np.ndarray
    provisions: np.ndarray
    type_: np.ndarray
    incompatibility: np.ndarray
    mandate: np.ndarray
    month: np.ndarray


def _draw_year(rng: np.random.Generator, U: int) -> _YearDraws:
    """The draws of one year, in the stream's fixed order."""
    u_continue, u_start, u_same, u_war = (rng.random(U) for _ in range(4))
    u_outcome = rng.choice(5, size=U, p=OUTCOME_PROBABILITIES) + 1
    u_agree, u_mission, u_un, u_delay = (rng.random(U) for _ in range(4))
    u_duration = rng.integers(2, 13, U)
    u_provisions = rng.random((U, len(PROVISIONS)))
    u_type, u_incomp, u_mandate = rng.random(U), rng.random(U), rng.integers(1, 5, U)
    u_month = rng.integers(1, 13, (U, 2))
    return _YearDraws(
        u_continue, u_start, u_same, u_war, u_outcome, u_agree, u_mission, u_un, u_delay,
        u_duration, u_provisions, u_type, u_incomp, u_mandate, u_month,
    )  # fmt: skip


def _end_episodes(
    h: _History, s: _States, d: _YearDraws, ended: np.ndarray, end_t: int, agreements_from: int
) -> None:
    """Close the episodes whose last active year is ``end_t``: outcome, maybe an agreement
    (whose election provision adds a vote), maybe a mission."""
    T = h.n_years
    for u in ended:
        code = int(d.outcome[u])
        h.outcome[u, end_t] = code
        h.last_outcome[u] = code
        p_agree = {1: 1.0, 2: 0.5}.get(code, 0.15)
        agree = s.years[end_t] >= agreements_from and d.agree[u] < p_agree
        if agree:
            provisions = {
                p: int(d.provisions[u, k] < PROVISION_P[p]) for k, p in enumerate(PROVISIONS)
            }
            if provisions["intarmy"]:
                h.intarmy_year[u] = end_t
            if provisions["elections"]:
                s.elections[u, min(end_t + 1 + int(d.delay[u] < 0.5), T - 1)] = True
            h.agreement_rows.append(
                {
                    "unit": u,
                    "t": end_t,
                    "conflict_id": int(h.current[u]),
                    "pa_type": 1 if code == 1 else int(2 + (d.delay[u] < 0.5)),
                    "month": int(d.month[u, 0]),
                    **provisions,
                }
            )
        war = h.intensity[u, end_t] == 2
        p_mission = 0.25 + 0.3 * agree + 0.15 * war
        if d.mission[u] < p_mission and h.mission_end[u] < end_t:
            _deploy(h, d, u, end_t)


def _deploy(h: _History, d: _YearDraws, u: int, end_t: int) -> None:
    """A mission to ``u`` after its episode ended in ``end_t`` (this year or the next)."""
    start = end_t + int(d.delay[u] < 0.5)
    stop = start + int(d.duration[u]) - 1
    h.mission_end[u] = stop
    h.mission_on[u, start : min(stop, h.n_years - 1) + 1] = True
    h.mission_rows.append(
        {
            "unit": u,
            "start": start,
            "end": stop,
            "un": bool(d.un[u] < 0.7),
            "conflict_id": int(h.current[u]),
            "mandate": int(d.mandate[u]),
            "start_month": int(d.month[u, 0]),
            "end_month": int(d.month[u, 1]),
        }
    )


def _start_log_odds(h: _History, s: _States, t: int, e: PlantedEffects) -> np.ndarray:
    """Log-odds of an episode starting in ``t``: the planted relapse hazard for states that
    have had conflict, the onset hazard for the others."""
    had = h.last_active > -(10**5)
    at_peace = np.maximum(t - 1 - h.last_active, 1)
    lag2 = max(t - 2, 0)
    mission_prev = h.mission_on[:, t - 1] if t else np.zeros(h.n_units, dtype=bool)
    army = (t - 1 - h.intarmy_year) <= 9
    relapse = (
        e.base
        + e.log_years_at_peace * np.log(at_peace)
        + e.mission * mission_prev
        + e.army_integration * army
        + e.infant_mortality * s.imr_z[:, lag2]
        + e.governance * s.governance[:, lag2]
        + e.election * (s.elections[:, t - 1] if t else 0)
        + e.ceasefire_or_low_activity * np.isin(h.last_outcome, (2, 5))
        + e.government_victory * (h.last_outcome == 3)
        + e.frailty * s.frailty
    )
    onset = e.onset_base + 0.6 * s.imr_z[:, lag2] - 0.4 * s.governance[:, lag2] + 0.5 * s.frailty
    return np.where(had, relapse, onset)


def _simulate_year(
    h: _History, s: _States, d: _YearDraws, t: int, e: PlantedEffects, agreements_from: int
) -> None:
    """Year ``t``: end, continue and start episodes; new conflicts get an id and a type."""
    U = h.n_units
    prev = h.active[:, t - 1] if t else np.zeros(U, dtype=bool)
    cont = prev & (d.continue_ < P_CONTINUE) & s.in_system[:, t]
    _end_episodes(h, s, d, np.flatnonzero(prev & ~cont), t - 1, agreements_from)
    candidates = s.in_system[:, t] & ~prev
    had = h.last_active > -(10**5)
    starts = candidates & (d.start < expit(_start_log_odds(h, s, t, e)))
    new = starts & ~(had & (d.same < 0.5))
    for u in np.flatnonzero(new):
        cid = len(h.conflicts)
        h.conflicts.append(
            (cid, int(u), 4 if d.type_[u] < 0.2 else 3, 1 if d.incompatibility[u] < 0.4 else 2)
        )
        h.current[u] = cid
    war = np.where(
        cont,
        np.where(d.war < 0.85, h.intensity[:, max(t - 1, 0)] == 2, d.war >= 0.95),
        d.war < 0.25,
    )
    now = cont | starts
    h.active[:, t] = now
    h.intensity[now, t] = np.where(war[now], 2, 1)
    h.conflict[now, t] = h.current[now]
    h.last_active[now] = t


def simulate_world(
    n_units: int, n_years: int, first_year: int, seed: int, effects: PlantedEffects = EFFECTS
) -> World:
    """Draw the latent world: states, indicators' drivers, conflicts, agreements, missions.

    Parameters
    ----------
    n_units, n_years, first_year
        Number of states, number of years and the first year.
    seed
        Seed of the world's random stream.
    effects
        The planted relapse hazard.

    Returns
    -------
    World
    """
    rng = np.random.default_rng(seed)
    states = _draw_states(rng, n_units, n_years, first_year)
    h = _History(n_units, n_years)
    agreements_from = max(AGREEMENTS_FIRST_YEAR, first_year)
    for t in range(n_years):
        _simulate_year(h, states, _draw_year(rng, n_units), t, effects, agreements_from)
    return World(
        units=states.units,
        years=states.years,
        entry=states.entry,
        in_system=states.in_system,
        frailty=states.frailty,
        log_imr=states.log_imr,
        governance=states.governance,
        active=h.active,
        intensity=h.intensity,
        conflict=h.conflict,
        outcome=h.outcome,
        conflict_info=pd.DataFrame(
            h.conflicts, columns=["conflict_id", "unit", "type", "incompatibility"]
        ),
        agreements=pd.DataFrame(
            h.agreement_rows,
            columns=["unit", "t", "conflict_id", "pa_type", "month", *PROVISIONS],
        ),
        missions=pd.DataFrame(h.mission_rows, columns=MISSION_COLUMNS),
        mission_on=h.mission_on,
        elections=states.elections,
    )
