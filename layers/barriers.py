"""Barriers to walking access: rivers, water areas, railways, roads people may not walk on.

A person reaches the road network by walking straight to the nearest road
(:mod:`geo.engine.network`), but never across a river, a railway or an expressway:
such a straight line is not a walk anyone can take.  Barriers come from

* the road file itself — OSM XML/PBF: ``waterway=river|canal|stream`` lines,
  ``natural=water`` / ``waterway=riverbank`` / ``landuse=reservoir`` areas,
  ``railway=rail|light_rail|narrow_gauge`` lines, ``highway=motorway(_link)`` and
  ``foot=no`` roads; GraphML (osmnx): the motorways and ``foot=no`` roads it holds
  (:func:`graph_barriers`).  Pieces on a bridge or in a tunnel (or a culvert) are
  not barriers: people pass under or over them;
* an optional ``[layers.barriers]`` file of lines or polygons (rivers, water
  bodies, railways, fences …), any vector format (:func:`load_barriers`).

Canonical schema (EPSG:4326):

==========  =====  ====================================================
column      type   meaning
==========  =====  ====================================================
barrier_id  str    ``B0001``…
kind        str    ``river``, ``canal``, ``stream``, ``water``, ``railway``,
                   ``motorway``, ``barrier`` (a user's file without a kind)
name        str    name when known
source      str    file name
geometry    Line/Polygon (multi-part allowed)
==========  =====  ====================================================
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers.crs import STORAGE_CRS
from layers.readers import LINEAR_OR_POLYGONAL, read_vector, require_geometry, require_rows
from layers.validate import pick

__all__ = ["COLUMNS", "KIND_LABELS", "empty_barriers", "graph_barriers", "load_barriers",
           "osm_barriers"]

log = logging.getLogger(__name__)

LAYER = "barriers"
COLUMNS = ["barrier_id", "kind", "name", "source", "geometry"]
KIND_LABELS = {
    "river": "河川", "canal": "水路", "stream": "小川", "water": "水面", "railway": "鉄道",
    "motorway": "歩行者が通れない道路", "barrier": "障壁",
}
WATERWAYS = {"river", "canal", "stream"}
WATER_AREAS = {("natural", "water"), ("waterway", "riverbank"), ("landuse", "reservoir"),
               ("landuse", "basin")}
RAILWAYS = {"rail", "light_rail", "narrow_gauge"}
NO_FOOT_HIGHWAYS = {"motorway", "motorway_link"}
_KIND_ALIASES = {
    "河川": "river", "川": "river", "水路": "canal", "用水路": "canal", "小川": "stream", "沢": "stream",
    "水面": "water", "湖": "water", "池": "water", "沼": "water", "ため池": "water",
    "鉄道": "railway", "線路": "railway", "高速道路": "motorway", "自動車専用道路": "motorway",
}
KIND_NAMES = ("kind", "種別", "種類", "type")
NAME_NAMES = ("name", "名称", "河川名", "路線名")


def empty_barriers() -> gpd.GeoDataFrame:
    """A barrier frame with no rows (the canonical columns)."""
    return gpd.GeoDataFrame({c: pd.Series(dtype=str) for c in COLUMNS[:-1]},
                            geometry=gpd.GeoSeries([], crs=STORAGE_CRS), crs=STORAGE_CRS)


def _frame(kinds: Sequence[str], names: Sequence[str], source: str,
           geoms: Sequence[shapely.Geometry]) -> gpd.GeoDataFrame:
    if not len(geoms):
        return empty_barriers()
    out = gpd.GeoDataFrame({"kind": list(kinds), "name": list(names), "source": source},
                           geometry=list(geoms), crs=STORAGE_CRS)
    out.insert(0, "barrier_id", [f"B{i + 1:04d}" for i in range(len(out))])
    return out[COLUMNS]


def _passable(tags: Any) -> bool:
    """Bridges, tunnels and culverts: people pass over or under them."""
    def on(key: str) -> bool:
        value = tags.get(key)
        return value is not None and str(value).lower() not in ("no", "false", "0", "")
    return on("bridge") or on("tunnel") or on("covered")


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def graph_barriers(graph: nx.MultiDiGraph, *, source: str = "") -> gpd.GeoDataFrame:
    """Roads of an osmnx graph (EPSG:4326) that pedestrians may not walk on, as barriers.

    Motorways (and their links) and ``foot=no`` roads, except where they run on a
    bridge or in a tunnel.  Both directions of a road give one barrier.
    """
    geoms: list[shapely.Geometry] = []
    names: list[str] = []
    seen: set[tuple[int, int]] = set()
    for u, v, d in graph.edges(data=True):
        hw = d.get("highway")
        types = set(hw) if isinstance(hw, list) else {hw}
        foot = str(_first(d.get("foot")) or "").lower()
        if not (types & NO_FOOT_HIGHWAYS or foot == "no") or _passable(d):
            continue
        key = (min(u, v), max(u, v))
        if key in seen:
            continue
        seen.add(key)
        geom = d.get("geometry")
        if geom is None:
            geom = shapely.LineString([(graph.nodes[u]["x"], graph.nodes[u]["y"]),
                                       (graph.nodes[v]["x"], graph.nodes[v]["y"])])
        geoms.append(geom)
        name = _first(d.get("name"))
        names.append(str(name) if isinstance(name, str) else "")
    return _frame(["motorway"] * len(geoms), names, source, geoms)


def osm_barriers(path: Path) -> gpd.GeoDataFrame:  # noqa: C901 (one branch per optional part of the file)
    """Rivers, water areas, railways and motorways of an OSM XML/PBF file (one pass)."""
    import osmium

    wkb = osmium.geom.WKBFactory()
    kinds: list[str] = []
    names: list[str] = []
    geoms: list[shapely.Geometry] = []

    def add(kind: str, tags: Any, hexwkb: str) -> None:
        try:
            geom = shapely.from_wkb(bytes.fromhex(hexwkb))
        except Exception:  # a broken geometry in the extract is skipped, not fatal
            return
        kinds.append(kind)
        names.append(str(tags.get("name") or ""))
        geoms.append(geom)

    for obj in osmium.FileProcessor(str(path)).with_locations().with_areas():
        if isinstance(obj, osmium.osm.Area):
            tags = obj.tags
            if any(tags.get(k) == v for k, v in WATER_AREAS) and not _passable(tags):
                try:
                    add("water", tags, wkb.create_multipolygon(obj))
                except RuntimeError:
                    continue
        elif isinstance(obj, osmium.osm.Way):
            tags = obj.tags
            if _passable(tags):
                continue
            kind = None
            if tags.get("waterway") in WATERWAYS:
                kind = str(tags.get("waterway"))
            elif tags.get("railway") in RAILWAYS:
                kind = "railway"
            elif tags.get("highway") in NO_FOOT_HIGHWAYS or tags.get("foot") == "no":
                kind = "motorway"
            if kind is None or len(obj.nodes) < 2:
                continue
            try:
                add(kind, tags, wkb.create_linestring(obj))
            except RuntimeError:  # nodes outside the extract
                continue
    return _frame(kinds, names, path.name, geoms)


def load_barriers(
    paths: Sequence[Path],
    *,
    fmt: str | None = None,
    crs: CRS | None = None,
    encoding: str | None = None,
    kind: str | None = None,
) -> gpd.GeoDataFrame:
    """Load ``[layers.barriers]``: lines or polygons that no access walk may cross.

    ``kind`` names the whole file's kind (``river``, ``railway`` …) when it has no
    kind column.
    """
    frames: list[gpd.GeoDataFrame] = []
    for path in paths:
        gdf = read_vector(path, fmt=fmt, crs=crs, encoding=encoding)
        require_rows(gdf, file=path, layer=LAYER)
        gdf = require_geometry(gdf, LINEAR_OR_POLYGONAL, file=path, layer=LAYER)
        kc = pick(gdf, KIND_NAMES, file=path)
        nc = pick(gdf, NAME_NAMES, file=path)
        kinds = (gdf[kc].fillna("").astype(str).to_numpy() if kc
                 else np.full(len(gdf), kind or "barrier", dtype=object))
        kinds = np.array([_KIND_ALIASES.get(str(k).strip(), str(k).strip()) or kind or "barrier"
                          for k in kinds], dtype=object)
        names = gdf[nc].fillna("").astype(str).to_numpy() if nc else np.full(len(gdf), "", object)
        frames.append(_frame(list(kinds), list(names), path.name, list(gdf.geometry.to_numpy())))
    return _concat(frames)


def _concat(frames: Iterable[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_barriers()
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=STORAGE_CRS)
    out["barrier_id"] = [f"B{i + 1:04d}" for i in range(len(out))]
    return out
