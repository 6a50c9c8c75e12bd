"""The report's per-country charts, drawn directly with Pillow and returned as base64 PNGs.

A report draws two charts per scored country (risk over time, the family waterfall); through
matplotlib they took most of ``relapse report``'s time (text layout and a second, "tight"
layout pass per figure). These are simple charts — bars, lines, markers, a few labels — so
they are drawn here on a Pillow canvas at twice the size and scaled down (antialiasing), in
matplotlib's look (DejaVu Sans, the same colours, sizes as at 90 dpi). The global charts stay
in :mod:`relapse.report.plots`.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import math
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

UP = "#c0392b"
DOWN = "#2471a3"
GREY = "#7f8c8d"
GRID = "#e5e5e5"  # matplotlib's grid at alpha 0.3 on white
CONFLICT = "#f8d3cf"  # "#f5b7b1" at alpha 0.6 on white
HORIZON_COLOURS = ["#1b4f72", "#d35400", "#7d3c98", "#117a65", "#b7950b", "#566573"]
PX_PER_INCH = 90  # the report's figure resolution (plots.DPI)
SCALE = 2  # drawn at twice the size, then scaled down: antialiased lines and text
PROBABILITY_TICKS: tuple[float, ...] = (
    *(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2),
    *(0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99),
)


@cache
def _font(points: float) -> Any:
    """DejaVu Sans (shipped with matplotlib) at ``points``, in canvas pixels."""
    spec = importlib.util.find_spec("matplotlib")
    roots = list(spec.submodule_search_locations or []) if spec else []
    for root in roots:
        path = Path(root) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
        if path.exists():
            return ImageFont.truetype(str(path), round(points * PX_PER_INCH / 72 * SCALE))
    return ImageFont.load_default(round(points * PX_PER_INCH / 72 * SCALE))


def logit(p: float) -> float:
    """Log-odds of ``p`` (scipy's ``logit``), ``p`` clipped to [1e-6, 1 − 1e-6]."""
    from scipy.special import logit as log_odds

    return float(log_odds(min(max(p, 1e-6), 1 - 1e-6)))


def probability_ticks(lo: float, hi: float) -> list[tuple[float, str]]:
    """At most 7 ``(log-odds, "x%")`` ticks for a log-odds axis from ``lo`` to ``hi``."""
    ticks = [(logit(p), f"{p:.0%}" if p >= 0.01 else f"{p:.1%}") for p in PROBABILITY_TICKS]
    ticks = [t for t in ticks if lo <= t[0] <= hi]
    if len(ticks) > 7:
        ticks = ticks[:: math.ceil(len(ticks) / 7)]
    return ticks


def year_ticks(lo: int, hi: int) -> list[int]:
    """Round years between ``lo`` and ``hi``, at most 8 of them."""
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100) if (hi - lo) / s <= 8)
    return list(range(math.ceil(lo / step) * step, hi + 1, step))


class Canvas:
    """A white Pillow image sized in report pixels; coordinates are report pixels."""

    def __init__(self, width: float, height: float) -> None:
        self.size = (max(1, round(width)), max(1, round(height)))
        self.image = Image.new("RGB", (self.size[0] * SCALE, self.size[1] * SCALE), "white")
        self.draw = ImageDraw.Draw(self.image)

    def rect(self, x0: float, y0: float, x1: float, y1: float, fill: str) -> None:
        """A filled rectangle (corners in any order)."""
        xs, ys = sorted((x0, x1)), sorted((y0, y1))
        self.draw.rectangle([xs[0] * SCALE, ys[0] * SCALE, xs[1] * SCALE, ys[1] * SCALE], fill)

    def line(self, points: Sequence[tuple[float, float]], fill: str, width: float = 1.0) -> None:
        """A polyline ``width`` report pixels wide."""
        flat = [(x * SCALE, y * SCALE) for x, y in points]
        self.draw.line(flat, fill=fill, width=max(1, round(width * SCALE)), joint="curve")

    def dotted(self, x: float, y0: float, y1: float, fill: str) -> None:
        """A dotted vertical line."""
        top, bottom = sorted((y0, y1))
        y = top
        while y < bottom:
            self.line([(x, y), (x, min(y + 1.0, bottom))], fill, 0.8)
            y += 2.5

    def marker(self, x: float, y: float, radius: float, fill: str, edge: str | None = None) -> None:
        """A dot, or a diamond with an edge colour when ``edge`` is given."""
        r = radius * SCALE
        cx, cy = x * SCALE, y * SCALE
        if edge is None:
            self.draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
        else:
            self.draw.polygon([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], fill, edge)

    def text(self, x: float, y: float, s: str, points: float, anchor: str = "la") -> float:
        """Draw ``s`` (Pillow anchor, e.g. ``"mm"``); return its width in report pixels."""
        font = _font(points)
        self.draw.text((x * SCALE, y * SCALE), s, fill="black", font=font, anchor=anchor)
        return self.width(s, points)

    def vertical_text(self, x: float, y: float, s: str, points: float) -> None:
        """``s`` rotated by 90° (reading upwards), centred on ``(x, y)``."""
        font = _font(points)
        box = self.draw.textbbox((0, 0), s, font=font)
        label = Image.new("RGB", (int(box[2]) + 2, int(box[3]) + 2), "white")
        ImageDraw.Draw(label).text((1, 1), s, fill="black", font=font)
        label = label.rotate(90, expand=True)
        corner = (round(x * SCALE - label.width / 2), round(y * SCALE - label.height / 2))
        self.image.paste(label, corner)

    @staticmethod
    def width(s: str, points: float) -> float:
        """Width of ``s`` in report pixels."""
        return float(_font(points).getlength(s)) / SCALE

    def to_base64(self) -> str:
        """The canvas scaled to report pixels, as a base64-encoded PNG.

        Each report pixel is the mean of the :data:`SCALE` × :data:`SCALE` canvas pixels it
        covers (:meth:`PIL.Image.Image.reduce`, supersampling): as smooth as a Lanczos
        resize at this factor without its ringing, ≈ 15× faster, and a smaller PNG.
        """
        buf = io.BytesIO()
        self.image.reduce(SCALE).save(buf, format="PNG")
        return base64.b64encode(buf.getvalue()).decode("ascii")


class Scale:
    """A linear map from data values to pixels."""

    def __init__(self, lo: float, hi: float, start: float, end: float) -> None:
        self.lo, self.hi, self.start, self.end = lo, hi, start, end

    def __call__(self, value: float) -> float:
        """Pixel position of ``value``."""
        span = (self.hi - self.lo) or 1.0
        return self.start + (value - self.lo) / span * (self.end - self.start)


# ------------------------------------------------------------------------------- waterfall


def waterfalls(panels: Sequence[dict[str, Any]]) -> str:
    """Family waterfalls, one panel per horizon: base value → families → forecast.

    Each panel dict: ``title``, ``base`` (log-odds), ``steps`` (list of ``(label, delta)``,
    the same labels in the same order in every panel), ``total`` (log-odds). Drawn on the
    log-odds scale, where the bars add up, and labelled in risk percentages.
    """
    labels = ["average country", *[s[0] for s in panels[0]["steps"]], "this forecast"]
    row, top, bottom, gap, panel_width = 29.0, 26.0, 36.0, 16.0, 218.0
    left = 8 + max(Canvas.width(label, 8) for label in labels) + 6
    canvas = Canvas(left + len(panels) * (panel_width + gap), top + row * len(labels) + bottom)
    ys = [top + row * (i + 0.5) for i in range(len(labels))]
    for label, y in zip(labels, ys, strict=True):
        canvas.text(left - 6, y, label, 8, anchor="rm")
    for i, panel in enumerate(panels):
        x0 = left + i * (panel_width + gap)
        _waterfall_panel(canvas, panel, x0, x0 + panel_width, ys, row)
    return canvas.to_base64()


def _waterfall_panel(
    canvas: Canvas, panel: Mapping[str, Any], x0: float, x1: float, ys: list[float], row: float
) -> None:
    """One horizon's waterfall between pixels ``x0`` and ``x1``."""
    deltas = np.array([d for _, d in panel["steps"]], dtype=float)
    starts = panel["base"] + np.concatenate([[0.0], np.cumsum(deltas)[:-1]])
    xs = np.concatenate([[panel["base"]], starts + deltas])
    lo = min(xs.min(), panel["total"]) - 0.35
    hi = max(xs.max(), panel["total"]) + 0.35
    x = Scale(lo, hi, x0, x1)
    y_top, y_bottom = ys[0] - row / 2, ys[-1] + row / 2
    for value, label in probability_ticks(lo, hi):
        canvas.line([(x(value), y_top), (x(value), y_bottom)], GRID)
        canvas.line([(x(value), y_bottom), (x(value), y_bottom + 4)], "black", 0.8)
        canvas.text(x(value), y_bottom + 6, label, 7, anchor="mt")
    for y, start, delta in zip(ys[1:-1], starts, deltas, strict=True):
        colour = UP if delta > 0 else DOWN
        canvas.rect(x(start), y - 0.3 * row, x(start + delta), y + 0.3 * row, colour)
    for value, y in ((panel["base"], ys[0]), (panel["total"], ys[-1])):
        canvas.line([(x(value), y - 0.35 * row), (x(value), y + 0.35 * row)], "black", 2.5)
    for value, y_from, y_to in zip(xs, ys[:-1], ys[1:], strict=True):
        canvas.dotted(x(value), y_from + 0.3 * row, y_to - 0.3 * row, GREY)
    canvas.line([(x0, y_top), (x0, y_bottom), (x1, y_bottom)], "black", 0.8)
    canvas.text((x0 + x1) / 2, y_top - 6, str(panel["title"]), 9, anchor="md")
    canvas.text((x0 + x1) / 2, y_bottom + 20, "risk (log-odds scale)", 7, anchor="mt")


# -------------------------------------------------------------------------- risk over time


def risk_over_time(
    history: Mapping[int, pd.DataFrame],
    current: Mapping[int, tuple[int, float]],
    conflict_years: Sequence[int],
) -> str:
    """Past out-of-sample forecasts per horizon, today's forecast, and years of conflict.

    ``history[h]`` has ``year`` and ``p`` (back-test forecasts); ``current[h]`` is
    ``(year, probability)``; ``conflict_years`` are shaded. Lines break where years are
    missing (war years, gaps in the back-test).
    """
    width, height, left, top, plot_height = 560.0, 262.0, 52.0, 10.0, 184.0
    canvas = Canvas(width, height)
    years = [int(y) for f in history.values() for y in f["year"]] + [
        int(y) for y, _ in current.values()
    ]
    lo, hi = (min(years) - 1, max(years) + 1) if years else (0, 1)
    x = Scale(lo, hi, left, width - 10)
    y = Scale(0.0, 1.0, top + plot_height, top)
    for year in conflict_years:
        if lo <= year <= hi:
            canvas.rect(x(year - 0.5), y(1.0), x(year + 0.5), y(0.0), CONFLICT)
    _risk_axes(canvas, x, y, lo, hi)
    entries = []
    for i, h in enumerate(sorted(set(history) | set(current))):
        colour = HORIZON_COLOURS[i % len(HORIZON_COLOURS)]
        frame = history.get(h)
        _risk_line(canvas, frame, colour, x, y)
        if h in current:
            year, p = current[h]
            canvas.marker(x(year), y(p), 4.2, colour, edge="black")
        if h in current or (frame is not None and len(frame)):
            entries.append((f"within {h} year{'s' if h > 1 else ''}", colour))
    if conflict_years:
        entries.append(("year of armed conflict", CONFLICT))
    _legend(canvas, entries, width / 2, top + plot_height + 36)
    return canvas.to_base64()


def _risk_axes(canvas: Canvas, x: Scale, y: Scale, lo: int, hi: int) -> None:
    """Grid, ticks and labels of the risk-over-time chart."""
    for share in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        canvas.line([(x.start, y(share)), (x.end, y(share))], GRID)
        canvas.line([(x.start - 4, y(share)), (x.start, y(share))], "black", 0.8)
        canvas.text(x.start - 6, y(share), f"{share:.0%}", 8, anchor="rm")
    for year in year_ticks(lo, hi):
        canvas.line([(x(year), y(1.0)), (x(year), y(0.0))], GRID)
        canvas.line([(x(year), y(0.0)), (x(year), y(0.0) + 4)], "black", 0.8)
        canvas.text(x(year), y(0.0) + 6, str(year), 8, anchor="mt")
    canvas.line([(x.start, y(1.0)), (x.start, y(0.0)), (x.end, y(0.0))], "black", 0.8)
    canvas.vertical_text(12, (y(0.0) + y(1.0)) / 2, "risk of relapse", 10)


def _risk_line(canvas: Canvas, frame: pd.DataFrame | None, colour: str, x: Scale, y: Scale) -> None:
    """One horizon's back-test forecasts: dots joined within runs of consecutive years."""
    if frame is None or frame.empty:
        return
    points = sorted(zip(frame["year"].astype(int), frame["p"].astype(float), strict=True))
    run: list[tuple[float, float]] = []
    for k, (year, p) in enumerate(points):
        if k and year != points[k - 1][0] + 1:
            if len(run) > 1:
                canvas.line(run, colour, 1.9)
            run = []
        run.append((x(year), y(p)))
    if len(run) > 1:
        canvas.line(run, colour, 1.9)
    for px, py in ((x(year), y(p)) for year, p in points):
        canvas.marker(px, py, 1.7, colour)


def _legend(canvas: Canvas, entries: list[tuple[str, str]], centre: float, y: float) -> None:
    """One centred row of legend entries: a swatch and its label."""
    widths = [22 + canvas.width(label, 7) + 14 for label, _ in entries]
    x = centre - sum(widths) / 2
    for (label, colour), w in zip(entries, widths, strict=True):
        if colour == CONFLICT:
            canvas.rect(x, y - 4, x + 16, y + 4, colour)
        else:
            canvas.line([(x, y), (x + 16, y)], colour, 1.9)
            canvas.marker(x + 8, y, 1.7, colour)
        canvas.text(x + 22, y, label, 7, anchor="lm")
        x += w
