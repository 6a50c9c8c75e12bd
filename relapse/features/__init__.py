"""Feature families: the registry in config, the builders, and how they join the panel.

Each family module, named as its family (:data:`FAMILY_MODULES`), exposes ``SOURCES_USED``
and a pure ``build(grid, tables, cfg) -> DataFrame`` returning one row per spine (gwno, year) of the
:class:`~relapse.features.align.Grid` (source tables by key in ``tables``) with the family's
features *unlagged* (each value describes its own year). :func:`assemble` checks every builder
against the registry (``conf/features/registry/``), applies the as-of rule and then each
feature's publication lag: the value used at year t is the builder's value at t − lag.

**As-of rule** (:func:`carry_forward`), the same for training, backtest and scoring rows:
where a builder's value for year s is missing, the country's last non-missing value from a
year s − a is used instead when a ≤ the feature's ``max_age_years`` (its own registry entry,
else the smallest ``features.max_age_years`` of its sources; unlisted sources 0, never
carried). Only earlier years are read, so no value comes from after t. ``a`` — how many years
older than usual the value is, 0 for a current value — is kept per feature, and each
registered *age feature* (registry ``age_of``) gives the model the largest ``a`` over its
member features in the row (missing when all of them are missing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType

import pandas as pd
from omegaconf import DictConfig

from relapse.config import FAMILIES, Family
from relapse.errors import ConfigError, DataError
from relapse.features import (
    conflict_legacy,
    economy,
    elections,
    governance,
    mission,
    security_sector_reform,
    services,
)
from relapse.features.align import Grid

FAMILY_MODULES: dict[Family, ModuleType] = {
    Family.conflict_legacy: conflict_legacy,
    Family.mission: mission,
    Family.security_sector_reform: security_sector_reform,
    Family.elections: elections,
    Family.governance: governance,
    Family.services: services,
    Family.economy: economy,
}
"""Each family's builder module, named as the family."""

IDENTIFIERS: tuple[str, ...] = ("gwno", "year", "iso3", "country")
"""Never model features (country identifiers would let a model memorise countries)."""


def family_module(family: str) -> ModuleType:
    """The builder module of a family."""
    if family not in FAMILIES:
        raise ConfigError(f"unknown feature family {family!r}; known: {list(FAMILIES)}")
    return FAMILY_MODULES[Family(family)]


def max_age(cfg: DictConfig, name: str) -> int:
    """A feature's as-of limit: its own ``max_age_years`` or the smallest of its sources'."""
    spec = cfg.features.registry[name]
    if spec.max_age_years is not None:
        return int(spec.max_age_years)
    ages = cfg.features.max_age_years
    return min(int(ages.get(s, 0)) for s in spec.sources)


def age_features(cfg: DictConfig) -> dict[str, list[str]]:
    """Registered age features of the enabled families → the features they describe."""
    enabled = set(cfg.features.families)
    return {
        name: list(spec.age_of)
        for name, spec in cfg.features.registry.items()
        if spec.age_of is not None and spec.family in enabled
    }


def effective_lag(cfg: DictConfig, name: str) -> int:
    """A feature's lag: its own ``lag`` or the largest lag of its sources."""
    spec = cfg.features.registry[name]
    if spec.lag is not None:
        return int(spec.lag)
    return max(int(cfg.features.source_lags[s]) for s in spec.sources)


def registry_table(cfg: DictConfig) -> pd.DataFrame:
    """The registry as a table: name, family, sources, unit, lag, description, enabled,
    max_age_years (the as-of limit, :func:`max_age`; 0 for age features) and age_of (the
    features an age feature describes, comma-separated; empty otherwise)."""
    enabled = set(cfg.features.families)
    rows = [
        {
            "name": name,
            "family": str(spec.family),
            "sources": ", ".join(spec.sources),
            "unit": spec.unit,
            "lag": effective_lag(cfg, name),
            "description": spec.description,
            "enabled": spec.family in enabled,
            "max_age_years": max_age(cfg, name) if spec.age_of is None else 0,
            "age_of": ", ".join(spec.age_of) if spec.age_of is not None else "",
        }
        for name, spec in cfg.features.registry.items()
    ]
    order = {f: i for i, f in enumerate(FAMILIES)}
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    return table.sort_values(
        ["family", "name"], key=lambda s: s.map(order) if s.name == "family" else s
    ).reset_index(drop=True)


def feature_columns(cfg: DictConfig) -> list[str]:
    """Model feature names of the enabled families, in registry order (family, then name:
    the order of :func:`registry_table`)."""
    enabled = set(cfg.features.families)
    order = {f: i for i, f in enumerate(FAMILIES)}
    families = {str(name): str(spec.family) for name, spec in cfg.features.registry.items()}
    named = [(order[f], n) for n, f in families.items() if f in enabled]
    return [n for _, n in sorted(named)]


def family_map(cfg: DictConfig) -> dict[str, str]:
    """Feature name → family, for the enabled families."""
    enabled = set(cfg.features.families)
    return {
        name: str(spec.family)
        for name, spec in cfg.features.registry.items()
        if spec.family in enabled
    }


def sources_needed(cfg: DictConfig) -> list[str]:
    """Source keys the enabled families read."""
    keys: list[str] = []
    for family in cfg.features.families:
        for key in family_module(family).SOURCES_USED:
            if key not in keys:
                keys.append(key)
    return keys


def apply_lag(values: pd.DataFrame, columns: list[str], lag: int) -> pd.DataFrame:
    """Shift ``columns`` forward by ``lag`` calendar years within each country.

    The row for year t receives the value of year t − lag (matched on the year value, not the
    row position, so gaps in a country's years never pull in a neighbour's value).
    """
    if lag == 0:
        return values[["gwno", "year", *columns]]
    shifted = values[["gwno", "year", *columns]].copy()
    shifted["year"] = shifted["year"] + lag
    return values[["gwno", "year"]].merge(shifted, on=["gwno", "year"], how="left")


def build_family(
    family: str, grid: Grid, tables: Mapping[str, pd.DataFrame], cfg: DictConfig
) -> pd.DataFrame:
    """Run one family's builder and check it against the spine and the registry."""
    module = family_module(family)
    spine = grid.spine
    out = module.build(grid, tables, cfg)
    expected = sorted(
        n for n, s in cfg.features.registry.items() if s.family == family and s.age_of is None
    )
    produced = sorted(c for c in out.columns if c not in ("gwno", "year"))
    if produced != expected:
        missing = sorted(set(expected) - set(produced))
        extra = sorted(set(produced) - set(expected))
        raise ConfigError(
            f"family {family!r}: builder and registry disagree "
            f"(in registry only: {missing}; built but not registered: {extra})"
        )
    leaked = [c for c in produced if c in IDENTIFIERS]
    if leaked:
        raise ConfigError(f"family {family!r}: identifiers used as features: {leaked}")
    keys = out[["gwno", "year"]]
    if len(out) != len(spine) or keys.duplicated().any():
        raise DataError(f"family {family!r}: builder must return one row per spine country-year")
    return out


def carry_forward(
    values: pd.DataFrame, columns: list[str], limits: Mapping[str, int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fill missing values with the country's last value from at most ``limits[c]`` years before.

    Parameters
    ----------
    values
        ``gwno``, ``year`` and ``columns``, unique on (gwno, year), unlagged.
    columns
        Columns to carry.
    limits
        Column → largest age in years (0: never carried).

    Returns
    -------
    (DataFrame, DataFrame)
        The carried values and their ages (years between the row's year and the year of the
        value used; 0 where the value is current, NaN where missing), both with ``gwno`` and
        ``year``, in the order of ``values``.
    """
    values = values.reset_index(drop=True)
    order = values.sort_values(["gwno", "year"], kind="stable")
    keys = order[["gwno", "year"]]
    carried, ages = keys.copy(), keys.copy()
    groups = order["gwno"]
    year = order["year"].astype("float64")
    for col in columns:
        seen = year.where(order[col].notna())
        last_seen = seen.groupby(groups).ffill()
        age = year - last_seen
        keep = age <= limits.get(col, 0)
        carried[col] = order[col].groupby(groups).ffill().where(keep)
        ages[col] = age.where(keep)
    return carried.loc[values.index], ages.loc[values.index]


def _age_column(name: str) -> str:
    """The panel column holding a feature's as-of age while the panel is assembled."""
    return f"__age__{name}"


def assemble(
    base: pd.DataFrame, tables: Mapping[str, pd.DataFrame], cfg: DictConfig, progress=None
) -> pd.DataFrame:
    """Join every enabled family, carried (as-of rule) and lagged, onto the base panel.

    ``base`` is :func:`relapse.panel.build_base_panel`'s panel: the families are built for its
    country-years (its spine columns) and the conflict legacy reads its conflict timeline.
    """
    grid = Grid(spine=base[["gwno", "year", "iso3", "country"]], timeline=base)
    panel = base
    for family in cfg.features.families:
        built = build_family(family, grid, tables, cfg)
        names = [c for c in built.columns if c not in ("gwno", "year")]
        carried, ages = carry_forward(built, names, {n: max_age(cfg, n) for n in names})
        carried = carried.join(ages[names].rename(columns=_age_column))
        by_lag: dict[int, list[str]] = {}
        for name in names:
            by_lag.setdefault(effective_lag(cfg, name), []).extend([name, _age_column(name)])
        for lag, columns in sorted(by_lag.items()):
            lagged = apply_lag(carried, columns, lag)
            panel = panel.merge(lagged, on=["gwno", "year"], how="left", validate="one_to_one")
        if progress is not None:
            progress(family)
    for name, members in age_features(cfg).items():
        panel[name] = panel[[_age_column(m) for m in members]].max(axis=1, skipna=True)
    panel = panel.drop(columns=[c for c in panel.columns if str(c).startswith("__age__")])
    for name in feature_columns(cfg):
        panel[name] = pd.to_numeric(panel[name]).astype("float64")
    return panel


def last_recorded_year(
    years_with_value: pd.Series | Sequence[int], lag: int, max_age_years: int
) -> int | None:
    """The last year the source had a value, read back from the panel (the as-of rule inverted).

    Parameters
    ----------
    years_with_value
        The panel years before t in which one country's feature is not missing (the feature is
        missing from the last of them + 1 up to t).
    lag
        The feature's publication lag (:func:`effective_lag`).
    max_age_years
        The feature's as-of limit (:func:`max_age`).

    Returns
    -------
    int or None
        ``y − lag − max_age_years`` for the last such year ``y``: the panel row of year y uses
        the source's year y − lag or a value up to ``max_age_years`` older, and row y + 1 being
        missing means that value had reached the limit, so it is exactly the source's last
        year before t. None when the feature was never recorded for the country.
    """
    years = pd.Series(years_with_value, dtype="float64").dropna()
    if years.empty:
        return None
    return int(years.max()) - int(lag) - int(max_age_years)
