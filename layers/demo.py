"""The fictional demo region (架空), generated deterministically from a seed.

``みずうみ地域（架空）``: three fictional municipalities around a lake and a
river in the plane-rectangular zone X (Akita).  Every layer is written as a
real file in the real format (N03-style GeoJSON, A27-style cp932 shapefiles,
GSI shelter CSVs one of them in cp932, 居場所 CSV, hazard GeoJSON, osmnx
GraphML walk and drive graphs) plus ``region.toml``, so the demo goes through
the same loaders as real data.  Nothing here is real: names, codes (05901–
05903 are not used by any municipality), roads and people are invented.

The synthetic 要配慮者 register extract (``private/vulnerable_records.csv``)
is an *input* for the anonymiser, like the extract a municipality hands over;
it never appears in any output.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import os
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from layers.atomic import atomic_write_bytes, atomic_write_text
from layers.crs import STORAGE_CRS, great_circle_m, transform_xy

__all__ = ["DEMO_CRS", "DEMO_NAME", "SEED", "ensure_demo", "generate_demo"]

log = logging.getLogger(__name__)

SEED = 20260401
DEMO_NAME = "みずうみ地域（架空）"
DEMO_CRS = "EPSG:6678"
ORIGIN_LONLAT = (140.33, 39.57)  # south-west corner of the fictional region
WIDTH, HEIGHT = 14_000.0, 11_000.0
STEP = 75.0  # lattice spacing in metres
PREF = "架空県"
MUNIS = (
    ("05901", "湖北市"),
    ("05902", "湖南町"),
    ("05903", "川東村"),
)
TOML_NAME = "region.toml"


@dataclass(frozen=True)
class Town:
    name: str
    x: float
    y: float
    r: float
    muni: str


TOWNS = (
    Town("本町", 9000.0, 7600.0, 2200.0, "05901"),
    Town("南台", 3300.0, 2900.0, 1450.0, "05902"),
    Town("川口", 11200.0, 1900.0, 1300.0, "05903"),
)
VILLAGE_NAMES = (
    "上野", "中村", "北沢", "西原", "大谷", "小森", "東山", "下田", "岩瀬", "田代", "松原", "高畑",
)
LAKE_CENTRE = (4000.0, 6600.0)
LAKE_AXES = (1800.0, 1150.0)
RIVER_POINTS = (
    (5750.0, 6450.0), (6600.0, 6250.0), (7400.0, 5600.0), (8400.0, 5000.0), (9600.0, 4700.0),
    (10800.0, 4100.0), (12000.0, 3700.0), (13200.0, 3300.0), (14100.0, 3200.0),
)
RIVER_HALF_WIDTH = 25.0
RAILWAY_POINTS = ((6000.0, 8900.0), (8000.0, 8200.0), (10000.0, 7700.0), (12000.0, 7400.0),
                  (14000.0, 7200.0))
"""みずうみ鉄道（架空）: level crossings only where a road crosses it; a barrier on foot."""
NICKNAMES = ("ひだまり", "なかよし", "えがお", "ほっと", "みんなの")


# ----------------------------------------------------------------------------- geometry


def _origin_xy() -> tuple[float, float]:
    x, y = transform_xy(np.array([ORIGIN_LONLAT[0]]), np.array([ORIGIN_LONLAT[1]]),
                        STORAGE_CRS, DEMO_CRS)
    return float(x[0]), float(y[0])


def _to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ox_, oy_ = _origin_xy()
    lon, lat = transform_xy(np.asarray(x) + ox_, np.asarray(y) + oy_, DEMO_CRS, STORAGE_CRS)
    return np.round(lon, 7), np.round(lat, 7)


def _geoms_to_lonlat(geoms: list[shapely.Geometry]) -> list[shapely.Geometry]:
    def tf(coords: np.ndarray) -> np.ndarray:
        lon, lat = _to_lonlat(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return [shapely.transform(g, tf) for g in geoms]


def _lake(rng: np.random.Generator) -> Polygon:
    t = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    wobble = 1 + 0.06 * np.sin(3 * t + 0.4) + 0.04 * np.cos(5 * t)
    x = LAKE_CENTRE[0] + LAKE_AXES[0] * np.cos(t) * wobble
    y = LAKE_CENTRE[1] + LAKE_AXES[1] * np.sin(t) * wobble
    return Polygon(np.column_stack([np.round(x, 1), np.round(y, 1)]))


def _river_line() -> LineString:
    return LineString(RIVER_POINTS)


def _municipalities(lake: Polygon) -> list[Polygon]:
    """North of the lake–river line: 湖北市; south of it, west/east: 湖南町, 川東村."""
    domain = box(0, 0, WIDTH, HEIGHT)
    divide = [(-10.0, LAKE_CENTRE[1]), (LAKE_CENTRE[0], LAKE_CENTRE[1]), *RIVER_POINTS]
    north_ring = [*divide, (WIDTH + 200, HEIGHT + 10), (-10.0, HEIGHT + 10)]
    north = Polygon(north_ring).intersection(domain)
    south = domain.difference(north)
    west = south.intersection(box(0, 0, 7600, HEIGHT))
    east = south.difference(box(0, 0, 7600, HEIGHT))
    return [_largest(north), _largest(west), _largest(east)]


def _largest(g: shapely.Geometry) -> Polygon:
    if g.geom_type == "Polygon":
        return shapely.set_precision(g, 0.1)
    parts = sorted(shapely.get_parts(g), key=lambda p: -p.area)
    return shapely.set_precision(parts[0], 0.1)


def _hills() -> list[Polygon]:
    return [
        Point(12600, 9600).buffer(1800, quad_segs=8),
        Point(900, 900).buffer(1500, quad_segs=8),
    ]


# ----------------------------------------------------------------------------- roads


@dataclass
class _Grid:
    """The demo's road lattice before jitter: which grid points are kept and what they are."""

    gx: np.ndarray
    gy: np.ndarray
    keep: np.ndarray
    town_of: np.ndarray
    in_hill: np.ndarray
    rural_row: np.ndarray
    rural_col: np.ndarray
    trunk_row: np.ndarray
    trunk_col: np.ndarray
    secondary_row: np.ndarray
    secondary_col: np.ndarray


def _grid(lake: Polygon, river: LineString, villages: list[tuple[str, float, float]]) -> _Grid:
    nx_, ny_ = int(WIDTH // STEP) + 1, int(HEIGHT // STEP) + 1
    ii, jj = np.meshgrid(np.arange(nx_), np.arange(ny_), indexing="ij")
    gx = ii * STEP
    gy = jj * STEP
    in_town = np.zeros_like(gx, dtype=bool)
    town_of = np.full(gx.shape, "", dtype=object)
    for t in TOWNS:
        m = np.hypot(gx - t.x, gy - t.y) <= t.r
        in_town |= m
        town_of[m & (town_of == "")] = t.name
    for name, vx, vy in villages:
        m = np.hypot(gx - vx, gy - vy) <= 330
        in_town |= m
        town_of[m & (town_of == "")] = name
    hills = shapely.union_all(_hills())
    pts = shapely.points(gx.ravel(), gy.ravel())
    in_hill = shapely.contains(hills, pts).reshape(gx.shape)
    rural_row = (jj % 8 == 0) & (~in_hill | (jj % 24 == 0))
    rural_col = (ii % 8 == 0) & (~in_hill | (ii % 24 == 0))
    trunk_col = ii == round(TOWNS[0].x / STEP)
    trunk_row = jj == round(TOWNS[1].y / STEP)
    water = shapely.union_all([lake, river.buffer(RIVER_HALF_WIDTH)])
    in_water = shapely.intersects(water, pts).reshape(gx.shape)
    keep = (in_town | rural_row | rural_col | trunk_col | trunk_row) & ~in_water
    return _Grid(gx=gx, gy=gy, keep=keep, town_of=town_of, in_hill=in_hill, rural_row=rural_row,
                 rural_col=rural_col, trunk_row=trunk_row, trunk_col=trunk_col,
                 secondary_row=jj % 24 == 12, secondary_col=ii % 24 == 12)


def _road_lattice(
    rng: np.random.Generator, lake: Polygon, river: LineString,
    villages: list[tuple[str, float, float]],
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, str, str, bool, bool]], list[str]]:
    """Nodes (x, y) and undirected edges (u, v, highway, name, bridge, footway_only)."""
    g = _grid(lake, river, villages)
    # node ids and jittered positions
    idx = np.full(g.gx.shape, -1, dtype=np.int64)
    kept = np.flatnonzero(g.keep.ravel())
    idx.ravel()[kept] = np.arange(len(kept))
    jitter = rng.uniform(-9.0, 9.0, size=(len(kept), 2))
    straight = (g.trunk_col | g.trunk_row | g.secondary_col | g.secondary_row).ravel()[kept]
    jitter[straight] *= 0.2
    xs = g.gx.ravel()[kept] + jitter[:, 0]
    ys = g.gy.ravel()[kept] + jitter[:, 1]
    edges = _grid_edges(g, idx, lake, river)
    water = shapely.union_all([lake, river.buffer(RIVER_HALF_WIDTH)])
    edges += _footpaths(g, idx, rng, water)
    return xs, ys, edges, [v[0] for v in villages]


def _classify(g: _Grid, names: dict[tuple[str, str, int], str], i: int, j: int, horizontal: bool
              ) -> tuple[str, str] | None:
    """(highway, name) of the grid edge leaving (i, j), or None when there is no road."""
    town = g.town_of[i, j]
    trunk, secondary, rural = ((g.trunk_row, g.secondary_row, g.rural_row) if horizontal
                               else (g.trunk_col, g.secondary_col, g.rural_col))
    along = j if horizontal else i
    if trunk[i, j]:
        return "trunk", "国道999号（架空）" if horizontal else "国道998号（架空）"
    if secondary[i, j] and g.keep[i, j]:
        return "secondary", f"県道{(100 if horizontal else 200) + along // 24}号線（架空）"
    if town:
        return "residential", names.get((town, "h" if horizontal else "v", along % 6), "")
    if rural[i, j]:
        return ("track" if g.in_hill[i, j] else "unclassified"), ""
    return None


def _grid_edges(g: _Grid, idx: np.ndarray, lake: Polygon, river: LineString
                ) -> list[tuple[int, int, str, str, bool, bool]]:
    """The lattice's streets: inside towns and along rural/arterial lines; only trunk and
    secondary roads bridge the river; nothing crosses the lake."""
    nx_, ny_ = g.gx.shape
    street_names = _street_names()
    segs: list[tuple[int, int, int, int, bool]] = []
    for di, dj, horizontal in ((1, 0, True), (0, 1, False)):
        a = g.keep[: nx_ - di, : ny_ - dj] & g.keep[di:, dj:]
        ai, aj = np.nonzero(a)
        for i, j in zip(ai.tolist(), aj.tolist(), strict=True):
            segs.append((i, j, i + di, j + dj, horizontal))
    lines = shapely.linestrings(
        [[(g.gx[a, b], g.gy[a, b]), (g.gx[c, d], g.gy[c, d])] for a, b, c, d, _ in segs]
    )
    hits_lake = shapely.intersects(lake, lines)
    hits_river = shapely.intersects(river.buffer(RIVER_HALF_WIDTH), lines)
    edges: list[tuple[int, int, str, str, bool, bool]] = []
    for (i, j, i2, j2, horizontal), lake_hit, river_hit in zip(
        segs, hits_lake.tolist(), hits_river.tolist(), strict=True
    ):
        if lake_hit:
            continue
        # an edge exists inside a town, or along a rural/arterial line
        same_line = (
            (horizontal and (g.rural_row[i, j] or g.trunk_row[i, j] or g.secondary_row[i, j]))
            or (not horizontal and (g.rural_col[i, j] or g.trunk_col[i, j] or g.secondary_col[i, j]))
        )
        both_town = bool(g.town_of[i, j]) and g.town_of[i, j] == g.town_of[i2, j2]
        if not (same_line or both_town):
            continue
        cls = _classify(g, street_names, i, j, horizontal)
        if cls is None:
            continue
        highway, name = cls
        bridge = bool(river_hit)
        if bridge and highway not in ("trunk", "secondary"):
            continue
        edges.append((int(idx[i, j]), int(idx[i2, j2]), highway, name, bridge, False))
    return edges


def _footpaths(g: _Grid, idx: np.ndarray, rng: np.random.Generator, water: shapely.Geometry
               ) -> list[tuple[int, int, str, str, bool, bool]]:
    """Footpaths across town blocks (walk network only)."""
    edges: list[tuple[int, int, str, str, bool, bool]] = []
    for t in TOWNS:
        cand = np.argwhere((g.town_of[:-1, :-1] == t.name) & g.keep[:-1, :-1] & g.keep[1:, 1:])
        pick = cand[rng.random(len(cand)) < 0.05]
        for i, j in pick.tolist():
            seg = LineString([(g.gx[i, j], g.gy[i, j]), (g.gx[i + 1, j + 1], g.gy[i + 1, j + 1])])
            if seg.intersects(water):
                continue
            edges.append((int(idx[i, j]), int(idx[i + 1, j + 1]), "footway", "", False, True))
    return edges


def _street_names() -> dict[tuple[str, str, int], str]:
    names: dict[tuple[str, str, int], str] = {}
    for t in TOWNS:
        names[(t.name, "h", 0)] = f"{t.name}通り"
        names[(t.name, "v", 0)] = f"{t.name}中央通り"
        names[(t.name, "h", 3)] = f"{t.name}駅前通り"
    return names


def _villages(
    rng: np.random.Generator, lake: Polygon, river: LineString
) -> list[tuple[str, float, float]]:
    out: list[tuple[str, float, float]] = []
    water = shapely.union_all([lake.buffer(400), river.buffer(300)])
    while len(out) < len(VILLAGE_NAMES):
        x = float(rng.uniform(600, WIDTH - 600))
        y = float(rng.uniform(600, HEIGHT - 600))
        p = Point(x, y)
        if p.intersects(water):
            continue
        if any(math.hypot(x - t.x, y - t.y) < t.r + 700 for t in TOWNS):
            continue
        if any(math.hypot(x - vx, y - vy) < 1500 for _, vx, vy in out):
            continue
        out.append((VILLAGE_NAMES[len(out)], round(x, 1), round(y, 1)))
    return out


def _build_graphs(
    xs: np.ndarray, ys: np.ndarray, edges: list[tuple[int, int, str, str, bool, bool]]
) -> tuple[nx.MultiDiGraph, nx.MultiDiGraph]:
    """osmnx-style walk and drive MultiDiGraphs (simplified)."""
    import osmnx as ox

    lon, lat = _to_lonlat(xs, ys)
    node_ids = 7_000_000_000 + np.arange(len(xs), dtype=np.int64)
    centre = TOWNS[0]
    ox_, oy_ = centre.x, centre.y

    def make(network: str) -> nx.MultiDiGraph:
        g = nx.MultiDiGraph(crs="epsg:4326", created_with="tomoni-map demo (架空)")
        used: set[int] = set()
        for u, v, *_, foot in edges:
            if foot and network == "drive":
                continue
            used.update((u, v))
        for n in sorted(used):
            g.add_node(int(node_ids[n]), x=float(lon[n]), y=float(lat[n]))
        for k, (u, v, highway, name, bridge, foot) in enumerate(edges):
            if foot and network == "drive":
                continue
            length = float(np.round(great_circle_m(lon[u], lat[u], lon[v], lat[v]), 3))
            attrs: dict[str, object] = {
                "osmid": int(900_000_000 + k),
                "highway": highway,
                "length": length,
                "reversed": False,
            }
            if name:
                attrs["name"] = name
            if bridge:
                attrs["bridge"] = "yes"
            if highway == "trunk":
                attrs["maxspeed"] = "50"
                attrs["lanes"] = "2"
            a, b = int(node_ids[u]), int(node_ids[v])
            # one-way streets in the old town centre (drive only)
            horizontal = abs(ys[u] - ys[v]) < abs(xs[u] - xs[v])
            row = round(ys[u] / STEP)
            central = math.hypot(xs[u] - ox_, ys[u] - oy_) < 700
            oneway = (
                network == "drive" and highway == "residential" and horizontal and central
                and row % 2 == 1
            )
            if oneway:
                if (row % 4 == 1 and xs[u] > xs[v]) or (row % 4 == 3 and xs[u] < xs[v]):
                    a, b = b, a
                g.add_edge(a, b, key=0, **{**attrs, "oneway": True})
            else:
                g.add_edge(a, b, key=0, **{**attrs, "oneway": False})
                g.add_edge(b, a, key=0, **{**attrs, "oneway": False, "reversed": True})
        g = ox.truncate.largest_component(g, strongly=network == "drive")
        g = ox.simplify_graph(g)
        return _stable(g)

    return make("walk"), make("drive")


def _stable(g: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Copy with nodes and edges in sorted order so the GraphML is byte-stable."""
    out = nx.MultiDiGraph()
    out.graph.update(g.graph)
    for n in sorted(g.nodes):
        out.add_node(n, **g.nodes[n])
    for u, v, k in sorted(g.edges(keys=True)):
        data = dict(g.edges[u, v, k])
        out.add_edge(u, v, key=k, **data)
    return out


# ----------------------------------------------------------------------------- layers


def _voronoi_cells(
    seeds: np.ndarray, clip: shapely.Geometry
) -> list[shapely.Geometry]:
    vor = shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=clip.envelope.buffer(5000))
    parts = shapely.get_parts(vor)
    tree = shapely.STRtree(parts)
    pi, ci = tree.query(shapely.points(seeds), predicate="intersects")
    first: dict[int, int] = {}
    for p, c in zip(pi.tolist(), ci.tolist(), strict=True):
        first.setdefault(p, c)
    return [shapely.set_precision(parts[first[i]].intersection(clip), 0.1)
            for i in range(len(seeds))]


def _sample_land(
    rng: np.random.Generator, n: int, region: shapely.Geometry, avoid: shapely.Geometry,
    centre: tuple[float, float] | None = None, spread: float = 0.0,
) -> np.ndarray:
    out: list[tuple[float, float]] = []
    minx, miny, maxx, maxy = region.bounds
    tries = 0
    while len(out) < n:
        tries += 1
        if centre is not None:
            x = float(rng.normal(centre[0], spread))
            y = float(rng.normal(centre[1], spread))
        else:
            x = float(rng.uniform(minx, maxx))
            y = float(rng.uniform(miny, maxy))
        p = Point(x, y)
        if region.contains(p) and not avoid.contains(p):
            out.append((round(x, 1), round(y, 1)))
        if tries > 100_000:  # pragma: no cover - guards a bad seed
            raise RuntimeError("demo generator could not place points")
    return np.array(out)


def _write_geojson(gdf: gpd.GeoDataFrame, path: Path) -> None:
    text = gdf.to_json(drop_id=True, ensure_ascii=False, to_wgs84=False)
    atomic_write_text(path, text + "\n")


def _write_csv(rows: Sequence[Mapping[str, object]], columns: list[str], path: Path, *,
               encoding: str) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\r\n")
    w.writeheader()
    for r in rows:
        w.writerow({c: r.get(c, "") for c in columns})
    atomic_write_bytes(path, buf.getvalue().encode(encoding))


def _write_shapefile_cp932(gdf: gpd.GeoDataFrame, path: Path, *, zipped: bool) -> None:
    """Write an old-style 国土数値情報 shapefile: cp932 attributes, no .cpg."""
    with tempfile.TemporaryDirectory(prefix="tomoni-shp-") as tmp:
        shp = Path(tmp) / (path.stem + ".shp")
        gdf.to_file(shp, driver="ESRI Shapefile", encoding="cp932", engine="pyogrio")
        cpg = shp.with_suffix(".cpg")
        if cpg.exists():
            cpg.unlink()
        parts = sorted(Path(tmp).iterdir())
        if zipped:
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                for p in parts:
                    info = zipfile.ZipInfo(f"{path.stem}/{p.name}", date_time=(2023, 4, 1, 0, 0, 0))
                    info.compress_type = zipfile.ZIP_DEFLATED
                    zf.writestr(info, p.read_bytes())
            atomic_write_bytes(path, buf.getvalue())
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            for p in parts:
                atomic_write_bytes(path.parent / p.name, p.read_bytes())


def generate_demo(out: str | Path, *, seed: int = SEED) -> Path:
    """Write the fictional demo region into ``out`` and return its ``region.toml``.

    The same seed gives byte-identical files on every run and machine (all
    coordinates are rounded; no timestamps are written).  Files are written to a
    temporary folder first and moved in place at the end.  One stage per layer, in
    this order (the random numbers are drawn in it, so the order is part of the output).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    w = _world(seed)
    with tempfile.TemporaryDirectory(prefix=".demo-", dir=out) as tmp_s:
        tmp = Path(tmp_s)
        for stage in (_demo_boundaries, _demo_roads, _demo_school_districts, _demo_jichikai,
                      _demo_hazards, _demo_barriers, _demo_shelters, _demo_places, _demo_vc_sites,
                      _demo_machiaza, _demo_winter, _demo_projection, _demo_vc_day, _demo_bus):
            stage(w, tmp)
        # --- synthetic 要配慮者 register extract (input of the anonymiser only)
        _write_records(w.rng, w.land, w.water, w.villages, tmp / "private" / "vulnerable_records.csv")
        atomic_write_text(tmp / TOML_NAME, _region_toml())
        atomic_write_text(tmp / "README.txt", _readme())
        _move_into(tmp, out)
    log.info("demo region written to %s", out)
    return out / TOML_NAME


@dataclass
class _World:
    """The demo's geography, shared by the stages (``rng`` is drawn from in stage order)."""

    seed: int
    rng: np.random.Generator
    lake: shapely.Geometry
    river: shapely.Geometry
    river_area: shapely.Geometry
    water: shapely.Geometry
    munis: list[shapely.Geometry]
    land: list[shapely.Geometry]
    villages: list[tuple[str, float, float]] = field(default_factory=list)
    village_names: list[str] = field(default_factory=list)
    flood_r1: shapely.Geometry = None
    flood_r2: shapely.Geometry = None
    flood_r3: shapely.Geometry = None
    flood_all: shapely.Geometry = None
    roads: Any = None
    """(x, y, edges) of the road lattice (:func:`_road_lattice`)."""


def _world(seed: int) -> _World:
    rng = np.random.default_rng(seed)
    lake = _lake(rng)
    river = _river_line()
    river_area = river.buffer(RIVER_HALF_WIDTH)
    water = shapely.union_all([lake, river_area])
    munis = _municipalities(lake)
    return _World(seed=seed, rng=rng, lake=lake, river=river, river_area=river_area, water=water,
                  munis=munis, land=[m.difference(water) for m in munis])


def _demo_winter(w: _World, tmp: Path) -> None:
    """Winter (no random draw: the register after it stays the same): the hill tracks
    are 冬期閉鎖 from 12-01 to 04-20, and the 県道 lines are 除雪優先 routes (lines);
    the 国道 are 除雪優先 by name in the TOML."""
    xs, ys, edges = w.roads

    def lines(keep: Any) -> list[shapely.Geometry]:
        segs = [shapely.LineString([(xs[u], ys[u]), (xs[v], ys[v])]) for u, v, hw, name, *_ in edges
                if keep(hw, name)]
        merged = shapely.line_merge(shapely.union_all(segs))
        return list(getattr(merged, "geoms", [merged]))

    closed = lines(lambda hw, name: hw == "track")
    _write_geojson(gpd.GeoDataFrame(
        {"路線名": [f"林道 東山{i + 1}号線（架空）" for i in range(len(closed))],
         "区間": "山あい", "開始": "12-01", "終了": "04-20"},
        geometry=_geoms_to_lonlat(closed), crs=STORAGE_CRS), tmp / "toki_heisa.geojson")
    # and one section as road administrators publish them: a table, placed by its two 町字
    towns = [r["town"] for r in json.loads((tmp / "machiaza" / "川東村.json").read_text("utf-8"))]
    (tmp / "toki_heisa_hyou.csv").write_text(
        "路線名,市町村,区間,開始,終了\r\n"
        f"村道 北沢田代線（架空）,川東村,{towns[1]}〜{towns[2]},12月1日,3月31日\r\n", encoding="cp932")
    prio = lines(lambda hw, name: hw == "secondary")
    _write_geojson(gpd.GeoDataFrame({"路線名": ["県道（架空）除雪優先路線"] * len(prio)},
                                    geometry=_geoms_to_lonlat(prio), crs=STORAGE_CRS),
                   tmp / "josetsu_yusen.geojson")


PROJECTION_YEARS = tuple(range(2020, 2055, 5))


def _demo_projection(w: _World, tmp: Path) -> None:
    """A fictional 500 m mesh projection in the 国土数値情報 layout (MESH_ID, PTN/PTA/PTB/
    PTC/PTD/PTE_YYYY; the bands add up): people around the towns and villages, fewer every
    five years, older; the villages empty faster than the towns.  Its own random numbers:
    the register drawn after it stays the same."""
    from layers.mesh import cell_boxes, cell_codes, cells_covering

    rng = np.random.default_rng(w.seed + 7)
    land = shapely.union_all(_geoms_to_lonlat(w.land))
    rows, cols = cells_covering(land, 4)
    boxes = cell_boxes(rows, cols, 4)
    cx, cy = shapely.get_x(shapely.centroid(boxes)), shapely.get_y(shapely.centroid(boxes))
    places = [(t.x, t.y, 2.0) for t in TOWNS] + [(x, y, 0.6) for _n, x, y in w.villages]
    px, py = _to_lonlat(np.array([p[0] for p in places]), np.array([p[1] for p in places]))
    weight = np.array([p[2] for p in places])
    # metres from each cell to each place (a flat approximation is plenty for fiction)
    dx = (cx[:, None] - px[None, :]) * 111_320 * np.cos(np.radians(39.6))
    dy = (cy[:, None] - py[None, :]) * 110_950
    near = np.hypot(dx, dy)
    base = (weight[None, :] * 260 * np.exp(-near / 900)).sum(axis=1) + rng.uniform(0, 4, len(cx))
    town = np.exp(-np.min(np.hypot(dx, dy)[:, : len(TOWNS)], axis=1) / 1500)  # 1 in a town, → 0 away
    data: dict[str, Any] = {"MESH_ID": cell_codes(rows, cols, 4).astype(str)}
    for y in PROJECTION_YEARS:
        t = (y - 2020) / 30
        total = np.round(base * (1 - t * (0.45 - 0.2 * town)), 1)
        old = np.round(total * (0.40 + 0.15 * t - 0.05 * town), 1)
        young = np.round(total * (0.10 - 0.03 * t), 1)
        data |= {f"PTN_{y}": total, f"PTA_{y}": young, f"PTB_{y}": np.round(total - young - old, 1),
                 f"PTC_{y}": old, f"PTD_{y}": np.round(old * 0.58, 1), f"PTE_{y}": np.round(old * 0.38, 1)}
    _write_geojson(gpd.GeoDataFrame(data, geometry=list(boxes), crs=STORAGE_CRS),
                   tmp / "mesh500_projection.geojson")


def _demo_boundaries(w: _World, tmp: Path) -> None:
    """Municipal boundaries in the N03 layout (GeoJSON)."""
    bnd = gpd.GeoDataFrame(
        {
            "N03_001": [PREF] * 3,
            "N03_002": [None] * 3,
            "N03_003": [None, "湖南郡", "湖南郡"],
            "N03_004": [m[1] for m in MUNIS],
            "N03_007": [m[0] for m in MUNIS],
        },
        geometry=_geoms_to_lonlat(w.munis),
        crs=STORAGE_CRS,
    )
    _write_geojson(bnd, tmp / "boundaries_n03.geojson")


def _demo_roads(w: _World, tmp: Path) -> None:
    """The walk and drive road graphs (GraphML, as osmnx saves them)."""
    import osmnx as ox

    w.villages = _villages(np.random.default_rng(w.seed + 1), w.lake, w.river)
    xs, ys, edges, w.village_names = _road_lattice(w.rng, w.lake, w.river, w.villages)
    w.roads = (xs, ys, edges)
    walk, drive = _build_graphs(xs, ys, edges)
    ox.save_graphml(walk, tmp / "roads_walk.graphml")
    ox.save_graphml(drive, tmp / "roads_drive.graphml")


def _a27_row(code: str, school: tuple[str, str, float, float, bool], serial: int, address: str
             ) -> dict[str, Any]:
    """One 校区 row in the 国土数値情報 A27 layout (with the school's own position)."""
    slon, slat = _to_lonlat(np.array([school[2]]), np.array([school[3]]))
    return {"A27_001": code, "A27_002": school[1].split("立")[0] + "立",
            "A27_003": f"B1{code}{serial:03d}", "A27_004": school[1], "A27_005": address,
            "学校緯度": float(slat[0]), "学校経度": float(slon[0])}


def _demo_school_districts(w: _World, tmp: Path) -> None:
    """Schools and 校区 before/after the consolidation (KSJ A27 shapefiles, cp932)."""
    schools = [
        ("05901", "湖北市立本町小学校", 8600.0, 8200.0, True),
        ("05901", "湖北市立みなと小学校", 9400.0, 6500.0, False),
        ("05901", "湖北市立東山小学校", 12300.0, 8200.0, False),
        ("05902", "湖南町立南台小学校", 3300.0, 3000.0, True),
        ("05902", "湖南町立西原小学校", 1300.0, 4700.0, False),
        ("05903", "川東村立川口小学校", 11100.0, 2000.0, True),
        ("05903", "川東村立上野小学校", 8600.0, 2600.0, False),
    ]
    before_rows, before_geoms, after_rows, after_geoms = [], [], [], []
    for k, (code, _name) in enumerate(MUNIS):
        sel = [s for s in schools if s[0] == code]
        cells = _voronoi_cells(np.array([(s[2], s[3]) for s in sel]), w.land[k])
        for n, (s, cell) in enumerate(zip(sel, cells, strict=True)):
            before_rows.append(_a27_row(code, s, n + 1, f"{PREF}{_name}{s[1][len(_name) + 1:-3]}1-1"))
            before_geoms.append(cell)
        kept = [s for s in sel if s[4]]
        if code == "05901":  # 湖北市 keeps two schools: みなと merges into 本町
            kept = [sel[0], sel[2]]
        kcells = _voronoi_cells(np.array([(s[2], s[3]) for s in kept]), w.land[k])
        for s, cell in zip(kept, kcells, strict=True):
            after_rows.append(_a27_row(code, s, schools.index(s) + 1, f"{PREF}{_name}1-1"))
            after_geoms.append(cell)
    before = gpd.GeoDataFrame(before_rows, geometry=_geoms_to_lonlat(before_geoms),
                              crs=STORAGE_CRS)
    after = gpd.GeoDataFrame(after_rows, geometry=_geoms_to_lonlat(after_geoms),
                             crs=STORAGE_CRS)
    _write_shapefile_cp932(before, tmp / "A27-16_059_before.zip", zipped=True)
    _write_shapefile_cp932(after, tmp / "A27-23_059_after" / "A27-23_059.shp", zipped=False)


def _demo_jichikai(w: _World, tmp: Path) -> None:
    """About 60 自治会 areas, denser in the towns."""
    jrows, jgeoms = [], []
    serial = 0
    for k, (code, _mname) in enumerate(MUNIS):
        towns = [t for t in TOWNS if t.muni == code]
        seeds_parts = []
        for t in towns:
            n_t = 14 if t is TOWNS[0] else 9
            region_t = w.land[k].intersection(Point(t.x, t.y).buffer(t.r))
            seeds_parts.append(_sample_land(w.rng, n_t, region_t, w.water))
        n_rural = {"05901": 11, "05902": 9, "05903": 9}[code]
        seeds_parts.append(_sample_land(w.rng, n_rural, w.land[k], w.water))
        seeds = np.vstack(seeds_parts)
        cells = _voronoi_cells(seeds, w.land[k])
        for n, (seed_xy, cell) in enumerate(zip(seeds, cells, strict=True)):
            serial += 1
            town = next((t.name for t in towns
                         if math.hypot(seed_xy[0] - t.x, seed_xy[1] - t.y) < t.r), None)
            label = f"{town}{_kanji_number(n + 1)}区自治会" if town else (
                f"{w.village_names[serial % len(w.village_names)]}{_kanji_number(n + 1)}区町内会"
            )
            jrows.append({"自治会コード": f"J{code}-{n + 1:03d}", "自治会名": label,
                          "市町村コード": code})
            jgeoms.append(cell)
    jichikai = gpd.GeoDataFrame(jrows, geometry=_geoms_to_lonlat(jgeoms), crs=STORAGE_CRS)
    _write_geojson(jichikai, tmp / "jichikai.geojson")


def _demo_hazards(w: _World, tmp: Path) -> None:
    """Flood zones along the river and lake shore, landslide zones in the hills."""
    w.flood_r3 = w.river.buffer(220).union(w.lake.buffer(120)).difference(w.water)
    w.flood_r2 = w.river.buffer(480).union(w.lake.buffer(300)).difference(w.water).difference(w.flood_r3)
    w.flood_r1 = (
        w.river.buffer(750).union(w.lake.buffer(450)).difference(w.water)
        .difference(w.flood_r3).difference(w.flood_r2)
    )
    domain = box(0, 0, WIDTH, HEIGHT)
    hz_rows, hz_geoms = [], []
    for rank, g in ((3, w.flood_r3), (2, w.flood_r2), (1, w.flood_r1)):
        hz_rows.append({"種別": "洪水", "ランク": rank, "名称": f"みずうみ川 浸水想定 ランク{rank}"})
        hz_geoms.append(shapely.set_precision(g.intersection(domain), 0.1))
    for n, (cx, cy, rx, ry) in enumerate(
        [(12200, 9300, 500, 260), (13300, 10100, 380, 300), (11600, 10200, 300, 220),
         (800, 1300, 420, 260), (1500, 600, 300, 240)], start=1):
        ang = np.linspace(0, 2 * np.pi, 36, endpoint=False)
        ell = Polygon(np.column_stack([cx + rx * np.cos(ang), cy + ry * np.sin(ang)]))
        hz_rows.append({"種別": "土砂災害", "ランク": 2 if n % 2 else 1,
                        "名称": f"急傾斜地 警戒区域 {n}"})
        hz_geoms.append(shapely.set_precision(ell, 0.1))
    hazards = gpd.GeoDataFrame(hz_rows, geometry=_geoms_to_lonlat(hz_geoms), crs=STORAGE_CRS)
    _write_geojson(hazards, tmp / "hazards.geojson")
    w.flood_all = shapely.union_all([w.flood_r1, w.flood_r2, w.flood_r3])


def _demo_barriers(w: _World, tmp: Path) -> None:
    """Barriers to walking access: the lake, the river, the railway."""
    barriers = gpd.GeoDataFrame(
        {"種別": ["水面", "河川", "鉄道"], "名称": ["みずうみ", "みずうみ川", "みずうみ鉄道（架空）"]},
        geometry=_geoms_to_lonlat([w.lake, w.river_area, LineString(RAILWAY_POINTS)]),
        crs=STORAGE_CRS)
    _write_geojson(barriers, tmp / "barriers.geojson")


def _demo_shelters(w: _World, tmp: Path) -> None:
    """About 26 emergency sites (UTF-8 BOM, merged layout) and about 16 指定避難所 (cp932,
    per-municipality layout) in the GSI layouts."""
    serials = {c: 0 for c, _ in MUNIS}
    site_rows = _emergency_sites(w, serials)
    shel_rows = _designated_shelters(w, site_rows, serials)
    site_cols = ["NO", "共通ID", "都道府県名及び市町村名", "施設・場所名", "住所", "洪水",
                 "崖崩れ、土石流及び地滑り", "高潮", "地震", "津波", "大規模な火事", "内水氾濫",
                 "火山現象", "指定避難所との住所同一", "緯度", "経度", "備考"]
    shel_cols = ["NO", "共通ID", "施設・場所名", "住所", "指定緊急避難場所との住所同一",
                 "その他市町村長が必要と認める事項", "受入対象者", "緯度", "経度", "備考",
                 "想定収容人数"]
    _write_csv(site_rows, site_cols, tmp / "gsi_emergency_sites.csv", encoding="utf-8-sig")
    _write_csv(shel_rows, shel_cols, tmp / "gsi_evacuation_shelters_cp932.csv",
               encoding="cp932")


def _emergency_sites(w: _World, serials: dict[str, int]) -> list[dict[str, Any]]:
    """指定緊急避難場所 rows: designated per hazard; one sits in the flood zone."""
    site_rows = []
    places_for_sites: list[tuple[str, str, float, float, str]] = []
    for k, (code, mname) in enumerate(MUNIS):
        towns = [t for t in TOWNS if t.muni == code]
        n_sites = {"05901": 11, "05902": 8, "05903": 7}[code]
        pts_town = _sample_land(w.rng, n_sites - 3, w.land[k], w.water,
                                centre=(towns[0].x, towns[0].y), spread=towns[0].r * 0.6)
        pts_rural = _sample_land(w.rng, 3, w.land[k], w.water)
        for n, (x, y) in enumerate(np.vstack([pts_town, pts_rural])):
            kind = ("小学校グラウンド", "公園", "体育館", "公民館", "コミュニティセンター")[n % 5]
            places_for_sites.append((code, mname, float(x), float(y), kind))
    # make sure one site sits inside the flood zone: designated for floods (its upper
    # floor) yet in the zone, so unusable in a flood scenario
    fz_pt = w.flood_r3.representative_point()
    places_for_sites[1] = (MUNIS[0][0], MUNIS[0][1], round(fz_pt.x, 1), round(fz_pt.y, 1),
                           "水防センター")
    site_lon, site_lat = _to_lonlat(np.array([p[2] for p in places_for_sites]),
                                    np.array([p[3] for p in places_for_sites]))
    no = 14000
    hills = shapely.union_all(_hills())
    for n, (code, mname, x, y, kind) in enumerate(places_for_sites):
        serials[code] += 1
        p = Point(x, y)
        in_flood = w.flood_all.contains(p)
        in_hill = hills.contains(p)
        area = _area_name(x, y, w.villages)
        nm = f"{area}{kind}"
        flags = {
            "洪水": ("1" if kind == "水防センター" else "") if in_flood
            else ("1" if w.rng.random() < 0.8 else ""),
            "崖崩れ、土石流及び地滑り": "" if in_hill else "1",
            "高潮": "",
            "地震": "1",
            "津波": "",
            "大規模な火事": "1" if kind in ("公園", "小学校グラウンド", "河川公園") else "",
            "内水氾濫": "" if in_flood else ("1" if w.rng.random() < 0.6 else ""),
            "火山現象": "",
        }
        same = "1" if kind in ("体育館", "公民館", "コミュニティセンター") else ""
        site_rows.append({
            "NO": no + n, "共通ID": f"E{code}{serials[code]:05d}201",
            "都道府県名及び市町村名": f"{PREF}{mname}", "施設・場所名": nm,
            "住所": f"{PREF}{mname}{area}{n + 1}-{(n * 7) % 20 + 1}",
            **flags, "指定避難所との住所同一": same,
            "緯度": f"{site_lat[n]:.6f}", "経度": f"{site_lon[n]:.6f}", "備考": "",
        })
    return site_rows


def _designated_shelters(w: _World, site_rows: list[dict[str, Any]], serials: dict[str, int]
                         ) -> list[dict[str, Any]]:
    """指定避難所 rows: the indoor sites (same address) plus welfare shelters."""
    shel_rows: list[dict[str, Any]] = []
    no = 10400
    for n, r in enumerate([r for r in site_rows if r["指定避難所との住所同一"] == "1"]):
        code = str(r["共通ID"])[1:6]
        shel_rows.append({
            "NO": no + n, "共通ID": str(r["共通ID"])[:11] + "111",
            "施設・場所名": r["施設・場所名"], "住所": r["住所"],
            "指定緊急避難場所との住所同一": "1", "その他市町村長が必要と認める事項": "",
            "受入対象者": "", "緯度": r["緯度"], "経度": r["経度"], "備考": "",
            "想定収容人数": int(w.rng.integers(8, 40)) * 10,
        })
    for k, (code, mname) in enumerate(MUNIS):
        t = next(t for t in TOWNS if t.muni == code)
        for m in range(2 if code != "05901" else 3):
            x, y = _sample_land(w.rng, 1, w.land[k], w.water, centre=(t.x, t.y), spread=600)[0]
            lon, lat = _to_lonlat(np.array([x]), np.array([y]))
            serials[code] += 1
            shel_rows.append({
                "NO": no + len(shel_rows), "共通ID": f"E{code}{serials[code]:05d}121",
                "施設・場所名": f"{t.name}{('さくら', 'ひまわり', 'あおば')[m]}苑（福祉避難所）",
                "住所": f"{PREF}{mname}{t.name}{m + 3}-1",
                "指定緊急避難場所との住所同一": "", "その他市町村長が必要と認める事項": "",
                "受入対象者": "要配慮者（高齢者）" if m != 1 else "要介護者、障害者及びその家族",
                "緯度": f"{lat[0]:.6f}", "経度": f"{lon[0]:.6f}", "備考": "",
                "想定収容人数": int(w.rng.integers(2, 6)) * 10,
            })
    return shel_rows


def _demo_places(w: _World, tmp: Path) -> None:
    """About 25 居場所, mostly in the towns so that rural areas show gaps."""
    kinds = ("サロン", "通いの場", "子ども食堂", "認知症カフェ", "地域食堂")
    days = ("月・木", "火", "水・金", "毎週土", "第1・第3水", "月〜金")
    place_rows = []
    pid = 0
    for k, (code, mname) in enumerate(MUNIS):
        t = next(t for t in TOWNS if t.muni == code)
        n_town = {"05901": 9, "05902": 6, "05903": 5}[code]
        pts = np.vstack([
            _sample_land(w.rng, n_town, w.land[k], w.water, centre=(t.x, t.y), spread=t.r * 0.5),
            _sample_land(w.rng, 2 if code != "05903" else 1, w.land[k], w.water),
        ])
        lon, lat = _to_lonlat(pts[:, 0], pts[:, 1])
        for n, (x, y) in enumerate(pts):
            pid += 1
            area = _area_name(float(x), float(y), w.villages)
            kind = kinds[(pid * 3) % len(kinds)]
            place_rows.append({
                "番号": f"IB{pid:03d}", "名称": f"{area}{kind}{NICKNAMES[pid % 5]}",
                "種別": kind, "定員": int(w.rng.integers(1, 5)) * 10,
                "開催日": days[pid % len(days)], "住所": f"{PREF}{mname}{area}{n + 2}-3",
                "緯度": f"{lat[n]:.6f}", "経度": f"{lon[n]:.6f}",
            })
    _write_csv(place_rows, ["番号", "名称", "種別", "定員", "開催日", "住所", "緯度", "経度"],
               tmp / "ibasho.csv", encoding="utf-8-sig")
    # the same list as a council keeps it: addresses, no coordinates (to try 住所 → 位置)
    _write_csv(place_rows, ["番号", "名称", "種別", "定員", "開催日", "住所"],
               tmp / "samples" / "ibasho_addresses.csv", encoding="cp932")


def _demo_machiaza(w: _World, tmp: Path) -> None:
    """町字 reference points in the japanese-addresses layout, one file per municipality:
    each town and each village as a 大字 (the demo's addresses carry no 丁目).  Drawn from
    the geography alone (no random numbers: the stages before keep their output)."""
    by_muni: dict[str, list[dict[str, object]]] = {code: [] for code, _ in MUNIS}

    def add(code: str, town: str, x: float, y: float) -> None:
        lon, lat = _to_lonlat(np.array([x]), np.array([y]))
        by_muni[code].append({"town": town, "koaza": "", "lat": round(float(lat[0]), 6),
                              "lng": round(float(lon[0]), 6)})

    for t in TOWNS:
        add(t.muni, t.name, t.x, t.y)
    for name, x, y in w.villages:
        k = next((i for i, g in enumerate(w.munis) if g.contains(Point(x, y))), 0)
        add(MUNIS[k][0], name, x, y)
    for code, mname in MUNIS:
        path = tmp / "machiaza" / f"{mname}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(by_muni[code], ensure_ascii=False, indent=0) + "\n")


def _demo_vc_sites(w: _World, tmp: Path) -> None:
    """災害VC candidates: the 湖北市 first choice sits by the river (flooded)."""
    vc_pts = [
        ("VC01", "湖北市社会福祉協議会（本町）", "05901", 1,
         tuple(w.flood_r2.intersection(Point(TOWNS[0].x, TOWNS[0].y).buffer(2500))
               .representative_point().coords[0])),
        ("VC02", "湖北市総合体育館", "05901", 2, (9300.0, 9000.0)),
        ("VC03", "湖南町保健福祉センター", "05902", 1, (3200.0, 2600.0)),
        ("VC04", "川東村農村環境改善センター", "05903", 1, (11400.0, 1700.0)),
    ]
    vlon, vlat = _to_lonlat(np.array([p[4][0] for p in vc_pts]),
                            np.array([p[4][1] for p in vc_pts]))
    _write_csv(
        [{"番号": p[0], "名称": p[1], "市町村コード": p[2], "候補順位": p[3],
          "緯度": f"{vlat[n]:.6f}", "経度": f"{vlon[n]:.6f}"} for n, p in enumerate(vc_pts)],
        ["番号", "名称", "市町村コード", "候補順位", "緯度", "経度"],
        tmp / "vc_candidates.csv", encoding="utf-8-sig",
    )


NEED_KINDS = (  # 作業内容, people (low, high), tools, share
    ("泥出し", (4, 8), "スコップ・一輪車・土のう袋", 0.35),
    ("家財搬出", (3, 6), "軽トラ・台車", 0.2),
    ("片付け・清掃", (2, 4), "ゴミ袋・バケツ", 0.2),
    ("床下の泥出し", (3, 5), "スコップ・高圧洗浄機", 0.1),
    ("見守り訪問", (1, 2), "", 0.15),
)


def _demo_vc_day(w: _World, tmp: Path) -> None:
    """A 災害VC's day after the demo flood (fictional): about 120 needs as a kintone app
    exports them (cp932; names and telephone numbers that the planner never reads; most
    with the map plug-in's 緯度/経度, some with an address only) and 15 teams.  Its own
    random numbers, so the register drawn after it is unchanged."""
    rng = np.random.default_rng(w.seed + 2026)
    area = w.flood_all.buffer(400).difference(w.water)
    pts = _sample_land(rng, 120, area, w.water)
    lon, lat = _to_lonlat(pts[:, 0], pts[:, 1])
    share = np.array([k[3] for k in NEED_KINDS])
    windows = ("", "", "", "午前", "午後", "10:00-12:00", "13:00-15:00")
    rows = []
    for n, (x, y) in enumerate(pts):
        work, (lo, hi), tools, _ = NEED_KINDS[int(rng.choice(len(NEED_KINDS), p=share / share.sum()))]
        town = _area_name(float(x), float(y), w.villages)
        muni = next((m for (code, m), g in zip(MUNIS, w.munis, strict=True) if g.contains(Point(x, y))),
                    MUNIS[0][1])
        by_address = n % 8 == 7
        rows.append({
            "受付番号": f"N-{n + 1:04d}", "受付日": "2026/07/02", "依頼者氏名": f"（架空）依頼者{n + 1:03d}",
            "電話番号": f"000-0000-{n + 1:04d}", "住所": f"{PREF}{muni}{town}{n % 30 + 1}-{n % 7 + 1}",
            "緯度": "" if by_address else f"{lat[n]:.6f}", "経度": "" if by_address else f"{lon[n]:.6f}",
            "作業内容": work, "必要人数": int(rng.integers(lo, hi + 1)),
            "必要資機材": "高所作業車" if n == 60 else tools,
            "希望時間帯": windows[int(rng.integers(len(windows)))],
            "優先度": ("高", "中", "中", "低")[int(rng.integers(4))],
            "要配慮者": "○" if rng.random() < 0.15 else "", "備考": ""})
    _write_csv(rows, list(rows[0]), tmp / "private" / "vc_needs_flood.csv", encoding="cp932")
    teams = []
    for k in range(15):
        drive = k < 8
        vehicle = ("軽トラ" if k % 2 == 0 else "乗用車") if drive else "徒歩"
        tools = ("スコップ・一輪車・土のう袋・台車" if k % 3 != 2 else "ゴミ袋・バケツ・台車") + \
            ("・高圧洗浄機" if k in (1, 9) else "")
        teams.append({"班名": f"{chr(0x41 + k)}班", "人数": int(rng.integers(3, 9)), "車両": vehicle,
                      "資機材": tools + "・ゴミ袋・バケツ",
                      "活動時間": "10:00-15:00" if k in (4, 12) else "9:00-15:30",
                      "班長": f"（架空）班長{k + 1:02d}"})
    _write_csv(teams, list(teams[0]), tmp / "vc_teams.csv", encoding="utf-8-sig")


BUS_LINES = (  # route id, name, the places it calls at (x, y in the demo's metres)
    # from 本町's centre out to the hill villages that cannot walk to a 居場所, and back
    ("R1", "湖北循環線", ((9500.0, 7700.0), (12900.0, 9200.0), (13000.0, 6300.0), (11100.0, 4900.0),
                         (8200.0, 3800.0), (9500.0, 7700.0))),
    ("R2", "本町南台線", ((9500.0, 7700.0), (5500.0, 9300.0), (1300.0, 8200.0), (1000.0, 4300.0),
                         (3300.0, 2900.0))),
)
BUS_KMH = 22.0


def _bus_stops(w: _World) -> tuple[list[dict[str, str]], dict[tuple[float, float], str]]:
    """A stop at the road node nearest each place a line calls at (named after its 町字)."""
    xs, ys, _edges = w.roads
    stops: list[dict[str, str]] = []
    ids: dict[tuple[float, float], str] = {}
    for _rid, _name, places in BUS_LINES:
        for x, y in places:
            if (x, y) in ids:
                continue
            k = int(np.argmin(np.hypot(xs - x, ys - y)))
            lon, lat = _to_lonlat(np.array([xs[k]]), np.array([ys[k]]))
            sid = f"B{len(ids) + 1:02d}"
            ids[(x, y)] = sid
            stops.append({"stop_id": sid, "stop_name": f"{_area_name(x, y, w.villages)}（架空）",
                          "stop_lat": f"{lat[0]:.6f}", "stop_lon": f"{lon[0]:.6f}", "location_type": "0"})
    return stops, ids


def _bus_trips(ids: dict[tuple[float, float], str]) -> tuple[list[dict], list[dict], list[dict]]:
    """(trips, stop_times, frequencies): R1 every hour 8:00–17:00 on weekdays (frequencies),
    three times on holiday afternoons; R2 four times each way on weekdays, twice on holidays."""
    trips, times = [], []

    def trip(tid: str, rid: str, service: str, places: Sequence[tuple[float, float]], start: int) -> None:
        trips.append({"route_id": rid, "service_id": service, "trip_id": tid, "direction_id": "0"})
        clock = start
        for i, (x, y) in enumerate(places):
            if i:
                px, py = places[i - 1]
                clock += round(math.hypot(x - px, y - py) * 1.3 / (BUS_KMH / 3.6) / 60) * 60
            hh = f"{clock // 3600:02d}:{clock % 3600 // 60:02d}:00"
            times.append({"trip_id": tid, "arrival_time": hh, "departure_time": hh, "stop_id": ids[(x, y)],
                          "stop_sequence": str(i + 1)})
    loop, line = BUS_LINES[0][2], BUS_LINES[1][2]
    trip("R1_平日", "R1", "平日", loop, 8 * 3600)
    for k, h in enumerate((13, 14, 16)):  # no loop on a holiday morning
        trip(f"R1_休日_{k + 1}", "R1", "土休日", loop, h * 3600)
    for k, h in enumerate((7, 10, 14, 17)):
        trip(f"R2_平日_下り{k + 1}", "R2", "平日", line, h * 3600)
        trip(f"R2_平日_上り{k + 1}", "R2", "平日", line[::-1], h * 3600 + 5400)
    for k, h in enumerate((9, 15)):
        trip(f"R2_休日_下り{k + 1}", "R2", "土休日", line, h * 3600)
    freq = [{"trip_id": "R1_平日", "start_time": "08:00:00", "end_time": "17:00:00", "headway_secs": "3600",
             "exact_times": "1"}]
    return trips, times, freq


def _demo_bus(w: _World, tmp: Path) -> None:
    """A fictional community bus in the GTFS-JP layout (no random numbers: the stages after
    keep their output).  The zip's entries carry a fixed date, so two runs are identical."""
    stops, ids = _bus_stops(w)
    trips, times, freq = _bus_trips(ids)
    # the demand zone runs on weekdays 9:00–16:00, booked the day before (GTFS-Flex)
    trips.append({"route_id": "D1", "service_id": "平日", "trip_id": "D1_平日", "direction_id": "0"})
    flex_times = [{"trip_id": "D1_平日", "stop_id": "", "location_id": "Z_KAWAGUCHI", "stop_sequence": "1",
                   "start_pickup_drop_off_window": "09:00:00", "end_pickup_drop_off_window": "16:00:00",
                   "pickup_booking_rule_id": "BR1", "drop_off_booking_rule_id": "BR1"}]
    time_cols = ["trip_id", "arrival_time", "departure_time", "stop_id", "location_id", "stop_sequence",
                 "start_pickup_drop_off_window", "end_pickup_drop_off_window", "pickup_booking_rule_id",
                 "drop_off_booking_rule_id"]
    agency = "8000020059010"
    calendar = [{"service_id": sid, **{d: v for d, v in zip(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"), days, strict=True)},
        "start_date": "20260401", "end_date": "20280331"} for sid, days in
        (("平日", "1111100"), ("土休日", "0000011"))]
    holidays = ("20261103", "20261123", "20270101", "20270111", "20270211", "20270223", "20270321")
    ex = [r for d in holidays for r in ({"service_id": "平日", "date": d, "exception_type": "2"},
                                        {"service_id": "土休日", "date": d, "exception_type": "1"})]
    cx, cy = TOWNS[2].x, TOWNS[2].y
    zone = Point(cx, cy).buffer(1500, 8)
    zlon, zlat = _to_lonlat(np.asarray(zone.exterior.xy[0]), np.asarray(zone.exterior.xy[1]))
    tables: dict[str, tuple[list[dict], list[str] | None]] = {
        "agency.txt": ([{"agency_id": agency, "agency_name": "湖北市コミュニティバス（架空）",
                         "agency_url": "https://example.invalid/", "agency_timezone": "Asia/Tokyo",
                         "agency_lang": "ja"}], None),
        "agency_jp.txt": ([{"agency_id": agency, "agency_official_name": "架空県湖北市"}], None),
        "stops.txt": (stops, None),
        "routes.txt": ([{"route_id": rid, "agency_id": agency, "route_long_name": name, "route_type": "3"}
                        for rid, name, _p in BUS_LINES]
                       + [{"route_id": "D1", "agency_id": agency, "route_long_name": "川口デマンド（架空）",
                           "route_type": "3"}], None),
        "trips.txt": (trips, None), "stop_times.txt": (times + flex_times, time_cols),
        "calendar.txt": (calendar, None),
        "calendar_dates.txt": (ex, None), "frequencies.txt": (freq, None),
        "fare_attributes.txt": ([{"fare_id": "F1", "price": "200", "currency_type": "JPY",
                                  "payment_method": "0", "transfers": "0", "agency_id": agency}], None),
        "feed_info.txt": ([{"feed_publisher_name": "架空県湖北市", "feed_publisher_url": "https://example.invalid/",
                            "feed_lang": "ja", "feed_start_date": "20260401", "feed_end_date": "20280331",
                            "feed_version": "demo-1"}], None),
        "booking_rules.txt": ([{"booking_rule_id": "BR1", "booking_type": "2", "prior_notice_last_day": "1",
                                "prior_notice_last_time": "17:00:00",
                                "message": "前日17時までに電話で予約（架空）"}],
                              None),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        def put(name: str, data: bytes) -> None:
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 4, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
        for name, (rows, cols) in tables.items():
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=cols or list(rows[0]), lineterminator="\r\n", restval="")
            writer.writeheader()
            writer.writerows(rows)
            put(name, out.getvalue().encode("utf-8"))
        put("locations.geojson", json.dumps({"type": "FeatureCollection", "features": [{
            "type": "Feature", "id": "Z_KAWAGUCHI", "properties": {"stop_name": "川口デマンド区域（架空）"},
            "geometry": {"type": "Polygon", "coordinates": [[[round(float(a), 6), round(float(b), 6)]
                                                              for a, b in zip(zlon, zlat, strict=True)]]}}]},
            ensure_ascii=False).encode("utf-8"))
    path = tmp / "gtfs" / "community_bus_gtfs-jp.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())


def _write_records(
    rng: np.random.Generator, land: list[shapely.Geometry], water: shapely.Geometry,
    villages: list[tuple[str, float, float]], path: Path,
) -> None:
    """About 3,000 synthetic people, clustered where the elderly would live."""
    cats = ("高齢独居", "要介護", "障害", "乳幼児", "外国人", "高齢世帯")
    cat_p = (0.34, 0.26, 0.14, 0.08, 0.04, 0.14)
    family = ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤",
              "斎藤", "佐々木", "工藤", "菅原", "三浦", "阿部", "村上", "柴田")
    given = ("花子", "太郎", "ハル", "キヨ", "トシ", "正一", "和子", "幸子", "茂", "勇", "ミツ",
             "清", "光子", "進", "節子", "弘")
    rows = []
    rid = 0
    clusters: list[tuple[int, float, float, float]] = []
    for t in TOWNS:
        k = next(i for i, (c, _) in enumerate(MUNIS) if c == t.muni)
        clusters.append((k, t.x, t.y, t.r * 0.55))
    for _name, vx, vy in villages:
        k = next((i for i, g in enumerate(land) if g.distance(Point(vx, vy)) < 1), 0)
        clusters.append((k, vx, vy, 260.0))
    weights = np.array([900, 420, 360] + [110] * len(villages), dtype=float)
    counts = np.round(weights / weights.sum() * 3000).astype(int)
    for (k, cx, cy, spread), n in zip(clusters, counts.tolist(), strict=True):
        pts = _sample_land(rng, n, land[k], water, centre=(cx, cy), spread=spread)
        lon, lat = _to_lonlat(pts[:, 0], pts[:, 1])
        cat_idx = rng.choice(len(cats), size=n, p=cat_p)
        mob = rng.random(n) < 0.35
        for i in range(n):
            rid += 1
            rows.append({
                "整理番号": f"R{rid:05d}",
                "氏名": f"{family[int(rng.integers(len(family)))]} {given[int(rng.integers(len(given)))]}",
                "住所": f"{PREF}{MUNIS[k][1]}{_area_name(float(pts[i, 0]), float(pts[i, 1]), villages)}"
                        f"{int(rng.integers(1, 40))}番{int(rng.integers(1, 30))}号",
                "区分": cats[int(cat_idx[i])],
                "避難支援": "要" if mob[i] else "",
                "緯度": f"{lat[i]:.6f}",
                "経度": f"{lon[i]:.6f}",
            })
    _write_csv(rows, ["整理番号", "氏名", "住所", "区分", "避難支援", "緯度", "経度"], path,
               encoding="utf-8-sig")


def _area_name(x: float, y: float, villages: list[tuple[str, float, float]]) -> str:
    for t in TOWNS:
        if math.hypot(x - t.x, y - t.y) < t.r:
            return t.name
    best = min(villages, key=lambda v: math.hypot(x - v[1], y - v[2]))
    return best[0]


def _kanji_number(n: int) -> str:
    digits = "〇一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n - 10] if n > 10 else "")
    return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")


def _move_into(src: Path, dst: Path) -> None:
    for p in sorted(src.rglob("*")):
        if p.is_dir():
            continue
        rel = p.relative_to(src)
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(p, target)


def _region_toml() -> str:
    return f"""# ともにマップ デモ地域（架空）: generated by `tomoni demo`. Nothing here is real.
[region]
name = "{DEMO_NAME}"
fictional = true
crs = "{DEMO_CRS}"

[layers.boundaries]
path = "boundaries_n03.geojson"
code = "N03_007"
name = "N03_004"

[layers.school_districts]
path = ["A27-16_059_before.zip", "A27-23_059_after/A27-23_059.shp"]
periods = ["before", "after"]

[layers.neighbourhoods]
path = "jichikai.geojson"

[layers.places]
path = "ibasho.csv"

[layers.shelters]
path = ["gsi_emergency_sites.csv", "gsi_evacuation_shelters_cp932.csv"]

[layers.hazards]
path = "hazards.geojson"

[layers.vc_sites]
path = "vc_candidates.csv"

[layers.barriers]
# the lake, the river and the railway: no access walk crosses them
path = "barriers.geojson"

[geocoder]
# 町字 reference points (fictional): lists with 住所 and no coordinates are placed on them;
# try samples/ibasho_addresses.csv on the データ page
path = "machiaza/*.json"

[layers.vulnerable]
# a synthetic register extract: anonymised on load (500 m mesh, k = 5);
# only the density is kept, never a record
path = "private/vulnerable_records.csv"
kind = "records"
mesh = 500
k = 5

[roads]
path = "roads_walk.graphml"
network = "walk"
drive = "roads_drive.graphml"

[season.winter]
# minutes added per km walked in winter (main roads / the others); the defaults
walk = {{ main = 1.0, other = 2.0 }}
elderly = {{ main = 1.5, other = 3.0 }}
# 除雪優先: these roads keep their summer speed (by name, and the lines of the 県道 routes)
priority_roads = ["国道999号（架空）", "国道998号（架空）"]
priority = "josetsu_yusen.geojson"
# 冬期閉鎖 (fictional): the hill tracks, 12-01 to 04-20 (lines), and a village road as a
# road administrator's table (路線名, 区間 字〜字, dates; placed with the [geocoder])
closures = ["toki_heisa.geojson", "toki_heisa_hyou.csv"]

[projection]
# 500 m mesh population projection in the 国土数値情報 layout (fictional numbers)
path = "mesh500_projection.geojson"

[layers.transit]
# a fictional community bus in the GTFS-JP layout: 湖北市 loop and the 本町–南台 line,
# weekday and holiday timetables, a demand-responsive zone around 川口
path = ["gtfs/community_bus_gtfs-jp.zip"]
"""


def _readme() -> str:
    return (
        "ともにマップ デモ地域（架空） / tomoni-map demo region (fictional)\n\n"
        "All places, names, roads, shelters and people in this folder are invented\n"
        "by layers/demo.py (seeded). private/vulnerable_records.csv is a synthetic\n"
        "register extract: it is an input of the anonymiser and is never shown.\n"
        "private/vc_needs_flood.csv is a 災害VC needs list after the flood (cp932, as a\n"
        "kintone app exports it) and vc_teams.csv the day's teams: try\n"
        "  tomoni dispatch region.toml --needs private/vc_needs_flood.csv --teams vc_teams.csv\n"
        "      --vc VC02 --hazard flood --out dispatch\n"
    )


def ensure_demo(out: str | Path, *, force: bool = False) -> Path:
    """Return the demo region TOML in ``out``, generating it when missing."""
    out = Path(out)
    toml = out / TOML_NAME
    if toml.exists() and not force:
        return toml
    return generate_demo(out)
