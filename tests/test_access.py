"""Honest walking distances: the access rule and barriers against an independent reference.

The reference (``tests/reference_access.py``) finds each point's nearest road with
shapely on the graph's own edge geometries and walks the roads with networkx; it
shares no code with geo/.  Hand-built cases cover what a shortcut gets wrong: a
nearer road across a river, a railway, a motorway, a one-way street.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from geo.analyses.coverage import coverage, demand_units
from geo.engine.access import distances_from_points, joins, point_od, snap
from geo.engine.network import from_graph, nearest_facility
from geo.engine.network_cache import region_network
from tests import reference_access as ref

CRS = "EPSG:6678"
_TO_LONLAT = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
ORIGIN = (-30000.0, -60000.0)  # a place inside Akita in zone X


def _lonlat(x: float, y: float) -> tuple[float, float]:
    return _TO_LONLAT.transform(ORIGIN[0] + x, ORIGIN[1] + y)


def _graph(nodes: dict[int, tuple[float, float]], roads: list[tuple], *, network: str = "walk"
           ) -> nx.MultiDiGraph:
    """An osmnx-style graph from metric node positions; roads are (u, v[, attrs])."""
    g = nx.MultiDiGraph(crs="epsg:4326", network=network)
    for n, (x, y) in nodes.items():
        lon, lat = _lonlat(x, y)
        g.add_node(n, x=lon, y=lat)
    for road in roads:
        u, v = road[0], road[1]
        attrs = dict(road[2]) if len(road) > 2 else {}
        oneway = attrs.pop("oneway", False)
        length = float(np.hypot(nodes[u][0] - nodes[v][0], nodes[u][1] - nodes[v][1]))
        attrs.setdefault("highway", "residential")
        g.add_edge(u, v, length=length, **attrs)
        if not oneway:
            g.add_edge(v, u, length=length, **attrs)
    return g


def _barriers(*geoms: shapely.Geometry) -> gpd.GeoDataFrame:
    moved = [shapely.affinity.translate(g, *ORIGIN) for g in geoms]
    return gpd.GeoDataFrame({"kind": ["river"] * len(moved)}, geometry=moved, crs=CRS)


def _distance(net, pts, facs, **kw):  # type: ignore[no-untyped-def]
    pts, facs = np.asarray(pts, float) + ORIGIN, np.asarray(facs, float) + ORIGIN
    f = snap(net, facs[:, 0], facs[:, 1])
    node_d, node_f = nearest_facility(net, f)
    return distances_from_points(net, pts[:, 0], pts[:, 1], node_d, node_f, f, **kw)


@pytest.fixture
def two_banks():  # type: ignore[no-untyped-def]
    """Road A along y=0 and road B along y=100, linked only by a bridge road at x=0;
    a river runs between them along y=70."""
    nodes = {0: (0, 0), 1: (1000, 0), 2: (0, 100), 3: (1000, 100)}
    return _graph(nodes, [(0, 1), (2, 3), (0, 2)]), shapely.LineString([(-500, 70), (1500, 70)])


def test_nearer_road_across_a_river_is_not_joined(two_banks):  # type: ignore[no-untyped-def]
    graph, river = two_banks
    with_river = from_graph(graph, crs=CRS, barriers=_barriers(river))
    # the point stands 60 m from road A on its own bank, 40 m from road B across the river
    d, _, acc = _distance(with_river, [(500, 60)], [(1000, 100)])
    assert acc[0] == pytest.approx(60.0)
    assert d[0] == pytest.approx(60 + 500 + 100 + 1000)  # along A, over the bridge, along B
    # without the river the same point would join B: 540 m, a 1,120 m shortcut across the water
    d_no, _, acc_no = _distance(from_graph(graph, crs=CRS), [(500, 60)], [(1000, 100)])
    assert acc_no[0] == pytest.approx(40.0) and d_no[0] == pytest.approx(540.0)


def test_water_area_and_railway_block_access(two_banks):  # type: ignore[no-untyped-def]
    graph, _ = two_banks
    water = shapely.box(-500, 65, 1500, 75)
    railway = shapely.LineString([(-500, 70), (1500, 70)])
    for barrier in (water, railway):
        net = from_graph(graph, crs=CRS, barriers=_barriers(barrier))
        d, _, _ = _distance(net, [(500, 60)], [(1000, 100)])
        assert d[0] == pytest.approx(1660.0)
    # a point inside the water area still leaves it towards the nearest road
    net = from_graph(graph, crs=CRS, barriers=_barriers(water))
    d, _, acc = _distance(net, [(500, 72)], [(1000, 100)])
    assert acc[0] == pytest.approx(28.0) and d[0] == pytest.approx(28 + 500)


def test_motorway_is_never_joined_and_blocks_access():
    # a motorway along y=40 between road A (y=0) and road B (y=100), crossing nothing
    nodes = {0: (0, 0), 1: (1000, 0), 2: (0, 100), 3: (1000, 100), 4: (-200, 40), 5: (1200, 40)}
    graph = _graph(nodes, [(0, 1), (2, 3), (0, 2), (4, 5, {"highway": "motorway"})],
                   network="drive")
    from layers.barriers import graph_barriers

    net = from_graph(graph, crs=CRS, barriers=graph_barriers(graph))
    # 10 m from the motorway, 50 m from B on its own side, 50 m from A across the motorway:
    # only B may be joined (joining A would cross the motorway and add 100 + 1000 m)
    d, _, acc = _distance(net, [(500, 50)], [(1000, 100)])
    assert acc[0] == pytest.approx(50.0)
    assert d[0] == pytest.approx(50 + 500)
    d, _, acc = _distance(net, [(500, 30)], [(1000, 100)])  # on A's side of the motorway
    assert acc[0] == pytest.approx(30.0) and d[0] == pytest.approx(30 + 500 + 100 + 1000)


def test_one_way_street_is_walked_the_right_way_when_driving():
    nodes = {0: (0, 0), 1: (1000, 0), 2: (1000, 500), 3: (0, 500)}
    # a one-way street 0→1; the way back goes round 1→2→3→0
    graph = _graph(nodes, [(0, 1, {"oneway": True}), (1, 2, {"oneway": True}),
                           (2, 3, {"oneway": True}), (3, 0, {"oneway": True})], network="drive")
    net = from_graph(graph, crs=CRS)
    d, _, _ = _distance(net, [(700, 0)], [(200, 0)])
    assert d[0] == pytest.approx(300 + 500 + 1000 + 500 + 200)
    d, _, _ = _distance(net, [(200, 0)], [(700, 0)])
    assert d[0] == pytest.approx(500.0)


def test_point_matrix_walks_one_way_streets_the_right_way():
    """The O×D matrix of a day's visits, by hand: round the block one way, straight the other,
    and along the segment when both points lie on it."""
    nodes = {0: (0, 0), 1: (1000, 0), 2: (1000, 500), 3: (0, 500)}
    graph = _graph(nodes, [(0, 1, {"oneway": True}), (1, 2, {"oneway": True}),
                           (2, 3, {"oneway": True}), (3, 0, {"oneway": True})], network="drive")
    net = from_graph(graph, crs=CRS)
    pts = np.array([(200.0, 0.0), (700.0, 0.0), (1000.0, 250.0)]) + ORIGIN
    m = point_od(net, pts, pts)
    assert m[0, 1] == pytest.approx(500.0) and m[1, 0] == pytest.approx(300 + 500 + 1000 + 500 + 200)
    assert m[1, 2] == pytest.approx(300 + 250) and m[2, 1] == pytest.approx(250 + 1000 + 500 + 700)
    assert np.diag(m) == pytest.approx(np.zeros(3), abs=1e-6)


@pytest.mark.parametrize("seed", [5, 6])
def test_point_matrix_equals_the_reference_column_by_column(seed: int):
    """Every column of :func:`point_od` is the reference's distance to that one point
    (networkx and shapely on the graph's own edges, a river with two bridges)."""
    graph, river = _random_graph(seed)
    barriers = _barriers(river)
    net = from_graph(graph, crs=CRS, barriers=barriers)
    rng = np.random.default_rng(200 + seed)
    pts = rng.uniform(-100, 1700, (40, 2))
    dests = rng.uniform(0, 1600, (6, 2))
    got = point_od(net, pts + ORIGIN, dests + ORIGIN)
    for j in range(len(dests)):
        want = ref.distances(graph, CRS, pts + ORIGIN, dests[j:j + 1] + ORIGIN,
                             barriers=list(barriers.geometry))
        assert np.array_equal(np.isfinite(got[:, j]), np.isfinite(want))
        ok = np.isfinite(want)
        assert np.all(np.abs(got[ok, j] - want[ok]) <= 0.01 * want[ok] + 2.0)


def test_curved_road_is_joined_where_it_runs():
    nodes = {0: (0, 0), 1: (1000, 0)}
    bend = [(0, 0), (500, 400), (1000, 0)]
    lonlat = shapely.LineString([_lonlat(*p) for p in bend])
    graph = _graph(nodes, [(0, 1, {"geometry": lonlat})])
    for u, v, d in graph.edges(data=True):
        d["length"] = 2 * float(np.hypot(500, 400))
        if u > v:
            d["geometry"] = lonlat.reverse()
    net = from_graph(graph, crs=CRS)
    d, _, acc = _distance(net, [(500, 420)], [(0, 0)])
    assert acc[0] == pytest.approx(20.0, abs=0.01)  # 20 m from the bend, not 420 m from the chord
    assert d[0] == pytest.approx(20 + np.hypot(500, 400), rel=1e-6)


def test_multi_rule_is_an_option_that_can_only_shorten(two_banks):  # type: ignore[no-untyped-def]
    graph, river = two_banks
    net = from_graph(graph, crs=CRS, barriers=_barriers(river))
    pts = [(500, -60), (500, 30), (990, 130)]
    near, _, _ = _distance(net, pts, [(1000, 100)])
    multi, _, _ = _distance(net, pts, [(1000, 100)], access="multi", join_radius=150.0)
    assert (multi <= near + 1e-9).all()
    # (500, 30): nearest road A at 30 m; B within 150 m but across the river: not joined
    assert multi[1] == pytest.approx(near[1])
    with pytest.raises(ValueError):
        joins(net, np.array([0.0]), np.array([0.0]), access="everything")


def _random_graph(seed: int) -> tuple[nx.MultiDiGraph, shapely.Geometry]:
    """A jittered street grid with curved roads, random gaps and a river with two bridges."""
    rng = np.random.default_rng(seed)
    k = 9
    nodes = {i * k + j: (j * 200 + rng.uniform(-40, 40), i * 200 + rng.uniform(-40, 40))
             for i in range(k) for j in range(k)}
    roads = []
    river_y = 800 + 100 * rng.uniform(-1, 1)
    bridges = set(rng.choice(k, 2, replace=False).tolist())
    for i in range(k):
        for j in range(k):
            n = i * k + j
            for m in ((n + 1) if j + 1 < k else None, (n + k) if i + 1 < k else None):
                if m is None or rng.uniform() < 0.15:
                    continue
                (x0, y0), (x1, y1) = nodes[n], nodes[m]
                if min(y0, y1) < river_y < max(y0, y1) and j not in bridges:
                    continue
                attrs = {}
                straight = float(np.hypot(x1 - x0, y1 - y0))
                if rng.uniform() < 0.4:  # a curved road with its own geometry
                    mx, my = (x0 + x1) / 2 + rng.uniform(-50, 50), (y0 + y1) / 2 + rng.uniform(-50, 50)
                    pts = [(x0, y0), (mx, my), (x1, y1)]
                    attrs["geometry"] = shapely.LineString([_lonlat(*p) for p in pts])
                    straight = float(np.hypot(mx - x0, my - y0) + np.hypot(x1 - mx, y1 - my))
                roads.append((n, m, {**attrs, "length": straight * rng.uniform(1.0, 1.2)}))
    g = nx.MultiDiGraph(crs="epsg:4326", network="walk")
    for n, (x, y) in nodes.items():
        lon, lat = _lonlat(x, y)
        g.add_node(n, x=lon, y=lat)
    for u, v, attrs in roads:
        geom = attrs.pop("geometry", None)
        g.add_edge(u, v, highway="residential", **attrs, **({"geometry": geom} if geom else {}))
        g.add_edge(v, u, highway="residential", **attrs,
                   **({"geometry": geom.reverse()} if geom else {}))
    river = shapely.LineString([(-300, river_y - 30), (900, river_y + 30), (2000, river_y - 20)])
    return g, river


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_graphs_equal_the_reference(seed: int):
    graph, river = _random_graph(seed)
    barriers = _barriers(river)
    net = from_graph(graph, crs=CRS, barriers=barriers)
    rng = np.random.default_rng(100 + seed)
    pts = rng.uniform(-150, 1750, (150, 2))
    facs = rng.uniform(0, 1600, (4, 2))
    got, _, _ = _distance(net, pts, facs)
    want = ref.distances(graph, CRS, pts + ORIGIN, facs + ORIGIN,
                         barriers=list(barriers.geometry))
    assert np.array_equal(np.isfinite(got), np.isfinite(want))
    ok = np.isfinite(want)
    assert np.all(np.abs(got[ok] - want[ok]) <= 0.01 * want[ok] + 2.0)
    # the multi-road rule against the same reference with a 150 m radius
    got_m, _, _ = _distance(net, pts, facs, access="multi", join_radius=150.0)
    want_m = ref.distances(graph, CRS, pts + ORIGIN, facs + ORIGIN,
                           barriers=list(barriers.geometry), radius=150.0)
    ok = np.isfinite(want_m)
    assert np.all(np.abs(got_m[ok] - want_m[ok]) <= 0.01 * want_m[ok] + 2.0)


def test_demo_coverage_equals_the_reference(demo_region):  # type: ignore[no-untyped-def]
    """Every demo unit: the coverage command's distance = access to the nearest road on its
    side of the lake, river and railway + the shortest path (within 1 % + 2 m)."""
    net = region_network(demo_region)
    assert net is not None and net.n_barriers == 3
    res = coverage(demo_region.layers["vulnerable"], demo_region.layers["places"],
                   crs=demo_region.crs, network=net)
    units = demand_units(demo_region.layers["vulnerable"], crs=demo_region.crs)
    places = demo_region.layers["places"].to_crs(demo_region.crs)
    want = ref.distances(demo_region.roads, demo_region.crs,
                         np.column_stack([units.geometry.x, units.geometry.y]),
                         np.column_stack([places.geometry.x, places.geometry.y]),
                         barriers=list(demo_region.layers["barriers"].to_crs(demo_region.crs).geometry))
    got = res.units["distance_m"].to_numpy(float)
    assert np.array_equal(np.isfinite(got), np.isfinite(want))
    ok = np.isfinite(want)
    assert ok.sum() > 100
    assert np.all(np.abs(got[ok] - want[ok]) <= 0.01 * want[ok] + 2.0)


@pytest.mark.shared_data
def test_tachikawa_real_graph_equals_the_reference(tachikawa_region):  # type: ignore[no-untyped-def]
    """The real OSM graph of 立川市 (curved roads): random places to the GSI shelters."""
    from layers.region import load_region

    toml, _ = tachikawa_region()
    region = load_region(toml)
    net = region_network(region)
    assert net is not None
    shel = region.layers["shelters"].to_crs(region.crs)
    facs = np.column_stack([shel.geometry.x, shel.geometry.y])[:12]
    x0, y0, x1, y1 = shel.total_bounds
    rng = np.random.default_rng(7)
    pts = np.column_stack([rng.uniform(x0, x1, 120), rng.uniform(y0, y1, 120)])
    f = snap(net, facs[:, 0], facs[:, 1])
    node_d, node_f = nearest_facility(net, f)
    got, _, _ = distances_from_points(net, pts[:, 0], pts[:, 1], node_d, node_f, f)
    want = ref.distances(region.roads, region.crs, pts, facs)
    assert np.array_equal(np.isfinite(got), np.isfinite(want))
    ok = np.isfinite(want)
    assert ok.sum() > 80  # the rest lie beyond the city's roads (the shelters' box is wider)
    assert np.all(np.abs(got[ok] - want[ok]) <= 0.01 * want[ok] + 2.0)


@pytest.mark.parametrize("rule", ["nearest", "multi"])
def test_isochrone_never_contains_a_farther_place_beside_the_river(demo_region, rule):  # type: ignore[no-untyped-def]
    """A 居場所 near the river: its isochrone under each access rule, with the lake, river and
    railway as barriers, holds no place whose distance by that rule exceeds the limit."""
    from geo.engine.isochrone import isochrone

    net = region_network(demo_region)
    river = demo_region.layers["barriers"].to_crs(demo_region.crs)
    river = river.loc[river["kind"] == "river"].geometry.iloc[0]
    places = demo_region.layers["places"].to_crs(demo_region.crs)
    k = int(np.argmin(places.distance(river).to_numpy()))
    one = snap(net, places.geometry.x.to_numpy()[k:k + 1], places.geometry.y.to_numpy()[k:k + 1])
    iso = isochrone(net, one, 700.0, access=rule)
    assert iso.area > 0 and not iso.intersects(river.buffer(-1))
    rng = np.random.default_rng(5)
    x0, y0, x1, y1 = iso.bounds
    xs, ys = rng.uniform(x0 - 200, x1 + 200, 4000), rng.uniform(y0 - 200, y1 + 200, 4000)
    inside = shapely.contains_xy(iso, xs, ys)
    node_d, node_f = nearest_facility(net, one)
    d, _, acc = distances_from_points(net, xs, ys, node_d, node_f, one, access=rule)
    assert inside.sum() > 100
    assert (d[inside] <= 700.0 + 1e-6).all()
    drawn = acc <= (500.0 if rule == "nearest" else 150.0)  # the widest access walk drawn
    assert ((d <= 690) & drawn & ~inside).sum() <= 0.03 * ((d <= 700) & drawn).sum()
