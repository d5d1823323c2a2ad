"""Routes: lengths against networkx, hazard routes, comparisons, GPX, drive times."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from geo.engine.access import snap
from geo.engine.network import from_graph
from geo.engine.routing import compare, route, routes_from
from geo.outputs.files.route import to_gpx
from layers.errors import LayerError
from tests.scenario_fixtures import points_of

_pts = points_of


# ---------------------------------------------------------------- routes


def test_route_length_matches_networkx(demo_region, demo_net):
    a, b = _pts(demo_region, "vc_sites", "site_id", ["VC02", "VC03"])
    r = route(demo_net, a, b)
    assert r.found
    # networkx between the same snapped nodes gives a lower bound / equality on the network part
    g = nx.DiGraph()
    rows = np.repeat(np.arange(demo_net.n), np.diff(demo_net.indptr))
    g.add_weighted_edges_from(zip(rows.tolist(), demo_net.indices.tolist(), demo_net.weights.tolist(),
                                  strict=True))
    s = snap(demo_net, np.array([a[0]]), np.array([a[1]]))
    e = snap(demo_net, np.array([b[0]]), np.array([b[1]]))
    best = np.inf
    for u, cu in ((demo_net.seg_a[s.segment[0]], s.offset[0]),
                  (demo_net.seg_b[s.segment[0]], demo_net.seg_len[s.segment[0]] - s.offset[0])):
        for v, cv in ((demo_net.seg_a[e.segment[0]], e.offset[0]),
                      (demo_net.seg_b[e.segment[0]], demo_net.seg_len[e.segment[0]] - e.offset[0])):
            best = min(best, cu + nx.shortest_path_length(g, int(u), int(v), weight="weight") + cv)
    assert r.length_m == pytest.approx(best + s.access[0] + e.access[0], rel=1e-9)
    assert r.steps[0]["action"] == "出発" and r.steps[-1]["action"] == "到着"
    assert r.steps[-1]["cumulative_m"] == pytest.approx(r.length_m - s.access[0] - e.access[0], abs=0.5)


def test_flood_route_never_uses_a_closed_edge_and_differs_where_roads_close(demo_region, demo_net,
                                                                            flood):
    start = _pts(demo_region, "vc_sites", "site_id", ["VC02"])[0]
    sh = demo_region.layers["shelters"].to_crs(demo_region.crs)
    ends = np.column_stack([sh.geometry.x, sh.geometry.y])
    normal = routes_from(demo_net, start, ends)
    hazard = routes_from(flood.network, start, ends, base=demo_net)
    # a shelter whose own road is closed is reached from the nearest open road instead
    own_road_open = snap(flood.network, ends[:, 0], ends[:, 1]).segment == \
        snap(demo_net, ends[:, 0], ends[:, 1]).segment
    differed = crossed = 0
    for n_r, h_r, same_end in zip(normal, hazard, own_road_open, strict=True):
        if h_r.found:
            assert not flood.closed[h_r.segments].any()
            if same_end:
                assert h_r.length_m >= n_r.length_m - 1e-6
        uses_closed = bool(flood.closed[n_r.segments].any())
        crossed += uses_closed
        if not uses_closed:  # the flood closes nothing on this route: identical
            assert h_r.found and h_r.length_m == pytest.approx(n_r.length_m)
            assert np.array_equal(h_r.segments, n_r.segments)
        else:
            differed += 1
            assert not h_r.found or not np.array_equal(h_r.segments, n_r.segments)
    assert crossed > 0 and differed == crossed


def test_compare_reports_detour_and_avoided_edges(demo_region, demo_net, flood):
    a = _pts(demo_region, "vc_sites", "site_id", ["VC02"])[0]
    sh = demo_region.layers["shelters"].to_crs(demo_region.crs)
    for x, y in zip(sh.geometry.x, sh.geometry.y, strict=True):
        n_r = route(demo_net, a, (x, y))
        h_r = route(flood.network, a, (x, y), base=demo_net)
        c = compare(n_r, h_r, flood.closed)
        if c["hazard"]["closed_edges_avoided"] and h_r.found:
            assert c["hazard"]["detour_ratio"] >= 1.0
            assert c["hazard"]["closed_edges_used"] == 0
            return
    pytest.fail("no route in the demo crosses the flood zone")


def test_route_without_road_nearby_gives_a_reason(demo_net):
    r = route(demo_net, (demo_net.x.min() - 50_000, demo_net.y.min()), (demo_net.x[0], demo_net.y[0]))
    assert not r.found and "道路がありません" in r.reason and r.length_m is None


def test_gpx_is_valid_xml_with_track_points(demo_region, demo_net):
    import xml.etree.ElementTree as ET

    a, b = _pts(demo_region, "vc_sites", "site_id", ["VC02", "VC04"])
    r = route(demo_net, a, b)
    root = ET.fromstring(to_gpx({"normal": r}))
    pts = root.findall(".//{http://www.topografix.com/GPX/1/1}trkpt")
    assert len(pts) == len(r.coords)
    assert 39 < float(pts[0].get("lat")) < 40 and 140 < float(pts[0].get("lon")) < 141


def test_drive_profile_uses_drive_times(demo_dir, demo_region):
    from layers.roads import load_roads

    drive = from_graph(load_roads(demo_dir / "roads_drive.graphml", network="drive"), crs=demo_region.crs)
    a, b = _pts(demo_region, "vc_sites", "site_id", ["VC02", "VC04"])
    r = route(drive, a, b, profile="drive")
    assert r.found and r.drive_s and r.drive_s < r.walk_s
    with pytest.raises(LayerError):
        route(from_graph(demo_region.roads, crs=demo_region.crs), a, b, profile="drive")


def test_a_hazard_route_shorter_than_the_normal_one_says_why():
    """By hand: the start and the end lie 10 m from a long loop road (A) and 30 m from a
    straight one (B). The normal route joins the nearest road, A (about 2,000 m); with A
    closed the route joins B (about 1,060 m): shorter, and the comparison says why."""
    from pyproj import Transformer

    from geo.engine.routing import SHORTER_BY_ACCESS

    to_ll = Transformer.from_crs("EPSG:6678", "EPSG:4326", always_xy=True)
    o = (-30000.0, -60000.0)
    pts = {1: (0, 10), 2: (0, 500), 3: (1000, 500), 4: (1000, 10), 5: (0, -30), 6: (1000, -30)}

    def graph(with_a: bool) -> nx.MultiDiGraph:
        g = nx.MultiDiGraph(crs="epsg:4326", network="walk")
        for k, (x, y) in pts.items():
            lon, lat = to_ll.transform(o[0] + x, o[1] + y)
            g.add_node(k, x=lon, y=lat)
        edges = [(5, 6)] + ([(1, 2), (2, 3), (3, 4)] if with_a else [])
        for u, v in edges:
            length = float(np.hypot(pts[u][0] - pts[v][0], pts[u][1] - pts[v][1]))
            g.add_edge(u, v, length=length, highway="residential")
            g.add_edge(v, u, length=length, highway="residential")
        return g

    normal_net = from_graph(graph(True), crs="EPSG:6678")
    hazard_net = from_graph(graph(False), crs="EPSG:6678")
    start, end = (o[0], o[1]), (o[0] + 1000.0, o[1])
    n_r, h_r = route(normal_net, start, end), route(hazard_net, start, end)
    assert n_r.length_m == pytest.approx(2000, abs=5) and h_r.length_m == pytest.approx(1060, abs=5)
    c = compare(n_r, h_r, np.zeros(len(normal_net.seg_len), bool))
    assert c["hazard"]["note"] == SHORTER_BY_ACCESS
