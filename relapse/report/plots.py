"""The report's figures: matplotlib, returned as base64 PNG strings.

Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot state): they are
drawn by the Agg renderer, need no display, and do not change the caller's backend.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence

import matplotlib
import matplotlib.cm
import matplotlib.colors
import matplotlib.patches
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

DPI = 90
UP = "#c0392b"
DOWN = "#2471a3"
GREY = "#7f8c8d"
HORIZON_COLOURS = ["#1b4f72", "#d35400", "#7d3c98", "#117a65", "#b7950b", "#566573"]
MODEL_COLOURS = {"lightgbm": "#1b4f72", "history": "#d35400", "climatology": GREY}


def to_base64(fig: Figure) -> str:
    """PNG bytes of a figure, base64-encoded (for ``<img src="data:image/png;base64,...">``)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def _prob_ticks(ax, lo: float, hi: float) -> None:
    """Label a log-odds x axis with risk percentages."""
    candidates = [
        0.001,
        0.002,
        0.005,
        0.01,
        0.02,
        0.05,
        0.1,
        0.2,
        0.3,
        0.5,
        0.7,
        0.8,
        0.9,
        0.95,
        0.98,
        0.99,
    ]
    ticks = [(p, _logit(p)) for p in candidates if lo <= _logit(p) <= hi]
    if len(ticks) > 7:
        ticks = ticks[:: int(np.ceil(len(ticks) / 7))]
    ax.set_xticks([t for _, t in ticks])
    ax.set_xticklabels([f"{p:.0%}" if p >= 0.01 else f"{p:.1%}" for p, _ in ticks])


def risk_over_time(
    history: Mapping[int, pd.DataFrame],
    current: Mapping[int, tuple[int, float]],
    conflict_years: Sequence[int],
    relapse_years: Sequence[int] = (),
) -> str:
    """Past out-of-sample forecasts per horizon, today's forecast, and years of conflict.

    ``history[h]`` has ``year`` and ``p`` (back-test forecasts); ``current[h]`` is
    ``(year, probability)``; ``conflict_years`` are shaded.
    """
    fig = Figure(figsize=(6.0, 2.6))
    ax = fig.add_subplot()
    years: list[int] = []
    for i, (h, frame) in enumerate(sorted(history.items())):
        colour = HORIZON_COLOURS[i % len(HORIZON_COLOURS)]
        if len(frame):
            # Break the line where years are missing (war years, gaps in the back-test).
            full = frame.set_index("year")["p"].reindex(
                range(int(frame["year"].min()), int(frame["year"].max()) + 1)
            )
            ax.plot(
                full.index,
                full.to_numpy(),
                color=colour,
                lw=1.4,
                marker="o",
                ms=2.5,
                label=f"within {h} year{'s' if h > 1 else ''}",
            )
            years += frame["year"].astype(int).tolist()
        if h in current:
            y, p = current[h]
            ax.plot(
                [y],
                [p],
                marker="D",
                ms=6,
                color=colour,
                mec="black",
                mew=0.6,
                label=None if len(frame) else f"within {h} year{'s' if h > 1 else ''}",
            )
            years.append(int(y))
    if years:
        lo, hi = min(years) - 1, max(years) + 1
        for y in conflict_years:
            if lo <= y <= hi:
                ax.axvspan(y - 0.5, y + 0.5, color="#f5b7b1", alpha=0.6, lw=0)
        ax.set_xlim(lo, hi)
    ax.set_ylim(0, 1)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("risk of relapse")
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if conflict_years:
        handles.append(matplotlib.patches.Patch(color="#f5b7b1", alpha=0.6))
        labels.append("year of armed conflict")
    ax.legend(
        handles,
        labels,
        fontsize=7,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.13),
        frameon=False,
        ncol=4,
    )
    ax.spines[["top", "right"]].set_visible(False)
    return to_base64(fig)


def waterfalls(panels: Sequence[dict]) -> str:
    """Family waterfalls, one panel per horizon: base value → families → forecast.

    Each panel dict: ``title``, ``base`` (log-odds), ``steps`` (list of ``(label, delta)``,
    the same labels in the same order in every panel), ``total`` (log-odds). Drawn on the
    log-odds scale, where the bars add up, and labelled in risk percentages.
    """
    n = len(panels)
    labels = ["average country", *[s[0] for s in panels[0]["steps"]], "this forecast"]
    pos = np.arange(len(labels))[::-1].astype(float)
    fig = Figure(figsize=(1.9 + 2.6 * n, 0.32 * len(labels) + 0.9))
    axes = fig.subplots(1, n, squeeze=False, sharey=True)[0]
    for ax, panel in zip(axes, panels, strict=True):
        deltas = np.array([d for _, d in panel["steps"]], dtype=float)
        starts = panel["base"] + np.concatenate([[0.0], np.cumsum(deltas)[:-1]])
        ends = starts + deltas
        ax.barh(pos[1:-1], deltas, left=starts, height=0.6, color=np.where(deltas > 0, UP, DOWN))
        marks = [panel["base"], panel["total"]]
        ax.vlines(
            marks,
            [pos[0] - 0.35, pos[-1] - 0.35],
            [pos[0] + 0.35, pos[-1] + 0.35],
            color="black",
            lw=2,
        )
        # Dotted connectors from the end of one bar to the start of the next.
        xs = np.concatenate([[panel["base"]], ends])
        ax.vlines(xs, pos[:-1] - 0.3, pos[1:] + 0.3, color=GREY, lw=0.6, linestyles=":")
        lo = min(xs.min(), panel["total"]) - 0.35
        hi = max(xs.max(), panel["total"]) + 0.35
        ax.set_xlim(lo, hi)
        _prob_ticks(ax, lo, hi)
        ax.tick_params(axis="x", labelsize=7)
        ax.set_title(panel["title"], fontsize=9)
        ax.grid(axis="x", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_xlabel("risk (log-odds scale)", fontsize=7)
    axes[0].set_yticks(pos)
    axes[0].set_yticklabels(labels, fontsize=8)
    return to_base64(fig)


def family_bars(importance: pd.DataFrame, labels: Mapping[str, str]) -> str:
    """Mean |SHAP| per family, grouped by horizon (``importance`` at level ``family``)."""
    fam = importance.loc[importance["level"] == "family"]
    horizons = sorted(fam["horizon"].unique())
    order = fam.groupby("family")["mean_abs_shap"].mean().sort_values().index.tolist()
    fig = Figure(figsize=(6.5, 0.45 * len(order) * max(1, len(horizons)) ** 0.5 + 1.0))
    ax = fig.add_subplot()
    height = 0.8 / max(len(horizons), 1)
    for i, h in enumerate(horizons):
        vals = fam.loc[fam["horizon"] == h].set_index("family")["mean_abs_shap"]
        ys = np.arange(len(order)) + (i - (len(horizons) - 1) / 2) * height
        ax.barh(
            ys,
            [vals.get(f, 0.0) for f in order],
            height=height,
            color=HORIZON_COLOURS[i % len(HORIZON_COLOURS)],
            label=f"within {h} year{'s' if h > 1 else ''}",
        )
    ax.set_yticks(np.arange(len(order)))
    ax.set_yticklabels([labels.get(f, f) for f in order])
    ax.set_xlabel("average size of the family's push on the forecast (mean |SHAP|, log-odds)")
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="x", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    return to_base64(fig)


def beeswarm(
    shap_long: pd.DataFrame,
    labels: Mapping[str, str],
    top: int = 12,
    seed: int = 0,
    max_points: int = 2000,
) -> str:
    """SHAP value of each row for the most important features, coloured by feature value.

    ``shap_long`` holds one horizon. Colour is the feature value's rank within the feature
    (blue low, red high); missing values are grey. At most ``max_points`` rows (a seeded
    random sample) are drawn per feature.
    """
    rng = np.random.default_rng(seed)
    feature = shap_long["feature"].astype(str)
    mean_abs = shap_long["value"].abs().groupby(feature).mean().sort_values(ascending=False)
    features = [str(f) for f in mean_abs.index[:top]][::-1]
    cmap = matplotlib.colormaps["coolwarm"]
    xs, ys, colours = [], [], []
    for i, name in enumerate(features):
        rows = shap_long.loc[feature == name]
        if len(rows) > max_points:
            rows = rows.iloc[np.sort(rng.choice(len(rows), max_points, replace=False))]
        vals = rows["value"].to_numpy()
        fv = rows["feature_value"].to_numpy(dtype=float)
        miss = np.isnan(fv)
        colour = np.tile(matplotlib.colors.to_rgba("#bbbbbb"), (len(vals), 1))
        if (~miss).any():
            colour[~miss] = cmap(pd.Series(fv[~miss]).rank(pct=True).to_numpy())
        # Spread points vertically in proportion to local density (a cheap swarm).
        hist, edges = np.histogram(vals, bins=40)
        bin_idx = np.clip(np.digitize(vals, edges) - 1, 0, len(hist) - 1)
        width = hist[bin_idx] / max(hist.max(), 1)
        xs.append(vals)
        ys.append(i + (rng.random(len(vals)) - 0.5) * 0.8 * width)
        colours.append(colour)
    fig = Figure(figsize=(7.0, 0.38 * len(features) + 1.0))
    ax = fig.add_subplot()
    if xs:
        ax.scatter(np.concatenate(xs), np.concatenate(ys), c=np.concatenate(colours), s=5, lw=0)
    ax.axvline(0, color=GREY, lw=0.8)
    ax.set_yticks(np.arange(len(features)))
    ax.set_yticklabels([labels.get(f, f) for f in features], fontsize=8)
    ax.set_xlabel("push on the forecast (SHAP, log-odds): left lowers risk, right raises it")
    sm = matplotlib.cm.ScalarMappable(cmap=cmap)
    cbar = fig.colorbar(sm, ax=ax, fraction=0.03, pad=0.01, ticks=[0, 1])
    cbar.ax.set_yticklabels(["low", "high"], fontsize=7)
    cbar.set_label("feature value", fontsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    return to_base64(fig)


def calibration(backtest: pd.DataFrame, horizons: Sequence[int], bins: int = 8) -> str:
    """Reliability diagram per horizon: forecast risk against the observed relapse rate.

    ``backtest`` has ``horizon``, ``y_true``, ``p_model`` and optionally ``p_history``.
    Forecasts are grouped into equal-count bins.
    """
    fig = Figure(figsize=(3.2 * len(horizons), 3.2))
    axes = fig.subplots(1, len(horizons), squeeze=False)[0]
    for ax, h in zip(axes, horizons, strict=True):
        rows = backtest.loc[(backtest["horizon"] == h) & backtest["y_true"].notna()]
        top = 0.05
        for col, name, colour in (
            ("p_model", "this model", MODEL_COLOURS["lightgbm"]),
            ("p_history", "history baseline", MODEL_COLOURS["history"]),
        ):
            if col not in rows or rows.empty:
                continue
            p = rows[col].to_numpy(dtype=float)
            y = rows["y_true"].to_numpy(dtype=float)
            q = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1)))
            idx = np.clip(np.searchsorted(q, p, side="right") - 1, 0, max(len(q) - 2, 0))
            frame = pd.DataFrame({"b": idx, "p": p, "y": y}).groupby("b").mean()
            ax.plot(frame["p"], frame["y"], marker="o", ms=4, color=colour, label=name)
            top = max(top, frame["p"].max(), frame["y"].max())
        top = min(1.0, top * 1.1)
        ax.plot([0, top], [0, top], color=GREY, ls="--", lw=0.8, label="perfectly reliable")
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
        ax.set_title(f"relapse within {h} year{'s' if h > 1 else ''}", fontsize=9)
        ax.set_xlabel("forecast risk", fontsize=8)
        ax.grid(alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_ylabel("share that relapsed", fontsize=8)
    axes[0].legend(fontsize=7, frameon=False, loc="upper left")
    return to_base64(fig)
