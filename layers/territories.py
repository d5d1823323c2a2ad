"""The publication rule: which units are published together, and as what shape.

A unit (mesh cell, 自治会, 校区 …) holding at least k people is an **anchor**.
Every other unit of the region — those with 1 to k−1 people *and the empty ones*
— belongs to the **territory** of its nearest anchor (centre to centre, ties to
the first anchor in unit order — a fixed rule no record can move).  One row is
published per territory: the anchor's id, the sum of its people (≥ k), and the
outline of all its units.

Why territories: a shape made of the *occupied* cells of a merged group shows
which cells hold 1–4 people (one person living alone 1.5 km from everyone else
appears as an isolated square).  A territory's outline depends only on where the
anchors are — units that any count-per-cell publication shows anyway — and on
the region's grid, never on where the small counts lie: moving, adding or
removing people in non-anchor units changes counts, never a shape.  No list of
occupied small units is published (``members`` lists every unit of the
territory, empty or not, so that maps can paint it).

If no unit reaches k but the region holds at least k people, the whole region is
one unit; below k nothing is published.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from layers.cellkey import protect
from layers.crs import STORAGE_CRS

__all__ = ["COLUMNS", "publish", "territories"]

COLUMNS = ["unit_id", "geography", "count", "n_units", "members", "proxy", "point_lon", "point_lat",
           "geometry"]
"""Published columns.  ``point_lon``/``point_lat`` is the demand point of an area unit
(its anchor area's representative point), used by the distance analyses instead of
the outline's centre; mesh units leave it empty (their anchor cell's centre follows
from ``unit_id``, the anchor's mesh code)."""


def territories(counts: np.ndarray, centres: np.ndarray, *, k: int) -> np.ndarray:
    """For each unit, the index of the anchor whose territory it is in.

    ``centres`` are (n, 2) metric coordinates.  All units share index ``n`` (no
    anchor, but ≥ k people in all) or ``-1`` (fewer than k people: nothing is
    published).
    """
    counts = np.asarray(counts, np.int64)
    n = len(counts)
    if n == 0:
        return np.zeros(0, np.int64)
    if int(counts.sum()) < k:
        return np.full(n, -1, np.int64)
    anchors = np.flatnonzero(counts >= k)
    if not len(anchors):
        return np.full(n, n, np.int64)
    many = min(TIE_CANDIDATES, len(anchors))
    dist, near = cKDTree(np.asarray(centres, float)[anchors]).query(np.asarray(centres, float), k=many)
    dist, near = dist.reshape(n, many), np.asarray(near, np.int64).reshape(n, many)
    # equidistant anchors: the first in unit order, whatever else the tree holds (a search
    # tree's own tie order changes when an anchor appears elsewhere, and a cell moving between
    # two territories would tell its size)
    tied = dist <= dist[:, :1] + TIE_M
    pick = np.where(tied, near, np.iinfo(np.int64).max).min(axis=1)
    group = anchors[pick]
    group[anchors] = anchors
    return group


TIE_CANDIDATES = 8
"""Nearest anchors looked at for a tie (a grid cell has at most 4 equidistant neighbours
at any distance ring; 8 leaves room)."""
TIE_M = 1e-3
"""Distances within this (metres) are a tie."""


def publish(unit_ids: np.ndarray, counts: np.ndarray, group: np.ndarray, geometries: np.ndarray,
            points: np.ndarray | None, *, geography: str, proxy: str, drawn: np.ndarray | None = None,
            whole_id: str = "all", keys: np.ndarray | None = None, k: int | None = None
            ) -> gpd.GeoDataFrame:
    """One row per territory with people (see the module doc).

    With ``keys`` (each unit's summed record keys) and ``k``, a territory's count is the
    protected one (:func:`layers.cellkey.protect` of its true count and the sum of its
    units' keys): the number every other table gives for the same people.

    ``geometries`` are the units' shapes (EPSG:4326) and ``points`` their (lon, lat)
    demand points or None; ``drawn`` marks the units that belong to the outline (units outside the
    region are counted in their territory but not drawn).
    """
    drawn = np.ones(len(group), bool) if drawn is None else np.asarray(drawn, bool)
    rows, geoms = [], []
    if not len(group) or group[0] == -1:
        return gpd.GeoDataFrame(pd.DataFrame(columns=COLUMNS[:-1]), geometry=[], crs=STORAGE_CRS)
    order = np.argsort(group, kind="stable")
    g_sorted = group[order]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    ends = np.r_[starts[1:], len(order)]
    # most territories are one unit of k or more people: those as arrays, the rest one by one
    lone = ((ends - starts) == 1) & (g_sorted[starts] < len(group))
    lone &= drawn[order[starts]] & (counts[order[starts]] > 0)
    singles = _single_units(order[starts[lone]], unit_ids, counts, geometries, points,
                            geography=geography, proxy=proxy)
    for s, e in zip(starts[~lone], ends[~lone], strict=True):
        idx = np.sort(order[s:e])
        c = int(counts[idx].sum())
        if c == 0:
            continue
        head = int(g_sorted[s])
        whole = head >= len(group)  # no anchor: the whole region is one unit
        shown = idx[drawn[idx]]
        point = points[head] if points is not None and not whole else (np.nan, np.nan)
        rows.append({
            "key": int(keys[idx].sum()) if keys is not None else 0,
            "unit_id": whole_id if whole else str(unit_ids[head]),
            "geography": geography,
            "count": c,
            "n_units": len(shown),
            "members": ",".join(str(unit_ids[j]) for j in shown),
            "proxy": proxy,
            "point_lon": round(float(point[0]), 6),
            "point_lat": round(float(point[1]), 6),
        })
        geoms.append(_outline(geometries[shown]))
    out = gpd.GeoDataFrame(pd.DataFrame(rows, columns=["key", *COLUMNS[:-1]]), geometry=geoms,
                           crs=STORAGE_CRS)
    if len(singles):
        singles.insert(0, "key", np.asarray(keys)[order[starts[lone]]] if keys is not None else 0)
        out = gpd.GeoDataFrame(pd.concat([singles, out], ignore_index=True), crs=STORAGE_CRS)
    out["count"] = out["count"].astype(np.int64)
    if keys is not None and k is not None:
        shown = protect(out["count"].to_numpy(), out["key"].to_numpy(np.int64), k=k)
        out = out[~np.asarray(shown.isna())].copy()  # a territory below k is never published
        out["count"] = shown[~shown.isna()].to_numpy(np.int64)
    out = out.drop(columns="key")
    return out.sort_values("unit_id", kind="stable").reset_index(drop=True)


def _single_units(idx: np.ndarray, unit_ids: np.ndarray, counts: np.ndarray, geometries: np.ndarray,
                  points: np.ndarray | None, *, geography: str, proxy: str) -> gpd.GeoDataFrame:
    """Territories of one drawn unit each (the unit is its own anchor), built as arrays."""
    ids = np.asarray(unit_ids)[idx].astype(str)
    pts = (np.asarray(points, float)[idx] if points is not None
           else np.full((len(idx), 2), np.nan))
    data = pd.DataFrame({
        "unit_id": ids, "geography": geography, "count": np.asarray(counts)[idx].astype(np.int64),
        "n_units": 1, "members": ids, "proxy": proxy,
        "point_lon": np.round(pts[:, 0], 6), "point_lat": np.round(pts[:, 1], 6)},
        columns=COLUMNS[:-1])
    return gpd.GeoDataFrame(data, geometry=np.asarray(geometries, dtype=object)[idx], crs=STORAGE_CRS)


def _outline(geoms: np.ndarray) -> shapely.Geometry:
    if len(geoms) == 1:
        return geoms[0]
    try:
        return shapely.coverage_union_all(geoms)  # cells and areas that share edges exactly
    except shapely.errors.GEOSException:
        return shapely.union_all(geoms)
