"""One entry per analysis: what the CLI, the app pages and the region report all call.

Each entry takes a loaded region (:class:`layers.region.Region`, whose ``layers``
may include a session's uploads) and typed options, and returns a typed result
whose ``summary()`` is a :class:`geo.summary.Summary`.  The command line only
parses arguments into the options, calls the entry, prints the summary and writes
the outputs; an app page only collects widget values into the same options, calls
the same entry and shows the result.  So the CLI and the app cannot disagree.

Entries:

=========================  ==========================================================
:func:`analyse_coverage`   walking distance to the nearest facility, per area, gaps
:func:`analyse_consolidation`  the way to school before and after a 校区 merger
:func:`analyse_shelters`   usable shelters in a hazard and their load
:func:`analyse_route`      one route, normal vs hazard
:func:`analyse_routes_to_all`  from one point to every facility (or gap) of a layer
:func:`analyse_vc_plan`    where to open the 災害VC and what it serves
:func:`analyse_crossborder`  people better served across a municipal border
:func:`analyse_siting`     where new 居場所 should open
=========================  ==========================================================

The whole-region run used by reports and exports
(:func:`geo.region_results.analyse_region`) composes these entries.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.consolidation import DEFAULT_THRESHOLD, ConsolidationResult, consolidation
from geo.coverage import CoverageResult, CoverageSummary, by_area, circuity_of, coverage, demand_units, gaps
from geo.crossborder import CrossBorder, crossborder, crossborder_inputs
from geo.dispatch import DRIVE_KMH, WALK_M_PER_MIN, DispatchPlan, plan_dispatch
from geo.network import SPEEDS_M_PER_MIN, Network, region_network
from geo.outlook import DEFAULT_MIN_PEOPLE, Outlook, last_places, people_in_reach
from geo.routing import Route, compare, route, routes_from
from geo.scenario import Scenario, parse_hazard, region_scenario, scenario_network
from geo.season import Season, SeasonNetwork, parse_season, region_season, threshold_metres
from geo.shelter_load import DEFAULT_CATCHMENT, ShelterLoad, shelter_load
from geo.shelter_needs import ShelterNeeds, shelter_needs
from geo.shelter_tables import ShelterTables, shelter_tables
from geo.siting import (
    DEFAULT_MAX_DISTANCE,
    DEFAULT_TIME_LIMIT,
    Recommendation,
    outside_zones,
    recommend,
    region_candidates,
)
from geo.siting_over_time import OverTime, recommend_over_time
from geo.summary import Summary
from geo.transit_access import (
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
from geo.transit_tables import as_coverage, losses, route_table, transit_by_area
from geo.transit_whatif import extra_trips, new_stops
from geo.vc_plan import VCPlan, vc_plan
from geo.winter_loss import WinterLoss, winter_loss
from layers.crs import JAPAN_BOUNDS, STORAGE_CRS, transform_xy
from layers.errors import ParameterError
from layers.layer_facts import FACILITY_KEYS, id_column, label_of
from layers.needs import Needs
from layers.projection import Projection, load_projection, projected_demand, scaled_density
from layers.school_districts import before_after
from layers.teams import Teams
from layers.transit import Feed, read_feed

__all__ = [
    "AREA_KEYS",
    "ConsolidationOptions",
    "CoverageOptions",
    "CoverageRun",
    "CrossBorderOptions",
    "DispatchOptions",
    "DispatchRun",
    "RouteOptions",
    "RouteRun",
    "RoutesToAll",
    "ShelterOptions",
    "ShelterRun",
    "SitingOptions",
    "SitingRun",
    "TransitOptions",
    "TransitRun",
    "VCPlanOptions",
    "VCPlanRun",
    "analyse_consolidation",
    "analyse_coverage",
    "analyse_crossborder",
    "analyse_dispatch",
    "analyse_route",
    "analyse_routes_to_all",
    "analyse_shelter_needs",
    "analyse_shelter_tables",
    "analyse_shelters",
    "analyse_siting",
    "analyse_transit",
    "analyse_vc_plan",
    "describe_sites",
    "next_weekday",
    "region_areas",
    "region_point",
    "usable_vc_sites",
]

AREA_KEYS = ("neighbourhoods", "school_districts", "boundaries")
"""The area layers every per-area table is broken down by (when the region has them)."""
POINT_MARGIN_M = 5000.0
"""How far outside the region's data a route end may lie."""


def region_areas(region: Any) -> dict[str, gpd.GeoDataFrame]:
    """The region's area layers (自治会, 校区, 市町村) for per-area tables."""
    return {k: region.layers[k] for k in AREA_KEYS if k in region.layers}


def _network(region: Any, straight_line: bool = False) -> Network | None:
    return None if straight_line else region_network(region)


# ------------------------------------------------------------------ coverage


@dataclass(frozen=True)
class CoverageOptions:
    """Options of :func:`analyse_coverage` (names as in the engine)."""

    facilities: str = "places"
    max_distance: float = DEFAULT_MAX_DISTANCE
    straight_line: bool = False
    """Estimate by straight line × circuity measured on the region's roads."""
    access: str = "nearest"
    join_radius: float = 150.0
    season: str | None = None
    """``summer``/``winter`` (:func:`geo.season.parse_season`; a ``date`` alone decides)."""
    date: str | None = None
    """``YYYY-MM-DD``: the 冬期閉鎖 sections in force that day."""
    profile: str = "walk"
    max_minutes: float | None = None
    """A threshold in minutes of ``profile``'s walk (the season slows it); overrides
    ``max_distance``, which stays metres (the season's closures still apply)."""
    year: int | None = None
    """A projection year (``[projection]``): the demand of that year (see ``demand``)."""
    demand: str = "register"
    """``register`` — the anonymised 要配慮者 layer (scaled by the projected change of 65+
    in its 500 m cell when ``year`` is given) — or ``65+`` / ``75+`` of the projection."""


@dataclass(frozen=True)
class CoverageRunSummary(CoverageSummary):
    """The coverage figures plus the number of gaps and the season computed."""

    gaps: int = 0
    season: str = "夏"
    profile: str = "walk"
    max_minutes: float | None = None


@dataclass
class CoverageRun:
    """Coverage per unit, the per-area table and the gaps."""

    result: CoverageResult
    by_area: pd.DataFrame
    gaps: gpd.GeoDataFrame
    season: Season = field(default_factory=Season)
    profile: str = "walk"
    max_minutes: float | None = None
    season_notes: list[str] = field(default_factory=list)
    seasonal: SeasonNetwork | None = None
    """The winter network the run used (None in summer or without roads)."""

    @property
    def notes(self) -> list[str]:
        return [*self.result.notes, *self.season_notes]

    def summary(self) -> CoverageRunSummary:
        return CoverageRunSummary(**self.result.summary().as_dict(), gaps=len(self.gaps),
                                  season=self.season.label, profile=self.profile,
                                  max_minutes=self.max_minutes)


DEMANDS = ("register", "65+", "75+")


def demand_layer(region: Any, *, year: int | None = None, demand: str = "register") -> gpd.GeoDataFrame:
    """The demand of an analysis: the anonymised 要配慮者 layer, or a projection year of it
    (scaled by the change of 65+ in its 500 m cell since the projection year nearest today),
    or the projected 65+/75+ themselves (:mod:`layers.projection`)."""
    if demand not in DEMANDS:
        raise ParameterError("需要の種類が分かりません。", parameter="demand",
                             fix=f"次のいずれか: {', '.join(DEMANDS)}")
    if year is None and demand == "register":
        return region.layer("vulnerable")
    paths = region.config.projection
    if not paths:
        raise ParameterError("将来推計がありません。", parameter="year",
                             fix='地域設定に [projection] path = "将来推計人口.geojson" を書いてください。')
    proj = _projection(_file_states(paths))
    when = year if year is not None else _nearest_year(proj.years)
    if demand == "register":
        return scaled_density(region.layer("vulnerable"), proj, when, base=_nearest_year(proj.years))
    return projected_demand(proj, when, band=demand)


def _file_states(paths: Any) -> tuple[tuple[Path, int, int], ...]:
    """Each path with its size and modification time: a file replaced is read again."""
    return tuple((Path(p), Path(p).stat().st_size, Path(p).stat().st_mtime_ns) for p in paths)


PROJECTION_CACHE_VERSION = 1


@functools.lru_cache(maxsize=4)
def _projection(files: tuple[tuple[Path, int, int], ...]) -> Projection:
    """The projection of these files, read and checked once: kept in this process and, as
    GeoParquet keyed by the files' SHA-256, in the cache folder (public, aggregated data; a
    prefecture's 500 m GeoJSON takes seconds to parse, its cached copy a tenth of one)."""
    import hashlib
    import logging

    from geo.network import _cache_dir, _file_hash
    from layers.atomic import atomic_path

    key = hashlib.sha256("|".join(_file_hash(f[0]) for f in files).encode()).hexdigest()[:32]
    cached = _cache_dir() / f"projection-{key}-v{PROJECTION_CACHE_VERSION}.parquet"
    if cached.exists():
        try:
            cells = gpd.read_parquet(cached)
            years = tuple(sorted({int(str(c)[4:]) for c in cells.columns if str(c).startswith("PTN_")}))
            return Projection(cells=cells, years=years)
        except Exception:  # a damaged cache file: read the source files again
            logging.getLogger(__name__).warning("projection cache unreadable, reading the files again")
    proj = load_projection([f[0] for f in files])
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(cached) as tmp:
            proj.cells.to_parquet(tmp)
    except OSError:  # a read-only cache folder: work without it
        pass
    return proj


def projection_years(region: Any) -> tuple[tuple[int, ...], int]:
    """The projection years of the region's ``[projection]`` (empty without one) and the
    one nearest today (0 without one)."""
    if not region.config.projection:
        return (), 0
    years = _projection(_file_states(region.config.projection)).years
    return years, _nearest_year(years)


def _nearest_year(years: tuple[int, ...]) -> int:
    """The projection year nearest today (a register describes today)."""
    import datetime as dt

    today = dt.date.today().year
    return min(years, key=lambda y: (abs(y - today), y))


def analyse_coverage(region: Any, options: CoverageOptions | None = None) -> CoverageRun:
    """Walking distance from every 要配慮者 unit to its nearest facility, per area, and gaps."""
    opt = options or CoverageOptions()
    season = parse_season(opt.season, opt.date)
    limit = threshold_metres(max_distance=opt.max_distance, max_minutes=opt.max_minutes,
                             profile=opt.profile)
    density = demand_layer(region, year=opt.year, demand=opt.demand)
    facilities = region.layer(opt.facilities)
    net = region_network(region)
    circuity = None
    notes: list[str] = []
    seasonal = None
    if net is not None and opt.straight_line:  # the estimate, circuity measured on these roads
        circuity, net = circuity_of(net), None
    elif net is not None and season.winter:
        seasonal = region_season(region, season, profile=opt.profile, network=net,
                                 slow=opt.max_minutes is not None)
        if seasonal is not None:
            net, notes = seasonal.network, list(seasonal.notes)
    if season.winter and net is None:
        notes.append("道路データがないため、冬の遅れと冬期閉鎖は反映していません（直線距離の推定）。")
    result = coverage(density, facilities, crs=region.crs, network=net, circuity=circuity,
                      max_distance=limit, facility_layer=opt.facilities,
                      access=opt.access, join_radius=opt.join_radius)
    return CoverageRun(result=result, by_area=by_area(result, region_areas(region)),
                       gaps=gaps(result, density), season=season, profile=opt.profile,
                       max_minutes=opt.max_minutes, season_notes=notes, seasonal=seasonal)


@dataclass(frozen=True)
class WinterLossOptions:
    """Options of :func:`analyse_winter_loss`: the coverage options of both seasons
    (``season`` is winter; ``date`` picks the 冬期閉鎖 sections in force)."""

    facilities: str = "places"
    max_distance: float = DEFAULT_MAX_DISTANCE
    max_minutes: float | None = None
    profile: str = "walk"
    date: str | None = None
    access: str = "nearest"
    demand: str = "register"
    """``register`` (the anonymised 要配慮者), or ``65+`` / ``75+`` of the projection — for a
    council without a register (:func:`demand_layer`)."""
    year: int | None = None


def analyse_winter_loss(region: Any, options: WinterLossOptions | None = None) -> WinterLoss:
    """People covered in summer but not in winter: per unit, per 居場所, per area."""
    opt = options or WinterLossOptions()
    if region_network(region) is None:
        raise ParameterError("冬の比較には道路データが必要です。", parameter="roads",
                             fix="地域設定に [roads] path（OSM の道路網）を書いてください。")
    common = CoverageOptions(facilities=opt.facilities, max_distance=opt.max_distance,
                             max_minutes=opt.max_minutes, profile=opt.profile, access=opt.access,
                             season="summer", demand=opt.demand, year=opt.year)
    summer = analyse_coverage(region, common)
    winter = analyse_coverage(region, dataclasses.replace(common, season="winter", date=opt.date))
    seasonal = winter.seasonal
    loss = winter_loss(summer.result, winter.result, summer_areas=summer.by_area,
                       winter_areas=winter.by_area, season=winter.season.label, profile=opt.profile,
                       max_minutes=opt.max_minutes,
                       closed_segments=int(seasonal.closed.sum()) if seasonal else 0,
                       closures=seasonal.closures if seasonal else gpd.GeoDataFrame(geometry=[]))
    loss.notes.extend(winter.notes)
    loss.runs = {"summer": summer, "winter": winter}
    loss.shapes = demand_layer(region, year=opt.year, demand=opt.demand)
    loss.map_layers = {k: region.layers[k] for k in ("boundaries", opt.facilities) if k in region.layers}
    what = label_of(opt.facilities)
    loss.map_meta = {"crs": region.crs, "fictional": region.fictional,
                     "attribution": region.attribution(),
                     "title": f"{region.name}　{winter.season.label}に{what}へ届かなくなる人"}
    return loss


@dataclass(frozen=True)
class OutlookOptions:
    """Options of :func:`analyse_outlook`: the years, whether winter is added to summer,
    and the coverage options of every run."""

    years: tuple[int, ...]
    winter: bool = False
    date: str | None = None
    demand: str = "register"
    facilities: str = "places"
    max_distance: float = DEFAULT_MAX_DISTANCE
    max_minutes: float | None = None
    profile: str = "walk"
    min_people: float = DEFAULT_MIN_PEOPLE
    """People within reach below which a 居場所 is below the threshold (:mod:`geo.outlook`)."""


def analyse_outlook(region: Any, options: OutlookOptions, *, known: WinterLoss | None = None) -> Outlook:
    """Coverage of each projection year (summer, and winter when asked): totals, per area,
    the people within reach of each facility and the 自治会 whose last 居場所 falls below
    ``min_people``.  ``known``: a winter loss computed with the same options and demand —
    its two runs are the projection year nearest today's, not computed again."""
    if not (np.isfinite(options.min_people) and options.min_people >= 0):
        raise ParameterError("居場所の人数の基準は 0 以上の数にしてください。", parameter="min_people",
                             fix="例: --min-people 10")
    facilities = region.layer(options.facilities)
    fac_id = str(id_column(facilities, options.facilities))
    nb = region.layers.get("neighbourhoods")
    rows, areas, places = [], [], []
    seasons = ("summer", "winter") if options.winter else ("summer",)
    today = projection_years(region)[1]
    for year in options.years:
        for season in seasons:
            reuse = known.runs.get(season) if known is not None and year == today else None
            run = reuse or analyse_coverage(region, CoverageOptions(
                facilities=options.facilities, max_distance=options.max_distance,
                max_minutes=options.max_minutes, profile=options.profile, year=year,
                demand=options.demand, season=season, date=options.date if season == "winter" else None))
            s = run.summary()
            label = run.season.label
            rows.append({"year": year, "season": label, "demand": options.demand, "total": s.total,
                         "covered": s.covered, "uncovered": s.total - s.covered, "rate": s.rate,
                         "gaps": s.gaps})
            areas.append(run.by_area.assign(year=year, season=label, demand=options.demand))
            places.append(people_in_reach(run.result, facilities, id_col=fac_id, areas=nb,
                                          area_id="area_id", area_name="name")
                          .assign(year=year, season=label, demand=options.demand))
    by_place = pd.concat(places, ignore_index=True).assign(below=lambda d: d["people"] < options.min_people)
    return Outlook(by_year=pd.DataFrame(rows), by_area=pd.concat(areas, ignore_index=True),
                   by_place=by_place, last_places=last_places(by_place, min_people=options.min_people),
                   min_people=options.min_people)


# ------------------------------------------------------------------ consolidation


@dataclass(frozen=True)
class ConsolidationOptions:
    """Options of :func:`analyse_consolidation`; periods default to the layer's
    before/after (:func:`layers.school_districts.before_after`)."""

    before: str | None = None
    after: str | None = None
    threshold: float = DEFAULT_THRESHOLD


def analyse_consolidation(region: Any, options: ConsolidationOptions | None = None
                          ) -> ConsolidationResult:
    """The way to school before and after a consolidation, per 要配慮者 unit and per 自治会."""
    opt = options or ConsolidationOptions()
    districts = region.layer("school_districts")
    default_before, default_after = before_after(districts)
    return consolidation(region.layer("vulnerable"), districts, before=opt.before or default_before,
                         after=opt.after or default_after, crs=region.crs,
                         network=region_network(region),
                         neighbourhoods=region.layers.get("neighbourhoods"), threshold=opt.threshold)


# ------------------------------------------------------------------ shelters


@dataclass(frozen=True)
class ShelterOptions:
    """Options of :func:`analyse_shelters`."""

    hazard: str = "flood"
    catchment: float = DEFAULT_CATCHMENT
    shallow_factor: float | None = None
    season: str | None = None
    """``winter`` adds the 冬期閉鎖 sections in force on ``date`` to the hazard's closures."""
    date: str | None = None
    year: int | None = None
    """A projection year: the demand of that year (:func:`demand_layer`)."""
    demand: str = "register"


@dataclass
class ShelterRun:
    """The scenario (closed roads, shelter status) and the load it puts on shelters."""

    scenario: Scenario
    load: ShelterLoad
    season: str = "夏"
    year: int | None = None

    @property
    def notes(self) -> list[str]:
        return self.load.notes

    def summary(self) -> dict[str, Any]:
        """The scenario's and the load's figures together (the ``tomoni shelters`` JSON)."""
        when = {"season": self.season, **({"year": self.year} if self.year is not None else {})}
        return {**self.scenario.summary().as_dict(), **self.load.summary().as_dict(), **when}


def analyse_shelters(region: Any, options: ShelterOptions | None = None, *,
                     scenario: Scenario | None = None) -> ShelterRun:
    """Which shelters a hazard leaves usable, who reaches which, and their load.

    ``scenario`` reuses a scenario already built for ``options.hazard``."""
    opt = options or ShelterOptions()
    season = parse_season(opt.season, opt.date)
    scen = scenario or region_scenario(region, opt.hazard, shallow_factor=opt.shallow_factor,
                                       season=season)
    load = shelter_load(demand_layer(region, year=opt.year, demand=opt.demand), region.layer("shelters"),
                        scen, crs=region.crs, catchment=opt.catchment)
    if season.winter:
        load.notes.append(_closure_note(season))
    return ShelterRun(scenario=scen, load=load, season=season.label, year=opt.year)


def _closure_note(season: Season) -> str:
    day = f"{season.date.isoformat()} に閉鎖中のもの" if season.date else "日付の指定がないため、すべての区間"
    return f"冬期閉鎖区間（{day}）も通行止めとして計算しました。"


def analyse_shelter_tables(region: Any) -> ShelterTables:
    """Shelters per 市町村 from public data alone: kinds, hazard designations, welfare
    shelters, stated capacity and, with hazard zones, designated sites inside them."""
    return shelter_tables(region.layer("shelters"), boundaries=region.layers.get("boundaries"),
                          hazards=region.layers.get("hazards"))


# ------------------------------------------------------------------ routes


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


def _route_world(region: Any, opt: RouteOptions, scenario: Scenario | None = None) -> _RouteWorld:
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
                             fix="地域設定に [roads] path = \"道路ファイル\" を追加してください。")
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


def analyse_route(region: Any, start: tuple[float, float], end: tuple[float, float],
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


def _destinations(region: Any, to_all: str, network: Network) -> tuple[gpd.GeoDataFrame, str]:
    """The points to route to, in the region CRS, and their id column."""
    if to_all == "gaps":  # the coverage gaps of 居場所: route to each gap's centre
        cov = coverage(region.layer("vulnerable"), region.layer("places"), crs=region.crs,
                       network=network)
        gap = gaps(cov, region.layer("vulnerable")).to_crs(region.crs)
        names = [f"空白地帯 {g}（{int(u)} 人）" for g, u in zip(gap["gap_id"], gap["uncovered"],
                                                             strict=True)]
        layer = gpd.GeoDataFrame({"gap_id": gap["gap_id"], "name": names},
                                 geometry=gap.geometry.representative_point(), crs=region.crs)
        return layer, "gap_id"
    if to_all not in FACILITY_KEYS:
        raise ParameterError("行き先のレイヤーが分かりません。", parameter="to_all",
                             fix=f"{' / '.join((*FACILITY_KEYS, 'gaps'))} のいずれかにしてください。")
    layer = region.layer(to_all).to_crs(region.crs)
    return layer, str(id_column(layer, to_all))


def analyse_routes_to_all(region: Any, start: tuple[float, float], to_all: str,
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


def region_point(region: Any, value: str, parameter: str) -> tuple[tuple[float, float], str]:
    """A route end as a person gives it: the id of a VC candidate / shelter / 居場所, or
    ``"LON,LAT"``; returns the metric point (region CRS) and a label."""
    for key in ("vc_sites", "shelters", "places"):
        layer = region.layers.get(key)
        col = id_column(layer, key) if layer is not None else None
        if layer is not None and col is not None and (layer[col].astype(str) == value).any():
            row = layer[layer[col].astype(str) == value].to_crs(region.crs).iloc[0]
            return (float(row.geometry.x), float(row.geometry.y)), str(row.get("name", value))
    lon, lat = parse_lonlat(value, parameter)
    x, y = transform_xy(np.array([lon]), np.array([lat]), STORAGE_CRS, region.crs)
    b = region.extent()
    m = POINT_MARGIN_M
    if not (b[0] - m <= x[0] <= b[2] + m and b[1] - m <= y[0] <= b[3] + m):
        raise ParameterError("地点が地域の外です。", parameter=parameter,
                             fix="地域（地域設定のデータの範囲）の中の 経度,緯度 を指定してください。")
    return (float(x[0]), float(y[0])), f"{lon:.4f},{lat:.4f}"


def parse_lonlat(value: str, parameter: str) -> tuple[float, float]:
    """``"140.10,39.72"`` → (lon, lat), with a clear error for the usual mistakes."""
    parts = [p.strip() for p in str(value).replace("、", ",").split(",")]
    try:
        lon, lat = (float(p) for p in parts)
    except ValueError:
        raise ParameterError("地点の形式が違います（経度,緯度 の 2 つの数、または施設のID）。",
                             parameter=parameter, fix="例: 140.1023,39.7186（経度が先）") from None
    w, s, e, n = JAPAN_BOUNDS
    if s <= lon <= n and w <= lat <= e:
        raise ParameterError("地点の経度と緯度が逆のようです。", parameter=parameter,
                             fix="経度を先に書いてください。例: 140.1023,39.7186")
    if not (w <= lon <= e and s <= lat <= n):
        raise ParameterError("地点が日本の範囲外です。", parameter=parameter,
                             fix=f"経度 {w:g}〜{e:g}、緯度 {s:g}〜{n:g} の範囲で指定してください。")
    return lon, lat


# ------------------------------------------------------------------ 災害VC


@dataclass(frozen=True)
class VCPlanOptions:
    """Options of :func:`analyse_vc_plan` (``p=None``: one per municipality)."""

    hazard: str = "flood"
    p: int | None = None
    shallow_factor: float | None = None
    season: str | None = None
    """``winter`` adds the 冬期閉鎖 sections in force on ``date`` to the hazard's closures."""
    date: str | None = None


@dataclass
class VCPlanRun:
    """The VC plan and the drive scenario it was planned in."""

    plan: VCPlan
    scenario: Scenario
    season: str = "夏"

    @property
    def notes(self) -> list[str]:
        return self.plan.notes

    def summary(self) -> dict[str, Any]:
        return {**self.plan.summary().as_dict(), "closed_segments": int(self.scenario.closed.sum()),
                "season": self.season}


def analyse_vc_plan(region: Any, options: VCPlanOptions | None = None, *,
                    scenario: Scenario | None = None) -> VCPlanRun:
    """Rank the VC candidates in a hazard (by car where the region has a drive network) and
    choose where to open, per municipality and by p-median."""
    opt = options or VCPlanOptions()
    if opt.p is not None and opt.p < 1:
        raise ParameterError("p は 1 以上にしてください。", parameter="p", fix="例: 3")
    season = parse_season(opt.season, opt.date)
    scen = scenario or region_scenario(region, opt.hazard, drive=True, shallow_factor=opt.shallow_factor,
                                       season=season)
    plan = vc_plan(region.layer("vulnerable"), region.layer("vc_sites"), scen, crs=region.crs,
                   boundaries=region.layers.get("boundaries"), shelters=region.layers.get("shelters"),
                   network=scen.network, normal_network=scen.base, p=opt.p)
    if season.winter:
        plan.notes.append(_closure_note(season))
    return VCPlanRun(plan=plan, scenario=scen, season=season.label)


# ------------------------------------------------------------------ 広域連携


@dataclass(frozen=True)
class CrossBorderOptions:
    """Options of :func:`analyse_crossborder` (``hazard=None``: normal times)."""

    hazard: str | None = None
    straight_line: bool = False


def analyse_crossborder(region: Any, options: CrossBorderOptions | None = None, *,
                        scenario: Scenario | None = None) -> CrossBorder:
    """People better served by a neighbouring municipality's shelters/居場所, and partners.

    In a hazard only its usable shelters count and the roads it closes are avoided."""
    opt = options or CrossBorderOptions()
    scen = None
    if opt.hazard:
        scen = scenario or region_scenario(region, parse_hazard(opt.hazard))
        net = scen.network
    else:
        net = region_network(region)
    if opt.straight_line:
        net = None
    density, facilities, vc = crossborder_inputs(region.layers, scen, source=region.config.path)
    return crossborder(density, facilities, region.layer("boundaries"), crs=region.crs, network=net,
                       vc_sites=vc)


# ------------------------------------------------------------------ siting


@dataclass(frozen=True)
class SitingOptions:
    """Options of :func:`analyse_siting`."""

    candidates: str = "gap_nodes"
    """A layer key, ``closed_schools``, ``gap_nodes``, ``gap_units`` or a point file's path."""
    facilities: str = "places"
    p: int = 3
    max_distance: float = DEFAULT_MAX_DISTANCE
    capacity: str | None = None
    target: float | None = None
    outside_hazard: str | None = None
    curve_to: int | None = None
    time_limit: float = DEFAULT_TIME_LIMIT
    straight_line: bool = False
    season: str | None = None
    """``winter``: ``max_distance`` is read as that walk's time at 80 m/min, which snow slows
    (:mod:`geo.season`), and the 冬期閉鎖 sections in force on ``date`` are closed."""
    date: str | None = None
    year: int | None = None
    """A projection year: the register's projected demand of that year (:func:`demand_layer`)."""


@dataclass
class SitingRun:
    """The recommendation and the candidates it chose from."""

    recommendation: Recommendation
    candidates: gpd.GeoDataFrame

    @property
    def notes(self) -> list[str]:
        return self.recommendation.notes

    def summary(self) -> dict[str, Any]:
        rec = self.recommendation
        return {**rec.summary().as_dict(), "candidates": len(self.candidates),
                "curve": rec.curve["covered_after"].tolist()}


def analyse_siting(region: Any, options: SitingOptions | None = None) -> SitingRun:
    """Where new facilities should open (maximal covering, the existing ones kept)."""
    opt = options or SitingOptions()
    net, notes = _siting_network(region, opt)
    cands = region_candidates(region, opt.candidates, facilities=opt.facilities,
                              max_distance=opt.max_distance, network=net)
    if opt.outside_hazard:
        key = parse_hazard(opt.outside_hazard)
        zones = region.layers.get("hazards")
        if zones is not None:
            cands = outside_zones(cands, zones[zones["hazard"] == key])
    demand = demand_layer(region, year=opt.year)
    rec = recommend(demand, region.layer(opt.facilities), cands, crs=region.crs,
                    network=net, p=opt.p, max_distance=opt.max_distance, capacity=opt.capacity,
                    target=opt.target, areas=region_areas(region), curve_to=opt.curve_to,
                    time_limit=opt.time_limit)
    rec.sites = describe_sites(rec.sites, region)
    rec.notes.extend(notes)
    if opt.year is not None:
        rec.notes.append(f"{opt.year} 年の推計需要（要配慮者を65歳以上の増減で伸縮）で選びました。")
    return SitingRun(recommendation=rec, candidates=cands)


def _siting_network(region: Any, opt: SitingOptions) -> tuple[Network | None, list[str]]:
    """The network sites are chosen on: the region's, or its winter network for a walk."""
    net = _network(region, opt.straight_line)
    season = parse_season(opt.season, opt.date)
    if not season.winter:
        return net, []
    if net is None:
        return None, ["道路データがないため、冬の遅れと冬期閉鎖は反映していません（直線距離の推定）。"]
    seasonal = region_season(region, season, profile="walk", network=net)
    minutes = opt.max_distance / SPEEDS_M_PER_MIN["walk"]
    note = (f"{season.label}: 徒歩 {minutes:.0f} 分（夏の {opt.max_distance:.0f} m）を"
            "雪道の遅れと冬期閉鎖で計算しました。")
    return (seasonal.network if seasonal is not None else net), [note]


def analyse_siting_over_time(region: Any, options: SitingOptions, *, years: tuple[int, ...],
                             objective: str = "worst", weights: tuple[float, ...] | None = None
                             ) -> OverTime:
    """Sites that keep coverage over ``years`` (the register's projected demand each year):
    the worst year maximised, or a weighted sum; compared with the today-only answer."""
    net, notes = _siting_network(region, options)
    cands = region_candidates(region, options.candidates, facilities=options.facilities,
                              max_distance=options.max_distance, network=net)
    if options.outside_hazard:
        zones = region.layers.get("hazards")
        if zones is not None:
            cands = outside_zones(cands, zones[zones["hazard"] == parse_hazard(options.outside_hazard)])
    demands = {y: demand_layer(region, year=y) for y in years}
    over = recommend_over_time(demands, region.layer(options.facilities), cands, crs=region.crs,
                               network=net, p=options.p, max_distance=options.max_distance,
                               objective=objective, weights=weights, time_limit=options.time_limit)
    return dataclasses.replace(over, sites=describe_sites(over.sites, region), notes=[*over.notes, *notes])


def describe_sites(sites: gpd.GeoDataFrame, region: Any) -> gpd.GeoDataFrame:
    """Recommended sites a person can find: ``near`` (the 自治会/校区 area and municipality
    they lie in, else the nearest), ``lon``/``lat``; a road point is named after its area."""
    if not len(sites):
        return sites.assign(near="", lon=np.nan, lat=np.nan)
    pts = sites.to_crs(STORAGE_CRS)
    near = pd.Series("", index=sites.index, dtype=object)
    for key in ("boundaries", "neighbourhoods"):  # municipality first, then the 自治会 within it
        areas = region.layers.get(key)
        if areas is None or not len(areas) or "name" not in areas:
            continue
        hit = gpd.sjoin_nearest(pts[["geometry"]].to_crs(region.crs),
                                areas[["name", "geometry"]].to_crs(region.crs), how="left")
        names = hit[~hit.index.duplicated()]["name"].reindex(sites.index).fillna("").astype(str)
        near = (near + " " + names).str.strip()
    out = sites.assign(near=near.to_numpy(), lon=pts.geometry.x.round(6).to_numpy(),
                       lat=pts.geometry.y.round(6).to_numpy())
    road = out["name"].astype(str).str.startswith("道路ノード")
    out.loc[road, "name"] = [f"{n}付近の道路沿い" if n else "道路沿いの地点" for n in out.loc[road, "near"]]
    return out



# ------------------------------------------------------------------ 災害VC: the day's dispatch


@dataclass(frozen=True)
class DispatchOptions:
    """Options of :func:`analyse_dispatch` (``hazard=None``: roads as in normal times)."""

    vc: str | None = None
    """The open VC's ``site_id`` (default: the usable candidate nearest the needs on average)."""
    hazard: str | None = None
    time_limit: float = 5.0
    walk_m_per_min: float = WALK_M_PER_MIN
    drive_kmh: float = DRIVE_KMH


@dataclass
class DispatchRun:
    """The day's plan with the road networks it used (per mode) and their closures."""

    plan: DispatchPlan
    networks: dict[str, Network | None]
    closed: dict[str, np.ndarray | None]
    zones: gpd.GeoDataFrame | None

    def summary(self) -> dict[str, Any]:
        return {**self.plan.summary().as_dict(), "vc": self.plan.vc.get("site_id", ""),
                **({"hazard": self.plan.hazard} if self.plan.hazard else {})}


def usable_vc_sites(region: Any, scen: Scenario | None, *, near: Needs | None = None
                    ) -> tuple[list[str], list[str]]:
    """The 災害VC candidates outside the scenario's zones and those inside.  Ordered by 候補順位
    then ID, or, with ``near``, by the mean straight distance to those needs (the VC closest
    to the day's work first)."""
    sites = region.layer("vc_sites")
    usable = np.ones(len(sites), bool)
    if scen is not None and len(scen.zones):
        from layers.hazards import in_zones

        usable = ~in_zones(sites, scen.zones)
    ids = sites["site_id"].astype(str).to_numpy()
    key = sites["priority"].astype("Float64").fillna(1e9).to_numpy(float)
    if near is not None and len(near):
        sx, sy = transform_xy(sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy(), STORAGE_CRS,
                              region.crs)
        nx_, ny_ = transform_xy(near.table["lon"].to_numpy(float), near.table["lat"].to_numpy(float),
                                STORAGE_CRS, region.crs)
        key = np.hypot(sx[:, None] - nx_[None, :], sy[:, None] - ny_[None, :]).mean(axis=1)
    order = np.lexsort((ids, key))
    return [str(ids[i]) for i in order if usable[i]], [str(ids[i]) for i in order if not usable[i]]


def _open_vc(region: Any, wanted: str | None, scen: Scenario | None, needs: Needs) -> dict[str, Any]:
    sites = region.layer("vc_sites")
    ids = sites["site_id"].astype(str).to_numpy()
    ok, flooded = usable_vc_sites(region, scen, near=needs)
    if wanted is not None and str(wanted).strip() not in ids:
        raise ParameterError("その災害VC候補地はありません。", parameter="vc",
                             fix=f"次のいずれかを指定してください: {', '.join(ids[:20])}")
    if wanted is not None and str(wanted).strip() in flooded:
        raise ParameterError("その候補地は災害の想定区域内にあり、使えません。", parameter="vc",
                             fix=f"使える候補地: {', '.join(ok[:20]) or 'なし'}")
    if not ok:
        raise ParameterError("災害の想定区域の外に災害VC候補地がありません。", parameter="vc",
                             fix="[layers.vc_sites] に区域外の候補地を加えてください。")
    k = int(np.flatnonzero(ids == (str(wanted).strip() if wanted is not None else ok[0]))[0])
    row = sites.iloc[k]
    return {"site_id": ids[k], "name": str(row["name"]), "lon": float(row.geometry.x),
            "lat": float(row.geometry.y)}


def analyse_dispatch(region: Any, needs: Needs, teams: Teams, options: DispatchOptions | None = None
                     ) -> DispatchRun:
    """Plan the VC's day on the scenario roads: walking teams on the walk network, driving
    teams on the drive network (the main network where the region has none), closed roads
    of ``options.hazard`` never used."""
    opt = options or DispatchOptions()
    modes = set(teams.table["mode"])
    networks: dict[str, Network | None] = {}
    closed: dict[str, np.ndarray | None] = {}
    scen = None
    for mode in sorted(modes):
        if opt.hazard:
            scen = region_scenario(region, parse_hazard(opt.hazard), drive=mode == "drive")
            networks[mode], closed[mode] = scen.network, scen.closed
        else:
            networks[mode] = scenario_network(region, drive=mode == "drive")
            closed[mode] = None
    vc = _open_vc(region, opt.vc, scen, needs)
    plan = plan_dispatch(needs, teams, vc, crs=region.crs, networks=networks,
                         hazard=parse_hazard(opt.hazard) if opt.hazard else None, time_limit=opt.time_limit,
                         walk_m_per_min=opt.walk_m_per_min, drive_kmh=opt.drive_kmh)
    return DispatchRun(plan=plan, networks=networks, closed=closed,
                       zones=scen.zones if scen is not None else None)


def analyse_shelter_needs(region: Any, options: ShelterOptions | None = None, *,
                          ratios: dict[str, float] | None = None,
                          scenario: Scenario | None = None) -> tuple[ShelterRun, ShelterNeeds]:
    """The shelter load of a hazard and, per usable shelter, its minimum needs; with a
    projected demand (``65+``), the 要配慮者 of the register are assigned on the same scenario
    and shown apart."""
    opt = options or ShelterOptions()
    run = analyse_shelters(region, opt, scenario=scenario)
    care = None
    if opt.demand != "register" and region.layers.get("vulnerable") is not None:
        care = analyse_shelters(region, dataclasses.replace(opt, demand="register"),
                                scenario=run.scenario).load
    return run, shelter_needs(run.load, region.layer("shelters"), ratios=ratios, care=care)


# ------------------------------------------------------------------ walk + bus


@dataclass(frozen=True)
class TransitOptions:
    """Options of :func:`analyse_transit` (see :mod:`geo.transit_access`)."""

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
            out["lost_weekend"] = int(u.loc[u["lost_weekend"], "count"].sum())
            out["lost_winter"] = int(u.loc[u["lost_winter"], "count"].sum())
            out["weekend_date"] = self.weekend.day.date.isoformat() if self.weekend else None
        if self.new_stops is not None and len(self.new_stops):
            out["best_new_stop_gain"] = int(self.new_stops["gained"].iloc[0])
        if self.extra_trips is not None and len(self.extra_trips):
            out["best_extra_trip_gain"] = int(self.extra_trips["gained"].iloc[0])
        return out


def next_weekday() -> dt.date:
    """The next Monday–Friday after today: the default day of a walk + bus run."""
    day = dt.date.today() + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


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


def region_feeds(region: Any) -> list[Feed]:
    """The region's ``[layers.transit]`` feeds; a clear error without one."""
    paths = region.config.transit
    if not paths:
        raise ParameterError("バスの時刻表（GTFS）がありません。", parameter="transit",
                             fix='地域設定に [layers.transit] path = ["bus_gtfs.zip"] を書いてください。')
    return [_feed(Path(p), *_file_states([p])[0][1:]) for p in paths]


def _walk_network(region: Any, season: Season, profile: str) -> tuple[Network, list[str]]:
    net = region_network(region)
    if net is None:
        raise ParameterError("公共交通の計算には道路データが必要です。", parameter="roads",
                             fix="地域設定に [roads] path（OSM の道路網）を書いてください。")
    if not season.winter:
        return net, []
    seasonal = region_season(region, season, profile=profile, network=net)
    return (seasonal.network, list(seasonal.notes)) if seasonal is not None else (net, [])


@dataclass(frozen=True)
class _TransitWorld:
    """What every run of one analysis shares: the region, units, facilities, feeds, how
    people travel, and the demand vehicles' roads."""

    region: Any
    opt: TransitOptions
    units: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    feeds: tuple[Feed, ...]
    settings: TransitSettings
    window: tuple[float, float]
    ride: Network | None

    def run(self, day: TransitDay, walk_season: Season) -> TransitResult:
        net, notes = _walk_network(self.region, walk_season, self.opt.profile)
        res = transit_coverage(self.units, self.facilities, day, crs=self.region.crs, network=net,
                               window=self.window, max_minutes=self.opt.max_minutes, settings=self.settings,
                               rule=self.opt.rule, ride_network=self.ride, facility_layer=self.opt.facilities)
        res.notes.extend(notes)
        return res

    def on(self, day: dt.date, walk_season: Season) -> TransitResult:
        return self.run(transit_day(self.feeds, day, crs=self.region.crs, wait_min=self.opt.flex_wait_min),
                        walk_season)


def analyse_transit(region: Any, options: TransitOptions | None = None) -> TransitRun:
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
        window=parse_window(opt.window), ride=scenario_network(region, drive=True), settings=settings)
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
        out.by_area = transit_by_area(base, areas, losses=out.losses)
    if opt.what_if:
        out.new_stops = new_stops(base, lambda trial: world.run(trial, season), crs=region.crs)
        out.extra_trips = extra_trips(base, lambda trial: world.run(trial, season))
    return out


def _destinations_of(region: Any, opt: TransitOptions) -> tuple[gpd.GeoDataFrame, str]:
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
