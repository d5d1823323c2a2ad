"""A uniform-grid index of road segments, stored with the network's cached arrays.

Joining points to the roads asks two questions of every point: its nearest road
segment, and the segments within a radius.  An STRtree answers them, but it
cannot be saved and costs about 1.5 s to build at 1M nodes on every run; this
grid is built once with the network, written in the same cache file (same key,
same atomic write) and reloaded with it.

The grid covers the nodes' extent with square cells (about twice the median
segment length, widened so there are no more cells than segments); each segment
is listed in every cell its bounding box touches (CSR: ``grid_ptr`` per cell,
``grid_seg`` the segment numbers).  Queries are compiled (numba):

* :func:`nearest_segments` searches rings of cells outwards and stops when no
  unseen cell can hold anything nearer; ties go to the lowest segment number;
* :func:`segments_within` visits the cells of the radius's box once per point;
* :func:`segments_touching` finds the segments that touch polygons (hazard
  zones): candidates from the cells under each polygon's box, then an exact
  shapely test on those lines only (no line is made for the rest of the roads).

Distances are GEOS's point–segment formula, so they agree with
``shapely.distance`` to the last bits.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

__all__ = ["build_grid", "fits", "lines_of", "nearest_segments", "segments_touching", "segments_within"]


def build_grid(x: np.ndarray, y: np.ndarray, seg_a: np.ndarray, seg_b: np.ndarray,
               seg_len: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(grid_ptr, grid_seg, grid_box)`` for the segments ``seg_a``–``seg_b`` of nodes
    at ``x``/``y``; ``grid_box`` is ``[x0, y0, cell, nx, ny, sum x, sum y]`` (the sums
    tell an index from one built for moved nodes: :func:`fits`)."""
    nseg = len(seg_a)
    if nseg == 0 or len(x) == 0:
        return (np.zeros(2, np.int64), np.zeros(0, np.int64),
                np.array([0.0, 0.0, 1.0, 1.0, 1.0, *_sums(x, y)]))
    x0, y0 = float(x.min()), float(y.min())
    wx, wy = float(x.max()) - x0, float(y.max()) - y0
    finite = seg_len[np.isfinite(seg_len)]
    cell = max(2.0 * float(np.median(finite)) if len(finite) else 1.0,
               float(np.sqrt(wx * wy / nseg)), 1.0)
    nx, ny = int(wx // cell) + 1, int(wy // cell) + 1
    xa, xb, ya, yb = x[seg_a], x[seg_b], y[seg_a], y[seg_b]
    ix0 = np.clip(((np.minimum(xa, xb) - x0) // cell).astype(np.int64), 0, nx - 1)
    ix1 = np.clip(((np.maximum(xa, xb) - x0) // cell).astype(np.int64), 0, nx - 1)
    iy0 = np.clip(((np.minimum(ya, yb) - y0) // cell).astype(np.int64), 0, ny - 1)
    iy1 = np.clip(((np.maximum(ya, yb) - y0) // cell).astype(np.int64), 0, ny - 1)
    width = ix1 - ix0 + 1
    count = width * (iy1 - iy0 + 1)
    start = np.cumsum(count) - count
    which = np.repeat(np.arange(nseg, dtype=np.int64), count)
    k = np.arange(int(count.sum()), dtype=np.int64) - np.repeat(start, count)
    w = np.repeat(width, count)
    cells = (np.repeat(iy0, count) + k // w) * nx + np.repeat(ix0, count) + k % w
    order = np.argsort(cells, kind="stable")
    ptr = np.r_[0, np.cumsum(np.bincount(cells, minlength=nx * ny))].astype(np.int64)
    dtype = np.int32 if nseg < 2**31 - 1 else np.int64
    return ptr, which[order].astype(dtype), np.array([x0, y0, cell, float(nx), float(ny), *_sums(x, y)])


def _sums(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    return float(np.sum(x)), float(np.sum(y))


def fits(net: Any) -> bool:
    """Whether ``net``'s index was built for its nodes where they are now (a network whose
    coordinates were replaced keeps the old index arrays, which would search the wrong
    cells)."""
    box = net.grid_box
    if net.grid_seg is None or box is None or len(box) < 7:
        return False
    return _sums(net.x, net.y) == (float(box[5]), float(box[6]))


def lines_of(net: Any, segs: np.ndarray | None = None) -> np.ndarray:
    """The road segments ``segs`` (all when None) as straight shapely lines."""
    import shapely

    a, b = net.seg_a, net.seg_b
    if segs is not None:
        a, b = a[segs], b[segs]
    if not len(a):
        return np.zeros(0, dtype=object)
    x, y = net.x, net.y
    return shapely.linestrings(np.stack([np.column_stack([x[a], y[a]]),
                                         np.column_stack([x[b], y[b]])], axis=1))


def _grid(net: Any) -> tuple[np.ndarray, np.ndarray, float, float, float, int, int]:
    ptr, seg, box = net.grid_ptr, net.grid_seg, net.grid_box
    if ptr is None or seg is None or box is None:
        raise ValueError("this network has no road index (rebuild its cache)")
    return ptr, seg, float(box[0]), float(box[1]), float(box[2]), int(box[3]), int(box[4])


def nearest_segments(net: Any, px: np.ndarray, py: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(point index, segment index, distance) of every point's nearest road segment
    (no rows without segments)."""
    px, py = np.ascontiguousarray(px, np.float64), np.ascontiguousarray(py, np.float64)
    if len(net.seg_a) == 0 or len(px) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    ptr, seg, x0, y0, cell, nx, ny = _grid(net)
    s, d = _nearest(px, py, net.x, net.y, net.seg_a, net.seg_b,
                    ptr, seg, x0, y0, cell, nx, ny)
    return np.arange(len(px), dtype=np.int64), s, d


def segments_within(net: Any, px: np.ndarray, py: np.ndarray, radius: float
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(point index, segment index) of every segment within ``radius`` of each point,
    sorted by point then segment."""
    px, py = np.ascontiguousarray(px, np.float64), np.ascontiguousarray(py, np.float64)
    if len(net.seg_a) == 0 or len(px) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ptr, seg, x0, y0, cell, nx, ny = _grid(net)
    r = float(radius)
    bounds = np.column_stack([px - r, py - r, px + r, py + r])
    p, s = _in_boxes(bounds, px, py, r, net.x, net.y, net.seg_a, net.seg_b, ptr, seg, x0, y0, cell, nx, ny)
    order = np.lexsort((s, p))
    return p[order], s[order]


def segments_touching(net: Any, geoms: np.ndarray, *, lines: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(geometry index, segment index) of every road segment that intersects each of
    ``geoms`` (shapely geometries in the network's CRS), sorted by geometry then segment.
    ``lines`` (all segments as lines, if already made) saves making the candidates'."""
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    if len(net.seg_a) == 0 or len(geoms) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ptr, seg, x0, y0, cell, nx, ny = _grid(net)
    bounds = shapely.bounds(geoms)
    usable = np.isfinite(bounds).all(axis=1)
    bounds = np.where(usable[:, None], bounds, np.array([1.0, 1.0, 0.0, 0.0]))  # empty box
    none = np.zeros(len(bounds))
    gi, si = _in_boxes(np.ascontiguousarray(bounds), none, none, -1.0, net.x, net.y,
                       net.seg_a, net.seg_b, ptr, seg, x0, y0, cell, nx, ny)
    if not len(gi):
        return gi, si
    cand = lines_of(net, si) if lines is None else lines[si]
    shapely.prepare(geoms)
    hit = shapely.intersects(geoms[gi], cand)
    order = np.lexsort((si[hit], gi[hit]))
    return gi[hit][order], si[hit][order]


@numba.njit(cache=True, nogil=True, inline="always")
def _point_segment(px, py, ax, ay, bx, by):  # type: ignore[no-untyped-def]
    """GEOS's Distance::pointToSegment."""
    len2 = (bx - ax) * (bx - ax) + (by - ay) * (by - ay)
    if len2 == 0.0:
        return np.hypot(px - ax, py - ay)
    r = ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / len2
    if r <= 0.0:
        return np.hypot(px - ax, py - ay)
    if r >= 1.0:
        return np.hypot(px - bx, py - by)
    s = ((ay - py) * (bx - ax) - (ax - px) * (by - ay)) / len2
    return abs(s) * np.sqrt(len2)


@numba.njit(cache=True, nogil=True)
def _cell_of(v, v0, cell, nv):  # type: ignore[no-untyped-def]
    c = np.floor((v - v0) / cell)
    if c < 0:
        return 0
    if c > nv - 1:
        return nv - 1
    return np.int64(c)


@numba.njit(cache=True, nogil=True)
def _nearest(px, py, x, y, sa, sb, ptr, seg, x0, y0, cell, nx, ny):  # type: ignore[no-untyped-def]  # noqa: C901 (one compiled kernel)
    n = len(px)
    out_s = np.full(n, -1, np.int64)
    out_d = np.full(n, np.inf)
    for i in range(n):
        cx, cy = _cell_of(px[i], x0, cell, nx), _cell_of(py[i], y0, cell, ny)
        best, bs, r = np.inf, np.int64(-1), 0
        while True:
            for ix in range(max(cx - r, 0), min(cx + r, nx - 1) + 1):
                edge = ix == cx - r or ix == cx + r
                step = 1 if edge else 2 * r
                iy = cy - r
                while iy <= cy + r:
                    if 0 <= iy < ny:
                        c = iy * nx + ix
                        for k in range(ptr[c], ptr[c + 1]):
                            s = seg[k]
                            d = _point_segment(px[i], py[i], x[sa[s]], y[sa[s]], x[sb[s]], y[sb[s]])
                            if d < best or (d == best and s < bs):
                                best, bs = d, s
                    iy += step if step > 0 else 1
            bound = np.inf  # nearest point of any cell not yet searched
            if cx - r > 0:
                bound = min(bound, px[i] - (x0 + (cx - r) * cell))
            if cx + r < nx - 1:
                bound = min(bound, x0 + (cx + r + 1) * cell - px[i])
            if cy - r > 0:
                bound = min(bound, py[i] - (y0 + (cy - r) * cell))
            if cy + r < ny - 1:
                bound = min(bound, y0 + (cy + r + 1) * cell - py[i])
            if bound == np.inf or best <= max(bound, 0.0):
                break
            r += 1
        out_s[i] = bs
        out_d[i] = best
    return out_s, out_d


@numba.njit(cache=True, nogil=True)
def _in_boxes(bounds, qx, qy, radius, x, y, sa, sb, ptr, seg, x0, y0, cell, nx, ny):  # type: ignore[no-untyped-def]
    """For each query box, the segments listed in the cells under it (each once) that pass
    the query's test: within ``radius`` of the point (``qx``, ``qy``) when ``radius`` is
    not negative, else their own box overlapping the query box."""
    stamp = np.full(len(sa), -1, np.int64)
    out_g = []
    out_s = []
    for g in range(bounds.shape[0]):
        bx0, by0, bx1, by1 = bounds[g, 0], bounds[g, 1], bounds[g, 2], bounds[g, 3]
        if bx1 < bx0 or by1 < by0:
            continue
        for iy in range(_cell_of(by0, y0, cell, ny), _cell_of(by1, y0, cell, ny) + 1):
            for ix in range(_cell_of(bx0, x0, cell, nx), _cell_of(bx1, x0, cell, nx) + 1):
                c = iy * nx + ix
                for k in range(ptr[c], ptr[c + 1]):
                    s = seg[k]
                    if stamp[s] == g:
                        continue
                    stamp[s] = g
                    ax, ay, qbx, qby = x[sa[s]], y[sa[s]], x[sb[s]], y[sb[s]]
                    if radius >= 0.0:
                        keep = _point_segment(qx[g], qy[g], ax, ay, qbx, qby) <= radius
                    else:
                        keep = min(ax, qbx) <= bx1 and max(ax, qbx) >= bx0 and \
                            min(ay, qby) <= by1 and max(ay, qby) >= by0
                    if keep:
                        out_g.append(g)
                        out_s.append(np.int64(s))
    return np.array(out_g, dtype=np.int64), np.array(out_s, dtype=np.int64)
