"""1,000,000 要配慮者 records → 500 m mesh counts with the k-rule (合算).

Compares, in the same run, the anonymiser (jismesh codes + bincount + merge of
small cells) with the naive GeoPandas way (points spatially joined to a grid of
mesh polygons, then a groupby — which does *not* even apply the k-rule).
Also reports reading the same records from a CSV file.

    .venv/bin/python benchmarks/bench_anonymise.py [--n 1000000]

Floor (issue "要配慮者 densities"): ≤ 3 s for 1M records.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from layers.vulnerable import Records, anonymise_mesh, read_records


def synthetic(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Records clustered like a prefecture's towns (Akita's bounding box)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform([139.8, 38.9], [140.9, 40.4], (400, 2))
    which = rng.integers(0, len(centres), n)
    spread = rng.uniform(0.005, 0.05, len(centres))[which]
    lon = centres[which, 0] + rng.normal(0, 1, n) * spread
    lat = centres[which, 1] + rng.normal(0, 1, n) * spread
    return np.round(lat, 6), np.round(lon, 6)


def naive(lat: np.ndarray, lon: np.ndarray) -> int:
    dlat, dlon = 1 / 240, 1 / 160
    s0, w0 = np.floor(lat.min() / dlat) * dlat, np.floor(lon.min() / dlon) * dlon
    rows = np.arange(s0, lat.max() + dlat, dlat)
    cols = np.arange(w0, lon.max() + dlon, dlon)
    ss, ww = np.meshgrid(rows, cols, indexing="ij")
    grid = gpd.GeoDataFrame({"cell": np.arange(ss.size)},
                            geometry=shapely.box(ww.ravel(), ss.ravel(), ww.ravel() + dlon,
                                                 ss.ravel() + dlat), crs="EPSG:4326")
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    joined = gpd.sjoin(pts, grid, predicate="within")
    return int(joined.groupby("cell").size().shape[0])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--skip-naive", action="store_true")
    args = ap.parse_args()
    lat, lon = synthetic(args.n)
    records = Records(lon=lon, lat=lat, category=None, mobility=None, n_read=args.n,
                      n_unlocated=0, dataset_id="bench")
    anonymise_mesh(records, size=500, k=args.k)  # warm-up (imports)
    t = time.perf_counter()
    out = anonymise_mesh(records, size=500, k=args.k)
    ours = time.perf_counter() - t
    s = out.attrs["summary"]
    print(f"tomoni anonymiser: {ours:6.2f} s  ({args.n:,} records → {s['units_published']:,} cells,"
          f" {s['units_absorbed']:,} small cells merged, min count {int(out['count'].min())})")
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "records.csv"
        csv.write_text("緯度,経度\n" + "\n".join(f"{a:.6f},{b:.6f}" for a, b in zip(lat, lon, strict=True)),
                       "utf-8")
        t = time.perf_counter()
        read_records(csv)
        read_s = time.perf_counter() - t
    print(f"reading the same records from CSV: {read_s:6.2f} s")
    if not args.skip_naive:
        t = time.perf_counter()
        cells = naive(lat, lon)
        naive_s = time.perf_counter() - t
        print(f"naive geopandas sjoin + groupby (no k-rule): {naive_s:6.2f} s  ({cells:,} cells)")
        print(f"ratio: {naive_s / ours:5.1f}x")
    ok = ours <= 3.0
    print(f"floor (≤ 3 s for {args.n:,} records): {'OK' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
