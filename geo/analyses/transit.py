"""The walk + bus entry: options, the run and :func:`analyse_transit`, composing the
transit search (:mod:`geo.engine.transit_search`), per-unit access
(:mod:`geo.analyses.transit_access`), tables and what-ifs for a region's feeds."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analyses.coverage import demand_units, gaps, people_in_units
from geo.analyses.inputs import (
    HOW_TO_ADD,
    demand_layer,
    file_states,
    next_weekday,
    region_areas,
    register_people,
)
from geo.analyses.transit_access import (
    DEFAULT_MAX_TRIPS,
    DEFAULT_MAX_WALK_MIN,
    DEFAULT_RIDE_KMH,
    DEFAULT_TRANSFER_MIN,
    TransitDay,
    TransitResult,
    TransitSettings,
    parse_window,
    transit_coverage,
    transit_day,
)
from geo.analyses.transit_tables import as_coverage, losses, lost_people, route_table, transit_by_area
from geo.analyses.transit_whatif import extra_trips, new_stops
from geo.engine.network import Network
from geo.engine.network_cache import region_network
from geo.engine.profiles import SPEEDS_M_PER_MIN
from geo.engine.scenario import scenario_network
from geo.engine.season import Season, parse_season, region_season
from layers.anonymise import K_DEFAULT
from layers.demand import Demand
from layers.errors import ParameterError
from layers.layer_facts import FACILITY_KEYS, label_of
from layers.transit import Feed, read_feed

if TYPE_CHECKING:
    from layers.region import RegionLike


@dataclass(frozen=True)
class TransitOptions:
    """Options of :func:`analyse_transit` (see :mod:`geo.analyses.transit_access`)."""

    facilities: str = "places"
    to_file: str | None = None
    """A points file of any destinations (clinics, supermarkets: CSV/Excel/GeoJSON with a name
    and coordinates or an address), read like 居場所; overrides ``facilities``."""
    date: str | None = None
    """``YYYY-MM-DD``: the timetable of that day (default: the next weekday)."""
    window: str = "08:00-12:00"
    max_minutes: float = 45.0
    profile: str = "elderly"
    season: str | None = None
    """``summer``/``winter``; by default the date decides (December–March is winter)."""
    max_walk_min: float = DEFAULT_MAX_WALK_MIN
    transfer_min: float = DEFAULT_TRANSFER_MIN
    max_trips: int = DEFAULT_MAX_TRIPS
    flex_wait_min: float | None = None
    """The wait for a demand ride (default: each zone's booking rule)."""
    ride_kmh: float = DEFAULT_RIDE_KMH
    rule: str = "trip"
    compare_date: str | None = None
    """The day to compare with (default: the Sunday after ``date``)."""
    compare: bool = True
    """Also compute the weekend day and the other season (who loses access)."""
    what_if: bool = False
    """Also try one new stop and one extra trip per line."""
    demand: str = "register"
    year: int | None = None


@dataclass
class TransitRun:
    """Walk + bus coverage of a date, per area, its gaps and routes; the weekend and
    other-season runs (None when not compared) and the what-ifs (None when not asked)."""

    result: TransitResult
    by_area: pd.DataFrame
    gaps: gpd.GeoDataFrame
    routes: pd.DataFrame
    season: Season
    profile: str
    destinations: gpd.GeoDataFrame
    destination_label: str
    density: gpd.GeoDataFrame
    """The published units counted (their shapes draw the maps)."""
    weekend: TransitResult | None = None
    other_season: TransitResult | None = None
    losses: pd.DataFrame | None = None
    new_stops: pd.DataFrame | None = None
    extra_trips: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {**self.result.summary(), "season": self.season.label, "profile": self.profile}
        if self.losses is not None:
            u = self.losses
            lost = None
            if self.weekend is not None and self.other_season is not None:
                lost = lost_people(self.result, self.weekend, self.other_season,
                                   winter_first=self.season.winter)
            for name in ("lost_weekend", "lost_winter"):
                out[name] = (self.result.people.demand.total(lost[name])  # type: ignore[union-attr]
                             if lost is not None else int(u.loc[u[name], "count"].sum()))
            out["weekend_date"] = self.weekend.day.date.isoformat() if self.weekend else None
        if self.new_stops is not None and len(self.new_stops):
            out["best_new_stop_gain"] = _plain(self.new_stops["gained"].iloc[0], self._k)
        if self.extra_trips is not None and len(self.extra_trips):
            out["best_extra_trip_gain"] = _plain(self.extra_trips["gained"].iloc[0], self._k)
        return out

    @property
    def _k(self) -> int:
        p = self.result.people
        return p.demand.k if p is not None else K_DEFAULT


def _plain(value: object, k: int) -> int | str:
    """A protected count for the JSON summary: an integer or 「k未満」."""
    if value is None or value is pd.NA or isinstance(value, str):
        return f"{k}未満"
    return int(value)  # type: ignore[call-overload]


def _transit_date(text: str | None, parameter: str = "date") -> dt.date:
    if text is None or not str(text).strip():
        return next_weekday()
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise ParameterError("日付が読めません。", parameter=parameter,
                             fix="年-月-日 の形にしてください（例 2027-01-14）。") from None


@functools.lru_cache(maxsize=8)
def _feed(path: Path, size: int, mtime: int) -> Feed:
    """A feed read once per file state (a replaced file is read again)."""
    return read_feed(path)


def region_feeds(region: RegionLike) -> list[Feed]:
    """The region's ``[layers.transit]`` feeds; a clear error without one."""
    paths = region.config.transit
    if not paths:
        raise ParameterError("バスの時刻表（GTFS）がありません。", parameter="transit",
                             fix=HOW_TO_ADD["transit"])
    return [_feed(Path(p), *file_states([p])[0][1:]) for p in paths]


def _walk_network(region: RegionLike, season: Season, profile: str) -> tuple[Network, list[str]]:
    net = region_network(region)
    if net is None:
        raise ParameterError("公共交通の計算には道路データが必要です。", parameter="roads",
                             fix=HOW_TO_ADD["roads"])
    if not season.winter:
        return net, []
    seasonal = region_season(region, season, profile=profile, network=net)
    return (seasonal.network, list(seasonal.notes)) if seasonal is not None else (net, [])


@dataclass(frozen=True)
class _TransitWorld:
    """What every run of one analysis shares: the region, units, facilities, feeds, how
    people travel, and the demand vehicles' roads."""

    region: RegionLike
    opt: TransitOptions
    units: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    feeds: tuple[Feed, ...]
    settings: TransitSettings
    window: tuple[float, float]
    ride: Network | None
    people: tuple[Demand, np.ndarray] | None = field(default=None, repr=False)
    """The people counted and each one's unit (in memory)."""

    def run(self, day: TransitDay, walk_season: Season) -> TransitResult:
        net, notes = _walk_network(self.region, walk_season, self.opt.profile)
        res = transit_coverage(self.units, self.facilities, day, crs=self.region.crs, network=net,
                               window=self.window, max_minutes=self.opt.max_minutes, settings=self.settings,
                               rule=self.opt.rule, ride_network=self.ride, facility_layer=self.opt.facilities,
                               people=self.people)
        res.notes.extend(notes)
        return res

    def on(self, day: dt.date, walk_season: Season) -> TransitResult:
        return self.run(transit_day(self.feeds, day, crs=self.region.crs, wait_min=self.opt.flex_wait_min),
                        walk_season)


def analyse_transit(region: RegionLike, options: TransitOptions | None = None) -> TransitRun:
    """Who reaches a facility within N minutes by walking + bus on a date, against walking
    only; per area, gaps, per route; who loses it at the weekend or in the other season;
    optionally the best new stop and extra trip."""
    opt = options or TransitOptions()
    if opt.profile not in SPEEDS_M_PER_MIN:
        raise ParameterError("歩く人の種類が分かりません。", parameter="profile",
                             fix=f"次のいずれか: {', '.join(SPEEDS_M_PER_MIN)}")
    day = _transit_date(opt.date)
    season = parse_season(opt.season, day.isoformat())
    density = demand_layer(region, year=opt.year, demand=opt.demand)
    destinations, label = _destinations_of(region, opt)
    settings = TransitSettings(speed_m_per_min=SPEEDS_M_PER_MIN[opt.profile], max_walk_min=opt.max_walk_min,
                               transfer_min=opt.transfer_min, max_trips=opt.max_trips, ride_kmh=opt.ride_kmh)
    world = _TransitWorld(
        region=region, opt=opt, units=demand_units(density, crs=region.crs),
        facilities=destinations, feeds=tuple(region_feeds(region)),
        window=parse_window(opt.window), ride=scenario_network(region, drive=True), settings=settings,
        people=people_in_units(density, register_people(region, year=opt.year, demand=opt.demand),
                               region.crs))
    base = world.on(day, season)
    areas = region_areas(region)
    out = TransitRun(result=base, by_area=transit_by_area(base, areas),
                     gaps=gaps(as_coverage(base), density), routes=route_table(base), season=season,
                     profile=opt.profile, destinations=destinations, destination_label=label,
                     density=density, notes=list(base.notes))
    if opt.compare:
        weekend = _transit_date(opt.compare_date, "compare_date") if opt.compare_date else _next_sunday(day)
        out.weekend = world.on(weekend, parse_season(opt.season, weekend.isoformat()))
        out.other_season = world.on(day, Season("summer" if season.winter else "winter", day))
        out.losses = losses(base, out.weekend, out.other_season, winter_first=season.winter)
        out.by_area = transit_by_area(base, areas, losses=out.losses,
                                      lost=lost_people(base, out.weekend, out.other_season,
                                                       winter_first=season.winter))
    if opt.what_if:
        out.new_stops = new_stops(base, lambda trial: world.run(trial, season), crs=region.crs)
        out.extra_trips = extra_trips(base, lambda trial: world.run(trial, season))
    return out


def _destinations_of(region: RegionLike, opt: TransitOptions) -> tuple[gpd.GeoDataFrame, str]:
    """The destinations of a walk + bus run and their label: a points file, or a layer."""
    if opt.to_file:
        from layers.places import load_places

        path = Path(opt.to_file)
        return load_places([path], geocoder=getattr(region, "geocoder", None)), path.stem
    if opt.facilities not in FACILITY_KEYS:
        raise ParameterError("行き先のレイヤーが分かりません。", parameter="facilities",
                             fix=f"次のいずれか、または施設の一覧ファイル: {', '.join(FACILITY_KEYS)}")
    return region.layer(opt.facilities), label_of(opt.facilities)


def _next_sunday(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=(6 - day.weekday()) or 7)
