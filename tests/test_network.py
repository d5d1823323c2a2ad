"""The network engine against networkx: same distances, one-ways, unreachable, cache."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.engine.access import point_distances, snap
from geo.engine.network import _from_arrays, catchments, from_graph, nearest_facility, od_matrix
from geo.engine.network_cache import forget_loaded, load_network


@st.composite
def random_graphs(draw):  # type: ignore[no-untyped-def]
    n = draw(st.integers(2, 40))
    m = draw(st.integers(1, 120))
    u = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    v = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    w = draw(st.lists(st.floats(0.5, 500.0), min_size=m, max_size=m))
    k = draw(st.integers(1, min(5, n)))
    sources = draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k, unique=True))
    return n, np.array(u), np.array(v), np.array(w), np.array(sources)


def _net(n, u, v, w):  # type: ignore[no-untyped-def]
    ids = np.arange(n, dtype=np.int64)
    xy = np.arange(n, dtype=float) * 10
    return _from_arrays(ids, xy, xy, u, v, w, crs="EPSG:6678", directed=True)


def _nx(n, u, v, w):  # type: ignore[no-untyped-def]
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for a, b, c in zip(u.tolist(), v.tolist(), w.tolist(), strict=True):
        if a != b and (not g.has_edge(a, b) or g[a][b]["length"] > c):
            g.add_edge(a, b, length=c)
    return g


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_graphs())
def test_od_and_catchments_equal_networkx(data):
    n, u, v, w, sources = data
    net, g = _net(n, u, v, w), _nx(n, u, v, w)
    od = od_matrix(net, sources, np.arange(n))
    for i, s in enumerate(sources.tolist()):
        ref = nx.single_source_dijkstra_path_length(g, s, weight="length")
        for t in range(n):
            assert od[i, t] == pytest.approx(ref.get(t, np.inf), abs=1e-6)
    src, node, dist = catchments(net, sources, 300.0)
    rev = g.reverse()
    for i, s in enumerate(sources.tolist()):
        ref = nx.single_source_dijkstra_path_length(rev, s, cutoff=300.0, weight="length")
        got = {int(a): float(b) for a, b in zip(node[src == i], dist[src == i], strict=True)}
        assert got.keys() == ref.keys()
        for key, val in ref.items():
            assert got[key] == pytest.approx(val, abs=1e-6)


@st.composite
def mixed_scale_graphs(draw):  # type: ignore[no-untyped-def]
    """Directed graphs whose arcs mix tiny and long lengths (a footbridge of a few
    centimetres beside a 2 km road), so several labels share a bucket and one that
    is taken first can still drop; sources start with a cost already paid."""
    n = draw(st.integers(2, 40))
    m = draw(st.integers(1, 150))
    u = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    v = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    w = draw(st.lists(st.one_of(st.floats(0.0, 0.05), st.floats(0.05, 20.0),
                                st.floats(20.0, 2000.0)), min_size=m, max_size=m))
    k = draw(st.integers(1, min(6, n)))
    nodes = draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k))
    costs = draw(st.lists(st.floats(0.0, 300.0), min_size=k, max_size=k))
    return n, np.array(u), np.array(v), np.array(w), np.array(nodes), np.array(costs)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_scale_graphs())
def test_bucket_queue_search_equals_plain_dijkstra(data):
    """The bucket-queue multi-source search gives networkx's distances from a super
    source (one arc per start, weighted by its cost), and a label whose start really
    is at that distance."""
    from geo.engine.shortest_paths import multi_source

    n, u, v, w, nodes, costs = data
    order = np.lexsort((v, u))
    u, v, w = u[order], v[order], w[order]
    indptr = np.r_[0, np.cumsum(np.bincount(u, minlength=n))]
    dist, owner = multi_source(indptr, v, w, nodes, costs, np.arange(len(nodes)))
    g = nx.MultiDiGraph()
    g.add_nodes_from(range(n + 1))
    g.add_weighted_edges_from(zip(u.tolist(), v.tolist(), w.tolist(), strict=True), weight="w")
    g.add_weighted_edges_from(((n, int(a), float(c)) for a, c in zip(nodes, costs, strict=True)),
                              weight="w")
    ref = nx.single_source_dijkstra_path_length(g, n, weight="w")
    for node in range(n):
        assert dist[node] == pytest.approx(ref.get(node, np.inf), abs=1e-6)
        if node in ref:
            start = owner[node]
            via = nx.single_source_dijkstra_path_length(g, int(nodes[start]), weight="w")
            assert costs[start] + via[node] == pytest.approx(ref[node], abs=1e-6)
        else:
            assert owner[node] == -1


def test_catchments_are_identical_on_one_thread_and_on_many():
    from geo.engine.shortest_paths import bounded

    rng = np.random.default_rng(11)
    n = 3000
    u, v = rng.integers(0, n, 12000), rng.integers(0, n, 12000)
    w = rng.uniform(1, 80, 12000)
    net = _net(n, np.r_[u, v], np.r_[v, u], np.r_[w, w])
    sources = rng.choice(n, 400, replace=False)
    one = bounded(net.indptr, net.indices, net.weights, sources, 150.0, threads=1)
    for threads in (2, 3, 7):
        many = bounded(net.indptr, net.indices, net.weights, sources, 150.0, threads=threads)
        assert all(np.array_equal(a, b) for a, b in zip(one, many, strict=True))
    assert np.array_equal(np.unique(one[0]), np.arange(400))


def test_nearest_facility_respects_one_way_streets_and_reports_unreachable():
    # 0 →(one-way) 1 ↔ 2 ; 3 isolated.  Facility at node 0.
    net = _net(4, np.array([0, 1, 2]), np.array([1, 2, 1]), np.array([100.0, 50.0, 50.0]))
    fac = snap(net, np.array([0.0]), np.array([0.0]))
    dist, ident = nearest_facility(net, fac)
    assert dist[0] == pytest.approx(0.0, abs=1e-6)
    # people at 1 cannot walk against the one-way street to 0
    assert np.isinf(dist[1]) and np.isinf(dist[2]) and np.isinf(dist[3])
    assert (ident[1:] == -1).all()


def test_points_far_from_roads_are_flagged_not_snapped():
    net = _net(2, np.array([0, 1]), np.array([1, 0]), np.array([10.0, 10.0]))
    s = snap(net, np.array([5.0, 5.0]), np.array([5.0, 5000.0]), max_access=300)
    assert not s.flagged[0] and s.flagged[1]
    assert s.access[1] > 4000  # reported


def test_point_distances_use_access_and_same_segment(demo_region):
    net = from_graph(demo_region.roads, crs=demo_region.crs)
    places = demo_region.layers["places"].to_crs(demo_region.crs)
    fac = snap(net, places.geometry.x.to_numpy(), places.geometry.y.to_numpy())
    node_d, node_f = nearest_facility(net, fac)
    # a point right next to a facility is at (almost) its access distances
    px, py = places.geometry.x.to_numpy()[:1] + 3, places.geometry.y.to_numpy()[:1]
    pts = snap(net, px, py)
    d, ident = point_distances(net, pts, node_d, node_f, fac)
    assert d[0] <= fac.access[0] + pts.access[0] + 10
    assert ident[0] >= 0


def test_demo_graph_against_networkx(demo_region):
    g = demo_region.roads
    net = from_graph(g, crs=demo_region.crs)
    rng = np.random.default_rng(4)
    # facilities at graph nodes (the network also has nodes where curved roads bend)
    original = np.flatnonzero(np.isin(net.node_ids, np.fromiter(g.nodes, np.int64)))
    src = rng.choice(original, 15, replace=False)
    fac = snap(net, net.x[src], net.y[src])
    dist, _ = nearest_facility(net, fac)
    h = nx.DiGraph()
    for a, b, length in g.edges(data="length"):
        if not h.has_edge(a, b) or h[a][b]["length"] > length:
            h.add_edge(a, b, length=length)
    ref = nx.multi_source_dijkstra_path_length(h.reverse(), [int(net.node_ids[i]) for i in src],
                                               weight="length")
    expected = np.array([ref.get(int(i), np.inf) for i in net.node_ids[original]])
    assert np.allclose(dist[original], expected, atol=1e-6)


def test_cache_is_keyed_by_file_content(demo_dir, tmp_path):
    import shutil

    road = tmp_path / "roads.graphml"
    shutil.copy(demo_dir / "roads_walk.graphml", road)
    a = load_network(road, network="walk", crs="EPSG:6678", cache_dir=tmp_path / "c")
    assert len(list((tmp_path / "c").glob("network-*.npz"))) == 1
    forget_loaded()
    b = load_network(road, network="walk", crs="EPSG:6678", cache_dir=tmp_path / "c")
    assert np.array_equal(a.weights, b.weights) and a.n == b.n
    shutil.copy(demo_dir / "roads_drive.graphml", road)  # a changed file is rebuilt
    c = load_network(road, network="drive", crs="EPSG:6678", cache_dir=tmp_path / "c")
    assert len(list((tmp_path / "c").glob("network-*.npz"))) == 2 and c.directed


def test_k_nearest_equals_networkx():
    from geo.engine.network import k_nearest

    rng = np.random.default_rng(5)
    n = 60
    u = rng.integers(0, n, 200)
    v = rng.integers(0, n, 200)
    w = rng.uniform(1, 100, 200)
    uu, vv, ww = np.r_[u, v], np.r_[v, u], np.r_[w, w]
    xy = rng.uniform(0, 5000, (n, 2))  # scattered, so a node's nearest road is its own
    net = _from_arrays(np.arange(n, dtype=np.int64), xy[:, 0], xy[:, 1], uu, vv, ww,
                       crs="EPSG:6678", directed=False)
    src = np.array([3, 17, 40, 52])
    fac = snap(net, net.x[src], net.y[src])
    fac = fac.__class__(segment=fac.segment, offset=np.where(net.seg_a[fac.segment] == src, 0.0,
                                                              net.seg_len[fac.segment]),
                        access=np.zeros(4), flagged=np.zeros(4, bool))
    dist, _ident = k_nearest(net, fac, 2)
    g = _nx(n, uu, vv, ww)
    per = [nx.single_source_dijkstra_path_length(g, int(s), weight="length") for s in src]
    for node in range(n):
        ref = sorted(p.get(node, np.inf) for p in per)[:2]
        assert np.allclose(np.sort(dist[node]), ref, atol=1e-6)


def test_isochrone_never_contains_a_farther_point(demo_region):
    import shapely

    from geo.engine.access import distances_from_points
    from geo.engine.isochrone import isochrone

    net = from_graph(demo_region.roads, crs=demo_region.crs)
    places = demo_region.layers["places"].to_crs(demo_region.crs)
    one = snap(net, places.geometry.x.to_numpy()[:1], places.geometry.y.to_numpy()[:1])
    iso = isochrone(net, one, 800.0)
    assert iso.geom_type in ("Polygon", "MultiPolygon") and iso.area > 0
    # reach along roads is smaller than the 800 m straight-line disc
    assert iso.area < np.pi * 800.0**2
    rng = np.random.default_rng(0)
    x0, y0, x1, y1 = iso.bounds
    xs, ys = rng.uniform(x0 - 300, x1 + 300, 5000), rng.uniform(y0 - 300, y1 + 300, 5000)
    inside = shapely.contains_xy(iso, xs, ys)
    node_d, node_f = nearest_facility(net, one)
    d, _, _ = distances_from_points(net, xs, ys, node_d, node_f, one)
    assert inside.sum() > 100
    assert (d[inside] <= 800.0 + 1e-6).all()
    assert ((d <= 790) & ~inside).sum() <= 0.02 * (d <= 800).sum()  # polygons are inscribed


def test_travel_times_per_profile(demo_dir):
    from layers.roads import load_roads

    drive = from_graph(load_roads(demo_dir / "roads_drive.graphml", network="drive"),
                       crs="EPSG:6678")
    o, d = np.array([0]), np.arange(0, drive.n, 97)
    metres = od_matrix(drive, o, d)
    secs = od_matrix(drive, o, d, weight="drive_time")
    ok = np.isfinite(metres) & (metres > 0)
    speed_kmh = metres[ok] / secs[ok] * 3.6
    assert (speed_kmh >= 9.9).all() and (speed_kmh <= 80.1).all()
    walk = od_matrix(drive, o, d, weight="walk_time")
    elderly = od_matrix(drive, o, d, weight="elderly_time")
    assert np.allclose(walk[ok] * 80 / 60, metres[ok]) and np.allclose(elderly[ok] * 50 / 60,
                                                                        metres[ok])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_graphs(), st.integers(0, 2**32 - 1))
def test_an_induced_subnetwork_equals_one_built_from_its_edges(data, seed):
    """Filtering the arrays of a network to some nodes gives exactly the network built from
    scratch out of the edges between those nodes (one-way streets, parallel edges, drive
    times and walkable flags included)."""
    from geo.engine.network import induced

    n, u, v, w, _sources = data
    rng = np.random.default_rng(seed)
    walk = rng.random(len(u)) < 0.8
    sec = w / rng.uniform(3, 15, len(u))
    xy = rng.uniform(0, 2000, (n, 2))
    full = _from_arrays(np.arange(n, dtype=np.int64) + 100, xy[:, 0], xy[:, 1], u, v, w, crs="EPSG:6678",
                        directed=True, seconds=sec, walkable=walk)
    keep = rng.random(n) < 0.6
    got = induced(full, keep)
    new = np.cumsum(keep) - 1
    inside = keep[u] & keep[v]
    ref = _from_arrays(np.flatnonzero(keep) + 100, xy[keep, 0], xy[keep, 1], new[u[inside]], new[v[inside]],
                       w[inside], crs="EPSG:6678", directed=True, seconds=sec[inside], walkable=walk[inside])
    for field in ("node_ids", "x", "y", "indptr", "indices", "weights", "seconds", "seg_a", "seg_b",
                  "seg_len", "seg_fwd", "seg_bwd", "seg_join", "grid_ptr", "grid_seg", "grid_box"):
        assert np.array_equal(getattr(got, field), getattr(ref, field)), field


def test_facilities_at_one_place_give_everything_to_the_first():
    # a street 0 — 1 — 2; two facilities stand together on node 0
    net = _net(3, np.array([0, 1, 1, 2]), np.array([1, 0, 2, 1]), np.array([50.0, 50.0, 70.0, 70.0]))
    fac = snap(net, np.array([0.0, 0.0]), np.array([0.0, 0.0]))
    dist, ident = nearest_facility(net, fac)
    assert ident.tolist() == [0, 0, 0] and dist.tolist() == pytest.approx([0.0, 50.0, 120.0])
