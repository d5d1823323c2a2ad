"""Hazard scenarios, shelters vs demand, routes and the 災害VC plan (issue: disaster planning)."""

from __future__ import annotations

import json

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from geo.access import snap
from geo.network import from_graph, nearest_facility
from geo.routing import compare, route, routes_from, to_gpx
from geo.scenario import close_roads, edge_segments, make_scenario
from geo.shelter_load import shelter_load
from geo.vc_plan import p_median, vc_plan
from layers.errors import LayerError


@pytest.fixture(scope="module")
def demo_net(demo_region):  # type: ignore[no-untyped-def]
    return from_graph(demo_region.roads, crs=demo_region.crs)


@pytest.fixture(scope="module")
def flood(demo_region, demo_net):  # type: ignore[no-untyped-def]
    return make_scenario("洪水", hazards=demo_region.layers["hazards"], network=demo_net,
                         shelters=demo_region.layers["shelters"])


@pytest.fixture(scope="module")
def flood_load(demo_region, flood):  # type: ignore[no-untyped-def]
    return shelter_load(demo_region.layers["vulnerable"], demo_region.layers["shelters"], flood,
                        crs=demo_region.crs)


def _pts(region, layer, key, ids):  # type: ignore[no-untyped-def]
    g = region.layers[layer].to_crs(region.crs).set_index(key)
    return [(float(g.loc[i].geometry.x), float(g.loc[i].geometry.y)) for i in ids]


# ---------------------------------------------------------------- scenario


def test_demo_flood_cuts_roads_and_makes_a_shelter_unusable(flood):
    s = flood.summary()
    assert s["closed_segments"] > 0
    assert s["shelters"]["in_zone"] >= 1  # designated for floods, yet inside the zone
    assert s["shelters"]["usable"] > 0


def test_scenario_network_has_no_edge_on_a_closed_segment(demo_net, flood):
    scen = flood.network
    assert scen is not demo_net and scen.n == demo_net.n
    closed_entries = flood.closed[edge_segments(scen)]
    assert not closed_entries.any()
    # the normal network is untouched: it still has those edges
    assert flood.closed[edge_segments(demo_net)].any()
    assert len(scen.indices) < len(demo_net.indices)


def test_closed_segments_are_exactly_those_touching_a_zone(demo_region, demo_net, flood):
    from geo.network import segment_lines

    zones = demo_region.layers["hazards"]
    zone = shapely.union_all(zones[zones["hazard"] == "flood"].to_crs(demo_net.crs).geometry.values)
    touching = shapely.intersects(segment_lines(demo_net), zone)
    assert np.array_equal(touching, flood.closed)


def test_shallow_factor_slows_rank_one_and_closes_deeper(demo_region, demo_net):
    zones = demo_region.layers["hazards"]
    zones = zones[zones["hazard"] == "flood"]
    scen, closed, slowed = close_roads(demo_net, zones, shallow_factor=2.0)
    assert slowed.any() and closed.any() and not (slowed & closed).any()
    assert np.allclose(scen.seg_len[slowed], demo_net.seg_len[slowed] * 2)
    with pytest.raises(LayerError):
        close_roads(demo_net, zones, shallow_factor=0.5)


def test_every_network_search_works_on_the_scenario_graph(demo_region, demo_net, flood):
    from geo.access import joinable
    from geo.network import Snap, catchments, k_nearest, od_matrix

    pts = demo_region.layers["places"].to_crs(demo_net.crs)
    x, y = pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()
    fs, fn = snap(flood.network, x, y), snap(demo_net, x, y)
    # a place whose own road is closed joins the nearest open road (its trip may then be
    # shorter than the normal one along its own road); the others keep their road
    moved = fs.segment != fn.segment
    assert moved.any() and flood.closed[fn.segment[moved]].all()
    assert joinable(flood.network)[fs.segment[~fs.flagged]].all()
    same = np.flatnonzero(~moved)

    def sub(s: Snap) -> Snap:
        return Snap(segment=s.segment[same], offset=s.offset[same], access=s.access[same],
                    flagged=s.flagged[same])

    d_norm, _ = nearest_facility(demo_net, sub(fn))
    d_scen, _ = nearest_facility(flood.network, sub(fs))
    finite = np.isfinite(d_scen)
    assert (d_scen[finite] >= d_norm[finite] - 1e-6).all()  # closing roads never shortens a trip
    assert (~finite).any()
    catchments(flood.network, np.array([0, 1]), 800.0)
    k_nearest(flood.network, fs, 2)
    od_matrix(flood.network, np.array([0]), np.array([1, 2]))


def test_unknown_hazard_is_a_clear_error(demo_region, demo_net):
    with pytest.raises(LayerError) as e:
        make_scenario("隕石", hazards=demo_region.layers["hazards"], network=demo_net)
    # the engine names the parameter; the command line shows it as --hazard
    assert e.value.column == "hazard" and "flood" in str(e.value)


# ---------------------------------------------------------------- shelters and demand


def test_assignments_never_pick_an_unusable_shelter(flood, flood_load):
    usable = set(flood_load.shelters.loc[flood_load.shelters["status"] == "usable", "shelter_id"])
    picked = set(flood_load.units.loc[flood_load.units["reachable"], "shelter_id"])
    assert picked and picked <= usable


def test_assigned_demand_totals_equal_total_demand(demo_region, flood_load):
    total = int(demo_region.layers["vulnerable"]["count"].sum())
    s = flood_load.summary()
    assert s["demand_total"] == total
    assert int(flood_load.shelters["demand"].sum()) + s["demand_unreachable"] == total
    assert s["demand_assigned"] + s["demand_unreachable"] == total


def test_unreachable_units_are_listed_first(flood_load):
    reach = flood_load.units["reachable"].to_numpy()
    assert (~reach).any()
    first_reachable = int(np.argmax(reach))
    assert not reach[:first_reachable].any() and reach[first_reachable:].all()


def test_capacity_load_and_overload(flood_load):
    sh = flood_load.shelters
    with_cap = sh[(sh["status"] == "usable") & sh["capacity"].notna() & (sh["capacity"] > 0)]
    ratio = with_cap["demand"] / with_cap["capacity"].astype(float)
    assert np.allclose(with_cap["load_ratio"].astype(float), ratio.round(2))
    assert (with_cap["overloaded"] == (ratio > 1)).all()
    no_cap = sh[sh["capacity"].isna()]
    assert (no_cap["capacity_note"] != "").all()
    assert sh.iloc[0]["overloaded"]  # overloaded shelters first


def test_welfare_demand_is_estimated_from_published_category_totals(demo_region, flood_load):
    cats = demo_region.layers["vulnerable"].attrs["summary"]["categories"]
    share = (cats["要介護"] + cats["障害"]) / sum(cats.values())
    assert flood_load.welfare_share == pytest.approx(share)
    s = flood_load.summary()
    assert s["welfare_demand_estimate"] == pytest.approx(3000 * share, abs=1)
    assert s["welfare_capacity"] > 0


def test_2sfca_matches_a_direct_computation(demo_region, flood, flood_load):
    """Recompute the index from an explicit distance matrix (networkx, independent)."""
    from geo.coverage import demand_units

    units = demand_units(demo_region.layers["vulnerable"], crs=demo_region.crs)
    shel = demo_region.layers["shelters"].reset_index(drop=True)
    usable = shel[flood.shelter_status.to_numpy() == "usable"].to_crs(demo_region.crs)
    assert flood_load.units["access_2sfca"].max() > 0
    # spot check: a unit with no usable shelter within the catchment has index 0
    far = flood_load.units[~flood_load.units["reachable"]]
    assert (far["access_2sfca"] == 0).all()
    assert len(units) == len(flood_load.units) and len(usable) > 0


def test_no_usable_shelter_means_everyone_unreachable(demo_region, demo_net):
    shelters = demo_region.layers["shelters"].copy()
    shelters["volcano"] = False
    scen = make_scenario("volcano", hazards=None, network=demo_net, shelters=shelters)
    res = shelter_load(demo_region.layers["vulnerable"], shelters, scen, crs=demo_region.crs)
    assert not res.units["reachable"].any()
    assert any("使える避難所がありません" in n for n in res.notes)


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


# ---------------------------------------------------------------- VC plan


def test_p_median_exact_equals_brute_force():
    rng = np.random.default_rng(3)
    cost = rng.uniform(100, 5000, size=(7, 40))
    w = rng.integers(1, 20, size=40)
    _sel, obj, how = p_median(cost, w, 3)
    import itertools

    brute = min(float(np.dot(cost[list(c)].min(axis=0), w)) for c in itertools.combinations(range(7), 3))
    assert how == "exact" and obj == pytest.approx(brute)


def test_p_median_interchange_on_a_larger_instance_is_close_to_optimal():
    import geo.vc_plan as vp

    rng = np.random.default_rng(5)
    cost = rng.uniform(100, 5000, size=(9, 60))
    w = rng.integers(1, 20, size=60)
    exact = p_median(cost, w, 3)[1]
    old = vp.MAX_ENUMERATION
    try:
        vp.MAX_ENUMERATION = 1
        _sel, obj, how = p_median(cost, w, 3)
    finally:
        vp.MAX_ENUMERATION = old
    assert how == "greedy_interchange" and obj <= exact * 1.05


def test_vc_plan_on_the_demo_flood(demo_region, demo_net, flood):
    plan = vc_plan(demo_region.layers["vulnerable"], demo_region.layers["vc_sites"], flood,
                   crs=demo_region.crs, boundaries=demo_region.layers["boundaries"],
                   shelters=demo_region.layers["shelters"], network=flood.network,
                   normal_network=demo_net)
    cand = plan.candidates.set_index("site_id")
    assert cand.loc["VC01", "status"] == "in_zone"  # the 湖北市 社協 sits by the river
    assert "VC01" not in plan.plan["open_site"].tolist()
    assert set(plan.plan["muni_code"]) == {"05901", "05902", "05903"}
    assert (plan.units["vc_id"].isin(plan.plan["open_site"]) | (plan.units["vc_id"] == "")).all()
    assert plan.median["p"] == 3 and plan.median["method"] == "exact"


def test_backup_from_a_neighbouring_municipality(demo_region, demo_net):
    """A flood zone over 湖南町's only candidate: the plan proposes a neighbour's site + route."""
    vc = demo_region.layers["vc_sites"]
    site = vc[vc["site_id"] == "VC03"].to_crs(demo_region.crs).geometry.iloc[0]
    zone = gpd.GeoDataFrame({"hazard": ["flood"], "rank": [3]},
                            geometry=[site.buffer(150)], crs=demo_region.crs).to_crs("EPSG:4326")
    scen = make_scenario("flood", hazards=zone, network=demo_net,
                         shelters=demo_region.layers["shelters"])
    plan = vc_plan(demo_region.layers["vulnerable"], vc, scen, crs=demo_region.crs,
                   boundaries=demo_region.layers["boundaries"], network=scen.network,
                   normal_network=demo_net)
    row = plan.plan.set_index("muni_code").loc["05902"]
    assert row["decision"] == "backup_neighbour" and row["open_site_muni"] != "05902"
    assert plan.routes["backup-05902"].found
    assert not scen.closed[plan.routes["backup-05902"].segments].any()


# ---------------------------------------------------------------- CLI


def test_cli_shelters_route_vc_plan_on_the_demo(demo_dir, tmp_path, run_cli):
    toml = demo_dir / "region.toml"
    code, out, err = run_cli("shelters", toml, "--hazard", "flood", "--out", tmp_path / "sh")
    assert code == 0, err
    s = json.loads(out)
    assert s["demand_assigned"] + s["demand_unreachable"] == s["demand_total"] == 3000
    assert s["shelters"]["in_zone"] >= 1 and s["closed_segments"] > 0
    for name in ("shelters_flood.gpkg", "shelter_load.csv", "demand_units.csv", "overloaded.csv",
                 "closed_roads.geojson"):
        assert (tmp_path / "sh" / name).exists()
    assert (tmp_path / "sh" / "shelter_load.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert set(gpd.list_layers(tmp_path / "sh" / "shelters_flood.gpkg")["name"]) == {
        "shelter_load", "demand_units", "closed_roads"}

    code, out, err = run_cli("route", toml, "--from", "VC02", "--to", "140.3716,39.6088",
                             "--hazard", "flood", "--out", tmp_path / "rt")
    assert code == 0, err
    r = json.loads(out)
    assert r["normal"]["length_m"] > 0 and r["normal"]["time_s"] > 0
    assert r["hazard"]["closed_edges_avoided"] > 0
    assert r["hazard"]["length_m"] > r["normal"]["length_m"]
    for name in ("route.geojson", "route.gpx", "route_steps.csv", "route_sheet.pdf"):
        assert (tmp_path / "rt" / name).exists()

    code, out, err = run_cli("route", toml, "--from", "140.4378,39.6515", "--to", "VC04",
                             "--out", tmp_path / "rt0")
    assert code == 0, err
    assert set(json.loads(out)) == {"normal"}

    code, out, err = run_cli("vc-plan", toml, "--hazard", "flood", "--out", tmp_path / "vc")
    assert code == 0, err
    v = json.loads(out)
    assert "VC01" not in v["open"] and v["usable"] == 3
    for name in ("vc_plan_flood.gpkg", "vc_candidates.csv", "vc_plan.csv", "dispatch_shelters.csv"):
        assert (tmp_path / "vc" / name).exists()


def test_route_sheet_pdf_has_map_and_turn_list(demo_dir, tmp_path, run_cli):
    from pypdf import PdfReader

    code, _out, err = run_cli("route", demo_dir / "region.toml", "--from", "VC02", "--to", "VC03",
                              "--hazard", "flood", "--out", tmp_path)
    assert code == 0, err
    reader = PdfReader(tmp_path / "route_sheet.pdf")
    assert len(reader.pages) >= 2
    text = "".join(p.extract_text() for p in reader.pages)
    for word in ("通常時", "災害時", "凡例", "出発", "到着", "架空"):
        assert word in text


def test_route_to_every_shelter_from_a_vc(demo_dir, tmp_path, run_cli):
    code, out, err = run_cli("route", demo_dir / "region.toml", "--from", "VC02", "--to-all",
                             "shelters", "--hazard", "flood", "--out", tmp_path)
    assert code == 0, err
    s = json.loads(out)
    assert s["routes"] == s["found_normal"] > 0
    table = (tmp_path / "routes.csv").read_text("utf-8-sig")
    assert "detour_ratio" in table and "closed_edges_avoided" in table
    code, out, err = run_cli("route", demo_dir / "region.toml", "--from", "VC02", "--to-all", "gaps",
                             "--hazard", "flood", "--out", tmp_path / "gaps")
    assert code == 0, err
    s = json.loads(out)
    assert s["to_all"] == "gaps" and s["routes"] == s["found_normal"] > 0


@pytest.mark.parametrize(("args", "column"), [
    (["--from", "39.65,140.43", "--to", "VC03"], "--from"),
    (["--from", "abc", "--to", "VC03"], "--from"),
    (["--from", "135.0,35.0", "--to", "VC03"], "--from"),
    (["--from", "VC02"], "--to"),
    (["--from", "VC02", "--to", "VC03", "--hazard", "隕石"], "--hazard"),
])
def test_route_bad_input_is_a_clear_error(demo_dir, tmp_path, run_cli, args, column):
    code, out, err = run_cli("route", demo_dir / "region.toml", *args, "--out", tmp_path)
    assert code == 2 and out == ""
    assert column in err and "Traceback" not in err


def test_shelters_without_density_is_a_clear_error(tmp_path, run_cli, demo_dir):
    text = (demo_dir / "region.toml").read_text("utf-8")
    cut = text.split("[layers.vulnerable]")[0] + "[roads]" + text.split("[roads]")[1]
    toml = demo_dir / "no_density.toml"
    toml.write_text(cut, encoding="utf-8")
    code, _out, err = run_cli("shelters", toml, "--hazard", "flood", "--out", tmp_path)
    assert code == 2 and "layers.vulnerable" in err


# ---------------------------------------------------------------- real data


def test_tachikawa_real_graph_with_real_shelters_and_a_test_flood(shared_data, tmp_path):
    """Real OSM graph + real GSI shelters of 立川市; a test flood polygon across the city."""
    from layers.roads import load_roads
    from layers.shelters import load_shelters

    d = shared_data / "tachikawa"
    net = from_graph(load_roads(d / "roads_drive_osm_2021.graphml", network="walk"), crs="EPSG:6677")
    shelters = load_shelters([d / "gsi_emergency_sites_132021.geojson",
                              d / "gsi_evacuation_shelters_132021.geojson"])
    cx, cy = float(np.median(net.x)), float(np.median(net.y))
    band = shapely.box(cx - 1000, cy - 150, cx + 1000, cy + 150)  # a 2 km × 300 m flooded band
    zones = gpd.GeoDataFrame({"hazard": ["flood"], "rank": [2]}, geometry=[band],
                             crs="EPSG:6677").to_crs("EPSG:4326")
    scen = make_scenario("flood", hazards=zones, network=net, shelters=shelters)
    assert scen.closed.sum() > 40
    status = scen.shelter_status
    assert (status == "usable").sum() > 0 and (status != "usable").sum() > 0
    pts = json.loads((d / "machiaza_points.json").read_text("utf-8"))
    units = gpd.GeoDataFrame(
        {"unit_id": [p["town"] for p in pts], "count": 5, "members": "", "geography": "町丁目"},
        geometry=gpd.points_from_xy([float(p["lng"]) for p in pts], [float(p["lat"]) for p in pts]),
        crs="EPSG:4326")
    res = shelter_load(units, shelters, scen, crs="EPSG:6677")
    usable_ids = set(res.shelters.loc[res.shelters["status"] == "usable", "shelter_id"])
    assert set(res.units.loc[res.units["reachable"], "shelter_id"]) <= usable_ids
    assert int(res.shelters["demand"].sum()) + res.summary()["demand_unreachable"] == 5 * len(pts)
    # a route across the band avoids every closed edge
    a, b = (cx, cy - 1500), (cx, cy + 1500)
    n_r, h_r = route(net, a, b), route(scen.network, a, b, base=net)
    assert n_r.found and h_r.found
    assert flood_crossed(scen, n_r) and not scen.closed[h_r.segments].any()
    assert h_r.length_m > n_r.length_m


def flood_crossed(scen, r):  # type: ignore[no-untyped-def]
    return bool(scen.closed[r.segments].any())


def test_cli_on_a_real_tachikawa_region_with_a_flood_polygon(tachikawa_region, shared_data, tmp_path,
                                                            run_cli):
    """The commands as a user runs them on real files: OSM graph, GSI GeoJSON, N03, mesh counts,
    and a flood zone drawn as a GeoJSON polygon with hazard = "flood"."""
    pts = json.loads((shared_data / "tachikawa" / "machiaza_points.json").read_text("utf-8"))
    cx = float(np.median([float(p["lng"]) for p in pts]))
    cy = float(np.median([float(p["lat"]) for p in pts]))
    band = shapely.box(cx - 0.01, cy - 0.0015, cx + 0.01, cy + 0.0015)
    gpd.GeoDataFrame({"名称": ["テスト浸水域"]}, geometry=[band], crs="EPSG:4326").to_file(
        tmp_path / "flood.geojson", driver="GeoJSON")
    toml, _total = tachikawa_region('[layers.hazards]\npath = "flood.geojson"\nhazard = "flood"\n')
    code, out, err = run_cli("shelters", toml, "--hazard", "flood", "--out", tmp_path / "sh")
    assert code == 0, err
    s = json.loads(out)
    assert s["closed_segments"] > 0 and s["demand_assigned"] + s["demand_unreachable"] == s["demand_total"]
    code, out, err = run_cli("route", toml, "--from", f"{cx:.5f},{cy - 0.012:.5f}",
                             "--to", f"{cx:.5f},{cy + 0.012:.5f}", "--hazard", "flood",
                             "--out", tmp_path / "rt")
    assert code == 0, err
    r = json.loads(out)
    assert r["normal"]["length_m"] > 0
    assert r["hazard"]["closed_edges_used"] == 0
    if r["hazard"]["closed_edges_avoided"]:
        assert r["hazard"]["length_m"] is None or r["hazard"]["length_m"] >= r["normal"]["length_m"]
    assert (tmp_path / "rt" / "route_sheet.pdf").exists()
    code, out, err = run_cli("crossborder", toml, "--hazard", "flood", "--out", tmp_path / "cb")
    assert code == 0, err
    assert json.loads(out)["municipalities"] == 1


@pytest.mark.parametrize(("command", "args", "column"), [
    ("shelters", ["--hazard", "flood", "--catchment", "-5"], "--catchment"),
    ("shelters", ["--hazard", "flood", "--shallow-factor", "0.5"], "--shallow-factor"),
    ("shelters", ["--hazard", "隕石"], "--hazard"),
    ("vc-plan", ["--hazard", "flood", "--p", "0"], "--p"),
    ("crossborder", ["--hazard", "隕石"], "--hazard"),
    ("report", ["--recommend", "0"], "--recommend"),
    ("export", ["--hazard", "隕石"], "--hazard"),
])
def test_disaster_commands_bad_options_are_clear_errors(demo_dir, tmp_path, run_cli, command, args,
                                                        column):
    code, out, err = run_cli(command, demo_dir / "region.toml", *args, "--out", tmp_path / "o")
    assert code == 2 and out == "" and column in err and "Traceback" not in err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").rglob("*.tmp*"))
