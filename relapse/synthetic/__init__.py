"""``data=synthetic``: a seeded simulated world written in the snapshot's own file layout.

:func:`simulate` draws ``data.n_units`` invented states over ``data.n_years`` years from
``data.first_year`` and returns one raw table per registered source
(:data:`relapse.sources.SOURCES`), with the raw columns of each source's schema, so every
loader, the panel, training, explanation, reports and scoring run on it unchanged.
:func:`write_dataset` writes the tables as CSV with a ``MANIFEST.csv``; :func:`ensure_dataset`
does so once, atomically, the first time a command reads the configured data directory
(:func:`relapse.data_dir.ensure_data_dir`). Same seed and sizes give byte-identical files.

Modules
-------
:mod:`~relapse.synthetic.world` (the latent world and its conflict history, the planted
effects), :mod:`~relapse.synthetic.codes` (state codes), :mod:`~relapse.synthetic.geography`
(the map), one writer module per source family like :mod:`relapse.sources`
(:mod:`~relapse.synthetic.conflict`, :mod:`~relapse.synthetic.peacekeeping`,
:mod:`~relapse.synthetic.governance`, :mod:`~relapse.synthetic.economic`,
:mod:`~relapse.synthetic.crosswalks`) over a shared :mod:`~relapse.synthetic.context`,
:mod:`~relapse.synthetic.tables` (one table per source) and :mod:`~relapse.synthetic.dataset`
(files, manifest, atomic generation).

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
aid). Internal armed conflict (UCDP types 3 and 4) starts with a small onset hazard; an
episode continues each year with probability ``P_CONTINUE``; when it ends it gets a
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
States are discs in a square plane of about ``STATE_SPACING_KM`` per state; a state's
border distance to another is the distance between centres less both radii (0: contiguous).
``gw_mindist`` lists only near pairs (each state with its ``NEIGHBOURS`` nearest centres,
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

from relapse.synthetic.codes import MAX_UNITS, unit_codes
from relapse.synthetic.dataset import (
    GENERATOR_VERSION,
    MARKER,
    ensure_dataset,
    is_complete,
    to_csv_bytes,
    write_dataset,
)
from relapse.synthetic.tables import simulate
from relapse.synthetic.world import EFFECTS, NOISE_FAMILY, PlantedEffects, World, simulate_world

__all__ = [
    "EFFECTS",
    "GENERATOR_VERSION",
    "MARKER",
    "MAX_UNITS",
    "NOISE_FAMILY",
    "PlantedEffects",
    "World",
    "ensure_dataset",
    "is_complete",
    "simulate",
    "simulate_world",
    "to_csv_bytes",
    "unit_codes",
    "write_dataset",
]
