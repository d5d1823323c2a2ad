"""Where an analysis's people are, in memory, and the one gate their counts pass.

:class:`Demand` holds the people an analysis counts:

* from the council's **register** (:func:`from_records`): each person at their own
  position, weight 1, with their record key (:mod:`layers.cellkey`) — the exact answer;
* from a **published density** only (:func:`spread`): each unit's people spread evenly
  over its outline (a regular grid of points inside it, weights summing to its count) —
  never at one point.

Analyses compute a distance, time or reach for every point and count through
:meth:`Demand.count`: **the only way** a number of people leaves a :class:`Demand`.  For a
register it passes the protection step (:func:`layers.cellkey.protect`: 「k未満」 and the
cell-key perturbation, the same people giving the same number in every table); for a spread
density the counts derive from published counts already and are rounded.  A
:class:`Demand` has no useful ``repr``, is never pickled (``__reduce__`` refuses) and is
never written: outputs hold counts, never points.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from layers.cellkey import KEY_RANGE, cell_keys, protect, record_keys
from layers.crs import STORAGE_CRS, transform_xy

if TYPE_CHECKING:
    import geopandas as gpd

    from layers.registers import Records

__all__ = ["APPROX_KM2", "SPREAD_POINTS", "Demand", "PerPerson", "count_column", "from_records", "identities",
           "spread", "unit_area_km2"]

APPROX_KM2 = 10.0
"""A published unit larger than this (km²) is marked 概数 (approximate) wherever it is shown:
its people live spread over a wide area, so a distance from its anchor is only indicative."""

SPREAD_POINTS = 64
"""At most this many points spread one published unit's people over its outline."""
SPREAD_SPACING_M = 100.0
"""The spread grid's spacing (until :data:`SPREAD_POINTS` is reached): the points depend on
the unit's shape only, never on its count, so a count scaled by a projection moves every
answer in proportion."""


class PerPerson:
    """Base of every in-memory holder of a result for each person (a distance, a shelter, a
    time): such a holder is never pickled, so it never reaches a file, a cache or a worker."""

    __slots__ = ()

    def __reduce__(self) -> Any:
        raise TypeError("要配慮者ごとの結果は保存できません。")


@dataclass(frozen=True, repr=False, eq=False)
class Demand:
    """People at points (EPSG:4326), in memory only; see the module doc."""

    lon: np.ndarray
    lat: np.ndarray
    weight: np.ndarray
    keys: np.ndarray | None
    """Record keys (register), or None (a spread published density)."""
    k: int
    _xy: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Demand(points={len(self.lon)}, exact={self.exact})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("要配慮者の位置はファイルやキャッシュに書き出しません（Demand は保存できません）。")

    @property
    def exact(self) -> bool:
        """True when the points are the register's people (not a spread density)."""
        return self.keys is not None

    def __len__(self) -> int:
        return len(self.lon)

    def within(self, areas: gpd.GeoDataFrame) -> Demand:
        """The people inside ``areas`` (a region kept to some municipalities)."""
        outline = shapely.union_all(areas.geometry.to_crs(STORAGE_CRS).to_numpy())
        keep = shapely.contains_xy(outline, self.lon, self.lat)
        return Demand(self.lon[keep], self.lat[keep], self.weight[keep],
                      None if self.keys is None else self.keys[keep], self.k)

    def xy(self, crs: str) -> tuple[np.ndarray, np.ndarray]:
        """The points in a metric ``crs`` (computed once per CRS)."""
        if crs not in self._xy:
            x, y = transform_xy(self.lon, self.lat, STORAGE_CRS, crs)
            x.setflags(write=False)
            y.setflags(write=False)
            self._xy[crs] = (x, y)
        return self._xy[crs]

    def count(self, cells: np.ndarray, n_cells: int, where: np.ndarray | None = None
              ) -> pd.arrays.IntegerArray:
        """**The gate**: the published number of people in each of ``n_cells`` cells
        (``cells`` is each point's cell, −1 for none; ``where`` keeps only some points).

        A register's counts pass :func:`layers.cellkey.protect` (「k未満」 as ``<NA>``, the
        cell-key change); a spread density's are rounded sums of published counts."""
        cells = np.asarray(cells, np.int64)
        if where is not None:
            cells = np.where(np.asarray(where, bool), cells, -1)
        inside = cells >= 0
        sums = np.bincount(cells[inside], weights=self.weight[inside], minlength=n_cells)
        if self.keys is None:
            return pd.array(np.round(sums).astype(np.int64), dtype="Int64")
        return protect(np.round(sums).astype(np.int64), cell_keys(self.keys, cells, n_cells), k=self.k)

    def count_pairs(self, points: np.ndarray, cells: np.ndarray, n_cells: int) -> pd.arrays.IntegerArray:
        """The gate for cells that overlap (a person within reach of several shelters): the
        published number of people of each cell, from (``points``, ``cells``) pairs — point
        ``points[i]`` is in cell ``cells[i]``, each pair once.  Same protection as :meth:`count`."""
        points = np.asarray(points, np.int64)
        cells = np.asarray(cells, np.int64)
        sums = np.bincount(cells, weights=self.weight[points], minlength=n_cells)
        if self.keys is None:
            return pd.array(np.round(sums).astype(np.int64), dtype="Int64")
        return protect(np.round(sums).astype(np.int64), cell_keys(self.keys[points], cells, n_cells),
                       k=self.k)

    def total(self, where: np.ndarray | None = None) -> int | str:
        """The published number of all (or the ``where``) points: an integer, or 「k未満」
        (with this register's k) when the true number is below k."""
        value = self.count(np.zeros(len(self), np.int64), 1, where)[0]
        return f"{self.k}未満" if value is pd.NA else int(value)

    def weights_in(self, cells: np.ndarray, n_cells: int, where: np.ndarray | None = None) -> np.ndarray:
        """Unpublished sums of weight per cell: for decisions inside an analysis (which site
        is best), never written; what is published goes through :meth:`count`."""
        cells = np.asarray(cells, np.int64)
        ok = cells >= 0 if where is None else (cells >= 0) & np.asarray(where, bool)
        return np.bincount(cells[ok], weights=self.weight[ok], minlength=n_cells)


def count_column(values: Iterable[object]) -> pd.arrays.IntegerArray:
    """Protected totals (:meth:`Demand.total`: an integer or 「k未満」) as a table column:
    ``Int64``, 「k未満」 as ``<NA>`` (written and shown as 「k未満」), so numbers stay numbers
    in every file format."""
    return pd.array([None if isinstance(v, str) or v is None or v is pd.NA else int(v)  # type: ignore[call-overload]
                     for v in values], dtype="Int64")


def identities(records: Records) -> list[str]:
    """What each record's key is made from: its register number where the register has one,
    else its position and category (the same person, unmoved, in next month's register)."""
    cat = records.category if records.category is not None else np.full(len(records.lon), "")
    place = [f"@{lo:.6f},{la:.6f},{c}" for lo, la, c in zip(records.lon, records.lat, cat, strict=True)]
    if records.ids is None:
        return place
    return [f"#{i}" if i else p for i, p in zip(records.ids, place, strict=True)]


def from_records(records: Records, *, k: int, secret: bytes) -> Demand:
    """The register's people, one point each, keyed by the council's ``secret``."""
    keys = record_keys(identities(records), secret)
    return Demand(lon=np.asarray(records.lon, float), lat=np.asarray(records.lat, float),
                  weight=np.ones(len(records.lon)), keys=keys % KEY_RANGE, k=k)


def spread(density: gpd.GeoDataFrame, *, k: int, crs: str) -> Demand:
    """A published density's people spread evenly over each unit's outline: a regular grid
    (:data:`SPREAD_SPACING_M`, up to :data:`SPREAD_POINTS` points, at least its representative
    point) inside it, weights summing to the unit's count."""
    counts = pd.to_numeric(density["count"], errors="coerce").fillna(0).to_numpy(float) \
        if "count" in density else np.zeros(len(density))
    shapes = np.asarray(density.to_crs(crs).geometry.to_numpy())
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    ws: list[np.ndarray] = []
    for shape, n in zip(shapes, counts, strict=True):
        if n <= 0 or shape is None or shape.is_empty:
            continue
        x, y = _grid_in(shape, int(min(SPREAD_POINTS, max(1.0, shape.area / SPREAD_SPACING_M ** 2))))
        xs.append(x)
        ys.append(y)
        ws.append(np.full(len(x), n / len(x)))
    if not xs:
        return Demand(np.zeros(0), np.zeros(0), np.zeros(0), None, k)
    lon, lat = transform_xy(np.concatenate(xs), np.concatenate(ys), crs, STORAGE_CRS)
    return Demand(lon=lon, lat=lat, weight=np.concatenate(ws), keys=None, k=k)


def _grid_in(shape: shapely.Geometry, n: int) -> tuple[np.ndarray, np.ndarray]:
    """About ``n`` points of a square grid inside ``shape`` (its representative point when
    the grid misses it: a thin or tiny unit)."""
    x0, y0, x1, y1 = shape.bounds
    step = max(np.sqrt(max(shape.area, 1.0) / n), 1.0)
    mx, my = np.meshgrid(np.arange(x0 + step / 2, x1, step), np.arange(y0 + step / 2, y1, step))
    gx, gy = mx.ravel(), my.ravel()
    inside = shapely.contains_xy(shape, gx, gy)
    if not inside.any():
        p = shape.representative_point()
        return np.array([p.x]), np.array([p.y])
    return gx[inside], gy[inside]


def unit_area_km2(density: gpd.GeoDataFrame) -> np.ndarray:
    """Each published unit's area in km² (on an equal-area projection, EPSG:6933)."""
    if not len(density):
        return np.zeros(0)
    return np.asarray(density.to_crs("EPSG:6933").geometry.area.to_numpy(float)) / 1e6
