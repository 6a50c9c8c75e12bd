"""Assemble everything the analyst report shows into one plain dictionary.

:func:`build_context` takes plain objects — the panel, one :class:`relapse.forecast.Forecast`
per horizon, the feature registry, and optionally the back-test metrics and predictions — and
returns a dict of strings, numbers, lists and base64 images. It runs in steps: the options
(:class:`ReportOptions`), the rows to report (:func:`_scope`), their explanations
(:func:`_explain`), the forecasts with their ranges (:func:`_forecasts`), then one section
each. :func:`relapse.report.render.render_report` turns it into HTML; nothing here touches
MLflow or the file system.

The "range" beside each forecast
--------------------------------
The range is **calibration-based**: among the back-test's out-of-sample forecasts for the same
horizon, take the ``k`` closest in risk to this forecast; the range is a 90% Jeffreys interval
for the share of them that were followed by relapse. It answers "how often did forecasts like
this one come true?", which is what a reader can act on. It is *not* a confidence interval for
this country in particular (the model's own variance for one country is not estimated), and
back-test rows of multi-year horizons overlap in time, so the range is somewhat too narrow.
Without back-test predictions no range is shown.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from relapse import bands, explain
from relapse.config import FAMILIES
from relapse.errors import ConfigError, DataError
from relapse.forecast import Forecast
from relapse.report import charts, plots, words

INTERVAL_LEVEL = 0.90
NEIGHBOURS_MIN = 40
KEYS = ["gwno", "year"]
# Back-test tables name the gradient-boosted model "model"; tables of older runs "lightgbm".
LEGACY_MODEL_NAMES = {"lightgbm": "model"}


def build_context(
    panel: pd.DataFrame,
    models: Mapping[int, Forecast],
    registry: pd.DataFrame,
    *,
    metrics: pd.DataFrame | None = None,
    backtest: pd.DataFrame | None = None,
    options: Mapping[str, Any] | None = None,
    data_vintage: str | None = None,
    as_of: int | None = None,
    location_note: str | None = None,
    track_record: pd.DataFrame | None = None,
    title: str = "Risk of relapse into armed conflict",
    global_rows: int = 1500,
    seed: int = 0,
) -> dict[str, Any]:
    """Everything the report shows, as a plain dict for :func:`render_report`.

    Parameters
    ----------
    panel
        The panel (``relapse.build.build_panel(cfg).panel``): ``gwno``, ``iso3``,
        ``country``, ``year``, ``in_population``, the model features, optionally ``active``.
    models
        Horizon → the :class:`relapse.forecast.Forecast` serving it (its probabilities,
        contributions, family map and provenance).
    registry
        ``relapse.features.registry_table(cfg)``: ``name``, ``family``, ``unit``,
        ``description`` (and ``enabled``).
    metrics
        Back-test metrics: ``horizon``, ``model``, ``metric``, ``value``, ``lo``, ``hi``.
    backtest
        Back-test predictions: ``gwno``, ``year``, ``horizon``, ``y_true``, ``p_model``,
        ``p_history``, ``p_climatology``.
    options
        ``cfg.report`` or a dict with some of its keys (:class:`ReportOptions`); defaults
        when None.
    data_vintage
        Hash of the panel's input files (``BuildResult.data_vintage``).
    as_of
        Forecast year; default the last year of the panel with post-conflict countries.
    location_note
        Which conflict location (``target.location``) is used and which countries the other
        choice would change (:func:`relapse.scoring.scope.location_note`); shown in the caveats.
    track_record
        ``relapse.track_record.read_track_record(scores_dir)``: how the archived forecasts
        did; None when no ``track_record.csv`` exists yet (the report says so).
    global_rows
        The global view ("what drives the forecasts") uses every post-conflict row, or a
        random sample of this many (seeded by ``seed``) when there are more, to keep the
        report fast; the scored countries are always explained in full.

    Raises
    ------
    ConfigError
        Unknown horizon or country code in ``options``.
    DataError
        No post-conflict country-years to score.
    """
    opts = ReportOptions.of(options)
    horizons = opts.report_horizons(models)
    reg = registry.set_index("name") if "name" in registry.columns else registry
    fmap, families = _families(models, reg)
    scope = _scope(panel, opts.countries, as_of)
    cuts = Banding(bands.base_rates(panel, horizons), [float(m) for m in opts.risk_band_multiples])
    found = _explain(models, scope, horizons, fmap, families, global_rows, seed)
    latest = _forecasts(models, scope, horizons, backtest)
    shap_latest, fam_latest = found.of(latest)
    countries = [
        _country_section(
            row,
            scope.pop,
            panel,
            shap_latest,
            fam_latest,
            found.changes,
            backtest,
            reg,
            horizons,
            cuts,
            int(opts.top_features),
        )
        for row in latest.sort_values(f"p{horizons[0]}", ascending=False).itertuples(index=False)
    ]
    model_info = _model_info(models, horizons, str(opts.model_version))
    return {
        "title": title,
        "as_of": scope.as_of,
        "generated": _dt.date.today().isoformat(),
        "horizons": horizons,
        "horizon_labels": {h: words.horizon_label(h) for h in horizons},
        "bands": bands.legend(cuts.rates, cuts.multiples),
        "summary": _summary(latest, horizons, cuts, scope.as_of),
        "headline": [_headline_table(latest, fam_latest, h, cuts) for h in horizons],
        "not_scored": scope.not_scored,
        "countries": countries,
        "drivers": {
            **_drivers(found.shap_global, found.importance, reg, horizons, families),
            "n_population": len(scope.pop),
        },
        "skill": _skill(metrics, backtest, horizons),
        "caveats": {
            **_caveats(scope.pop, scope.scored, reg, fmap, families, model_info, data_vintage),
            "missing_share": _missing_share_text(found.shap, scope.as_of),
            "location_note": location_note or "",
        },
        "track_record": _track_record(track_record),
        "model": model_info,
        "interval_note": _interval_note(backtest is not None),
    }


# --------------------------------------------------------------------------------- steps


def _plain(value: Any) -> Any:
    """A list for any sequence but a string (OmegaConf's ListConfig included)."""
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else value


@dataclass(frozen=True)
class ReportOptions:
    """What the report shows (``cfg.report``, :class:`relapse.config.ReportConfig`)."""

    horizons: list[int] | None = None
    countries: list[Any] | None = None
    top_features: int = 5
    risk_band_multiples: list[float] = field(default_factory=lambda: list(bands.DEFAULT_MULTIPLES))
    model_version: str = "champion"

    @classmethod
    def of(cls, options: Mapping[str, Any] | None) -> ReportOptions:
        """The options in ``options`` (``cfg.report`` or a dict); absent or None: defaults."""
        given = {f.name: (options or {}).get(f.name) for f in fields(cls)}
        return cls(**{name: _plain(v) for name, v in given.items() if v is not None})

    def report_horizons(self, models: Mapping[int, Forecast]) -> list[int]:
        """The horizons to show (default: every model's); each must have a model."""
        horizons = [int(h) for h in (self.horizons or sorted(models))]
        unknown = [h for h in horizons if h not in models]
        if unknown:
            raise ConfigError(
                f"report.horizons {unknown} have no model (models for {sorted(models)})"
            )
        return horizons


def _families(
    models: Mapping[int, Forecast], reg: pd.DataFrame
) -> tuple[dict[str, str], list[str]]:
    """The family of each feature the models use, and the families in the report's order.

    The registry's families, overridden by each model's own (the map it was trained with).
    """
    fmap: dict[str, str] = {str(k): str(v) for k, v in reg["family"].items()}
    for model in models.values():
        fmap.update({str(k): str(v) for k, v in model.family_map.items()})
    used = {n for m in models.values() for n in m.feature_names}
    fmap = {f: fam for f, fam in fmap.items() if f in used}
    families = [f for f in FAMILIES if f in set(fmap.values())]
    families += [f for f in dict.fromkeys(fmap.values()) if f not in families]
    return fmap, families


@dataclass(frozen=True)
class Scope:
    """The post-conflict rows (``pop``), the forecast year and the countries reported in it."""

    pop: pd.DataFrame
    as_of: int
    scored: np.ndarray  # mask over ``pop``: the reported countries in ``as_of``
    not_scored: list[str]


def _scope(panel: pd.DataFrame, countries: Sequence[Any] | None, as_of: int | None) -> Scope:
    """The rows to report: every post-conflict row, and the chosen countries in ``as_of``."""
    pop = panel.loc[panel["in_population"].astype(bool)].reset_index(drop=True)
    if pop.empty:
        raise DataError("the panel has no post-conflict country-years to score")
    year = int(as_of if as_of is not None else pop["year"].max())
    scored = (pop["year"] == year).to_numpy()
    wanted, not_scored = _select_countries(panel, pop.loc[scored], countries, year)
    scored &= pop["gwno"].isin(wanted).to_numpy()
    if not scored.any():
        raise DataError(f"no post-conflict country to report in {year}")
    return Scope(pop=pop, as_of=year, scored=scored, not_scored=not_scored)


@dataclass(frozen=True)
class Explanations:
    """SHAP values of the explained rows (every horizon), their family sums and changes."""

    shap: pd.DataFrame
    families: pd.DataFrame
    changes: pd.DataFrame
    shap_global: pd.DataFrame  # the rows of the global view
    importance: pd.DataFrame

    def of(self, keys: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The SHAP and family rows of ``keys`` (``gwno``, ``year``)."""
        keys = keys[KEYS]
        return self.shap.merge(keys, on=KEYS), self.families.merge(keys, on=KEYS)


def _explain(
    models: Mapping[int, Forecast],
    scope: Scope,
    horizons: list[int],
    fmap: Mapping[str, str],
    families: list[str],
    global_rows: int,
    seed: int,
) -> Explanations:
    """Explain the scored rows, their previous year, and (for the global view) every
    post-conflict row, or a seeded sample of ``global_rows`` of them when there are more."""
    pop = scope.pop
    scored_keys = pop.loc[scope.scored, KEYS]
    prev_keys = scored_keys.assign(year=scored_keys["year"] - 1)
    needed = (
        pop[KEYS]
        .merge(pd.concat([scored_keys, prev_keys]), how="left", indicator=True)["_merge"]
        .eq("both")
        .to_numpy()
    )
    in_sample = np.ones(len(pop), dtype=bool)
    if len(pop) > global_rows:
        in_sample[:] = False
        in_sample[np.random.default_rng(seed).choice(len(pop), global_rows, replace=False)] = True
    rows = pop.loc[needed | in_sample]
    shap_long = explain.concat_shap(
        [explain.shap_values(models[h], rows, rows[KEYS], horizon=h) for h in horizons]
    )
    fam = explain.family_contributions(shap_long, fmap, families)
    shap_global = (
        shap_long.merge(pop.loc[in_sample, KEYS], on=KEYS) if len(pop) > global_rows else shap_long
    )
    return Explanations(
        shap=shap_long,
        families=fam,
        changes=explain.change_since_last_year(fam, year=scope.as_of),
        shap_global=shap_global,
        importance=explain.global_importance(shap_global, fmap),
    )


def _forecasts(
    models: Mapping[int, Forecast],
    scope: Scope,
    horizons: list[int],
    backtest: pd.DataFrame | None,
) -> pd.DataFrame:
    """One row per reported country: ``p{h}``, last year's ``prev{h}``, the range
    ``lo{h}``–``hi{h}`` and its neighbour count ``k{h}``, for every horizon."""
    pop = scope.pop
    scores = pop[KEYS].copy()
    for h in horizons:
        scores[f"p{h}"] = np.asarray(models[h].predict_proba(pop), dtype=float)
    prev = scores.assign(year=scores["year"] + 1)
    prev.columns = [*KEYS, *[f"prev{h}" for h in horizons]]
    latest = (
        pop.loc[scope.scored, ["gwno", "iso3", "country", "year"]]
        .merge(scores, on=KEYS)
        .merge(prev, on=KEYS, how="left")
    )
    for h in horizons:
        latest[f"lo{h}"], latest[f"hi{h}"], latest[f"k{h}"] = _intervals(
            latest[f"p{h}"].to_numpy(), backtest, h
        )
    return latest


def _interval_note(with_backtest: bool) -> str:
    """What the range beside each forecast means (or that there is none)."""
    if not with_backtest:
        return "No range is shown: this report was built without back-test forecasts."
    return (
        f'"Past forecasts this high came true": among the back-test\'s past forecasts '
        f"closest in size to this one, the "
        f"share that were followed by relapse ({INTERVAL_LEVEL:.0%} interval). It shows "
        "how often forecasts like this one came true, not uncertainty specific to the "
        "country, and is somewhat too narrow for multi-year horizons. A risk outside "
        "its range means past forecasts of that size were over- (or under-) confident."
    )


# --------------------------------------------------------------------------------- pieces


@dataclass(frozen=True)
class Banding:
    """Per-horizon base rates and the band multiples (:mod:`relapse.bands`)."""

    rates: dict[int, float]
    multiples: list[float]

    def cuts(self, h: int) -> list[float]:
        """The probability cuts at horizon ``h``."""
        return bands.cuts(self.rates[h], self.multiples)

    def of(self, p: float, h: int) -> tuple[int, str]:
        """Band index and label of ``p`` at horizon ``h``."""
        i = bands.band_index(p, self.rates[h], self.multiples)
        return i, bands.BAND_LABELS[i]


def _select_countries(
    panel: pd.DataFrame, scored: pd.DataFrame, codes: Sequence[Any] | None, as_of: int
) -> tuple[set[int], list[str]]:
    if not codes:
        return set(scored["gwno"].astype(int)), []
    known = panel[["gwno", "iso3", "country"]].drop_duplicates("gwno")
    wanted: set[int] = set()
    not_scored: list[str] = []
    for code in codes:
        text = str(code).strip()
        if text.isdigit():
            hit = known.loc[known["gwno"] == int(text)]
        else:
            hit = known.loc[known["iso3"].astype("string").str.upper() == text.upper()]
        if hit.empty:
            raise ConfigError(
                f"report.countries: {text!r} is not an ISO3 code or GW number in the panel"
            )
        gw = int(hit["gwno"].iloc[0])
        if gw in set(scored["gwno"].astype(int)):
            wanted.add(gw)
        else:
            not_scored.append(
                f"{hit['country'].iloc[0]} ({text}): not post-conflict in {as_of}, so not scored"
            )
    return wanted, not_scored


def _intervals(
    p: np.ndarray, backtest: pd.DataFrame | None, h: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Calibration-based range: Jeffreys interval of the relapse share of nearby forecasts."""
    nan = np.full(len(p), np.nan)
    if backtest is None:
        return nan, nan, np.zeros(len(p), dtype=int)
    rows = backtest.loc[(backtest["horizon"] == h) & backtest["y_true"].notna()]
    if len(rows) < 2 * NEIGHBOURS_MIN:
        return nan, nan, np.zeros(len(p), dtype=int)
    from scipy.stats import beta

    order = np.argsort(rows["p_model"].to_numpy(dtype=float))
    ps = rows["p_model"].to_numpy(dtype=float)[order]
    ys = rows["y_true"].to_numpy(dtype=float)[order]
    k = max(NEIGHBOURS_MIN, len(ps) // 10)
    cum = np.concatenate([[0.0], np.cumsum(ys)])
    lo, hi = np.empty(len(p)), np.empty(len(p))
    alpha = (1 - INTERVAL_LEVEL) / 2
    for i, value in enumerate(p):
        centre = int(np.searchsorted(ps, value))
        start = int(np.clip(centre - k // 2, 0, len(ps) - k))
        events = cum[start + k] - cum[start]
        lo[i] = beta.ppf(alpha, events + 0.5, k - events + 0.5)
        hi[i] = beta.ppf(1 - alpha, events + 0.5, k - events + 0.5)
    return lo, hi, np.full(len(p), k)


def _anchor(gwno: int, iso3: Any) -> str:
    text = re.sub(r"[^A-Za-z0-9]", "", str(iso3)) if isinstance(iso3, str) else ""
    return f"country-{text.upper() or f'gw{gwno}'}"


def _change_row(row: Any, h: int) -> dict[str, Any]:
    now, before = getattr(row, f"p{h}"), getattr(row, f"prev{h}")
    if before is None or pd.isna(before):
        return {"text": "new", "sign": 0, "available": False}
    d = float(now - before)
    sign = 0 if abs(d) < 0.005 else (1 if d > 0 else -1)
    return {"text": words.points(d), "sign": sign, "available": True}


def _headline_table(
    latest: pd.DataFrame, fam: pd.DataFrame, h: int, cuts: Banding
) -> dict[str, Any]:
    rows = []
    fam_h = fam.loc[fam["horizon"] == h]
    for rank, row in enumerate(latest.sort_values(f"p{h}", ascending=False).itertuples(), 1):
        p = float(getattr(row, f"p{h}"))
        idx, band = cuts.of(p, h)
        own = fam_h.loc[fam_h["gwno"] == row.gwno].sort_values("value")
        up = own.iloc[-1] if len(own) and own["value"].iloc[-1] > 0 else None
        lo, hi = getattr(row, f"lo{h}"), getattr(row, f"hi{h}")
        rows.append(
            {
                "rank": rank,
                "country": str(row.country),
                "iso3": str(row.iso3) if isinstance(row.iso3, str) else "",
                "anchor": _anchor(int(row.gwno), row.iso3),
                "risk": words.pct(p),
                "band": band,
                "band_index": idx,
                "range": "—" if pd.isna(lo) else f"{words.pct(lo)}–{words.pct(hi)}",
                "change": _change_row(row, h),
                "main_driver": words.family_label(up["family"]) if up is not None else "—",
            }
        )
    return {"horizon": h, "label": words.horizon_label(h), "rows": rows, "id": f"headline-h{h}"}


def _summary(latest: pd.DataFrame, horizons: list[int], cuts: Banding, as_of: int) -> str:
    h = horizons[0]
    top = latest.sort_values(f"p{h}", ascending=False)
    top_cut = cuts.cuts(h)[-1]
    n_high = int((top[f"p{h}"] >= top_cut).sum())
    names = ", ".join(
        f"{r.country} ({words.pct(getattr(r, f'p{h}'))})" for r in top.head(3).itertuples()
    )
    text = (
        f"{len(latest)} countries were post-conflict at the end of {as_of}. "
        f"Highest risk of renewed armed conflict {words.horizon_label(h)}: {names}."
    )
    text += (
        f" {n_high} countr{'y is' if n_high == 1 else 'ies are'} in the highest band "
        f"({words.pct(top_cut)} or more, {cuts.multiples[-1]:g}× the base rate of "
        f"{words.pct(cuts.rates[h])})."
    )
    return text


def _top_features(
    shap_row: pd.DataFrame, reg: pd.DataFrame, k: int, since: Mapping[str, int | None]
) -> dict[str, list[dict[str, Any]]]:
    """The ``k`` recorded factors that move the forecast most, and the gaps among the top ``k``.

    A factor whose value is missing is never listed as a driver: among the ``k`` largest
    |SHAP| values, missing ones are listed apart as "not recorded since YEAR"
    (:func:`relapse.features.last_recorded_year`).
    """
    rows = shap_row.assign(a=shap_row["value"].abs()).sort_values("a", ascending=False)
    missing = rows["feature_value"].isna()
    drivers = []
    for name, value, feature_value in zip(
        rows.loc[~missing, "feature"].astype(str).head(k),
        rows.loc[~missing, "value"].to_numpy(dtype=float)[:k],
        rows.loc[~missing, "feature_value"].to_numpy(dtype=float)[:k],
        strict=True,
    ):
        known = name in reg.index
        drivers.append(
            {
                "description": _description(reg, name),
                "family": words.family_label(str(reg.at[name, "family"])) if known else "",
                "value": words.format_value(
                    float(feature_value), str(reg.at[name, "unit"]) if known else ""
                ),
                "effect": f"{words.strength(value)} {words.direction(value)}"
                if abs(value) > 1e-9
                else "no effect",
                "sign": 1 if value > 1e-9 else (-1 if value < -1e-9 else 0),
            }
        )
    gaps = [
        {"description": _description(reg, name), "since": words.not_recorded(since.get(name))}
        for name in rows.head(k).loc[missing.head(k), "feature"].astype(str)
    ]
    return {"top_features": drivers, "gaps": gaps}


def _description(reg: pd.DataFrame, name: str) -> str:
    """A feature's registry description without its final full stop (its name if unknown)."""
    if name not in reg.index:
        return name
    return str(reg.at[name, "description"]).strip().rstrip(".")


def _reg_int(reg: pd.DataFrame, name: str, column: str) -> int:
    """An integer registry field of a feature (0 when the registry lacks it)."""
    if column not in reg.columns or name not in reg.index or pd.isna(reg.at[name, column]):
        return 0
    return int(reg.at[name, column])


def _recorded_since(
    country_rows: pd.DataFrame, year: int, names: Sequence[str], reg: pd.DataFrame
) -> dict[str, int | None]:
    """For each feature missing in ``year``: the source's last year for the country before it."""
    from relapse.features import last_recorded_year

    now = country_rows.loc[country_rows["year"] == year, list(names)]
    if now.empty:
        return {}
    gone = [str(n) for n, missing in now.isna().all().items() if missing]
    before = country_rows.loc[country_rows["year"] < year, ["year", *gone]]
    recorded = before[gone].notna()
    return {
        name: last_recorded_year(
            before.loc[recorded[name], "year"],
            _reg_int(reg, name, "lag"),
            _reg_int(reg, name, "max_age_years"),
        )
        for name in gone
    }


def _data_as_of(
    country_rows: pd.DataFrame,
    year: int,
    names: Sequence[str],
    reg: pd.DataFrame,
    since: Mapping[str, int | None],
) -> list[dict[str, Any]]:
    """Per family: factors recorded, the years the values describe, and what is not recorded.

    A value used at ``year`` describes the source's year ``year − lag``, or an older one under
    the as-of rule: the family's age features (registry ``age_of``) say by how much; a family
    with carried factors but no age feature shows the as-of limit as an upper bound.
    """
    now = country_rows.loc[country_rows["year"] == year]
    if now.empty:
        return []
    row = now.iloc[0]
    age_of = reg["age_of"] if "age_of" in reg.columns else pd.Series(dtype="object")
    covered_by = {
        m.strip(): str(a)
        for a, members in age_of.items()
        if members
        for m in str(members).split(",")
    }
    by_family: dict[str, list[str]] = {}
    for name in names:
        if name in reg.index and not (isinstance(age_of.get(name), str) and age_of.get(name)):
            by_family.setdefault(str(reg.at[name, "family"]), []).append(name)
    out = []
    for family in [f for f in FAMILIES if f in by_family] + [
        f for f in by_family if f not in FAMILIES
    ]:
        members = by_family[family]
        recorded = [n for n in members if pd.notna(row[n])]
        newest = max((year - _reg_int(reg, n, "lag") for n in recorded), default=None)
        oldest: int | None = newest
        bound = False
        for n in recorded:
            age_name = covered_by.get(n)
            if age_name is not None and age_name in row.index and pd.notna(row[age_name]):
                age = int(row[age_name])
            else:
                age = _reg_int(reg, n, "max_age_years")
                bound = bound or age > 0
            base = year - _reg_int(reg, n, "lag") - age
            oldest = base if oldest is None else min(oldest, base)
        out.append(
            {
                "family": words.family_label(family),
                "recorded": f"{len(recorded)} of {len(members)}",
                "years": words.year_span(oldest, newest, bound),
                "age": "—"
                if newest is None or oldest is None
                else f"{year - oldest} year{'s' if year - oldest != 1 else ''}",
                "gaps": "; ".join(
                    f"{_description(reg, n)} ({words.not_recorded(since.get(n))})"
                    for n in members
                    if n not in recorded
                ),
            }
        )
    return out


def _missing_share_text(shap_long: pd.DataFrame, as_of: int) -> str:
    """How much of the explanation weight in the forecast year comes from missing values."""
    share = explain.missing_share(shap_long, as_of)
    if pd.isna(share):
        return ""
    return (
        f"In {as_of}, {words.pct(share, 1)} of the explanation weight (absolute SHAP values, "
        "all horizons, the countries explained in this report) comes from factors whose value "
        'is not recorded; the country sections list those as "not recorded since" rather '
        "than as drivers."
    )


def _track_record(table: pd.DataFrame | None) -> dict[str, Any]:
    """How our past forecasts did: rows of ``track_record.csv``, or a sentence if none."""
    if table is None:
        return {
            "available": False,
            "text": "No track record yet: `relapse track-record` has not been run, so no "
            "archived forecast has been compared with what happened.",
            "rows": [],
        }
    if table.empty:
        return {
            "available": False,
            "text": "No archived forecast has a known outcome yet: the data do not reach the "
            "end of any archived forecast's horizon.",
            "rows": [],
        }
    rows = []
    for r in table.sort_values(["as_of_year", "horizon_years"]).itertuples(index=False):
        rows.append(
            {
                "as_of": int(r.as_of_year),
                "horizon": words.horizon_label(int(r.horizon_years)),
                "resolved": f"{int(r.resolved)} of {int(r.forecasts)}",
                "relapsed": int(r.relapsed),
                "auc": _pair(r.roc_auc, r.baseline_roc_auc),
                "ap": _pair(r.average_precision, r.baseline_average_precision),
                "brier": _pair(r.brier, r.baseline_brier),
                "top_k": f"{int(r.top_k_hits)} of {int(r.top_k)}",
                "countries": str(r.relapsed_countries)
                if isinstance(r.relapsed_countries, str) and r.relapsed_countries
                else "none",
            }
        )
    return {"available": True, "text": "", "rows": rows}


def _pair(model: Any, baseline: Any) -> str:
    """``0.81 (baseline 0.77)``; a dash for a value not computed."""

    def fmt(v: Any) -> str:
        return "—" if v is None or pd.isna(v) else f"{float(v):.2f}"

    return f"{fmt(model)} (baseline {fmt(baseline)})"


def _what_changed(
    chg: pd.DataFrame, p_now: float, p_prev: float | None, year: int
) -> dict[str, Any]:
    if p_prev is None or pd.isna(p_prev) or chg.empty:
        return {
            "available": False,
            "text": f"Not scored in {year - 1}: the country was then in armed conflict or "
            "outside the post-conflict window, so there is no comparison.",
        }
    d = p_now - p_prev
    verb = "rose" if d > 0.005 else ("fell" if d < -0.005 else "was unchanged")
    text = f"Risk {verb}: {words.pct(p_prev)} in {year - 1} → {words.pct(p_now)} in {year}" + (
        f" ({words.points(d)})." if verb != "was unchanged" else "."
    )
    moved = chg.loc[chg["delta"].abs() > 0.02].sort_values("delta", key=abs, ascending=False)
    families = [
        {
            "family": words.family_label(family),
            "direction": "pushed risk up" if delta > 0 else "pushed risk down",
            "sign": 1 if delta > 0 else -1,
            "size": words.strength(delta),
        }
        for family, delta in zip(
            moved["family"].astype(str), moved["delta"].to_numpy(dtype=float), strict=True
        )
    ]
    if not families:
        text += " No factor family moved the forecast noticeably."
    return {"available": True, "text": text, "families": families}


def _country_section(
    row: Any,
    pop: pd.DataFrame,
    panel: pd.DataFrame,
    shap_latest: pd.DataFrame,
    fam_latest: pd.DataFrame,
    changes: pd.DataFrame,
    backtest: pd.DataFrame | None,
    reg: pd.DataFrame,
    horizons: list[int],
    cuts: Banding,
    top_k: int,
) -> dict[str, Any]:
    gw = int(row.gwno)
    country_rows = panel.loc[panel["gwno"] == gw]
    conflict_years = (
        country_rows.loc[country_rows["active"].astype(bool), "year"].astype(int).tolist()
        if "active" in panel.columns
        else []
    )
    history: dict[int, pd.DataFrame] = {}
    current: dict[int, tuple[int, float]] = {}
    per_h, waterfalls = [], []
    names = [n for n in dict.fromkeys(shap_latest["feature"].astype(str)) if n in panel.columns]
    since = _recorded_since(country_rows, int(row.year), names, reg)
    own = fam_latest.loc[fam_latest["gwno"] == gw]
    lead = own.loc[own["horizon"] == horizons[0]]
    family_order = lead.sort_values("value", key=abs, ascending=False)["family"].tolist()
    for h in horizons:
        p = float(getattr(row, f"p{h}"))
        if backtest is not None:
            bt = backtest.loc[(backtest["gwno"] == gw) & (backtest["horizon"] == h)]
            history[h] = (
                bt[["year", "p_model"]].rename(columns={"p_model": "p"}).sort_values("year")
            )
        else:
            history[h] = pd.DataFrame({"year": [], "p": []})
        current[h] = (int(row.year), p)
        f = own.loc[own["horizon"] == h].set_index("family")
        steps = f.loc[family_order]
        waterfalls.append(
            {
                "title": f"{words.horizon_label(h)}: {words.pct(p)}",
                "base": float(f["base_value"].iloc[0]),
                "steps": [
                    (words.family_label(str(name)), float(v)) for name, v in steps["value"].items()
                ],
                "total": float(f["raw_score"].iloc[0]),
            }
        )
        s = shap_latest.loc[(shap_latest["gwno"] == gw) & (shap_latest["horizon"] == h)]
        c = changes.loc[(changes["gwno"] == gw) & (changes["horizon"] == h)]
        idx, band = cuts.of(p, h)
        lo, hi = getattr(row, f"lo{h}"), getattr(row, f"hi{h}")
        per_h.append(
            {
                "horizon": h,
                "label": words.horizon_label(h),
                "risk": words.pct(p),
                "band": band,
                "band_index": idx,
                "range": None if pd.isna(lo) else f"{words.pct(lo)}–{words.pct(hi)}",
                **_top_features(s, reg, top_k, since),
                "changed": _what_changed(c, p, getattr(row, f"prev{h}"), int(row.year)),
            }
        )
    years = (
        pop.loc[(pop["gwno"] == gw) & (pop["year"] == row.year), "years_since_conflict"]
        .dropna()
        .astype(int)
        .tolist()
    )
    peace = (
        f"{years[0]} year{'s' if years[0] != 1 else ''} since its last year of armed conflict"
        if years
        else ""
    )
    return {
        "country": str(row.country),
        "iso3": str(row.iso3) if isinstance(row.iso3, str) else "",
        "gwno": gw,
        "anchor": _anchor(gw, row.iso3),
        "year": int(row.year),
        "peace": peace,
        "horizons": per_h,
        "data_as_of": _data_as_of(country_rows, int(row.year), names, reg, since),
        "risk_plot": charts.risk_over_time(history, current, conflict_years),
        "waterfall_plot": charts.waterfalls(waterfalls),
    }


def _drivers(
    shap_long: pd.DataFrame,
    importance: pd.DataFrame,
    reg: pd.DataFrame,
    horizons: list[int],
    families: list[str],
) -> dict[str, Any]:
    labels = {f: words.family_label(f) for f in families}
    feature_labels = {
        str(n): words.short_description(str(reg.loc[n, "description"])) for n in reg.index
    }
    fam = importance.loc[importance["level"] == "family"]
    ranking = []
    for h in horizons:
        order = fam.loc[fam["horizon"] == h].sort_values("rank")
        ranking.append(
            {
                "label": words.horizon_label(h),
                "families": [labels.get(f, f) for f in order["family"]],
            }
        )
    return {
        "family_plot": plots.family_bars(importance, labels),
        "beeswarms": [
            {
                "label": words.horizon_label(h),
                "image": plots.beeswarm(shap_long.loc[shap_long["horizon"] == h], feature_labels),
            }
            for h in horizons
        ],
        "ranking": ranking,
        "n_rows": int(shap_long.groupby(["gwno", "year"]).ngroups),
    }


def _skill(
    metrics: pd.DataFrame | None, backtest: pd.DataFrame | None, horizons: list[int]
) -> dict[str, Any]:
    if metrics is None or metrics.empty:
        return {
            "available": False,
            "tables": [],
            "calibration_plot": None,
            "text": "No back-test results were supplied, so this report cannot say how "
            "well the model has done in the past. Do not use it for decisions "
            "until it has been back-tested.",
        }
    metrics = metrics.assign(model=metrics["model"].replace(LEGACY_MODEL_NAMES))
    tables = []
    for h in horizons:
        m = metrics.loc[metrics["horizon"] == h]
        base_rate = _base_rate(m, backtest, h)
        models = [x for x in ("model", "history", "climatology") if x in set(m["model"])]
        models += [
            x for x in dict.fromkeys(m["model"]) if x not in models and x != "difference_history"
        ]
        rows = []
        for metric, (label, _) in words.METRICS.items():
            cells = []
            for model in models:
                cell = m.loc[(m["model"] == model) & (m["metric"] == metric)]
                cells.append(_metric_cell(cell))
            if any(c != "—" for c in cells):
                rows.append({"label": label, "cells": cells})
        tables.append(
            {
                "horizon": h,
                "label": words.horizon_label(h),
                "models": [words.MODEL_LABELS.get(x, x) for x in models],
                "notes": [
                    f"{words.MODEL_LABELS[x]}: {words.MODEL_NOTES[x]}"
                    for x in models
                    if x in words.MODEL_NOTES
                ],
                "rows": rows,
                "base_rate": words.pct(base_rate, 1),
                "verdict": _verdict(m.assign(horizon=h), base_rate),
            }
        )
    return {
        "available": True,
        "tables": tables,
        "calibration_plot": plots.calibration(backtest, horizons) if backtest is not None else None,
        "text": "",
    }


def _metric_cell(cell: pd.DataFrame) -> str:
    if cell.empty or pd.isna(cell["value"].iloc[0]):
        return "—"
    v = float(cell["value"].iloc[0])
    lo = cell["lo"].iloc[0] if "lo" in cell else np.nan
    hi = cell["hi"].iloc[0] if "hi" in cell else np.nan
    return f"{v:.3f}" + ("" if pd.isna(lo) or pd.isna(hi) else f" ({lo:.3f}–{hi:.3f})")


def _base_rate(m: pd.DataFrame, backtest: pd.DataFrame | None, h: int) -> float:
    rate = m.loc[m["metric"] == "base_rate", "value"]
    if len(rate):
        return float(rate.iloc[0])
    if backtest is not None:
        y = backtest.loc[backtest["horizon"] == h, "y_true"].dropna()
        if len(y):
            return float(y.mean())
    return float("nan")


def _value(m: pd.DataFrame, model: str, metric: str) -> tuple[float, float, float]:
    cell = m.loc[(m["model"] == model) & (m["metric"] == metric)]
    if cell.empty:
        return (np.nan, np.nan, np.nan)
    r = cell.iloc[0]
    return (float(r["value"]), float(r.get("lo", np.nan)), float(r.get("hi", np.nan)))


def _verdict(m: pd.DataFrame, base_rate: float) -> dict[str, Any]:
    """The skill verdict by the one rule (:func:`relapse.evaluate.skill_verdict`)."""
    from relapse.evaluate import DIFFERENCE, verdict_from_metrics

    rows = m.loc[m["model"] == DIFFERENCE]
    if rows.empty:
        return {
            "beats": None,
            "text": "The comparison with the history baseline (paired differences) is not "
            "available for this horizon.",
        }
    verdict = verdict_from_metrics(m, int(rows["horizon"].iloc[0]))
    detail = verdict["text"].split("(", 1)[1].rstrip(")") if "(" in verdict["text"] else ""
    detail += f"; base rate {words.pct(base_rate, 1)}"
    if verdict["verdict"] == "beats":
        return {"beats": True, "text": f"The model beats the conflict-history baseline ({detail})."}
    reading = {
        "matches": "it matches it: every difference is inside its interval, a tie",
        "is worse than": "it is worse on at least one measure",
    }.get(verdict["verdict"], "the comparison is not available")
    return {
        "beats": False,
        "text": f"The model does NOT beat the conflict-history baseline: {reading} ({detail}). "
        "Knowing only how long a country has been at peace and its conflict history does "
        "about as well; the model starts from that baseline (its conflict-legacy family "
        "includes it) and adds what the other families explain beyond it.",
    }


def _model_info(models: Mapping[int, Forecast], horizons: list[int], version: str) -> dict:
    """Name, version, run, data vintage and recalibration of each horizon's model."""
    rows = [
        {
            "horizon": h,
            "name": models[h].name or f"model for h={h}",
            "version": models[h].version or version,
            "run_id": models[h].run_id,
            "data_vintage": models[h].data_vintage or "",
            "calibration": _calibration_label(models[h]),
        }
        for h in horizons
    ]
    return {"requested": version, "rows": rows}


def _calibration_label(model: Forecast) -> str:
    """How the model's probabilities are recalibrated, in words (``none`` without)."""
    return str(model.calibration["method"]) if model.calibration else "none"


def _caveats(
    pop: pd.DataFrame,
    scored_mask: np.ndarray,
    reg: pd.DataFrame,
    fmap: Mapping[str, str],
    families: list[str],
    model_info: dict[str, Any],
    data_vintage: str | None,
) -> dict[str, Any]:
    scored = pop.loc[scored_mask]
    coverage = []
    for family in families:
        cols = [f for f, fam in fmap.items() if fam == family and f in pop.columns]
        if not cols:
            continue
        coverage.append(
            {
                "family": words.family_label(family),
                "features": len(cols),
                "missing_scored": words.pct(float(scored[cols].isna().to_numpy().mean())),
                "missing_all": words.pct(float(pop[cols].isna().to_numpy().mean())),
            }
        )
    absent = [words.family_label(f) for f in FAMILIES if f not in families]
    model_vintages = sorted({r["data_vintage"] for r in model_info["rows"] if r["data_vintage"]})
    mismatch = bool(
        data_vintage and model_vintages and any(v != data_vintage for v in model_vintages)
    )
    return {
        "coverage": coverage,
        "absent_families": absent,
        "data_vintage": data_vintage or "not recorded",
        "model_vintages": model_vintages,
        "vintage_mismatch": mismatch,
        "n_scored": len(scored),
    }
