"""The 災害VC's day: which team goes to which need, in what order, by which roads.

A vehicle-routing problem with time windows, solved by **VROOM** (pyvroom, the
maintained binding of the VROOM engine):

* every team starts and ends at the open VC, within its 活動時間;
* a need goes only to a team that has every tool it lists (a team's vehicle counts
  as a tool) and at least its 必要人数 — both as VROOM *skills*;
* a need's 希望時間帯 is when the team may start work there; its time on site is
  its 作業時間;
* priorities: VROOM first maximises the summed priority of the needs served (高 90,
  中 50, 低 10, +10 for a 要配慮者 household), then minimises travel time — a need
  not served today is reported with its reason, never dropped silently;
* travel is measured on the **scenario** roads (closed roads never used): walking
  teams on the walk network at :data:`WALK_M_PER_MIN` (carrying tools), driving
  teams on the drive network at :data:`DRIVE_KMH` (debris, 通行規制, traffic in a
  disaster area; road-class speeds do not hold there).  Both are options.  The last
  metres from the road into a house (and back out) are walked, at walking speed, by every
  team: the stop's ``walk_m``, counted in its time and drawn apart from the roads.

Why VROOM (measured in ``benchmarks/bench_dispatch.py`` on the issue's instance,
200 needs × 30 teams on a 200k-node network): it takes skills, priorities and
per-team road profiles natively, finds its plan in a few seconds and is within a
fraction of a per cent of what it finds in 120 s; OR-Tools' routing solver needs
each of these modelled by hand and was slower to reach the same quality; PyVRP
has no skills (tool compatibility).

Privacy: a need's address text never enters the plan (only its place and its
町字); what an output may show of a 要配慮者 household is decided in
:mod:`geo.outputs.files.dispatch`.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analyses.coverage import travel_od
from geo.engine.network import Network
from geo.engine.routing import Route, routes_from
from geo.engine.scenario import parse_hazard, region_scenario, scenario_network
from geo.summary import Summary
from layers.crs import STORAGE_CRS, transform_xy
from layers.errors import ParameterError
from layers.needs import Needs
from layers.teams import Teams

if TYPE_CHECKING:
    from layers.region import RegionLike

__all__ = ["DRIVE_KMH", "WALK_M_PER_MIN", "DispatchPlan", "DispatchSummary", "greedy_plan",
           "on_foot_m", "plan_dispatch", "travel_matrices"]

log = logging.getLogger(__name__)

WALK_M_PER_MIN = 60.0
"""Metres a minute for a walking team carrying tools."""
DRIVE_KMH = 20.0
"""Kilometres an hour for a driving team in a disaster area."""
UNREACHABLE_S = 10_000_000
"""Seconds standing for "no road": far beyond any team's day, so never used."""
PRIORITY_SCORE = {3: 90, 2: 50, 1: 10}
CARE_BONUS = 10
SIZE_SKILL = 1_000_000
"""Skill ids from here mean "at least k people" (k = id − SIZE_SKILL)."""
REASONS = {
    "tools": "必要な資機材（車両を含む）を持つ班がない",
    "size": "必要人数を満たす班がない",
    "road": "道路が閉じていて、条件を満たす班が行けない",
    "window": "希望時間帯のうちに着ける班がない（時間帯を広げると入れられるかもしれません）",
    "day": "作業時間が長く、どの班も活動終了までに終えて戻れない（分けるか、翌日に回してください）",
    "capacity": "今日の班の時間内に回りきれない（優先度の低いものから残しました）",
    "capacity_high": "今日の班の時間内に回りきれない（優先度「高」の依頼だけで班の時間が埋まりました。"
                     "班を増やすか、翌日に回してください）",
}
"""Why a need waits, naming the cause a coordinator can act on: checked in this order
(the first that no team meets), else the day was full."""


@dataclass(frozen=True)
class DispatchSummary(Summary):
    """What the day's plan does: needs, assigned, unassigned, teams used, total km."""

    needs: int
    assigned: int
    unassigned: int
    teams_used: int
    total_km: float
    solver: str
    time_s: float


@dataclass
class DispatchPlan:
    """The day's plan.

    ``stops``: one row per visit (team, order, need_id, work, people, tools, arrive_s,
    start_s, end_s, leg_m, care, area, lon, lat); ``teams``: one row per team (team,
    vehicle, mode, size, stops, km, leave_s, back_s); ``unassigned``: need_id, work,
    people, priority, care, reason.  ``order`` maps a team to its location indices
    (0 = the VC, k = need k − 1) for drawing the legs.
    """

    stops: pd.DataFrame
    teams: pd.DataFrame
    unassigned: pd.DataFrame
    vc: dict[str, Any]
    hazard: str | None
    solver: str
    time_s: float
    method: str
    order: dict[str, list[int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> DispatchSummary:
        return DispatchSummary(
            needs=len(self.stops) + len(self.unassigned), assigned=len(self.stops),
            unassigned=len(self.unassigned), teams_used=int((self.teams["stops"] > 0).sum()),
            total_km=round(float(self.teams["km"].sum()), 1), solver=self.solver,
            time_s=round(self.time_s, 2))


# ------------------------------------------------------------------ travel


def travel_matrices(points: np.ndarray, modes: set[str], networks: dict[str, Network | None]
                    ) -> tuple[dict[str, np.ndarray], str]:
    """Road metres between the plan's points (row = from, column = to) for each mode, and
    the method (``network``, or the straight-line estimate when a mode has no roads):
    :func:`geo.analyses.coverage.travel_od` once per mode."""
    out: dict[str, np.ndarray] = {}
    method = "network"
    for mode in sorted(modes):
        out[mode], how = travel_od(points, points, network=networks.get(mode))
        method = how if how != "network" else method
    return out, method


def on_foot_m(net: Network | None, xy: np.ndarray) -> np.ndarray:
    """Per point, the metres walked between it and its road (the straight access walk of
    :func:`geo.engine.access.snap`); zeros without a network (the straight-line estimate)."""
    if net is None:
        return np.zeros(len(xy))
    from geo.engine.access import snap

    s = snap(net, xy[:, 0], xy[:, 1])
    return np.where(s.flagged, 0.0, s.access)


def _seconds(metres: np.ndarray, mode: str, walk_m_per_min: float, drive_kmh: float,
             on_foot: np.ndarray | None = None) -> np.ndarray:
    """Travel seconds of a (points × points) metres matrix.  A driving team walks the last
    metres from the road into each house and back (``on_foot`` per point), at walking speed."""
    walk = walk_m_per_min / 60.0
    if mode == "walk" or on_foot is None:
        t = metres / (walk if mode == "walk" else drive_kmh / 3.6)
    else:
        foot = on_foot[:, None] + on_foot[None, :]
        np.fill_diagonal(foot, 0.0)
        foot = np.minimum(foot, np.where(np.isfinite(metres), metres, np.inf))
        t = (metres - foot) / (drive_kmh / 3.6) + foot / walk
    secs = np.where(np.isfinite(t), np.round(t), UNREACHABLE_S)
    return np.minimum(secs, UNREACHABLE_S).astype(np.int64)


# ------------------------------------------------------------------ feasibility


def _compatible(needs: pd.DataFrame, teams: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(tools ok, size ok), shape (needs, teams)."""
    tools = np.array([[set(nt) <= set(tt) for tt in teams["tools"]] for nt in needs["tools"]],
                     bool).reshape(len(needs), len(teams))
    size = needs["people"].to_numpy()[:, None] <= teams["size"].to_numpy()[None, :]
    return tools, size


def _reasons(needs: pd.DataFrame, teams: pd.DataFrame, secs: dict[str, np.ndarray]) -> np.ndarray:
    """Why a need cannot be served by any team even alone ('' when some team can)."""
    tools, size = _compatible(needs, teams)
    n = len(needs)
    road = np.zeros((n, len(teams)), bool)
    arrive = np.zeros((n, len(teams)), bool)
    finish = np.zeros((n, len(teams)), bool)
    team: Any
    for t, team in enumerate(teams.itertuples()):
        m = secs[team.mode]
        go, back = m[0, 1:], m[1:, 0]
        road[:, t] = (go < UNREACHABLE_S) & (back < UNREACHABLE_S)
        begin = np.maximum(team.start + go, needs["window_start"].to_numpy())
        arrive[:, t] = begin <= needs["window_end"].to_numpy()
        finish[:, t] = begin + needs["service_s"].to_numpy() + back <= team.end
    out = np.full(n, "", dtype=object)
    ok = tools
    for key, mask in (("tools", tools), ("size", size), ("road", road), ("window", arrive), ("day", finish)):
        ok = ok & mask
        out[(out == "") & ~ok.any(axis=1)] = REASONS[key]
    return out


# ------------------------------------------------------------------ the solver


def _skills(needs: pd.DataFrame, teams: pd.DataFrame) -> tuple[list[set[int]], list[set[int]]]:
    names = sorted({t for ts in needs["tools"] for t in ts} | {t for ts in teams["tools"] for t in ts})
    ids = {t: i + 1 for i, t in enumerate(names)}
    need_sk = [{ids[t] for t in ts} | {SIZE_SKILL + int(k)} for ts, k in
               zip(needs["tools"], needs["people"], strict=True)]
    top = int(needs["people"].max()) if len(needs) else 1
    team_sk = [{ids[t] for t in ts} | {SIZE_SKILL + k for k in range(1, min(int(s), top) + 1)}
               for ts, s in zip(teams["tools"], teams["size"], strict=True)]
    return need_sk, team_sk


def _solve(needs: pd.DataFrame, teams: pd.DataFrame, secs: dict[str, np.ndarray],
           candidates: np.ndarray, time_limit: float, threads: int) -> Any:
    import vroom

    problem = vroom.Input()
    never = int(teams["end"].max()) + 1  # a leg longer than any day is never taken: vroom sums
    for mode, m in secs.items():         # its lines' costs and refuses huge "no road" values
        problem.set_durations_matrix(mode, np.minimum(m, never))
    need_sk, team_sk = _skills(needs, teams)
    team: Any
    for t, team in enumerate(teams.itertuples()):
        problem.add_vehicle(vroom.Vehicle(  # travel costs person-hours: a big team stays for big work
            t + 1, start=0, end=0, profile=team.mode, skills=team_sk[t],
            costs=vroom.VehicleCosts(per_hour=3600 * max(int(team.size), 1)),
            time_window=vroom.TimeWindow(int(team.start), int(team.end))))
    for k in np.flatnonzero(candidates):
        row = needs.iloc[k]
        problem.add_job(vroom.Job(
            int(k) + 1, location=int(k) + 1, default_service=int(row["service_s"]), skills=need_sk[k],
            priority=min(100, PRIORITY_SCORE[int(row["priority"])] + CARE_BONUS * bool(row["care"])),
            time_windows=[vroom.TimeWindow(int(row["window_start"]), int(row["window_end"]))]))
    return problem.solve(exploration_level=5, nb_threads=threads,
                         timeout=timedelta(seconds=float(time_limit)))


def plan_dispatch(needs: Needs, teams: Teams, vc: dict[str, Any], *, crs: str,
                  networks: dict[str, Network | None], hazard: str | None = None,
                  time_limit: float = 5.0, walk_m_per_min: float = WALK_M_PER_MIN,
                  drive_kmh: float = DRIVE_KMH, threads: int = 2) -> DispatchPlan:
    """Plan the day: assign ``needs`` to ``teams`` and order each team's visits.

    ``vc`` is the open VC (``site_id``, ``name``, ``lon``, ``lat`` in EPSG:4326);
    ``networks`` the scenario networks per mode (``walk``, ``drive``; None: the
    straight-line estimate, labelled).  ``time_limit`` bounds the solver (seconds).
    """
    if time_limit <= 0:
        raise ParameterError("ソルバーの制限時間は 0 秒より長くしてください。", parameter="time_limit",
                             fix="例: 5")
    if walk_m_per_min <= 0 or drive_kmh <= 0:
        raise ParameterError("移動の速さは 0 より大きくしてください。", parameter="drive_kmh",
                             fix="例: 20")
    from layers.crs import STORAGE_CRS, transform_xy

    nt, tt = needs.table, teams.table
    lon = np.r_[float(vc["lon"]), nt["lon"].to_numpy(float)]
    lat = np.r_[float(vc["lat"]), nt["lat"].to_numpy(float)]
    x, y = transform_xy(lon, lat, STORAGE_CRS, crs)
    started = time.perf_counter()
    xy = np.column_stack([x, y])
    metres, method = travel_matrices(xy, set(tt["mode"]), networks)
    foot = {m: on_foot_m(networks.get(m), xy) for m in metres}
    secs = {m: _seconds(d, m, walk_m_per_min, drive_kmh, foot[m]) for m, d in metres.items()}
    reasons = _reasons(nt, tt, secs)
    solved = _solve(nt, tt, secs, reasons == "", time_limit, threads) if (reasons == "").any() else None
    plan = _read_solution(solved, nt, tt, metres, reasons, foot)
    elapsed = time.perf_counter() - started
    notes = []
    if method != "network":
        notes.append("道路網がないため、移動は直線距離×迂回率の推定です。")
    log.info("dispatch: %d needs, %d teams, %d assigned in %.2f s", len(nt), len(tt), len(plan[0]), elapsed)
    return DispatchPlan(stops=plan[0], teams=plan[1], unassigned=plan[2], vc=dict(vc), hazard=hazard,
                        solver="vroom", time_s=elapsed, method=method, order=plan[3], notes=notes)


def _read_solution(solved: Any, needs: pd.DataFrame, teams: pd.DataFrame,
                   metres: dict[str, np.ndarray], reasons: np.ndarray, foot: dict[str, np.ndarray]
                   ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, list[int]]]:
    routes = solved.routes if solved is not None else pd.DataFrame(
        columns=["vehicle_id", "type", "arrival", "service", "waiting_time", "location_index", "id"])
    stops, order, team_rows = [], {}, []
    team: Any
    for t, team in enumerate(teams.itertuples()):
        r = routes[routes["vehicle_id"] == t + 1]
        jobs = r[r["type"] == "job"]
        seq = [0, *[int(v) for v in jobs["location_index"]], 0]
        m = metres[team.mode]
        legs = [float(m[a, b]) for a, b in itertools.pairwise(seq)]
        job: Any
        for i, job in enumerate(jobs.itertuples()):
            k = int(job.location_index) - 1
            row = needs.iloc[k]
            start = int(job.arrival) + int(job.waiting_time)
            stops.append({"team": team.team, "order": i + 1, "need_id": row["need_id"], "work": row["work"],
                          "people": int(row["people"]), "tools": "・".join(row["tools"]),
                          "arrive_s": int(job.arrival), "start_s": start,
                          "end_s": start + int(job.service), "leg_m": round(legs[i], 1),
                          "walk_m": round(float(foot[team.mode][k + 1]), 1),
                          "care": bool(row["care"]), "area": row["area"],
                          "lon": float(row["lon"]), "lat": float(row["lat"])})
        ends = r[r["type"] == "end"]
        used = len(jobs) > 0
        order[team.team] = seq if used else []
        team_rows.append({"team": team.team, "vehicle": team.vehicle, "mode": team.mode,
                          "size": int(team.size), "stops": len(jobs),
                          "km": round(sum(legs) / 1000, 2) if used else 0.0,
                          "leave_s": int(team.start) if used else None,
                          "back_s": int(ends["arrival"].iloc[0]) if used and len(ends) else None})
    served = {s["need_id"] for s in stops}
    left = needs[~needs["need_id"].isin(served)].copy()
    why = pd.Series(reasons, index=needs.index).loc[left.index]
    full = np.where(left["priority"].to_numpy() >= 3, REASONS["capacity_high"], REASONS["capacity"])
    left["reason"] = np.where(why.to_numpy() != "", why.to_numpy(), full)
    unassigned = left[["need_id", "work", "people", "priority", "care", "reason"]].sort_values(
        ["priority", "need_id"], ascending=[False, True]).reset_index(drop=True)
    return (pd.DataFrame(stops, columns=STOP_COLUMNS), pd.DataFrame(team_rows), unassigned, order)


STOP_COLUMNS = ["team", "order", "need_id", "work", "people", "tools", "arrive_s", "start_s", "end_s",
                "leg_m", "walk_m", "care", "area", "lon", "lat"]


# ------------------------------------------------------------------ the baseline


def greedy_plan(needs: pd.DataFrame, teams: pd.DataFrame, secs: dict[str, np.ndarray],
                metres: dict[str, np.ndarray]) -> tuple[int, float]:
    """The hand method, for comparison: each team in turn goes to the nearest compatible
    need it can still reach in its window and get back from in time.  Returns (needs
    served, total km)."""
    tools, size = _compatible(needs, teams)
    ok = tools & size
    free = np.ones(len(needs), bool)
    ws, we = needs["window_start"].to_numpy(), needs["window_end"].to_numpy()
    service = needs["service_s"].to_numpy()
    served, km = 0, 0.0
    team: Any
    for t, team in enumerate(teams.itertuples()):
        s, d = secs[team.mode], metres[team.mode]
        here, clock, dist = 0, int(team.start), 0.0
        while True:
            go = s[here, 1:]
            begin = np.maximum(clock + go, ws)
            can = free & ok[:, t] & (go < UNREACHABLE_S) & (begin <= we) & \
                (begin + service + s[1:, 0] <= team.end)
            if not can.any():
                break
            k = int(np.flatnonzero(can)[np.argmin(go[can])])
            dist += float(d[here, k + 1])
            clock = int(begin[k] + service[k])
            here, free[k] = k + 1, False
            served += 1
        if here:
            dist += float(d[here, 0])
        km += dist / 1000
    return served, km


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
    legs: dict[str, list[Route]] = field(default_factory=dict)
    """Each team's legs (VC → stops → VC) on its roads, routed once here: the map, the files
    and the sheets draw them."""

    def summary(self) -> dict[str, Any]:
        return {**self.plan.summary().as_dict(), "vc": self.plan.vc.get("site_id", ""),
                **({"hazard": self.plan.hazard} if self.plan.hazard else {})}


def usable_vc_sites(region: RegionLike, hazard: str | None, *, near: Needs | None = None
                    ) -> tuple[list[str], list[str]]:
    """The 災害VC candidates outside the zones of ``hazard`` (a name; None: all usable) and those
    inside.  Ordered by 候補順位 then ID, or, with ``near``, by the mean straight distance to
    those needs (the VC closest to the day's work first)."""
    sites = region.layer("vc_sites")
    usable = np.ones(len(sites), bool)
    scen = region_scenario(region, parse_hazard(hazard)) if hazard else None
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


def _open_vc(region: RegionLike, wanted: str | None, hazard: str | None, needs: Needs) -> dict[str, Any]:
    sites = region.layer("vc_sites")
    ids = sites["site_id"].astype(str).to_numpy()
    ok, flooded = usable_vc_sites(region, hazard, near=needs)
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


def analyse_dispatch(region: RegionLike, needs: Needs, teams: Teams, options: DispatchOptions | None = None
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
    vc = _open_vc(region, opt.vc, opt.hazard, needs)
    plan = plan_dispatch(needs, teams, vc, crs=region.crs, networks=networks,
                         hazard=parse_hazard(opt.hazard) if opt.hazard else None, time_limit=opt.time_limit,
                         walk_m_per_min=opt.walk_m_per_min, drive_kmh=opt.drive_kmh)
    return DispatchRun(plan=plan, networks=networks, closed=closed,
                       zones=scen.zones if scen is not None else None,
                       legs=leg_routes(plan, networks, crs=region.crs))


def leg_routes(plan: DispatchPlan, networks: Mapping[str, Network | None], *, crs: str
               ) -> dict[str, list[Route]]:
    """The road route of every leg of every team (VC → stops → VC), metric ``crs``."""
    lon = np.r_[float(plan.vc["lon"]), plan.stops["lon"].to_numpy(float)]
    lat = np.r_[float(plan.vc["lat"]), plan.stops["lat"].to_numpy(float)]
    x, y = transform_xy(lon, lat, STORAGE_CRS, crs)
    pos = {nid: i + 1 for i, nid in enumerate(plan.stops["need_id"])}
    out: dict[str, list[Route]] = {}
    team: Any
    for team in plan.teams.itertuples():
        net = networks.get(team.mode)
        ids = plan.stops.loc[plan.stops["team"] == team.team].sort_values("order")["need_id"]
        seq = [0, *[pos[i] for i in ids], 0] if len(ids) else []
        legs = []
        for a, b in itertools.pairwise(seq):
            if net is None:
                legs.append(Route(found=True, coords=np.array([[x[a], y[a]], [x[b], y[b]]]), crs=crs))
            else:
                legs.append(routes_from(net, (x[a], y[a]), np.array([[x[b], y[b]]]))[0])
        out[team.team] = legs
    return out
