"""``tomoni roads`` on a generated regional extract, beside the naive way, in the same run.

The extract is shaped like a regional OSM file (Geofabrik's Tōhoku): a street grid with
curved roads (a vertex every ~30 m, road classes from trunk to service, one-way streets,
Japanese names), and far more building outlines than road nodes (closed ways tagged
``building``), written as ``.osm.pbf`` by pyosmium.  The region is one municipality-sized
rectangle (1/16 of the extract by default) with a boundary file, as a council has it.

Measured, each as the command a user runs (a fresh process, wall time and peak memory):

* ``tomoni roads REGION --from FILE`` the first time (read, clip, build, cache);
* ``tomoni roads REGION`` again (from the cache);
* the naive way, the path tomoni took before: every node and road way of the file
  copied to a temporary OSM XML, osmnx ``graph_from_xml`` (simplified) and the CSR
  arrays built from its graph — for the whole file, as it was never clipped.

    .venv/bin/python benchmarks/bench_roads_extract.py [--road-nodes 400000] [--buildings 150000]

Prints each figure and the ratio naive / tomoni.  The issue's floors are stated for a
Tōhoku-sized file (≥ 20M nodes); this default is far smaller so that it runs in minutes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python")
CLASSES = ("trunk", "primary", "secondary", "tertiary", "residential", "residential", "unclassified",
           "service")
NAMES = ("国道7号", "県道56号", "中央通り", "駅前通り", "")


def write_extract(path: Path, *, road_nodes: int, buildings: int, seed: int = 0) -> tuple[float, ...]:
    """The generated extract; returns its extent (west, south, east, north)."""
    import osmium

    rng = np.random.default_rng(seed)
    lon0, lat0, step = 139.8, 38.5, 30.0 / 111_000.0  # a vertex every ~30 m
    per_road = 10  # vertices between junctions (~300 m blocks)
    side = max(4, int(np.sqrt(road_nodes / (2 * per_road))))
    writer = osmium.SimpleWriter(str(path))
    nid = 1

    def node(lon: float, lat: float, tags: dict[str, str] | None = None) -> int:
        nonlocal nid
        writer.add_node(osmium.osm.mutable.Node(id=nid, location=(lon, lat), tags=tags or {}))
        nid += 1
        return nid - 1

    junction = {}
    for i in range(side):
        for j in range(side):
            junction[i, j] = node(lon0 + i * per_road * step, lat0 + j * per_road * step)
    wid = 1
    ways = []
    for i in range(side):
        for j in range(side):
            for di, dj in ((1, 0), (0, 1)):
                if (i + di, j + dj) not in junction:
                    continue
                a, b = junction[i, j], junction[i + di, j + dj]
                inner = []
                for k in range(1, per_road):
                    bend = np.sin(k / per_road * np.pi) * step * rng.uniform(-1.5, 1.5)
                    lon = lon0 + (i + di * k / per_road) * per_road * step + (bend if dj else 0)
                    lat = lat0 + (j + dj * k / per_road) * per_road * step + (bend if di else 0)
                    inner.append(node(lon, lat))
                cls = CLASSES[int(rng.integers(len(CLASSES)))]
                tags = {"highway": cls}
                name = NAMES[int(rng.integers(len(NAMES)))]
                if name:
                    tags["name"] = name
                if cls == "residential" and rng.random() < 0.1:
                    tags["oneway"] = "yes"
                ways.append((wid, [a, *inner, b], tags))
                wid += 1
    extent = (lon0, lat0, lon0 + side * per_road * step, lat0 + side * per_road * step)
    for _ in range(buildings):
        x, y = rng.uniform(extent[0], extent[2]), rng.uniform(extent[1], extent[3])
        d = step / 3
        ring = [node(x, y), node(x + d, y), node(x + d, y + d), node(x, y + d)]
        ways.append((wid, [*ring, ring[0]], {"building": "yes"}))
        wid += 1
    for w, refs, tags in ways:
        writer.add_way(osmium.osm.mutable.Way(id=w, nodes=refs, tags=tags))
    writer.close()
    return extent


def region(folder: Path, extract: Path, extent: tuple[float, ...], share: float) -> Path:
    """A region (one boundary rectangle, ``share`` of the extract's area, in its middle)."""
    import geopandas as gpd
    import shapely

    w, s, e, n = extent
    half = np.sqrt(share) / 2
    cx, cy = (w + e) / 2, (s + n) / 2
    box = shapely.box(cx - half * (e - w), cy - half * (n - s), cx + half * (e - w), cy + half * (n - s))
    gpd.GeoDataFrame({"N03_001": ["秋田県"], "N03_004": ["試験市"], "N03_007": ["05201"]},
                     geometry=[box], crs="EPSG:4326").to_file(folder / "boundaries.geojson")
    toml = folder / "region.toml"
    toml.write_text(textwrap.dedent(f"""\
        [region]
        name = "抽出の試験"
        fictional = true
        [layers.boundaries]
        path = "boundaries.geojson"
        [roads]
        path = "{extract}"
        network = "walk"
        """), encoding="utf-8")
    return toml


PEAK = """
import resource, runpy, sys
sys.argv = {argv!r}
try:
    {body}
finally:
    print("PEAK_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def timed(argv: list[str], env: dict[str, str], *, code: str | None = None) -> tuple[float, float, str]:
    """(seconds, peak MB, stdout) of ``python -m geo ARGV`` (or ``code``) in a fresh process."""
    body = code.replace("\n", "\n    ") if code else "runpy.run_module('geo', run_name='__main__')"
    script = PEAK.format(argv=["geo", *argv], body=body)
    t0 = time.perf_counter()
    run = subprocess.run([PY, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT)
    seconds = time.perf_counter() - t0
    peak = [int(line.split()[1]) for line in run.stderr.splitlines() if line.startswith("PEAK_KB")]
    if run.returncode not in (0,) and "SystemExit: 0" not in run.stderr:
        raise SystemExit(f"command failed ({run.returncode}): {run.stderr[-2000:]}")
    return seconds, (peak[-1] / 1024 if peak else float("nan")), run.stdout


NAIVE = """
import sys, tempfile, time
from pathlib import Path
import osmium, osmnx as ox
sys.path.insert(0, {root!r})
from geo.engine.network import from_graph
from layers.roads import NOT_WALKABLE
src = Path({src!r})
with tempfile.TemporaryDirectory() as tmp:
    xml = Path(tmp) / "roads.osm"
    w = osmium.SimpleWriter(str(xml))
    for obj in osmium.FileProcessor(str(src), osmium.osm.NODE | osmium.osm.WAY):
        if isinstance(obj, osmium.osm.Way):
            hw = obj.tags.get("highway")
            if not hw or hw in NOT_WALKABLE:
                continue
        w.add(obj)
    w.close()
    g = ox.graph_from_xml(xml, bidirectional=True, simplify=True, retain_all=True)
net = from_graph(g, crs="EPSG:6678")
print(net.n)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--road-nodes", type=int, default=400_000)
    ap.add_argument("--buildings", type=int, default=150_000)
    ap.add_argument("--share", type=float, default=1 / 16, help="the region's share of the extract's area")
    ap.add_argument("--no-naive", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        extract = folder / "region-latest.osm.pbf"
        t0 = time.perf_counter()
        extent = write_extract(extract, road_nodes=args.road_nodes, buildings=args.buildings)
        print(f"generated {extract.stat().st_size / 2**20:.1f} MB PBF in {time.perf_counter() - t0:.0f} s")
        toml = region(folder, extract, extent, args.share)
        env = {"TOMONI_CACHE_DIR": str(folder / "cache"), "PATH": "/usr/bin:/bin"}
        tomoni = ["roads", str(toml)]
        first_s, first_mb, out = timed([*tomoni, "--from", str(extract)], env)
        facts = json.loads(out)
        again_s, again_mb, _ = timed(tomoni, env)
        print(f"tomoni roads, first build: {first_s:.1f} s, peak {first_mb:.0f} MB, "
              f"{facts['nodes']:,} nodes kept")
        print(f"tomoni roads, from the cache: {again_s:.1f} s, peak {again_mb:.0f} MB")
        if not args.no_naive:
            naive_s, naive_mb, out = timed([], env, code=NAIVE.format(root=str(ROOT), src=str(extract)))
            print(f"naive (temporary XML + osmnx, whole file): {naive_s:.1f} s, peak {naive_mb:.0f} MB, "
                  f"{int(out.strip()):,} nodes")
            print(f"ratio naive / tomoni first build: {naive_s / first_s:.1f}× time")


if __name__ == "__main__":
    main()
