"""Road networks: osmnx GraphML, OSM XML (``.osm``, ``.osm.bz2``), OSM PBF.

Every loader returns an osmnx-compatible :class:`networkx.MultiDiGraph` in
EPSG:4326 (node ``x``/``y`` in degrees, edge ``length`` in metres,
``highway``, ``oneway``, ``name`` where known), graph attribute ``crs``.

``network="walk"`` makes every edge walkable both ways and drops roads people
may not walk on (motorways); ``network="drive"`` drops footways, steps, paths
and tracks and keeps one-way streets directed.

An OSM extract is read straight from its ways (:mod:`layers.osm_extract`: clipped to the
region, cached); roads fetched when online come through :mod:`layers.osm_download`.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np

from layers.barriers import graph_barriers
from layers.crs import JAPAN_BOUNDS
from layers.errors import LayerError
from layers.readers import detect_format, require_file

__all__ = ["NETWORKS", "filter_network", "graph_summary", "load_roads",
           "load_roads_and_barriers"]

log = logging.getLogger(__name__)

NETWORKS = ("walk", "drive")
NOT_WALKABLE = {"motorway", "motorway_link", "bus_guideway", "raceway", "construction",
                "proposed", "abandoned", "platform"}
NOT_DRIVABLE = {"footway", "path", "pedestrian", "steps", "track", "cycleway", "bridleway",
                "corridor", "elevator", "escalator", "construction", "proposed", "abandoned",
                "platform", "bus_guideway", "raceway"}


GRAPHML_LOCK = threading.Lock()
"""One GraphML parse at a time in this process.  osmnx converts edge attributes with
``ast.literal_eval``, and CPython 3.11's compiler is not thread-safe ("AST constructor
recursion depth mismatch" when two threads parse at once — cpython gh-106905): two app
sessions opening regions together would fail.  tests/test_concurrency.py caught it."""

def _parse_graphml(path: Path, tries: int = 3) -> nx.MultiDiGraph:
    """osmnx's GraphML parse under :data:`GRAPHML_LOCK`; tried again when CPython's compiler
    reports the gh-106905 race (``SystemError``: another thread — an import compiling its
    source, say — was in the compiler at the same moment, which no lock here can hold)."""
    import osmnx as ox

    for _ in range(tries - 1):
        try:
            with GRAPHML_LOCK:
                return ox.load_graphml(path)
        except SystemError:
            log.info("GraphML parse met the compiler race (gh-106905); reading %s again", path.name)
    with GRAPHML_LOCK:  # the last try: its error is the caller's
        return ox.load_graphml(path)


def load_roads(
    path: Path, *, network: str = "walk", fmt: str | None = None, clip: Any = None
) -> nx.MultiDiGraph:
    """Load a road graph from GraphML, OSM XML or OSM PBF.

    Parameters
    ----------
    path
        The file.
    network
        ``"walk"`` or ``"drive"``.
    fmt
        ``"graphml"``, ``"osm"`` or ``"pbf"`` to override detection.
    clip
        For an OSM extract: the outline (EPSG:4326) its roads are kept to
        (:func:`layers.osm_extract.road_clip`); None keeps the whole file.
    """
    return load_roads_and_barriers(path, network=network, fmt=fmt, clip=clip)[0]


def load_roads_and_barriers(
    path: Path, *, network: str = "walk", fmt: str | None = None, clip: Any = None,
) -> tuple[nx.MultiDiGraph, gpd.GeoDataFrame]:
    """The road graph of a file and the barriers to walking access it holds.

    Barriers (:mod:`layers.barriers`): from OSM XML/PBF the rivers, water areas,
    railways and motorways (kept to ``clip``); from GraphML the motorways and ``foot=no``
    roads of the graph (before a walk graph drops them).  An OSM extract is read straight
    from its ways in one pass that also collects its barriers (:mod:`layers.osm_extract`,
    cached), kept to ``clip``.
    """
    if network not in NETWORKS:
        raise LayerError(
            "network の指定が分かりません。",
            column="network",
            file=path,
            fix='network = "walk"（徒歩）または "drive"（車）を指定してください。',
        )
    require_file(path)
    kind = detect_format(path, fmt)

    try:
        if kind == "graphml":
            raw = _parse_graphml(path)
            barriers = graph_barriers(raw, source=path.name)
            graph = raw
        elif kind == "osm" or kind == "pbf":
            from layers.osm_extract import graph_from_ways, read_ways

            ways = read_ways(path, network=network, clip=clip)
            graph, barriers = graph_from_ways(ways), ways.barriers(path.name)
        else:
            raise LayerError(
                f"道路データとして扱えない形式です（{kind}）。",
                file=path,
                fix="osmnx の GraphML（.graphml）、OSM XML（.osm/.osm.bz2）、"
                "OSM PBF（.osm.pbf）を指定してください。",
            )
    except LayerError:
        raise
    except Exception as exc:
        raise LayerError(
            f"道路データを読み込めません（形式: {kind}）。",
            file=path,
            fix="ファイルが壊れていないか、osmnx で保存した GraphML / OSM のファイルか確認してください。",
        ) from exc
    return _check(filter_network(graph, network), path), barriers


CONDITIONAL_TAGS = {"walk": ("access:conditional", "foot:conditional"),
                    "drive": ("access:conditional", "vehicle:conditional", "motor_vehicle:conditional")}
"""OSM tags whose date conditions close a road to the network's travellers (osmnx keeps
none of them: they are read from the ways here, kept as ``conditional`` on the edges)."""


def filter_network(graph: nx.MultiDiGraph, network: str) -> nx.MultiDiGraph:
    """Return a new graph with only the edges usable by ``network``.

    Walk graphs get a reverse edge for every one-way edge (people walk both ways).
    The input graph is not modified.
    """
    drop = NOT_WALKABLE if network == "walk" else NOT_DRIVABLE
    out = nx.MultiDiGraph()
    out.graph.update(graph.graph)
    out.add_nodes_from(graph.nodes(data=True))
    for u, v, k, data in graph.edges(keys=True, data=True):
        hw = data.get("highway")
        if not hw:
            continue  # buildings, landuse … that an OSM extract also holds
        types = set(hw) if isinstance(hw, list) else {hw}
        if types <= drop:
            continue
        if network == "walk" and str(data.get("foot", "")).lower() == "no":
            continue  # a road pedestrians may not use (a barrier, see layers.barriers)
        out.add_edge(u, v, key=k, **data)
    if network == "walk":
        for u, v, k, data in list(out.edges(keys=True, data=True)):
            if not out.has_edge(v, u):
                rev = dict(data)
                rev["reversed"] = not bool(data.get("reversed", False))
                if "geometry" in rev:
                    rev["geometry"] = rev["geometry"].reverse()
                out.add_edge(v, u, key=k, **rev)
        for _, _, d in out.edges(data=True):
            d["oneway"] = False
    out.remove_nodes_from([n for n in list(out.nodes) if out.degree(n) == 0])
    out.graph["network"] = network
    return out


def _check(graph: nx.MultiDiGraph, path: Path) -> nx.MultiDiGraph:
    if graph.number_of_nodes() == 0 or graph.number_of_edges() == 0:
        raise LayerError(
            "道路のない（空の）グラフです。",
            file=path,
            fix="範囲や道路の種類（walk/drive）を確認してください。",
        )
    crs = str(graph.graph.get("crs", "epsg:4326")).lower()
    if crs not in ("epsg:4326", "epsg:6668", "wgs84"):
        import osmnx as ox

        graph = ox.project_graph(graph, to_latlong=True)
    xs = np.fromiter((d.get("x", np.nan) for _, d in graph.nodes(data=True)), float)
    ys = np.fromiter((d.get("y", np.nan) for _, d in graph.nodes(data=True)), float)
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        raise LayerError(
            "座標（x/y）のないノードがあります。",
            file=path, column="x",
            fix="osmnx で保存した GraphML を使ってください。",
        )
    w, s, e, n = JAPAN_BOUNDS
    if not ((xs >= w) & (xs <= e) & (ys >= s) & (ys <= n)).all():
        raise LayerError(
            "道路のノードが日本の範囲外にあります。",
            file=path, column="x",
            fix="緯度経度（EPSG:4326）の道路グラフを指定してください。",
        )
    for _, _, d in graph.edges(data=True):
        if "length" not in d:
            raise LayerError(
                "長さ（length）のない道路区間があります。",
                file=path, column="length",
                fix="osmnx で作成・保存したグラフを使ってください。",
            )
        break
    graph.graph["crs"] = "epsg:4326"
    return graph


def graph_summary(graph: nx.MultiDiGraph) -> dict[str, Any]:
    """``{"nodes": N, "edges": M, "network": ...}`` for check tables."""
    return {
        "nodes": int(graph.number_of_nodes()),
        "edges": int(graph.number_of_edges()),
        "network": graph.graph.get("network", ""),
    }
