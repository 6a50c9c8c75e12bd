"""What every raw-table writer draws from: the world, its country-year rows, the economy, the
map, and the random streams.

The writers (:mod:`~relapse.synthetic.conflict`, :mod:`~relapse.synthetic.peacekeeping`,
:mod:`~relapse.synthetic.governance`, :mod:`~relapse.synthetic.economic`,
:mod:`~relapse.synthetic.crosswalks`) are plain functions of a :class:`Context`. Most share
its one stream :attr:`Context.rng`, so :func:`relapse.synthetic.tables.simulate` calls them in
a fixed order; newer tables draw from their own :meth:`Context.stream` instead, so adding one
leaves the others' bytes unchanged.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from relapse.synthetic.geography import Geography, draw_geography
from relapse.synthetic.world import World, draw_economy

GEOGRAPHY_STREAM = 12
"""The :meth:`Context.stream` the map is drawn from."""


class Context:
    """The world seen as country-years, with the tables' shared random stream.

    Parameters
    ----------
    world
        The simulated world.
    seed
        The data set's seed; the tables' streams are seeded ``[seed, k]``.
    """

    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.seed = seed
        self.rng = np.random.default_rng([seed, 1])
        self.gw = world.units["gwno"].to_numpy()
        self.iso3 = world.units["iso3"].to_numpy().astype(object)
        self.name = world.units["name"].to_numpy().astype(object)
        self.u, self.t = np.nonzero(world.in_system)
        self.year = world.years[self.t]
        self.economy = draw_economy(self.rng, len(world.units), len(world.years))

    def cy(self, values: np.ndarray) -> np.ndarray:
        """A unit × year array at the country-year rows (states in the system)."""
        return values[self.u, self.t]

    def noise(self, sd: float = 1.0) -> np.ndarray:
        """Normal noise, one draw per country-year row, from the shared stream."""
        return self.rng.normal(0.0, sd, size=len(self.u))

    def stream(self, k: int) -> np.random.Generator:
        """An independent random stream per new table, so adding one leaves the others."""
        return np.random.default_rng([self.seed, k])

    @cached_property
    def geography(self) -> Geography:
        """The synthetic map (drawn once): positions, radii and each state's near neighbours."""
        return draw_geography(self.stream(GEOGRAPHY_STREAM), len(self.gw))


def dates(year: Any, month: Any, day: Any = 1) -> np.ndarray:
    """``YYYY-MM-DD`` strings (vectorised)."""
    y = np.asarray(year, dtype=np.int64)
    m = np.broadcast_to(np.asarray(month, dtype=np.int64), y.shape)
    d = np.broadcast_to(np.asarray(day, dtype=np.int64), y.shape)
    return np.array(
        [f"{a:04d}-{b:02d}-{c:02d}" for a, b, c in zip(y, m, d, strict=True)], dtype=object
    )


def window(years: np.ndarray, first: int, last: int) -> tuple[int, int]:
    """A source's real coverage clipped to the simulated years (all years if disjoint)."""
    lo, hi = max(first, int(years[0])), min(last, int(years[-1]))
    return (lo, hi) if lo <= hi else (int(years[0]), int(years[-1]))
