"""An independent reference for network distances from points (never imports geo/).

A point's distance to its nearest facility = the straight walk to its nearest
walkable road (measured by shapely on the graph's own edge geometries,
projected with pyproj; a walk that crosses a barrier is not allowed) + the
shortest path along the roads (networkx Dijkstra on the osmnx graph, edge
``length``), with each facility reached the same way.  Edge positions are
``project / geometry length × edge length``.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import shapely
import shapely.ops
from pyproj import Transformer

NO_FOOT = {"motorway", "motorway_link"}


@dataclass
class EdgeRef:
    u: list[int]
    v: list[int]
    length: np.ndarray
    lines: np.ndarray  # metric LineStrings


def edges_of(graph: nx.MultiDiGraph, crs: str) -> EdgeRef:
    """One entry per undirected walkable road of a walk graph, geometry in ``crs``."""
    tf = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    us, vs, lengths, lines = [], [], [], []
    seen = set()
    for u, v, d in graph.edges(data=True):
        hw = d.get("highway")
        hw = hw[0] if isinstance(hw, list) else hw
        if hw in NO_FOOT or str(d.get("foot", "")).lower() == "no":
            continue
        geom = d.get("geometry")
        if geom is None:
            coords = [(graph.nodes[u]["x"], graph.nodes[u]["y"]), (graph.nodes[v]["x"], graph.nodes[v]["y"])]
        else:
            coords = list(geom.coords)
        key = (min(u, v), max(u, v), round(float(d["length"]), 3))  # both directions: one road
        if key in seen:
            continue
        seen.add(key)
        xs, ys = tf.transform(np.array([c[0] for c in coords]), np.array([c[1] for c in coords]))
        us.append(u)
        vs.append(v)
        lengths.append(float(d["length"]))
        lines.append(shapely.LineString(np.column_stack([xs, ys])))
    return EdgeRef(us, vs, np.array(lengths), np.array(lines, dtype=object))


def _blocked(p: shapely.Point, q: shapely.Point, barriers: list[shapely.Geometry]) -> bool:
    link = shapely.LineString([p, q])
    for b in barriers:
        if b.geom_type in ("Polygon", "MultiPolygon") and b.contains(p):
            continue
        if link.crosses(b):
            return True
    return False


def _pieces(line: shapely.LineString) -> list[tuple[shapely.LineString, float]]:
    """The straight pieces of a road and the geometric metres before each."""
    c = np.asarray(line.coords)
    before = np.r_[0, np.cumsum(np.hypot(*np.diff(c, axis=0).T))]
    return [(shapely.LineString(c[j:j + 2]), float(before[j])) for j in range(len(c) - 1)]


def join(edges: EdgeRef, x: float, y: float, barriers: list[shapely.Geometry], *,
         radius: float | None = None, max_access: float = 500.0) -> list[tuple[int, float, float]]:
    """Roads a point joins: [(edge index, metres along, access metres)].

    The nearest barrier-free road (``radius`` None), or every straight piece of a road
    within ``radius`` with a barrier-free walk to it (the nearest road when none is).
    """
    p = shapely.Point(x, y)
    dist = shapely.distance(edges.lines, p)
    out: list[tuple[int, float, float]] = []
    if radius is not None:
        for i in np.flatnonzero(dist <= radius):
            line = edges.lines[i]
            for piece, before in _pieces(line):
                acc = piece.distance(p)
                q = shapely.ops.nearest_points(piece, p)[0]
                if acc <= radius and not _blocked(p, q, barriers):
                    along = (before + piece.project(p)) / line.length * edges.length[i]
                    out.append((int(i), float(along), float(acc)))
        if out:
            return out
    for i in np.argsort(dist, kind="stable"):
        if dist[i] > max_access:
            break
        q = shapely.ops.nearest_points(edges.lines[i], p)[0]
        if _blocked(p, q, barriers):
            continue
        line = edges.lines[i]
        along = line.project(p) / line.length * edges.length[i] if line.length else 0.0
        return [(int(i), float(along), float(dist[i]))]
    return out


def distances(graph: nx.MultiDiGraph, crs: str, points: np.ndarray, facilities: np.ndarray, *,
              barriers: list[shapely.Geometry] = (), radius: float | None = None,
              max_access: float = 500.0) -> np.ndarray:
    """Metres from each point to its nearest facility (``inf`` when none is reachable)."""
    edges = edges_of(graph, crs)
    g = nx.Graph()
    for u, v, length in zip(edges.u, edges.v, edges.length, strict=True):
        if not g.has_edge(u, v) or g[u][v]["length"] > length:
            g.add_edge(u, v, length=length)
    barriers = list(barriers)
    fac_joins = []
    for fx, fy in facilities:
        fac_joins += [(e, a, acc) for e, a, acc in join(edges, fx, fy, barriers, max_access=max_access)]
    src = ("SOURCE",)
    for e, along, acc in fac_joins:
        for node, cost in ((edges.u[e], along + acc), (edges.v[e], edges.length[e] - along + acc)):
            if not g.has_edge(src, node) or g[src][node]["length"] > cost:
                g.add_edge(src, node, length=cost)
    d_node = nx.single_source_dijkstra_path_length(g, src, weight="length") if fac_joins else {}
    out = np.full(len(points), np.inf)
    for k, (x, y) in enumerate(points):
        for e, along, acc in join(edges, x, y, barriers, radius=radius, max_access=max_access):
            best = min(along + d_node.get(edges.u[e], np.inf),
                       edges.length[e] - along + d_node.get(edges.v[e], np.inf))
            for fe, falong, facc in fac_joins:
                if fe == e:
                    best = min(best, abs(falong - along) + facc)
            out[k] = min(out[k], best + acc)
    return out
