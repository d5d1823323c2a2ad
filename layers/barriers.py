"""Barriers to walking access: rivers, water areas, railways, roads people may not walk on.

A person reaches the road network by walking straight to the nearest road
(:mod:`geo.engine.network`), but never across a river, a railway or an expressway:
such a straight line is not a walk anyone can take.  Barriers come from

* the road file itself — OSM XML/PBF: ``waterway=river|canal|stream`` lines,
  ``natural=water`` / ``waterway=riverbank`` / ``landuse=reservoir`` areas,
  ``railway=rail|light_rail|narrow_gauge`` lines, ``highway=motorway(_link)`` and
  ``foot=no`` roads; GraphML (osmnx): the motorways and ``foot=no`` roads it holds
  (:func:`graph_barriers`); an extract's are read in the road pass
  (:mod:`layers.osm_extract`).  Pieces on a bridge or in a tunnel (or a culvert) are
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

__all__ = ["BARRIER_KEYS", "COLUMNS", "KIND_LABELS", "barrier_frame", "empty_barriers", "graph_barriers",
           "is_water_area", "load_barriers", "way_barrier"]

log = logging.getLogger(__name__)

LAYER = "barriers"
COLUMNS = ["barrier_id", "kind", "name", "source", "geometry"]
KIND_LABELS = {
    "river": "河川", "canal": "水路", "stream": "小川", "water": "水面", "railway": "鉄道",
    "motorway": "歩行者が通れない道路", "barrier": "障壁",
}
WATERWAYS = {"river", "canal", "stream"}
WATER_AREAS = {"natural": {"water"}, "waterway": {"riverbank"}, "landuse": {"reservoir", "basin"}}
"""Tags of water areas (key → values) nobody walks across."""
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


def barrier_frame(kinds: Sequence[str], names: Sequence[str], source: str,
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
    return barrier_frame(["motorway"] * len(geoms), names, source, geoms)


def way_barrier(tags: Any) -> str | None:
    """The kind of barrier line an OSM way is (river, canal, stream, railway, motorway),
    or None: bridges, tunnels and culverts are passed over or under."""
    waterway = tags.get("waterway")
    if waterway in WATERWAYS:
        kind = str(waterway)
    elif tags.get("railway") in RAILWAYS:
        kind = "railway"
    elif tags.get("highway") in NO_FOOT_HIGHWAYS or tags.get("foot") == "no":
        kind = "motorway"
    else:
        return None
    return None if _passable(tags) else kind


def is_water_area(tags: Any) -> bool:
    """Whether an OSM area (closed way or multipolygon) is water nobody walks across."""
    return any(tags.get(key) in values for key, values in WATER_AREAS.items()) and not _passable(tags)


BARRIER_KEYS = ("waterway", "railway", "highway", "foot", "natural", "landuse")
"""The OSM keys :func:`way_barrier` and :func:`is_water_area` read (a reader's tag filter)."""


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
        frames.append(barrier_frame(list(kinds), list(names), path.name, list(gdf.geometry.to_numpy())))
    return _concat(frames)


def _concat(frames: Iterable[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_barriers()
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=STORAGE_CRS)
    out["barrier_id"] = [f"B{i + 1:04d}" for i in range(len(out))]
    return out
