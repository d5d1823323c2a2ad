"""Seasons as a scenario dimension: the road network as people walk it in winter.

A season changes the network, never the data: in **winter** (``--season winter``, or a
``--date`` in December–March)

* every road costs more to walk, by its OSM class: ``main`` roads (trunk, primary,
  secondary: ploughed first) and the ``other`` roads each add the minutes per km of
  ``[season.winter]`` for the profile (:mod:`layers.winter`; defaults +1/+2 min/km
  walking, +1.5/+3 elderly).  The network's weights stay *metres at the profile's
  summer speed* ("effective metres"): a road of length L takes
  ``L × (1 + penalty × speed / 1000)``, so a threshold in minutes becomes metres by
  the summer speed and the season slows it;
* roads on the 除雪優先 list (OSM names, or lines of priority routes) keep the summer
  speed;
* 冬期閉鎖 sections in force on the date (lines with their dates) are closed, as are
  roads whose OSM ``*:conditional`` tag closes them on the date (mid-January without
  one; read from OSM XML/PBF files, :data:`layers.roads.CONDITIONAL_TAGS`).

A threshold in metres stays metres: only the closures apply (``slow=False``).  The
seasonal network shares nodes, segments and the road index with the normal one, so
results of both compare segment by segment, and combines with any hazard (the hazard's
closures are applied to the seasonal network).  **Summer** is the network as it is.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely

from geo.engine.network import (
    ROAD_CLASSES,
    Network,
    edge_segments,
    edit_segments,
    kept_per_network,
    touching_segments,
)
from geo.engine.profiles import WALK_PROFILES, winter_factor
from layers.errors import ParameterError
from layers.winter import MAIN_CLASSES, WINTER_MONTHS, WinterSpec

if TYPE_CHECKING:
    from layers.region import RegionLike

__all__ = [
    "Season",
    "SeasonNetwork",
    "covering_segments",
    "parse_season",
    "region_season",
    "season_network",
]

log = logging.getLogger(__name__)

SEASONS = {"summer": "夏", "winter": "冬"}
_ALIASES = {"summer": "summer", "夏": "summer", "夏季": "summer", "winter": "winter", "冬": "winter",
            "冬季": "winter", "冬期": "winter"}
MATCH_M = 15.0
"""A closure or priority line names a road segment when at least half of the segment lies
within this many metres of it (a crossing street touches the line but is not on it)."""


@dataclass(frozen=True)
class Season:
    """A season and, optionally, the day it is computed for."""

    name: str = "summer"
    date: dt.date | None = None

    @property
    def label(self) -> str:
        text = SEASONS[self.name]
        return f"{text}（{self.date.isoformat()}）" if self.date else text

    @property
    def winter(self) -> bool:
        return self.name == "winter"


def parse_season(name: str | None, date: str | None = None) -> Season:
    """``--season`` and ``--date`` as a :class:`Season` (a date alone in December–March
    means winter); a clear error naming the choices otherwise."""
    day = None
    if date:
        try:
            day = dt.date.fromisoformat(str(date).strip())
        except ValueError:
            raise ParameterError("日付が読めません。", parameter="date",
                                 fix="年-月-日 の形にしてください（例 2027-01-15）。") from None
    if name is None or not str(name).strip():
        return Season("winter" if day is not None and day.month in WINTER_MONTHS else "summer", day)
    key = _ALIASES.get(str(name).strip().lower())
    if key is None:
        raise ParameterError("季節が分かりません。", parameter="season",
                             fix="summer（夏）か winter（冬）を指定してください。")
    return Season(key, day)




@dataclass(frozen=True, eq=False)
class SeasonNetwork:
    """The network of a season: ``closed``/``priority`` are masks and ``factor`` the
    weight factor over the *normal* network's segments; ``closures`` the 冬期閉鎖
    sections in force (EPSG:6668)."""

    season: Season
    profile: str
    base: Network
    network: Network
    closed: np.ndarray
    priority: np.ndarray
    factor: np.ndarray
    closures: gpd.GeoDataFrame
    notes: list[str] = field(default_factory=list)


def covering_segments(net: Network, lines: gpd.GeoDataFrame, *, within: float = MATCH_M) -> np.ndarray:
    """Mask of the segments of ``net`` that lie along ``lines`` (at least half of the
    segment within ``within`` metres of one of them)."""
    mask = np.zeros(len(net.seg_a), bool)
    if lines is None or not len(lines) or not len(net.seg_a):
        return mask
    zones = shapely.buffer(lines.to_crs(net.crs).geometry.to_numpy(), within)
    gi, si = touching_segments(net, zones)
    if not len(si):
        return mask
    from geo.engine.road_index import lines_of

    segs = lines_of(net, si)
    inside = shapely.length(shapely.intersection(segs, zones[gi]))
    total = shapely.length(segs)
    hit = inside >= 0.5 * np.maximum(total, 1e-9)
    mask[si[hit]] = True
    return mask


def roads_between(net: Network, ends: gpd.GeoDataFrame, notes: list[str]
                  ) -> tuple[np.ndarray, list[shapely.Geometry]]:
    """Mask of the segments on the shortest road path between the two ends of each line
    (a 冬期閉鎖 section given by its two places: the road from one to the other), and each
    path as a line in the network's CRS (the straight line where no road joins them)."""
    from scipy.sparse.csgraph import dijkstra

    mask = np.zeros(len(net.seg_a), bool)
    paths: list[shapely.Geometry] = []
    coords = shapely.get_coordinates(ends.to_crs(net.crs).geometry.to_numpy(), return_index=True)
    xy, owner = coords
    key = net.seg_a * net.n + net.seg_b
    missed = 0
    for k in range(len(ends)):
        pts = xy[owner == k]
        a = int(np.argmin(np.hypot(net.x - pts[0, 0], net.y - pts[0, 1])))
        b = int(np.argmin(np.hypot(net.x - pts[-1, 0], net.y - pts[-1, 1])))
        span = float(np.hypot(*(pts[-1] - pts[0])))
        _, pred = dijkstra(net.matrix(), directed=False, indices=a, limit=3 * span + 2000,
                           return_predecessors=True)
        if a != b and pred[b] < 0:
            missed += 1
            paths.append(shapely.LineString(pts[[0, -1]]))
            continue
        node, path = b, [b]
        while node != a:
            node = int(pred[node])
            path.append(node)
        u, v = np.array(path[:-1]), np.array(path[1:])
        mask[np.searchsorted(key, np.minimum(u, v) * net.n + np.maximum(u, v))] = True
        nodes = np.array(path[::-1])
        paths.append(shapely.LineString(np.column_stack([net.x[nodes], net.y[nodes]]))
                     if len(nodes) > 1 else shapely.LineString(pts[[0, -1]]))
    if missed:
        notes.append(f"両端の間に道路がつながっていない冬期閉鎖の区間 {missed} 件は閉鎖していません。")
    return mask, paths


REFERENCE_DAY = dt.date(2027, 1, 15)
"""The day OSM date conditions are read for when a winter has no ``--date``: mid-January."""


def _conditional(net: Network, entry_seg: np.ndarray, day: dt.date, notes: list[str]) -> np.ndarray:
    """Mask of the segments an OSM ``*:conditional`` tag closes on ``day``."""
    from layers.winter import conditional_closed

    mask = np.zeros(len(net.seg_a), bool)
    if net.cond_idx is None or net.conds is None or not len(net.conds):
        return mask
    state = [conditional_closed(str(c), day) for c in net.conds]
    shut = np.array([s is True for s in state], bool)
    unread = sum(s is None for s in state)
    if unread:
        notes.append(f"日付として読めない OSM の条件付き規制 {unread} 種類は、通行できるものとしました。")
    on = net.cond_idx >= 0
    hit = np.zeros(len(net.cond_idx), bool)
    hit[on] = shut[net.cond_idx[on]]
    mask[entry_seg[hit]] = True
    return mask


def season_network(net: Network, season: Season, *, spec: WinterSpec, profile: str = "walk",
                   closures: gpd.GeoDataFrame | None = None, priority: gpd.GeoDataFrame | None = None,
                   slow: bool = True) -> SeasonNetwork:
    """The network of ``season`` for ``profile`` (see the module doc); ``slow=False``
    keeps summer speeds (a threshold in metres) and applies the closures only."""

    nseg = len(net.seg_a)
    none = gpd.GeoDataFrame(geometry=[], crs="EPSG:6668")
    if not season.winter:
        return SeasonNetwork(season, profile, net, net, np.zeros(nseg, bool), np.zeros(nseg, bool),
                             np.ones(nseg), none)
    if profile not in spec.penalty:
        raise ParameterError("歩く人の種類が分かりません。", parameter="profile",
                             fix=f"次のいずれか: {', '.join(WALK_PROFILES)}")
    notes: list[str] = []
    shut = closures if closures is not None else none
    by_ends = shut["by_ends"].to_numpy(bool) if "by_ends" in shut else np.zeros(len(shut), bool)
    closed = covering_segments(net, shut[~by_ends])
    if by_ends.any():
        between, paths = roads_between(net, shut[by_ends], notes)
        closed |= between
        shut = shut.to_crs(net.crs)  # a section given by its places is drawn as its roads
        geoms = shut.geometry.to_numpy().copy()
        geoms[np.flatnonzero(by_ends)] = paths
        shut = shut.set_geometry(gpd.GeoSeries(geoms, index=shut.index, crs=net.crs))
    if len(shut) and not closed.any():
        notes.append("冬期閉鎖の区間に重なる道路がありませんでした（線が道路に沿っているか確かめてください）。")
    prio = covering_segments(net, priority) if priority is not None else np.zeros(nseg, bool)
    entry_seg = edge_segments(net)
    closed |= _conditional(net, entry_seg, season.date or REFERENCE_DAY, notes)
    if net.name_idx is not None and net.names is not None and spec.priority_roads and len(net.names):
        named = np.isin(net.names, list(spec.priority_roads))
        on = (net.name_idx >= 0) & named[np.maximum(net.name_idx, 0)]
        prio[entry_seg[on]] = True
    factor = np.ones(nseg)
    if slow:
        if net.road_class is None:
            notes.append("道路の種類が分からない道路網のため、すべて「その他の道路」として冬の速さにしました。")
            main_entry = np.zeros(len(net.indices), bool)
        else:
            main_entry = np.isin(net.road_class, [ROAD_CLASSES.index(c) for c in MAIN_CLASSES])
        pen = spec.penalty[profile]
        per_km = np.where(main_entry, pen["main"], pen["other"])
        factor[entry_seg] = winter_factor(per_km, profile)
        factor[prio] = 1.0
    out = edit_segments(net, closed, factor, scale_seconds=False)
    log.info("winter network: %d segments closed, %d on priority routes", int(closed.sum()), int(prio.sum()))
    return SeasonNetwork(season, profile, net, out, closed, prio, factor, shut.to_crs("EPSG:6668"), notes)


def region_season(region: RegionLike, season: Season, *, profile: str = "walk", slow: bool = True,
                  network: Network | None = None) -> SeasonNetwork | None:
    """The season's network for a loaded region (its ``[season.winter]`` files read here);
    None when the region has no roads.  ``network`` overrides the region's (e.g. a drive
    network)."""
    from geo.engine.network_cache import region_network
    from layers.winter import load_closures, load_priority

    net = network if network is not None else region_network(region)
    if net is None:
        return None
    spec: WinterSpec = region.config.winter  # type: ignore[attr-defined]
    if not season.winter:
        return season_network(net, season, spec=spec, profile=profile)
    files = tuple((str(p), *_state(p)) for p in (*spec.closures, *spec.priority))
    key = (season, profile, slow, repr(spec), files)

    def build() -> SeasonNetwork:
        return season_network(net, season, spec=spec, profile=profile, slow=slow,
                              closures=load_closures(spec.closures, day=season.date,
                                                     geocoder=getattr(region, "geocoder", None)),
                              priority=load_priority(spec.priority) if spec.priority else None)

    # remembered per road network, season, profile, winter table and its files' states: an
    # outlook's years and a page's reruns build each once; its masks are shared, read-only
    return kept_per_network(net, "season", key, build,  # type: ignore[no-any-return]
                            arrays=lambda made: (made.closed, made.priority, made.factor))


def _state(path: object) -> tuple[int, int]:
    """A file's modification time and size (a changed file is read again)."""
    try:
        st = Path(str(path)).stat()
    except OSError:
        return (0, 0)
    return (st.st_mtime_ns, st.st_size)
