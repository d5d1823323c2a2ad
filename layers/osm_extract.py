"""Road ways of an OSM extract (PBF, XML, XML.bz2) read straight into arrays.

One streaming pass with pyosmium: node locations are kept by libosmium, and only the ways
(and relations) holding a road or barrier key reach Python (a regional extract's millions
of buildings never do).  The ways the network uses (the rules of :mod:`layers.roads`:
walk or drive, ``area=yes`` and ``foot=no`` out) and the barriers of
:mod:`layers.barriers` (rivers, railways, motorways, water areas) are read in that pass;
water multipolygons, whose relations come last in a file, get their rings from a second,
ways-only read located through the first pass's index.  A way is kept when it reaches
into ``clip`` (a polygon in EPSG:4326, the region's outline grown by its buffer): a
regional extract gives the region's roads, not the extract's.  Every vertex of a way is a
node (curved roads keep their shape), so :func:`geo.engine.network.from_ways` builds the
CSR arrays with no networkx round trip.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from layers.errors import LayerError

if TYPE_CHECKING:
    import geopandas as gpd
    import networkx as nx

__all__ = ["DEFAULT_BUFFER_M", "ONEWAY_FORWARD", "ONEWAY_REVERSE", "WayArrays", "clip_key", "graph_from_ways",
           "read_ways", "road_clip"]

DEFAULT_BUFFER_M = 3000.0
"""Metres of road kept around a region's boundaries (``[roads] buffer``): routes that leave
the region and come back, and facilities just across its border."""

log = logging.getLogger(__name__)

ONEWAY_FORWARD = frozenset({"yes", "true", "1"})
ONEWAY_REVERSE = frozenset({"-1", "reverse"})
"""``oneway`` values (as osmnx reads them): travelled along the way, or against it."""


@dataclass(frozen=True)
class WayArrays:
    """The kept ways as flat arrays (EPSG:4326).

    ``node_ids``/``lon``/``lat``: the distinct nodes; ``u``/``v``: each pair of consecutive
    vertices (positions in ``node_ids``); ``way``: the way of each pair; per way
    ``highway``, ``name``, ``foot``, ``conditional`` (strings, "" when absent) and
    ``oneway`` (0 both ways, 1 along, −1 against; always 0 for a walk network); the
    barriers (:meth:`barriers`) as packed WKB with offsets, kind and name."""

    node_ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    u: np.ndarray
    v: np.ndarray
    way: np.ndarray
    highway: np.ndarray
    name: np.ndarray
    foot: np.ndarray
    conditional: np.ndarray
    oneway: np.ndarray
    network: str
    barrier_wkb: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.uint8))
    barrier_off: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(1, np.int64))
    barrier_kind: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, object))
    barrier_name: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, object))

    @property
    def ways(self) -> int:
        return len(self.highway)

    def barriers(self, source: str) -> gpd.GeoDataFrame:
        """The barrier lines and water areas met in the same pass (kept to the clip), as a
        :mod:`layers.barriers` frame (EPSG:4326)."""
        from layers.barriers import barrier_frame

        raw, off = self.barrier_wkb.tobytes(), self.barrier_off
        geoms = shapely.from_wkb([raw[off[i]:off[i + 1]] for i in range(len(off) - 1)])
        return barrier_frame(list(self.barrier_kind), list(self.barrier_name), source, list(geoms))


def _oneway(tags: Any, network: str) -> int:
    if network == "walk":
        return 0
    value = str(tags.get("oneway", "")).strip().lower()
    if value in ONEWAY_REVERSE:
        return -1
    if value in ONEWAY_FORWARD or tags.get("junction") == "roundabout":
        return 1
    return 0


def _vertices(nodes: Any) -> tuple[list[int], list[float], list[float]]:
    """Node ids and locations of a way's node list: through pyosmium's C accessor when it
    has one (twice as fast as iterating the list's Python wrapper), else by iterating."""
    c_list: Any = getattr(nodes, "_list", None)
    data = getattr(nodes, "_pyosmium_data", None)
    items = list(nodes) if c_list is None or data is None else None
    refs: list[int] = []
    lon: list[float] = []
    lat: list[float] = []
    for i in range(len(nodes)):
        n = items[i] if items is not None else c_list.get(data, i)
        loc = n.location
        refs.append(n.ref)
        lon.append(loc.lon)
        lat.append(loc.lat)
    return refs, lon, lat


class _Collect:
    """Python lists filled way by way (the per-node work is the unavoidable copy out of
    libosmium; everything after it is vectorised): the network's roads, and the barrier
    lines and water areas (:mod:`layers.barriers`) met in the same pass."""

    def __init__(self, network: str) -> None:
        from layers.barriers import is_water_area, way_barrier
        from layers.roads import CONDITIONAL_TAGS, NOT_DRIVABLE, NOT_WALKABLE

        self.way_barrier, self.is_water_area = way_barrier, is_water_area
        self.network = network
        self.drop = NOT_WALKABLE if network == "walk" else NOT_DRIVABLE
        self.cond_tags = CONDITIONAL_TAGS[network]
        self.refs: list[int] = []
        self.lon: list[float] = []
        self.lat: list[float] = []
        self.sizes: list[int] = []
        self.attrs: list[tuple[str, str, str, str, int]] = []
        self.line_lon: list[float] = []
        self.line_lat: list[float] = []
        self.line_sizes: list[int] = []
        self.line_facts: list[tuple[str, str]] = []
        self.water_areas: list[shapely.Geometry] = []
        self.water_names: list[str] = []
        self.rel_names: list[str] = []
        self.rel_rings: list[tuple[list[shapely.Geometry], list[shapely.Geometry]]] = []
        self.members: dict[int, list[tuple[int, bool]]] = {}

    def _road(self, tags: Any) -> bool:
        hw = tags.get("highway")
        if not hw or hw in self.drop or tags.get("area") == "yes":
            return False
        return not (self.network == "walk" and str(tags.get("foot", "") or "").lower() == "no")

    def way(self, w: Any) -> None:
        tags = w.tags  # looked up by key: iterating a way's tags costs more than a dozen lookups
        nodes = w.nodes
        road, kind = self._road(tags), self.way_barrier(tags)
        water = self.is_water_area(tags) and len(nodes) >= 4 and nodes.is_closed()
        if not (road or kind or water) or len(nodes) < 2:
            return
        refs, lon, lat = _vertices(nodes)
        if road:
            self.refs += refs
            self.lon += lon
            self.lat += lat
            self.sizes.append(len(refs))
            cond = "; ".join(str(tags.get(k)) for k in self.cond_tags if tags.get(k))
            self.attrs.append((str(tags.get("highway")), str(tags.get("name", "") or "").strip(),
                               str(tags.get("foot", "") or ""), cond, _oneway(tags, self.network)))
        if water:
            self.water_areas.append(shapely.Polygon(list(zip(lon, lat, strict=True))))
            self.water_names.append(str(tags.get("name") or ""))
        if kind:
            self.line_lon += lon
            self.line_lat += lat
            self.line_sizes.append(len(refs))
            self.line_facts.append((kind, str(tags.get("name") or "")))

    def relation(self, r: Any) -> None:
        """A water multipolygon: its member ways are read after the pass (:meth:`member`)."""
        from layers.barriers import is_water_area

        if r.tags.get("type") != "multipolygon" or not is_water_area(r.tags):
            return
        k = len(self.rel_names)
        self.rel_names.append(str(r.tags.get("name") or ""))
        self.rel_rings.append(([], []))
        for m in r.members:
            if m.type == "w":
                self.members.setdefault(m.ref, []).append((k, m.role == "inner"))

    def member(self, w: Any, locations: Any) -> None:
        """A member way of water multipolygons, located through the main pass's index."""
        try:
            line = shapely.LineString([(loc.lon, loc.lat) for loc in (locations.get(n.ref) for n in w.nodes)])
        except (KeyError, ValueError, shapely.errors.GEOSException):  # a member outside the extract
            return
        for k, inner in self.members.get(w.id, []):
            self.rel_rings[k][inner].append(line)

    def water(self) -> tuple[list[shapely.Geometry], list[str]]:
        """Water areas: closed ways, and multipolygons assembled from their rings."""
        geoms, names = list(self.water_areas), list(self.water_names)
        for name, (outer, inner) in zip(self.rel_names, self.rel_rings, strict=True):
            area = shapely.union_all(shapely.get_parts(shapely.polygonize(outer))) if outer else None
            if area is None or area.is_empty:
                continue
            if inner:
                area = area.difference(shapely.union_all(shapely.get_parts(shapely.polygonize(inner))))
            geoms.append(area)
            names.append(name)
        return geoms, names


WAYS_VERSION = 2
"""The format of the cached ways (:func:`read_ways`); a change rebuilds them."""
_TEXT = ("highway", "name", "foot", "conditional", "barrier_kind", "barrier_name")
_NUMBERS = ("node_ids", "lon", "lat", "u", "v", "way", "oneway", "barrier_wkb", "barrier_off")


def read_ways(path: Path, *, network: str, clip: shapely.Geometry | None = None,
              cache: bool = True) -> WayArrays:
    """The road ways of an OSM file as :class:`WayArrays`, kept to ``clip`` (see module doc);
    kept in the cache folder (:mod:`layers.cache`) by the file's content, the network and
    the outline, so a second command never reads the extract again.

    Raises :class:`layers.errors.LayerError` for a file pyosmium cannot read (truncated,
    not OSM), one that expands too far (:mod:`layers.osm_size`) and when no road of the
    network lies in ``clip``."""
    from layers.cache import cache_folder, file_hash
    from layers.osm_size import check_expansion
    from layers.readers import require_file

    require_file(path)
    target = cache_folder() / f"ways-{file_hash(path)}-{network}-{clip_key(clip)}-v{WAYS_VERSION}.npz"
    out = _load_ways(target, network) if cache else None
    if out is None:
        check_expansion(path)
        out = _read_ways_now(path, network=network, clip=clip)
        if cache:
            _save_ways(target, out)
    if out.ways and clip is None:
        from layers.crs import JAPAN_BOUNDS

        w, so, e, n = JAPAN_BOUNDS
        if not ((out.lon >= w) & (out.lon <= e) & (out.lat >= so) & (out.lat <= n)).any():
            raise LayerError("道路がすべて日本の範囲外にあります（別の国・地域の抽出ファイルです）。",
                             file=path,
                             fix="日本の地域抽出（例: Geofabrik の asia/japan/tohoku-latest.osm.pbf）を"
                             "指定してください。")
    if not out.ways:
        where = "地域の範囲（と周りの余白）に" if clip is not None else ""
        raise LayerError(f"{where}使える道路（{network}）がありません。", file=path,
                         fix="地域を含む範囲の OSM ファイル（例: 東北地方の抽出）か、"
                         "地域の市町村界を確かめてください。")
    return out


def _save_ways(target: Path, ways: WayArrays) -> None:
    from layers.atomic import atomic_path
    from layers.cache import keep_within_limit

    target.parent.mkdir(parents=True, exist_ok=True)
    arrays = {k: getattr(ways, k) for k in _NUMBERS}
    arrays |= {k: np.asarray(getattr(ways, k), dtype=str) for k in _TEXT}
    with atomic_path(target) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)
    keep_within_limit()


def _load_ways(target: Path, network: str) -> WayArrays | None:
    if not target.exists():
        return None
    try:
        with np.load(target, allow_pickle=False) as z:
            got = {k: z[k] for k in _NUMBERS} | {k: z[k].astype(object) for k in _TEXT}
    except (OSError, ValueError, KeyError):
        log.warning("cached ways unreadable, reading the extract again: %s", target.name)
        return None
    return WayArrays(**got, network=network)


def _read_ways_now(path: Path, *, network: str, clip: shapely.Geometry | None) -> WayArrays:
    """One pass over the file (see :func:`read_ways`)."""
    import osmium

    from layers.barriers import BARRIER_KEYS

    got = _Collect(network)
    try:
        proc = (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY | osmium.osm.RELATION)
                .with_locations()
                .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY | osmium.osm.RELATION))
                .with_filter(osmium.filter.KeyFilter(*BARRIER_KEYS)))
        for obj in proc:
            if isinstance(obj, osmium.osm.Relation):
                got.relation(obj)
            else:
                got.way(obj)
        if got.members:  # water multipolygons (relations come last): their rings, ways only
            for w in (osmium.FileProcessor(str(path), osmium.osm.WAY)
                      .with_filter(osmium.filter.IdFilter(got.members))):
                got.member(w, proc.node_location_storage)
    except (RuntimeError, osmium.InvalidLocationError, ValueError) as exc:
        from layers.osm_size import unreadable

        raise unreadable(path) from exc
    out = _arrays(got, clip)
    log.info("%s: %d ways, %d nodes (%s)", Path(path).name, out.ways, len(out.node_ids), network)
    return out


def _arrays(got: _Collect, clip: shapely.Geometry | None) -> WayArrays:
    refs = np.asarray(got.refs, np.int64)
    lon = np.asarray(got.lon, float)
    lat = np.asarray(got.lat, float)
    sizes = np.asarray(got.sizes, np.int64)
    way_of = np.repeat(np.arange(len(sizes)), sizes)
    keep_way = np.ones(len(sizes), bool)
    if clip is not None and len(refs):
        inside = shapely.contains_xy(clip, lon, lat)
        keep_way = np.bincount(way_of, weights=inside, minlength=len(sizes)) > 0
    keep_node = keep_way[way_of]
    # pairs of consecutive vertices of the kept ways
    nxt = np.ones(len(refs), bool)
    nxt[np.cumsum(sizes) - 1] = False
    first = np.flatnonzero(nxt & keep_node)
    ids, inv = np.unique(refs[keep_node], return_inverse=True)
    pos = np.full(len(refs), -1, np.int64)
    pos[keep_node] = inv
    loc_lon = np.zeros(len(ids))
    loc_lat = np.zeros(len(ids))
    loc_lon[inv], loc_lat[inv] = lon[keep_node], lat[keep_node]
    kept = np.flatnonzero(keep_way)
    renum = np.full(len(sizes), -1, np.int64)
    renum[kept] = np.arange(len(kept))
    attrs = [got.attrs[i] for i in kept]
    col = list(zip(*attrs, strict=True)) if attrs else [(), (), (), (), ()]
    wkb, off, kind, name = _barriers(got, clip)
    return WayArrays(
        node_ids=ids, lon=loc_lon, lat=loc_lat, u=pos[first], v=pos[first + 1], way=renum[way_of[first]],
        highway=np.asarray(col[0], dtype=object), name=np.asarray(col[1], dtype=object),
        foot=np.asarray(col[2], dtype=object), conditional=np.asarray(col[3], dtype=object),
        oneway=np.asarray(col[4], np.int8), network=got.network,
        barrier_wkb=wkb, barrier_off=off, barrier_kind=kind, barrier_name=name)


def _barriers(got: _Collect, clip: shapely.Geometry | None) -> tuple[np.ndarray, ...]:
    """The collected barrier lines and water areas that touch ``clip``, packed as WKB."""
    sizes = np.asarray(got.line_sizes, np.int64)
    at = np.repeat(np.arange(len(sizes)), sizes)
    lines = (shapely.linestrings(np.c_[got.line_lon, got.line_lat], indices=at) if len(sizes)
             else np.zeros(0, object))
    water, water_names = got.water()
    geoms = np.concatenate([lines, np.array(water, dtype=object)])
    kind = np.array([k for k, _n in got.line_facts] + ["water"] * len(water), dtype=object)
    name = np.array([n for _k, n in got.line_facts] + water_names, dtype=object)
    if clip is not None and len(geoms):
        shapely.prepare(clip)
        keep = shapely.intersects(clip, geoms)
        geoms, kind, name = geoms[keep], kind[keep], name[keep]
    blobs = list(shapely.to_wkb(geoms)) if len(geoms) else []
    off = np.zeros(len(blobs) + 1, np.int64)
    off[1:] = np.cumsum([len(b) for b in blobs])
    return np.frombuffer(b"".join(blobs), np.uint8).copy(), off, kind, name


def graph_from_ways(ways: WayArrays) -> nx.MultiDiGraph:
    """An osmnx-style graph of the ways (EPSG:4326; every vertex a node; edge ``length`` in
    metres along the great circle, ``highway``, ``name``, ``foot``, ``conditional``,
    ``oneway``, ``osmid`` = the way's index): what maps and the region's checks draw and
    count.  A walk graph gets both directions of every pair, a drive graph its one-ways."""
    import networkx as nx

    lon, lat = ways.lon, ways.lat
    u, v, way = ways.u, ways.v, ways.way
    p1, p2 = np.radians(lat[u]), np.radians(lat[v])
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon[v] - lon[u]) / 2) ** 2
    length = 2 * 6_371_009.0 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    one = ways.oneway[way] if ways.network != "walk" else np.zeros(len(u), np.int8)
    graph = nx.MultiDiGraph(crs="epsg:4326", network=ways.network)
    graph.add_nodes_from((int(i), {"x": float(x), "y": float(y)})
                         for i, x, y in zip(ways.node_ids, lon, lat, strict=True))
    ids = ways.node_ids

    def attrs(k: int, w: int) -> dict[str, Any]:
        d: dict[str, Any] = {"osmid": w, "length": float(length[k]), "highway": ways.highway[w],
                             "oneway": bool(one[k] != 0)}
        for key, col in (("name", ways.name), ("foot", ways.foot), ("conditional", ways.conditional)):
            if col[w]:
                d[key] = col[w]
        return d

    fwd = np.flatnonzero(one >= 0)
    bwd = np.flatnonzero(one <= 0)
    graph.add_edges_from((int(ids[u[k]]), int(ids[v[k]]), attrs(int(k), int(way[k]))) for k in fwd)
    graph.add_edges_from((int(ids[v[k]]), int(ids[u[k]]), attrs(int(k), int(way[k]))) for k in bwd)
    return graph


def road_clip(boundaries: gpd.GeoDataFrame | None, buffer_m: float, crs: str) -> shapely.Geometry | None:
    """The outline a region's roads are kept to: its boundaries grown by ``buffer_m``
    (metres, in the metric ``crs``), in EPSG:4326, simplified to 50 m; None without
    boundaries (the whole file)."""
    if boundaries is None or not len(boundaries):
        return None
    import geopandas as gpd

    from layers.crs import STORAGE_CRS

    metric = boundaries.to_crs(crs).geometry.union_all().buffer(float(buffer_m)).simplify(50.0)
    return gpd.GeoSeries([metric], crs=crs).to_crs(STORAGE_CRS).iloc[0]


def clip_key(clip: shapely.Geometry | None) -> str:
    """A short content key of a clip outline (for the network cache)."""
    import hashlib

    if clip is None:
        return "all"
    return hashlib.sha256(shapely.to_wkb(shapely.set_precision(clip, 1e-6))).hexdigest()[:12]
