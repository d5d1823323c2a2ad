"""Without a car: walking plus the community bus (GTFS-JP) to the nearest destination.

For every published 要配慮者 unit and every minute of a departure window (say
08:00–12:00 on a Thursday), the travel time to the nearest destination of a layer
(居場所, shelters, a clinic list) is the best of

* **walking only**, along the roads at the profile's speed (elderly 50 m/min by
  default; in winter the seasonal network slows it and closes roads);
* **walking to a stop, riding, walking on**: an access walk of at most
  ``max_walk_min`` minutes to any stop, the buses of that date (at most ``max_trips``
  trips, changing on foot within ``transfer_min`` minutes between stops), and the
  walk from the stop alighted at to the nearest destination (at most ``max_walk_min``);
* a **booked demand ride** (デマンド交通, GTFS-Flex zones) for a unit inside a zone:
  picked up the zone's stated wait after asking (``prior_notice_duration_min`` of a
  same-day booking rule, else :data:`layers.transit.DEFAULT_FLEX_WAIT_MIN`), driven
  along the roads at ``ride_kmh`` to any stop or destination in the same zone, within
  the zone's pick-up window.

Travel time at a minute counts the wait at home and at the stop: someone leaving at
08:10 for an hourly bus at 09:00 waits 50 minutes.  Per unit the result is the
earliest arrival (leaving at the window's start), the median and the worst travel
time over the window, and the number of distinct bus journeys within the threshold
(``usable_trips``).  A unit is **reachable** (rule ``trip``, the default) when at least
one way of leaving home within the window arrives within the threshold — someone going
to a サロン leaves for the bus, not at a random minute; the rule ``median`` asks it of
the median departure minute instead (turn up and go).  Both are reported: sparse rural
timetables make one departure misleading.

People are counted where they live: with the register (in memory) or a published density
spread over its units' outlines (:mod:`layers.demand`), every person's travel times are
computed from their own position, and every count of people (per unit ``*_n``, the
totals, per area, per route, the what-ifs' gains) passes the gate
(:meth:`layers.demand.Demand.count`).  A unit's minutes are its anchor's (a public point).

The compiled searches are in :mod:`geo.engine.transit_search`; the walks use the engine's
access rule (:mod:`geo.engine.access`), so a river or a railway is never crossed on foot.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.analyses.coverage import nearest_points
from geo.analyses.inputs import HOW_TO_ADD, clock_text
from geo.engine.access import pairs_within, snap
from geo.engine.network import Network
from geo.engine.transit_search import connections, stop_profiles, window_times
from layers.crs import STORAGE_CRS, transform_xy
from layers.demand import Demand, PerPerson
from layers.errors import ParameterError
from layers.layer_facts import id_column
from layers.transit import DayTrips, DemandZone, Feed, day_trips, demand_zones

__all__ = [
    "DEFAULT_MAX_TRIPS",
    "DEFAULT_MAX_WALK_MIN",
    "DEFAULT_RIDE_KMH",
    "DEFAULT_TRANSFER_MIN",
    "RULES",
    "PeopleTransit",
    "TransitDay",
    "TransitResult",
    "TransitSettings",
    "TransitTimes",
    "parse_window",
    "transit_coverage",
    "transit_day",
    "transit_times",
    "unit_statistics",
]

log = logging.getLogger(__name__)

DEFAULT_MAX_WALK_MIN = 10.0
"""Minutes of walking to a stop, and from a stop to the destination (500 m elderly)."""
DEFAULT_TRANSFER_MIN = 5.0
"""Minutes of walking between two stops to change buses."""
DEFAULT_MAX_TRIPS = 3
"""Trips in one journey (two changes: the elderly rarely change more)."""
DEFAULT_RIDE_KMH = 20.0
"""A demand vehicle's speed on rural roads, door to door."""
STEP_S = 60.0
"""Departure times are tried every minute of the window."""


@dataclass(frozen=True)
class TransitDay:
    """The buses of one date from one or more feeds: stops (metric ``x``/``y`` and
    ``lon``/``lat``; ``stop_id`` prefixed ``feed:`` when several feeds are read), the
    day's trips and the demand zones running."""

    date: dt.date
    stops: pd.DataFrame
    trips: DayTrips
    routes: pd.DataFrame
    zones: tuple[DemandZone, ...] = ()

    def with_trips(self, trips: DayTrips, stops: pd.DataFrame | None = None) -> TransitDay:
        """The same day with other trips (and stops): a what-if."""
        return TransitDay(self.date, self.stops if stops is None else stops, trips, self.routes, self.zones)


def _feed_day(feed: Feed, day: dt.date, pre: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One feed's stops, events of ``day`` and routes, ids prefixed with ``pre``."""
    s = feed.stops[feed.stops["location_type"] == "0"]
    stops = pd.DataFrame({"stop_id": pre + s["stop_id"].astype(str), "stop_name": s["stop_name"].astype(str),
                          "lon": s["lon"].to_numpy(float), "lat": s["lat"].to_numpy(float)})
    ev = day_trips(feed, day).events
    ev = ev.assign(**{c: pre + ev[c].astype(str) for c in ("trip_id", "route_id", "stop_id")})
    r = feed.routes
    blank = pd.Series("", index=r.index)
    long_name = r.get("route_long_name", blank).astype(str).str.strip()
    name = long_name.where(long_name != "", r.get("route_short_name", blank).astype(str).str.strip())
    routes = pd.DataFrame({"route_id": pre + r["route_id"].astype(str).str.strip(),
                           "route_name": name.to_numpy(), "feed": feed.name})
    return stops, ev, routes


def transit_day(feeds: Sequence[Feed], day: dt.date, *, crs: str, wait_min: float | None = None
                ) -> TransitDay:
    """The trips, stops, routes and demand zones of ``day`` in ``feeds``."""
    parts = [_feed_day(feed, day, f"{i + 1}:" if len(feeds) > 1 else "") for i, feed in enumerate(feeds)]
    if not parts:
        raise ParameterError("バスの時刻表（GTFS）がありません。", parameter="transit",
                             fix=HOW_TO_ADD["transit"])
    st = pd.concat([p[0] for p in parts], ignore_index=True)
    x, y = transform_xy(st["lon"].to_numpy(), st["lat"].to_numpy(), STORAGE_CRS, crs)
    zones = tuple(z for feed in feeds for z in demand_zones(feed, day, wait_min=wait_min))
    return TransitDay(date=day, stops=st.assign(x=x, y=y),
                      trips=DayTrips(day, pd.concat([p[1] for p in parts], ignore_index=True)),
                      routes=pd.concat([p[2] for p in parts], ignore_index=True), zones=zones)


def parse_window(text: str) -> tuple[float, float]:
    """``08:00-12:00`` (or ``8時〜12時``, as the needs lists write it; up to 30:00) as seconds
    from midnight; words such as 午前 are not a departure window."""
    from layers.needs import parse_window as parse_span

    try:
        span = parse_span(text, words=False, latest=30 * 3600)
    except ValueError:
        span = None
    if span is None:
        raise ParameterError("出発の時間帯が読めません。", parameter="window",
                             fix="「08:00-12:00」のように、始まりと終わりの時刻を書いてください。")
    return float(span[0]), float(span[1])


@dataclass(frozen=True)
class TransitSettings:
    """How people travel: the profile's walking speed (m/min, the seasonal network's
    weights are metres at this speed), the walks allowed, trips per journey and the
    demand vehicle's speed."""

    speed_m_per_min: float = 50.0
    max_walk_min: float = DEFAULT_MAX_WALK_MIN
    transfer_min: float = DEFAULT_TRANSFER_MIN
    max_trips: int = DEFAULT_MAX_TRIPS
    ride_kmh: float = DEFAULT_RIDE_KMH

    def check(self) -> None:
        for name, v in (("speed_m_per_min", self.speed_m_per_min), ("max_walk_min", self.max_walk_min),
                        ("transfer_min", self.transfer_min), ("ride_kmh", self.ride_kmh)):
            if not (np.isfinite(v) and v >= 0) or (name in ("speed_m_per_min", "ride_kmh") and v == 0):
                raise ParameterError("歩く速さ・時間の設定が正しくありません。", parameter=name,
                                     fix="0 以上の数にしてください（速さは 0 より大きく）。")
        if not 1 <= int(self.max_trips) <= 6:
            raise ParameterError("乗り継ぎの回数が範囲外です。", parameter="max_trips",
                                 fix="1〜6 便（乗り換え 0〜5 回）にしてください。")


@dataclass
class TransitTimes:
    """Travel seconds per unit (rows) and departure minute (columns): ``total`` (the best
    way), ``bus`` (journeys through a stop: walked or ridden to it), ``ride`` (a demand
    ride straight there), ``walk`` (walking only, one column); ``access``: the (unit,
    stop) pairs within the access walk."""

    starts: np.ndarray
    total: np.ndarray
    bus: np.ndarray
    ride: np.ndarray
    walk: np.ndarray
    access_unit: np.ndarray
    access_stop: np.ndarray
    walk_which: np.ndarray
    """The nearest destination on foot (index, -1 where none)."""
    notes: list[str] = field(default_factory=list)


    def split(self, n: int) -> tuple[TransitTimes, TransitTimes]:
        """The first ``n`` rows and the rest, as two :class:`TransitTimes` (access pairs
        re-indexed)."""
        first = self.access_unit < n

        def part(rows: slice, keep: np.ndarray, shift: int) -> TransitTimes:
            return TransitTimes(starts=self.starts, total=self.total[rows], bus=self.bus[rows],
                                ride=self.ride[rows], walk=self.walk[rows],
                                access_unit=self.access_unit[keep] - shift,
                                access_stop=self.access_stop[keep],
                                walk_which=self.walk_which[rows], notes=self.notes)

        return part(slice(0, n), first, 0), part(slice(n, None), ~first, n)


@dataclass(frozen=True, repr=False, eq=False)
class PeopleTransit(PerPerson):
    """Each person's result (in memory only, never written): their unit, whether walking
    only / the best way reaches a destination in time, and the (person, stop) pairs within
    the access walk.  Counts leave through ``demand.count`` only."""

    demand: Demand
    unit: np.ndarray
    covered: np.ndarray
    covered_walk: np.ndarray
    access_person: np.ndarray
    access_stop: np.ndarray
    median_min: np.ndarray
    """Minutes at the median departure minute (NaN: not reached)."""

    @property
    def gained(self) -> np.ndarray:
        return self.covered & ~self.covered_walk


def _csr(rows: np.ndarray, n: int, *cols: np.ndarray) -> tuple[np.ndarray, ...]:
    order = np.argsort(rows, kind="stable")
    ptr = np.searchsorted(rows[order], np.arange(n + 1))
    return (ptr.astype(np.int64), *(c[order] for c in cols))


def _zone_links(day: TransitDay, zones: Sequence[DemandZone], ux: np.ndarray, uy: np.ndarray,
                dx: np.ndarray, dy: np.ndarray, ride_net: Network | None, crs: str, kmh: float
                ) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """Demand rides: (unit, stop, seconds, from, until) and (unit, seconds, from, until)."""
    acc: list[np.ndarray] = [np.zeros(0, np.int64), np.zeros(0, np.int64), *[np.zeros(0)] * 3]
    dirs: list[np.ndarray] = [np.zeros(0, np.int64), *[np.zeros(0)] * 3]
    if ride_net is None:
        return tuple(acc), tuple(dirs)
    sx, sy = day.stops["x"].to_numpy(float), day.stops["y"].to_numpy(float)
    for z in zones:
        poly = gpd.GeoSeries([z.polygon], crs=STORAGE_CRS).to_crs(crs).iloc[0]
        iu = np.flatnonzero(shapely.contains_xy(poly, ux, uy))
        if not len(iu):
            continue
        ist = np.flatnonzero(shapely.contains_xy(poly, sx, sy))
        idn = np.flatnonzero(shapely.contains_xy(poly, dx, dy))
        span = float(np.hypot(*np.subtract(poly.bounds[2:], poly.bounds[:2]))) * 3
        wait = z.wait_min * 60.0
        for lo, hi in z.windows:
            for kind, idx, px, py in (("stop", ist, sx, sy), ("dest", idn, dx, dy)):
                if not len(idx):
                    continue
                p, f, m = pairs_within(ride_net, ux[iu], uy[iu], snap(ride_net, px[idx], py[idx]), span)
                secs = wait + m / (kmh / 3.6)
                start, until = np.full(len(p), lo - wait), np.full(len(p), hi - wait)
                if kind == "stop":
                    for k, v in enumerate((iu[p], idx[f], secs, start, until)):
                        acc[k] = np.r_[acc[k], v]
                else:
                    for k, v in enumerate((iu[p], secs, start, until)):
                        dirs[k] = np.r_[dirs[k], v]
    return tuple(acc), tuple(dirs)


def transit_times(day: TransitDay, units: np.ndarray, destinations: np.ndarray, *, network: Network,
                  window: tuple[float, float], settings: TransitSettings | None = None,
                  ride_network: Network | None = None, crs: str) -> TransitTimes:
    """Travel seconds from every unit (metric points, shape (n, 2)) to its nearest
    destination, at every minute of ``window``, by walking, bus and demand ride.

    ``network`` is the walk network (seasonal, its weights metres at the profile's
    speed); ``ride_network`` the roads a demand vehicle drives (None: no demand rides).
    """
    opt = settings or TransitSettings()
    opt.check()
    w0, w1 = window
    if not w1 > w0:
        raise ParameterError("時間帯の終わりが始まりより前です。", parameter="window", fix="例: 08:00-12:00")
    starts = np.arange(w0, w1, STEP_S)
    u = np.asarray(units, float).reshape(-1, 2)
    d = np.asarray(destinations, float).reshape(-1, 2)
    if not len(d):
        raise ParameterError("行き先の施設がありません。", parameter="to",
                             fix="施設のレイヤーを選んでください。")
    speed = opt.speed_m_per_min / 60.0
    walk_m = opt.max_walk_min * opt.speed_m_per_min
    sx, sy = day.stops["x"].to_numpy(float), day.stops["y"].to_numpy(float)
    ssnap = snap(network, sx, sy)
    notes = []
    if ssnap.flagged.any():
        notes.append(f"道路から離れた停留所 {int(ssnap.flagged.sum())} か所は使えないものとしました。")
    walk, which, _a, _far = nearest_points(u[:, 0], u[:, 1], d[:, 0], d[:, 1], network=network)
    egress, _w, _a, _far = nearest_points(sx, sy, d[:, 0], d[:, 1], network=network)
    egress = np.where(egress <= walk_m, egress / speed, np.inf)
    ap, asn, am = pairs_within(network, u[:, 0], u[:, 1], ssnap, walk_m)
    tp, ts, tm = pairs_within(network, sx, sy, ssnap, opt.transfer_min * opt.speed_m_per_min)
    keep = tp != ts
    t_ptr, t_idx, t_sec = _csr(tp[keep], len(sx), ts[keep], tm[keep] / speed)
    zacc, zdir = _zone_links(day, day.zones, u[:, 0], u[:, 1], d[:, 0], d[:, 1], ride_network, crs,
                             opt.ride_kmh)
    n = len(u)
    inf = np.full(len(ap), np.inf)
    access = _csr(np.r_[ap, zacc[0]], n, np.r_[asn, zacc[1]], np.r_[am / speed, zacc[2]],
                  np.r_[-inf, zacc[3]], np.r_[inf, zacc[4]])
    direct = _csr(np.r_[np.arange(n), zdir[0]], n, np.r_[walk / speed, zdir[1]],
                  np.r_[np.full(n, -np.inf), zdir[2]], np.r_[np.full(n, np.inf), zdir[3]],
                  np.r_[np.zeros(n, bool), np.ones(len(zdir[0]), bool)])
    conn = connections(day.trips, day.stops["stop_id"].to_numpy(object))
    prof = stop_profiles(conn, egress, max_trips=int(opt.max_trips), transfers=(t_ptr, t_idx, t_sec))
    total, bus, ride = window_times(prof, starts, access=access, direct=direct)
    log.info("transit: %d units, %d stops, %d hops, %d departures", n, len(sx), len(conn.dep), len(starts))
    return TransitTimes(starts=starts, total=total, bus=bus, ride=ride, walk=walk / speed, access_unit=ap,
                        access_stop=asn, walk_which=which, notes=notes)


RULES = ("trip", "median")


def unit_statistics(times: TransitTimes, max_minutes: float, *, rule: str = "trip") -> pd.DataFrame:
    """Per unit: minutes walking only, earliest arrival (leaving at the window's start,
    seconds from midnight), best / median / worst minutes over the window, distinct bus
    journeys within ``max_minutes`` (``usable_trips``: different arrival times through a
    stop), whether a booked demand ride straight there does (``demand_ride``), and
    whether walking only or the best way reaches a
    destination within ``max_minutes`` (``rule``: at least once in the window, or at the
    median departure minute)."""
    if rule not in RULES:
        raise ParameterError("到達の判定方法が分かりません。", parameter="rule",
                             fix=f"次のいずれか: {', '.join(RULES)}")
    if not (np.isfinite(max_minutes) and max_minutes > 0):
        raise ParameterError("分数のしきい値は正の数にしてください。", parameter="max_minutes",
                             fix="例: --max-minutes 45")
    limit = float(max_minutes) * 60.0
    total, bus = times.total, times.bus
    median = np.median(total, axis=1) if total.shape[1] else np.full(len(total), np.inf)
    arrive = np.where(bus <= limit, times.starts[None, :] + bus, np.inf)
    arrive.sort(axis=1)
    with np.errstate(invalid="ignore"):  # inf - inf: no journey either side
        later = np.diff(arrive, axis=1) > 0
    distinct = np.isfinite(arrive[:, :1]).sum(axis=1) + (later & np.isfinite(arrive[:, 1:])).sum(axis=1)

    def minutes(v: np.ndarray) -> np.ndarray:
        return np.where(np.isfinite(v), np.round(v / 60.0, 1), np.nan)

    first = times.starts[0] + total[:, 0] if total.shape[1] else np.full(len(total), np.inf)
    return pd.DataFrame({
        "walk_min": minutes(times.walk), "earliest_arrival_s": np.where(np.isfinite(first), first, np.nan),
        "best_min": minutes(total.min(axis=1)), "median_min": minutes(median),
        "worst_min": minutes(total.max(axis=1)), "usable_trips": distinct.astype(np.int64),
        "demand_ride": (times.ride <= limit).any(axis=1),
        "covered_walk": times.walk <= limit,
        "covered": (total.min(axis=1) if rule == "trip" else median) <= limit})


@dataclass
class TransitResult:
    """Walk + bus coverage per published unit: ``units`` has unit_id, count, the
    statistics of :func:`unit_statistics`, ``gained`` (reached only with the bus or a
    demand ride), the nearest destination on foot (``facility_id``/``facility_name``,
    ``distance_m``) and ``method``; ``times`` the minute-by-minute travel times."""

    units: gpd.GeoDataFrame
    times: TransitTimes
    day: TransitDay
    window: tuple[float, float]
    max_minutes: float
    rule: str
    settings: TransitSettings
    facilities: str
    notes: list[str] = field(default_factory=list)
    people: PeopleTransit | None = field(default=None, repr=False)
    """Each person's result (in memory): every published count is made from it."""

    def summary(self) -> dict[str, object]:
        u = self.units
        if self.people is not None:
            d, p = self.people.demand, self.people
            total, walk, cov = d.total(), d.total(p.covered_walk), d.total(p.covered)
            gained: int | str = d.total(p.gained)
        else:
            total = int(u["count"].sum())
            walk = int(u.loc[u["covered_walk"], "count"].sum())
            cov = int(u.loc[u["covered"], "count"].sum())
            gained = cov - walk
        return {"date": self.day.date.isoformat(), "window": window_text(self.window),
                "max_minutes": self.max_minutes, "rule": self.rule, "facilities": self.facilities,
                "total": total, "covered_walk": walk, "covered": cov, "gained": gained,
                "rate_walk": _rate(walk, total), "rate": _rate(cov, total),
                "trips_on_date": self.day.trips.n_trips, "demand_zones": len(self.day.zones)}


def _rate(part: int | str, total: int | str) -> float | None:
    """A share of two protected counts (None when either is 「k未満」)."""
    if isinstance(part, str) or isinstance(total, str):
        return None
    return round(part / total, 4) if total else 0.0


def window_text(window: tuple[float, float]) -> str:
    return f"{clock_text(window[0], nearest=True)}-{clock_text(window[1], nearest=True)}"


def transit_coverage(units: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, day: TransitDay, *, crs: str,
                     network: Network, window: tuple[float, float], max_minutes: float,
                     settings: TransitSettings | None = None, rule: str = "trip",
                     ride_network: Network | None = None, facility_layer: str = "places",
                     people: tuple[Demand, np.ndarray] | None = None) -> TransitResult:
    """Who reaches a facility within ``max_minutes`` by walking + bus (and demand rides)
    on ``day``, against walking only: ``units`` are the demand points of
    :func:`geo.analyses.coverage.demand_units` (metric ``crs``); ``people`` the people
    counted and each one's unit (:func:`geo.analyses.coverage.people_in_units`), whose
    counts per unit are added as ``covered_n``, ``covered_walk_n``, ``gained_n``."""

    opt = settings or TransitSettings()
    fac = facilities.to_crs(crs)
    points = units.get_coordinates().to_numpy()
    if people is not None:
        points = np.vstack([points, np.column_stack(people[0].xy(crs))])
    times = transit_times(day, points, fac.get_coordinates().to_numpy(),
                          network=network, window=window, settings=opt, ride_network=ride_network, crs=crs)
    times, mine = times.split(len(units))
    stats = unit_statistics(times, max_minutes, rule=rule)
    id_col = id_column(fac, facility_layer)
    ids = fac[id_col].astype(str).to_numpy() if id_col else np.arange(len(fac)).astype(str)
    names = fac["name"].fillna("").astype(str).to_numpy() if "name" in fac else np.full(len(fac), "", object)
    w = times.walk_which
    out = units.reset_index(drop=True).assign(**{c: stats[c].to_numpy() for c in stats.columns})
    out = out.assign(gained=out["covered"] & ~out["covered_walk"],
                     earliest_arrival=[clock_text(v, nearest=True) for v in stats["earliest_arrival_s"]],
                     facility_id=np.where(w >= 0, ids[np.maximum(w, 0)], ""),
                     facility_name=np.where(w >= 0, names[np.maximum(w, 0)], ""),
                     distance_m=np.round(times.walk * opt.speed_m_per_min / 60.0, 1), method="network")
    notes = list(times.notes)
    if not day.trips.n_trips:
        notes.append(f"{day.date.isoformat()} に走る便がありません（時刻表の運行日を確かめてください）。")
    who = None
    if people is not None:
        pstats = unit_statistics(mine, max_minutes, rule=rule)
        who = PeopleTransit(people[0], people[1], pstats["covered"].to_numpy(bool),
                            pstats["covered_walk"].to_numpy(bool), mine.access_unit, mine.access_stop,
                            pstats["median_min"].to_numpy(float))
        n = len(out)
        out = out.assign(covered_n=who.demand.count(who.unit, n, who.covered),
                         covered_walk_n=who.demand.count(who.unit, n, who.covered_walk),
                         gained_n=who.demand.count(who.unit, n, who.gained))
    return TransitResult(units=out, times=times, day=day, window=window, max_minutes=float(max_minutes),
                         rule=rule, settings=opt, facilities=facility_layer, notes=notes, people=who)











