"""``data=synthetic``: a seeded simulated world written in the snapshot's own file layout.

:func:`simulate` draws ``data.n_units`` invented states over ``data.n_years`` years from
``data.first_year`` and returns one raw table per registered source
(:data:`relapse.sources.SOURCES`), with the raw columns of each source's schema, so every
loader, the panel, training, explanation, reports and scoring run on it unchanged.
:func:`write_dataset` writes the tables as CSV with a ``MANIFEST.csv``; :func:`ensure_dataset`
does so once, atomically, the first time a command reads the configured data directory.
Same seed and sizes give byte-identical files.

States and codes
----------------
Unit ``i`` gets a Gleditsch–Ward code that is never a real state's (GW/COW code lists of the
2018 snapshot) nor a code any loader treats specially (the trap tables of
:mod:`relapse.countries` and the source modules): first the free codes 2–999, then 1000, 1001…
(:data:`relapse.sources.base.COUNTRY_CODE_MAX` allows up to five digits). The COW code equals
the GW code. ISO3 codes come first from ISO 3166's user-assigned ranges (``XAA``–``XZZ``,
``QMA``–``QZZ``, ``AAA``–``AAZ``, ``ZZA``–``ZZZ``), then from the remaining three-letter codes
that are neither real nor special. Names are "Synthetic State 00001"… All three are written
consistently into ``crosswalks/gw_states.csv``, ``cow_states.csv``, ``cow_system…csv`` and
``country_codes_iso3_gw_cow.csv``, which :mod:`relapse.countries` reads.

Two sources map hosts from country *names* (Geo-PKO) or ISO2 codes (AidData) with
``country_converter``, which cannot know invented states: Geo-PKO is written with its header
only and AidData with a few "regional, unspecified" rows (excluded by the loader), so the
features built from them (``mis_locations``, ``mis_fpu_present``, ``ssr_aid_*``) are missing.

The simulated world
-------------------
Each state has a latent frailty, a development level (driving infant mortality and the other
services indicators), a governance level (driving V-Dem, Polity, Freedom House, WGI and
elections) and, independently of everything else, an economy (GDP, growth, population, oil,
aid). Internal armed conflict (UCDP types 3 and 4) starts with a small onset hazard;
an episode continues each year with probability :data:`P_CONTINUE`; when it ends it gets a
termination outcome, possibly a peace agreement with provisions, and possibly a UN or
non-UN peacekeeping mission. A country that has had conflict then relapses with the annual
hazard of :class:`PlantedEffects` (log-odds), whose terms are all values the features can see
at the end of year ``t - 1`` for the forecast of year ``t`` (mission and agreement records
with lag 0, annual indicators with the registry's lag of 1, i.e. values of ``t - 2``):

* time at peace lowers it (``log`` of years since the last active year);
* a UN or non-UN mission present in ``t - 1`` lowers it;
* an army-integration provision (``intarmy``) in an agreement signed in ``t - 10 … t - 1``
  lowers it;
* infant mortality (``t - 2``) raises it; better governance (``t - 2``) lowers it;
* a national election in ``t - 1`` raises it (elections soon after war are risky);
* ceasefire and low-activity endings raise it, government victories lower it.

Geography, battle deaths and organised violence
-----------------------------------------------
States are discs in a square plane of about :data:`STATE_SPACING_KM` per state; a state's
border distance to another is the distance between centres less both radii (0: contiguous).
``gw_mindist`` lists only near pairs (each state with its :data:`NEIGHBOURS` nearest centres,
lower code first, every year both exist), so it grows with the number of states and not its
square: a pair absent from the file is "not near". Capitals (``gw_capitals``) sit at the
centres, the plane mapped linearly onto latitude and longitude; a few states move theirs once.
Battle deaths (``ucdp_brd``) are drawn for every ACD conflict-year from 1989 (25-999 deaths in
a minor conflict-year, 1,000 or more in a war; some internal conflicts have a second dyad);
the fighting is usually in the host, sometimes also or only in its nearest neighbour. The
organised-violence file puts those deaths where the battles were, and follows GED's inclusion
rule: non-state dyads and one-sided actors that never reach 25 deaths in a year are left out,
so their years below 25 belong to actors that reach it in another year, and in half of the
years before an episode starts the host gets 1-24 state-based deaths (the dyad escalates the
next year) -- the leak a feature must not use. EPR exclusion follows the latent governance
level at entry, with rare changes of a group's status.

**Noise family: economy.** Every economy indicator (PWT, WDI, Maddison, V-Dem resource
income, Gapminder oil and aid) is drawn independently of the conflict process and of every
other family, so a model that credits it is overfitting. Within the other families some
features are noise as well (DDR and police-reform provisions, coups, military size, ethnic
fractionalisation).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relapse.errors import DataError
from relapse.sources.conflict import GED_THRESHOLD, PROVISIONS

GENERATOR_VERSION = 2
"""Bumped whenever the generated files change for the same seed and sizes."""

MARKER = "SYNTHETIC.json"
"""Written beside ``MANIFEST.csv``: the parameters and planted effects of the data set."""

MAX_UNITS = 15_000
"""Upper bound of ``data.n_units`` (three-letter ISO3 codes run out near 17,000)."""

P_CONTINUE = 0.7
"""Probability that an active conflict episode continues into the next year."""

AGREEMENTS_FIRST_YEAR = 1975
"""Peace agreements are simulated from this year on, as in the UCDP data."""

OUTCOME_PROBABILITIES: tuple[float, ...] = (0.20, 0.15, 0.25, 0.05, 0.35)
"""How episodes end: peace agreement, ceasefire, government victory, rebel victory, low
activity (UCDP Termination outcomes 1–5)."""

NOISE_FAMILY = "economy"
"""The family whose indicators are independent of conflict (see the module docstring)."""

BRD_FIRST_YEAR = 1989
"""First year of the UCDP battle-deaths and GED-based files."""

EPR_FIRST_YEAR = 1946
"""First year of EPR's country-year file."""

EPR_MAX_GROUPS = 8
"""Most politically relevant ethnic groups a synthetic state has."""

NEIGHBOURS = 6
"""Each state's nearest states (by centre) whose border distances are written."""

STATE_SPACING_KM = 900.0
"""Typical distance between neighbouring states' centres (about the real world's density)."""


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


# --------------------------------------------------------------------------------------------
# Codes

# GW and COW codes of the real state system (2018 snapshot): never given to a synthetic state.
_REAL_CODES_TEXT = """
2 20 31 40 41 42 51 52 53 54 55 56 57 58 60 70 80 89 90 91 92 93 94 95 99 100 101 110 115 130
135 140 145 150 155 160 165 200 205 210 211 212 220 221 223 225 230 232 235 240 245 255 260 265
267 269 271 273 275 280 290 300 305 310 315 316 317 325 327 329 331 332 335 337 338 339 340 341
343 344 345 346 347 349 350 352 355 359 360 365 366 367 368 369 370 371 372 373 375 380 385 390
393 395 402 403 404 411 420 432 433 434 435 436 437 438 439 450 451 452 461 471 475 481 482 483
484 490 500 501 510 511 516 517 520 522 530 531 540 541 551 552 553 560 563 564 565 570 571 572
580 581 590 591 600 615 616 620 625 626 630 640 645 651 652 660 663 666 670 678 679 680 690 692
694 696 698 700 701 702 703 704 705 710 711 712 713 730 731 732 740 750 760 770 771 775 780 781
790 800 811 812 815 816 817 820 830 835 840 850 851 860 900 910 920 935 940 941 946 947 950 955
970 983 986 987 990
"""
_REAL_CODES = frozenset(int(c) for c in _REAL_CODES_TEXT.split())

# ISO3 codes of real countries, territories and V-Dem units (country_converter and the
# snapshot's crosswalk): never given to a synthetic state.
_REAL_ISO3_TEXT = """
ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BDN BEL BEN BES BFA BGD
BGR BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BRW BTN BVR BVT BWA CAF CAN CCK CHE CHL CHN CIV
CMR COD COG COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE DDR DEU DJI DMA DNK DOM DZA ECU EGY ERI
ESH ESP EST ETH FIN FJI FLK FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL
GTM GUF GUM GUY HDM HKG HKS HMD HND HRG HRV HTI HUN HVR IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA
JAM JEY JOR JPN KAZ KEN KGZ KHM KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC
MAF MAR MCL MCO MDA MDG MDN MDV MEX MHL MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR MTQ MUS MWI MYS
MYT NAM NCL NER NFK NGA NIC NIU NLD NOR NPL NRU NSS NZL OLD OMN PAK PAN PCN PER PHL PLW PNG POL
PPS PRI PRK PRM PRT PRY PSB PSE PSG PYF QAT REU ROU RUS RWA SAU SAX SDN SEN SGP SGS SHN SJM SLB
SLE SLV SML SMR SOM SPD SPM SRB SSD STP SUR SVK SVN SWE SWZ SXM SXN SYC SYR TCA TCD TGO THA TJK
TKL TKM TLS TON TSC TTO TUN TUR TUV TWN TWS TZA UGA UKR UMI URY USA UZB VAT VCT VDR VEN VGB VIR
VNM VUT WLF WRG WSM XKX YEM YMD ZAF ZMB ZWE ZZB
"""
_REAL_ISO3 = frozenset(_REAL_ISO3_TEXT.split())


def _special_codes() -> tuple[set[int], set[str]]:
    """Numeric and ISO3 codes named by any upper-case constant of the modules that map
    country codes (trap tables, microstate and non-state lists, era tables...): a synthetic
    state never gets one of them, so no loader treats it specially."""
    import importlib

    numbers: set[int] = set()
    letters: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, bool):
            return
        if isinstance(value, int) and 0 < value <= 99_999:
            numbers.add(value)
        elif isinstance(value, str) and len(value) == 3 and value.isalpha() and value.isupper():
            letters.add(value)
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(k)
                walk(v)
        elif isinstance(value, (set, frozenset, tuple, list)):
            for v in value:
                walk(v)

    for module in (
        "relapse.countries",
        "relapse.sources.economic",
        "relapse.sources.governance",
        "relapse.sources.peacekeeping",
        "relapse.features.mission",
    ):
        mod = importlib.import_module(module)
        for name, value in vars(mod).items():
            if name.isupper() or (name.startswith("_") and name[1:].isupper()):
                walk(value)
    return numbers, letters


def unit_codes(n_units: int) -> pd.DataFrame:
    """GW (= COW) code, ISO3 code and name of each synthetic state (see the module docstring).

    Raises
    ------
    DataError
        If ``n_units`` exceeds :data:`MAX_UNITS`.
    """
    from relapse.sources.base import COUNTRY_CODE_MAX

    if not 1 <= n_units <= MAX_UNITS:
        raise DataError(f"synthetic data: n_units must be 1-{MAX_UNITS}, got {n_units}")
    special_numbers, special_letters = _special_codes()
    taken = _REAL_CODES | special_numbers | {0, 1}
    small = [c for c in range(2, 1000) if c not in taken]
    large = range(1000, 1000 + max(0, n_units - len(small)))
    gw = np.array([*small, *large][:n_units], dtype=np.int64)
    if gw.max() > COUNTRY_CODE_MAX:
        raise DataError(f"synthetic data: {n_units} units need codes above {COUNTRY_CODE_MAX}")
    letters = [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    user = (
        [f"X{a}{b}" for a in letters for b in letters]
        + [f"Q{a}{b}" for a in letters[12:] for b in letters]
        + [f"AA{a}" for a in letters]
        + [f"ZZ{a}" for a in letters]
    )
    rest = [f"{a}{b}{c}" for a in letters for b in letters for c in letters]
    # "NAN" would be read back as missing (Gapminder's ``geo`` is the lower-case code).
    excluded = _REAL_ISO3 | special_letters | {"NAN"}
    ordered = list(dict.fromkeys(c for c in [*user, *rest] if c not in excluded))
    names = np.array([f"Synthetic State {i + 1:05d}" for i in range(n_units)])
    return pd.DataFrame({"gwno": gw, "iso3": ordered[:n_units], "name": names})


# --------------------------------------------------------------------------------------------
# The simulated world


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


def _ar1(rng: np.random.Generator, n: int, t: int, rho: float, sd: float) -> np.ndarray:
    """Stationary AR(1) noise, ``n`` series of length ``t``."""
    shocks = rng.normal(0.0, sd, size=(n, t))
    out = np.empty((n, t))
    out[:, 0] = shocks[:, 0] / np.sqrt(1 - rho**2)
    for j in range(1, t):
        out[:, j] = rho * out[:, j - 1] + shocks[:, j]
    return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


_PROVISION_P: dict[str, float] = {
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


def simulate_world(
    n_units: int, n_years: int, first_year: int, seed: int, effects: PlantedEffects = EFFECTS
) -> World:
    """Draw the latent world: states, indicators' drivers, conflicts, agreements, missions."""
    rng = np.random.default_rng(seed)
    units = unit_codes(n_units)
    U, T = n_units, n_years
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
        + _ar1(rng, U, T, 0.8, 0.08)
    )
    imr_z = (log_imr - np.log(60.0)) / 0.6
    governance = 0.85 * gov_level[:, None] + _ar1(rng, U, T, 0.9, 0.2)
    # Democracies vote every four years, autocracies now and then; agreements that provide
    # for elections add one a year or two later (in the loop below).
    phase = rng.integers(0, 4, U)
    elections = (
        np.where(
            governance > 0, (years[None, :] + phase[:, None]) % 4 == 0, rng.random((U, T)) < 0.12
        )
        & in_system
    )

    active = np.zeros((U, T), dtype=bool)
    intensity = np.zeros((U, T), dtype=np.int8)
    conflict = np.full((U, T), -1, dtype=np.int64)
    outcome = np.zeros((U, T), dtype=np.int8)
    mission_on = np.zeros((U, T), dtype=bool)
    last_active = np.full(U, -(10**6))
    last_outcome = np.zeros(U, dtype=np.int8)
    intarmy_year = np.full(U, -(10**6))
    mission_end = np.full(U, -1)
    current = np.full(U, -1, dtype=np.int64)
    conflicts: list[tuple[int, int, int, int]] = []
    agreement_rows: list[dict[str, Any]] = []
    mission_rows: list[dict[str, Any]] = []
    agreements_from = max(AGREEMENTS_FIRST_YEAR, first_year)
    e = effects

    for t in range(T):
        # Draws of a fixed size every year, so the stream does not depend on the outcomes.
        u_continue, u_start, u_same, u_war = (rng.random(U) for _ in range(4))
        u_outcome = rng.choice(5, size=U, p=OUTCOME_PROBABILITIES) + 1
        u_agree, u_mission, u_un, u_delay = (rng.random(U) for _ in range(4))
        u_duration = rng.integers(2, 13, U)
        u_provisions = rng.random((U, len(PROVISIONS)))
        u_type, u_incomp, u_mandate = rng.random(U), rng.random(U), rng.integers(1, 5, U)
        u_month = rng.integers(1, 13, (U, 2))

        prev = active[:, t - 1] if t else np.zeros(U, dtype=bool)
        cont = prev & (u_continue < P_CONTINUE) & in_system[:, t]
        ended = np.flatnonzero(prev & ~cont)
        end_t = t - 1
        for u in ended:
            code = int(u_outcome[u])
            outcome[u, end_t] = code
            last_outcome[u] = code
            p_agree = {1: 1.0, 2: 0.5}.get(code, 0.15)
            agree = years[end_t] >= agreements_from and u_agree[u] < p_agree
            if agree:
                provisions = {
                    p: int(u_provisions[u, k] < _PROVISION_P[p]) for k, p in enumerate(PROVISIONS)
                }
                if provisions["intarmy"]:
                    intarmy_year[u] = end_t
                if provisions["elections"]:
                    elections[u, min(end_t + 1 + int(u_delay[u] < 0.5), T - 1)] = True
                agreement_rows.append(
                    {
                        "unit": u,
                        "t": end_t,
                        "conflict_id": int(current[u]),
                        "pa_type": 1 if code == 1 else int(2 + (u_delay[u] < 0.5)),
                        "month": int(u_month[u, 0]),
                        **provisions,
                    }
                )
            war = intensity[u, end_t] == 2
            p_mission = 0.25 + 0.3 * agree + 0.15 * war
            if u_mission[u] < p_mission and mission_end[u] < end_t:
                start = end_t + int(u_delay[u] < 0.5)
                stop = start + int(u_duration[u]) - 1
                mission_end[u] = stop
                mission_on[u, start : min(stop, T - 1) + 1] = True
                mission_rows.append(
                    {
                        "unit": u,
                        "start": start,
                        "end": stop,
                        "un": bool(u_un[u] < 0.7),
                        "conflict_id": int(current[u]),
                        "mandate": int(u_mandate[u]),
                        "start_month": int(u_month[u, 0]),
                        "end_month": int(u_month[u, 1]),
                    }
                )

        candidates = in_system[:, t] & ~prev
        had = last_active > -(10**5)
        at_peace = np.maximum(t - 1 - last_active, 1)
        lag2 = max(t - 2, 0)
        mission_prev = mission_on[:, t - 1] if t else np.zeros(U, dtype=bool)
        army = (t - 1 - intarmy_year) <= 9
        relapse = (
            e.base
            + e.log_years_at_peace * np.log(at_peace)
            + e.mission * mission_prev
            + e.army_integration * army
            + e.infant_mortality * imr_z[:, lag2]
            + e.governance * governance[:, lag2]
            + e.election * (elections[:, t - 1] if t else 0)
            + e.ceasefire_or_low_activity * np.isin(last_outcome, (2, 5))
            + e.government_victory * (last_outcome == 3)
            + e.frailty * frailty
        )
        onset = e.onset_base + 0.6 * imr_z[:, lag2] - 0.4 * governance[:, lag2] + 0.5 * frailty
        starts = candidates & (u_start < _sigmoid(np.where(had, relapse, onset)))
        new = starts & ~(had & (u_same < 0.5))
        for u in np.flatnonzero(new):
            cid = len(conflicts)
            conflicts.append(
                (cid, int(u), 4 if u_type[u] < 0.2 else 3, 1 if u_incomp[u] < 0.4 else 2)
            )
            current[u] = cid
        war = np.where(
            cont,
            np.where(u_war < 0.85, intensity[:, max(t - 1, 0)] == 2, u_war >= 0.95),
            u_war < 0.25,
        )
        now = cont | starts
        active[:, t] = now
        intensity[now, t] = np.where(war[now], 2, 1)
        conflict[now, t] = current[now]
        last_active[now] = t

    conflict_info = pd.DataFrame(
        conflicts, columns=["conflict_id", "unit", "type", "incompatibility"]
    )
    agreements = pd.DataFrame(
        agreement_rows, columns=["unit", "t", "conflict_id", "pa_type", "month", *PROVISIONS]
    )
    missions = pd.DataFrame(
        mission_rows,
        columns=[
            "unit",
            "start",
            "end",
            "un",
            "conflict_id",
            "mandate",
            "start_month",
            "end_month",
        ],
    )
    return World(
        units=units,
        years=years,
        entry=entry,
        in_system=in_system,
        frailty=frailty,
        log_imr=log_imr,
        governance=governance,
        active=active,
        intensity=intensity,
        conflict=conflict,
        outcome=outcome,
        conflict_info=conflict_info,
        agreements=agreements,
        missions=missions,
        mission_on=mission_on,
        elections=elections,
    )


# --------------------------------------------------------------------------------------------
# Geography


@dataclass(frozen=True)
class Geography:
    """The synthetic map: states are discs in a square plane (km)."""

    xy: np.ndarray
    """Centre of each state (unit × 2, km)."""
    radius: np.ndarray
    side: float
    """Side of the square (km)."""
    pairs: np.ndarray
    """Near pairs (unit indices, lower first): each state with its :data:`NEIGHBOURS`
    nearest centres, both ways."""
    km: np.ndarray
    """Border distance of each pair: centre distance less both radii, at least 0."""
    nearest: np.ndarray
    """Each state's nearest neighbour by border distance (-1: a state alone on the map)."""


def _draw_geography(rng: np.random.Generator, n_units: int) -> Geography:
    """States placed uniformly at random; border distances only among near pairs, so the
    table grows with the number of states, not its square."""
    from sklearn.neighbors import NearestNeighbors

    side = STATE_SPACING_KM * float(np.sqrt(n_units))
    xy = rng.uniform(0.0, side, (n_units, 2))
    radius = rng.uniform(0.3, 0.55, n_units) * STATE_SPACING_KM
    k = min(NEIGHBOURS, n_units - 1)
    if k == 0:
        empty = np.zeros((0, 2), dtype=np.int64)
        return Geography(xy, radius, side, empty, np.zeros(0), np.full(n_units, -1))
    dist, idx = NearestNeighbors(n_neighbors=k + 1).fit(xy).kneighbors(xy)
    dist, idx = dist[:, 1:], idx[:, 1:]  # the first is the state itself
    border = np.maximum(dist - radius[:, None] - radius[idx], 0.0)
    nearest = idx[np.arange(n_units), np.argmin(border, axis=1)]
    i = np.repeat(np.arange(n_units), k)
    j = idx.ravel()
    pairs = np.unique(np.column_stack([np.minimum(i, j), np.maximum(i, j)]), axis=0)
    a, b = pairs[:, 0], pairs[:, 1]
    km = np.maximum(np.hypot(*(xy[a] - xy[b]).T) - radius[a] - radius[b], 0.0)
    return Geography(xy, radius, side, pairs, km, nearest)


def _lat(y: np.ndarray, side: float) -> np.ndarray:
    """Latitude of a plane coordinate: the square mapped linearly onto 60° S-70° N."""
    return -60.0 + 130.0 * np.clip(y / side, 0.0, 1.0)


def _lng(x: np.ndarray, side: float) -> np.ndarray:
    """Longitude of a plane coordinate: the square mapped linearly onto 180° W-180° E."""
    return -180.0 + 360.0 * np.clip(x / side, 0.0, 1.0)


# --------------------------------------------------------------------------------------------
# Raw tables, one per registered source


def _date(year: Any, month: Any, day: Any = 1) -> np.ndarray:
    """``YYYY-MM-DD`` strings (vectorised)."""
    y = np.asarray(year, dtype=np.int64)
    m = np.broadcast_to(np.asarray(month, dtype=np.int64), y.shape)
    d = np.broadcast_to(np.asarray(day, dtype=np.int64), y.shape)
    return np.array(
        [f"{a:04d}-{b:02d}-{c:02d}" for a, b, c in zip(y, m, d, strict=True)], dtype=object
    )


def _window(years: np.ndarray, first: int, last: int) -> tuple[int, int]:
    """A source's real coverage clipped to the simulated years (all years if disjoint)."""
    lo, hi = max(first, int(years[0])), min(last, int(years[-1]))
    return (lo, hi) if lo <= hi else (int(years[0]), int(years[-1]))


class _Tables:
    """Builds every raw table from one :class:`World` (a namespace of helpers, not state)."""

    def __init__(self, world: World, seed: int) -> None:
        self.w = world
        self.seed = seed
        self.rng = np.random.default_rng([seed, 1])
        self._geography: Geography | None = None
        self.gw = world.units["gwno"].to_numpy()
        self.iso3 = world.units["iso3"].to_numpy().astype(object)
        self.name = world.units["name"].to_numpy().astype(object)
        u, t = np.nonzero(world.in_system)
        self.u, self.t = u, t
        self.year = world.years[t]
        n = len(world.units)
        # The economy: independent of conflict and of every other family (the noise family).
        self.econ = self.rng.normal(size=n)
        T = len(world.years)
        self.log_gdp = (
            7.6
            + 1.0 * self.econ[:, None]
            + 0.018 * np.arange(T)[None, :]
            + _ar1(self.rng, n, T, 0.95, 0.04)
        )
        self.log_pop = (
            15.5
            + 1.3 * self.rng.normal(size=n)[:, None]
            + 0.02 * np.arange(T)[None, :]
            + _ar1(self.rng, n, T, 0.9, 0.02)
        )
        self.oil = self.rng.random(n) < 0.2

    # ---- helpers
    def cy(self, values: np.ndarray) -> np.ndarray:
        """A unit × year array at the country-year rows (states in the system)."""
        return values[self.u, self.t]

    def noise(self, sd: float = 1.0) -> np.ndarray:
        return self.rng.normal(0.0, sd, size=len(self.u))

    # ---- conflict
    def episodes(self) -> pd.DataFrame:
        w = self.w
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
        months = self.rng.integers(1, 13, (max(n_ep, 1), 2))
        days = self.rng.integers(1, 29, (max(n_ep, 1), 2))
        df["start_month"], df["start_day"] = months[df["episode"], 0], days[df["episode"], 0]
        df["end_month"], df["end_day"] = months[df["episode"], 1], days[df["episode"], 1]
        info = w.conflict_info.set_index("conflict_id")
        df["type"] = info["type"].reindex(df["conflict"]).to_numpy()
        df["incompatibility"] = info["incompatibility"].reindex(df["conflict"]).to_numpy()
        later = df.groupby("conflict")["episode"].transform("max") > df["episode"]
        df["recur"] = later.astype(int)
        return df

    def acd(self, ep: pd.DataFrame) -> pd.DataFrame:
        years = self.w.years
        cid = ep["conflict"].to_numpy() + 1000
        first_ep = ep.groupby("conflict")["episode"].transform("min")
        first_rows = ep.loc[ep["episode"] == first_ep].groupby("conflict").first()
        c_month = first_rows["start_month"].reindex(ep["conflict"]).to_numpy()
        c_day = first_rows["start_day"].reindex(ep["conflict"]).to_numpy()
        out = pd.DataFrame(
            {
                "conflict_id": cid,
                "location": self.name[ep["unit"]],
                "side_a": [f"Government of {n}" for n in self.name[ep["unit"]]],
                "side_b": [f"Armed group {c}" for c in cid],
                "incompatibility": ep["incompatibility"].to_numpy(),
                "territory_name": np.where(  # type: ignore[call-overload]  # numpy stubs reject None
                    ep["incompatibility"] == 1, [f"Region {c}" for c in cid], None
                ),
                "year": years[ep["t"]],
                "intensity_level": ep["intensity"].to_numpy(),
                "type_of_conflict": ep["type"].to_numpy(),
                "start_date": _date(years[ep["conflict_start_t"]], c_month, c_day),
                "start_date2": _date(years[ep["ep_start_t"]], ep["start_month"], ep["start_day"]),
                "ep_end": ep["ep_end"].to_numpy(),
                "ep_end_date": np.where(  # type: ignore[call-overload]  # numpy stubs reject None
                    ep["ep_end"] == 1, _date(years[ep["t"]], ep["end_month"], ep["end_day"]), None
                ),
                "gwno_loc": self.gw[ep["unit"]].astype(str),
            }
        )
        return pd.concat(
            [out, self.interstate(int(cid.max()) + 1 if len(cid) else 1000)], ignore_index=True
        ).sort_values(["conflict_id", "year"], ignore_index=True)

    def interstate(self, first_id: int) -> pd.DataFrame:
        """A few interstate conflict-years (type 2), always one in the last year, so that the
        conflict data end in the last simulated year and type filtering is exercised."""
        w = self.w
        T = len(w.years)
        k = max(1, len(w.units) // 40)
        ts = np.append(self.rng.integers(0, T, k - 1), T - 1)
        rows = []
        for j, t in enumerate(ts):
            present = np.flatnonzero(w.in_system[:, t])
            pair = self.rng.choice(present, size=min(2, len(present)), replace=False)
            loc = ", ".join(str(self.gw[p]) for p in sorted(pair))
            y = int(w.years[t])
            rows.append(
                {
                    "conflict_id": first_id + j,
                    "location": " - ".join(self.name[sorted(pair)]),
                    "side_a": f"Government of {self.name[pair[0]]}",
                    "side_b": f"Government of {self.name[pair[-1]]}",
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

    def termination(self, ep: pd.DataFrame) -> pd.DataFrame:
        years = self.w.years
        last = ep["t"] == ep["ep_last_t"]
        ended = ep["ended"] == 1
        end_date = _date(years[ep["ep_last_t"]], ep["end_month"], ep["end_day"])
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
                    last & ended & (self.rng.random(len(ep)) >= 0.05),
                    ep["outcome"].astype(float),
                    np.nan,
                ),
                "recur": ep["recur"].to_numpy(),
                "gwno_loc": self.gw[ep["unit"]].astype(str),
            }
        )

    def agreements(self) -> pd.DataFrame:
        a = self.w.agreements
        years = self.w.years[a["t"].to_numpy()]
        day = self.rng.integers(1, 29, len(a))
        out = pd.DataFrame(
            {
                "paid": np.arange(1, len(a) + 1) + 3000,
                "gwno": self.gw[a["unit"].to_numpy()].astype(str),
                "conflict_id": (a["conflict_id"].to_numpy() + 1000).astype(str),
                "year": years,
                "pa_date": _date(years, a["month"], day),
                "pa_type": a["pa_type"].to_numpy(),
                "inclusive": (self.rng.random(len(a)) < 0.4).astype(int),
            }
        )
        for p in PROVISIONS:
            out[p] = a[p].to_numpy()
        return out

    def police(self, agreements: pd.DataFrame) -> pd.DataFrame:
        from relapse.sources.governance import POLICE_IMPLEMENTATION, POLICE_PROVISIONS

        a = agreements.loc[agreements["year"].between(1978, 2010)]
        a = a.loc[self.rng.random(len(a)) < 0.7]
        n = len(a)
        date = pd.to_datetime(a["pa_date"])
        ended = self.rng.random(n) < 0.2
        end_year = np.minimum(a["year"].to_numpy() + self.rng.integers(1, 6, n), 2010)
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
            out[col] = (self.rng.random(n) < 0.3).astype(int)
        for col in POLICE_IMPLEMENTATION:
            values = (self.rng.random(n) < 0.5).astype(float)
            out[col] = np.where(self.rng.random(n) < 0.2, np.nan, values)
        return out

    # ---- peacekeeping
    def mission_names(self) -> pd.DataFrame:
        m = self.w.missions.copy()
        m["acronym"] = [f"{'UNSM' if un else 'RSM'}{k + 1:05d}" for k, un in enumerate(m["un"])]
        m["name"] = [
            f"{'United Nations' if un else 'Regional'} Synthetic Mission in {n}"
            for un, n in zip(m["un"], self.name[m["unit"]], strict=True)
        ]
        m["gwno"] = self.gw[m["unit"].to_numpy()]
        m["country"] = self.name[m["unit"].to_numpy()]
        m["iso3"] = self.iso3[m["unit"].to_numpy()]
        T = len(self.w.years)
        m["ongoing"] = m["end"] > T - 1
        m["start_year"] = self.w.years[0] + m["start"]
        m["end_year"] = self.w.years[0] + m["end"]
        m["troops"] = np.round(np.exp(self.rng.normal(7.5, 0.9, len(m))))
        m["police"] = np.round(np.exp(self.rng.normal(5.0, 1.0, len(m))))
        m["observers"] = np.round(np.exp(self.rng.normal(3.5, 0.8, len(m))))
        m["org"] = np.where(m["un"], 1, np.where(self.rng.random(len(m)) < 0.7, 2, 3))
        return m

    def mission_months(self, m: pd.DataFrame, first: int, last: int) -> pd.DataFrame:
        """One row per mission-month deployed within [first, last]."""
        rows = []
        for r in m.itertuples(index=False):
            end_year = min(r.end_year, int(self.w.years[-1]))
            end_month = r.end_month if not r.ongoing else 12
            for y in range(max(r.start_year, first), min(end_year, last) + 1):
                lo = r.start_month if y == r.start_year else 1
                hi = end_month if y == end_year else 12
                for month in range(lo, hi + 1):
                    rows.append((r.acronym, y, month))
        months = pd.DataFrame(rows, columns=["acronym", "year", "month"])
        return months.merge(m, on="acronym", how="left")

    def un_mission_list(self, m: pd.DataFrame) -> pd.DataFrame:
        un = m.loc[m["un"]]
        n = len(un)
        return pd.DataFrame(
            {
                "mission_acronym": un["acronym"].to_numpy(),
                "mission_name": un["name"].to_numpy(),
                "mission_isactive": np.where(un["ongoing"], "Yes", "No"),
                "start_date": _date(un["start_year"], un["start_month"], 15),
                "end_date": np.where(  # type: ignore[call-overload]  # numpy stubs reject None
                    un["ongoing"], None, _date(un["end_year"], un["end_month"], 15)
                ),
                "mission_location": [f"Capital of {c}" for c in un["country"]] if n else [],
            }
        )

    def un_mission_iso3(self, m: pd.DataFrame) -> pd.DataFrame:
        un = m.loc[m["un"]]
        return pd.DataFrame(
            {
                "mission_acronym": un["acronym"].to_numpy(),
                "mission_name": un["name"].to_numpy(),
                "iso3c": un["iso3"].to_numpy(),
            }
        )

    def bara_hultman(self, m: pd.DataFrame) -> pd.DataFrame:
        first, last = _window(self.w.years, 1993, 2016)
        mm = self.mission_months(m, first, last)
        active = self.w.active[mm["unit"].to_numpy(), mm["year"].to_numpy() - self.w.years[0]]
        observers = np.where(mm["year"] >= 2015, 0.0, mm["observers"])
        return pd.DataFrame(
            {
                "ccode": mm["gwno"].to_numpy(),
                "location": mm["country"].to_numpy(),
                "conflictid": mm["conflict_id"].to_numpy() + 1000,
                "episodenum": (mm["conflict_id"].to_numpy() + 1000) * 100 + 1,
                "activity": active.astype(int),
                "incomp": self.w.conflict_info.set_index("conflict_id")["incompatibility"]
                .reindex(mm["conflict_id"])
                .to_numpy(),
                "date": _date(mm["year"], mm["month"], 1),
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

    def un_personnel(self, m: pd.DataFrame) -> pd.DataFrame:
        first, last = _window(self.w.years, 1990, 2015)
        mm = self.mission_months(m.loc[m["un"]], first, last)
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
                "contributors": self.rng.integers(3, 30, n).astype(float),
                "propshortfall": np.clip((auth - total) / auth, 0, 1).round(4).to_numpy(),
            }
        )

    def contributions(self, m: pd.DataFrame) -> pd.DataFrame:
        first, last = _window(self.w.years, 2010, 2018)
        rows = []
        un = m.loc[m["un"]]
        for r in un.itertuples(index=False):
            end_year = min(r.end_year, int(self.w.years[-1]))
            for y in range(max(r.start_year, first), min(end_year, last) + 1):
                k = int(self.rng.integers(2, 12))
                for c in sorted(self.rng.choice(60, size=k, replace=False)):
                    female = int(self.rng.integers(0, 20))
                    male = int(self.rng.integers(5, 800))
                    rows.append(
                        (y, f"Contributor {c + 1:02d}", r.acronym, female, male, female + male)
                    )
        return pd.DataFrame(rows, columns=["Year", "Country", "Mission", "Female", "Male", "Total"])

    def mullenbach(self, m: pd.DataFrame) -> pd.DataFrame:
        n = len(m)
        tptype = np.where(m["un"], 1, np.where(m["org"] == 2, 2, 3))
        return pd.DataFrame(
            {
                "OBSNUM": np.arange(1, n + 1),
                "STATE": m["country"].to_numpy(),
                "CCODE1": m["gwno"].to_numpy(),
                "TPTYPE": tptype,
                "UNMANDATE": np.where(m["un"], 1, (self.rng.random(n) < 0.3).astype(int)),
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

    def doyle_sambanis(self, m: pd.DataFrame) -> pd.DataFrame:
        first, last = _window(self.w.years, 1948, 2010)
        rows = []
        for r in m.loc[m["un"]].itertuples(index=False):
            for y in range(max(r.start_year, first), min(r.end_year, last) + 1):
                rows.append((float(r.gwno), y, r.mandate))
        out = pd.DataFrame(rows, columns=["State.Code", "Year", "DS_ordinal"])
        for k, col in enumerate(("DS_Observe", "DS_TradPKO", "DS_MultiPKO", "DS_Enforce")):
            out[col] = (out["DS_ordinal"] == k + 1).astype(int)
        return out

    def geopko(self) -> pd.DataFrame:
        from relapse.sources.peacekeeping import GEOPKO

        return pd.DataFrame({c: pd.Series(dtype=object) for c in GEOPKO.raw_schema.columns})

    # ---- battle deaths and organised violence (consistent with the ACD conflict-years)
    def _stream(self, k: int) -> np.random.Generator:
        """An independent random stream per new table, so adding one leaves the others."""
        return np.random.default_rng([self.seed, k])

    def battle_deaths(self, acd: pd.DataFrame) -> pd.DataFrame:
        """One or two dyads per conflict-year of the ACD from 1989, deaths by intensity."""
        rng = self._stream(10)
        first, last = _window(self.w.years, BRD_FIRST_YEAR, int(self.w.years[-1]))
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
        out["gwno_battle"] = self._battle_places(out, rng)
        names = dict(zip(self.gw.astype(str), self.name, strict=True))
        out["battle_location"] = [
            ", ".join(names[c] for c in places.split(", ")) for places in out["gwno_battle"]
        ]
        columns = [
            "conflict_id", "dyad_id", "side_a", "side_b", "incompatibility", "year", "bd_best",
            "bd_low", "bd_high", "type_of_conflict", "battle_location", "gwno_loc", "gwno_battle",
        ]  # fmt: skip
        return out[columns].sort_values(["dyad_id", "year"], ignore_index=True)

    def _battle_places(self, brd: pd.DataFrame, rng: np.random.Generator) -> list[str]:
        """``gwno_battle``: usually the host; sometimes also, or only, its nearest neighbour
        (a rebel base across the border); for interstate dyads one or both parties."""
        geo = self.geography()
        index = {int(g): i for i, g in enumerate(self.gw)}
        t0 = int(self.w.years[0])
        u = rng.random(len(brd))
        places = []
        for loc, year, draw in zip(brd["gwno_loc"], brd["year"], u, strict=True):
            parties = [p.strip() for p in str(loc).split(",")]
            if len(parties) > 1:
                places.append(", ".join(parties) if draw < 0.5 else parties[int(draw < 0.75)])
                continue
            host = index[int(parties[0])]
            near = geo.nearest[host]
            if near < 0 or not self.w.in_system[near, int(year) - t0] or draw >= 0.15:
                places.append(parties[0])
            elif draw < 0.10:
                places.append(f"{parties[0]}, {self.gw[near]}")
            else:
                places.append(str(self.gw[near]))
        return places

    def organized_violence(self, brd: pd.DataFrame, episodes: pd.DataFrame) -> pd.DataFrame:
        """Country-years from 1989 with state-based deaths where the BRD battles were, plus
        non-state and one-sided violence drawn under GED's inclusion rule (module docstring)."""
        rng = self._stream(11)
        w = self.w
        U, T = w.in_system.shape
        t0 = int(w.years[0])
        first, last = _window(w.years, BRD_FIRST_YEAR, int(w.years[-1]))
        index = pd.Series(np.arange(U), index=self.gw)
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
        ns_n, ns_d, _ = self._ged_actors(rng, 0.03, 3.3, 1.1)
        os_n, os_d, os_govt = self._ged_actors(rng, 0.04, 3.5, 1.2)
        keep = (self.year >= first) & (self.year <= last)
        u, tt = self.u[keep], self.t[keep]

        def at(values: np.ndarray) -> np.ndarray:
            return np.round(values[u, tt]).astype(np.int64)

        return pd.DataFrame(
            {
                "country_id_cy": self.gw[u],
                "country_cy": self.name[u],
                "year_cy": self.year[keep],
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
        self, rng: np.random.Generator, rate: float, log_median: float, log_sd: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Non-state dyads or one-sided actors: (count, deaths, deaths by governments), unit ×
        year. Each lasts 1-5 years; one that never reaches 25 deaths in a year is left out,
        as GED leaves it out, so the kept years below 25 are those of actors that reach it in
        another year (before or after)."""
        w = self.w
        U, T = w.in_system.shape
        hazard = rate * np.exp(0.5 * w.frailty[self.u]) * (1 + 2 * w.active[self.u, self.t])
        born = rng.poisson(hazard)
        actor_u, actor_t = np.repeat(self.u, born), np.repeat(self.t, born)
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

    # ---- geography: states as discs in a plane, border distances and capitals
    def geography(self) -> Geography:
        """The synthetic map (drawn once): positions, radii and each state's near neighbours."""
        if self._geography is None:
            self._geography = _draw_geography(self._stream(12), len(self.gw))
        return self._geography

    def mindist(self) -> pd.DataFrame:
        """Border distance of each near pair (lower code first, as CShapes) per year in which
        both states exist; pairs farther apart are not written (module docstring)."""
        geo = self.geography()
        i, j = geo.pairs[:, 0], geo.pairs[:, 1]
        both = self.w.in_system[i] & self.w.in_system[j]
        p, t = np.nonzero(both)
        return pd.DataFrame(
            {
                "gwcode1": self.gw[i[p]],
                "gwcode2": self.gw[j[p]],
                "year": self.w.years[t],
                "mindist": np.round(geo.km[p], 3),
            }
        )

    def capitals(self) -> pd.DataFrame:
        """One capital per state from its entry; a few move it once (a second period)."""
        rng = self._stream(13)
        geo = self.geography()
        w = self.w
        U = len(self.gw)
        side = geo.side
        entry_year = w.years[w.entry]
        start = _date(entry_year, np.where(w.entry > 0, 7, 1), 1)
        last_year = int(w.years[-1])
        moves = (rng.random(U) < 0.05) & (entry_year + 2 <= last_year)
        move_year = np.where(
            moves, rng.integers(entry_year + 1, np.maximum(entry_year + 2, last_year)), 0
        )
        offset = rng.uniform(-0.3, 0.3, (U, 2)) * geo.radius[:, None]
        first = pd.DataFrame(
            {
                "gwcode": self.gw,
                "statenme": self.name,
                "capital": [f"Capital of {n}" for n in self.name],
                "stdate": start,
                "enddate": np.where(moves, _date(move_year - 1, 12, 31), None),  # type: ignore[call-overload]  # numpy stubs reject None
                "lat": _lat(geo.xy[:, 1], side),
                "lng": _lng(geo.xy[:, 0], side),
            }
        )
        moved = np.flatnonzero(moves)
        second = pd.DataFrame(
            {
                "gwcode": self.gw[moved],
                "statenme": self.name[moved],
                "capital": [f"New capital of {n}" for n in self.name[moved]],
                "stdate": _date(move_year[moved], 1, 1),
                "enddate": None,
                "lat": _lat(geo.xy[moved, 1] + offset[moved, 1], side),
                "lng": _lng(geo.xy[moved, 0] + offset[moved, 0], side),
            }
        )
        out = pd.concat([first, second], ignore_index=True)
        out[["lat", "lng"]] = out[["lat", "lng"]].round(5)
        return out.sort_values(["gwcode", "stdate"], ignore_index=True)

    # ---- ethnic power relations (exclusion follows the latent governance level)
    def epr(self) -> pd.DataFrame:
        """Country-years of EPR: groups with fixed sizes whose exclusion flips now and then."""
        rng = self._stream(14)
        w = self.w
        U, T = w.in_system.shape
        G = EPR_MAX_GROUPS
        relevant = np.asarray(rng.random(U) < 0.8)
        n_groups = np.where(relevant, np.minimum(2 + rng.poisson(1.5, U), G), 0)
        exists = np.arange(G)[None, :] < n_groups[:, None]
        weight = np.where(exists, rng.gamma(1.0, 1.0, (U, G)), 0.0)
        outside = rng.gamma(0.4, 1.0, U)  # population in no politically relevant group
        size = weight / (weight.sum(axis=1) + outside)[:, None]
        g0 = w.governance[np.arange(U), w.entry]
        excluded0 = rng.random((U, G)) < _sigmoid(-0.4 - 0.8 * g0)[:, None]
        flips = np.cumsum(rng.random((U, G, T)) < 0.02, axis=2) % 2 == 1
        excluded = (excluded0[:, :, None] ^ flips) & exists[:, :, None]
        excluded[:, 0, :] = False  # the group in power
        discriminated = excluded & (rng.random((U, G))[:, :, None] < 0.35)
        autonomous = exists & (rng.random((U, G)) < 0.15)
        first, last = _window(w.years, EPR_FIRST_YEAR, int(w.years[-1]))
        keep = (self.year >= first) & (self.year <= last)
        u, t = self.u[keep], self.t[keep]
        s = size[u]
        ex, di = excluded[u, :, t], discriminated[u, :, t]
        return pd.DataFrame(
            {
                "countries_gwid": self.gw[u],
                "year": self.year[keep],
                "countryname": self.name[u],
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

    # ---- crosswalks
    def gw_states(self) -> pd.DataFrame:
        w = self.w
        start_year = w.years[w.entry]
        return pd.DataFrame(
            {
                "gwcode": self.gw,
                "stateabb": self.iso3,
                "statename": self.name,
                "startdate": _date(start_year, np.where(w.entry > 0, 7, 1), 1),
                "enddate": f"{int(w.years[-1])}-12-31",
            }
        )

    def cow_states(self) -> pd.DataFrame:
        w = self.w
        return pd.DataFrame(
            {
                "stateabb": self.iso3,
                "ccode": self.gw,
                "statenme": self.name,
                "styear": w.years[w.entry],
                "endyear": int(w.years[-1]),
            }
        )

    def cow_system(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"stateabb": self.iso3[self.u], "ccode": self.gw[self.u], "year": self.year}
        )

    def country_codes(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "country_text_id": self.iso3,
                "vdem_country_name": self.name,
                "GWn": self.gw.astype(float),
                "cown": self.gw.astype(float),
                "extended_country_name": self.name,
            }
        )

    # ---- governance and elections (driven by the latent governance level)
    def governance_values(self) -> dict[str, np.ndarray]:
        g = self.cy(self.w.governance)
        return {
            "polyarchy": np.round(_sigmoid(1.3 * g + self.noise(0.25)), 3),
            "libdem": np.round(_sigmoid(1.3 * g - 0.4 + self.noise(0.25)), 3),
            "partipdem": np.round(_sigmoid(1.0 * g - 0.6 + self.noise(0.3)), 3),
            "delibdem": np.round(_sigmoid(1.1 * g - 0.5 + self.noise(0.3)), 3),
            "egaldem": np.round(_sigmoid(1.2 * g - 0.3 + self.noise(0.25)), 3),
            "g": g,
        }

    def vdem_indices(self, gv: dict[str, np.ndarray]) -> pd.DataFrame:
        out = pd.DataFrame(
            {
                "country_text_id": self.iso3[self.u],
                "year": self.year,
                "GWn": self.gw[self.u].astype(float),
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

    def vdem_econ_coups(self, gv: dict[str, np.ndarray]) -> pd.DataFrame:
        n = len(self.u)
        coup = np.where(self.rng.random(n) < 0.03, self.rng.integers(1, 3, n), 0).astype(float)
        oil = self.oil[self.u]
        oil_income = np.where(oil, np.round(np.exp(self.rng.normal(5, 1, n)), 1), 0.0)
        return pd.DataFrame(
            {
                "COWcode": self.gw[self.u].astype(float),
                "year": self.year,
                "e_pt_coup": np.where(self.year >= 1950, coup, np.nan),
                "v2xpe_exlsocgr": np.round(_sigmoid(-1.1 * gv["g"] + self.noise(0.4)), 3),
                "v2x_polyarchy": gv["polyarchy"],
                "e_total_fuel_income_pc": np.round(oil_income * 1.2, 1),
                "e_total_oil_income_pc": oil_income,
                "e_total_resources_income_pc": np.round(
                    oil_income + np.exp(self.rng.normal(3, 1, n)), 1
                ),
                "e_pop": np.round(np.exp(self.cy(self.log_pop)) / 1000, 1),
                "e_gdppc": np.round(np.exp(self.cy(self.log_gdp)) / 1000, 3),
            }
        )

    def vdem_infant_cso(self, gv: dict[str, np.ndarray]) -> pd.DataFrame:
        imr = np.round(np.exp(self.cy(self.w.log_imr)), 1)
        regime = np.digitize(gv["polyarchy"], [0.25, 0.5, 0.75]).astype(float)
        return pd.DataFrame(
            {
                "ccode": self.gw[self.u].astype(float),
                "year": self.year,
                "country_name": self.name[self.u],
                "v2csprtcpt_ord": np.clip(np.round(1.5 + gv["g"] + self.noise(0.5)), 0, 3),
                "e_peinfmor": np.clip(imr, 1, 999),
                "v2x_regime": regime,
            }
        )

    def polity(self, gv: dict[str, np.ndarray]) -> pd.DataFrame:
        g = gv["g"]
        p = np.clip(np.round(7 * g + self.noise(1.5)), -10, 10).astype(int)
        democ = np.round((p + 10) / 2).astype(int)
        autoc = democ - p
        durable = self._durable(p)
        return pd.DataFrame(
            {
                "scode": self.iso3[self.u],
                "polity_annual_country": self.name[self.u],
                "year": self.year,
                "GWn": self.gw[self.u],
                "polity": p,
                "polity2": p.astype(float),
                "durable": durable,
                "democ": democ,
                "autoc": autoc,
                "xconst": np.clip(np.round(4 + 2.5 * g), 1, 7).astype(int),
                "parcomp": np.clip(np.round(2.5 + 1.5 * g), 0, 5).astype(int),
            }
        )

    def _durable(self, polity: np.ndarray) -> np.ndarray:
        """Years since the state's entry or its last polity change of 3 points or more."""
        out = np.zeros(len(polity))
        first = np.r_[True, self.u[1:] != self.u[:-1]]
        change = np.r_[False, np.abs(np.diff(polity)) >= 3] & ~first
        reset = first | change
        idx = np.arange(len(polity))
        last_reset = np.maximum.accumulate(np.where(reset, idx, 0))
        out = (idx - last_reset).astype(float)
        return np.minimum(out, 300)

    def freedom_house(self, gv: dict[str, np.ndarray]) -> pd.DataFrame:
        keep = (self.year >= 1972) & (self.year != 1982)
        g = gv["g"][keep]
        n = int(keep.sum())
        pr = np.clip(np.round(4 - 1.8 * g + self.rng.normal(0, 0.6, n)), 1, 7).astype(int)
        cl = np.clip(np.round(4 - 1.6 * g + self.rng.normal(0, 0.6, n)), 1, 7).astype(int)
        total = pr + cl
        status = np.where(total <= 5, "F", np.where(total <= 10, "PF", "NF"))
        return pd.DataFrame(
            {
                "fh_country": self.name[self.u[keep]],
                "year": self.year[keep],
                "pr": pr,
                "cl": cl,
                "status": status,
                "fh_total": total,
                "GWn": self.gw[self.u[keep]].astype(float),
            }
        )

    def wgi(self, gv: dict[str, np.ndarray]) -> pd.DataFrame:
        from relapse.sources.governance import WGI_INDICATORS

        keep = (self.year >= 1996) & ~np.isin(self.year, (1997, 1999, 2001))
        parts = []
        for indicator in WGI_INDICATORS:
            est = np.clip(
                0.9 * gv["g"][keep] + self.rng.normal(0, 0.35, int(keep.sum())), -2.5, 2.5
            )
            parts.append(
                pd.DataFrame(
                    {
                        "Code": self.iso3[self.u[keep]],
                        "Year": self.year[keep],
                        "Estimate": np.round(est, 3),
                        "Indicator": indicator,
                    }
                )
            )
        return pd.concat(parts, ignore_index=True)

    def elections(self, gv: dict[str, np.ndarray]) -> pd.DataFrame:
        n = len(self.u)
        held = self.cy(self.w.elections)
        pres = held & (self.rng.random(n) < 0.4)
        leg = held & (~pres | (self.rng.random(n) < 0.7))
        since = self._since(held)
        keep = self.year >= 1945
        return pd.DataFrame(
            {
                "iso3c": self.iso3[self.u],
                "year": self.year,
                "natelec": held.astype(int),
                "natelec.n": pres.astype(int),
                "natelec.l": leg.astype(int),
                "years_since_last_elec": since,
            }
        ).loc[keep]

    def _since(self, event: np.ndarray) -> np.ndarray:
        """The published counter: 1 in the first row and right after an event, +1 a year."""
        first = np.r_[True, self.u[1:] != self.u[:-1]]
        prev_event = np.r_[False, event[:-1]] & ~first
        reset = first | prev_event
        idx = np.arange(len(event))
        last_reset = np.maximum.accumulate(np.where(reset, idx, 0))
        return np.minimum(idx - last_reset + 1, 300)

    def aiddata(self) -> pd.DataFrame:
        years = self.w.years[(self.w.years >= 1968) & (self.w.years <= 2010)][::5]
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

    # ---- services (driven by infant mortality) and economy (noise)
    def gapminder(self) -> pd.DataFrame:
        from relapse.sources.economic import GAPMINDER_COLUMNS

        n = len(self.u)
        imr = np.exp(self.cy(self.w.log_imr))
        z = (np.log(imr) - np.log(60.0)) / 0.6
        y = self.year
        gdp = np.exp(self.cy(self.log_gdp))
        oil = self.oil[self.u]
        values = {
            "gdp_pc_ppp_long": np.round(gdp * 1.8, 1),
            "gdp_pc_constant_usd": np.round(gdp, 1),
            "infant_mortality": np.round(np.clip(imr, 1, 999), 1),
            "under5_mortality": np.round(np.clip(imr * 1.45 * np.exp(self.noise(0.05)), 1, 999), 1),
            "basic_water_pct": np.where(
                y >= 2000, np.round(100 * _sigmoid(1.0 - 1.2 * z + self.noise(0.3)), 1), np.nan
            ),
            "basic_sanitation_pct": np.where(
                y >= 2000, np.round(100 * _sigmoid(0.3 - 1.3 * z + self.noise(0.3)), 1), np.nan
            ),
            "electricity_kwh_pc": np.where(
                y >= 1960, np.round(np.exp(6.5 - 1.2 * z + self.noise(0.4)), 1), np.nan
            ),
            "life_expectancy": np.round(np.clip(80 - 0.15 * imr + self.noise(1.5), 20, 95), 1),
            "adult_literacy_pct": np.where(
                self.rng.random(n) < 0.15,
                np.round(100 * _sigmoid(1.0 - 1.5 * z + self.noise(0.3)), 1),
                np.nan,
            ),
            "aid_pc_usd": np.round(self.noise(20) + 15, 2),
            "aid_pct_gni": np.round(self.noise(3) + 2, 2),
            "milex_pct_gdp": np.round(np.exp(self.noise(0.5) + 0.7), 2),
            "armed_forces_pct_labour": np.round(np.clip(np.exp(self.noise(0.6)), 0, 100), 2),
            "oil_production_pc": np.where(oil, np.round(np.exp(self.noise(1.0) - 1), 3), np.nan),
            "urban_pct": np.round(100 * _sigmoid(self.noise(0.8) + 0.01 * (y - 1980)), 1),
            "schooling_women_years": np.where(
                y <= 2009, np.round(np.clip(6 - 2.5 * z + self.noise(0.8), 0, 25), 1), np.nan
            ),
        }
        out = pd.DataFrame(
            {
                "geo": np.char.lower(self.iso3[self.u].astype(str)),
                "iso3": self.iso3[self.u],
                "name": self.name[self.u],
                "year": y,
            }
        )
        for raw, tidy in GAPMINDER_COLUMNS.items():
            out[raw] = values[tidy]
        return out

    def wdi(self, which: str) -> pd.DataFrame:
        from relapse.sources.economic import WDI_YEARS

        T = len(self.w.years)
        table = self.log_gdp if which == "gdp" else self.log_pop
        values = np.exp(table)
        code, label = (
            ("NY.GDP.PCAP.CD", "GDP per capita (current US$)")
            if which == "gdp"
            else ("SP.POP.TOTL", "Population, total")
        )
        out = pd.DataFrame(
            {
                "Country Name": self.name,
                "Country Code": self.iso3,
                "Indicator Name": label,
                "Indicator Code": code,
            }
        )
        for y in WDI_YEARS:
            t = y - int(self.w.years[0])
            if 0 <= t < T:
                v = values[:, t] * (1.1 if which == "gdp" else 1.0)
                col = np.round(v, 2) if which == "gdp" else np.round(v)
                out[str(y)] = np.where(self.w.in_system[:, t], col, np.nan)
            else:
                out[str(y)] = np.nan
        return out

    def pwt(self) -> pd.DataFrame:
        keep = self.year >= 1950
        u, y = self.u[keep], self.year[keep]
        n = len(u)
        pop = np.exp(self.log_pop[u, self.t[keep]]) / 1e6
        gdp = np.exp(self.log_gdp[u, self.t[keep]])
        rgdpna_pc = gdp * np.exp(self.rng.normal(0, 0.03, n))
        shares = {
            c: np.round(self.rng.uniform(lo, hi, n), 3)
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
                "country": self.name[u],
                "isocode": self.iso3[u],
                "year": y,
                "rgdpe": np.round(gdp * pop, 2),
                "rgdpo": np.round(gdp * pop * 0.98, 2),
                "rgdpna": np.round(rgdpna_pc * pop, 2),
                "pop": np.round(pop, 5),
                "emp": np.round(pop * 0.4, 5),
                "hc": np.round(self.rng.uniform(1, 3.5, n), 3),
                **shares,
                "i_outlier": np.where(self.rng.random(n) < 0.02, "yes", "no"),
            }
        )

    def maddison(self) -> pd.DataFrame:
        gdp = np.exp(self.cy(self.log_gdp))
        return pd.DataFrame(
            {
                "countrycode": self.iso3[self.u],
                "country": self.name[self.u],
                "year": self.year,
                "cgdppc": np.round(gdp * 0.9, 1),
                "rgdpnapc": np.round(gdp * 0.9 * np.exp(self.noise(0.02)), 1),
                "pop": np.round(np.exp(self.cy(self.log_pop)) / 1000, 1),
            }
        )

    def cow_nmc(self) -> pd.DataFrame:
        n = len(self.u)
        pop_k = np.exp(self.cy(self.log_pop)) / 1000
        milper = np.round(pop_k * np.exp(self.noise(0.5) - 5.0), 1)
        missing = self.rng.random(n) < 0.03
        tpop = np.round(pop_k)
        share = tpop / pd.Series(tpop).groupby(self.year).transform("sum").to_numpy()
        return pd.DataFrame(
            {
                "stateabb": self.iso3[self.u],
                "ccode": self.gw[self.u],
                "year": self.year,
                "milex": np.where(missing, -9, np.round(np.exp(self.noise(1.0) + 10))),
                "milper": milper,
                "irst": np.round(np.exp(self.noise(1.5) + 3)),
                "pec": np.round(np.exp(self.noise(1.2) + 6)),
                "tpop": tpop,
                "upop": np.round(tpop * 0.3),
                "cinc": np.round(share, 6),
            }
        )

    def creg(self) -> pd.DataFrame:
        keep = self.year <= 2013
        u = self.u[keep]
        base = self.rng.uniform(0.05, 0.9, (len(self.gw), 4))[u]
        values = np.clip(base + self.rng.normal(0, 0.005, base.shape), 0, 1).round(4)
        return pd.DataFrame(
            {
                "ccode": self.gw[u],
                "gwcode": self.gw[u],
                "creg_ccode": self.gw[u],
                "year": self.year[keep],
                "ethfrac": values[:, 0],
                "ethpol": values[:, 1],
                "relfrac": values[:, 2],
                "relpol": values[:, 3],
            }
        )

    def hief(self) -> pd.DataFrame:
        keep = self.year <= 2013
        u = self.u[keep]
        base = self.rng.uniform(0.05, 0.9, len(self.gw))[u]
        return pd.DataFrame(
            {
                "ccode": self.gw[u],
                "gwcode": self.gw[u],
                "year": self.year[keep],
                "efindex": np.clip(base + self.rng.normal(0, 0.003, len(u)), 0, 1).round(3),
            }
        )


def simulate(cfg: Any) -> dict[str, pd.DataFrame]:
    """Raw tables of the synthetic world, keyed by source path (as in ``MANIFEST.csv``).

    Parameters
    ----------
    cfg
        Composed config: ``seed``, ``data.n_units``, ``data.n_years``, ``data.first_year``.

    Returns
    -------
    dict
        One CSV-ready DataFrame for every source of :data:`relapse.sources.SOURCES`, with the
        raw columns of its schema.
    """
    from relapse.sources import SOURCES, resolve_files

    data = cfg.data
    world = simulate_world(
        int(data.n_units), int(data.n_years), int(data.first_year), int(cfg.seed)
    )
    tb = _Tables(world, int(cfg.seed))
    episodes = tb.episodes()
    missions = tb.mission_names()
    gv = tb.governance_values()
    agreements = tb.agreements()
    acd = tb.acd(episodes)
    brd = tb.battle_deaths(acd)
    by_key: dict[str, pd.DataFrame] = {
        "ucdp_acd": acd,
        "ucdp_termination": tb.termination(episodes),
        "ucdp_peace_agreements": agreements,
        "ucdp_brd": brd,
        "ucdp_organized_violence": tb.organized_violence(brd, episodes),
        "bara_hultman": tb.bara_hultman(missions),
        "un_personnel": tb.un_personnel(missions),
        "geopko": tb.geopko(),
        "un_mission_list": tb.un_mission_list(missions),
        "un_contributions": tb.contributions(missions),
        "mullenbach": tb.mullenbach(missions),
        "doyle_sambanis": tb.doyle_sambanis(missions),
        "vdem_indices": tb.vdem_indices(gv),
        "vdem_econ_coups": tb.vdem_econ_coups(gv),
        "vdem_infant_cso": tb.vdem_infant_cso(gv),
        "polity5": tb.polity(gv),
        "freedom_house": tb.freedom_house(gv),
        "wgi": tb.wgi(gv),
        "elections": tb.elections(gv),
        "aiddata_ssr": tb.aiddata(),
        "police_reform": tb.police(agreements),
        "wdi_gdp_pc": tb.wdi("gdp"),
        "wdi_population": tb.wdi("population"),
        "gapminder": tb.gapminder(),
        "pwt": tb.pwt(),
        "maddison": tb.maddison(),
        "cow_nmc": tb.cow_nmc(),
        "creg": tb.creg(),
        "hief": tb.hief(),
        "epr": tb.epr(),
        "gw_states": tb.gw_states(),
        "cow_states": tb.cow_states(),
        "cow_system": tb.cow_system(),
        "country_codes": tb.country_codes(),
        "un_mission_iso3": tb.un_mission_iso3(missions),
        "gw_mindist": tb.mindist(),
        "gw_capitals": tb.capitals(),
    }
    missing = sorted(set(SOURCES) - set(by_key))
    if missing:
        raise DataError(f"synthetic data: no generator for source(s) {missing}")
    files = resolve_files(cfg.data.get("files", {}))
    return {files[key]: by_key[key] for key in SOURCES}


# --------------------------------------------------------------------------------------------
# Writing


def to_csv_bytes(table: pd.DataFrame) -> bytes:
    """CSV bytes of a table (pyarrow's writer: fast, deterministic; missing values empty)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    columns = {}
    for name in table.columns:
        s = table[name]
        if s.dtype == object:
            values = s.to_numpy()
            mask = pd.isna(values)
            columns[str(name)] = pa.array(
                np.where(mask, "", values.astype(str)), type=pa.string(), mask=mask
            )
        else:
            columns[str(name)] = pa.array(s.to_numpy(), from_pandas=True)
    sink = io.BytesIO()
    options = pcsv.WriteOptions(include_header=True, quoting_style="needed")
    pcsv.write_csv(pa.table(columns), sink, write_options=options)
    return sink.getvalue()


def write_dataset(cfg: Any, directory: Path | str) -> Path:
    """Simulate and write every raw file under ``directory``, with ``MANIFEST.csv``.

    Returns
    -------
    Path
        ``directory``.
    """
    from relapse.sources import SOURCES, resolve_files

    directory = Path(directory)
    tables = simulate(cfg)
    files = resolve_files(cfg.data.get("files", {}))
    year_columns = {files[k]: _raw_year_column(s) for k, s in SOURCES.items()}
    manifest = []
    for path, table in tables.items():
        data = to_csv_bytes(table)
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        year_col = year_columns[path]
        years = pd.to_numeric(table[year_col], errors="coerce").dropna() if year_col else None
        manifest.append(
            {
                "file": path,
                "sha256": hashlib.sha256(data).hexdigest(),
                "rows": len(table),
                "columns": table.shape[1],
                "first_year": int(years.min()) if years is not None and len(years) else None,
                "last_year": int(years.max()) if years is not None and len(years) else None,
                "vintage_cut": "synthetic",
            }
        )
    frame = pd.DataFrame(manifest).astype({"first_year": "Int64", "last_year": "Int64"})
    (directory / "MANIFEST.csv").write_text(frame.to_csv(index=False))
    (directory / MARKER).write_text(json.dumps(_marker(cfg), indent=2, sort_keys=True) + "\n")
    return directory


def _raw_year_column(source: Any) -> str | None:
    for name in ("year", "Year", "STARTYR"):
        if name in source.raw_schema.columns:
            return name
    return None


def _marker(cfg: Any) -> dict[str, Any]:
    return {
        "generator_version": GENERATOR_VERSION,
        "seed": int(cfg.seed),
        "n_units": int(cfg.data.n_units),
        "n_years": int(cfg.data.n_years),
        "first_year": int(cfg.data.first_year),
        "planted_effects_log_odds": asdict(EFFECTS),
        "noise_family": NOISE_FAMILY,
    }


def is_complete(directory: Path, cfg: Any) -> bool:
    """Whether ``directory`` holds this config's data set (marker, manifest and every file)."""
    from relapse.sources import resolve_files

    marker = directory / MARKER
    if not marker.is_file() or not (directory / "MANIFEST.csv").is_file():
        return False
    try:
        if json.loads(marker.read_text()) != json.loads(json.dumps(_marker(cfg))):
            return False
    except ValueError:
        return False
    files = resolve_files(cfg.data.get("files", {}))
    return all((directory / path).is_file() for path in files.values())


def ensure_dataset(cfg: Any) -> Path:
    """Generate the synthetic data set in ``paths.data_dir`` unless it is already there.

    Written into a temporary sibling directory and renamed into place, so a reader (or a
    concurrent run) sees a complete data set or none. An existing directory is replaced only
    if it is an incomplete or outdated synthetic data set (it has the marker file or is empty).

    Raises
    ------
    DataError
        If ``paths.data_dir`` exists, is not a synthetic data set, and is not empty.
    """
    target = Path(cfg.paths.data_dir)
    if is_complete(target, cfg):
        return target
    if target.exists() and any(target.iterdir()) and not (target / MARKER).is_file():
        raise DataError(
            f"{target} exists and is not a synthetic data set: refusing to overwrite it "
            "(data=synthetic writes to paths.data_dir; point it at a new directory)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        write_dataset(cfg, tmp)
        if target.exists():
            if is_complete(target, cfg):  # another process finished first
                shutil.rmtree(tmp)
                return target
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
            shutil.rmtree(old, ignore_errors=True)
        try:
            os.replace(tmp, target)
        except OSError:
            if not is_complete(target, cfg):
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
