"""Road-network engine: compact CSR arrays searched with compiled code.

A road graph from :mod:`layers.roads` becomes a :class:`Network`: node
coordinates in the metric analysis CRS and a directed adjacency in CSR form
(lengths in metres).  It is cached on disk keyed by the source file's hash, the
network type and the CRS, so a large graph reloads in well under a second.

Searches never loop over nodes in Python:

* :func:`nearest_facility` — distance to, and identity of, the nearest facility
  for every node (one compiled bucket-queue search from all facilities at once,
  :mod:`geo.engine.shortest_paths`);
* :func:`catchments` — the nodes within a distance of each facility (compiled
  bounded searches that touch only what they reach, on every usable core);
* :func:`od_matrix` — origin–destination distances.

How points (mesh-cell centroids, facilities) join the roads — the access rule
and the barriers it respects — is :mod:`geo.engine.access`.  Distances are walked *to*
facilities: on directed (drive) graphs the search runs on the reversed graph.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from geo.engine.profiles import DRIVE_KMH, SPEEDS_M_PER_MIN
from layers.crs import STORAGE_CRS, ensure_metric, great_circle_m, transform_xy
from layers.osm_extract import WayArrays

__all__ = [
    "Network",
    "Snap",
    "barrier_geometries",
    "barrier_index",
    "catchments",
    "from_graph",
    "induced",
    "k_nearest",
    "nearest_facility",
    "nearest_query",
    "od_matrix",
    "segment_lines",
    "segment_tree",
    "share_road_index",
    "touching_segments",
    "with_barriers",
    "within_query",
]

log = logging.getLogger(__name__)



AT_END = 1e-6
"""Metres along a segment within which a point stands at its end node."""

NO_FOOT = {"motorway", "motorway_link"}

ROAD_CLASSES = ("other", "motorway", "trunk", "primary", "secondary", "tertiary", "residential",
                "unclassified", "service", "living_street", "pedestrian", "footway", "path", "steps",
                "track", "cycleway")
"""OSM ``highway`` values kept per road (``road_class`` codes; ``_link`` roads count as
their road; anything else is ``other``)."""
"""Road classes a person never joins on foot (with ``foot=no`` roads)."""


@dataclass(frozen=True, eq=False)
class Network:
    """A road graph as arrays (metric CRS, lengths in metres).

    ``indptr``/``indices``/``weights`` are the CSR adjacency (row = from node);
    ``seg_a``/``seg_b``/``seg_len``/``seg_fwd``/``seg_bwd`` are the undirected
    road segments used for snapping (``fwd`` when a→b may be travelled).  Curved
    roads are split at every vertex of their geometry, so each segment is straight.
    ``seg_join`` marks the segments a person may join on foot (not motorways or
    ``foot=no`` roads); ``barrier_wkb``/``barrier_off`` hold the barriers to
    walking access (:mod:`layers.barriers`) as packed WKB in the metric CRS.
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
    seg_join: np.ndarray | None = None
    """Whether a person may join each segment on foot (None: every segment)."""
    barrier_wkb: np.ndarray | None = None
    """Barriers (metric CRS) as concatenated WKB bytes (``uint8``)."""
    barrier_off: np.ndarray | None = None
    """Offsets of each barrier in ``barrier_wkb`` (length = barriers + 1)."""
    grid_ptr: np.ndarray | None = None
    """Grid index of the segments (:mod:`geo.engine.road_index`): CSR offsets per cell."""
    grid_seg: np.ndarray | None = None
    """Grid index: the segments listed in each cell."""
    grid_box: np.ndarray | None = None
    road_class: np.ndarray | None = None
    """OSM road class of each CSR entry, as an index into :data:`ROAD_CLASSES` (``int8``;
    None for a network cached before classes were kept)."""
    cond_idx: np.ndarray | None = None
    """The OSM ``*:conditional`` value of each CSR entry as an index into ``conds`` (-1:
    none); read by :mod:`geo.engine.season` for the closures in force on a date."""
    conds: np.ndarray | None = None
    """The distinct conditional values (``str`` array)."""
    """Grid index: ``[x0, y0, cell, nx, ny, sum x, sum y]`` (the sums: built for these nodes)."""

    @property
    def n(self) -> int:
        return len(self.node_ids)

    @property
    def n_barriers(self) -> int:
        return 0 if self.barrier_off is None else max(len(self.barrier_off) - 1, 0)

    def matrix(self, *, reverse: bool = False) -> csr_array:
        m = csr_array((self.weights, self.indices, self.indptr), shape=(self.n, self.n))
        return csr_array(m.T) if reverse else m


def _edge_table(graph: nx.MultiDiGraph) -> pd.DataFrame:
    """One row per edge: ends, length, speed, name, whether people may walk on it, geometry."""
    rows = []
    for a, b, d in graph.edges(data=True):
        hw = d.get("highway")
        hw = hw[0] if isinstance(hw, list) and hw else hw
        name = d.get("name")
        name = name[0] if isinstance(name, list) and name else name
        foot = d.get("foot")
        foot = foot[0] if isinstance(foot, list) and foot else foot
        cls = str(hw).replace("_link", "")
        cond = d.get("conditional")
        rows.append((a, b, float(d["length"]), DRIVE_KMH.get(cls, 20),
                     name.strip() if isinstance(name, str) and name.strip() else None,
                     str(hw) not in NO_FOOT and str(foot).lower() != "no", d.get("geometry"),
                     _CLASS_CODE.get(cls, 0), str(cond) if cond else None))
    return pd.DataFrame(rows, columns=["u", "v", "length", "kmh", "name", "walk", "geometry", "cls",
                                       "cond"])


_CLASS_CODE = {c: i for i, c in enumerate(ROAD_CLASSES)}


def from_graph(graph: nx.MultiDiGraph, *, crs: str, barriers: Any = None) -> Network:
    """Convert an osmnx-style graph (EPSG:4326) into a :class:`Network` in ``crs``.

    Edges with a ``geometry`` are split at each vertex (new nodes shared by both
    directions of a road), so that a point joins the road where it really runs and
    routes follow its curves; each piece gets the edge's length in proportion.
    ``barriers`` (a frame of :mod:`layers.barriers`, EPSG:4326) is stored with it.
    """
    ensure_metric(crs)
    ids = np.fromiter(graph.nodes, dtype=np.int64, count=graph.number_of_nodes())
    lon = np.fromiter((graph.nodes[n]["x"] for n in ids), float, count=len(ids))
    lat = np.fromiter((graph.nodes[n]["y"] for n in ids), float, count=len(ids))
    edges = _edge_table(graph)
    pos = pd.Series(np.arange(len(ids)), index=ids)
    ui = pos.loc[edges["u"].to_numpy()].to_numpy() if len(edges) else np.zeros(0, np.int64)
    vi = pos.loc[edges["v"].to_numpy()].to_numpy() if len(edges) else np.zeros(0, np.int64)
    # every edge as a vertex chain: its geometry, or its two end nodes
    chain = np.array([g if isinstance(g, shapely.LineString) and len(g.coords) > 2 else None
                      for g in edges["geometry"]], dtype=object)
    has = np.array([g is not None for g in chain], bool)
    counts = np.full(len(edges), 2, np.int64)
    inner_xy = np.zeros((0, 2))
    inner_edge = np.zeros(0, np.int64)
    if has.any():
        coords, which = shapely.get_coordinates(chain[has], return_index=True)
        ncoord = np.bincount(which, minlength=int(has.sum()))
        counts[has] = ncoord
        first = np.r_[0, np.cumsum(ncoord)[:-1]]
        k = np.arange(len(coords)) - first[which]
        inner = (k > 0) & (k < ncoord[which] - 1)
        inner_xy = coords[inner]
        inner_edge = np.flatnonzero(has)[which[inner]]
    # interior vertices become nodes, one per road and place (both directions share it)
    pa = np.minimum(ui, vi)[inner_edge]
    pb = np.maximum(ui, vi)[inner_edge]
    key = pd.MultiIndex.from_arrays([pa, pb, np.round(inner_xy[:, 0] * 1e7).astype(np.int64),
                                     np.round(inner_xy[:, 1] * 1e7).astype(np.int64)])
    code, uniq = pd.factorize(key)
    n_new = len(uniq)
    new_xy = np.zeros((n_new, 2))
    new_xy[code] = inner_xy
    all_lon, all_lat = np.r_[lon, new_xy[:, 0]], np.r_[lat, new_xy[:, 1]]
    x, y = transform_xy(all_lon, all_lat, STORAGE_CRS, crs)
    base = int(ids.max()) + 1 if len(ids) else 0
    all_ids = np.r_[ids, base + np.arange(n_new, dtype=np.int64)]
    # vertex sequence of every edge: u, interior…, v (as node positions)
    start = np.r_[0, np.cumsum(counts)[:-1]]
    seq = np.empty(int(counts.sum()), np.int64)
    seq[start] = ui
    seq[start + counts - 1] = vi
    inner_pos = np.ones(len(seq), bool)
    inner_pos[start] = False
    inner_pos[start + counts - 1] = False
    seq[inner_pos] = len(ids) + code
    edge_of = np.repeat(np.arange(len(edges)), counts)
    piece = np.flatnonzero(np.r_[edge_of[1:] == edge_of[:-1], False])  # vertex k → k+1
    pe = edge_of[piece]
    pu, pv = seq[piece], seq[piece + 1]
    geo = np.hypot(x[pv] - x[pu], y[pv] - y[pu])
    geo_total = np.bincount(pe, weights=geo, minlength=len(edges))
    length = edges["length"].to_numpy(float)
    share = np.where(geo_total[pe] > 0, geo / np.where(geo_total[pe] > 0, geo_total[pe], 1),
                     1.0 / (counts[pe] - 1))
    w = length[pe] * share
    kmh = edges["kmh"].to_numpy(float)[pe]
    names_col = edges["name"]
    ncode, nuniq = pd.factorize(names_col)
    names = np.array(list(nuniq), dtype=str) if len(nuniq) else np.zeros(0, dtype="<U1")
    ccode, cuniq = pd.factorize(edges["cond"])
    cond_names = np.array(list(cuniq), dtype=str) if len(cuniq) else None
    order = np.argsort(all_ids)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return _from_arrays(all_ids[order], x[order], y[order], rank[pu], rank[pv], w, crs=crs,
                        directed=graph.graph.get("network") != "walk", seconds=w / (kmh / 3.6),
                        name_idx=np.asarray(ncode, np.int64)[pe], names=names,
                        walkable=edges["walk"].to_numpy(bool)[pe],
                        road_class=edges["cls"].to_numpy(np.int8)[pe],
                        conditions=(np.asarray(ccode, np.int64)[pe], cond_names),
                        barriers=_pack_barriers(barriers, crs))




def from_ways(ways: WayArrays, *, crs: str, barriers: Any = None) -> Network:
    """Build a :class:`Network` in ``crs`` straight from an extract's ways
    (:func:`layers.osm_extract.read_ways`): every vertex a node, each pair of vertices a
    segment measured along the great circle; a walk network both ways, a drive network
    with its one-way streets.  The same roads, classes, names, conditional tags and
    walking rules as :func:`from_graph` gives for the osmnx graph of the same file."""
    ensure_metric(crs)
    x, y = transform_xy(ways.lon, ways.lat, STORAGE_CRS, crs)
    u, v, way = ways.u, ways.v, ways.way
    length = great_circle_m(ways.lon[u], ways.lat[u], ways.lon[v], ways.lat[v])
    cls_name = np.array([str(h).replace("_link", "") for h in ways.highway], dtype=object)
    kmh = np.array([DRIVE_KMH.get(c, 20) for c in cls_name], float)
    code = np.array([_CLASS_CODE.get(c, 0) for c in cls_name], np.int8)
    walk = np.array([str(h) not in NO_FOOT and str(f).lower() != "no"
                     for h, f in zip(ways.highway, ways.foot, strict=True)], bool)
    ncode, nuniq = pd.factorize(pd.Series(ways.name, dtype=object).replace("", None))
    ccode, cuniq = pd.factorize(pd.Series(ways.conditional, dtype=object).replace("", None))
    one = ways.oneway[way] if ways.network != "walk" else np.zeros(len(u), np.int8)
    fwd, bwd = one >= 0, one <= 0
    ui, vi = np.r_[u[fwd], v[bwd]], np.r_[v[fwd], u[bwd]]
    pw = np.r_[way[fwd], way[bwd]]
    w = np.r_[length[fwd], length[bwd]]
    return _from_arrays(ways.node_ids, x, y, ui, vi, w, crs=crs, directed=ways.network != "walk",
                        seconds=w / (kmh[pw] / 3.6), name_idx=np.asarray(ncode, np.int64)[pw],
                        names=np.array(list(nuniq), dtype=str) if len(nuniq) else np.zeros(0, dtype="<U1"),
                        walkable=walk[pw], road_class=code[pw],
                        conditions=(np.asarray(ccode, np.int64)[pw],
                                    np.array(list(cuniq), dtype=str) if len(cuniq) else None),
                        barriers=_pack_barriers(barriers, crs))


def _pack_barriers(barriers: Any, crs: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Barrier geometries (a GeoDataFrame/GeoSeries in any CRS, or None) as packed WKB."""
    if barriers is None or not len(barriers):
        return None
    geoms = barriers.to_crs(crs).geometry.to_numpy() if hasattr(barriers, "to_crs") else barriers
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)]
    blobs = [bytes(b) for b in shapely.to_wkb(geoms)]
    sizes = np.fromiter((len(b) for b in blobs), np.int64, count=len(blobs))
    return (np.frombuffer(b"".join(blobs), np.uint8).copy(),
            np.r_[0, np.cumsum(sizes)].astype(np.int64))


def barrier_geometries(net: Network) -> np.ndarray:
    """The network's barriers as shapely geometries in its metric CRS (may be empty)."""
    if net.barrier_wkb is None or net.barrier_off is None or net.n_barriers == 0:
        return np.zeros(0, dtype=object)
    raw = net.barrier_wkb.tobytes()
    off = net.barrier_off
    return shapely.from_wkb(np.array([raw[off[i]:off[i + 1]] for i in range(len(off) - 1)],
                                     dtype=object))


def with_barriers(net: Network, barriers: Any) -> Network:
    """``net`` with more barriers (a :mod:`layers.barriers` frame); the spatial index of
    its roads is shared, ``net`` itself is unchanged."""
    extra = _pack_barriers(barriers, net.crs)
    if extra is None:
        return net
    geoms = np.r_[barrier_geometries(net), barrier_geometries(_bare(net, extra))]
    wkb, off = _pack_barriers(geoms, net.crs) or extra
    out = dataclasses.replace(net, barrier_wkb=wkb, barrier_off=off)
    share_road_index(net, out)
    return out


def induced(net: Network, keep: np.ndarray) -> Network:
    """The sub-network on the nodes where ``keep`` is true, with the edges and segments whose
    both ends are kept: the arrays are filtered, not rebuilt (a monotonic renumbering keeps
    the CSR rows and the segment order exactly as :func:`from_graph` would make them), and
    the grid index is built for the smaller extent.  Barriers are kept whole."""
    keep = np.asarray(keep, bool)
    kept = np.flatnonzero(keep)
    new_index = np.full(net.n, -1, np.int64)
    new_index[kept] = np.arange(len(kept))
    rows = np.repeat(np.arange(net.n, dtype=np.int64), np.diff(net.indptr))
    ok = keep[rows] & keep[net.indices]
    indptr = np.r_[0, np.cumsum(np.bincount(new_index[rows[ok]], minlength=len(kept)))].astype(np.int64)
    seg = keep[net.seg_a] & keep[net.seg_b]
    x, y = net.x[kept], net.y[kept]
    seg_a, seg_b = new_index[net.seg_a[seg]], new_index[net.seg_b[seg]]
    from geo.engine.road_index import build_grid

    grid_ptr, grid_seg, grid_box = build_grid(x, y, seg_a, seg_b, net.seg_len[seg])
    return dataclasses.replace(
        net, node_ids=net.node_ids[kept], x=x, y=y, indptr=indptr,
        indices=new_index[net.indices[ok]], weights=net.weights[ok],
        seg_a=seg_a, seg_b=seg_b, seg_len=net.seg_len[seg], seg_fwd=net.seg_fwd[seg],
        seg_bwd=net.seg_bwd[seg],
        seconds=net.seconds[ok] if net.seconds is not None else None,
        name_idx=net.name_idx[ok] if net.name_idx is not None else None,
        seg_join=net.seg_join[seg] if net.seg_join is not None else None,
        road_class=net.road_class[ok] if net.road_class is not None else None,
        cond_idx=net.cond_idx[ok] if net.cond_idx is not None else None,
        grid_ptr=grid_ptr, grid_seg=grid_seg, grid_box=grid_box)


def _bare(net: Network, packed: tuple[np.ndarray, np.ndarray]) -> Network:
    return dataclasses.replace(net, barrier_wkb=packed[0], barrier_off=packed[1])


def _from_arrays(ids: np.ndarray, x: np.ndarray, y: np.ndarray, ui: np.ndarray, vi: np.ndarray,
                 w: np.ndarray, *, crs: str, directed: bool,
                 seconds: np.ndarray | None = None, name_idx: np.ndarray | None = None,
                 names: np.ndarray | None = None, walkable: np.ndarray | None = None,
                 road_class: np.ndarray | None = None,
                 conditions: tuple[np.ndarray, np.ndarray | None] | None = None,
                 barriers: tuple[np.ndarray, np.ndarray] | None = None) -> Network:
    sec = np.asarray(seconds, float) if seconds is not None else w / (SPEEDS_M_PER_MIN["walk"] / 60)
    nid = np.asarray(name_idx, np.int64) if name_idx is not None else np.full(len(w), -1, np.int64)
    walk = np.asarray(walkable, bool) if walkable is not None else np.ones(len(w), bool)
    cls = np.asarray(road_class, np.int8) if road_class is not None else np.zeros(len(w), np.int8)
    cnd = np.asarray(conditions[0], np.int64) if conditions is not None else np.full(len(w), -1, np.int64)
    keep = ui != vi  # self-loops never shorten a path
    ui, vi, w, sec, nid, walk, cls, cnd = (ui[keep], vi[keep], w[keep], sec[keep], nid[keep], walk[keep],
                                           cls[keep], cnd[keep])
    # parallel edges: keep the shortest per direction
    key = ui * len(ids) + vi
    order = np.lexsort((w, key))
    key, ui, vi, w, sec, nid, walk, cls, cnd = (key[order], ui[order], vi[order], w[order], sec[order],
                                                nid[order], walk[order], cls[order], cnd[order])
    first = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, bool)
    ui, vi, w, sec, nid, walk, cls, cnd = (ui[first], vi[first], w[first], sec[first], nid[first],
                                           walk[first], cls[first], cnd[first])
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
    join = np.zeros(len(uniq), bool)
    join[inv[walk]] = True
    from geo.engine.road_index import build_grid

    seg_a, seg_b = (uniq // len(ids)).astype(np.int64), (uniq % len(ids)).astype(np.int64)
    grid_ptr, grid_seg, grid_box = build_grid(np.asarray(x, float), np.asarray(y, float),
                                              seg_a, seg_b, seg_len)
    return Network(
        node_ids=ids, x=np.asarray(x, float), y=np.asarray(y, float), indptr=indptr,
        indices=vi.astype(np.int64), weights=w.astype(float),
        seg_a=seg_a, seg_b=seg_b,
        seg_len=seg_len, seg_fwd=fwd, seg_bwd=bwd, crs=crs, directed=directed,
        seconds=sec.astype(float), name_idx=nid, road_class=cls,
        cond_idx=cnd if conditions is not None and conditions[1] is not None else None,
        conds=conditions[1] if conditions is not None else None,
        names=np.asarray(names, dtype=str) if names is not None else np.zeros(0, dtype="<U1"),
        seg_join=join,
        barrier_wkb=barriers[0] if barriers is not None else None,
        barrier_off=barriers[1] if barriers is not None else None,
        grid_ptr=grid_ptr, grid_seg=grid_seg, grid_box=grid_box,
    )


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


def reverse_csr(net: Network) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR arrays of the reversed graph (a walk graph is its own reverse)."""
    if not net.directed:
        return net.indptr, net.indices, net.weights
    rows = np.repeat(np.arange(net.n), np.diff(net.indptr))
    order = np.argsort(net.indices, kind="stable")
    counts = np.bincount(net.indices, minlength=net.n)
    indptr = np.r_[0, np.cumsum(counts)].astype(np.int64)
    return indptr, rows[order].astype(np.int64), net.weights[order]


def nearest_facility(net: Network, facilities: Snap) -> tuple[np.ndarray, np.ndarray]:
    """Distance (m) from every node to its nearest facility, and that facility's index.

    One multi-source search on the reversed graph, started at the segment ends from
    which each facility is reached with the cost still to walk
    (:func:`geo.engine.shortest_paths.multi_source`, a compiled bucket-queue Dijkstra:
    at 1M nodes about 3× faster than ``scipy.sparse.csgraph.dijkstra`` from virtual
    nodes, with the same exact distances).  Unreachable nodes get ``inf`` and
    facility ``-1``.  Facilities at the same place: everything goes to the first of
    them in the given order (callers order them by preference).
    """
    from geo.engine.shortest_paths import multi_source

    key = hashlib.blake2b(np.ascontiguousarray(facilities.segment).tobytes(), digest_size=16)
    key.update(np.ascontiguousarray(facilities.offset, float).tobytes())
    key.update(np.ascontiguousarray(facilities.flagged).tobytes())

    def search() -> tuple[np.ndarray, np.ndarray]:
        nodes, costs, which = _entry_nodes(net, facilities)
        indptr, indices, weights = reverse_csr(net)
        return multi_source(indptr, indices, weights, nodes, costs, which)  # type: ignore[no-any-return]

    return kept_per_network(net, "nearest", key.digest(), search,  # type: ignore[no-any-return]
                            arrays=lambda found: found)


KEPT_PER_NETWORK = 4
"""Answers remembered per network and kind (the same units, facilities or season on the same
roads: the years of an outlook, a page's reruns)."""

_PER_NETWORK: weakref.WeakKeyDictionary[Network, dict[str, OrderedDict[Any, Any]]] = \
    weakref.WeakKeyDictionary()


def kept_per_network(net: Network, kind: str, key: Any, compute: Any, *,
                     arrays: Any = None, keep: int = KEPT_PER_NETWORK) -> Any:
    """``compute()`` once per (``net``, ``kind``, ``key``), the last ``keep`` of each kind
    kept while the network lives; ``arrays(value)`` names the arrays made read-only, so a
    caller cannot change what the next one gets."""
    with _LOCK:
        kept = _PER_NETWORK.setdefault(net, {}).setdefault(kind, OrderedDict())
        hit = kept.get(key)
        if hit is not None:
            kept.move_to_end(key)
            return hit
    made = compute()
    for arr in (arrays(made) if arrays is not None else ()):
        arr.setflags(write=False)
    with _LOCK:
        kept = _PER_NETWORK.setdefault(net, {}).setdefault(kind, OrderedDict())
        kept[key] = made
        while len(kept) > keep:
            kept.popitem(last=False)
    return made


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

    Returns flat arrays (source position, node index, distance), in source order.
    Compiled bounded searches that touch only what they reach, split over the
    usable cores by blocks of sources (the result does not depend on the cores).
    """
    from geo.engine.shortest_paths import bounded

    indptr, indices, weights = reverse_csr(net)
    return bounded(indptr, indices, weights, np.asarray(sources, np.int64), float(limit))


def _entry_nodes(net: Network, facilities: Snap) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The segment ends from which each usable facility is reached: (node, cost to the
    facility along its segment + access, facility index), one row per allowed end.  A
    facility that stands at an end is reached there whatever the one-way direction."""
    idx = np.flatnonzero(~facilities.flagged)
    seg = facilities.segment[idx]
    at_a = facilities.offset[idx] <= AT_END
    at_b = net.seg_len[seg] - facilities.offset[idx] <= AT_END
    fa, fb = net.seg_fwd[seg] | at_a, net.seg_bwd[seg] | at_b
    nodes = np.concatenate([net.seg_a[seg][fa], net.seg_b[seg][fb]]).astype(np.int64)
    costs = np.concatenate([(facilities.offset[idx] + facilities.access[idx])[fa],
                            (net.seg_len[seg] - facilities.offset[idx] + facilities.access[idx])[fb]])
    return nodes, costs.astype(np.float64), np.concatenate([idx[fa], idx[fb]]).astype(np.int64)


def k_nearest(net: Network, facilities: Snap, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest facilities of every node: distances and indices, shape (n, k).

    A compiled label-setting search from all facilities at once in which every
    node keeps up to ``k`` labels from distinct facilities.  Missing entries are
    ``inf`` / ``-1``.
    """
    from geo.engine.shortest_paths import k_nearest_labels

    nodes, costs, which = _entry_nodes(net, facilities)
    indptr, indices, weights = reverse_csr(net)
    return k_nearest_labels(indptr, indices, weights, nodes, costs, which, int(k))


_LOCK = threading.RLock()
"""Guards the index caches below: Streamlit serves sessions from threads."""

_QUERIES: dict[int, dict[tuple[str, bytes, float], Any]] = {}
"""Answers of :func:`nearest_query` / :func:`within_query` per road index (keyed by the
identity of its segment array, which scenario and barrier copies of a network share)."""


def _points_key(kind: str, x: np.ndarray, y: np.ndarray, param: float) -> tuple[str, bytes, float]:
    h = hashlib.blake2b(np.ascontiguousarray(x).tobytes(), digest_size=16)
    h.update(np.ascontiguousarray(y).tobytes())
    return kind, h.digest(), float(param)


def _remember(net: Network, key: tuple[str, bytes, float], compute: Any) -> Any:
    """Spatial queries of the same points against the same road geometry are computed once:
    a scenario network shares its road index with the normal network, so switching the
    hazard never repeats them (up to 24 answers per index)."""
    owner = net.grid_seg if net.grid_seg is not None else net.seg_a
    with _LOCK:
        store = _QUERIES.get(id(owner))
        if store is None:
            store = _QUERIES[id(owner)] = {}
            weakref.finalize(owner, _QUERIES.pop, id(owner), None)
        if key in store:
            return store[key]
    value = compute()
    with _LOCK:
        if len(store) >= 24:
            store.pop(next(iter(store)))
        store[key] = value
    return value


def _road_index(net: Network) -> Network:
    """``net`` with its grid index of segments (a network made before the index existed,
    e.g. by ``dataclasses.replace`` of bare arrays, gets one built here, once; so does one
    whose nodes were moved after its index was built — a stale index would search the
    wrong cells)."""
    with _LOCK:
        if net in _FITTING:
            return net
        hit = _GRIDS.get(net)
    if hit is None:
        from geo.engine.road_index import fits

        if fits(net):
            with _LOCK:
                _FITTING.add(net)
            return net
    if hit is None:
        from geo.engine.road_index import build_grid

        ptr, seg, box = build_grid(net.x, net.y, net.seg_a, net.seg_b, net.seg_len)
        hit = dataclasses.replace(net, grid_ptr=ptr, grid_seg=seg, grid_box=box)
        log.debug("road index built for a network without a fitting one (%d nodes)", net.n)
        with _LOCK:
            hit = _GRIDS.setdefault(net, hit)
    return hit


def nearest_query(net: Network, x: np.ndarray, y: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(point index, segment index, distance) of every point's nearest road segment, by the
    network's cached grid index (:mod:`geo.engine.road_index`; answers remembered)."""
    from geo.engine.road_index import nearest_segments

    indexed = _road_index(net)
    return _remember(indexed, _points_key("nearest", x, y, 0.0),  # type: ignore[no-any-return]
                     lambda: nearest_segments(indexed, x, y))


def within_query(net: Network, x: np.ndarray, y: np.ndarray, radius: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(point index, segment index) of every road segment within ``radius``, sorted by
    point then segment (grid index; answers remembered)."""
    from geo.engine.road_index import segments_within

    indexed = _road_index(net)
    return _remember(indexed, _points_key("within", x, y, radius),  # type: ignore[no-any-return]
                     lambda: segments_within(indexed, x, y, radius))


def touching_segments(net: Network, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(geometry index, segment index) of the road segments intersecting each geometry
    (metric CRS), by the grid index and an exact test on the candidates only (the
    answer is remembered per geometry set: switching back to a hazard repeats nothing)."""
    from geo.engine.road_index import segments_touching

    geoms = np.asarray(geoms, dtype=object)
    key = ("touching", hashlib.blake2b(b"".join(shapely.to_wkb(geoms)), digest_size=16).digest(),
           0.0)
    indexed = _road_index(net)
    with _LOCK:
        lines = _LINES.get(net)  # all lines only when already made: else the candidates' alone
    return _remember(indexed, key,  # type: ignore[no-any-return]
                     lambda: segments_touching(indexed, geoms, lines=lines))


_GRIDS: weakref.WeakKeyDictionary[Network, Network] = weakref.WeakKeyDictionary()

_FITTING: weakref.WeakSet[Network] = weakref.WeakSet()
"""Networks whose own road index was checked against their nodes (checked once)."""

_TREES: weakref.WeakKeyDictionary[Network, tuple[np.ndarray, shapely.STRtree]] = (
    weakref.WeakKeyDictionary())

_LINES: weakref.WeakKeyDictionary[Network, np.ndarray] = weakref.WeakKeyDictionary()

_BARRIER_TREES: weakref.WeakKeyDictionary[Network, BarrierIndex] = weakref.WeakKeyDictionary()


def segment_lines(net: Network) -> np.ndarray:
    """The road segments as straight shapely lines in the network's CRS (made once per
    network and shared with its scenario copies)."""
    with _LOCK:
        hit = _LINES.get(net)
    if hit is None:
        from geo.engine.road_index import lines_of

        hit = lines_of(net)
        with _LOCK:
            hit = _LINES.setdefault(net, hit)
    return hit


def segment_tree(net: Network) -> tuple[np.ndarray, shapely.STRtree]:
    """Road segments as lines and their STRtree, built once per network (for polygon
    queries of isochrones; points use the cached grid index)."""
    with _LOCK:
        hit = _TREES.get(net)
    if hit is None:
        lines = segment_lines(net)
        hit = (lines, shapely.STRtree(lines))
        with _LOCK:
            hit = _TREES.setdefault(net, hit)
    return hit


@dataclass(frozen=True)
class BarrierIndex:
    """Barriers cut into straight pieces for fast crossing tests.

    ``pieces`` are 2-point lines (every edge of every barrier line and area
    boundary), ``owner`` the barrier each came from, ``geoms`` the barriers
    themselves and ``area`` whether each is a polygon; ``tree`` indexes the pieces
    (tight boxes: a long river does not make every walk a candidate).
    """

    geoms: np.ndarray
    area: np.ndarray
    pieces: np.ndarray
    owner: np.ndarray
    tree: shapely.STRtree


def barrier_index(net: Network) -> BarrierIndex | None:
    """The network's barriers indexed piece by piece, or None without any."""
    if net.n_barriers == 0:
        return None
    with _LOCK:
        hit = _BARRIER_TREES.get(net)
    if hit is None:
        geoms = barrier_geometries(net)
        area = np.isin(shapely.get_type_id(geoms), (3, 6))  # Polygon, MultiPolygon
        lines = np.where(area, shapely.boundary(geoms), geoms)
        parts, part_of = shapely.get_parts(lines, return_index=True)
        coords, which = shapely.get_coordinates(parts, return_index=True)
        nxt = np.r_[which[1:] == which[:-1], False]
        start = np.flatnonzero(nxt)
        pieces = shapely.linestrings(np.stack([coords[start], coords[start + 1]], axis=1))
        hit = BarrierIndex(geoms=geoms, area=area, pieces=pieces, owner=part_of[which[start]],
                           tree=shapely.STRtree(pieces))
        with _LOCK:
            hit = _BARRIER_TREES.setdefault(net, hit)
    return hit


def share_road_index(src: Network, dst: Network) -> None:
    """Let ``dst`` (same nodes and segments as ``src``, e.g. a hazard scenario) use the
    spatial indexes of ``src``'s roads instead of building its own: the grid index
    travels in the arrays; an STRtree or barrier index already built is shared."""
    with _LOCK:
        if src in _TREES:
            _TREES[dst] = _TREES[src]
        if src in _LINES:
            _LINES[dst] = _LINES[src]
        if src in _GRIDS:
            _GRIDS[dst] = _GRIDS[src]
        if dst.barrier_wkb is src.barrier_wkb and src in _BARRIER_TREES:
            _BARRIER_TREES[dst] = _BARRIER_TREES[src]


def edge_segments(net: Network) -> np.ndarray:
    """The segment index of every CSR entry of ``net`` (vectorised key lookup)."""
    rows = np.repeat(np.arange(net.n, dtype=np.int64), np.diff(net.indptr))
    a, b = np.minimum(rows, net.indices), np.maximum(rows, net.indices)
    seg_key = net.seg_a * net.n + net.seg_b  # sorted: segments come from np.unique
    return np.searchsorted(seg_key, a * net.n + b)


def edit_segments(net: Network, closed: np.ndarray, factor: np.ndarray, *, scale_seconds: bool) -> Network:
    """``net`` with the segments ``closed`` removed and every other segment's length and
    weights times ``factor`` (per segment; drive seconds too when ``scale_seconds``).  Nodes,
    segments and the road index are shared with ``net``, which is not modified."""
    entry_seg = edge_segments(net)
    keep = ~closed[entry_seg]
    f_entry = factor[entry_seg]
    rows = np.repeat(np.arange(net.n, dtype=np.int64), np.diff(net.indptr))
    counts = np.bincount(rows[keep], minlength=net.n)

    def kept(a: np.ndarray | None) -> np.ndarray | None:
        return a[keep] if a is not None else None

    out = dataclasses.replace(
        net, indptr=np.r_[0, np.cumsum(counts)].astype(np.int64), indices=net.indices[keep],
        weights=(net.weights * f_entry)[keep],
        seconds=kept(net.seconds * f_entry if scale_seconds and net.seconds is not None else net.seconds),
        name_idx=kept(net.name_idx), road_class=kept(net.road_class), cond_idx=kept(net.cond_idx),
        seg_len=net.seg_len * factor, seg_fwd=net.seg_fwd & ~closed, seg_bwd=net.seg_bwd & ~closed)
    share_road_index(net, out)  # same geometry: share the spatial index
    return out
