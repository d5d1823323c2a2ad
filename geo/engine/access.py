"""How a point reaches the roads: the access rule, barriers, and point-to-facility distances.

A point (a mesh-unit centre, a facility, a route end) is not on a road.  Its
network distance is the straight **access** walk to a road plus the shortest
path along the roads.  The rule that picks the road matters: a rule that lets a
point join any road nearby lets it "walk" straight across blocks, fields and
rivers, and every such shortcut makes distances shorter than they are.

* ``access="nearest"`` (the default): a point joins its **nearest road segment**
  (the perpendicular foot on it, or its end), on its own side of every barrier.
  Only roads a person may walk on are joined (never a motorway or a ``foot=no``
  road), and in a hazard scenario only open roads.  A point whose nearest road
  is farther than ``max_access`` (500 m) is flagged unreachable, with that
  distance reported.
* ``access="multi"``: a point may join **any** road within ``join_radius``
  (150 m) and the shortest total wins — a person who knows a better way out of
  their block takes it.  Still barrier-aware; points with no road that close
  join their nearest road as above.  Choose it only where blocks are open
  (parks, squares, farmland paths missing from the map): it can only shorten
  distances.

A **barrier** is any line or area of the network's barriers
(:mod:`layers.barriers`: rivers, water areas, railways, motorways, a user's
``[layers.barriers]``): an access walk that crosses one is not allowed.  A
point inside a water area (a mesh centre on a lake) may leave that area.

Everything that snaps uses :func:`joins`: :func:`snap` (facilities, route ends),
:func:`distances_from_points` (coverage, shelters, 広域連携, consolidation,
batch), :func:`pairs_within` (siting coverage sets, 2SFCA), :func:`point_od` (VC
plans) and :func:`geo.engine.isochrone.isochrone`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from geo.engine.network import (
    AT_END,
    Network,
    Snap,
    _entry_nodes,
    barrier_index,
    catchments,
    kept_per_network,
    nearest_query,
    within_query,
)
from geo.engine.profiles import ACCESS_RULES, DEFAULT_ACCESS, DEFAULT_JOIN_RADIUS, DEFAULT_MAX_ACCESS

__all__ = [
    "Joins",
    "crossing",
    "distances_from_points",
    "joins",
    "pairs_within",
    "point_distances",
    "point_od",
    "snap",
]

TOUCH = 1e-6
"""Metres within which an access walk's end only touches a barrier."""


@dataclass(frozen=True)
class Joins:
    """Where points join the roads: one row per (point, road segment) join.

    ``point``, ``segment``, ``offset`` (metres from the segment's ``a`` end, in
    network length), ``access`` (straight metres from the point to the road), and
    per point ``nearest`` — the straight distance to the nearest road of any kind
    (``inf`` without roads), reported for points that join none.
    """

    point: np.ndarray
    segment: np.ndarray
    offset: np.ndarray
    access: np.ndarray
    nearest: np.ndarray


def joinable(net: Network) -> np.ndarray:
    """Segments a person may join: walkable and open in this network."""
    ok = net.seg_fwd | net.seg_bwd
    return ok & net.seg_join if net.seg_join is not None else ok


def _feet(net: Network, px: np.ndarray, py: np.ndarray, seg: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Offset along (network metres), straight access and foot coordinates on ``seg``."""
    ax, ay = net.x[net.seg_a[seg]], net.y[net.seg_a[seg]]
    dx, dy = net.x[net.seg_b[seg]] - ax, net.y[net.seg_b[seg]] - ay
    len2 = dx * dx + dy * dy
    frac = np.clip(((px - ax) * dx + (py - ay) * dy) / np.where(len2 > 0, len2, 1), 0, 1)
    fx, fy = ax + frac * dx, ay + frac * dy
    return frac * net.seg_len[seg], np.hypot(px - fx, py - fy), fx, fy


def crossing(net: Network, px: np.ndarray, py: np.ndarray, qx: np.ndarray, qy: np.ndarray
             ) -> np.ndarray:
    """Whether each straight walk P→Q crosses a barrier of ``net`` (one bulk query).

    Touching a barrier only at P or at Q is not crossing (a road along a river bank
    is joined from the bank); an area that contains P does not block (P leaves it).
    """
    out = np.zeros(len(px), bool)
    index = barrier_index(net)
    if index is None or not len(px):
        return out
    links = shapely.linestrings(np.stack([np.column_stack([px, py]), np.column_stack([qx, qy])],
                                         axis=1))
    li, bi = index.tree.query(links, predicate="intersects")
    if not len(li):
        return out
    piece = index.pieces[bi]
    at_end = (shapely.distance(shapely.points(px[li], py[li]), piece) <= TOUCH) | \
        (shapely.distance(shapely.points(qx[li], qy[li]), piece) <= TOUCH)
    owner = index.owner[bi]
    inside = index.area[owner] & shapely.contains_xy(index.geoms[owner], px[li], py[li])
    out[li[~at_end & ~inside]] = True
    return out


def _first_per_point(p: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Positions of the smallest ``cost`` row of each distinct ``p``."""
    order = np.lexsort((cost, p))
    first = np.r_[True, p[order][1:] != p[order][:-1]] if len(order) else np.zeros(0, bool)
    return order[first]


def joins(net: Network, x: np.ndarray, y: np.ndarray, *, access: str = DEFAULT_ACCESS,
          join_radius: float = DEFAULT_JOIN_RADIUS, max_access: float = DEFAULT_MAX_ACCESS) -> Joins:
    """Where each metric point joins the roads under the access rule (see module doc).

    Remembered per network for the same points and rule (:func:`geo.engine.network.kept_per_network`)."""
    if access not in ACCESS_RULES:
        raise ValueError(f"unknown access rule {access!r}; one of {ACCESS_RULES}")
    px, py = np.ascontiguousarray(x, float), np.ascontiguousarray(y, float)
    digest = hashlib.blake2b(px.tobytes(), digest_size=16)
    digest.update(py.tobytes())
    key = (access, float(join_radius), float(max_access), len(px), digest.digest())
    return kept_per_network(  # type: ignore[no-any-return]
        net, "joins", key,
        lambda: _joins(net, px, py, access=access, join_radius=join_radius, max_access=max_access),
        arrays=lambda j: (j.point, j.segment, j.offset, j.access, j.nearest))


def _joins(net: Network, px: np.ndarray, py: np.ndarray, *, access: str, join_radius: float,
           max_access: float) -> Joins:
    n = len(px)
    ok_seg = joinable(net)
    pi, si, d = nearest_query(net, px, py)
    nearest = np.full(n, np.inf)
    nearest[pi] = d
    t, acc, qx, qy = _feet(net, px[pi], py[pi], si)
    good = ok_seg[si] & (acc <= max_access)
    good[good] = ~crossing(net, px[pi][good], py[pi][good], qx[good], qy[good])
    rows = [(pi[good], si[good], t[good], acc[good])]
    # nearest road not joinable (closed, motorway, across a barrier): the nearest that is
    rest = np.setdiff1d(pi[~good & (d <= max_access)], pi[good])
    if len(rest):
        ci, cs = within_query(net, px[rest], py[rest], max_access)
        cp = rest[ci]
        t2, acc2, qx2, qy2 = _feet(net, px[cp], py[cp], cs)
        ok2 = ok_seg[cs] & (acc2 <= max_access)
        ok2[ok2] = ~crossing(net, px[cp][ok2], py[cp][ok2], qx2[ok2], qy2[ok2])
        sel = np.flatnonzero(ok2)[_first_per_point(cp[ok2], acc2[ok2])]
        rows.append((cp[sel], cs[sel], t2[sel], acc2[sel]))
    p, s, tt, aa = (np.concatenate(c) for c in zip(*rows, strict=True))
    if access == "multi":
        mi, ms = within_query(net, px, py, join_radius)
        tm, am, qxm, qym = _feet(net, px[mi], py[mi], ms)
        okm = ok_seg[ms] & (am <= join_radius)
        okm[okm] = ~crossing(net, px[mi][okm], py[mi][okm], qxm[okm], qym[okm])
        alone = ~np.isin(p, mi[okm])  # no road within the radius: the nearest one
        p, s, tt, aa = (np.r_[p[alone], mi[okm]], np.r_[s[alone], ms[okm]],
                        np.r_[tt[alone], tm[okm]], np.r_[aa[alone], am[okm]])
    return Joins(point=p.astype(np.int64), segment=s.astype(np.int64), offset=tt, access=aa,
                 nearest=nearest)


def snap(net: Network, x: np.ndarray, y: np.ndarray, *,
         max_access: float = DEFAULT_MAX_ACCESS) -> Snap:
    """Snap metric points to their nearest joinable road segment (the ``nearest`` rule).

    Points that join no road are ``flagged``; their ``access`` is the distance to
    the nearest road of any kind (``inf`` without roads).
    """
    j = joins(net, x, y, max_access=max_access)
    n = len(j.nearest)
    seg = np.full(n, -1, np.int64)
    offset = np.zeros(n)
    acc = j.nearest.copy()
    seg[j.point], offset[j.point], acc[j.point] = j.segment, j.offset, j.access
    return Snap(segment=seg, offset=offset, access=acc, flagged=seg < 0)


def _via_nodes(net: Network, seg: np.ndarray, t: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ends reachable from a position on a segment and the metres to them: (a, to_a, b, to_b),
    ``inf`` where the one-way direction forbids it (a position at an end is at that node)."""
    length = net.seg_len[seg]
    to_a = np.where(net.seg_bwd[seg] | (t <= AT_END), t, np.inf)
    to_b = np.where(net.seg_fwd[seg] | (length - t <= AT_END), length - t, np.inf)
    return net.seg_a[seg], to_a, net.seg_b[seg], to_b


def _same_segment(net: Network, seg: np.ndarray, t: np.ndarray, facilities: Snap
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Joins that reach a facility on their own segment directly along it:
    (row, facility index, metres along + facility access)."""
    ok = np.flatnonzero(~facilities.flagged)
    if not len(ok) or not len(seg):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    left = pd.DataFrame({"row": np.arange(len(seg)), "seg": seg})
    right = pd.DataFrame({"f": ok, "seg": facilities.segment[ok]})
    m = left.merge(right, on="seg")
    if m.empty:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    r, f = m["row"].to_numpy(np.int64), m["f"].to_numpy(np.int64)
    tp, tf = t[r], facilities.offset[f]
    s = seg[r]
    allowed = np.where(tf >= tp, net.seg_fwd[s], net.seg_bwd[s]) | (np.abs(tf - tp) <= AT_END)
    return r[allowed], f[allowed], (np.abs(tf - tp) + facilities.access[f])[allowed]


def _nearest_of_joins(net: Network, j: Joins, node_dist: np.ndarray, node_fac: np.ndarray,
                      facilities: Snap) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per point: metres to the nearest facility, its index, and the access walk used."""
    n = len(j.nearest)
    a, to_a, b, to_b = _via_nodes(net, j.segment, j.offset)
    via_a, via_b = to_a + node_dist[a], to_b + node_dist[b]
    cost = np.minimum(via_a, via_b) + j.access
    ident = np.where(via_a <= via_b, node_fac[a], node_fac[b])
    r, f, c = _same_segment(net, j.segment, j.offset, facilities)
    rows = np.r_[np.arange(len(j.point)), r]
    cost, ident = np.r_[cost, c + j.access[r]], np.r_[ident, f]
    sel = _first_per_point(j.point[rows], cost)
    best = np.full(n, np.inf)
    which = np.full(n, -1, np.int64)
    used = j.nearest.copy()
    p = j.point[rows[sel]]
    best[p], which[p], used[p] = cost[sel], ident[sel], j.access[rows[sel]]
    which = np.where(np.isfinite(best), which, -1)
    return best, which, used


def point_distances(net: Network, points: Snap, node_dist: np.ndarray, node_fac: np.ndarray,
                    facilities: Snap) -> tuple[np.ndarray, np.ndarray]:
    """Network distance from each snapped point to its nearest facility (+ identity).

    Both access distances are included; a facility on the point's own segment is
    reached directly along it.  Flagged points get ``inf`` and ``-1``.
    """
    ok = np.flatnonzero(~points.flagged)
    j = Joins(point=ok, segment=points.segment[ok], offset=points.offset[ok],
              access=points.access[ok], nearest=points.access.copy())
    best, which, _used = _nearest_of_joins(net, j, node_dist, node_fac, facilities)
    return best, which


def distances_from_points(
    net: Network, x: np.ndarray, y: np.ndarray, node_dist: np.ndarray, node_fac: np.ndarray,
    facilities: Snap, *, max_access: float = DEFAULT_MAX_ACCESS, access: str = DEFAULT_ACCESS,
    join_radius: float = DEFAULT_JOIN_RADIUS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Network distance from metric points to their nearest facility under the access rule.

    ``node_dist``/``node_fac`` come from :func:`geo.engine.network.nearest_facility` for
    ``facilities``.  Returns (metres, facility index, access metres): unreachable
    points get ``inf`` and ``-1``, and the distance to their nearest road.
    """
    j = joins(net, x, y, access=access, join_radius=join_radius, max_access=max_access)
    return _nearest_of_joins(net, j, node_dist, node_fac, facilities)


def pairs_within(net: Network, x: np.ndarray, y: np.ndarray, facilities: Snap, limit: float, *,
                 max_access: float = DEFAULT_MAX_ACCESS, access: str = DEFAULT_ACCESS,
                 join_radius: float = DEFAULT_JOIN_RADIUS
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (point, facility) pair within ``limit`` metres along the roads.

    Bounded searches from the facilities (:func:`geo.engine.network.catchments`,
    compiled) joined to the points' road joins by node — one merge and one
    group-by, no dense matrix; a facility on a point's own segment is reached along
    it.  Returns flat arrays (point index, facility index, metres).
    """
    nodes, fcost, which = _entry_nodes(net, facilities)
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if not len(nodes):
        return empty
    src, node, d = catchments(net, nodes, limit)
    fac_side = pd.DataFrame({"f": which[src], "node": node, "d": d + fcost[src]})
    j = joins(net, x, y, access=access, join_radius=join_radius, max_access=max_access)
    a, to_a, b, to_b = _via_nodes(net, j.segment, j.offset)
    ka, kb = np.isfinite(to_a), np.isfinite(to_b)
    pt_side = pd.DataFrame({
        "p": np.r_[j.point[ka], j.point[kb]],
        "node": np.r_[a[ka], b[kb]],
        "c": np.r_[(to_a + j.access)[ka], (to_b + j.access)[kb]]})
    joined = pt_side.merge(fac_side, on="node")
    r, f, c = _same_segment(net, j.segment, j.offset, facilities)
    parts = pd.concat([
        pd.DataFrame({"p": joined["p"], "f": joined["f"], "t": joined["c"] + joined["d"]}),
        pd.DataFrame({"p": j.point[r], "f": f, "t": c + j.access[r]})], ignore_index=True)
    if parts.empty:
        return empty
    best = parts.groupby(["p", "f"], sort=True)["t"].min().reset_index()
    best = best[best["t"] <= limit]
    return (best["p"].to_numpy(np.int64), best["f"].to_numpy(np.int64),
            best["t"].to_numpy(float))


def point_od(net: Network, origins: np.ndarray, destinations: np.ndarray, *,
             max_access: float = DEFAULT_MAX_ACCESS, access: str = DEFAULT_ACCESS,
             join_radius: float = DEFAULT_JOIN_RADIUS) -> np.ndarray:
    """Road distance (m) from each origin point to each destination point, shape (O, D).

    Metric coordinates, shape (k, 2) each.  One search per destination on the
    reversed graph (so one-way streets are travelled the right way), compiled and
    stopped once every origin's road ends are settled
    (:func:`geo.engine.shortest_paths.to_targets`), with the access rule of
    :func:`distances_from_points` and a destination on an origin's own segment
    reached along it; ``inf`` when there is no road connection.  Meant for tens to
    hundreds of points (a VC plan, a day of volunteer visits).
    """
    from geo.engine.network import reverse_csr
    from geo.engine.shortest_paths import to_targets

    o = np.atleast_2d(np.asarray(origins, float)).reshape(-1, 2)
    d = np.atleast_2d(np.asarray(destinations, float)).reshape(-1, 2)
    out = np.full((len(o), len(d)), np.inf)
    if not len(o) or not len(d):
        return out
    dsnap = snap(net, d[:, 0], d[:, 1], max_access=max_access)
    nodes, costs, which = _entry_nodes(net, dsnap)
    order = np.argsort(which, kind="stable")
    starts = np.searchsorted(which[order], np.arange(len(d) + 1))
    j = joins(net, o[:, 0], o[:, 1], access=access, join_radius=join_radius, max_access=max_access)
    a, to_a, b, to_b = _via_nodes(net, j.segment, j.offset)
    targets, pos = np.unique(np.r_[a, b], return_inverse=True)
    rev = reverse_csr(net)
    node_to_dest = to_targets(*rev, starts, nodes[order], costs[order], targets)  # (D, T)
    k = len(a)
    cost = np.minimum(to_a[:, None] + node_to_dest[:, pos[:k]].T,
                      to_b[:, None] + node_to_dest[:, pos[k:]].T) + j.access[:, None]
    r, f, c = _same_segment(net, j.segment, j.offset, dsnap)
    np.minimum.at(cost, (r, f), c + j.access[r])
    np.minimum.at(out, j.point, cost)
    return out
