"""``tomoni roads`` on a generated regional extract, beside pyrosm and the naive way, in the same run.

The extract is shaped like a regional OSM file (Geofabrik's Tōhoku): a street grid with
curved roads (a vertex every ~30 m, road classes from trunk to service, one-way streets,
Japanese names), and far more building outlines than road nodes (closed ways tagged
``building``), every object with OSM metadata (versions, changesets, mappers, dates) and
ids with gaps, written as ``.osm.pbf`` by pyosmium.  Each region is a rectangle in the
middle of the extract with a boundary file, as a council has it.

Measured, each as the command a user runs (a fresh process, wall time and peak memory):

* ``tomoni roads REGION --from FILE`` the first time (read, clip, build, cache);
* ``tomoni roads REGION`` again (from the cache): the network's load time as the command
  reports it, and the whole command;
* pyrosm (``pip install -e '.[bench]'``) reading the same bounding box into its walking
  network, with its own result cache empty (a first read);
* the naive way (default size only), the path tomoni took before: every node and road
  way of the file copied to a temporary OSM XML, osmnx ``graph_from_xml`` (simplified)
  and the CSR arrays built from its graph — for the whole file, as it was never clipped.

    .venv/bin/python benchmarks/bench_roads_extract.py [--road-nodes 400000] [--buildings 150000]
    .venv/bin/python benchmarks/bench_roads_extract.py --tohoku [--keep DIR]

``--tohoku`` is the issue's scale: 3.5M road nodes and 4.5M buildings (21.5M nodes,
418 MB; about 5 minutes to generate, kept in ``--keep DIR`` for the next run), and three
regions: a municipality (1/100 of the area), a prefecture (1/6) and a 1M-node region (1/4).
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python")
CLASSES = ("trunk", "primary", "secondary", "tertiary", "residential", "residential", "unclassified",
           "service")
NAMES = ("国道7号", "県道56号", "中央通り", "駅前通り", "")


USERS = tuple(f"mapper{i}" for i in range(500))


def _meta(rng: np.random.Generator, n: int) -> Iterator[dict[str, Any]]:
    """OSM metadata as real objects carry it (versions, changesets, mappers, dates), made a
    million at a time."""
    for start in range(0, n, 1_000_000):
        yield from _meta_chunk(rng, min(1_000_000, n - start))


def _meta_chunk(rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    version = rng.integers(1, 6, n).tolist()
    changeset = rng.integers(1_000_000, 150_000_000, n).tolist()
    uid = rng.integers(0, len(USERS), n).tolist()
    epoch = datetime.datetime(2008, 1, 1, tzinfo=datetime.UTC)
    seconds = rng.integers(0, 18 * 365 * 86_400, n).tolist()
    return [{"version": v, "changeset": c, "uid": u + 1, "user": USERS[u],
             "timestamp": epoch + datetime.timedelta(seconds=t)}
            for v, c, u, t in zip(version, changeset, uid, seconds, strict=True)]


def write_extract(path: Path, *, road_nodes: int, buildings: int, seed: int = 0) -> tuple[float, ...]:
    """The generated extract (nodes first, then ways, each with OSM metadata, as Geofabrik
    writes them); returns its extent (west, south, east, north).  Coordinates are made
    with numpy; the only loop is pyosmium's writer, fed in chunks."""
    import osmium

    rng = np.random.default_rng(seed)
    lon0, lat0, step = 139.8, 38.5, 30.0 / 111_000.0  # a vertex every ~30 m
    per_road = 10  # vertices between junctions (~300 m blocks)
    side = max(4, int(np.sqrt(road_nodes / (2 * per_road))))
    extent = (lon0, lat0, lon0 + side * per_road * step, lat0 + side * per_road * step)
    ji, jj = (g.ravel() for g in np.meshgrid(np.arange(side), np.arange(side), indexing="ij"))
    # road segments between neighbouring junctions: along x (di=1) then along y (dj=1)
    along_x, along_y = np.flatnonzero(ji < side - 1), np.flatnonzero(jj < side - 1)
    a = np.concatenate([along_x, along_y])
    di = np.concatenate([np.ones(len(along_x)), np.zeros(len(along_y))])
    b = a + np.where(di == 1, side, 1)
    k = np.arange(1, per_road) / per_road
    bend = np.sin(k * np.pi)[None, :] * step * rng.uniform(-1.5, 1.5, (len(a), 1))
    ilon = lon0 + (ji[a][:, None] + di[:, None] * k) * per_road * step + bend * (1 - di)[:, None]
    ilat = lat0 + (jj[a][:, None] + (1 - di)[:, None] * k) * per_road * step + bend * di[:, None]
    n_j = side * side
    inner_ids = n_j + 1 + np.arange(len(a) * (per_road - 1)).reshape(len(a), per_road - 1)
    cx = rng.uniform(extent[0], extent[2], buildings)
    cy = rng.uniform(extent[1], extent[3], buildings)
    d = step / 3
    blon = np.stack([cx, cx + d, cx + d, cx], axis=1).ravel()
    blat = np.stack([cy, cy, cy + d, cy + d], axis=1).ravel()
    lon = np.concatenate([lon0 + ji * per_road * step, ilon.ravel(), blon])
    lat = np.concatenate([lat0 + jj * per_road * step, ilat.ravel(), blat])
    writer = osmium.SimpleWriter(str(path), overwrite=True)
    ids = np.cumsum(rng.integers(1, 40, len(lon)))  # real ids have gaps (deleted objects)
    node = osmium.osm.mutable.Node
    metas = _meta(rng, len(lon))
    for start in range(0, len(lon), 1_000_000):
        part = slice(start, start + 1_000_000)
        for i, x, y in zip(ids[part].tolist(), lon[part].tolist(), lat[part].tolist(), strict=True):
            writer.add_node(node(id=i, location=(x, y), **next(metas)))
    cls = rng.integers(len(CLASSES), size=len(a))
    names = rng.integers(len(NAMES), size=len(a))
    oneway = rng.random(len(a)) < 0.1
    way = osmium.osm.mutable.Way
    refs = ids[np.concatenate([a[:, None], inner_ids - 1, b[:, None]], axis=1)].tolist()
    metas = _meta(rng, len(a) + buildings)
    for w, (r, c, n, o) in enumerate(zip(refs, cls.tolist(), names.tolist(), oneway.tolist(), strict=True)):
        tags = {"highway": CLASSES[c]} | ({"name": NAMES[n]} if NAMES[n] else {})
        if o and CLASSES[c] == "residential":
            tags["oneway"] = "yes"
        writer.add_way(way(id=w + 1, nodes=r, tags=tags, **next(metas)))
    first = n_j + inner_ids.size + 1
    corners = ids[first - 1:].reshape(buildings, 4)
    for w, ring in enumerate(corners[:, [0, 1, 2, 3, 0]].tolist()):
        writer.add_way(way(id=len(a) + w + 1, nodes=ring, tags={"building": "yes"}, **next(metas)))
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


PYROSM = """
from pyrosm import OSM
nodes, edges = OSM({src!r}, bounding_box={bbox!r}).get_network(network_type="walking", nodes=True)
print(len(nodes))
"""


def has_pyrosm() -> bool:
    return subprocess.run([PY, "-c", "import pyrosm"], capture_output=True).returncode == 0


def grown_bbox(extent: tuple[float, ...], share: float, metres: float = 3000.0) -> list[float]:
    """The bounding box of :func:`region`'s rectangle grown by ``metres`` (the roads buffer)."""
    w, s, e, n = extent
    half = np.sqrt(share) / 2
    cx, cy = (w + e) / 2, (s + n) / 2
    dlat = metres / 111_000.0
    dlon = metres / (111_000.0 * np.cos(np.radians(cy)))
    return [float(v) for v in (cx - half * (e - w) - dlon, cy - half * (n - s) - dlat,
                               cx + half * (e - w) + dlon, cy + half * (n - s) + dlat)]


def the_extract(args: argparse.Namespace, folder: Path) -> tuple[Path, tuple[float, ...]]:
    """The generated extract (reused from ``--keep`` when it was made with the same sizes)."""
    keep = args.keep or folder
    keep.mkdir(parents=True, exist_ok=True)
    extract = keep / f"generated-{args.road_nodes}-{args.buildings}-latest.osm.pbf"
    facts = extract.with_suffix(".json")
    if extract.exists() and facts.exists():
        print(f"reusing {extract} ({extract.stat().st_size / 2**20:.0f} MB)")
        return extract, tuple(json.loads(facts.read_text())["extent"])
    t0 = time.perf_counter()
    extent = write_extract(extract, road_nodes=args.road_nodes, buildings=args.buildings)
    facts.write_text(json.dumps({"extent": extent}))
    print(f"generated {extract.stat().st_size / 2**20:.1f} MB PBF in {time.perf_counter() - t0:.0f} s")
    return extract, extent


def one_region(label: str, share: float, extract: Path, extent: tuple[float, ...], folder: Path,
               pyrosm: bool) -> None:
    """``tomoni roads`` first and again for a region of ``share`` of the extract, and pyrosm
    reading the same bounding box (when installed), each in a fresh process."""
    sub = folder / label
    sub.mkdir()
    toml = region(sub, extract, extent, share)
    env = {"TOMONI_CACHE_DIR": str(sub / "cache"), "PATH": "/usr/bin:/bin"}
    first_s, first_mb, out = timed(["roads", str(toml), "--from", str(extract)], env)
    nodes = json.loads(out)["nodes"]
    again_s, again_mb, out = timed(["roads", str(toml)], env)
    load_s = json.loads(out)["seconds"]
    print(f"[{label}, 1/{1 / share:.0f} of the area] tomoni roads, first build: {first_s:.1f} s, "
          f"peak {first_mb:.0f} MB, {nodes:,} nodes kept")
    print(f"[{label}] tomoni roads, later commands (from the cache): the network loaded in {load_s:.2f} s; "
          f"the whole command {again_s:.1f} s (process start and imports included), peak {again_mb:.0f} MB")
    if pyrosm:  # pyrosm keeps its results under $TMPDIR/pyrosm: a fresh folder for a first read
        code = PYROSM.format(src=str(extract), bbox=grown_bbox(extent, share))
        (sub / "tmp").mkdir()
        p_s, p_mb, out = timed([], env | {"TMPDIR": str(sub / "tmp")}, code=code)
        print(f"[{label}] pyrosm, the same bounding box (walking network): {p_s:.1f} s, peak {p_mb:.0f} MB, "
              f"{int(out.strip().splitlines()[-1]):,} nodes")
        print(f"[{label}] ratio tomoni first build / pyrosm: {first_s / p_s:.2f}× time, "
              f"{first_mb / p_mb:.2f}× memory")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--road-nodes", type=int, default=400_000)
    ap.add_argument("--buildings", type=int, default=150_000)
    ap.add_argument("--share", type=float, default=1 / 16, help="the region's share of the extract's area")
    ap.add_argument("--tohoku", action="store_true",
                    help="the issue's scale: 3.5M road nodes and 4.5M buildings (≥ 20M nodes, ≥ 150 MB); "
                    "a municipality (1/100), a prefecture (1/6) and a 1M-node region (1/4) beside "
                    "pyrosm; no naive run")
    ap.add_argument("--keep", type=Path, help="a folder where the generated extract is kept and reused")
    ap.add_argument("--no-naive", action="store_true")
    args = ap.parse_args()
    if args.tohoku:
        args.road_nodes, args.buildings, args.no_naive = 3_500_000, 4_500_000, True
    pyrosm = has_pyrosm()
    if not pyrosm:
        print("pyrosm is not installed: .venv/bin/pip install -e '.[bench]' to run it beside tomoni")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        extract, extent = the_extract(args, folder)
        scales = [("municipality", 1 / 100), ("prefecture", 1 / 6), ("1M-node region", 1 / 4)]
        for label, share in scales if args.tohoku else [("region", args.share)]:
            one_region(label, share, extract, extent, folder, pyrosm)
        if not args.no_naive:
            env = {"TOMONI_CACHE_DIR": str(folder / "naive-cache"), "PATH": "/usr/bin:/bin"}
            naive_s, naive_mb, out = timed([], env, code=NAIVE.format(root=str(ROOT), src=str(extract)))
            print(f"naive (temporary XML + osmnx, whole file): {naive_s:.1f} s, peak {naive_mb:.0f} MB, "
                  f"{int(out.strip()):,} nodes")


if __name__ == "__main__":
    main()
