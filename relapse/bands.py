"""Risk bands: one definition, relative to each horizon's base rate, for scores, brief, report.

A forecast's band compares it with the share of post-conflict country-years that relapsed
within the same horizon (the *base rate*: labelled ``in_population`` rows of the panel). With
the default multiples ``report.risk_band_multiples = [0.5, 1.5, 3.0]``:

============  ===================================
band          probability p, base rate b
============  ===================================
low           p < 0.5 b
moderate      0.5 b ≤ p < 1.5 b
high          1.5 b ≤ p < 3 b
very high     p ≥ 3 b
============  ===================================

A value equal to a cut falls in the higher band. At one year (b ≈ 10 %) the cuts are about
5 %, 15 % and 30 %; at five years (b ≈ 29 %) "high" starts near 43 %, never below the base
rate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from relapse.errors import ConfigError, DataError

BAND_LABELS: tuple[str, ...] = ("low", "moderate", "high", "very high")
DEFAULT_MULTIPLES: tuple[float, ...] = (0.5, 1.5, 3.0)


def base_rates(panel: pd.DataFrame, horizons: Sequence[int]) -> dict[int, float]:
    """Share of labelled post-conflict country-years that relapsed within each horizon.

    Raises
    ------
    DataError
        A horizon has no labelled post-conflict row (no base rate to compare with).
    """
    pop = panel.loc[panel["in_population"].astype(bool)]
    out = {}
    for h in horizons:
        labels = pop[f"relapse_h{int(h)}"].dropna()
        if labels.empty:
            raise DataError(f"no labelled post-conflict country-year at horizon {h}: no base rate")
        out[int(h)] = float(labels.astype(float).mean())
    return out


def cuts(base_rate: float, multiples: Sequence[float] = DEFAULT_MULTIPLES) -> list[float]:
    """The probability cut points of the bands for one horizon."""
    if len(multiples) != len(BAND_LABELS) - 1:
        raise ConfigError(
            f"report.risk_band_multiples needs {len(BAND_LABELS) - 1} multiples for the bands "
            f"{list(BAND_LABELS)}, got {list(multiples)}"
        )
    return [float(m) * float(base_rate) for m in multiples]


def band_index(p: float, base_rate: float, multiples: Sequence[float] = DEFAULT_MULTIPLES) -> int:
    """Index in :data:`BAND_LABELS` of probability ``p`` (a cut belongs to the higher band)."""
    return int(np.searchsorted(np.asarray(cuts(base_rate, multiples)), p, side="right"))


def band(p: float, base_rate: float, multiples: Sequence[float] = DEFAULT_MULTIPLES) -> str:
    """The band label of probability ``p`` at a horizon with ``base_rate``."""
    return BAND_LABELS[band_index(p, base_rate, multiples)]


def legend(
    rates: Mapping[int, float], multiples: Sequence[float] = DEFAULT_MULTIPLES
) -> list[dict[str, str | int]]:
    """The bands with their rule and, per horizon, their probability ranges (for readers)."""
    edges = [0.0, *multiples]
    out: list[dict[str, str | int]] = []
    for i, name in enumerate(BAND_LABELS):
        if i == 0:
            rule = f"below {edges[1]:g}× the base rate"
        elif i < len(multiples):
            rule = f"{edges[i]:g}× to {edges[i + 1]:g}× the base rate"
        else:
            rule = f"{edges[i]:g}× the base rate or more"
        ranges = []
        for h, b in sorted(rates.items()):
            c = [0.0, *cuts(b, multiples), 1.0]
            hi = f"{min(c[i + 1], 1.0):.0%}" if i < len(multiples) else "100%"
            ranges.append(f"{h}y {c[i]:.0%}–{hi}")
        text = f"{rule} ({', '.join(ranges)})"
        out.append({"index": i, "name": name, "rule": rule, "range": text})
    return out
