"""Plain-language labels and number formats for the analyst report (no code names shown)."""

from __future__ import annotations

import math

from relapse.config import FAMILIES, Family

FAMILY_LABELS: dict[Family, str] = {  # one per Family (tests/test_config.py)
    Family.mission: "Peace operation",
    Family.security_sector_reform: "Security sector reform",
    Family.elections: "Elections",
    Family.governance: "Governance and rule of law",
    Family.services: "Basic services",
    Family.economy: "Economy",
    Family.conflict_legacy: "Conflict history",
}

METRICS: dict[str, tuple[str, bool]] = {
    # metric: (plain label, higher is better)
    "average_precision": (
        "Precision–recall area (a model with no skill scores the base rate)",
        True,
    ),
    "roc_auc": ("Ranking quality, ROC area (0.5 = chance, 1 = perfect)", True),
    "brier": ("Brier score (average squared error of the risk; lower is better)", False),
    "log_loss": ("Log loss (lower is better)", False),
    "ece": ("Calibration error (gap between forecast and observed rates; lower is better)", False),
}

MODEL_LABELS: dict[str, str] = {
    "model": "This model",
    "history": "History baseline",
    "climatology": "Base-rate baseline",
}

MODEL_NOTES: dict[str, str] = {
    "history": "a logistic regression on years at peace and past conflict only",
    "climatology": "every country gets the average relapse rate",
}


def family_label(family: str) -> str:
    """The family's name for readers."""
    if family in FAMILIES:
        return FAMILY_LABELS[Family(family)]
    return family.replace("_", " ").capitalize()


def horizon_label(h: int) -> str:
    """``within 1 year`` / ``within 5 years``."""
    return f"within {h} year{'s' if h != 1 else ''}"


def pct(p: float | None, digits: int = 0) -> str:
    """A probability as a percentage (``—`` when missing)."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "—"
    if 0 < p < 0.01 and digits == 0:
        return "<1%"
    return f"{p * 100:.{digits}f}%"


def points(delta: float | None) -> str:
    """A change in probability in percentage points, signed."""
    if delta is None or math.isnan(delta):
        return "—"
    value = delta * 100
    if abs(value) < 0.5:
        return "no change"
    return f"{value:+.0f} pts"


def strength(shap: float) -> str:
    """How strongly a log-odds push moves the forecast, in words."""
    a = abs(shap)
    if a >= 0.5:
        return "strongly"
    if a >= 0.15:
        return "moderately"
    return "slightly"


def direction(shap: float) -> str:
    """``raises risk`` / ``lowers risk``."""
    return "raises risk" if shap > 0 else "lowers risk"


def format_value(value: float, unit: str) -> str:
    """A feature value with its unit, in words (``yes``/``no`` for 0/1 indicators)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not recorded"
    u = (unit or "").strip()
    if u in ("0/1", "binary", "indicator"):
        return "yes" if value >= 0.5 else "no"
    number = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.3g}"
    if u in ("count", "number", ""):
        return number
    if u in ("years", "year"):
        return f"{number} year{'s' if value != 1 else ''}"
    if u in ("%", "percent", "share (%)"):
        return f"{value:.1f}%"
    if u in ("share", "proportion", "0-1"):
        return pct(value)
    return f"{number} {u}"


def short_description(text: str, limit: int = 60) -> str:
    """A registry description cut to fit a chart label."""
    text = text.strip().rstrip(".")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def not_recorded(since: int | None) -> str:
    """``not recorded since 2010`` (the source's last year before t), or ``never recorded``."""
    return "never recorded" if since is None else f"not recorded since {since}"


def year_span(oldest: int | None, newest: int | None, bound: bool = False) -> str:
    """``2017``, ``2014–2017``, or ``2014–2017 (at the oldest)`` when ``oldest`` is only a bound."""
    if newest is None or oldest is None:
        return "—"
    if oldest == newest:
        return str(newest)
    return f"{oldest}–{newest}" + (" (at the oldest)" if bound else "")
