"""The synthetic map: states are discs in a square plane (see the package docstring)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEIGHBOURS = 6
"""Each state's nearest states (by centre) whose border distances are written."""

STATE_SPACING_KM = 900.0
"""Typical distance between neighbouring states' centres (about the real world's density)."""


@dataclass(frozen=True)
class Geography:
    """The synthetic map: states are discs in a square plane (km)."""

    xy: np.ndarray
    """Centre of each state (unit × 2, km)."""
    radius: np.ndarray
    side: float
    """Side of the square (km)."""
    pairs: np.ndarray
    """Near pairs (unit indices, lower first): each state with its :data:`NEIGHBOURS`
    nearest centres, both ways."""
    km: np.ndarray
    """Border distance of each pair: centre distance less both radii, at least 0."""
    nearest: np.ndarray
    """Each state's nearest neighbour by border distance (-1: a state alone on the map)."""


def draw_geography(rng: np.random.Generator, n_units: int) -> Geography:
    """States placed uniformly at random; border distances only among near pairs, so the
    table grows with the number of states, not its square."""
    from sklearn.neighbors import NearestNeighbors

    side = STATE_SPACING_KM * float(np.sqrt(n_units))
    xy = rng.uniform(0.0, side, (n_units, 2))
    radius = rng.uniform(0.3, 0.55, n_units) * STATE_SPACING_KM
    k = min(NEIGHBOURS, n_units - 1)
    if k == 0:
        empty = np.zeros((0, 2), dtype=np.int64)
        return Geography(xy, radius, side, empty, np.zeros(0), np.full(n_units, -1))
    dist, idx = NearestNeighbors(n_neighbors=k + 1).fit(xy).kneighbors(xy)
    dist, idx = dist[:, 1:], idx[:, 1:]  # the first is the state itself
    border = np.maximum(dist - radius[:, None] - radius[idx], 0.0)
    nearest = idx[np.arange(n_units), np.argmin(border, axis=1)]
    i = np.repeat(np.arange(n_units), k)
    j = idx.ravel()
    pairs = np.unique(np.column_stack([np.minimum(i, j), np.maximum(i, j)]), axis=0)
    a, b = pairs[:, 0], pairs[:, 1]
    km = np.maximum(np.hypot(*(xy[a] - xy[b]).T) - radius[a] - radius[b], 0.0)
    return Geography(xy, radius, side, pairs, km, nearest)


def latitude(y: np.ndarray, side: float) -> np.ndarray:
    """Latitude of a plane coordinate: the square mapped linearly onto 60° S-70° N."""
    return -60.0 + 130.0 * np.clip(y / side, 0.0, 1.0)


def longitude(x: np.ndarray, side: float) -> np.ndarray:
    """Longitude of a plane coordinate: the square mapped linearly onto 180° W-180° E."""
    return -180.0 + 360.0 * np.clip(x / side, 0.0, 1.0)
