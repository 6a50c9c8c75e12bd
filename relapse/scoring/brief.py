"""The brief (``brief.md``, ``brief.html``) rendered from the Jinja templates of the report,
and the escaping of data-derived text: Markdown (:func:`md_text`) and spreadsheet formulas in
``scores.csv`` (:func:`escape_csv_injection`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from relapse import bands
from relapse.scoring.table import TEXT_COLUMNS

if TYPE_CHECKING:
    from relapse.scoring.job import ScoreResult

FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def escape_csv_injection(table: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with an apostrophe."""
    out = table.copy()
    for col in TEXT_COLUMNS:
        s = out[col].astype("string").fillna("")
        risky = s.str.startswith(FORMULA_PREFIXES)
        out[col] = s.where(~risky, "'" + s)
    return out


MD_SPECIAL = re.compile(r"([\\`*_\[\]()!|#~{}])")
"""Markdown syntax characters escaped in data-derived brief text (links, images, HTML)."""


def md_text(value: Any) -> str:
    """Data-derived text safe for a Markdown table cell: no live link, image or HTML.

    HTML's ``& < >`` become entities (a Markdown viewer shows them as text, never as
    markup); every other character that can open Markdown syntax (``[ ] ( ) ! | ` * _ # ~
    { }`` and the backslash) is backslash-escaped, ``://`` is broken so no autolink forms,
    and line breaks become spaces: ``[x](javascript:…)`` and ``![t](http://…)`` stay literal text.
    """
    text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = MD_SPECIAL.sub(r"\\\1", text.replace("\r", " ").replace("\n", " "))
    return text.replace("://", ":\\/\\/")


def _pct(p: Any) -> str:
    return "" if p is None or pd.isna(p) else f"{100 * float(p):.1f}%"


def _driver_words(family: Any, value: Any, up: bool) -> str:
    """'Conflict history (strongly raises risk)' from a family and its contribution."""
    from relapse.report import words

    if not isinstance(family, str) or not family or pd.isna(value):
        return ""
    verb = "raises risk" if up else "lowers risk"
    return f"{words.family_label(family)} ({words.strength(float(value))} {verb})"


def _change_words(row: Any) -> str:
    if pd.isna(row.change_since_last):
        return "new" if pd.notna(row.relapse_probability) else ""
    d = 100 * float(row.change_since_last)
    return "no change" if abs(d) < 0.05 else f"{d:+.1f} pts"


INTENSITY_WORDS: dict[int, str] = {1: "minor (25–999 deaths)", 2: "war (1,000+ deaths)"}
"""UCDP intensity levels in the brief's words."""


def brief_context(result: ScoreResult) -> dict[str, Any]:
    """Everything the brief templates show (plain strings, computed once for both formats)."""
    t = result.table
    horizons = sorted(result.models)
    scored = t.loc[t["status"] == "scored"].sort_values(
        ["horizon_years", "rank", "country"], kind="mergesort"
    )
    rows = [
        {
            "rank": str(r.rank),
            "country": str(r.country),
            "iso3": "" if pd.isna(r.iso3) else str(r.iso3),
            "horizon": f"{r.horizon_years}",
            "probability": _pct(r.relapse_probability),
            "band": str(r.risk_band),
            "change": _change_words(r),
            "risk_type": {
                "relapse": "relapse (post-conflict)",
                "renewed": "renewed conflict after long peace",
                "onset": "onset (never in conflict)",
            }.get(str(r.risk_type), str(r.risk_type)),
            "peace": "" if pd.isna(r.years_at_peace) else str(r.years_at_peace),
            "up": _driver_words(r.driver_up_family, r.driver_up_contribution, True),
            "down": _driver_words(r.driver_down_family, r.driver_down_contribution, False),
            "missions": str(r.missions),
        }
        for r in scored.itertuples(index=False)
    ]
    first = t.loc[t["horizon_years"] == horizons[0]]
    war = [
        {
            "country": str(r.country),
            "conflicts": str(r.conflicts),
            "since": "" if pd.isna(r.episode_start_year) else str(r.episode_start_year),
            "intensity": INTENSITY_WORDS.get(-1 if pd.isna(r.intensity) else int(r.intensity), ""),
            "deaths": "" if pd.isna(r.battle_deaths) else f"{int(r.battle_deaths):,}",
            "missions": str(r.missions),
        }
        for r in first.loc[first["status"] == "active_conflict"].itertuples(index=False)
    ]
    missing = [str(r.country) for r in first.loc[first["status"] == "missing_data"].itertuples()]
    return {
        "as_of": result.as_of,
        "horizons": horizons,
        "intro": _brief_intro(result),
        "skill": [
            {"horizon": h, "text": result.skill.get(h, {}).get("text", "not available")}
            for h in horizons
        ],
        "bands": bands.legend(result.base_rates, result.multiples) if result.base_rates else [],
        "rows": rows,
        "war": war,
        "missing": missing,
        "missions": _mission_rows(result),
        "entries": _entries_exits(result)[0],
        "exits": _entries_exits(result)[1],
        "has_previous": result.previous is not None,
    }


def _mission_rows(result: ScoreResult) -> list[dict[str, str]]:
    names = result.table.dropna(subset=["gwno"]).drop_duplicates("gwno")
    host = dict(zip(names["gwno"].astype(int), names["country"].astype(str), strict=True))
    out = []
    for r in result.missions.itertuples(index=False) if len(result.missions) else []:
        strength = "" if pd.isna(r.strength) else f"{int(r.strength):,} ({int(r.strength_year)})"
        out.append(
            {
                "mission": str(r.mission),
                "host": host.get(int(r.gwno), f"GW {int(r.gwno)}"),
                "strength": strength or "not recorded",
                "status": str(r.status) + (" · interstate line" if r.interstate else ""),
            }
        )
    return out


def _entries_exits(result: ScoreResult) -> tuple[list[str], list[str]]:
    """Countries listed this year but not last year, and the reverse (first horizon)."""
    if result.previous is None:
        return [], []
    now = set(result.table["country"].astype(str))
    before = set(result.previous["country"].astype(str))
    return sorted(now - before), sorted(before - now)


def _templates(autoescape: bool = False) -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(
        loader=FileSystemLoader(Path(__file__).resolve().parents[1] / "report" / "templates"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=autoescape,
    )


def render_brief_md(result: ScoreResult) -> str:
    """The brief in Markdown (``brief.md.j2``); data-derived text through :func:`md_text`."""
    env = _templates()
    env.filters["md"] = md_text
    return env.get_template("brief.md.j2").render(**brief_context(result))


def render_brief_html(result: ScoreResult) -> str:
    """The brief as a standalone HTML page (``brief.html.j2``, every value escaped)."""
    env = _templates(autoescape=True)
    return env.get_template("brief.html.j2").render(**brief_context(result))


def _brief_intro(result: ScoreResult) -> list[str]:
    counts = result.counts
    horizons = sorted(result.models)
    lines = [
        f"Forecast as of the end of {result.as_of}: the probability that a country not at war "
        "has an active internal armed conflict-year (UCDP, 25+ battle deaths) within the next "
        f"{', '.join(map(str, horizons))} years: relapse for post-conflict countries, renewed "
        "conflict after a long peace, or onset where there has been none since the data begin.",
        "These are associations learned from past cases, not causal effects: a family that "
        "pushes risk up or down is associated with higher or lower risk in similar past "
        "cases, and changing it is not shown to change the risk.",
        f"Data vintage {result.data_vintage} (panel input hash {result.input_hash}).",
        "Models: "
        + "; ".join(
            f"{h}-year horizon {n} version {v}" for h, (n, v) in sorted(result.models.items())
        )
        + ".",
        f"Rows: {sum(counts.values())} ("
        + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in counts.items())
        + ").",
    ]
    return lines + result.notes
