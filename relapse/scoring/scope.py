"""Who is scored: the scope's countries, their mission hosts and what is known of them.

``score.scope`` picks the countries (:func:`select_scope`): the hosts of active missions
(:mod:`relapse.missions`, with the ``score.mission_hosts`` attribution), every country not
at war, the post-conflict population, or a list of ISO3/GW codes (:func:`resolve_countries`).
Countries at war carry their UCDP conflicts (:func:`conflict_facts`); the brief's caveats on
mission coverage and on the conflict location come from :func:`mission_notes` and
:func:`location_words`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from omegaconf import DictConfig

from relapse.errors import ConfigError


def resolve_countries(codes: Sequence[Any], panel: pd.DataFrame) -> list[int]:
    """GW codes of ``codes`` (ISO3 or GW numbers); :class:`ConfigError` naming unknown ones."""
    known_gw = set(panel["gwno"].astype(int))
    by_iso = (
        panel.dropna(subset=["iso3"])
        .drop_duplicates("iso3", keep="last")
        .set_index("iso3")["gwno"]
        .astype(int)
        .to_dict()
    )
    out, unknown = [], []
    for code in codes:
        text = str(code).strip()
        if text.isdigit() and int(text) in known_gw:
            out.append(int(text))
        elif text.upper() in by_iso:
            out.append(int(by_iso[text.upper()]))
        else:
            unknown.append(text)
    if unknown:
        raise ConfigError(
            f"score.countries: unknown ISO3 or GW code(s) {unknown} (not in the panel's states)"
        )
    return sorted(set(out))


def select_scope(cfg: DictConfig, panel: pd.DataFrame, as_of: int, missions: Any) -> pd.DataFrame:
    """The countries to list: ``gwno`` (Int64), ``iso3``, ``country``, ``missions``,
    ``mission_status`` and ``interstate_mission``."""
    scope = str(cfg.score.scope)
    hosts = missions.hosts.set_index("gwno")
    names = panel.sort_values("year").drop_duplicates("gwno", keep="last").set_index("gwno")
    year = panel.loc[panel["year"] == as_of]
    if scope == "active_missions":
        gws = sorted(int(g) for g in hosts.index)
    elif scope == "not_at_war":
        gws = sorted(int(g) for g in year.loc[~year["active"].astype(bool), "gwno"])
    elif scope == "all_post_conflict":
        gws = sorted(int(g) for g in year.loc[year["in_population"], "gwno"])
    elif scope == "countries":
        if not cfg.score.countries:
            raise ConfigError("score.scope=countries needs score.countries (ISO3 or GW codes)")
        gws = resolve_countries(list(cfg.score.countries), panel)
    else:  # validate_config already refuses other values
        raise ConfigError(f"unknown score.scope {scope!r}")
    table = missions.missions
    rows = pd.DataFrame(
        {
            "gwno": pd.array(gws, dtype="Int64"),
            "iso3": [names["iso3"].get(g) for g in gws],
            "country": [names["country"].get(g) for g in gws],
            "missions": [hosts["missions"].get(g, "") for g in gws],
            "mission_status": [_mission_status(table, g) for g in gws],
            "interstate_mission": [bool(hosts["interstate"].get(g, False)) for g in gws],
        }
    )
    return rows.astype(
        {"iso3": "string", "country": "string", "missions": "string", "mission_status": "string"}
    )


def _mission_status(missions: pd.DataFrame, gwno: int) -> str:
    """'EUPOL, RSM: not recorded since 2016' for a host's missions not active on record."""
    if missions.empty:
        return ""
    own = missions.loc[(missions["gwno"] == gwno) & (missions["status"] != "active")]
    return "; ".join(
        f"{', '.join(g['mission'])}: {status}" for status, g in own.groupby("status", sort=True)
    )


def mission_notes(missions: Any, as_of: int) -> list[str]:
    """Plain-language caveats on mission coverage for the brief."""
    notes = []
    last = missions.non_un_last_year
    if last is not None and last < as_of:
        notes.append(
            f"Non-UN missions: the snapshot has no non-UN mission source after {last} "
            f"(Mullenbach; Bara & Hultman). Non-UN missions recorded as ongoing at the end of "
            f"{last} are listed as 'not recorded since {last}' (mission_status), not as "
            f"active in {as_of}: some have ended since (EUPOL Afghanistan ended in 2016), and "
            "missions begun since are not known."
        )
    table = missions.missions
    if len(table) and table["interstate"].any():
        names = sorted(set(table.loc[table["interstate"], "mission"]))
        notes.append(
            f"{', '.join(names)} watch interstate lines: the scenario they guard against is "
            "not the internal conflict this model forecasts (interstate_mission)."
        )
    if missions.undated:
        notes.append(
            "UN missions marked active in the UN list but without a start date, so "
            f"not counted: {', '.join(missions.undated)}."
        )
    return notes


def conflict_facts(
    panel: pd.DataFrame, conflict: Mapping[str, pd.DataFrame], cfg: DictConfig, as_of: int
) -> pd.DataFrame:
    """Per country at war in ``as_of``: its conflicts by UCDP name, episode start, intensity and
    battle deaths that year.

    Conflicts are placed as ``target.location`` says (:func:`relapse.panel.battle_locations`)
    and named ``location: territory (side A vs side B)``, or ``location: government (…)`` for
    conflicts over the government. Battle deaths are UCDP's best estimate summed over the
    dyads of those conflicts in ``as_of`` (all their locations). Returns ``gwno``,
    ``conflicts``, ``conflict_ids``, ``episode_start_year``, ``intensity``, ``battle_deaths``.
    """
    from relapse.panel import battle_locations

    acd = battle_locations(conflict["ucdp_acd"], conflict["ucdp_brd"], str(cfg.target.location))
    rows = acd.loc[(acd["year"] == as_of) & acd["type_of_conflict"].isin(cfg.target.conflict_types)]
    brd = conflict["ucdp_brd"]
    deaths = brd.loc[brd["year"] == as_of].groupby("conflict_id")["bd_best"].sum()
    year = panel.loc[panel["year"] == as_of].set_index("gwno")
    out = []
    for gwno, g in rows.groupby("gwno", sort=True):
        g = g.drop_duplicates("conflict_id").sort_values("conflict_id")
        names = [
            f"{location}: {_incompatibility(territory)} ({side_a} vs {side_b})"
            for location, territory, side_a, side_b in zip(
                g["location"], g["territory_name"], g["side_a"], g["side_b"], strict=True
            )
        ]
        ids = [int(c) for c in g["conflict_id"]]
        known = [c for c in ids if c in deaths.index]
        start = year["spell_start"].get(int(gwno)) if "spell_start" in year else pd.NA
        out.append(
            {
                "gwno": int(gwno),
                "conflicts": "; ".join(names),
                "conflict_ids": "; ".join(map(str, ids)),
                "episode_start_year": start,
                "intensity": int(g["intensity_level"].max()),
                "battle_deaths": int(deaths.loc[known].sum()) if known else pd.NA,
            }
        )
    cols = ["gwno", "conflicts", "conflict_ids", "episode_start_year", "intensity", "battle_deaths"]
    return pd.DataFrame(out, columns=cols)


def _incompatibility(territory: Any) -> str:
    """The territory fought over, or 'government' for conflicts over the government."""
    return territory if isinstance(territory, str) and territory else "government"


def location_words(cfg: DictConfig, changes: pd.DataFrame, as_of: int) -> str:
    """Which conflict location is used and which countries the other choice would change:
    ``changes`` are the countries whose status differs in ``as_of``
    (:func:`relapse.panel.location_changes`)."""
    used = str(cfg.target.location)
    other = "battle" if used == "government" else "government"
    listed = "; ".join(
        f"{r.country}: {getattr(r, used)} (with {other}: {getattr(r, other)})"
        for r in changes.itertuples(index=False)
    )
    return (
        f"Conflicts are placed by target.location={used} ("
        + (
            "UCDP's location, the government's country"
            if used == "government"
            else "where the battles were, UCDP battle-death file from 1989"
        )
        + f"). With target.location={other}, {len(changes)} countr"
        + ("y" if len(changes) == 1 else "ies")
        + f" would have another status in {as_of}"
        + (f": {listed}." if listed else ".")
    )
