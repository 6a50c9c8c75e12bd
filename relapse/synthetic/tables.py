"""One raw table per registered source, from one simulated world.

:func:`simulate` draws the world and calls the writers of each source family in a fixed
order: most share the tables' random stream (:class:`~relapse.synthetic.context.Context`), so
the order is part of the output.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from relapse.errors import DataError
from relapse.sources import SOURCES, resolve_files
from relapse.synthetic import conflict, crosswalks, economic, governance, peacekeeping
from relapse.synthetic.context import Context
from relapse.synthetic.world import simulate_world


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

    Raises
    ------
    DataError
        If a registered source has no writer.
    ConfigError
        If the world is too small to hold every kind of event the sources record.
    """
    data = cfg.data
    world = simulate_world(
        int(data.n_units), int(data.n_years), int(data.first_year), int(cfg.seed)
    )
    require_every_event(world, int(data.n_units), int(cfg.seed))
    by_key = tables_by_source(Context(world, int(cfg.seed)))
    missing = sorted(set(SOURCES) - set(by_key))
    if missing:
        raise DataError(f"synthetic data: no generator for source(s) {missing}")
    files = resolve_files(cfg.data.get("files", {}))
    return {files[key]: by_key[key] for key in SOURCES}


def require_every_event(world: Any, n_units: int, seed: int) -> None:
    """:class:`~relapse.errors.ConfigError` unless the world drew at least one conflict, peace
    agreement and mission (a source file with no rows cannot be written or validated)."""
    from relapse.errors import ConfigError

    empty = [
        kind
        for kind, table in (
            ("conflict", world.conflict_info),
            ("peace agreement", world.agreements),
            ("peacekeeping mission", world.missions),
        )
        if not len(table)
    ]
    if empty:
        raise ConfigError(
            f"data.n_units={n_units} (seed {seed}) is too small: the simulated world drew no "
            f"{', no '.join(empty)}; use more units (the default is 60)"
        )


def tables_by_source(ctx: Context) -> dict[str, pd.DataFrame]:
    """Every raw table keyed by source key, written in the shared stream's fixed order."""
    episodes = conflict.episodes(ctx)
    missions = peacekeeping.mission_names(ctx)
    gv = governance.governance_values(ctx)
    agreements = conflict.agreements(ctx)
    acd = conflict.acd(ctx, episodes)
    brd = conflict.battle_deaths(ctx, acd)
    return {
        "ucdp_acd": acd,
        "ucdp_termination": conflict.termination(ctx, episodes),
        "ucdp_peace_agreements": agreements,
        "ucdp_brd": brd,
        "ucdp_organized_violence": conflict.organized_violence(ctx, brd, episodes),
        "bara_hultman": peacekeeping.bara_hultman(ctx, missions),
        "un_personnel": peacekeeping.un_personnel(ctx, missions),
        "geopko": peacekeeping.geopko(ctx),
        "un_mission_list": peacekeeping.un_mission_list(ctx, missions),
        "un_contributions": peacekeeping.contributions(ctx, missions),
        "mullenbach": peacekeeping.mullenbach(ctx, missions),
        "doyle_sambanis": peacekeeping.doyle_sambanis(ctx, missions),
        "vdem_indices": governance.vdem_indices(ctx, gv),
        "vdem_econ_coups": governance.vdem_econ_coups(ctx, gv),
        "vdem_infant_cso": governance.vdem_infant_cso(ctx, gv),
        "polity5": governance.polity(ctx, gv),
        "freedom_house": governance.freedom_house(ctx, gv),
        "wgi": governance.wgi(ctx, gv),
        "elections": governance.elections(ctx, gv),
        "aiddata_ssr": governance.aiddata(ctx),
        "police_reform": governance.police(ctx, agreements),
        "wdi_gdp_pc": economic.wdi(ctx, "gdp"),
        "wdi_population": economic.wdi(ctx, "population"),
        "gapminder": economic.gapminder(ctx),
        "pwt": economic.pwt(ctx),
        "maddison": economic.maddison(ctx),
        "cow_nmc": economic.cow_nmc(ctx),
        "creg": economic.creg(ctx),
        "hief": economic.hief(ctx),
        "epr": governance.epr(ctx),
        "gw_states": crosswalks.gw_states(ctx),
        "cow_states": crosswalks.cow_states(ctx),
        "cow_system": crosswalks.cow_system(ctx),
        "country_codes": crosswalks.country_codes(ctx),
        "un_mission_iso3": crosswalks.un_mission_iso3(ctx, missions),
        "gw_mindist": crosswalks.mindist(ctx),
        "gw_capitals": crosswalks.capitals(ctx),
    }
