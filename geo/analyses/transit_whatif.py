"""Small what-ifs for a community bus: one new stop, or one extra trip.

Each candidate is tried by recomputing the whole walk + bus coverage with it
(:func:`geo.analyses.transit_access.transit_coverage`, given as ``rerun``), so a new stop counts
both as a place to board and as a place to alight near a destination, and an extra
trip counts every change it makes possible.

* **A new stop** on a line: points on the way between two consecutive stops of a trip
  (every ``spacing`` metres of the straight line between them, at least one), with times
  interpolated on the trips that pass.  The candidates near the most people not yet
  reached are recomputed (``tries``), the rest are not.
* **An extra trip**: for the stop patterns with the most people near their stops
  (``tries``), a copy of the trip nearest the largest gap in the pattern's departures
  around the window, shifted into the middle of that gap.

The answer is the number of people (published units) newly reached — counted the same
way as the coverage itself; for an extra trip also the people whose median travel time
over the window falls (``faster``) and by how much on average (``minutes_saved``): a
trip that fills a gap rarely reaches someone new when a later bus already does, but it
shortens the wait.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo.analyses.inputs import clock_text
from geo.analyses.transit_access import TransitDay, TransitResult
from layers.crs import STORAGE_CRS, transform_xy
from layers.demand import count_column
from layers.transit import DayTrips

__all__ = ["extra_trips", "new_stops"]

log = logging.getLogger(__name__)

Rerun = Callable[[TransitDay], TransitResult]


def _gained(result: TransitResult, trial: TransitResult) -> tuple[int | str, float]:
    """The people ``trial`` newly reaches: (the published count, its unpublished weight for
    ranking the trials).  Without people, the units' counts."""
    if result.people is not None and trial.people is not None:
        new = trial.people.covered & ~result.people.covered
        d = result.people.demand
        return d.total(new), float(d.weight[new].sum())
    u, t = result.units, trial.units
    n = int(t.loc[t["covered"], "count"].sum()) - int(u.loc[u["covered"], "count"].sum())
    return n, float(n)


def _hops(day: TransitDay) -> pd.DataFrame:
    """Consecutive stop pairs of the day's trips (one row per trip and hop)."""
    ev = day.trips.events
    same = ev["trip_id"].to_numpy()[1:] == ev["trip_id"].to_numpy()[:-1]
    a = np.flatnonzero(same)
    return pd.DataFrame({"trip_id": ev["trip_id"].to_numpy()[a], "route_id": ev["route_id"].to_numpy()[a],
                         "a": ev["stop_id"].to_numpy()[a], "b": ev["stop_id"].to_numpy()[a + 1],
                         "seq": ev["seq"].to_numpy()[a], "dep": ev["dep_s"].to_numpy()[a],
                         "arr": ev["arr_s"].to_numpy()[a + 1]})


def _with_stop(day: TransitDay, a: str, b: str, frac: float, x: float, y: float, crs: str) -> TransitDay:
    """The day with a new stop between ``a`` and ``b`` on every trip that runs a → b."""
    ev = day.trips.events
    hops = _hops(day)
    fwd, bwd = (hops["a"] == a) & (hops["b"] == b), (hops["a"] == b) & (hops["b"] == a)
    hit = hops[fwd | bwd]
    where = np.where(fwd[fwd | bwd].to_numpy(), frac, 1.0 - frac)  # the same place, either way
    new_id = "NEW"
    lon, lat = transform_xy(np.array([x]), np.array([y]), crs, STORAGE_CRS)
    stops = pd.concat([day.stops, pd.DataFrame({"stop_id": [new_id], "stop_name": ["新しい停留所（案）"],
                                                "lon": lon, "lat": lat, "x": [x], "y": [y]})],
                      ignore_index=True)
    t = hit["dep"].to_numpy() + where * (hit["arr"].to_numpy() - hit["dep"].to_numpy())
    added = pd.DataFrame({"trip_id": hit["trip_id"].to_numpy(), "route_id": hit["route_id"].to_numpy(),
                          "stop_id": new_id, "seq": hit["seq"].to_numpy() * 2 + 1, "arr_s": t, "dep_s": t})
    events = pd.concat([ev.assign(seq=ev["seq"] * 2), added], ignore_index=True)
    events = events.sort_values(["trip_id", "seq"], kind="stable").reset_index(drop=True)
    return day.with_trips(DayTrips(day.date, events), stops)


def _stop_candidates(day: TransitDay, spacing: float) -> pd.DataFrame:
    hops = _hops(day)[["route_id", "a", "b"]]
    pair = np.where(hops["a"] < hops["b"], hops["a"] + "\0" + hops["b"], hops["b"] + "\0" + hops["a"])
    hops = hops[~pd.Series(pair).duplicated().to_numpy()]  # a stop between two stops serves both ways
    xy = day.stops.set_index("stop_id")[["x", "y"]]
    rows = []
    h: Any
    for h in hops.itertuples(index=False):
        (ax, ay), (bx, by) = xy.loc[h.a].to_numpy(float), xy.loc[h.b].to_numpy(float)
        n = max(1, int(np.hypot(bx - ax, by - ay) // spacing))
        for frac in (np.arange(1, n + 1) / (n + 1)):
            rows.append({"route_id": h.route_id, "a": h.a, "b": h.b, "frac": float(frac),
                         "x": ax + frac * (bx - ax), "y": ay + frac * (by - ay)})
    return pd.DataFrame(rows, columns=["route_id", "a", "b", "frac", "x", "y"])


def new_stops(result: TransitResult, rerun: Rerun, *, crs: str, tries: int = 8,
              spacing: float | None = None) -> pd.DataFrame:
    """The best places for one new stop: per candidate tried, the people newly reached.

    Returns route_id, between (stop names), lon, lat, nearby (people not reached within
    the access walk, straight line), gained (people newly reached, recomputed), best
    first."""
    walk_m = result.settings.max_walk_min * result.settings.speed_m_per_min
    cand = _stop_candidates(result.day, spacing or walk_m)
    cols = ["route_id", "between", "lon", "lat", "nearby", "gained"]
    if cand.empty:
        return pd.DataFrame(columns=cols)
    weight, shown = _nearby(result, cand, walk_m)
    cand = cand.assign(rank_w=weight, nearby=shown)
    cand = cand[cand["rank_w"] > 0].sort_values("rank_w", ascending=False, kind="stable").head(tries)
    names = result.day.stops.set_index("stop_id")["stop_name"]
    rows = []
    c: Any
    for c in cand.itertuples(index=False):
        trial = rerun(_with_stop(result.day, c.a, c.b, c.frac, c.x, c.y, crs))
        lon, lat = transform_xy(np.array([c.x]), np.array([c.y]), crs, STORAGE_CRS)
        gained, rank = _gained(result, trial)
        rows.append({"route_id": c.route_id, "between": f"{names[c.a]} – {names[c.b]}",
                     "lon": round(float(lon[0]), 6), "lat": round(float(lat[0]), 6),
                     "nearby": c.nearby, "gained": gained, "_g": rank, "_w": c.rank_w})
    log.info("what-if: %d new stops tried", len(rows))
    out = pd.DataFrame(rows, columns=[*cols, "_g", "_w"])
    out = out.assign(gained=count_column(out["gained"]), nearby=count_column(out["nearby"]))
    return out.sort_values(["_g", "_w"], ascending=False, kind="stable", ignore_index=True)[cols]


def _nearby(result: TransitResult, cand: pd.DataFrame, walk_m: float
            ) -> tuple[np.ndarray, pd.arrays.IntegerArray]:
    """Per candidate stop, the people not reached within ``walk_m`` of it (straight line):
    (unpublished weights for choosing the candidates, the published counts)."""
    cxy = shapely.points(cand[["x", "y"]].to_numpy())
    p = result.people
    if p is None:
        units = result.units
        left = ~units["covered"].to_numpy()
        pts = shapely.points(units.get_coordinates().to_numpy()[left])
        ci, ui = shapely.STRtree(pts).query(cxy, predicate="dwithin", distance=walk_m)
        n = np.bincount(ci, weights=units["count"].to_numpy()[left][ui], minlength=len(cand)).astype(int)
        return n.astype(float), pd.array(n, dtype="Int64")
    left = np.flatnonzero(~p.covered)
    x, y = p.demand.xy(str(result.units.crs))
    tree = shapely.STRtree(shapely.points(x[left], y[left]))
    ci, ui = tree.query(cxy, predicate="dwithin", distance=walk_m)
    weight = np.bincount(ci, weights=p.demand.weight[left][ui], minlength=len(cand))
    return weight, p.demand.count_pairs(left[ui], ci, len(cand))


def _faster(result: TransitResult, trial: TransitResult) -> tuple[int | str, float, float]:
    """People whose median minutes fall in ``trial`` (published), by how much on average (from
    the units' anchors weighted by their protected counts: a mean over the people themselves
    would tell, between two releases, the minutes of one who left), and the people's
    unpublished weight for ranking."""
    def better(before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(invalid="ignore"):  # unreachable both ways: inf - inf
            saved = np.where(np.isnan(before), np.inf, before) - np.where(np.isnan(after), np.inf, after)
        return (saved > 0) & ~np.isnan(after), saved

    ub, saved = better(result.units["median_min"].to_numpy(float), trial.units["median_min"].to_numpy(float))
    w = pd.to_numeric(result.units["count"], errors="coerce").fillna(0).to_numpy(float)[ub]
    minutes = np.where(np.isfinite(saved[ub]), saved[ub], 0.0)
    mean = round(float((minutes * w).sum() / max(float(w.sum()), 1.0)), 1)
    p, q = result.people, trial.people
    if p is None or q is None:
        return int(w.sum()), mean, float(w.sum())
    pb, _saved = better(p.median_min, q.median_min)
    return p.demand.total(pb), mean, float(p.demand.weight[pb].sum())


def _patterns(ev: pd.DataFrame) -> pd.DataFrame:
    """Per trip: its route, stop sequence and first departure."""
    g = ev.groupby("trip_id", sort=False)
    return pd.DataFrame({"route_id": g["route_id"].first(), "first": g["dep_s"].first(),
                         "pattern": g["stop_id"].agg(tuple)}).reset_index()


def _in_reach(result: TransitResult, patterns: list[tuple[str, ...]]) -> np.ndarray:
    """People within the access walk of one of each pattern's stops."""
    index = {sid: i for i, sid in enumerate(result.day.stops["stop_id"])}
    people = result.units["count"].to_numpy()
    pairs = pd.DataFrame({"u": result.times.access_unit, "s": result.times.access_stop})
    out = np.zeros(len(patterns), np.int64)
    for k, pattern in enumerate(patterns):
        near = pairs.loc[pairs["s"].isin([index[s] for s in pattern]), "u"].unique()
        out[k] = int(people[near].sum())
    return out


def _shifted_copy(ev: pd.DataFrame, grp: pd.DataFrame, window: tuple[float, float]
                  ) -> tuple[pd.DataFrame, Any, float]:
    """A copy of the pattern's trip nearest the largest gap of its departures around the
    window, shifted into the middle of that gap: (the copy's events, the model, when)."""
    w0, w1 = window
    deps = np.sort(grp["first"].to_numpy(float))
    edges = np.unique(np.r_[w0, deps[(deps > w0) & (deps < w1)], w1])
    gaps = np.diff(edges)
    k = int(np.argmax(gaps))
    when = float(edges[k] + gaps[k] / 2.0)
    model = grp.iloc[int(np.argmin(np.abs(grp["first"].to_numpy(float) - when)))]
    copy = ev[ev["trip_id"] == model["trip_id"]]
    shift = when - float(model["first"])
    return (copy.assign(trip_id=f"{model['trip_id']}#追加", arr_s=copy["arr_s"] + shift,
                        dep_s=copy["dep_s"] + shift), model, when)


def extra_trips(result: TransitResult, rerun: Rerun, *, tries: int = 8) -> pd.DataFrame:
    """One extra trip per stop pattern, in the largest gap of its departures around the
    window, for the ``tries`` patterns with the most people near their stops: route_id,
    from, to (stop names), departure (H:MM), gained (people newly reached), faster,
    minutes_saved; best first."""
    day = result.day
    ev = day.trips.events
    cols = ["route_id", "from", "to", "departure", "gained", "faster", "minutes_saved"]
    if ev.empty:
        return pd.DataFrame(columns=cols)
    trips = _patterns(ev)
    groups: list[tuple[Any, pd.DataFrame]] = list(trips.groupby("pattern", sort=False))
    reach = _in_reach(result, [p for p, _g in groups])
    names = day.stops.set_index("stop_id")["stop_name"]
    rows = []
    for k in np.argsort(-reach, kind="stable")[:tries]:
        pattern, grp = groups[int(k)]
        copy, model, when = _shifted_copy(ev, grp, result.window)
        events = pd.concat([ev, copy], ignore_index=True).sort_values(["trip_id", "seq"], kind="stable")
        trial = rerun(day.with_trips(DayTrips(day.date, events.reset_index(drop=True))))
        faster, saved, quicker = _faster(result, trial)
        gained, rank = _gained(result, trial)
        rows.append({"route_id": model["route_id"], "from": names[pattern[0]], "to": names[pattern[-1]],
                     "departure": clock_text(when, nearest=True), "gained": gained,
                     "faster": faster, "minutes_saved": saved, "_g": rank, "_f": quicker})
    log.info("what-if: %d extra trips tried", len(rows))
    out = pd.DataFrame(rows, columns=[*cols, "_g", "_f"])
    out = out.assign(gained=count_column(out["gained"]), faster=count_column(out["faster"]))
    return out.sort_values(["_g", "_f"], ascending=False, kind="stable", ignore_index=True)[cols]
