"""Road-network engine: compact CSR arrays searched with compiled code.

A road graph from :mod:`layers.roads` becomes a :class:`Network`: node
coordinates in the metric analysis CRS and a directed adjacency in CSR form
(lengths in metres).  It is cached on disk keyed by the source file's hash, the
network type and the CRS, so a large graph reloads in well under a second.

Searches never loop over nodes in Python:

* :func:`nearest_facility` — distance to, and identity of, the nearest facility
  for every node (``scipy.sparse.csgraph.dijkstra`` with ``min_only=True`` from
  one virtual node per facility);
* :func:`catchments` — the nodes within a distance of each facility (a
  numba-compiled bounded Dijkstra that touches only what it reaches);
* :func:`od_matrix` — origin–destination distances.

Points (mesh-cell centroids, facilities) are snapped to the nearest road
segment (:func:`snap`); the straight access distance is added and reported per
point, and points farther than ``max_access`` are flagged, not silently snapped.
Distances are walked *to* facilities: on directed (drive) graphs the search runs
on the reversed graph.
"""

from __future__ import annotations

import hashlib
import logging
import os
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from layers.atomic import atomic_path
from layers.crs import STORAGE_CRS, ensure_metric, transform_xy
from layers.roads import load_roads

__all__ = [
    "SPEEDS_M_PER_MIN",
    "Network",
    "Snap",
    "catchments",
    "from_graph",
    "load_network",
    "nearest_facility",
    "od_matrix",
    "pairs_within",
    "point_distances",
    "point_od",
    "region_network",
    "segment_lines",
    "snap",
]

log = logging.getLogger(__name__)

CACHE_VERSION = 3
SPEEDS_M_PER_MIN = {"walk": 80.0, "elderly": 50.0}
"""Walking speeds (m/min): 80 (4.8 km/h, the usual planning speed) and 50 for
elderly people (3 km/h)."""
DRIVE_KMH = {"motorway": 80, "trunk": 50, "primary": 40, "secondary": 40, "tertiary": 30,
             "residential": 20, "unclassified": 20, "track": 10}
"""Drive speeds (km/h) by road class, for travel times of drive graphs."""


@dataclass(frozen=True, eq=False)
class Network:
    """A road graph as arrays (metric CRS, lengths in metres).

    ``indptr``/``indices``/``weights`` are the CSR adjacency (row = from node);
    ``seg_a``/``seg_b``/``seg_len``/``seg_fwd``/``seg_bwd`` are the undirected
    road segments used for snapping (``fwd`` when a→b may be travelled).
    """

    node_ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    seg_a: np.ndarray
    seg_b: np.ndarray
    seg_len: np.ndarray
    seg_fwd: np.ndarray
    seg_bwd: np.ndarray
    crs: str
    directed: bool
    seconds: np.ndarray | None = None
    """Drive travel time (s) per CSR entry, from :data:`DRIVE_KMH` by road class."""
    name_idx: np.ndarray | None = None
    """Road name of each CSR entry as an index into ``names`` (-1: no name)."""
    names: np.ndarray | None = None
    """The distinct road names (``str`` array)."""

    @property
    def n(self) -> int:
        return len(self.node_ids)

    def matrix(self, *, reverse: bool = False) -> csr_array:
        m = csr_array((self.weights, self.indices, self.indptr), shape=(self.n, self.n))
        return csr_array(m.T) if reverse else m


def from_graph(graph: nx.MultiDiGraph, *, crs: str) -> Network:
    """Convert an osmnx-style graph (EPSG:4326) into a :class:`Network` in ``crs``."""
    ensure_metric(crs)
    ids = np.fromiter(graph.nodes, dtype=np.int64, count=graph.number_of_nodes())
    lon = np.fromiter((graph.nodes[n]["x"] for n in ids), float, count=len(ids))
    lat = np.fromiter((graph.nodes[n]["y"] for n in ids), float, count=len(ids))
    x, y = transform_xy(lon, lat, STORAGE_CRS, crs)
    order = np.argsort(ids)
    ids, x, y = ids[order], x[order], y[order]
    m = graph.number_of_edges()
    u = np.empty(m, np.int64)
    v = np.empty(m, np.int64)
    w = np.empty(m, float)
    kmh = np.empty(m, float)
    name_of: dict[str, int] = {}
    nidx = np.full(m, -1, np.int64)
    for i, (a, b, d) in enumerate(graph.edges(data=True)):
        u[i], v[i], w[i] = a, b, d["length"]
        hw = d.get("highway")
        hw = hw[0] if isinstance(hw, list) and hw else hw
        kmh[i] = DRIVE_KMH.get(str(hw).replace("_link", ""), 20)
        name = d.get("name")
        name = name[0] if isinstance(name, list) and name else name
        if isinstance(name, str) and name.strip():
            nidx[i] = name_of.setdefault(name.strip(), len(name_of))
    ui = np.searchsorted(ids, u)
    vi = np.searchsorted(ids, v)
    names = np.array(list(name_of), dtype=str) if name_of else np.zeros(0, dtype="<U1")
    return _from_arrays(ids, x, y, ui, vi, w, crs=crs,
                        directed=graph.graph.get("network") != "walk", seconds=w / (kmh / 3.6),
                        name_idx=nidx, names=names)


def _from_arrays(ids: np.ndarray, x: np.ndarray, y: np.ndarray, ui: np.ndarray, vi: np.ndarray,
                 w: np.ndarray, *, crs: str, directed: bool,
                 seconds: np.ndarray | None = None, name_idx: np.ndarray | None = None,
                 names: np.ndarray | None = None) -> Network:
    sec = np.asarray(seconds, float) if seconds is not None else w / (SPEEDS_M_PER_MIN["walk"] / 60)
    nid = np.asarray(name_idx, np.int64) if name_idx is not None else np.full(len(w), -1, np.int64)
    keep = ui != vi  # self-loops never shorten a path
    ui, vi, w, sec, nid = ui[keep], vi[keep], w[keep], sec[keep], nid[keep]
    # parallel edges: keep the shortest per direction
    key = ui * len(ids) + vi
    order = np.lexsort((w, key))
    key, ui, vi, w, sec, nid = key[order], ui[order], vi[order], w[order], sec[order], nid[order]
    first = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, bool)
    ui, vi, w, sec, nid = ui[first], vi[first], w[first], sec[first], nid[first]
    counts = np.bincount(ui, minlength=len(ids))
    indptr = np.r_[0, np.cumsum(counts)].astype(np.int64)
    # segments: undirected pairs with travel directions
    a, b = np.minimum(ui, vi), np.maximum(ui, vi)
    pair = a * len(ids) + b
    uniq, inv = np.unique(pair, return_inverse=True)
    seg_len = np.full(len(uniq), np.inf)
    np.minimum.at(seg_len, inv, w)
    fwd = np.zeros(len(uniq), bool)
    bwd = np.zeros(len(uniq), bool)
    fwd[inv[ui < vi]] = True
    bwd[inv[ui > vi]] = True
    return Network(
        node_ids=ids, x=np.asarray(x, float), y=np.asarray(y, float), indptr=indptr,
        indices=vi.astype(np.int64), weights=w.astype(float),
        seg_a=(uniq // len(ids)).astype(np.int64), seg_b=(uniq % len(ids)).astype(np.int64),
        seg_len=seg_len, seg_fwd=fwd, seg_bwd=bwd, crs=crs, directed=directed,
        seconds=sec.astype(float), name_idx=nid,
        names=np.asarray(names, dtype=str) if names is not None else np.zeros(0, dtype="<U1"),
    )


# ------------------------------------------------------------------ cache


def _cache_dir() -> Path:
    base = os.environ.get("TOMONI_CACHE_DIR")
    if base:
        return Path(base)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tomoni"


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:24]


def load_network(path: Path, *, network: str = "walk", crs: str,
                 cache_dir: Path | None = None) -> Network:
    """Load a road file as a :class:`Network`, through the on-disk cache.

    The cache key is the file's SHA-256, the network type, the CRS and the
    cache format version; a changed file is rebuilt, never served stale.
    """
    key = f"{_file_hash(path)}-{network}-{crs.replace(':', '')}-v{CACHE_VERSION}"
    folder = cache_dir or _cache_dir()
    cached = folder / f"network-{key}.npz"
    if cached.exists():
        try:
            return _read_npz(cached)
        except (OSError, ValueError, KeyError):
            log.warning("network cache unreadable, rebuilding: %s", cached.name)
    net = from_graph(load_roads(path, network=network), crs=crs)
    folder.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = {**_arrays(net), "meta": np.array([net.crs, str(int(net.directed))])}
    with atomic_path(cached) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)
    return net


def region_network(region: Any) -> Network | None:
    """The (cached) network of a loaded :class:`layers.region.Region`, or None without roads."""
    roads = region.config.roads
    if roads is None:
        return None
    return load_network(roads.path, network=roads.network, crs=region.crs)


def _arrays(net: Network) -> dict[str, np.ndarray]:
    return {k: getattr(net, k) for k in ("node_ids", "x", "y", "indptr", "indices", "weights",
                                         "seg_a", "seg_b", "seg_len", "seg_fwd", "seg_bwd",
                                         "seconds", "name_idx", "names")}


def _read_npz(path: Path) -> Network:
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k != "meta"}
        crs, directed = (str(v) for v in z["meta"])
    return Network(**arrays, crs=crs, directed=directed == "1")


# ------------------------------------------------------------------ snapping


@dataclass(frozen=True)
class Snap:
    """Points snapped to road segments.

    ``segment`` index, ``offset`` (metres from the segment's ``a`` end, scaled to
    the road length), ``access`` (straight distance from the point to the road)
    and ``flagged`` (access beyond the threshold: the point is reported, and
    treated as unreachable).
    """

    segment: np.ndarray
    offset: np.ndarray
    access: np.ndarray
    flagged: np.ndarray


def snap(net: Network, x: np.ndarray, y: np.ndarray, *, max_access: float = 500.0) -> Snap:
    """Snap metric points to their nearest road segment (one bulk STRtree query)."""
    lines, tree = _segment_tree(net)
    pts = shapely.points(np.asarray(x, float), np.asarray(y, float))
    pi, si, dist = _nearest_query(tree, np.asarray(x, float), np.asarray(y, float))
    seg = np.full(len(pts), -1, np.int64)
    acc = np.full(len(pts), np.inf)
    seg[pi], acc[pi] = si, dist
    frac = np.zeros(len(pts))
    ok = seg >= 0
    geom_len = shapely.length(lines[seg[ok]])
    along = shapely.line_locate_point(lines[seg[ok]], pts[ok])
    frac[ok] = np.where(geom_len > 0, along / np.where(geom_len > 0, geom_len, 1), 0.0)
    offset = np.zeros(len(pts))
    offset[ok] = frac[ok] * net.seg_len[seg[ok]]
    return Snap(segment=seg, offset=offset, access=acc, flagged=~ok | (acc > max_access))


# ------------------------------------------------------------------ searches


def _reverse_csr(net: Network) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR arrays of the reversed graph (a walk graph is its own reverse)."""
    if not net.directed:
        return net.indptr, net.indices, net.weights
    rows = np.repeat(np.arange(net.n), np.diff(net.indptr))
    order = np.argsort(net.indices, kind="stable")
    counts = np.bincount(net.indices, minlength=net.n)
    indptr = np.r_[0, np.cumsum(counts)].astype(np.int64)
    return indptr, rows[order].astype(np.int64), net.weights[order]


def _augmented(net: Network, fac: Snap) -> tuple[csr_array, np.ndarray]:
    """The reversed graph plus one virtual node per facility (rows appended to the
    CSR arrays, no conversion), linked to the ends of its segment from which the
    facility can be reached."""
    r_indptr, r_indices, r_weights = _reverse_csr(net)
    n, f = net.n, len(fac.segment)
    idx = np.flatnonzero(~fac.flagged)
    # reach the facility from a by travelling a→b (fwd), from b via b→a (bwd)
    cols, costs, rows = _entry_nodes(net, fac)
    vals = np.maximum(costs, 1e-9)
    order = np.argsort(rows, kind="stable")
    counts = np.bincount(rows, minlength=f)
    indptr = np.r_[r_indptr, r_indptr[-1] + np.cumsum(counts)].astype(np.int64)
    m = csr_array((np.r_[r_weights, vals[order]], np.r_[r_indices, cols[order]], indptr),
                  shape=(n + f, n + f))
    return m, n + idx


def nearest_facility(net: Network, facilities: Snap) -> tuple[np.ndarray, np.ndarray]:
    """Distance (m) from every node to its nearest facility, and that facility's index.

    One ``scipy.sparse.csgraph.dijkstra`` with ``min_only=True`` from a virtual
    node per facility on the reversed graph (a numba binary-heap version was
    measured slower at 1M nodes: 0.56 s vs 0.46 s).  Unreachable nodes get
    ``inf`` and facility ``-1``.
    """
    m, sources = _augmented(net, facilities)
    if len(sources) == 0:
        return np.full(net.n, np.inf), np.full(net.n, -1)
    dist, _, src = dijkstra(m, directed=True, indices=sources, min_only=True,
                            return_predecessors=True)
    fac = np.where(np.isfinite(dist), src - net.n, -1)
    return dist[: net.n], fac[: net.n]


def point_distances(
    net: Network, points: Snap, node_dist: np.ndarray, node_fac: np.ndarray,
    facilities: Snap,
) -> tuple[np.ndarray, np.ndarray]:
    """Network distance from each snapped point to its nearest facility (+ identity).

    Both access distances are included; a facility on the point's own segment is
    reached directly along it.  Flagged points get ``inf`` and ``-1``.
    """
    seg = np.where(points.segment >= 0, points.segment, 0)
    a, b = net.seg_a[seg], net.seg_b[seg]
    t, length = points.offset, net.seg_len[seg]
    via_a = np.where(net.seg_bwd[seg], t + node_dist[a], np.inf)
    via_b = np.where(net.seg_fwd[seg], length - t + node_dist[b], np.inf)
    best = np.minimum(via_a, via_b) + points.access
    ident = np.where(via_a <= via_b, node_fac[a], node_fac[b])
    # a facility on the same segment
    ok = ~facilities.flagged
    if ok.any():
        f_idx = np.flatnonzero(ok)
        order = np.argsort(facilities.segment[f_idx])
        f_seg = facilities.segment[f_idx][order]
        f_idx = f_idx[order]
        lo = np.searchsorted(f_seg, points.segment, "left")
        hi = np.searchsorted(f_seg, points.segment, "right")
        for i in np.flatnonzero(hi > lo):  # only points sharing a segment with a facility
            for j in f_idx[lo[i]:hi[i]]:
                tf = facilities.offset[j]
                allowed = net.seg_fwd[seg[i]] if tf >= t[i] else net.seg_bwd[seg[i]]
                if allowed:
                    d = abs(tf - t[i]) + points.access[i] + facilities.access[j]
                    if d < best[i]:
                        best[i], ident[i] = d, j
    best = np.where(points.flagged, np.inf, best)
    ident = np.where(np.isfinite(best), ident, -1)
    return best, ident


def od_matrix(net: Network, origins: np.ndarray, destinations: np.ndarray, *,
              weight: str = "length") -> np.ndarray:
    """Origin–destination matrix between node indices, shape (origins, destinations).

    ``weight="length"`` gives metres; ``"drive_time"`` seconds at the road-class
    speeds of :data:`DRIVE_KMH`; ``"walk_time"``/``"elderly_time"`` seconds at
    :data:`SPEEDS_M_PER_MIN`.
    """
    if weight == "drive_time":
        if net.seconds is None:
            raise ValueError("this network has no drive times")
        m = csr_array((net.seconds, net.indices, net.indptr), shape=(net.n, net.n))
    else:
        m = net.matrix()
    d = np.atleast_2d(dijkstra(m, directed=True, indices=np.asarray(origins, np.int64)))
    d = d[:, np.asarray(destinations, np.int64)]
    if weight in ("walk_time", "elderly_time"):
        d = d / (SPEEDS_M_PER_MIN[weight.split("_")[0]] / 60)
    elif weight not in ("length", "drive_time"):
        raise ValueError(f"unknown weight {weight!r}")
    return d


def catchments(net: Network, sources: np.ndarray, limit: float
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes within ``limit`` metres of each source node (travelling *from* nodes to it).

    Returns flat arrays (source position, node index, distance).  Compiled with
    numba: each search touches only the nodes it reaches.
    """
    rev = net.matrix(reverse=True)
    return _bounded(rev.indptr.astype(np.int64), rev.indices.astype(np.int64),
                    rev.data.astype(np.float64), np.asarray(sources, np.int64), float(limit))


def _entry_nodes(net: Network, facilities: Snap) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The segment ends from which each usable facility is reached: (node, cost to the
    facility along its segment + access, facility index), one row per allowed end."""
    idx = np.flatnonzero(~facilities.flagged)
    seg = facilities.segment[idx]
    fa, fb = net.seg_fwd[seg], net.seg_bwd[seg]
    nodes = np.concatenate([net.seg_a[seg][fa], net.seg_b[seg][fb]]).astype(np.int64)
    costs = np.concatenate([(facilities.offset[idx] + facilities.access[idx])[fa],
                            (net.seg_len[seg] - facilities.offset[idx] + facilities.access[idx])[fb]])
    return nodes, costs.astype(np.float64), np.concatenate([idx[fa], idx[fb]]).astype(np.int64)


def pairs_within(net: Network, x: np.ndarray, y: np.ndarray, facilities: Snap, limit: float, *,
                 max_access: float = 500.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (point, facility) pair within ``limit`` metres along the roads.

    Bounded searches from the facilities (:func:`catchments`, compiled) joined to
    the points' nearest road segment by node — one merge and one group-by, no
    dense matrix.  Returns flat arrays (point index, facility index, metres).
    Points farther than ``max_access`` from any road have no pair.
    """
    nodes, fcost, which = _entry_nodes(net, facilities)
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if not len(nodes):
        return empty
    src, node, d = catchments(net, nodes, limit)
    fac_side = pd.DataFrame({"f": which[src], "node": node, "d": d + fcost[src]})
    pts = snap(net, x, y, max_access=max_access)
    ok = np.flatnonzero(~pts.flagged)
    ps = pts.segment[ok]
    pa = net.seg_bwd[ps]  # leave the point towards a (travelling b→a)
    pb = net.seg_fwd[ps]
    pt_side = pd.DataFrame({
        "p": np.concatenate([ok[pa], ok[pb]]),
        "node": np.concatenate([net.seg_a[ps][pa], net.seg_b[ps][pb]]),
        "c": np.concatenate([(pts.offset[ok] + pts.access[ok])[pa],
                             (net.seg_len[ps] - pts.offset[ok] + pts.access[ok])[pb]])})
    joined = pt_side.merge(fac_side, on="node")
    if joined.empty:
        return empty
    joined["t"] = joined["c"] + joined["d"]
    best = joined.groupby(["p", "f"], sort=True)["t"].min().reset_index()
    best = best[best["t"] <= limit]
    return (best["p"].to_numpy(np.int64), best["f"].to_numpy(np.int64),
            best["t"].to_numpy(float))


def _bounded(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, sources: np.ndarray,
             limit: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _compiled()(indptr, indices, weights, sources, limit)  # type: ignore[no-any-return]


_KERNEL: Any = None


def _compiled() -> Any:
    global _KERNEL
    if _KERNEL is None:
        import heapq

        import numba

        @numba.njit(cache=True)
        def kernel(indptr, indices, weights, sources, limit):  # type: ignore[no-untyped-def]
            n = len(indptr) - 1
            dist = np.full(n, np.inf)
            out_s = []
            out_n = []
            out_d = []
            touched = np.empty(n, np.int64)
            for s_pos in range(len(sources)):
                s = sources[s_pos]
                nt = 0
                heap = [(0.0, s)]
                dist[s] = 0.0
                touched[nt] = s
                nt += 1
                while len(heap) > 0:
                    d, u = heapq.heappop(heap)
                    if d > dist[u]:
                        continue
                    out_s.append(s_pos)
                    out_n.append(u)
                    out_d.append(d)
                    for k in range(indptr[u], indptr[u + 1]):
                        v = indices[k]
                        nd = d + weights[k]
                        if nd <= limit and nd < dist[v]:
                            if dist[v] == np.inf:
                                touched[nt] = v
                                nt += 1
                            dist[v] = nd
                            heapq.heappush(heap, (nd, v))
                for i in range(nt):
                    dist[touched[i]] = np.inf
            return np.array(out_s), np.array(out_n), np.array(out_d)

        _KERNEL = kernel
    return _KERNEL


def k_nearest(net: Network, facilities: Snap, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest facilities of every node: distances and indices, shape (n, k).

    A compiled label-setting search from all facilities at once in which every
    node keeps up to ``k`` labels from distinct facilities.  Missing entries are
    ``inf`` / ``-1``.
    """
    nodes, costs, which = _entry_nodes(net, facilities)
    indptr, indices, weights = _reverse_csr(net)
    return _knearest_kernel()(indptr.astype(np.int64), indices.astype(np.int64),
                              weights.astype(np.float64), nodes, costs.astype(np.float64), which,
                              int(k))  # type: ignore[no-any-return]


_KNN: Any = None


def _knearest_kernel() -> Any:
    global _KNN
    if _KNN is None:
        import heapq

        import numba

        @numba.njit(cache=True)
        def kernel(indptr, indices, weights, nodes, costs, which, k):  # type: ignore[no-untyped-def]
            n = len(indptr) - 1
            dist = np.full((n, k), np.inf)
            fac = np.full((n, k), -1, np.int64)
            count = np.zeros(n, np.int64)
            heap = [(0.0, np.int64(0), np.int64(0))]
            heap.pop()
            for i in range(len(nodes)):
                heapq.heappush(heap, (costs[i], nodes[i], which[i]))
            while len(heap) > 0:
                d, u, f = heapq.heappop(heap)
                if count[u] >= k:
                    continue
                seen = False
                for j in range(count[u]):
                    if fac[u, j] == f:
                        seen = True
                        break
                if seen:
                    continue
                dist[u, count[u]] = d
                fac[u, count[u]] = f
                count[u] += 1
                for e in range(indptr[u], indptr[u + 1]):
                    v = indices[e]
                    if count[v] < k:
                        heapq.heappush(heap, (d + weights[e], v, f))
            return dist, fac

        _KNN = kernel
    return _KNN


def isochrone(net: Network, facility: Snap, limit: float, *, access: float = 150.0,
              quad_segs: int = 8) -> shapely.Geometry:
    """The area within ``limit`` metres of one facility, built from reachable road pieces.

    A point P belongs when some road segment S within ``access`` metres of it
    gives ``dist(P, S) + D_S(t) <= limit`` (``t`` the position of P's projection
    on S, ``D_S`` the network distance from there to the facility).  Each
    segment contributes a strip whose half-width ``min(access, limit - D_S(t))``
    is exact between breakpoints, plus discs at its ends; polygons are inscribed
    in the true shape, so the isochrone never contains a place farther than
    ``limit`` — and never covers unreachable land as a convex hull would.
    """
    if len(facility.segment) != 1:
        raise ValueError("isochrone() takes one snapped facility")
    d_node, _ = nearest_facility(net, facility)
    fs, ft, fa = int(facility.segment[0]), float(facility.offset[0]), float(facility.access[0])
    a, b, length = net.seg_a, net.seg_b, net.seg_len
    reach = (d_node[a] < limit) | (d_node[b] < limit) | (np.arange(len(a)) == fs)
    pieces: list[shapely.Geometry] = []
    for s in np.flatnonzero(reach):
        ax, ay, bx, by = net.x[a[s]], net.y[a[s]], net.x[b[s]], net.y[b[s]]
        seg_len = float(length[s])
        geo_len = float(np.hypot(bx - ax, by - ay)) or 1e-9

        def d_at(t: float, s: int = int(s), seg_len: float = seg_len) -> float:
            best = np.inf
            if net.seg_bwd[s]:
                best = min(best, t + d_node[a[s]])
            if net.seg_fwd[s]:
                best = min(best, seg_len - t + d_node[b[s]])
            if s == fs and (net.seg_fwd[s] if ft >= t else net.seg_bwd[s]):
                best = min(best, abs(ft - t) + fa)
            return float(best)

        cuts = {0.0, seg_len}
        if s == fs:
            cuts.add(min(max(ft, 0.0), seg_len))
        if net.seg_bwd[s] and net.seg_fwd[s]:
            cuts.add(min(max((seg_len + d_node[b[s]] - d_node[a[s]]) / 2, 0.0), seg_len))
        ts = sorted(cuts)
        # refine so that the width crossing access / zero is sampled exactly enough
        fine = np.unique(np.concatenate([np.asarray(ts), np.linspace(0, seg_len, 9)]))
        widths = np.array([min(access, limit - d_at(float(t))) for t in fine])
        ux, uy = (bx - ax) / geo_len, (by - ay) / geo_len
        px, py = -uy, ux
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
        for t, (x, y) in ((0.0, (ax, ay)), (seg_len, (bx, by))):
            w = min(access, limit - d_at(t))
            if w > 0:
                pieces.append(shapely.Point(x, y).buffer(w, quad_segs=quad_segs))
    if not pieces:
        return shapely.Polygon()
    return shapely.union_all(shapely.make_valid(np.array(pieces, dtype=object)))


def distances_from_points(
    net: Network, x: np.ndarray, y: np.ndarray, node_dist: np.ndarray, node_fac: np.ndarray,
    facilities: Snap, *, max_access: float = 500.0, join_radius: float = 150.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Network distance from points to their nearest facility.

    A point may join any road segment within ``join_radius`` metres (straight),
    not only the closest: the best total (access + along the road + network)
    wins, as a person would choose.  A point with no road that close joins its
    nearest road if it lies within ``max_access``; farther points are
    unreachable (``inf``, ``-1``) and their distance to the road is reported.
    :func:`isochrone` draws with the same rule (``access = join_radius``), so an
    isochrone never contains a point farther than its limit.

    Returns (distance, facility index, access used).
    """
    _lines, tree = _segment_tree(net)
    px, py = np.asarray(x, float), np.asarray(y, float)
    n = len(px)
    pi, si = _within_query(tree, px, py, join_radius)
    ni, ns, nd = _nearest_query(tree, px, py)
    lonely = np.setdiff1d(ni[nd <= max_access], pi)  # no road within the join radius
    keep = np.isin(ni, lonely)
    pi, si = np.r_[pi, ni[keep]], np.r_[si, ns[keep]]
    # point–segment geometry in numpy (segments are straight between nodes)
    ax, ay = net.x[net.seg_a[si]], net.y[net.seg_a[si]]
    dx, dy = net.x[net.seg_b[si]] - ax, net.y[net.seg_b[si]] - ay
    len2 = dx * dx + dy * dy
    frac = np.clip(((px[pi] - ax) * dx + (py[pi] - ay) * dy) / np.where(len2 > 0, len2, 1), 0, 1)
    acc = np.hypot(px[pi] - (ax + frac * dx), py[pi] - (ay + frac * dy))
    t = frac * net.seg_len[si]
    a, b, length = net.seg_a[si], net.seg_b[si], net.seg_len[si]
    via_a = np.where(net.seg_bwd[si], t + node_dist[a], np.inf)
    via_b = np.where(net.seg_fwd[si], length - t + node_dist[b], np.inf)
    cost = np.minimum(via_a, via_b) + acc
    ident = np.where(via_a <= via_b, node_fac[a], node_fac[b])
    ok = ~facilities.flagged
    fseg: dict[int, list[int]] = {int(s): [] for s in facilities.segment[ok]}
    for jj in np.flatnonzero(ok):
        fseg[int(facilities.segment[jj])].append(int(jj))
    for k in np.flatnonzero(np.isin(si, list(fseg))):  # pairs on a facility's own segment
        s = int(si[k])
        for j in fseg[s]:
            tf = facilities.offset[j]
            if net.seg_fwd[s] if tf >= t[k] else net.seg_bwd[s]:
                c = abs(tf - t[k]) + acc[k] + facilities.access[j]
                if c < cost[k]:
                    cost[k], ident[k] = c, j
    best = np.full(n, np.inf)
    which = np.full(n, -1, np.int64)
    used = np.full(n, np.inf)
    used[ni] = nd
    order = np.lexsort((cost, pi))
    first = np.r_[True, pi[order][1:] != pi[order][:-1]] if len(order) else np.zeros(0, bool)
    sel = order[first]
    best[pi[sel]], which[pi[sel]], used[pi[sel]] = cost[sel], ident[sel], acc[sel]
    which = np.where(np.isfinite(best), which, -1)
    return best, which, used


def point_od(net: Network, origins: np.ndarray, destinations: np.ndarray, *,
             max_access: float = 500.0) -> np.ndarray:
    """Road distance (m) from each origin point to each destination point, shape (O, D).

    Metric coordinates, shape (k, 2) each.  One search per destination (on the
    reversed graph, so one-way streets are travelled the right way), with the
    same joining rule as :func:`distances_from_points`; ``inf`` when there is no
    road connection.  Meant for tens to hundreds of destinations.
    """
    o = np.atleast_2d(np.asarray(origins, float))
    d = np.atleast_2d(np.asarray(destinations, float))
    out = np.full((len(o), len(d)), np.inf)
    snaps = snap(net, d[:, 0], d[:, 1], max_access=max_access)
    for j in range(len(d)):
        one = Snap(segment=snaps.segment[j:j + 1], offset=snaps.offset[j:j + 1],
                   access=snaps.access[j:j + 1], flagged=snaps.flagged[j:j + 1])
        if one.flagged[0]:
            continue
        node_d, node_f = nearest_facility(net, one)
        out[:, j] = distances_from_points(net, o[:, 0], o[:, 1], node_d, node_f, one,
                                          max_access=max_access)[0]
    return out


_QUERIES: weakref.WeakKeyDictionary[shapely.STRtree, dict[tuple[str, bytes, float], Any]] = (
    weakref.WeakKeyDictionary())


def _points_key(kind: str, x: np.ndarray, y: np.ndarray, param: float) -> tuple[str, bytes, float]:
    h = hashlib.blake2b(np.ascontiguousarray(x).tobytes(), digest_size=16)
    h.update(np.ascontiguousarray(y).tobytes())
    return kind, h.digest(), float(param)


def _remember(tree: shapely.STRtree, key: tuple[str, bytes, float], compute: Any) -> Any:
    """Spatial queries of the same points against the same road geometry are computed once:
    a scenario network shares its segment tree with the normal network, so switching the
    hazard never repeats them (a few entries per tree)."""
    store = _QUERIES.setdefault(tree, {})
    if key not in store:
        if len(store) >= 8:
            store.pop(next(iter(store)))
        store[key] = compute()
    return store[key]


def _nearest_query(tree: shapely.STRtree, x: np.ndarray, y: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    def run() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        (pi, si), d = tree.query_nearest(shapely.points(x, y), return_distance=True, all_matches=False)
        return pi, si, d

    return _remember(tree, _points_key("nearest", x, y, 0.0), run)  # type: ignore[no-any-return]


def _within_query(tree: shapely.STRtree, x: np.ndarray, y: np.ndarray, radius: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    def run() -> tuple[np.ndarray, np.ndarray]:
        pi, si = tree.query(shapely.points(x, y), predicate="dwithin", distance=radius)
        return pi, si

    return _remember(tree, _points_key("within", x, y, radius), run)  # type: ignore[no-any-return]


_TREES: weakref.WeakKeyDictionary[Network, tuple[np.ndarray, shapely.STRtree]] = (
    weakref.WeakKeyDictionary())


def segment_lines(net: Network) -> np.ndarray:
    """The road segments as straight shapely lines in the network's CRS (cached)."""
    return _segment_tree(net)[0]


def _segment_tree(net: Network) -> tuple[np.ndarray, shapely.STRtree]:
    """Road segments as lines and their STRtree, built once per network."""
    hit = _TREES.get(net)
    if hit is None:
        lines = shapely.linestrings(
            np.stack([np.column_stack([net.x[net.seg_a], net.y[net.seg_a]]),
                      np.column_stack([net.x[net.seg_b], net.y[net.seg_b]])], axis=1))
        hit = (lines, shapely.STRtree(lines))
        _TREES[net] = hit
    return hit
