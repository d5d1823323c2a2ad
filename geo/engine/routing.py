"""Routes on the road network: between two points, or from one point to many.

A route starts and ends at arbitrary points: each is joined to its nearest road
segment (the straight access distance is part of the route, and a point farther
than ``max_access`` from any road has no route, with the reason).  One compiled
search from a virtual start node appended to the CSR arrays, stopped once the
destinations' road ends are settled (:func:`geo.engine.shortest_paths.paths_to`), gives
the routes to every destination at once.

Profiles: ``walk`` (80 m/min) and ``elderly`` (50 m/min) minimise the walking
length; ``drive`` minimises drive time from road-class speeds (needs a drive
network).  In a hazard scenario (:mod:`geo.engine.scenario`) the scenario network is
searched: closed segments are never used, slowed ones count their extra length
in the times.  :func:`compare` puts the normal and the scenario route side by
side: lengths, times, detour ratio and the closed segments the normal route
would have used.

Turn lists group the route by road name (OSM ``name``; ``（名称なし）`` where none
is given) with 右折/左折/直進 from the bearing change.  Exports: GeoJSON, GPX 1.1,
a CSV turn list and a printable route sheet (:func:`route_sheet`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.sparse import csr_array

from geo.engine.access import snap
from geo.engine.network import Network
from geo.engine.profiles import DEFAULT_MAX_ACCESS, DEFAULT_PROFILE, ROUTE_PROFILES, SPEEDS_M_PER_MIN
from geo.engine.shortest_paths import paths_to
from layers.crs import STORAGE_CRS, transform_xy
from layers.errors import ParameterError

__all__ = [
    "Route",
    "compare",
    "route",
    "routes_from",
]



UNNAMED = "（名称なし）"


@dataclass
class Route:
    """One route (metric CRS coordinates), or the reason why there is none."""

    found: bool
    reason: str = ""
    coords: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    segments: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    length_m: float | None = None
    cost_m: float | None = None
    walk_s: float | None = None
    elderly_s: float | None = None
    drive_s: float | None = None
    profile: str = "walk"
    steps: list[dict[str, Any]] = field(default_factory=list)
    crs: str = STORAGE_CRS
    on_foot: tuple[float, float] = (0.0, 0.0)
    """Metres of the straight walks between the start and its road and between the road and
    the end (``coords[0]→coords[1]`` and ``coords[-2]→coords[-1]``); 0 when not split."""

    @property
    def time_s(self) -> float | None:
        return {"walk": self.walk_s, "elderly": self.elderly_s, "drive": self.drive_s}[self.profile]

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "length_m": None if self.length_m is None else round(self.length_m, 1),
            "time_s": None if self.time_s is None else round(self.time_s, 1),
            "profile": self.profile}
        if self.found:
            out |= {"walk_s": _r(self.walk_s), "elderly_s": _r(self.elderly_s),
                    "drive_s": _r(self.drive_s)}
        else:
            out["reason"] = self.reason
        return out

    def lonlat(self) -> np.ndarray:
        if not len(self.coords):
            return self.coords
        lon, lat = transform_xy(self.coords[:, 0], self.coords[:, 1], self.crs, STORAGE_CRS)
        return np.column_stack([lon, lat])


def _r(v: float | None) -> float | None:
    return None if v is None else round(float(v), 1)


def _edge_entries(net: Network, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """CSR entry index of each edge u→v (entries are sorted by (row, column))."""
    rows = np.repeat(np.arange(net.n, dtype=np.int64), np.diff(net.indptr))
    key = rows * net.n + net.indices
    pos = np.searchsorted(key, np.asarray(u, np.int64) * net.n + np.asarray(v, np.int64))
    return np.minimum(pos, len(key) - 1)


def _seg_of(net: Network, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    a, b = np.minimum(u, v), np.maximum(u, v)
    return np.searchsorted(net.seg_a * net.n + net.seg_b, a * net.n + b)


def _weights(net: Network, profile: str) -> np.ndarray:
    if profile == "drive":
        if net.seconds is None or not net.directed:
            raise ParameterError("車のルートには車道のネットワークが必要です。", parameter="profile",
                             fix='地域設定の [roads] に drive = "道路ファイル" を書いてください。')
        return net.seconds
    return net.weights


def _dir_cost(net: Network, w: np.ndarray, seg: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Cost per metre of travelling each segment a→b (forward) or b→a, in units of ``w``."""
    a, b = net.seg_a[seg], net.seg_b[seg]
    u, v = np.where(forward, a, b), np.where(forward, b, a)
    e = _edge_entries(net, u, v)
    ok = (net.indices[e] == v) & (np.repeat(np.arange(net.n), np.diff(net.indptr))[e] == u)
    return np.where(ok, w[e] / np.maximum(net.seg_len[seg], 1e-9), np.inf)


def routes_from(net: Network, start: tuple[float, float], ends: np.ndarray, *,
                profile: str = DEFAULT_PROFILE, base: Network | None = None,
                max_access: float = DEFAULT_MAX_ACCESS) -> list[Route]:
    """Routes from one metric point to each of ``ends`` (shape (k, 2), metric CRS).

    ``base`` is the normal network when ``net`` is a scenario network (real
    lengths are measured on it); it defaults to ``net``.
    """
    if profile not in ROUTE_PROFILES:
        raise ParameterError("移動の手段が分かりません。", parameter="profile",
                         fix=f"{', '.join(ROUTE_PROFILES)} のいずれかを指定してください。")
    base = base or net
    w = _weights(net, profile)
    ends = np.atleast_2d(np.asarray(ends, float))
    s = snap(net, np.array([start[0]]), np.array([start[1]]), max_access=max_access)
    e = snap(net, ends[:, 0], ends[:, 1], max_access=max_access)
    if s.flagged[0]:
        reason = f"出発地から {max_access:.0f} m 以内に道路がありません。"
        return [Route(found=False, reason=reason, profile=profile, crs=net.crs) for _ in ends]
    ss, ts, acc_s = int(s.segment[0]), float(s.offset[0]), float(s.access[0])
    slen = float(net.seg_len[ss])
    per_m = {True: _dir_cost(net, w, np.array([ss]), np.array([True]))[0],
             False: _dir_cost(net, w, np.array([ss]), np.array([False]))[0]}
    walk_per_m = w is net.weights
    acc_cost = acc_s if walk_per_m else acc_s / (20 / 3.6)  # the access leg at 20 km/h
    # virtual start node n: leave towards a (b→a) or towards b (a→b)
    cols, vals = [], []
    if np.isfinite(per_m[False]):
        cols.append(int(net.seg_a[ss]))
        vals.append(ts * per_m[False] + acc_cost)
    if np.isfinite(per_m[True]):
        cols.append(int(net.seg_b[ss]))
        vals.append((slen - ts) * per_m[True] + acc_cost)
    n = net.n
    indptr = np.r_[net.indptr, net.indptr[-1] + len(cols)]
    m = csr_array((np.r_[w, np.maximum(vals, 1e-9)], np.r_[net.indices, cols].astype(np.int64),
                   indptr), shape=(n + 1, n + 1))
    ends_ab = np.r_[net.seg_a[e.segment.clip(0)][~e.flagged], net.seg_b[e.segment.clip(0)][~e.flagged]]
    dist, pred = paths_to(m.indptr, m.indices, m.data, n, ends_ab)
    out = []
    fwd_e = _dir_cost(net, w, e.segment.clip(0), np.ones(len(ends), bool))
    bwd_e = _dir_cost(net, w, e.segment.clip(0), np.zeros(len(ends), bool))
    for k in range(len(ends)):
        if e.flagged[k]:
            out.append(Route(found=False, reason=f"目的地から {max_access:.0f} m 以内に道路がありません。",
                             profile=profile, crs=net.crs))
            continue
        es, te = int(e.segment[k]), float(e.offset[k])
        elen = float(net.seg_len[es])
        acc_e = float(e.access[k]) if walk_per_m else float(e.access[k]) / (20 / 3.6)
        a, b = int(net.seg_a[es]), int(net.seg_b[es])
        options = [(dist[a] + te * fwd_e[k] + acc_e, a), (dist[b] + (elen - te) * bwd_e[k] + acc_e, b)]
        if es == ss:
            direct = per_m[te >= ts] * abs(te - ts) + acc_cost + acc_e
            options.append((direct, -1))
        cost, via = min(options, key=lambda o: o[0])
        if not np.isfinite(cost):
            out.append(Route(found=False, reason="道路がつながっていないため、ルートがありません"
                             "（通行止めの区間で分断されている可能性があります）。",
                             profile=profile, crs=net.crs))
            continue
        nodes: list[int] = []
        if via >= 0:
            node = via
            while node != n and node >= 0:
                nodes.append(int(node))
                node = int(pred[node])
            nodes.reverse()
        out.append(_build(net, base, profile, (start, ends[k]), (ss, ts, acc_s), (es, te, float(e.access[k])),
                          np.asarray(nodes, np.int64), float(cost)))
    return out


def _build(net: Network, base: Network, profile: str, ends: tuple[Any, Any],
           first: tuple[int, float, float], last: tuple[int, float, float], nodes: np.ndarray,
           cost: float) -> Route:
    """Coordinates, segments, lengths, times and turn list of one found route."""
    (ss, ts, acc_s), (es, te, acc_e) = first, last
    start, end = ends

    def at(seg: int, t: float) -> tuple[float, float]:
        a, b = net.seg_a[seg], net.seg_b[seg]
        f = t / max(float(net.seg_len[seg]), 1e-9)
        return (float(net.x[a] + f * (net.x[b] - net.x[a])), float(net.y[a] + f * (net.y[b] - net.y[a])))

    p_s, p_e = at(ss, ts), at(es, te)
    pieces: list[tuple[int, tuple[float, float], tuple[float, float], float]] = []  # seg, from, to, frac
    if len(nodes):
        n0, n1 = int(nodes[0]), int(nodes[-1])
        pieces.append((ss, p_s, (float(net.x[n0]), float(net.y[n0])),
                       abs((0.0 if n0 == net.seg_a[ss] else float(net.seg_len[ss])) - ts)
                       / max(float(net.seg_len[ss]), 1e-9)))
        if len(nodes) > 1:
            segs = _seg_of(net, nodes[:-1], nodes[1:])
            for i, sg in enumerate(segs):
                pieces.append((int(sg), (float(net.x[nodes[i]]), float(net.y[nodes[i]])),
                               (float(net.x[nodes[i + 1]]), float(net.y[nodes[i + 1]])), 1.0))
        pieces.append((es, (float(net.x[n1]), float(net.y[n1])), p_e,
                       abs((0.0 if n1 == net.seg_a[es] else float(net.seg_len[es])) - te)
                       / max(float(net.seg_len[es]), 1e-9)))
    else:
        pieces.append((ss, p_s, p_e, abs(te - ts) / max(float(net.seg_len[ss]), 1e-9)))
    segs = np.array([p[0] for p in pieces], np.int64)
    fracs = np.array([p[3] for p in pieces])
    length = float(np.sum(fracs * base.seg_len[segs])) + acc_s + acc_e
    eff = float(np.sum(fracs * net.seg_len[segs])) + acc_s + acc_e
    drive = None
    if profile == "drive":
        drive = cost
    coords = [tuple(start), p_s, *[(float(net.x[i]), float(net.y[i])) for i in nodes], p_e, tuple(end)]
    used = segs[fracs > 0]
    return Route(found=True, coords=np.asarray(coords, float), segments=np.unique(used),
                 length_m=length, cost_m=eff,
                 walk_s=eff / (SPEEDS_M_PER_MIN["walk"] / 60),
                 elderly_s=eff / (SPEEDS_M_PER_MIN["elderly"] / 60), drive_s=drive,
                 profile=profile, steps=_steps(net, base, pieces), crs=net.crs,
                 on_foot=(float(acc_s), float(acc_e)))


def _name(net: Network, seg: int) -> str:
    if net.name_idx is None or net.names is None or not len(net.names):
        return UNNAMED
    a, b = int(net.seg_a[seg]), int(net.seg_b[seg])
    for u, v in ((a, b), (b, a)):
        lo, hi = net.indptr[u], net.indptr[u + 1]
        hit = np.flatnonzero(net.indices[lo:hi] == v)
        if len(hit) and net.name_idx[lo + hit[0]] >= 0:
            return str(net.names[net.name_idx[lo + hit[0]]])
    return UNNAMED


def _bearing(p: tuple[float, float], q: tuple[float, float]) -> float:
    return math.degrees(math.atan2(q[1] - p[1], q[0] - p[0]))


def _turn(before: float, after: float) -> str:
    d = (after - before + 180) % 360 - 180
    if abs(d) < 30:
        return "直進"
    if abs(d) > 150:
        return "Uターン"
    return "左折" if d > 0 else "右折"


def _steps(net: Network, base: Network, pieces: Sequence[tuple[int, Any, Any, float]]
           ) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    for seg, p, q, frac in pieces:
        if frac <= 0:
            continue
        name = _name(base, seg)
        length = frac * float(base.seg_len[seg])
        if groups and groups[-1]["road"] == name:
            groups[-1]["length_m"] += length
            groups[-1]["_last"] = _bearing(p, q)
            continue
        turn = "出発" if not groups else _turn(groups[-1]["_last"], _bearing(p, q))
        groups.append({"action": turn, "road": name, "length_m": length,
                       "_last": _bearing(p, q)})
    steps, total = [], 0.0
    for i, g in enumerate(groups, 1):
        total += g["length_m"]
        steps.append({"no": i, "action": g["action"], "road": g["road"],
                      "length_m": round(g["length_m"], 1), "cumulative_m": round(total, 1)})
    if steps:
        steps.append({"no": len(steps) + 1, "action": "到着", "road": "", "length_m": 0.0,
                      "cumulative_m": round(total, 1)})
    return steps


def route(net: Network, start: tuple[float, float], end: tuple[float, float], *,
          profile: str = DEFAULT_PROFILE, base: Network | None = None,
          max_access: float = DEFAULT_MAX_ACCESS) -> Route:
    """The route between two metric points (see :func:`routes_from`)."""
    return routes_from(net, start, np.array([end], float), profile=profile, base=base,
                       max_access=max_access)[0]


def compare(normal: Route, hazard: Route, closed: np.ndarray) -> dict[str, Any]:
    """Normal vs scenario side by side: the ``tomoni route`` JSON.

    ``closed`` is the scenario's mask over the normal network's segments;
    ``closed_edges_avoided`` counts the closed segments the normal route uses.
    """
    avoided = int(closed[normal.segments].sum()) if normal.found and len(closed) else 0
    h = hazard.summary()
    h["closed_edges_avoided"] = avoided
    h["closed_edges_used"] = int(closed[hazard.segments].sum()) if hazard.found and len(closed) else 0
    if normal.found and hazard.found and normal.length_m:
        h["detour_ratio"] = round(float(hazard.length_m or 0) / normal.length_m, 3)
        h["extra_length_m"] = round(float(hazard.length_m or 0) - normal.length_m, 1)
        if h["extra_length_m"] < -0.5:
            h["note"] = _shorter_note(normal, hazard)
    else:
        h["detour_ratio"] = None
    return {"normal": normal.summary(), "hazard": h}


SHORTER_BY_COST = ("災害時のルートの方が短いのは、ルートを距離ではなく歩きやすさ（坂・段差・大きな道路の"
                   "横断など）で選んでいるためです。災害時の道は距離は短くても歩きにくい道です。")
SHORTER_BY_ACCESS = ("災害時のルートの方が短いのは、出発点か到着点のいちばん近い道路が閉じていて、"
                     "別の道路から歩き始める（歩き終える）ためです。")


def _shorter_note(normal: Route, hazard: Route) -> str:
    """Why a scenario route came out shorter than the normal one: the normal route is the
    cheapest by the profile's cost, not the shortest; or the scenario joined the roads
    elsewhere (on fewer roads the same ends can never give a shorter path)."""
    if (normal.cost_m or 0) <= (hazard.cost_m or 0) and (normal.cost_m or 0) > (normal.length_m or 0) + 0.5:
        return SHORTER_BY_COST
    return SHORTER_BY_ACCESS
