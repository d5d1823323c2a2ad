"""Routes as a person asks for them: between two points (normal against a hazard or winter),
or from one point to every facility of a layer, on the region's roads."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analyses.coverage import coverage, gaps
from geo.analyses.inputs import HOW_TO_ADD
from geo.engine.network import Network
from geo.engine.routing import Route, compare, route, routes_from
from geo.engine.scenario import Scenario, region_scenario, scenario_network
from geo.engine.season import Season, parse_season, region_season
from geo.summary import Summary
from layers.errors import ParameterError
from layers.layer_facts import FACILITY_KEYS, id_column

if TYPE_CHECKING:
    from layers.region import RegionLike

__all__ = ["RouteOptions", "RouteRun", "RoutesToAll", "analyse_route", "analyse_routes_to_all"]


@dataclass(frozen=True)
class RouteOptions:
    """Options of :func:`analyse_route` and :func:`analyse_routes_to_all`.

    ``hazard=None`` compares nothing: the normal route only (roads all open)."""

    hazard: str | None = None
    profile: str = "walk"
    shallow_factor: float | None = None
    season: str | None = None
    """``winter`` (or a winter ``date``): the second route is walked in winter — slowed by
    snow for the walking profiles, 冬期閉鎖 sections closed (by car: closures only) —
    together with the hazard when one is given."""
    date: str | None = None


@dataclass
class RouteRun:
    """Normal (and hazard) route between two points, and their comparison."""

    routes: dict[str, Route]
    comparison: dict[str, Any]
    scenario: Scenario | None
    network: Network
    closed: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    """The segments closed for the second route (the hazard's and the season's)."""

    def summary(self) -> dict[str, Any]:
        return self.comparison


@dataclass(frozen=True)
class _RouteWorld:
    """The normal network and the one the second route is searched on (``other``; None:
    only the normal route), keyed ``hazard`` (a hazard, perhaps in winter) or ``winter``."""

    base: Network
    other: Network | None
    closed: np.ndarray
    scenario: Scenario | None
    key: str
    label: str
    season: Season


def _route_world(region: RegionLike, opt: RouteOptions, scenario: Scenario | None = None) -> _RouteWorld:
    drive = opt.profile == "drive"
    season = parse_season(opt.season, opt.date)
    profile = None if drive else opt.profile
    if opt.hazard:
        scen = scenario or region_scenario(region, opt.hazard, drive=drive, shallow_factor=opt.shallow_factor,
                                           season=season, season_profile=profile)
        base, other, closed = scen.base, scen.network, scen.closed
        label = f"災害時（{season.label}）" if season.winter else "災害時"
    else:
        scen, base = None, scenario_network(region, drive=drive)
        other, closed, label = None, np.zeros(0, bool), ""
        seasonal = region_season(region, season, profile=profile or "walk", slow=not drive, network=base) \
            if season.winter and base is not None else None
        if seasonal is not None:
            other, closed, label = seasonal.network, seasonal.closed, season.label
    if base is None:
        raise ParameterError("ルートには道路データが必要です。", parameter="roads",
                             fix=HOW_TO_ADD["roads"])
    return _RouteWorld(base=base, other=other,
                       closed=closed, scenario=scen, key="hazard" if opt.hazard else "winter",
                       label=label, season=season)


def _season_times(r: Route, world: _RouteWorld, profile: str) -> Route:
    """A winter route's time is its profile's only (the network was slowed for it)."""
    if not world.season.winter or profile == "drive" or not r.found:
        return r
    if profile == "walk":
        return dataclasses.replace(r, elderly_s=None)
    return dataclasses.replace(r, walk_s=None)


def analyse_route(region: RegionLike, start: tuple[float, float], end: tuple[float, float],
                  options: RouteOptions | None = None, *, scenario: Scenario | None = None
                  ) -> RouteRun:
    """The route between two metric points (region CRS), and with a hazard the route
    that avoids its closed roads, compared (``scenario`` reuses one already built)."""
    opt = options or RouteOptions()
    world = _route_world(region, opt, scenario)
    normal = route(world.base, start, end, profile=opt.profile)
    routes = {"normal": normal}
    result: dict[str, Any] = {"normal": normal.summary()}
    if world.other is not None:
        alt = _season_times(route(world.other, start, end, profile=opt.profile, base=world.base), world,
                            opt.profile)
        routes[world.key] = alt
        result = compare(normal, alt, world.closed)
        result[world.key] = result.pop("hazard") | {"label": world.label}
        if world.scenario is not None:
            result[world.key]["hazard"] = world.scenario.hazard
        if world.season.winter:
            result[world.key]["season"] = world.season.label
    return RouteRun(routes=routes, comparison=result, scenario=world.scenario, network=world.base,
                    closed=world.closed)


@dataclass(frozen=True)
class RoutesToAllSummary(Summary):
    """How many of the routes from one point were found."""

    to_all: str
    routes: int
    found_normal: int
    found_hazard: int | None = field(default=None, metadata={"omit_none": True})
    found_winter: int | None = field(default=None, metadata={"omit_none": True})


@dataclass
class RoutesToAll:
    """One row per destination (``table``) and the routes, keyed ``normal-ID`` / ``hazard-ID``."""

    table: pd.DataFrame
    routes: dict[str, Route]
    to_all: str
    hazard: bool
    key: str = "hazard"
    """The second route's key (``hazard`` or ``winter``) in the table's columns and route keys."""

    def summary(self) -> RoutesToAllSummary:
        second = int(self.table[f"{self.key}_length_m"].notna().sum()) if self.hazard else None
        return RoutesToAllSummary(
            to_all=self.to_all, routes=len(self.table),
            found_normal=int(self.table["normal_length_m"].notna().sum()),
            found_hazard=second if self.key == "hazard" else None,
            found_winter=second if self.key == "winter" else None)


def _destinations(region: RegionLike, to_all: str, network: Network) -> tuple[gpd.GeoDataFrame, str]:
    """The points to route to, in the region CRS, and their id column."""
    if to_all == "gaps":  # the coverage gaps of 居場所: route to each gap's centre
        cov = coverage(region.layer("vulnerable"), region.layer("places"), crs=region.crs,
                       network=network)
        gap = gaps(cov, region.layer("vulnerable")).to_crs(region.crs)
        names = [f"空白地帯 {g}（{'k未満' if u is pd.NA else int(u)} 人）"
                 for g, u in zip(gap["gap_id"], gap["uncovered"], strict=True)]
        layer = gpd.GeoDataFrame({"gap_id": gap["gap_id"], "name": names},
                                 geometry=gap.geometry.representative_point(), crs=region.crs)
        return layer, "gap_id"
    if to_all not in FACILITY_KEYS:
        raise ParameterError("行き先のレイヤーが分かりません。", parameter="to_all",
                             fix=f"{' / '.join((*FACILITY_KEYS, 'gaps'))} のいずれかにしてください。")
    layer = region.layer(to_all).to_crs(region.crs)
    return layer, str(id_column(layer, to_all))


def analyse_routes_to_all(region: RegionLike, start: tuple[float, float], to_all: str,
                          options: RouteOptions | None = None) -> RoutesToAll:
    """Routes from one metric point to every point of a layer (``shelters`` — only the
    usable ones in a hazard —, ``places``, ``vc_sites``) or to each 居場所 gap's centre."""
    opt = options or RouteOptions()
    world = _route_world(region, opt)
    base, scen, key = world.base, world.scenario, world.key
    layer, id_col = _destinations(region, to_all, base)
    if to_all == "shelters" and scen is not None and scen.shelter_status is not None:
        layer = layer[scen.shelter_status.to_numpy() == "usable"]
    ends = np.column_stack([layer.geometry.x, layer.geometry.y])
    normal_all = routes_from(base, start, ends, profile=opt.profile)
    second = world.other is not None
    other_all = [_season_times(r, world, opt.profile)
                 for r in routes_from(world.other, start, ends, profile=opt.profile, base=base)] \
        if world.other is not None else normal_all
    rows = []
    ids = layer[id_col].astype(str)
    names = layer.get("name", ids)
    for tid, name, n_r, h_r in zip(ids, names, normal_all, other_all, strict=True):
        c = compare(n_r, h_r, world.closed)
        row = {"to_id": tid, "to_name": name, "normal_length_m": c["normal"]["length_m"],
               "normal_time_s": c["normal"]["time_s"]}
        if second:
            row |= {f"{key}_length_m": c["hazard"]["length_m"], f"{key}_time_s": c["hazard"]["time_s"],
                    "detour_ratio": c["hazard"]["detour_ratio"],
                    "closed_edges_avoided": c["hazard"]["closed_edges_avoided"],
                    "reason": c["hazard"].get("reason", "")}
        rows.append(row)
    table = pd.DataFrame(rows, columns=None if rows else ["to_id", "to_name", "normal_length_m",
                                                          "normal_time_s"])
    named = {f"normal-{t}": r for t, r in zip(table["to_id"], normal_all, strict=True)}
    if second:
        named |= {f"{key}-{t}": r for t, r in zip(table["to_id"], other_all, strict=True)}
    return RoutesToAll(table=table, routes=named, to_all=to_all, hazard=second, key=key)
