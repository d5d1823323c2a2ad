"""RAPTOR against brute force: a time-expanded networkx graph of the same random timetables.

The reference shares nothing with the kernel: every departure and arrival is a node,
a stop's events are chained by waiting arcs, riding a trip and walking a footpath are
arcs, and Dijkstra from the initial times gives the earliest arrival at every stop
(with unlimited transfers; the kernel runs with enough rounds to match).  A hand case
checks the transfer cap.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict

import networkx as nx
import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.engine.transit_search import build_timetable, earliest_arrival
from layers.transit import DayTrips
from tests.transit_cases import random_events


def _random_day(seed: int) -> tuple[DayTrips, list[tuple[int, int, float]], np.ndarray]:
    rng = np.random.default_rng(seed)
    n_stops = int(rng.integers(3, 8))
    events = random_events(rng, n_stops, lines=4, trips=4, first_hour=7, last_hour=10)
    walks = [(int(a), int(b), float(rng.integers(60, 1200)))
             for a, b in rng.integers(0, n_stops, (int(rng.integers(0, 6)), 2)) if a != b]
    initial = np.full(n_stops, np.inf)
    initial[rng.choice(n_stops, size=int(rng.integers(1, 3)), replace=False)] = \
        rng.integers(7 * 3600, 9 * 3600, 1)[0] + rng.integers(0, 600, 1)[0]
    return DayTrips(date=dt.date(2027, 1, 14), events=events), walks, initial


def _brute_force(day: DayTrips, walks: list[tuple[int, int, float]], initial: np.ndarray) -> np.ndarray:
    g = nx.DiGraph()
    times: dict[int, set[float]] = defaultdict(set)
    ev = day.events.assign(s=day.events["stop_id"].str[1:].astype(int))
    for trip, grp in ev.groupby("trip_id"):
        grp = grp.sort_values("seq")
        rows = list(grp.itertuples())
        for a, b in itertools.pairwise(rows):
            g.add_edge(("dep", trip, a.seq), ("arr", trip, b.seq), w=b.arr_s - a.dep_s)
        for r in rows:
            g.add_edge(("arr", trip, r.seq), ("dep", trip, r.seq), w=r.dep_s - r.arr_s)  # stay aboard
            g.add_edge(("arr", trip, r.seq), ("at", r.s, r.arr_s), w=0.0)  # alight
            g.add_edge(("at", r.s, r.dep_s), ("dep", trip, r.seq), w=0.0)  # board
            times[r.s] |= {r.arr_s, r.dep_s}
    for s in np.flatnonzero(np.isfinite(initial)):
        times[int(s)].add(float(initial[s]))
    changed = True
    while changed:  # footpaths land at new times, from which more footpaths may start
        changed = False
        for a, b, w in walks:
            for t in list(times[a]):
                if t + w not in times[b]:
                    times[b].add(t + w)
                    changed = True
        if sum(len(v) for v in times.values()) > 5000:
            break
    for a, b, w in walks:
        for t in times[a]:
            g.add_edge(("at", a, t), ("at", b, t + w), w=w)
    for s, ts in times.items():
        ordered = sorted(ts)
        for t0, t1 in itertools.pairwise(ordered):
            g.add_edge(("at", s, t0), ("at", s, t1), w=t1 - t0)  # wait at the stop
    for s in np.flatnonzero(np.isfinite(initial)):
        g.add_edge("src", ("at", int(s), float(initial[s])), w=float(initial[s]))
    dist = nx.single_source_dijkstra_path_length(g, "src", weight="w")
    best = np.full(len(initial), np.inf)
    for node, d in dist.items():
        if node != "src" and node[0] == "at":
            best[node[1]] = min(best[node[1]], d)
    return best


@settings(max_examples=120, deadline=None, derandomize=True)
@given(st.integers(0, 10**9))
def test_raptor_equals_a_time_expanded_graph(seed: int):
    day, walks, initial = _random_day(seed)
    n = len(initial)
    tt = build_timetable(day, np.array([f"S{i}" for i in range(n)], dtype=object))
    if walks:
        w = pd.DataFrame(walks, columns=["a", "b", "s"]).groupby(["a", "b"])["s"].min().reset_index()
        w = w.sort_values(["a", "b"])
        fp = (np.r_[0, np.cumsum(np.bincount(w["a"], minlength=n))], w["b"].to_numpy(), w["s"].to_numpy())
    else:
        fp = None
    got = earliest_arrival(tt, initial, max_rounds=30, transfers=fp)
    want = _brute_force(day, walks, initial)
    assert np.array_equal(np.isfinite(got), np.isfinite(want))
    ok = np.isfinite(want)
    assert np.allclose(got[ok], want[ok])


def test_the_transfer_cap_by_hand():
    """A → B on line 1 (8:00 → 8:10), B → C on line 2 (8:15 → 8:30): C needs two trips."""
    rows = [("L1", "A", 0, 8 * 3600), ("L1", "B", 1, 8 * 3600 + 600),
            ("L2", "B", 0, 8 * 3600 + 900), ("L2", "C", 1, 8 * 3600 + 1800)]
    events = pd.DataFrame([{"trip_id": t, "route_id": t, "stop_id": s, "seq": q, "arr_s": float(x),
                            "dep_s": float(x)} for t, s, q, x in rows])
    tt = build_timetable(DayTrips(date=dt.date(2027, 1, 14), events=events),
                         np.array(["A", "B", "C"], dtype=object))
    start = np.array([7 * 3600 + 3000, np.inf, np.inf])
    one = earliest_arrival(tt, start, max_rounds=1)
    two = earliest_arrival(tt, start, max_rounds=2)
    assert one[1] == 8 * 3600 + 600 and np.isinf(one[2])
    assert two[2] == 8 * 3600 + 1800
    late = earliest_arrival(tt, np.array([8 * 3600 + 60, np.inf, np.inf]), max_rounds=2)
    assert np.isinf(late[1])  # the only bus left at 8:00


def test_a_weekday_and_a_saturday_morning_on_the_gtfs_jp_feed(tmp_path):
    """From 架空駅 at 7:55 to 診療所前: 8:20 on a Thursday (W1); on Saturday the only bus is
    H1 at 10:00, arriving 10:20; with 1 minute between the station's two platforms, the loop
    bus's stop 公民館前 is reached from platform 1 (09:08 at platform 2, then 09:20)."""
    from layers.transit import day_trips, read_feed
    from tests.gtfs_jp import write_feed

    feed = read_feed(write_feed(tmp_path / "bus.zip"))
    ids = feed.stops["stop_id"].to_numpy(dtype=object)
    at = {s: i for i, s in enumerate(ids)}
    a, b = sorted((at["S_EKI_1"], at["S_EKI_2"]))
    ptr = np.zeros(len(ids) + 1, np.int64)
    ptr[a + 1:] += 1
    ptr[b + 1:] += 1
    fp = (ptr, np.array([b, a]), np.array([60.0, 60.0]))
    start = np.full(len(ids), np.inf)
    start[at["S_EKI_1"]] = 7 * 3600 + 55 * 60
    thu = earliest_arrival(build_timetable(day_trips(feed, dt.date(2027, 1, 14)), ids), start,
                           max_rounds=2, transfers=fp)
    sat = earliest_arrival(build_timetable(day_trips(feed, dt.date(2027, 1, 16)), ids), start,
                           max_rounds=2, transfers=fp)
    assert thu[at["S_CLINIC"]] == 8 * 3600 + 20 * 60 and sat[at["S_CLINIC"]] == 10 * 3600 + 20 * 60
    assert thu[at["S_KOMINKAN"]] == 9 * 3600 + 20 * 60 and np.isinf(sat[at["S_KOMINKAN"]])
