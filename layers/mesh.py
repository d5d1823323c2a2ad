"""JIS X 0410 地域メッシュ as an integer grid: codes ⇄ (row, col), cell boxes, cells of an area.

A cell's ``row`` is its south edge / dlat and ``col`` its west edge / dlon, so
neighbouring cells share their edges exactly (boxes built from the same
integers) and a set of cells unions into clean polygons.
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["DLAT", "DLON", "MESH_SIZES", "SIZE_OF_LEVEL", "cell_boxes", "cell_codes", "cells_covering",
           "mesh_cells", "mesh_codes", "twice"]

MESH_SIZES = {1000: 3, 500: 4, 250: 5}
SIZE_OF_LEVEL = {3: 1000, 4: 500, 5: 250}
DLAT = {3: 1 / 120, 4: 1 / 240, 5: 1 / 480}
DLON = {3: 1 / 80, 4: 1 / 160, 5: 1 / 320}
MAX_CELLS = 2_000_000
"""The most cells an area may be cut into (a prefecture at 250 m is about 200,000)."""


def twice(a: np.ndarray) -> tuple[np.ndarray, int]:
    """jismesh calls the removed ``np.asscalar`` on size-1 input: never give it one."""
    a = np.atleast_1d(np.asarray(a))
    return (np.concatenate([a, a]), 1) if a.size == 1 else (a, a.size)


def mesh_cells(codes: np.ndarray, level: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer (row, col) of mesh cells: row = south / dlat, col = west / dlon."""
    import jismesh.utils as ju

    c, n = twice(np.asarray(codes, dtype=np.int64))
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    south, west = ju.to_meshpoint(c, 0, 0)
    south, west = np.asarray(south)[:n], np.asarray(west)[:n]
    row = np.rint(np.asarray(south) / DLAT[level]).astype(np.int64)
    col = np.rint(np.asarray(west) / DLON[level]).astype(np.int64)
    return row, col


def _jismesh_codes(lat: np.ndarray, lon: np.ndarray, level: int) -> np.ndarray:
    import jismesh.utils as ju

    la, n = twice(lat)
    lo, _ = twice(lon)
    if n == 0:
        return np.zeros(0, np.int64)
    return np.asarray(ju.to_meshcode(la, lo, level), dtype=np.int64)[:n]


EDGE = 1e-9
"""Points within this share of a cell of a cell edge are coded by jismesh itself."""


def _cell_index(values: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """(integer cell index, on or next to an edge or not a number) of each value."""
    f = values / step
    idx = np.floor(f)
    f -= idx  # the fraction inside the cell
    edge = (f < EDGE) | (f > 1 - EDGE) | ~np.isfinite(f)
    del f
    return np.where(np.isfinite(idx), idx, 0).astype(np.int64), edge


def mesh_codes(lat: np.ndarray, lon: np.ndarray, level: int) -> np.ndarray:
    """Mesh code of each point (vectorised): the cell is found by integer arithmetic and
    jismesh codes each distinct cell once (at its centre) — a million points cost one
    ``floor`` and a few thousand jismesh codes.  Points on (or a float's width from) a cell
    edge are coded by jismesh directly, so every code is the one jismesh gives."""
    lat = np.asarray(lat, float).ravel()
    lon = np.asarray(lon, float).ravel()
    if not len(lat):
        return np.zeros(0, np.int64)
    row, edge_r = _cell_index(lat, DLAT[level])
    col, edge_c = _cell_index(lon, DLON[level])
    edge = edge_r | edge_c
    del edge_r, edge_c
    row *= 10_000_000
    row += col  # one integer per cell
    del col
    codes = np.empty(len(lat), np.int64)
    if (~edge).any():
        cells, inv = np.unique(row[~edge] if edge.any() else row, return_inverse=True)
        del row
        u_row, u_col = cells // 10_000_000, cells % 10_000_000
        codes[~edge] = cell_codes(u_row, u_col, level)[inv.ravel()]
    if edge.any():
        codes[edge] = _jismesh_codes(lat[edge], lon[edge], level)
    return codes


def cell_codes(row: np.ndarray, col: np.ndarray, level: int) -> np.ndarray:
    """Mesh codes of cells given as (row, col)."""
    return _jismesh_codes((np.asarray(row) + 0.5) * DLAT[level], (np.asarray(col) + 0.5) * DLON[level],
                          level)


def cell_boxes(row: np.ndarray, col: np.ndarray, level: int) -> np.ndarray:
    """The cells as lon/lat boxes (EPSG:4326)."""
    dlat, dlon = DLAT[level], DLON[level]
    row, col = np.asarray(row), np.asarray(col)
    return shapely.box(col * dlon, row * dlat, (col + 1) * dlon, (row + 1) * dlat)


def cells_covering(area: shapely.Geometry, level: int) -> tuple[np.ndarray, np.ndarray]:
    """Every cell (row, col) that meets ``area`` (lon/lat), in row-major order."""
    w, s, e, n = area.bounds
    r0, r1 = int(np.floor(s / DLAT[level])), int(np.floor(n / DLAT[level]))
    c0, c1 = int(np.floor(w / DLON[level])), int(np.floor(e / DLON[level]))
    if (r1 - r0 + 1) * (c1 - c0 + 1) > MAX_CELLS:
        raise ValueError("area too large for this mesh")
    grid_r, grid_c = np.meshgrid(np.arange(r0, r1 + 1), np.arange(c0, c1 + 1), indexing="ij")
    rr, cc = grid_r.ravel(), grid_c.ravel()
    shapely.prepare(area)
    hit = shapely.intersects(area, cell_boxes(rr, cc, level))
    return rr[hit], cc[hit]
