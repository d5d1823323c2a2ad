"""Earliest arrivals on a day's bus timetable: RAPTOR, compiled.

RAPTOR (Delling, Pajor and Werneck, *Round-Based Public Transit Routing*, 2012) works
round by round: round *k* finds the earliest arrival at every stop with at most *k*
trips, scanning each **pattern** (trips with the same stop sequence) once from the
stops improved in the round before, then walking **footpaths** between nearby stops
(chained where one footpath leads to another, so they need not be transitively
closed).  Rounds cap the transfers (the elderly rarely change buses more than once or
twice).

* :func:`build_timetable` turns :class:`layers.transit.DayTrips` into flat arrays:
  patterns, their stops, their trips in departure order (a trip that would overtake
  another on some stop gets its own pattern, so every pattern is first-in-first-out).
* :func:`earliest_arrival` runs the rounds (numba) from initial arrival times at the
  stops (the access walk from a place) and returns the earliest arrival at every stop.

A **departure window** from every place to the *nearest of a set of destinations* is
the other way round: one profile per stop — "standing here at time *t*, the earliest
arrival at any destination" — for all *t* at once.  :func:`stop_profiles` builds them
in one backward scan over the day's connections (the profile Connection Scan of
Dibbelt, Pajor, Strasser and Wagner, 2013), with the same transfer cap as RAPTOR's
rounds (a profile per number of trips), the walk from each stop to its nearest
destination and footpaths between stops.  :func:`window_times` then reads, for every
place and every minute of the window, the best of its walk-only time and each of its
access walks to a stop (or a booked demand ride) followed by that stop's profile.

No Python loop over stops or trips: the rounds and scans are compiled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import pandas as pd

from layers.transit import DayTrips

__all__ = ["Connections", "Profiles", "Timetable", "build_timetable", "connections", "earliest_arrival",
           "stop_profiles", "window_times"]


@dataclass(frozen=True)
class Timetable:
    """A day's trips as RAPTOR arrays.

    ``stop_ids``: the stop of each index.  Pattern ``p`` visits
    ``pat_stops[pat_ptr[p]:pat_ptr[p+1]]`` and has trips ``0 … n_trips[p]-1`` in
    departure order; the time of trip ``t`` at position ``i`` is
    ``arr/dep[time_off[p] + t * len + i]``.  ``stop_pat_ptr``/``stop_pat``/``stop_pos``:
    the patterns through each stop and the stop's position in them.
    """

    stop_ids: np.ndarray
    pat_ptr: np.ndarray
    pat_stops: np.ndarray
    n_trips: np.ndarray
    time_off: np.ndarray
    arr: np.ndarray
    dep: np.ndarray
    stop_pat_ptr: np.ndarray
    stop_pat: np.ndarray
    stop_pos: np.ndarray

    @property
    def n_stops(self) -> int:
        return len(self.stop_ids)


def _fifo_groups(times: list[tuple[np.ndarray, np.ndarray]]) -> list[list[int]]:
    """Trips (already in departure order) split into groups that never overtake."""
    groups: list[list[int]] = []
    for t, (a, d) in enumerate(times):
        for g in groups:
            la, ld = times[g[-1]]
            if np.all(a >= la) and np.all(d >= ld):
                g.append(t)
                break
        else:
            groups.append([t])
    return groups


def build_timetable(day: DayTrips, stop_ids: np.ndarray | None = None) -> Timetable:
    """RAPTOR arrays of ``day``'s trips (``stop_ids``: the stop order to use, e.g. every
    stop of the feed; default the stops the trips visit)."""
    ev = day.events
    ids = np.asarray(stop_ids if stop_ids is not None else np.unique(ev["stop_id"]), dtype=object)
    index = pd.Series(np.arange(len(ids)), index=ids)
    ev = ev.assign(s=index.reindex(ev["stop_id"]).to_numpy())
    if ev["s"].isna().any():
        raise ValueError("a trip visits a stop outside stop_ids")
    grouped = ev.groupby("trip_id", sort=False)
    seqs: dict[str, tuple[int, ...]] = {str(k): tuple(int(x) for x in v) for k, v in grouped["s"]}
    arr: dict[str, np.ndarray] = {str(k): v.to_numpy(float) for k, v in grouped["arr_s"]}
    dep: dict[str, np.ndarray] = {str(k): v.to_numpy(float) for k, v in grouped["dep_s"]}
    by_seq: dict[tuple[int, ...], list[str]] = {}
    for trip, seq_ in seqs.items():
        by_seq.setdefault(seq_, []).append(trip)
    pat_stops: list[int] = []
    pat_ptr, n_trips, time_off = [0], [], []
    arr_out: list[np.ndarray] = []
    dep_out: list[np.ndarray] = []
    offset = 0
    for seq, trip_ids in by_seq.items():
        ordered = sorted(trip_ids, key=lambda t: (float(dep[t][0]), t))
        for group in _fifo_groups([(arr[t], dep[t]) for t in ordered]):
            pat_stops.extend(seq)
            pat_ptr.append(len(pat_stops))
            n_trips.append(len(group))
            time_off.append(offset)
            for g in group:
                arr_out.append(arr[ordered[g]])
                dep_out.append(dep[ordered[g]])
            offset += len(group) * len(seq)
    ps = np.asarray(pat_stops, np.int64)
    pp = np.asarray(pat_ptr, np.int64)
    pat_of = np.repeat(np.arange(len(pp) - 1), np.diff(pp))
    pos = np.arange(len(ps)) - pp[pat_of]
    order = np.lexsort((pos, pat_of, ps))
    counts = np.bincount(ps, minlength=len(ids))
    return Timetable(stop_ids=ids, pat_ptr=pp, pat_stops=ps, n_trips=np.asarray(n_trips, np.int64),
                     time_off=np.asarray(time_off, np.int64),
                     arr=np.concatenate(arr_out) if arr_out else np.zeros(0),
                     dep=np.concatenate(dep_out) if dep_out else np.zeros(0),
                     stop_pat_ptr=np.r_[0, np.cumsum(counts)].astype(np.int64),
                     stop_pat=pat_of[order].astype(np.int64), stop_pos=pos[order].astype(np.int64))


def earliest_arrival(tt: Timetable, initial: np.ndarray, *, max_rounds: int = 3,
                     transfers: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Earliest arrival (seconds) at every stop from ``initial`` arrival times (``inf`` where
    a stop is not reached on foot), with at most ``max_rounds`` trips.

    ``transfers``: footpaths between stops as CSR arrays (indptr, indices, seconds);
    walked after the access and after every round."""
    if max_rounds < 0:
        raise ValueError("max_rounds must be 0 or more")
    n = tt.n_stops
    if transfers is None:
        transfers = (np.zeros(n + 1, np.int64), np.zeros(0, np.int64), np.zeros(0))
    return _raptor(tt.pat_ptr, tt.pat_stops, tt.n_trips, tt.time_off, tt.arr, tt.dep, tt.stop_pat_ptr,  # type: ignore[no-any-return]
                   tt.stop_pat, tt.stop_pos, np.asarray(initial, np.float64).copy(),
                   transfers[0].astype(np.int64), transfers[1].astype(np.int64),
                   transfers[2].astype(np.float64), int(max_rounds))


@numba.njit(cache=True, nogil=True)
def _walk(best, marked, fp_ptr, fp_idx, fp_sec):  # type: ignore[no-untyped-def]
    """Footpaths from the marked stops, walked on as far as they improve (one path may
    chain several footpaths): passes until nothing changes."""
    n = len(best)
    todo = marked.copy()
    for _pass in range(n):
        changed = False
        nxt = np.zeros(n, np.bool_)
        for u in range(n):
            if todo[u] and best[u] < np.inf:
                for e in range(fp_ptr[u], fp_ptr[u + 1]):
                    v = fp_idx[e]
                    t = best[u] + fp_sec[e]
                    if t < best[v]:
                        best[v] = t
                        marked[v] = True
                        nxt[v] = True
                        changed = True
        if not changed:
            break
        todo = nxt


@numba.njit(cache=True, nogil=True)
def _raptor(pat_ptr, pat_stops, n_trips, time_off, arr, dep, stop_pat_ptr, stop_pat, stop_pos,  # type: ignore[no-untyped-def]  # noqa: C901 (one compiled kernel)
            best, fp_ptr, fp_idx, fp_sec, rounds):
    n = len(best)
    n_pat = len(pat_ptr) - 1
    marked = best < np.inf
    _walk(best, marked, fp_ptr, fp_idx, fp_sec)
    prev = best.copy()
    for _k in range(rounds):
        # the first position of each pattern reached by a stop improved in the last round
        first = np.full(n_pat, -1, np.int64)
        any_marked = False
        for s in range(n):
            if marked[s]:
                any_marked = True
                for e in range(stop_pat_ptr[s], stop_pat_ptr[s + 1]):
                    p, i = stop_pat[e], stop_pos[e]
                    if first[p] == -1 or i < first[p]:
                        first[p] = i
        if not any_marked:
            break
        marked[:] = False
        for p in range(n_pat):
            if first[p] == -1:
                continue
            length = pat_ptr[p + 1] - pat_ptr[p]
            off = time_off[p]
            trip = -1
            for i in range(first[p], length):
                s = pat_stops[pat_ptr[p] + i]
                if trip != -1:
                    a = arr[off + trip * length + i]
                    if a < best[s]:
                        best[s] = a
                        marked[s] = True
                # board the earliest trip that leaves here after the last round's arrival
                if prev[s] < np.inf:
                    limit = trip if trip != -1 else n_trips[p]
                    t = 0
                    while t < limit and dep[off + t * length + i] < prev[s]:
                        t += 1
                    if t < limit:
                        trip = t
        _walk(best, marked, fp_ptr, fp_idx, fp_sec)
        prev = best.copy()
    return best


# ------------------------------------------------------------------ departure windows


@dataclass(frozen=True)
class Connections:
    """A day's trips as hops between consecutive stops, latest departure first
    (``frm``/``to`` stop indices, ``dep``/``arr`` seconds, ``trip`` index)."""

    frm: np.ndarray
    to: np.ndarray
    dep: np.ndarray
    arr: np.ndarray
    trip: np.ndarray
    n_stops: int
    n_trips: int


def connections(day: DayTrips, stop_ids: np.ndarray) -> Connections:
    """The hops of ``day``'s trips over ``stop_ids`` (every stop a trip visits must be
    there), sorted for the backward scan: departure, then arrival, then position along
    the trip, all descending (a trip's later hop is scanned before its earlier one even
    when no time passes between them)."""
    ev = day.events
    ids = np.asarray(stop_ids, dtype=object)
    index = pd.Series(np.arange(len(ids)), index=ids)
    s = index.reindex(ev["stop_id"]).to_numpy()
    if np.isnan(s.astype(float)).any():
        raise ValueError("a trip visits a stop outside stop_ids")
    trip_codes, trip_index = np.unique(ev["trip_id"].to_numpy(str), return_inverse=True)
    same = np.r_[trip_index[1:] == trip_index[:-1], False]  # events sorted by trip and seq
    a = np.flatnonzero(same)
    b = a + 1
    dep = ev["dep_s"].to_numpy(float)[a]
    arr = ev["arr_s"].to_numpy(float)[b]
    seq = ev["seq"].to_numpy(np.int64)[a]
    order = np.lexsort((-seq, -arr, -dep))
    return Connections(frm=s[a][order].astype(np.int64), to=s[b][order].astype(np.int64), dep=dep[order],
                       arr=arr[order], trip=trip_index[a][order].astype(np.int64), n_stops=len(ids),
                       n_trips=len(trip_codes))


@dataclass(frozen=True)
class Profiles:
    """Per stop, the departures that reach a destination earliest: entries
    ``ptr[s] … ptr[s] + count[s]`` of ``dep``/``arr``, ``dep`` falling and ``arr``
    falling with it (standing at stop ``s`` at time ``t``, the earliest arrival is the
    ``arr`` of the last entry whose ``dep`` ≥ ``t``)."""

    ptr: np.ndarray
    count: np.ndarray
    dep: np.ndarray
    arr: np.ndarray


def stop_profiles(conn: Connections, egress: np.ndarray, *, max_trips: int = 3,
                  transfers: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> Profiles:
    """The profile of every stop towards the nearest destination, with at most
    ``max_trips`` trips.

    ``egress``: seconds from each stop to its nearest destination on foot (``inf``
    where none is near enough); ``transfers``: footpaths between stops as CSR arrays
    (indptr, indices, seconds), walked between two trips.  Compiled, one backward scan.
    """
    if max_trips < 1:
        raise ValueError("max_trips must be 1 or more")
    n = conn.n_stops
    if transfers is None:
        transfers = (np.zeros(n + 1, np.int64), np.zeros(0, np.int64), np.zeros(0))
    counts = np.bincount(conn.frm, minlength=n)
    ptr = np.r_[0, np.cumsum(counts)].astype(np.int64)
    dep, arr, cnt = _profile_scan(conn.frm, conn.to, conn.dep, conn.arr, conn.trip, conn.n_trips, n,
                                  np.asarray(egress, np.float64), ptr, transfers[0].astype(np.int64),
                                  transfers[1].astype(np.int64), transfers[2].astype(np.float64),
                                  int(max_trips))
    return Profiles(ptr=ptr, count=cnt, dep=dep, arr=arr)


@numba.njit(cache=True, nogil=True)
def _lookup(ptr, count, dep, arr, s, t):  # type: ignore[no-untyped-def]
    """Earliest arrival from stop ``s`` standing there at ``t`` (``inf``: none)."""
    lo, hi = ptr[s], ptr[s] + count[s]
    # deps fall along the entries: find the first entry with dep < t
    a, b = lo, hi
    while a < b:
        m = (a + b) // 2
        if dep[m] >= t:
            a = m + 1
        else:
            b = m
    return arr[a - 1] if a > lo else np.inf


@numba.njit(cache=True, nogil=True)
def _profile_scan(frm, to, cdep, carr, ctrip, n_trips, n, egress, ptr, fp_ptr, fp_idx, fp_sec, k_max):  # type: ignore[no-untyped-def]
    m = len(frm)
    dep = np.empty((k_max, m))
    arr = np.empty((k_max, m))
    cnt = np.zeros((k_max, n), np.int64)
    on_trip = np.full((k_max, n_trips), np.inf)
    for c in range(m):
        u, v, td, ta, tr = frm[c], to[c], cdep[c], carr[c], ctrip[c]
        off = ta + egress[v]
        for k in range(k_max):
            x = on_trip[k, tr]
            if off < x:
                x = off
            if k > 0:  # alight at v and take another trip, there or a footpath away
                y = _lookup(ptr, cnt[k - 1], dep[k - 1], arr[k - 1], v, ta)
                if y < x:
                    x = y
                for e in range(fp_ptr[v], fp_ptr[v + 1]):
                    y = _lookup(ptr, cnt[k - 1], dep[k - 1], arr[k - 1], fp_idx[e], ta + fp_sec[e])
                    if y < x:
                        x = y
            on_trip[k, tr] = x
            i = cnt[k, u]
            if x < np.inf and (i == 0 or x < arr[k, ptr[u] + i - 1]):
                dep[k, ptr[u] + i] = td
                arr[k, ptr[u] + i] = x
                cnt[k, u] = i + 1
    return dep[k_max - 1].copy(), arr[k_max - 1].copy(), cnt[k_max - 1].copy()


def window_times(profiles: Profiles, starts: np.ndarray, *, access: tuple[np.ndarray, ...],
                 direct: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Travel seconds from every place at every departure time of ``starts``.

    ``access``: CSR arrays (indptr over places, stop, seconds, from, until) — a walk (or
    a booked demand ride) to a stop, usable when leaving home between ``from`` and
    ``until``; ``direct``: (indptr, seconds, from, until, ride) — the walk, or (``ride``
    true) a demand ride, straight to the nearest destination.  Returns (total seconds,
    seconds by a journey through a stop, seconds by a demand ride straight there), each
    (places, len(starts)), ``inf`` where none.
    """
    a_ptr, a_stop, a_sec, a_lo, a_hi = access
    d_ptr, d_sec, d_lo, d_hi, d_ride = direct
    return _window(profiles.ptr, profiles.count, profiles.dep, profiles.arr,  # type: ignore[no-any-return]
                   np.asarray(starts, np.float64), a_ptr.astype(np.int64), a_stop.astype(np.int64),
                   a_sec.astype(np.float64), a_lo.astype(np.float64), a_hi.astype(np.float64),
                   d_ptr.astype(np.int64), d_sec.astype(np.float64), d_lo.astype(np.float64),
                   d_hi.astype(np.float64), d_ride.astype(np.bool_))


@numba.njit(cache=True, nogil=True, parallel=True)
def _window(ptr, count, pdep, parr, starts, a_ptr, a_stop, a_sec, a_lo, a_hi,  # type: ignore[no-untyped-def]
            d_ptr, d_sec, d_lo, d_hi, d_ride):
    n = len(a_ptr) - 1
    total = np.full((n, len(starts)), np.inf)
    bus = np.full((n, len(starts)), np.inf)
    rides = np.full((n, len(starts)), np.inf)
    for u in numba.prange(n):
        for j in range(len(starts)):
            t0 = starts[j]
            best = np.inf
            ride = np.inf
            for e in range(d_ptr[u], d_ptr[u + 1]):
                if d_lo[e] <= t0 <= d_hi[e]:
                    if d_sec[e] < best:
                        best = d_sec[e]
                    if d_ride[e] and d_sec[e] < ride:
                        ride = d_sec[e]
            rides[u, j] = ride
            ride = np.inf
            for e in range(a_ptr[u], a_ptr[u + 1]):
                if a_lo[e] <= t0 <= a_hi[e]:
                    y = _lookup(ptr, count, pdep, parr, a_stop[e], t0 + a_sec[e]) - t0
                    if y < ride:
                        ride = y
            bus[u, j] = ride
            total[u, j] = ride if ride < best else best
    return total, bus, rides
