"""Hazard scenarios: the road network and the shelters as they are during a disaster.

A scenario is a hazard type (``flood``, ``landslide``, ``tsunami``, ``earthquake`` …,
the keys of :data:`layers.shelters.HAZARDS`) plus the hazard polygons in force
(the zones of that type in the region's ``[layers.hazards]``).  In a scenario:

* a shelter is **usable** when the GSI data designate it for the hazard and it
  lies outside every zone (:func:`geo.engine.shelter_status.shelter_status`);
* a road segment touching a zone is **closed**: the scenario network has no edge
  there, so every search of :mod:`geo.engine.network` (nearest facility, catchments,
  k nearest, OD matrices, isochrones, routes) avoids it.  With
  ``shallow_factor`` (e.g. 2.0), segments touching only rank-1 zones (A31
  浸水深ランク1, under 0.5 m) stay open but count ``shallow_factor`` times their
  length — walking through shallow water at half speed; deeper or unranked
  zones always close the road.

The scenario network shares the node coordinates, segment geometry and segment
index of the normal network (only edges and travel directions change), so
results of both are directly comparable segment by segment.  The normal network
is never modified.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.engine.network import Network, edit_segments, touching_segments
from geo.engine.season import region_season
from geo.engine.shelter_status import shelter_status
from geo.summary import Summary, optional
from layers.errors import ParameterError
from layers.hazards import hazard_key
from layers.shelters import HAZARD_LABELS, HAZARDS

if TYPE_CHECKING:
    from layers.region import RegionLike

__all__ = [
    "Scenario",
    "close_roads",
    "make_scenario",
    "parse_hazard",
    "region_scenario",
]

log = logging.getLogger(__name__)

UNKNOWN_RANK = 99
"""Rank given to zones without one: treated as deep (closes roads)."""


def parse_hazard(value: str) -> str:
    """Canonical hazard key for a user's word, or a :class:`LayerError` naming the choices."""
    key = hazard_key(value)
    if key is None:
        raise ParameterError(
            "災害の種類が分かりません。", parameter="hazard",
            fix=f"次のいずれかを指定してください: {', '.join(HAZARDS)}（洪水・土砂災害・津波 なども可）")
    return key


@dataclass(frozen=True, eq=False)
class Scenario:
    """One hazard in force: closed roads, usable shelters.

    ``closed``/``slowed`` are boolean masks over the *normal* network's segments;
    ``network`` is the scenario network (None without roads); ``base`` the normal
    one; ``shelter_status`` the status of each shelter (aligned to the shelters
    layer index) when shelters were given.
    """

    hazard: str
    zones: gpd.GeoDataFrame
    base: Network | None
    network: Network | None
    closed: np.ndarray
    slowed: np.ndarray
    shallow_factor: float | None
    shelter_status: pd.Series | None

    @property
    def label(self) -> str:
        return HAZARD_LABELS.get(self.hazard, self.hazard)

    def summary(self) -> ScenarioSummary:
        shelters = None
        if self.shelter_status is not None:
            counts = self.shelter_status.value_counts()
            shelters = {k: int(counts.get(k, 0)) for k in ("usable", "in_zone", "not_designated")}
        return ScenarioSummary(hazard=self.hazard, label=self.label, zones=len(self.zones),
                               closed_segments=int(self.closed.sum()),
                               slowed_segments=int(self.slowed.sum()), shelters=shelters)


@dataclass(frozen=True)
class ScenarioSummary(Summary):
    """What a hazard closes: zones, closed and slowed road segments, shelters by status."""

    hazard: str
    label: str
    zones: int
    closed_segments: int
    slowed_segments: int
    shelters: dict[str, int] | None = optional()






def close_roads(net: Network, zones: gpd.GeoDataFrame, *, shallow_factor: float | None = None
                ) -> tuple[Network, np.ndarray, np.ndarray]:
    """The scenario network: segments touching a zone closed (or slowed, see module doc).

    Returns ``(network, closed, slowed)`` with boolean masks over the segments of
    ``net``.  ``net`` itself is not modified.
    """
    nseg = len(net.seg_a)
    closed = np.zeros(nseg, bool)
    slowed = np.zeros(nseg, bool)
    if shallow_factor is not None and not (np.isfinite(shallow_factor) and shallow_factor >= 1):
        raise ParameterError("浅い浸水区間の係数は 1 以上にしてください。", parameter="shallow_factor",
                         fix="例: 2（半分の速さで歩く）")
    if len(zones):
        geoms = zones.to_crs(net.crs).geometry.to_numpy()
        zi, si = touching_segments(net, geoms)
        ranks = zones["rank"].astype("Float64").fillna(UNKNOWN_RANK).to_numpy(float) \
            if "rank" in zones else np.full(len(zones), float(UNKNOWN_RANK))
        worst = np.zeros(nseg)
        np.maximum.at(worst, si, ranks[zi])
        hit = np.zeros(nseg, bool)
        hit[si] = True
        if shallow_factor is not None:
            slowed = hit & (worst <= 1)
        closed = hit & ~slowed
    if not closed.any() and not slowed.any():
        return net, closed, slowed
    scen = edit_segments(net, closed, np.where(slowed, float(shallow_factor or 1.0), 1.0),
                         scale_seconds=True)
    return scen, closed, slowed


def make_scenario(
    hazard: str,
    *,
    hazards: gpd.GeoDataFrame | None,
    network: Network | None = None,
    shelters: gpd.GeoDataFrame | None = None,
    shallow_factor: float | None = None,
) -> Scenario:
    """Build the scenario of ``hazard`` from the region's hazard layer.

    Zones of other hazard types are ignored.  Without zones of this type the
    roads stay open and only the GSI designation decides which shelters are
    usable (logged).
    """
    key = parse_hazard(hazard)
    if hazards is not None and len(hazards):
        zones = hazards.loc[hazards["hazard"] == key]
    else:
        zones = gpd.GeoDataFrame({"hazard": [], "rank": []}, geometry=[], crs="EPSG:4326")
    if not len(zones):
        log.info("no %s zones in the hazard layer: roads stay open", key)
    if network is not None:
        scen, closed, slowed = close_roads(network, zones, shallow_factor=shallow_factor)
    else:
        scen, closed, slowed = None, np.zeros(0, bool), np.zeros(0, bool)
    status = shelter_status(shelters, hazard=key, hazards=zones) if shelters is not None else None
    return Scenario(hazard=key, zones=zones, base=network, network=scen, closed=closed,
                    slowed=slowed, shallow_factor=shallow_factor, shelter_status=status)


def scenario_network(region: RegionLike, *, drive: bool = False) -> Network | None:
    """The normal network a scenario of ``region`` starts from: its drive network
    (``[roads] drive``) when ``drive`` and it has one, else its main network."""
    from geo.engine.network_cache import load_network, region_network

    roads = region.config.roads
    if drive and roads is not None and roads.drive is not None:
        return load_network(roads.drive, network="drive", crs=region.crs,
                            clip=roads.clip(region.layers.get("boundaries"), region.crs, roads.drive))
    return region_network(region)


MEMO_SIZE = 8
"""Scenarios kept per process (for the regions still in use): the app's pages, the CLI's
whole-region run and the analyses share one per region, hazard and network."""
_MEMO: OrderedDict[tuple[Any, ...], tuple[weakref.ref[Any], Scenario]] = OrderedDict()
_MEMO_LOCK = threading.Lock()


def region_scenario(region: RegionLike, hazard: str, *, drive: bool = False,
                    shallow_factor: float | None = None, season: Any = None,
                    season_profile: str | None = None) -> Scenario:
    """The scenario of ``hazard`` for a loaded :class:`layers.region.Region`, built once per
    region object and arguments (the same region gets the same, read-only scenario: pages
    pass a hazard's name, never a scenario).

    ``drive=True`` uses the region's drive network (``[roads] drive``) when it has
    one, else its main network.  Without roads the scenario has no network and
    analyses fall back to the straight-line estimate.  ``season`` (a winter
    :class:`geo.engine.season.Season`) starts from the winter network — its 冬期閉鎖 sections
    closed, distances in metres (the hazard's closures are added to it); with
    ``season_profile`` (``walk``/``elderly``) its roads are also slowed by snow for that
    profile (effective metres, :mod:`geo.engine.season`).
    """
    key = (id(region), hazard, drive, shallow_factor, season, season_profile)
    with _MEMO_LOCK:
        hit = _MEMO.get(key)
        if hit is not None and hit[0]() is region:
            _MEMO.move_to_end(key)
            return hit[1]
    scen = _build_scenario(region, hazard, drive=drive, shallow_factor=shallow_factor, season=season,
                           season_profile=season_profile)
    with _MEMO_LOCK:
        _MEMO[key] = (weakref.ref(region), scen)
        while len(_MEMO) > MEMO_SIZE:
            _MEMO.popitem(last=False)
    return scen


def _build_scenario(region: RegionLike, hazard: str, *, drive: bool, shallow_factor: float | None,
                    season: Any, season_profile: str | None) -> Scenario:
    net = scenario_network(region, drive=drive)
    seasonal = None
    if season is not None and getattr(season, "winter", False) and net is not None:
        seasonal = region_season(region, season, slow=season_profile is not None,
                                 profile=season_profile or "walk", network=net)
    scen = make_scenario(hazard, hazards=region.layers.get("hazards"),
                         network=seasonal.network if seasonal is not None else net,
                         shelters=region.layers.get("shelters"), shallow_factor=shallow_factor)
    if seasonal is None:
        return scen
    # the masks and the base are the normal network's: the winter closures count as closed
    return dataclasses.replace(scen, base=net, closed=scen.closed | seasonal.closed)
