"""Network engine vs networkx on synthetic street-like graphs (20k, 200k, 1M nodes).

Street-like: a jittered grid (about 90 m blocks) with 8 % of the links
removed, walkable both ways.  The naive side is networkx on the graph an osmnx
user has: a MultiDiGraph with both directions of every street.  Measured in the
same run:

* nearest-facility distance for every node, 1,000 facilities —
  tomoni (compiled bucket-queue search from all facilities at once) vs networkx
  ``multi_source_dijkstra_path_length``, and vs ``scipy.sparse.csgraph.dijkstra``
  from virtual nodes (the engine's former way) as a second reference;
* catchments of 1,000 facilities within 800 m — tomoni (compiled bounded
  searches on every core, and on one core) vs networkx
  ``single_source_dijkstra_path_length(cutoff=800)``;
* loading the cached network (npz) vs building it.

    .venv/bin/python benchmarks/bench_network.py --sizes 20000,200000,1000000

Floors (speed issue): nearest facility ≤ 0.4 s at 1M nodes and ≥ 30× networkx;
catchments ≤ 0.05 s at 1M nodes, identical on one core and on all; cache load ≤ 1 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.engine.access import snap
from geo.engine.network import _entry_nodes, _from_arrays, catchments, nearest_facility
from geo.engine.network_cache import network_arrays, read_npz
from geo.engine.shortest_paths import bounded


def scipy_nearest(net, fac) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The same question by ``scipy.sparse.csgraph.dijkstra`` (``min_only``) from one
    virtual node per facility appended to the CSR arrays (the engine's former way)."""
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import dijkstra

    nodes, costs, which = _entry_nodes(net, fac)
    n, f = net.n, int(which.max()) + 1
    order = np.argsort(which, kind="stable")
    indptr = np.r_[net.indptr, net.indptr[-1] + np.cumsum(np.bincount(which, minlength=f))]
    m = csr_array((np.r_[net.weights, np.maximum(costs[order], 1e-9)],
                   np.r_[net.indices, nodes[order]], indptr), shape=(n + f, n + f))
    return dijkstra(m, directed=True, indices=np.arange(n, n + f), min_only=True)[:n]


def street_grid(n_nodes: int, seed: int = 0):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    side = int(np.sqrt(n_nodes))
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = ii.ravel() * 90.0 + rng.uniform(-15, 15, side * side)
    y = jj.ravel() * 90.0 + rng.uniform(-15, 15, side * side)
    idx = np.arange(side * side).reshape(side, side)
    u = np.concatenate([idx[:-1, :].ravel(), idx[:, :-1].ravel()])
    v = np.concatenate([idx[1:, :].ravel(), idx[:, 1:].ravel()])
    keep = rng.random(len(u)) > 0.08
    u, v = u[keep], v[keep]
    w = np.hypot(x[u] - x[v], y[u] - y[v]) * rng.uniform(1.0, 1.15, len(u))
    uu, vv, ww = np.concatenate([u, v]), np.concatenate([v, u]), np.concatenate([w, w])
    net = _from_arrays(np.arange(side * side, dtype=np.int64), x, y, uu, vv, ww,
                       crs="EPSG:6678", directed=False)
    return net, (u, v, w)


def grid_units(net, n_units: int, rng, crs: str = "EPSG:6678"):  # type: ignore[no-untyped-def]
    """``n_units`` square demand units tiling the graph's extent (GeoDataFrame in EPSG:4326),
    with their centre coordinates and cell size."""
    import geopandas as gpd
    import shapely

    x0, x1, y0, y1 = net.x.min(), net.x.max(), net.y.min(), net.y.max()
    side = int(np.ceil(np.sqrt(n_units)))
    cell = min(x1 - x0, y1 - y0) / side
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    ii, jj = ii.ravel()[:n_units], jj.ravel()[:n_units]
    edge = np.arange(side + 1) * cell  # neighbours share their corners exactly, as mesh cells do
    cx, cy = x0 + edge[ii], y0 + edge[jj]
    density = gpd.GeoDataFrame(
        {"unit_id": [f"U{i:06d}" for i in range(n_units)], "count": rng.integers(5, 60, n_units),
         "geography": "synthetic", "members": ""},
        geometry=shapely.box(cx, cy, x0 + edge[ii + 1], y0 + edge[jj + 1]), crs=crs).to_crs("EPSG:4326")
    return density, cx + cell / 2, cy + cell / 2


def naive_graph(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> nx.MultiDiGraph:
    """The graph an osmnx user searches: a MultiDiGraph with both directions of every street."""
    g = nx.MultiDiGraph()
    g.add_nodes_from(range(n))
    g.add_weighted_edges_from(zip(u.tolist(), v.tolist(), w.tolist(), strict=True), weight="length")
    g.add_weighted_edges_from(zip(v.tolist(), u.tolist(), w.tolist(), strict=True), weight="length")
    return g


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="20000,200000")
    ap.add_argument("--facilities", type=int, default=1000)
    ap.add_argument("--naive-catchments", type=int, default=100,
                    help="networkx catchments are timed on this many facilities and scaled")
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    ok = True
    for size in (int(s) for s in args.sizes.split(",")):
        net, (u, v, w) = street_grid(size)
        connected = np.flatnonzero(np.diff(net.indptr) > 0)
        fac_nodes = rng.choice(connected, args.facilities, replace=False)
        fac = snap(net, net.x[fac_nodes], net.y[fac_nodes])
        nearest_facility(net, fac)  # warm-up
        catchments(net, fac_nodes[:2], 800.0)  # numba compile
        t = time.perf_counter()
        dist, _ = nearest_facility(net, fac)
        ours_nf = time.perf_counter() - t
        t = time.perf_counter()
        src, cn, cd = catchments(net, fac_nodes, 800.0)
        ours_c = time.perf_counter() - t
        t = time.perf_counter()
        one = bounded(net.indptr, net.indices, net.weights, fac_nodes, 800.0, threads=1)
        one_c = time.perf_counter() - t
        same = all(np.array_equal(a, b) for a, b in zip((src, cn, cd), one, strict=True))
        scipy_nearest(net, fac)
        t = time.perf_counter()
        sp = scipy_nearest(net, fac)
        scipy_nf = time.perf_counter() - t
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "net.npz"
            np.savez(path, **network_arrays(net), meta=np.array([net.crs, "0"]))
            t = time.perf_counter()
            read_npz(path)
            load = time.perf_counter() - t
        t = time.perf_counter()
        g = naive_graph(net.n, u, v, w)
        build = time.perf_counter() - t
        t = time.perf_counter()
        ref = nx.multi_source_dijkstra_path_length(g, fac_nodes.tolist(), weight="length")
        naive_nf = time.perf_counter() - t
        sample = fac_nodes[: args.naive_catchments]
        t = time.perf_counter()
        for s in sample.tolist():
            nx.single_source_dijkstra_path_length(g, s, cutoff=800.0, weight="length")
        naive_c = (time.perf_counter() - t) * len(fac_nodes) / len(sample)
        check = np.array([ref.get(i, np.inf) for i in range(net.n)])
        agree = np.allclose(dist, check, atol=1e-6) and np.allclose(dist, sp, atol=1e-6)
        print(f"{net.n:>9,} nodes  nearest facility: tomoni {ours_nf:6.3f} s  networkx {naive_nf:7.2f} s"
              f" (+{build:5.1f} s graph build)  ratio {naive_nf / ours_nf:6.1f}x  equal={agree}"
              f"  [scipy csgraph {scipy_nf:.3f} s]")
        print(f"{'':>15}catchments 1,000 × 800 m: tomoni {ours_c:6.3f} s ({len(src):,} node hits; "
              f"one core {one_c:.3f} s, identical={same})  "
              f"networkx ≈{naive_c:7.2f} s  ratio {naive_c / ours_c:6.1f}x")
        print(f"{'':>15}cache load {load:6.3f} s")
        if net.n >= 900_000:
            ok &= ours_nf <= 0.4 and naive_nf / ours_nf >= 30 and ours_c <= 0.05 and load <= 1.0
        ok &= agree and same
    print("floors:", "OK" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
