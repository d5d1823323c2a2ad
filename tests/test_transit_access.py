"""Walk + bus travel times over a departure window, against independent references.

* **Brute force** (hypothesis): random timetables, access walks (some only bookable in
  a time window, as a demand ride), footpaths, walks on to the destination and walks
  straight there; for every sampled departure minute the reference builds a
  time-expanded networkx graph — every departure and arrival a node, waiting arcs at
  each stop, riding, alighting, one footpath between two trips — and runs Dijkstra from
  home to the destination.  It shares no code with the profile scan.
* **By hand on real roads**: a stop 85 m away across a river is 2 km on foot; the bus
  from it must not be taken.  A demand zone picks up after its stated wait only inside
  its window.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from geo.analyses.transit_access import (
    TransitDay,
    TransitSettings,
    parse_window,
    transit_times,
    unit_statistics,
)
from geo.engine.network import from_graph
from geo.engine.transit_search import connections, stop_profiles, window_times
from layers.errors import ParameterError
from layers.transit import DayTrips, DemandZone
from tests.transit_cases import random_events

CRS = "EPSG:6678"
ORIGIN = (-30000.0, -60000.0)
_TO_LONLAT = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
DAY = dt.date(2027, 1, 14)


# ------------------------------------------------------------------ brute force


def _random_case(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    n_stops = int(rng.integers(3, 7))
    events = random_events(rng, n_stops, lines=3, trips=3, first_hour=8, last_hour=9)
    egress = np.where(rng.random(n_stops) < 0.5, rng.integers(0, 900, n_stops).astype(float), np.inf)
    walks = {(int(a), int(b)): float(rng.integers(30, 600))
             for a, b in rng.integers(0, n_stops, (int(rng.integers(0, 5)), 2)) if a != b}
    n_units = int(rng.integers(1, 4))
    access = []  # (unit, stop, seconds, from, until)
    for u in range(n_units):
        for s in rng.choice(n_stops, size=int(rng.integers(0, 3)), replace=False):
            booked = rng.random() < 0.3
            lo = float(rng.integers(8 * 3600, 9 * 3600)) if booked else -np.inf
            access.append((u, int(s), float(rng.integers(0, 900)), lo, lo + 1800 if booked else np.inf))
    direct = [(u, float(rng.integers(600, 9000)) if rng.random() < 0.8 else np.inf, -np.inf, np.inf, 0.0)
              for u in range(n_units)]
    for u in range(n_units):  # a demand ride straight there, bookable for half an hour
        if rng.random() < 0.3:
            lo = float(rng.integers(8 * 3600, 9 * 3600))
            direct.append((u, float(rng.integers(600, 3000)), lo, lo + 1800, 1.0))
    starts = np.sort(rng.choice(np.arange(8 * 3600, 9 * 3600 + 1, 60), size=4, replace=False)).astype(float)
    return {"day": DayTrips(DAY, events), "n": n_stops, "egress": egress, "walks": walks,
            "access": access, "direct": direct, "starts": starts, "units": n_units}


def _reference(case: dict, unit: int, t0: float) -> float:
    """Dijkstra on a time-expanded graph of the case, leaving home at ``t0``."""
    g = nx.DiGraph()
    times: dict[int, set[float]] = defaultdict(set)
    ev = case["day"].events.assign(s=case["day"].events["stop_id"].str[1:].astype(int))
    for trip, grp in ev.groupby("trip_id"):
        rows = list(grp.sort_values("seq").itertuples())
        for a, b in itertools.pairwise(rows):
            g.add_edge(("dep", trip, a.seq), ("arr", trip, b.seq), w=b.arr_s - a.dep_s)
        for r in rows:
            g.add_edge(("arr", trip, r.seq), ("dep", trip, r.seq), w=r.dep_s - r.arr_s)  # stay aboard
            g.add_edge(("at", r.s, r.dep_s), ("dep", trip, r.seq), w=0.0)  # board
            times[r.s].add(r.dep_s)
            if np.isfinite(case["egress"][r.s]):
                g.add_edge(("arr", trip, r.seq), "dest", w=float(case["egress"][r.s]))
            for w in [r.s, *[b for (a, b) in case["walks"] if a == r.s]]:
                walk = 0.0 if w == r.s else case["walks"][(r.s, w)]
                g.add_edge(("arr", trip, r.seq), ("at", w, r.arr_s + walk), w=walk)  # one footpath
                times[w].add(r.arr_s + walk)
    for u, s, sec, lo, hi in case["access"]:
        if u == unit and lo <= t0 <= hi:  # two ways to one stop arrive at different times: two nodes
            g.add_edge("home", ("at", s, t0 + sec), w=sec)
            times[s].add(t0 + sec)
    for u, sec, lo, hi, _ride in case["direct"]:
        if u == unit and lo <= t0 <= hi and np.isfinite(sec):  # the shortest of walk and ride
            g.add_edge("home", "dest", w=min(sec, g.edges["home", "dest"]["w"] if g.has_edge("home", "dest")
                                             else np.inf))
    for s, ts in times.items():
        for a, b in itertools.pairwise(sorted(ts)):
            g.add_edge(("at", s, a), ("at", s, b), w=b - a)  # wait at the stop
    if "home" not in g or "dest" not in g:
        return np.inf
    try:
        return float(nx.dijkstra_path_length(g, "home", "dest", weight="w"))
    except nx.NetworkXNoPath:
        return np.inf


def _csr(rows: list[tuple], n: int) -> tuple[np.ndarray, ...]:
    rows = sorted(rows, key=lambda r: r[0])
    keys = np.array([r[0] for r in rows], np.int64)
    cols = [np.array([r[k] for r in rows], float) for k in range(1, len(rows[0]) if rows else 1)]
    return (np.searchsorted(keys, np.arange(n + 1)).astype(np.int64), *cols)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.integers(0, 10**9))
def test_window_times_equal_a_time_expanded_graph(seed: int):
    case = _random_case(seed)
    n = case["n"]
    conn = connections(case["day"], np.array([f"S{i}" for i in range(n)], dtype=object))
    walks = sorted(case["walks"].items())
    heads = np.array([a for (a, _b), _w in walks], np.int64)
    fp = (np.searchsorted(heads, np.arange(n + 1)).astype(np.int64),
          np.array([b for (_a, b), _w in walks], np.int64), np.array([w for _k, w in walks], float))
    prof = stop_profiles(conn, case["egress"], max_trips=conn.n_trips + 1, transfers=fp)
    access = _csr(case["access"], case["units"]) if case["access"] else (
        np.zeros(case["units"] + 1, np.int64), *[np.zeros(0)] * 4)
    direct = _csr(case["direct"], case["units"])
    total, bus, ride = window_times(prof, case["starts"], access=access, direct=direct)
    for u in range(case["units"]):
        for j, t0 in enumerate(case["starts"]):
            want = _reference(case, u, t0)
            got = total[u, j]
            assert np.isfinite(got) == np.isfinite(want), (u, t0, got, want)
            if np.isfinite(want):
                assert got == pytest.approx(want, abs=1e-6)
            assert min(bus[u, j], ride[u, j]) >= got - 1e-9


def test_the_trip_cap_of_the_window_search():
    """A → B on L1 (8:00 → 8:10), B → C on L2 (8:15 → 8:30); the destination is at C."""
    rows = [("L1", "A", 0, 8 * 3600), ("L1", "B", 1, 8 * 3600 + 600),
            ("L2", "B", 0, 8 * 3600 + 900), ("L2", "C", 1, 8 * 3600 + 1800)]
    events = pd.DataFrame([{"trip_id": t, "route_id": t, "stop_id": s, "seq": q, "arr_s": float(x),
                            "dep_s": float(x)} for t, s, q, x in rows])
    conn = connections(DayTrips(DAY, events), np.array(["A", "B", "C"], dtype=object))
    egress = np.array([np.inf, np.inf, 0.0])
    access = (np.array([0, 1]), np.array([0]), np.array([60.0]), np.array([-np.inf]), np.array([np.inf]))
    direct = (np.array([0, 1]), np.array([np.inf]), np.array([-np.inf]), np.array([np.inf]),
              np.array([False]))
    starts = np.array([7 * 3600 + 3000.0])
    one, _, _ = window_times(stop_profiles(conn, egress, max_trips=1), starts, access=access, direct=direct)
    two, _, _ = window_times(stop_profiles(conn, egress, max_trips=2), starts, access=access, direct=direct)
    assert np.isinf(one[0, 0]) and two[0, 0] == 8 * 3600 + 1800 - starts[0]


# ------------------------------------------------------------------ by hand, on roads


def _lonlat(x: float, y: float) -> tuple[float, float]:
    return _TO_LONLAT.transform(ORIGIN[0] + x, ORIGIN[1] + y)


def _roads(nodes: dict[int, tuple[float, float]], roads: list[tuple[int, int]]) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph(crs="epsg:4326", network="walk")
    for n, (x, y) in nodes.items():
        lon, lat = _lonlat(x, y)
        g.add_node(n, x=lon, y=lat)
    for u, v in roads:
        length = float(np.hypot(nodes[u][0] - nodes[v][0], nodes[u][1] - nodes[v][1]))
        g.add_edge(u, v, length=length, highway="residential")
        g.add_edge(v, u, length=length, highway="residential")
    return g


def _day(stops: dict[str, tuple[float, float]], trips: list[tuple[str, list[tuple[str, float]]]],
         zones: tuple[DemandZone, ...] = ()) -> TransitDay:
    st_ = pd.DataFrame([{"stop_id": k, "stop_name": k, "x": ORIGIN[0] + x, "y": ORIGIN[1] + y,
                         "lon": _lonlat(x, y)[0], "lat": _lonlat(x, y)[1]} for k, (x, y) in stops.items()])
    events = pd.DataFrame([{"trip_id": t, "route_id": t, "stop_id": s, "seq": i, "arr_s": c, "dep_s": c}
                           for t, calls in trips for i, (s, c) in enumerate(calls)],
                          columns=["trip_id", "route_id", "stop_id", "seq", "arr_s", "dep_s"])
    names = [t for t, _ in trips]
    routes = pd.DataFrame({"route_id": names, "route_name": names, "feed": "x"})
    return TransitDay(DAY, st_, DayTrips(DAY, events), routes, zones)


def _pts(*xy: tuple[float, float]) -> np.ndarray:
    return np.asarray(xy, float) + ORIGIN


@pytest.fixture
def two_banks_net():  # type: ignore[no-untyped-def]
    """Road A along y=0 and road B along y=100, 0–6000 m, linked only by a bridge at x=0;
    a river between them along y=70."""
    g = _roads({0: (0, 0), 1: (6000, 0), 2: (0, 100), 3: (6000, 100), 4: (1000, 0), 5: (1100, 0),
                6: (1000, 100), 7: (5990, 100)}, [(0, 4), (4, 5), (5, 1), (2, 6), (6, 7), (7, 3), (0, 2)])
    river = shapely.affinity.translate(shapely.LineString([(-500, 70), (6500, 70)]), *ORIGIN)
    return from_graph(g, crs=CRS, barriers=gpd.GeoDataFrame({"kind": ["river"]}, geometry=[river], crs=CRS))


def test_a_stop_across_the_river_is_not_walked_to(two_banks_net):
    """The unit (1000, 10) is 85 m from stop P across the river but 2,115 m on foot; the
    bus from P at 8:05 must not be used.  Stop Q is 115 m away along road A: its bus at
    8:30 reaches T at 8:45, 15 m from the destination (6000, 100)."""
    day = _day({"P": (1000, 95), "Q": (1100, -5), "T": (5990, 105)},
               [("L_P", [("P", 8 * 3600 + 300), ("T", 8 * 3600 + 900)]),
                ("L_Q", [("Q", 8 * 3600 + 1800), ("T", 8 * 3600 + 2700)])])
    times = transit_times(day, _pts((1000, 10)), _pts((6000, 100)), network=two_banks_net,
                          window=parse_window("08:00-08:30"), settings=TransitSettings(speed_m_per_min=50.0),
                          crs=CRS)
    stats = unit_statistics(times, 45).iloc[0]
    assert times.walk[0] == pytest.approx((10 + 1000 + 100 + 6000) / 50 * 60)  # round by the bridge
    assert stats["earliest_arrival_s"] == pytest.approx(8 * 3600 + 2700 + 15 / 50 * 60)  # 8:45:18
    assert stats["best_min"] == pytest.approx(18.3)  # leaving at 8:27: 2.3 + 0.7 wait + 15 + 0.3
    assert stats["median_min"] == pytest.approx(32.8)  # 28 minutes by the 8:30 bus, 2 walking
    assert stats["worst_min"] == pytest.approx(142.2)
    assert stats["usable_trips"] == 1 and bool(stats["covered"]) and not bool(stats["covered_walk"])
    assert list(times.access_stop) == [1]  # only Q is within the 10-minute walk


def test_a_demand_ride_after_its_wait_and_only_in_its_window():
    """A straight road 0–3000 m; a zone around it, pick-up 9:00–16:00, 30 minutes' wait,
    20 km/h: 30 + 9 minutes, instead of 60 walking — from 8:30 on (picked up at 9:00)."""
    net = from_graph(_roads({0: (0, 0), 1: (3000, 0)}, [(0, 1)]), crs=CRS)
    poly = shapely.Polygon([_lonlat(x, y) for x, y in ((-100, -100), (3100, -100), (3100, 100), (-100, 100))])
    zone = DemandZone("Z", "区域", poly, ((9 * 3600.0, 16 * 3600.0),), 30.0, "")
    day = _day({"S": (5000, 5000)}, [], (zone,))
    times = transit_times(day, _pts((0, 0)), _pts((3000, 0)), network=net, window=parse_window("08:00-09:00"),
                          settings=TransitSettings(speed_m_per_min=50.0), ride_network=net, crs=CRS)
    minutes = times.total[0] / 60
    assert np.allclose(minutes[:30], 60.0) and np.allclose(minutes[30:], 39.0)
    assert np.allclose(times.ride[0, 30:] / 60, 39.0) and np.isinf(times.ride[0, :30]).all()
    stats = unit_statistics(times, 45).iloc[0]
    assert bool(stats["demand_ride"]) and stats["usable_trips"] == 0 and bool(stats["covered"])


@pytest.mark.parametrize("text", ["8時-12時", "08:00〜12:00", "8:00 - 12:30"])
def test_windows_are_read_as_people_write_them(text):
    a, b = parse_window(text)
    assert a == 8 * 3600 and b in (12 * 3600, 12 * 3600 + 1800)


@pytest.mark.parametrize("text", ["12:00-08:00", "午前", "8:75-9:00", ""])
def test_an_unreadable_window_is_a_clear_error(text):
    with pytest.raises(ParameterError) as err:
        parse_window(text)
    assert err.value.parameter == "window"


def test_bad_settings_name_the_parameter(two_banks_net):
    day = _day({"Q": (1100, -5)}, [])
    with pytest.raises(ParameterError) as err:
        transit_times(day, _pts((0, 0)), _pts((10, 0)), network=two_banks_net, window=(0.0, 60.0),
                      settings=TransitSettings(max_trips=0), crs=CRS)
    assert err.value.parameter == "max_trips"
    times = transit_times(day, _pts((0, 0)), _pts((10, 0)), network=two_banks_net, window=(0.0, 60.0),
                          crs=CRS)
    with pytest.raises(ParameterError) as err:
        unit_statistics(times, 0)
    assert err.value.parameter == "max_minutes"
    with pytest.raises(ParameterError) as err:
        unit_statistics(times, 45, rule="mean")
    assert err.value.parameter == "rule"


def test_a_weekday_morning_to_the_salon_on_the_gtfs_jp_feed(tmp_path):
    """The official-layout feed of tests/gtfs_jp.py on a road along its stops: from a home by
    架空駅, the サロン is 1.2 km on foot (about 25 elderly minutes), so not within 20; on a
    Thursday the 8:00 bus (W1) reaches ふれあいサロン前 at 8:13 (a stop without a time,
    interpolated), so leaving at 7:59 (the stop is steps away) it is; on Saturday the only
    bus is at 10:00, after the window; 成人の日 (a Monday) runs the holiday timetable."""
    from geo.analyses.transit_access import transit_day
    from layers.transit import read_feed
    from tests.gtfs_jp import STOPS, write_feed

    feed = read_feed(write_feed(tmp_path / "bus.zip"))
    at = {s[0]: (s[3], s[2]) for s in STOPS}  # lon, lat
    chain = ["S_KOMINKAN", "S_EKI", "S_YAKUBA", "S_SALON", "S_CLINIC"]
    to_xy = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    g = nx.MultiDiGraph(crs="epsg:4326", network="walk")
    for i, s in enumerate(chain):
        g.add_node(i, x=at[s][0], y=at[s][1])
    for i in range(len(chain) - 1):
        (ax, ay), (bx, by) = to_xy.transform(*at[chain[i]]), to_xy.transform(*at[chain[i + 1]])
        length = float(np.hypot(bx - ax, by - ay))
        g.add_edge(i, i + 1, length=length, highway="residential")
        g.add_edge(i + 1, i, length=length, highway="residential")
    net = from_graph(g, crs=CRS)
    home = np.array([to_xy.transform(*at["S_EKI"])])
    salon = np.array([to_xy.transform(*at["S_SALON"])])
    walk = TransitSettings(speed_m_per_min=50.0)
    window = parse_window("07:30-09:00")

    def morning(day: dt.date) -> pd.Series:
        times = transit_times(transit_day([feed], day, crs=CRS), home, salon, network=net,
                              window=window, settings=walk, crs=CRS)
        return unit_statistics(times, 20).iloc[0]

    thursday = morning(dt.date(2027, 1, 14))
    assert 22 < thursday["walk_min"] < 28 and not thursday["covered_walk"]
    assert bool(thursday["covered"]) and thursday["usable_trips"] == 1
    # leaving at 7:30 the walk arrives first (7:55); leaving at 7:59 the bus arrives at 8:13
    assert thursday["earliest_arrival_s"] == pytest.approx(7.5 * 3600 + thursday["walk_min"] * 60, abs=3)
    assert 14 <= thursday["best_min"] < 15
    for holiday in (dt.date(2027, 1, 16), dt.date(2027, 1, 11)):
        off = morning(holiday)
        assert not off["covered"] and off["usable_trips"] == 0
        assert off["best_min"] == pytest.approx(off["walk_min"])
