"""The 災害VC's day at scale: 200 needs × 30 teams on a 200k-node road network.

Generated files shaped like a VC's: a needs list as a kintone app exports it (cp932
CSV: 受付番号, 依頼者氏名, 電話番号, 住所, 緯度, 経度, 作業内容, 必要人数, 必要資機材,
希望時間帯, 優先度, 要配慮者) and a teams list (班名, 人数, 車両, 資機材, 活動時間); the
needs lie in a flooded district around the VC, a third of them with a time window,
tools that only some teams carry.

Timed, median of 3: the plan as ``tomoni dispatch`` makes it (read both lists, the
travel matrices on the network per team mode, VROOM with ``--time-limit 5``); then
the same solver with 120 s, to show how close the 5-second plan is; then the greedy
nearest-neighbour plan a person makes by hand (each team in turn to the nearest
need it can still serve), in the same run, with needs served and total km.
Optionally OR-Tools' routing solver on the same matrices (``--ortools``, if
installed), for the solver choice.

    .venv/bin/python benchmarks/bench_dispatch.py [--nodes 200000 --needs 200 --teams 30]

Floor (the VC's-day issue): a plan in ≤ 10 s, within 2 % of the same solver's plan
in 120 s (priority served first, then travel time).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_network import street_grid

from geo.analyses.dispatch import _reasons, _seconds, greedy_plan, plan_dispatch, travel_matrices
from layers.crs import STORAGE_CRS, transform_xy
from layers.needs import read_needs
from layers.teams import read_teams

WINDOWS = ("", "", "午前", "午後", "10:00-12:00", "13:00-15:00")
WORKS = (("泥出し", 4, 8, "スコップ・一輪車・土のう袋"), ("家財搬出", 3, 6, "軽トラ"),
         ("片付け", 2, 4, "ゴミ袋"), ("床下の泥出し", 3, 5, "高圧洗浄機"), ("見守り訪問", 1, 2, ""))


def write_lists(folder: Path, net, n_needs: int, n_teams: int,  # type: ignore[no-untyped-def]
                seed: int = 7) -> tuple[Path, Path, dict]:
    rng = np.random.default_rng(seed)
    cx, cy = float(np.median(net.x)), float(np.median(net.y))
    x = cx + rng.normal(0, 2500, n_needs)
    y = cy + rng.normal(0, 2500, n_needs)
    lon, lat = transform_xy(np.r_[cx, x], np.r_[cy, y], net.crs, STORAGE_CRS)
    rows = []
    for i in range(n_needs):
        w, lo, hi, tools = WORKS[int(rng.integers(len(WORKS)))]
        rows.append({"受付番号": f"N-{i + 1:04d}", "依頼者氏名": f"（架空）依頼者{i}",
                     "電話番号": "000-0000-0000",
                     "住所": f"架空県架空市本町{i % 40 + 1}-1", "緯度": f"{lat[i + 1]:.6f}",
                     "経度": f"{lon[i + 1]:.6f}", "作業内容": w, "必要人数": int(rng.integers(lo, hi + 1)),
                     "必要資機材": tools,
                     "希望時間帯": WINDOWS[int(rng.integers(len(WINDOWS)))],
                     "優先度": ("高", "中", "中", "低")[int(rng.integers(4))],
                     "要配慮者": "○" if rng.random() < 0.15 else ""})
    needs = folder / "needs.csv"
    pd.DataFrame(rows).to_csv(needs, index=False, encoding="cp932")
    teams = []
    for k in range(n_teams):
        drive = k < n_teams * 2 // 3
        teams.append({"班名": f"第{k + 1}班", "人数": int(rng.integers(3, 9)),
                      "車両": ("軽トラ" if k % 2 else "乗用車") if drive else "徒歩",
                      "資機材": "スコップ・一輪車・土のう袋・ゴミ袋" + ("・高圧洗浄機" if k % 5 == 0 else ""),
                      "活動時間": "9:00-15:30"})
    team_file = folder / "teams.csv"
    pd.DataFrame(teams).to_csv(team_file, index=False, encoding="utf-8-sig")
    return needs, team_file, {"site_id": "VC", "name": "VC", "lon": float(lon[0]), "lat": float(lat[0])}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nodes", type=int, default=200_000)
    ap.add_argument("--needs", type=int, default=200)
    ap.add_argument("--teams", type=int, default=30)
    ap.add_argument("--long", type=float, default=120.0, help="the long run's time limit (s)")
    ap.add_argument("--ortools", action="store_true", help="also OR-Tools on the same matrices")
    args = ap.parse_args()
    net, _ = street_grid(args.nodes)
    print(f"network: {net.n:,} nodes; {args.needs} needs × {args.teams} teams")
    with tempfile.TemporaryDirectory() as tmp:
        needs_file, teams_file, vc = write_lists(Path(tmp), net, args.needs, args.teams)
        networks = {"walk": net, "drive": net}
        times, plan = [], None
        for _ in range(3):
            t0 = time.perf_counter()
            needs, teams = read_needs(needs_file), read_teams(teams_file)
            plan = plan_dispatch(needs, teams, vc, crs=net.crs, networks=networks, time_limit=5.0)
            times.append(time.perf_counter() - t0)
        assert plan is not None
        t_plan = statistics.median(times)
        t0 = time.perf_counter()
        long = plan_dispatch(needs, teams, vc, crs=net.crs, networks=networks, time_limit=args.long)
        t_long = time.perf_counter() - t0
        prio = needs.table.set_index("need_id")["priority"].map({3: 90, 2: 50, 1: 10})
        score = float(prio.loc[plan.stops["need_id"]].sum())
        score_long = float(prio.loc[long.stops["need_id"]].sum())
        x, y = transform_xy(np.r_[vc["lon"], needs.table["lon"]], np.r_[vc["lat"], needs.table["lat"]],
                            STORAGE_CRS, net.crs)
        t0 = time.perf_counter()
        metres, _m = travel_matrices(np.column_stack([x, y]), {"walk", "drive"}, networks)
        secs = {m: _seconds(d, m, 60.0, 20.0) for m, d in metres.items()}
        served_g, km_g = greedy_plan(needs.table, teams.table, secs, metres)
        t_greedy = time.perf_counter() - t0
        km, km_long = float(plan.teams["km"].sum()), float(long.teams["km"].sum())
        print(f"tomoni dispatch plan (read lists + matrices + VROOM 5 s), median of 3: {t_plan:.2f} s "
              f"(runs {', '.join(f'{t:.2f}' for t in times)})  floor 10 s")
        print(f"  served {len(plan.stops)} / {len(needs)} (priority score {score:.0f}), {km:.1f} km, "
              f"solver {plan.time_s:.2f} s incl. matrices")
        print(f"same solver, {args.long:.0f} s limit: served {len(long.stops)} (score {score_long:.0f}), "
              f"{km_long:.1f} km, {t_long:.1f} s")
        gap = (score_long - score) / score_long * 100 if score_long else 0.0
        print(f"  5-second plan vs {args.long:.0f}-second plan: priority served {gap:+.2f} % short, "
              f"km {((km - km_long) / km_long * 100) if km_long else 0:+.2f} %  (floor: within 2 %)")
        print(f"greedy nearest-neighbour (by hand): served {served_g}, {km_g:.1f} km, {t_greedy:.2f} s; "
              f"VROOM serves {len(plan.stops) - served_g:+d} needs, "
              f"{(km / max(len(plan.stops), 1)) / (km_g / max(served_g, 1)):.2f}× the km per need")
        from geo.analyses.dispatch import leg_routes
        from geo.outputs.files.dispatch import write_dispatch_outputs

        t0 = time.perf_counter()
        legs = leg_routes(plan, networks, crs=net.crs)  # as analyse_dispatch routes them, once
        files = write_dispatch_outputs(plan, Path(tmp) / "out", legs=legs, networks=networks, crs=net.crs)
        print(f"outputs as the command writes them (routes of every leg, {len(files)} files, "
              f"team sheets PDF): {time.perf_counter() - t0:.1f} s")
        if args.ortools:
            _ortools(needs.table, teams.table, secs, _reasons(needs.table, teams.table, secs) == "")
    return 0


def _ortools(needs, teams, secs, candidates) -> None:  # type: ignore[no-untyped-def]
    """OR-Tools' routing solver on the same instance (time windows, skills as allowed
    vehicles, priorities as drop penalties), 5 s guided local search."""
    try:
        from ortools.constraint_solver import pywrapcp, routing_enums_pb2
    except ImportError:
        print("OR-Tools not installed (pip install ortools): skipped")
        return
    from geo.analyses.dispatch import _compatible

    tools, size = _compatible(needs, teams)
    ok = tools & size
    jobs = np.flatnonzero(candidates)
    n_loc = len(jobs) + 1
    node_of = np.r_[0, jobs + 1]
    manager = pywrapcp.RoutingIndexManager(n_loc, len(teams), 0)
    routing = pywrapcp.RoutingModel(manager)
    service = np.r_[0, needs["service_s"].to_numpy()[jobs]]
    cbs = []
    for t, mode in enumerate(teams["mode"]):
        m = secs[mode]

        def cb(i, j, m=m):  # type: ignore[no-untyped-def]
            a, b = manager.IndexToNode(i), manager.IndexToNode(j)
            return int(m[node_of[a], node_of[b]] + service[a])
        cbs.append(routing.RegisterTransitCallback(cb))
        routing.SetArcCostEvaluatorOfVehicle(cbs[-1], t)
    routing.AddDimensionWithVehicleTransits(cbs, 36000, 86400, False, "time")
    dim = routing.GetDimensionOrDie("time")
    for k, j in enumerate(jobs, start=1):
        idx = manager.NodeToIndex(k)
        dim.CumulVar(idx).SetRange(int(needs["window_start"].iloc[j]), int(needs["window_end"].iloc[j]))
        allowed = [-1] + [int(t) for t in np.flatnonzero(ok[j])]
        routing.VehicleVar(idx).SetValues(allowed)
        routing.AddDisjunction([idx], 10_000 * {3: 9, 2: 5, 1: 1}[int(needs["priority"].iloc[j])])
    for t in range(len(teams)):
        dim.CumulVar(routing.Start(t)).SetRange(int(teams["start"].iloc[t]), int(teams["end"].iloc[t]))
        dim.CumulVar(routing.End(t)).SetRange(int(teams["start"].iloc[t]), int(teams["end"].iloc[t]))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.seconds = 5
    t0 = time.perf_counter()
    sol = routing.SolveWithParameters(params)
    took = time.perf_counter() - t0
    if sol is None:
        print(f"OR-Tools: no solution in {took:.1f} s")
        return
    served = sum(1 for k in range(1, n_loc) if sol.Value(routing.NextVar(manager.NodeToIndex(k)))
                 != manager.NodeToIndex(k))
    print(f"OR-Tools (5 s, guided local search): served {served} in {took:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
