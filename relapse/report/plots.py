"""The report's global figures: matplotlib, returned as base64 PNG strings.

The per-country charts (risk over time, waterfalls) are drawn with Pillow in
:mod:`relapse.report.charts`.

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
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from relapse.report.charts import GREY, HORIZON_COLOURS, PX_PER_INCH

DPI = PX_PER_INCH
MODEL_COLOURS = {"model": "#1b4f72", "history": "#d35400", "climatology": GREY}


def to_base64(fig: Figure) -> str:
    """PNG bytes of a figure, base64-encoded (for ``<img src="data:image/png;base64,...">``).

    Cropped like ``bbox_inches="tight"`` (same pixels), but the tight box is measured once
    here instead of by an extra layout pass of the whole figure inside ``savefig``.
    """
    fig.set_dpi(DPI)
    renderer = FigureCanvasAgg(fig).get_renderer()
    box = fig.get_tightbbox(renderer).padded(matplotlib.rcParams["savefig.pad_inches"])
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches=box)
    return base64.b64encode(buf.getvalue()).decode("ascii")


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
    positions = feature.groupby(feature, sort=False).indices  # each feature's rows, in order
    for i, name in enumerate(features):
        rows = shap_long.iloc[positions[name]]
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
            ("p_model", "this model", MODEL_COLOURS["model"]),
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
