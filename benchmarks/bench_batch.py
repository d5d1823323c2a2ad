"""Batch throughput on Dask for a synthetic nationwide-like workload.

50 partitions (municipalities) of 50k–200k-node street graphs, each with demand
units (one per 25 nodes), 居場所 (one per 400 nodes), shelters (one per 300
nodes, GSI flags random) and a flood band closing roads.  Each partition computes
coverage and the nearest usable shelter per unit, exactly as `tomoni batch`
does (the same `run_batch`: partition files, merge, status).

Measured here: throughput with 1 and 2 local workers; the merged result compared
with a single-process run of the same partitions (identical); peak memory per
100k graph nodes (resident-set growth of a worker while it holds one partition).

    .venv/bin/python benchmarks/bench_batch.py [--partitions 50 --min-nodes 50000 --max-nodes 200000]
    .venv/bin/python benchmarks/bench_batch.py --akita   # the 25 real municipalities of Akita
    .venv/bin/python benchmarks/bench_batch.py --national   # 47 prefecture region files, 10M nodes

``--national`` writes 47 synthetic prefecture folders (:mod:`national_regions`: N03-style
boundaries, 町字-like areas, a 居場所 CSV in cp932, GSI shelter CSVs, a 215k-node road
network each, pre-cached as after a first run) and one ``REGIONS.toml`` naming them, then
runs ``tomoni batch REGIONS.toml --dask --workers 2`` — the command a user runs — and,
beside it, the default one-process mode of the same command.  Printed: wall time,
partitions per minute, the driver's peak memory (sampled) against one prefecture's graph,
and every worker's peak memory (from ``batch_status.json``).

On a multi-machine cluster, start `dask scheduler` on one machine and
`dask worker tcp://SCHEDULER:8786 --nthreads 1 --nworkers 2` on each of the others
(each with this project installed), then run the same batch against it:

    .venv/bin/python benchmarks/bench_batch.py --scheduler tcp://SCHEDULER:8786
    .venv/bin/tomoni batch REGIONS.toml --out DIR --scheduler tcp://SCHEDULER:8786
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bench_network
import cloudpickle
from bench_network import street_grid

from geo.runs.batch.dask_run import run_batch
from geo.runs.batch.merge import read_units

# the workers do not have benchmarks/ on their path: send the grid builder by value
cloudpickle.register_pickle_by_value(bench_network)

CRS = "EPSG:6678"


@dataclass(frozen=True)
class SyntheticSpec:
    key: str
    seed: int
    nodes: int


def synthetic_partition(spec: SyntheticSpec) -> dict[str, Any]:
    """Build one municipality's graph and layers from its seed and compute its units."""
    import geopandas as gpd
    import psutil
    import shapely

    from geo.analyses.coverage import coverage
    from geo.engine.scenario import make_scenario
    from layers.shelters import HAZARDS

    proc = psutil.Process()
    base = proc.memory_info().rss
    t0 = time.perf_counter()
    grid, _edges = street_grid(spec.nodes, seed=spec.seed)
    net = dataclasses.replace(grid, x=grid.x + spec.seed * 40_000.0)  # municipalities side by side
    x, y = net.x, net.y
    side = int(np.sqrt(net.n))
    rng = np.random.default_rng(spec.seed + 10_000)
    n_units = max(side * side // 25, 10)
    ux = rng.uniform(x.min(), x.max(), n_units)
    uy = rng.uniform(y.min(), y.max(), n_units)
    cell = 120.0
    dens = gpd.GeoDataFrame({"unit_id": [f"{spec.key}-{i:06d}" for i in range(n_units)],
                             "count": rng.integers(5, 40, n_units), "geography": "synthetic",
                             "members": ""},
                            geometry=shapely.box(ux, uy, ux + cell, uy + cell), crs=CRS)
    nodes = rng.choice(net.n, side * side // 400 + side * side // 300, replace=False)
    n_pl = side * side // 400
    places = gpd.GeoDataFrame({"place_id": [f"P{i}" for i in range(n_pl)]},
                              geometry=gpd.points_from_xy(x[nodes[:n_pl]], y[nodes[:n_pl]]), crs=CRS)
    sn = nodes[n_pl:]
    shelters = gpd.GeoDataFrame(
        {"shelter_id": [f"{spec.key}-S{i}" for i in range(len(sn))], "name": "", "kind": "emergency_site",
         **{h: rng.random(len(sn)) < 0.8 for h in HAZARDS}, "welfare": False, "capacity": 100},
        geometry=gpd.points_from_xy(x[sn], y[sn]), crs=CRS)
    river = shapely.LineString(np.column_stack([np.linspace(x.min(), x.max(), 30),
                                                y.mean() + np.cumsum(rng.normal(0, 200, 30))]))
    zones = gpd.GeoDataFrame({"hazard": ["flood"], "rank": [2]}, geometry=[river.buffer(300)], crs=CRS)
    scen = make_scenario("flood", hazards=zones, network=net, shelters=shelters)
    usable = shelters[scen.shelter_status.to_numpy() == "usable"]
    cov = coverage(dens, places, crs=CRS, network=net, max_distance=500)
    shel = coverage(dens, usable, crs=CRS, network=scen.network, max_distance=2000,
                    facility_layer="shelters")
    peak = proc.memory_info().rss
    centres = dens.geometry.representative_point()
    rows = pd.DataFrame({
        "unit_id": dens["unit_id"], "muni_code": spec.key, "count": dens["count"],
        "place_id": cov.units["facility_id"], "place_m": cov.units["distance_m"],
        "covered": cov.units["covered"], "shelter_id": shel.units["facility_id"],
        "shelter_m": shel.units["distance_m"], "shelter_reachable": shel.units["reachable"],
        "nearest_muni": spec.key, "own_m": shel.units["distance_m"], "cross": False,
        "x": centres.x.to_numpy(), "y": centres.y.to_numpy()})
    return {"key": spec.key, "rows": rows, "nodes": net.n, "seconds": time.perf_counter() - t0,
            "rss_growth_mb": (peak - base) / 2**20}


def akita(workers: int) -> int:
    """All 25 Akita municipalities from ../shared/data as one `tomoni batch` (straight line),
    against one whole-prefecture run in one process."""
    import json
    import os

    from geo.runs.batch.config import read_batch, specs_for
    from geo.runs.batch.partition import whole_region_units

    shared = Path(os.environ.get("TOMONI_SHARED_DATA") or ROOT.parent / "shared" / "data") / "akita"
    with tempfile.TemporaryDirectory(prefix="tomoni-akita-") as tmp:
        region = Path(tmp) / "akita.toml"
        machiaza = sorted((shared / "machiaza").glob("*.json"))
        region.write_text(f"""[region]
name = "秋田県"
[layers.boundaries]
path = "{shared}/boundaries/n03_akita_2021_simplified.geojson"
code = "N03_007"
name = "N03_004"
[layers.shelters]
path = ["{shared}/shelters/gsi_emergency_sites_akita.csv",
        "{shared}/shelters/gsi_evacuation_shelters_akita.csv"]
[layers.neighbourhoods]
path = {json.dumps([str(p) for p in machiaza], ensure_ascii=False)}
""", encoding="utf-8")
        batch = Path(tmp) / "regions.toml"
        batch.write_text('[batch]\nregion = "akita.toml"\nhazard = "earthquake"\n', encoding="utf-8")
        specs = specs_for(read_batch(batch))
        walls: dict[str, tuple[float, Path]] = {}
        times: dict[str, list[float]] = {}
        modes = (("one process (default)", []), (f"--dask, {workers} workers",
                                                 ["--dask", "--workers", str(workers)]))
        for rep in range(5):  # alternated, median of 5: this machine's speed drifts
            for mode, extra in modes:
                out = Path(tmp) / f"out-{mode[:3]}-{rep}"
                t = time.perf_counter()  # the command a user runs, process start included
                subprocess.run([sys.executable, "-m", "geo", "batch", str(batch), "--out", str(out),
                                *extra], check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
                times.setdefault(mode, []).append(time.perf_counter() - t)
                walls[mode] = (float(np.median(times[mode])), out)
        t = time.perf_counter()
        whole = whole_region_units(region, hazard="earthquake", straight_line=True)
        one = time.perf_counter() - t
        same = True
        for _mode, (_wall, out) in walls.items():
            parts = read_units(out).set_index("unit_id").loc[whole["unit_id"]]
            same &= bool(np.allclose(parts["shelter_m"].astype(float).fillna(-1),
                                     whole["shelter_m"].fillna(-1)))
        print(f"Akita, {len(specs)} municipalities, {len(whole):,} units (straight line):")
        for mode, (wall, _out) in walls.items():
            print(f"  tomoni batch, {mode}: {wall:.1f} s (median of 5: "
                  f"{', '.join(f'{x:.1f}' for x in times[mode])})")
        print(f"  one whole-prefecture run inside one process (kernel, no start-up): {one:.1f} s")
        first, second = (w for w, _ in walls.values())
        print(f"  ratio --dask / one process: {second / first:.1f}x; distances identical: {same}")
        return 0 if same and _nearest_kernel(region) else 1


def _nearest_kernel(region: Path) -> bool:
    """Kernel figure: the straight-line nearest shelter for Akita's 町字 spread as the people
    pass spreads them (a count of 30 per 町字), by the k-d tree tomoni uses and by shapely's
    tree point by point (what it used before), in the same run; True when they agree."""
    import shapely

    from geo.analyses.coverage import nearest_straight
    from layers.crs import analysis_crs_for
    from layers.demand import spread
    from layers.region import load_region

    reg = load_region(region, with_roads=False)
    areas = reg.layers["neighbourhoods"].assign(count=30)
    crs = analysis_crs_for([areas])
    people = spread(areas, k=3, crs=crs)
    px, py = people.xy(crs)
    shel = reg.layers["shelters"].to_crs(crs)
    fx, fy = shel.geometry.x.to_numpy(), shel.geometry.y.to_numpy()
    t = time.perf_counter()
    dist, _ = nearest_straight(px, py, fx, fy)
    kd = time.perf_counter() - t
    t = time.perf_counter()
    tree = shapely.STRtree(shapely.points(fx, fy))  # as before: every tie, the first listed kept
    idx, d = tree.query_nearest(shapely.points(px, py), return_distance=True, all_matches=True)
    order = np.lexsort((idx[1], idx[0]))
    first = order[np.r_[True, idx[0][order][1:] != idx[0][order][:-1]]]
    naive = time.perf_counter() - t
    agree = bool(np.allclose(dist[idx[0][first]], d[first]))
    print(f"  kernel, nearest shelter for {len(px):,} spread points x {len(fx):,} shelters: k-d tree "
          f"{kd:.2f} s, shapely's tree point by point {naive:.2f} s ({naive / kd:.1f}x); "
          f"same metres: {agree}")
    return agree


def _run_sampled(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run ``cmd``; (wall seconds, peak resident MB of that process alone, sampled every 0.1 s)."""
    import psutil

    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ps = psutil.Process(proc.pid)
    peak = 0.0
    while proc.poll() is None:
        try:
            peak = max(peak, ps.memory_info().rss / 2**20)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.1)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, peak


def national(workers: int, prefectures: int, nodes: int) -> int:
    """47 synthetic prefecture region files (≥ 10M nodes) through `tomoni batch`, streamed."""
    import json
    import os

    import national_regions

    with tempfile.TemporaryDirectory(prefix="tomoni-national-") as tmp:
        cache = Path(tmp) / "cache"
        t = time.perf_counter()
        batch, total = national_regions.national(Path(tmp) / "japan", cache, prefectures=prefectures,
                                                 nodes=nodes)
        graph_mb = sum(f.stat().st_size for f in cache.glob("*.npz")) / prefectures / 2**20
        print(f"{prefectures} prefecture region files, {total:,} road nodes in all "
              f"(written in {time.perf_counter() - t:.0f} s; one prefecture's cached graph "
              f"{graph_mb:.0f} MB)")
        env = {**os.environ, "TOMONI_CACHE_DIR": str(cache)}
        rows = {}
        for mode, extra in ((f"--dask, {workers} workers", ["--dask", "--workers", str(workers)]),
                            ("one process (default)", [])):
            out = Path(tmp) / f"out-{len(rows)}"
            wall, peak = _run_sampled([sys.executable, "-m", "geo", "batch", str(batch), "--out", str(out),
                                       *extra], env)
            status = json.loads((out / "batch_status.json").read_text("utf-8"))
            facts = status["facts"].values()
            worker_peak = max((f.get("peak_rss_mb", 0.0) for f in facts), default=0.0)
            rows[mode] = (wall, status["partitions"])
            print(f"  tomoni batch, {mode}: {wall:.0f} s, {status['partitions'] / wall * 60:.0f} "
                  f"partitions/min, driver peak {peak:.0f} MB"
                  + (f", worker peak {worker_peak:.0f} MB (max over partitions), region loaded by a "
                     f"worker {sum(bool(f.get('region_loaded')) for f in facts)} times"
                     if status["mode"] == "dask" else "")
                  + f", failed {len(status['failed'])}")
        (d_wall, _), (o_wall, _) = rows.values()
        print(f"  ratio one process / --dask: {o_wall / d_wall:.2f}x")
        return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--partitions", type=int, default=50)
    ap.add_argument("--min-nodes", type=int, default=50_000)
    ap.add_argument("--max-nodes", type=int, default=200_000)
    ap.add_argument("--scheduler", help="an existing Dask scheduler instead of local workers")
    ap.add_argument("--akita", action="store_true",
                    help="run all 25 Akita municipalities from ../shared/data instead")
    ap.add_argument("--national", action="store_true",
                    help="47 synthetic prefecture region files through `tomoni batch`")
    ap.add_argument("--prefectures", type=int, default=47)
    ap.add_argument("--prefecture-nodes", type=int, default=215_000)
    args = ap.parse_args()
    if args.akita:
        return akita(2)
    if args.national:
        return national(2, args.prefectures, args.prefecture_nodes)
    rng = np.random.default_rng(0)
    specs = [SyntheticSpec(key=f"{i + 1:05d}", seed=i + 1,
                           nodes=int(rng.integers(args.min_nodes, args.max_nodes + 1)))
             for i in range(args.partitions)]
    total_nodes = sum(s.nodes for s in specs)
    print(f"{len(specs)} partitions, {total_nodes:,} graph nodes in all")
    runs = [(None, 1), (None, 2)] if not args.scheduler else [(args.scheduler, 0)]
    results = {}
    walls: list[float] = []
    with tempfile.TemporaryDirectory(prefix="tomoni-batch-bench-") as tmp:
        for scheduler, workers in runs:
            out = Path(tmp) / f"w{workers}"
            t = time.perf_counter()
            res = run_batch(specs, out, scheduler=scheduler, workers=workers or 2,
                            runner=synthetic_partition, crs=CRS)
            wall = time.perf_counter() - t
            growth = [f["rss_growth_mb"] / f["nodes"] * 100_000 for f in res.facts.values()]
            label = scheduler or f"{workers} local worker(s)"
            print(f"{label}: {wall:.1f} s, {len(specs) / wall * 60:.1f} partitions/min, "
                  f"{total_nodes / wall / 1e6:.2f} M nodes/s; peak memory per 100k nodes "
                  f"median {np.median(growth):.0f} MB (max {np.max(growth):.0f} MB); failed {res.failed}")
            results[label] = read_units(out).sort_values("unit_id").reset_index(drop=True)
            walls.append(wall)
        t = time.perf_counter()
        single = pd.concat([synthetic_partition(s)["rows"] for s in specs], ignore_index=True)
        single_s = time.perf_counter() - t
        print(f"single process, no Dask: {single_s:.1f} s")
        single = single.sort_values("unit_id").reset_index(drop=True)
        timings = dict(zip(results, walls, strict=True))
        if len(timings) == 2:
            one, two = timings.values()
            print(f"ratio: 2 workers vs 1 worker {one / two:.2f}x; vs the single process "
                  f"{single_s / two:.2f}x")
        for label, units in results.items():
            same = (len(units) == len(single)
                    and (units["unit_id"].to_numpy() == single["unit_id"].to_numpy()).all()
                    and np.allclose(units["place_m"].astype(float).fillna(-1), single["place_m"].fillna(-1))
                    and np.allclose(units["shelter_m"].astype(float).fillna(-1),
                                    single["shelter_m"].fillna(-1))
                    and (units["shelter_id"].to_numpy() == single["shelter_id"].to_numpy()).all())
            print(f"{label}: result identical to the single-process run: {same}")
            if not same:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
