"""Isochrones: the area within a walking distance of one facility, from reachable road pieces.

A place P lies in the isochrone of ``limit`` metres when its network distance
under the access rule of :mod:`geo.engine.access` — the straight walk to the road it
joins plus the path along the roads — is at most ``limit``.  The polygon is
built from the roads, never a convex hull, and is **inscribed** in the true
area: it never contains a place farther than ``limit``.

* Each joinable segment S contributes a strip whose half-width
  ``min(cap, limit - D_S(t))`` is exact between breakpoints (``D_S`` the
  distance from the position ``t`` on S to the facility), plus half-discs beyond
  its ends (where the end is the nearest point of S); parts of a strip on the far
  side of a barrier from S are dropped.
* ``access="multi"``: a place may join any road within the radius, so the union
  of the strips is the isochrone.
* ``access="nearest"``: a place joins only its nearest road.  Each strip is
  kept only in its segment's nearest-road region (Voronoi cells of points every
  5 m along the roads), so a place beside a road that leads away is not counted
  through a road behind it; and, as a guard against the sampling and against
  barriers (a place whose nearest road is across a river joins another one),
  for every joinable segment S' near the strips the part of its ``cap`` band,
  within 5 m of its region, that is *not* within reach through S' is removed.

``cap`` (the widest access walk drawn) is ``max_access`` for ``nearest`` and the
join radius for ``multi``; places farther from every road are left out.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

from geo.engine.access import joinable
from geo.engine.network import AT_END, Network, Snap, barrier_index, nearest_facility, segment_tree
from geo.engine.profiles import ACCESS_RULES, DEFAULT_ACCESS, DEFAULT_JOIN_RADIUS, DEFAULT_MAX_ACCESS

__all__ = ["isochrone"]

SAMPLE_STEP = 5.0
"""Metres between the points that locate each road's nearest-road region."""


def _distance_along(net: Network, d_node: np.ndarray, facility: Snap, s: int):  # type: ignore[no-untyped-def]
    fs, ft, fa = int(facility.segment[0]), float(facility.offset[0]), float(facility.access[0])
    a, b, length = int(net.seg_a[s]), int(net.seg_b[s]), float(net.seg_len[s])

    def d_at(t: float) -> float:
        best = np.inf
        if net.seg_bwd[s] or t <= AT_END:
            best = min(best, t + d_node[a])
        if net.seg_fwd[s] or length - t <= AT_END:
            best = min(best, length - t + d_node[b])
        if s == fs and (net.seg_fwd[s] if ft >= t else net.seg_bwd[s]):
            best = min(best, abs(ft - t) + fa)
        return float(best)

    cuts = {0.0, length}
    if s == fs:
        cuts.add(min(max(ft, 0.0), length))
    if net.seg_bwd[s] and net.seg_fwd[s]:
        cuts.add(min(max((length + d_node[b] - d_node[a]) / 2, 0.0), length))
    return d_at, sorted(cuts)


def _strip(net: Network, s: int, d_at, cuts: list[float], limit: float, cap: float,  # type: ignore[no-untyped-def]
           quad_segs: int) -> shapely.Geometry | None:
    """Places within reach through segment ``s`` (inscribed), or None."""
    a, b, seg_len = int(net.seg_a[s]), int(net.seg_b[s]), float(net.seg_len[s])
    ax, ay, bx, by = net.x[a], net.y[a], net.x[b], net.y[b]
    geo_len = float(np.hypot(bx - ax, by - ay)) or 1e-9
    fine = np.unique(np.concatenate([np.asarray(cuts), np.linspace(0, seg_len, 9)]))
    widths = np.array([min(cap, limit - d_at(float(t))) for t in fine])
    ux, uy = (bx - ax) / geo_len, (by - ay) / geo_len
    px, py = -uy, ux
    pieces: list[shapely.Geometry] = []
    for t0, t1, w0, w1 in zip(fine[:-1], fine[1:], widths[:-1], widths[1:], strict=True):
        if w0 <= 0 and w1 <= 0:
            continue
        if w0 <= 0 or w1 <= 0:  # trim to where the width reaches zero
            tz = t0 + (t1 - t0) * (w0 / (w0 - w1)) if w0 != w1 else t0
            t0, w0, t1, w1 = (tz, 0.0, t1, w1) if w0 <= 0 else (t0, w0, tz, 0.0)
        g0, g1 = t0 / seg_len * geo_len, t1 / seg_len * geo_len
        x0, y0 = ax + ux * g0, ay + uy * g0
        x1, y1 = ax + ux * g1, ay + uy * g1
        pieces.append(shapely.Polygon([
            (x0 + px * w0, y0 + py * w0), (x1 + px * w1, y1 + py * w1),
            (x1 - px * w1, y1 - py * w1), (x0 - px * w0, y0 - py * w0)]))
    for t, (x, y), out in ((0.0, (ax, ay), -1.0), (seg_len, (bx, by), 1.0)):
        w = min(cap, limit - d_at(t))
        if w > 0:  # beyond the end, where the end itself is the nearest point of the road
            half = shapely.Polygon([(x + px * 2 * w, y + py * 2 * w), (x - px * 2 * w, y - py * 2 * w),
                                    (x - px * 2 * w + out * ux * 2 * w, y - py * 2 * w + out * uy * 2 * w),
                                    (x + px * 2 * w + out * ux * 2 * w, y + py * 2 * w + out * uy * 2 * w)])
            pieces.append(shapely.Point(x, y).buffer(w, quad_segs=quad_segs).intersection(half))
    if not pieces:
        return None
    return shapely.union_all(shapely.make_valid(np.array(pieces, dtype=object)))


def _own_side(net: Network, area: shapely.Geometry, line: shapely.Geometry) -> shapely.Geometry:
    """The parts of ``area`` not cut off from ``line`` by a barrier (water areas removed)."""
    index = barrier_index(net)
    if index is None or area.is_empty:
        return area
    near = np.unique(index.owner[index.tree.query(area, predicate="intersects")])
    if not len(near):
        return area
    cut = shapely.union_all(shapely.buffer(index.geoms[near], 0.05))
    parts = shapely.get_parts(shapely.difference(area, cut))
    keep = parts[shapely.dwithin(parts, line, 0.2)] if len(parts) else parts
    return shapely.union_all(keep) if len(keep) else shapely.Polygon()


def isochrone(net: Network, facility: Snap, limit: float, *, access: str = DEFAULT_ACCESS,
              join_radius: float = DEFAULT_JOIN_RADIUS, max_access: float = DEFAULT_MAX_ACCESS,
              quad_segs: int = 8) -> shapely.Geometry:
    """The area within ``limit`` metres of one snapped facility (see the module doc)."""
    if len(facility.segment) != 1:
        raise ValueError("isochrone() takes one snapped facility")
    if access not in ACCESS_RULES:
        raise ValueError(f"unknown access rule {access!r}")
    cap = max_access if access == "nearest" else join_radius
    d_node, _ = nearest_facility(net, facility)
    lines, tree = segment_tree(net)
    ok = joinable(net)
    fs = int(facility.segment[0])
    reach = ok & ((d_node[net.seg_a] < limit) | (d_node[net.seg_b] < limit)
                  | (np.arange(len(net.seg_a)) == fs))
    good: dict[int, shapely.Geometry] = {}
    for s in np.flatnonzero(reach):
        d_at, cuts = _distance_along(net, d_node, facility, int(s))
        strip = _strip(net, int(s), d_at, cuts, limit, cap, quad_segs)
        if strip is not None:
            good[int(s)] = _own_side(net, strip, lines[s])
    if not good:
        return shapely.Polygon()
    iso = shapely.union_all(np.array(list(good.values()), dtype=object))
    if access == "multi" or iso.is_empty:
        return iso
    # nearest rule: each strip only where its segment is the nearest road, and around every
    # joinable segment nearby, what is out of reach through it removed (see the module doc)
    near = np.array([s for s in tree.query(iso, predicate="dwithin", distance=cap) if ok[s]])
    regions = dict(zip(near.tolist(), _nearest_regions(net, near, iso, cap), strict=True))
    iso = shapely.union_all(np.array([g.intersection(regions[s]) for s, g in good.items()],
                                     dtype=object))
    grow = 1.0 / math.cos(math.pi / (4 * quad_segs)) + 1e-6  # the band must circumscribe
    bad: list[shapely.Geometry] = []
    for s, region in regions.items():
        band = shapely.buffer(lines[s], cap * grow + 0.01, quad_segs=quad_segs)
        out = band.difference(good[s]) if s in good else band
        out = out.intersection(shapely.buffer(region, SAMPLE_STEP))
        if not out.is_empty:
            bad.append(_own_side(net, out, lines[s]))
    if bad:
        iso = iso.difference(shapely.union_all(np.array(bad, dtype=object)))
    return shapely.make_valid(iso)


def _nearest_regions(net: Network, segs: np.ndarray, area: shapely.Geometry, cap: float,
                     step: float = SAMPLE_STEP) -> list[shapely.Geometry]:
    """For each segment, the places whose nearest of ``segs`` it is (up to ``step``).

    The Voronoi cells of points every ``step`` metres along the segments, merged per
    segment; a place in S's region is at most ``step / 2`` farther from S than from
    any other segment.
    """
    ax, ay, bx, by = net.x[net.seg_a[segs]], net.y[net.seg_a[segs]], net.x[net.seg_b[segs]], \
        net.y[net.seg_b[segs]]
    k = np.maximum(np.ceil(np.hypot(bx - ax, by - ay) / step).astype(np.int64), 1) + 1
    owner = np.repeat(np.arange(len(segs)), k)
    first = np.r_[0, np.cumsum(k)[:-1]]
    f = (np.arange(len(owner)) - first[owner]) / (k[owner] - 1)
    px, py = ax[owner] + f * (bx - ax)[owner], ay[owner] + f * (by - ay)[owner]
    # nodes shared by several segments give one point each (Voronoi needs distinct sites)
    xy = np.round(np.column_stack([px, py]), 3)
    _, keep = np.unique(xy, axis=0, return_index=True)
    keep = np.sort(keep)
    x0, y0, x1, y1 = area.bounds
    frame = shapely.box(x0 - 2 * cap, y0 - 2 * cap, x1 + 2 * cap, y1 + 2 * cap)
    cells = shapely.get_parts(shapely.voronoi_polygons(
        shapely.multipoints(xy[keep]), extend_to=frame, ordered=True))
    out = []
    for i in range(len(segs)):
        mine = cells[owner[keep] == i]
        if not len(mine):  # every point shared with other segments: its ends only
            out.append(shapely.union_all(shapely.buffer(shapely.points(xy[owner == i]), step)))
            continue
        out.append(shapely.union_all(mine))
    return out
