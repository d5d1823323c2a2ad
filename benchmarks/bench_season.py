"""A season switch and a years × seasons outlook at prefecture scale.

1M-node street graph (20 % of its roads main roads, the others residential), 300 冬期閉鎖
sections and 100 除雪優先 route pieces drawn along roads, 50,000 demand units, 1,000
居場所, 2,000 shelters with GSI flags.  Timed:

* **season switch** (summer → winter → summer): the winter network (closures + speeds by
  road class + priority routes), coverage of every unit within 10 elderly minutes, the
  earthquake scenario on that network and the shelter load (assignment, loads, 2SFCA);
* **outlook**: 4 years × 2 seasons of coverage, each year's demand scaled per unit.

Beside it in the same run, the naive way for the winter coverage alone: rebuild the
networkx graph with winter weights (one weight per edge by its class), find the closed
edges with a geopandas spatial join and remove them, multi-source Dijkstra from the
places' nearest nodes, each unit's nearest node by a KD-tree.

    .venv/bin/python benchmarks/bench_season.py [--nodes 1000000 --units 50000]

Floors (winter/future issue): season switch ≤ 5 s; 4-year × 2-season outlook ≤ 20 s.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_network import grid_units, street_grid  # noqa: E402

from geo.coverage import coverage  # noqa: E402
from geo.network import ROAD_CLASSES, SPEEDS_M_PER_MIN, segment_lines  # noqa: E402
from geo.scenario import edge_segments, make_scenario  # noqa: E402
from geo.season import Season, season_network  # noqa: E402
from geo.shelter_load import shelter_load  # noqa: E402
from layers.shelters import HAZARDS  # noqa: E402
from layers.winter import WinterSpec  # noqa: E402

CRS = "EPSG:6678"
LIMIT = 10 * SPEEDS_M_PER_MIN["elderly"]  # 10 elderly minutes, in metres at the summer speed


def _layers(net, rng, n_places: int, n_shelters: int):  # type: ignore[no-untyped-def]
    nodes = rng.choice(np.flatnonzero(np.diff(net.indptr) > 0), n_places + n_shelters, replace=False)
    places = gpd.GeoDataFrame({"place_id": [f"P{i:05d}" for i in range(n_places)],
                               "name": [f"サロン{i}" for i in range(n_places)]},
                              geometry=gpd.points_from_xy(net.x[nodes[:n_places]], net.y[nodes[:n_places]]),
                              crs=CRS).to_crs("EPSG:4326")
    sn = nodes[n_places:]
    shelters = gpd.GeoDataFrame(
        {"shelter_id": [f"S{i:05d}" for i in range(n_shelters)], "name": "", "muni_code": "05999",
         "kind": "shelter", **{h: rng.random(n_shelters) < 0.8 for h in HAZARDS}, "flags_from": "gsi",
         "welfare": rng.random(n_shelters) < 0.05, "accepts": "",
         "capacity": pd.array(rng.integers(50, 800, n_shelters), dtype="Int64"), "source": "synthetic"},
        geometry=gpd.points_from_xy(net.x[sn], net.y[sn]), crs=CRS).to_crs("EPSG:4326")
    return places, shelters, nodes[:n_places]


def _along(net, segs: np.ndarray) -> gpd.GeoDataFrame:  # type: ignore[no-untyped-def]
    a, b = net.seg_a[segs], net.seg_b[segs]
    lines = shapely.linestrings(np.stack([np.column_stack([net.x[a], net.y[a]]),
                                          np.column_stack([net.x[b], net.y[b]])], axis=1))
    return gpd.GeoDataFrame(geometry=lines, crs=CRS).to_crs("EPSG:4326")


def _switch(net, season, spec, closures, priority, density, places, shelters):  # type: ignore[no-untyped-def]
    winter = season_network(net, season, spec=spec, profile="elderly", closures=closures, priority=priority)
    cov = coverage(density, places, crs=CRS, network=winter.network, max_distance=LIMIT)
    scen = make_scenario("earthquake", hazards=None, network=winter.network, shelters=shelters)
    load = shelter_load(density, shelters, scen, crs=CRS)
    return winter, cov, load


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=1_000_000)
    ap.add_argument("--units", type=int, default=50_000)
    ap.add_argument("--skip-naive", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(11)
    grid, (u, v, w) = street_grid(args.nodes)
    seg_main = rng.random(len(grid.seg_a)) < 0.2
    cls = np.where(seg_main[edge_segments(grid)], ROAD_CLASSES.index("primary"),
                   ROAD_CLASSES.index("residential")).astype(np.int8)
    net = dataclasses.replace(grid, road_class=cls)
    density, ux, uy = grid_units(net, args.units, rng, CRS)
    density.attrs["summary"] = {"categories": {"要介護": 30, "障害": 20, "高齢独居": 50},
                                "published_total": 100}
    places, shelters, place_nodes = _layers(net, rng, 1000, 2000)
    closed_segs = rng.choice(len(net.seg_a), 300, replace=False)
    closures = _along(net, closed_segs)
    priority = _along(net, rng.choice(np.flatnonzero(seg_main), 100, replace=False))
    spec = WinterSpec()
    t = time.perf_counter()
    segment_lines(net)
    _switch(net, Season("summer"), spec, closures, priority, density, places, shelters)  # compile, index
    warm = time.perf_counter() - t
    times = []
    for name in ("summer", "winter", "summer", "winter"):
        t = time.perf_counter()
        winter, cov, _load = _switch(net, Season(name), spec, closures, priority, density, places, shelters)
        times.append(time.perf_counter() - t)
        covered = int(cov.units.loc[cov.units["covered"], "count"].sum())
        print(f"{name}: {times[-1]:.2f} s — closed {int(winter.closed.sum())} segments, "
              f"covered {covered:,} of {int(cov.units['count'].sum()):,} within 10 elderly minutes")
    switch = max(times)
    t = time.perf_counter()
    rows = []
    for year, scale in ((2025, 1.0), (2035, 0.9), (2050, 0.75), (2070, 0.6)):
        demand = density.assign(count=np.round(density["count"].to_numpy() * scale).astype(np.int64))
        for name in ("summer", "winter"):
            winter = season_network(net, Season(name), spec=spec, profile="elderly", closures=closures,
                                    priority=priority)
            cov = coverage(demand, places, crs=CRS, network=winter.network, max_distance=LIMIT)
            rows.append((year, name, int(cov.units.loc[cov.units["covered"], "count"].sum())))
    outlook = time.perf_counter() - t
    print(f"{net.n:,} nodes, {args.units:,} units; first run (index + compile) {warm:.1f} s; "
          f"season switch worst {switch:.2f} s; 4 years × 2 seasons outlook {outlook:.2f} s")
    if not args.skip_naive:
        t = time.perf_counter()
        factor = np.where(seg_main, 1 + 1.5 * 50 / 1000, 1 + 3.0 * 50 / 1000)
        seg_of = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(net.seg_a, net.seg_b, strict=True))}
        g = nx.MultiDiGraph()
        g.add_nodes_from(range(net.n))
        for a, b, length in zip(u.tolist(), v.tolist(), w.tolist(), strict=True):
            k = seg_of[(min(a, b), max(a, b))]
            g.add_edge(a, b, length=length * factor[k], seg=k)
        edges = gpd.GeoDataFrame({"u": u, "v": v}, geometry=shapely.linestrings(
            np.stack([np.column_stack([net.x[u], net.y[u]]), np.column_stack([net.x[v], net.y[v]])],
                     axis=1)), crs=CRS)
        zone = closures.to_crs(CRS).buffer(15.0)
        hit = gpd.sjoin(edges, gpd.GeoDataFrame(geometry=zone), predicate="within")
        g.remove_edges_from(zip(hit["u"], hit["v"], strict=True))
        dist = nx.multi_source_dijkstra_path_length(g, place_nodes.tolist(), weight="length")
        _, near = cKDTree(np.column_stack([net.x, net.y])).query(np.column_stack([ux, uy]))
        d = np.array([dist.get(int(n), np.inf) for n in near])
        naive = time.perf_counter() - t
        print(f"naive networkx rebuild per season (winter coverage only, no access walk, no shelters): "
              f"{naive:.1f} s; ratio {naive / switch:.1f}x ({int((d <= LIMIT).sum()):,} units covered)")
    ok = switch <= 5.0 and outlook <= 20.0
    print("floors (switch ≤ 5 s, outlook ≤ 20 s):", "OK" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
