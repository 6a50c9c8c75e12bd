"""The country-year panel: state-system spine, conflict history, population and relapse labels.

Definitions follow ``shared/docs/DOMAIN.md`` (UCDP conventions, all configurable in
``conf/target/``):

* an **active country-year** has at least one conflict-year of the configured types
  (internal 3 and internationalised internal 4 by default) located in the country — multi-
  country locations count for each country;
* a country-year is in the **post-conflict population** when it is not active and its last
  active year is at most ``target.window_years`` years earlier;
* every country-year that is not active has a ``risk_type``: ``relapse`` (in the post-
  conflict population), ``renewed`` (in conflict at some time since the data begin, but
  longer ago than the window: renewed conflict after a long peace) or ``onset`` (no active
  year since the data begin, or since independence); NA on active rows. ``years_at_peace``
  counts the years since the last active year, or for ``onset`` rows the years since the
  state's first year in the spine (independence, or ``target.first_year``), that year
  counting as 0;
* ``relapse_h{h}`` is defined on every non-active country-year (NA on active ones): 1 when
  the country has an active year in t+1 … t+h (country level) or when one of the conflicts
  of its last active spell is active again (conflict level; NA on ``onset`` rows, which have
  no conflict to recur), 0 otherwise, and **missing** when t + h is past the last year of the
  data or the state leaves the system before t + h: such rows are scored but never trained or
  evaluated on. Training and evaluation select ``in_population`` rows, so the post-conflict
  population and its labels keep their meaning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from relapse.errors import DataError

GW_LIST_LAST_UPDATE = pd.Timestamp("2017-12-31")
"""The GW state list ends every surviving state on this date: it means "still a state"."""


def build_spine(
    gw_states: pd.DataFrame,
    first_year: int,
    last_year: int,
    country_codes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every Gleditsch–Ward state-year from ``first_year`` to ``last_year``.

    A state is in the spine for every calendar year in which it existed on at least one day
    (South Sudan from 2011, the GDR to 1990). States still in the list at its last update
    (2017-12-31) continue to ``last_year``. Serbia (GW 340 from 2006) continues Yugoslavia's
    GW 345, as in UCDP.

    Parameters
    ----------
    gw_states
        Output of the ``gw_states`` loader.
    first_year, last_year
        The span of the panel.
    country_codes
        Output of the ``country_codes`` loader, used for ISO3 codes (optional).

    Returns
    -------
    DataFrame
        ``gwno`` (int64), ``year`` (int64), ``iso3`` (string), ``country`` (string),
        sorted by ``gwno`` and ``year``.
    """
    from relapse.countries import GW_TO_GW_TRAPS

    last_update = gw_states["enddate"].max()
    rows = []
    for spell in gw_states.sort_values("startdate").itertuples(index=False):
        gwno = GW_TO_GW_TRAPS.get(int(spell.gwno), int(spell.gwno))
        end_year = last_year if spell.enddate >= last_update else spell.enddate.year
        start = max(spell.startdate.year, first_year)
        end = min(end_year, last_year)
        if start <= end:
            rows.append(
                pd.DataFrame(
                    {
                        "gwno": gwno,
                        "year": np.arange(start, end + 1),
                        "country": str(spell.statename),
                    }
                )
            )
    # A year shared by two spells of one code (Yugoslavia → Serbia in 2006) takes the later
    # spell's name, so 2006 onwards reads "Serbia".
    spine = pd.concat(rows, ignore_index=True).drop_duplicates(["gwno", "year"], keep="last")
    spine = spine.astype({"gwno": "int64", "year": "int64"}).reset_index(drop=True)
    spine["country"] = spine["country"].astype("string")
    names = spine.drop_duplicates("gwno", keep="last").set_index("gwno")["country"].to_dict()
    # Analysts read today's short names (V-Dem's: "Germany", "Vietnam", "Serbia"); states
    # without a V-Dem entry keep their Gleditsch-Ward name.
    current = _gw_to_name(country_codes)
    spine["country"] = spine["gwno"].map(current).fillna(spine["country"]).astype("string")
    iso3 = _gw_to_iso3(country_codes)
    missing = {g: n for g, n in names.items() if g not in iso3}
    if missing:
        # States outside the V-Dem crosswalk (Bahamas, Belize, Brunei...): ask country_converter.
        from relapse.countries import name_to_iso3

        found = name_to_iso3(list(missing.values()))
        iso3.update({g: c for g, c in zip(missing, found, strict=True) if isinstance(c, str)})
    spine["iso3"] = spine["gwno"].map(iso3).astype("string")
    spine = spine[["gwno", "year", "iso3", "country"]]
    return spine.sort_values(["gwno", "year"], ignore_index=True)


def _gw_to_iso3(country_codes: pd.DataFrame | None) -> dict[int, str]:
    return {gw: iso3 for gw, (iso3, _) in _crosswalk_by_gw(country_codes).items()}


def _gw_to_name(country_codes: pd.DataFrame | None) -> dict[int, str]:
    return {gw: name for gw, (_, name) in _crosswalk_by_gw(country_codes).items() if name}


def _crosswalk_by_gw(country_codes: pd.DataFrame | None) -> dict[int, tuple[str, str]]:
    """GW code → (ISO3, V-Dem name) from the crosswalk, resolved with the trap table."""
    from relapse.countries import GW_TO_GW_TRAPS, ISO3_TO_GW_TRAPS

    table: dict[int, tuple[str, str]] = {}
    if country_codes is not None:
        for row in country_codes.dropna(subset=["gwno"]).itertuples(index=False):
            gw = GW_TO_GW_TRAPS.get(int(row.gwno), int(row.gwno))
            # The crosswalk lists predecessors too (DEU for GW 255); the trap table decides.
            trap = ISO3_TO_GW_TRAPS.get(str(row.iso3))
            if trap is None or trap == gw:
                name = "" if pd.isna(row.country) else str(row.country)
                table.setdefault(gw, (str(row.iso3), name))
    return table


@dataclass(frozen=True)
class ConflictHistory:
    """Country-year conflict activity derived from the UCDP/PRIO ACD."""

    active: pd.DataFrame
    """One row per active country-year: ``gwno``, ``year``, ``max_intensity``,
    ``n_conflicts``, ``conflict_ids`` (tuple)."""
    last_year: int
    """The last year of the conflict data (labels never look past it)."""


def conflict_history(
    acd: pd.DataFrame, conflict_types: list[int] | tuple[int, ...], last_year: int | None = None
) -> ConflictHistory:
    """Active country-years of the configured conflict types (locations already expanded).

    Parameters
    ----------
    acd
        Output of the ``ucdp_acd`` loader (one row per conflict-year and location country).
    conflict_types
        UCDP ``type_of_conflict`` values that count (3 and 4 by default).
    last_year
        The last year of the data; default the last year in ``acd``.
    """
    if acd.empty:
        raise DataError("ucdp_acd: no conflict-years to build a panel from")
    data_last = int(acd["year"].max())
    last_year = data_last if last_year is None else last_year
    rows = acd.loc[acd["type_of_conflict"].isin(list(conflict_types)) & (acd["year"] <= last_year)]
    active = (
        rows.groupby(["gwno", "year"], sort=True)
        .agg(
            max_intensity=("intensity_level", "max"),
            n_conflicts=("conflict_id", "nunique"),
            conflict_ids=("conflict_id", lambda s: tuple(sorted(set(s)))),
        )
        .reset_index()
    )
    active = active.astype({"gwno": "int64", "year": "int64", "max_intensity": "int64"})
    return ConflictHistory(active=active, last_year=last_year)


BATTLE_FIRST_YEAR = 1989
"""The first year of UCDP's battle-death file (``gwno_battle``)."""

LOCATIONS: tuple[str, ...] = ("government", "battle")
"""``target.location``: UCDP's location (the government's country) or where the battles were."""


def battle_locations(
    acd: pd.DataFrame, brd: pd.DataFrame | None, location: str = "government"
) -> pd.DataFrame:
    """The ACD's conflict-year rows placed in the countries ``target.location`` says.

    ``government`` returns ``acd`` unchanged (UCDP's ``gwno_loc``, one row per location).
    ``battle`` keeps ``gwno_loc`` before :data:`BATTLE_FIRST_YEAR` and from then on places each
    conflict-year in the countries of its dyads' ``gwno_battle`` (the ``ucdp_brd`` file), with
    the ACD's intensity and type of that conflict-year. A conflict-year without a
    battle-death row keeps the ACD's location (never dropped).

    Raises
    ------
    DataError
        ``battle`` without the battle-death table.
    """
    if location == "government":
        return acd
    if brd is None:
        raise DataError("target.location=battle needs the ucdp_brd source (battle locations)")
    from relapse.sources.conflict import expand_gw_list

    keys = pd.MultiIndex.from_frame(brd[["conflict_id", "year"]])
    covered = pd.MultiIndex.from_frame(acd[["conflict_id", "year"]]).isin(keys)
    before = acd.loc[(acd["year"] < BATTLE_FIRST_YEAR) | ~covered]
    where = expand_gw_list(
        brd.loc[brd["year"] >= BATTLE_FIRST_YEAR, ["conflict_id", "year", "gwno_battle"]],
        "gwno_battle",
        "ucdp_brd",
    )[["conflict_id", "year", "gwno"]].drop_duplicates()
    facts = acd.drop(columns=["gwno"]).drop_duplicates(["conflict_id", "year"])
    after = where.merge(facts, on=["conflict_id", "year"], how="inner", validate="many_to_one")
    out = pd.concat([before, after[list(before.columns)]], ignore_index=True)
    return out.astype({"gwno": "int64", "year": "int64"}).sort_values(
        ["conflict_id", "year", "gwno"], ignore_index=True
    )


def location_changes(
    acd: pd.DataFrame,
    brd: pd.DataFrame,
    spine: pd.DataFrame,
    cfg_target: DictConfig,
    year: int | None = None,
) -> pd.DataFrame:
    """Countries whose post-conflict status in ``year`` differs between the two locations.

    Returns
    -------
    DataFrame
        ``gwno``, ``country``, ``government`` and ``battle``: each the country's state in
        ``year`` under that choice (``active``, ``post-conflict`` or ``at peace``), only rows
        where they differ. With ``year`` None: every year, with a ``year`` column after
        ``country``, sorted by country and year.
    """
    states = {}
    for location in LOCATIONS:
        placed = battle_locations(acd, brd, location)
        history = conflict_history(placed, list(cfg_target.conflict_types))
        timeline = country_timeline(spine, history)
        if year is not None:
            timeline = timeline.loc[timeline["year"] == year]
        timeline = timeline.set_index(["gwno", "year"])
        pop = population_mask(timeline, int(cfg_target.window_years))
        states[location] = pd.Series(
            np.where(timeline["active"], "active", np.where(pop, "post-conflict", "at peace")),
            index=timeline.index,
        )
    both = pd.DataFrame(states)
    names = spine.drop_duplicates("gwno", keep="last").set_index("gwno")["country"]
    both = both.loc[both["government"] != both["battle"]].reset_index()
    both.insert(1, "country", both["gwno"].map(names).astype("string"))
    both = both[["gwno", "country", "year", "government", "battle"]]
    if year is not None:
        return both.drop(columns="year").sort_values("country", ignore_index=True)
    return both.sort_values(["country", "year"], ignore_index=True, kind="mergesort")


def country_timeline(spine: pd.DataFrame, history: ConflictHistory) -> pd.DataFrame:
    """The spine with per-country conflict history up to and including each year.

    Adds ``active`` (bool), ``intensity`` (0 none, 1 minor, 2 war), ``last_active_year``
    (Int64: the latest active year ≤ t), ``years_since_conflict`` (Int64: t − that year;
    0 when active), ``spell_start`` / ``spell_length`` / ``spell_max_intensity`` of the latest
    active spell (consecutive active years) ending ≤ t, ``n_spells`` (spells begun ≤ t),
    ``war_years`` and ``conflict_years`` (cumulative since the first year of the data), and
    ``spell_conflict_ids`` (the conflicts active in that latest spell).

    Every value at year t uses rows of years ≤ t only.
    """
    panel = spine[["gwno", "year"]].merge(
        history.active, on=["gwno", "year"], how="left", validate="one_to_one"
    )
    panel["active"] = panel["max_intensity"].notna()
    panel["intensity"] = panel["max_intensity"].fillna(0).astype("int64")
    out = []
    for _, g in panel.groupby("gwno", sort=True):
        out.append(_country_history(g))
    result = pd.concat(out, ignore_index=True)
    return spine.merge(result, on=["gwno", "year"], how="left", validate="one_to_one")


def _country_history(g: pd.DataFrame) -> pd.DataFrame:
    years = g["year"].to_numpy()
    active = g["active"].to_numpy()
    intensity = g["intensity"].to_numpy()
    ids = g["conflict_ids"].to_numpy()
    n = len(g)
    last_active = np.full(n, -1)
    spell_start = np.full(n, -1)
    spell_len = np.zeros(n, dtype=np.int64)
    spell_int = np.zeros(n, dtype=np.int64)
    n_spells = np.zeros(n, dtype=np.int64)
    spell_ids: list[tuple[int, ...]] = [()] * n
    cur_last, cur_start, cur_len, cur_int, cur_n = -1, -1, 0, 0, 0
    cur_ids: set[int] = set()
    prev_year = None
    for i in range(n):
        # A gap in the spine (state absent) also breaks a spell.
        contiguous = prev_year is not None and years[i] == prev_year + 1
        if active[i]:
            if cur_last == years[i] - 1 and contiguous:
                cur_len += 1
                cur_int = max(cur_int, intensity[i])
                cur_ids |= set(ids[i])
            else:
                cur_start, cur_len, cur_int, cur_ids = years[i], 1, intensity[i], set(ids[i])
                cur_n += 1
            cur_last = years[i]
        last_active[i] = cur_last
        spell_start[i] = cur_start
        spell_len[i] = cur_len
        spell_int[i] = cur_int
        n_spells[i] = cur_n
        spell_ids[i] = tuple(sorted(cur_ids))
        prev_year = years[i]
    has = last_active >= 0
    return pd.DataFrame(
        {
            "gwno": g["gwno"].to_numpy(),
            "year": years,
            "active": active,
            "intensity": intensity,
            "last_active_year": _nullable(last_active, has),
            "years_since_conflict": _nullable(years - last_active, has),
            "spell_start": _nullable(spell_start, has),
            "spell_length": spell_len,
            "spell_max_intensity": spell_int,
            "n_spells": n_spells,
            "war_years": np.cumsum(intensity == 2),
            "conflict_years": np.cumsum(active),
            "spell_conflict_ids": spell_ids,
        }
    )


def _nullable(values: np.ndarray, known: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(values.astype("int64"), ~known)


def outside_state_system(history: ConflictHistory, spine: pd.DataFrame) -> list[str]:
    """Active conflict-years located where the GW list has no state that year.

    These (e.g. Hyderabad 1947–48) cannot enter a country-year panel; they are reported in
    the build summary rather than dropped silently.
    """
    merged = history.active.merge(
        spine[["gwno", "year"]], on=["gwno", "year"], how="left", indicator=True
    )
    rows = merged.loc[merged["_merge"] == "left_only"]
    notes = []
    for g, sub in rows.groupby("gwno"):
        ids = ", ".join(str(c) for c in sorted({i for t in sub["conflict_ids"] for i in t}))
        notes.append(
            f"GW {int(g)} in {int(sub['year'].min())}–{int(sub['year'].max())} (conflict {ids})"
        )
    return notes


def population_mask(timeline: pd.DataFrame, window_years: int) -> pd.Series:
    """Post-conflict country-years: not active, last active year within the window."""
    ysc = timeline["years_since_conflict"]
    mask = (~timeline["active"]) & ysc.notna() & (ysc >= 1) & (ysc <= window_years)
    return mask.fillna(False).astype(bool)


RISK_TYPES: tuple[str, ...] = ("relapse", "renewed", "onset")
"""``risk_type`` values of non-active country-years (see the module docs)."""


def risk_types(timeline: pd.DataFrame, in_population: pd.Series) -> pd.Series:
    """``relapse`` / ``renewed`` / ``onset`` per non-active row, NA on active rows."""
    ever = timeline["last_active_year"].notna().to_numpy()
    kind = np.where(in_population.to_numpy(), "relapse", np.where(ever, "renewed", "onset"))
    out = pd.Series(kind, index=timeline.index, dtype="string")
    return out.where(~timeline["active"].to_numpy(dtype=bool), pd.NA)


def years_at_peace(timeline: pd.DataFrame) -> pd.Series:
    """Years since the last active year, or since the state's first spine year if none.

    NA on active rows. For ``onset`` rows the first year is independence (the first year of
    the state in the Gleditsch–Ward list) or the panel's first year for older states.
    """
    first = timeline.groupby("gwno")["year"].transform("min")
    since_first = (timeline["year"] - first).astype("Int64")
    peace = timeline["years_since_conflict"].astype("Int64").fillna(since_first)
    return peace.where(~timeline["active"].to_numpy(dtype=bool), pd.NA)


def relapse_labels(
    timeline: pd.DataFrame,
    history: ConflictHistory,
    horizons: list[int] | tuple[int, ...],
    level: str = "country",
    in_population: pd.Series | None = None,
) -> pd.DataFrame:
    """``relapse_h{h}`` for each horizon (nullable Int8), aligned with ``timeline``.

    Missing when t + h > the last year of the data, when the state is not in the system for
    every year t+1 … t+h, on active rows, at conflict level on rows without an earlier
    conflict, or when the row is outside ``in_population`` (if given: the labels of the
    population only).
    """
    active_ids = {
        (int(r.gwno), int(r.year)): set(r.conflict_ids)
        for r in history.active.itertuples(index=False)
    }
    present = set(zip(timeline["gwno"].to_numpy(), timeline["year"].to_numpy(), strict=True))
    out = pd.DataFrame(index=timeline.index)
    gw = timeline["gwno"].to_numpy()
    yr = timeline["year"].to_numpy()
    spell_ids = timeline["spell_conflict_ids"].to_numpy()
    for h in horizons:
        values = np.zeros(len(timeline), dtype=np.int8)
        known = np.ones(len(timeline), dtype=bool)
        for i in range(len(timeline)):
            g, t = int(gw[i]), int(yr[i])
            if t + h > history.last_year:
                known[i] = False
                continue
            future = [(g, t + k) for k in range(1, h + 1)]
            if not all(key in present for key in future):
                known[i] = False
                continue
            if level == "country":
                hit = any(key in active_ids for key in future)
            else:
                ids = set(spell_ids[i])
                known[i] = bool(ids)
                hit = any(ids & active_ids.get(key, set()) for key in future)
            values[i] = int(hit)
        known &= ~timeline["active"].to_numpy(dtype=bool)
        if in_population is not None:
            known &= in_population.to_numpy()
        out[f"relapse_h{h}"] = pd.Series(values, index=timeline.index, dtype="Int8").where(
            known, pd.NA
        )
    return out


def label_columns(horizons: list[int] | tuple[int, ...]) -> list[str]:
    """Names of the label columns for ``horizons``."""
    return [f"relapse_h{h}" for h in horizons]


@dataclass(frozen=True)
class Panel:
    """A country-year panel and what building it set aside.

    Attributes
    ----------
    frame
        One row per state and year.
    outside_state_system
        Conflict-years located in no state of the GW system that year
        (:func:`outside_state_system`), for the build's notes.
    """

    frame: pd.DataFrame
    outside_state_system: list[str]


def build_base_panel(tables: Mapping[str, pd.DataFrame], cfg: DictConfig) -> Panel:
    """Spine, conflict timeline, population and labels (no feature families yet).

    Parameters
    ----------
    tables
        At least ``ucdp_acd``, ``gw_states`` and ``country_codes`` (tidy loader output).
    cfg
        Composed config; uses ``target``.

    Returns
    -------
    Panel
        The base panel and the conflict-years outside the state system.
    """
    target = cfg.target
    acd = battle_locations(
        tables["ucdp_acd"], tables.get("ucdp_brd"), str(target.get("location", "government"))
    )
    history = conflict_history(acd, list(target.conflict_types))
    spine = build_spine(
        tables["gw_states"], int(target.first_year), history.last_year, tables["country_codes"]
    )
    outside = outside_state_system(history, spine)
    timeline = country_timeline(spine, history)
    timeline["in_population"] = population_mask(timeline, int(target.window_years))
    timeline["risk_type"] = risk_types(timeline, timeline["in_population"])
    timeline["years_at_peace"] = years_at_peace(timeline)
    labels = relapse_labels(timeline, history, list(target.horizons), str(target.level))
    return Panel(pd.concat([timeline, labels], axis=1), outside)
