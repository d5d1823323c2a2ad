"""The disaster commands end to end (shelters, route, vc-plan) on the demo and on real data."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.analyses.shelter_load import shelter_load
from geo.engine.network import from_graph
from geo.engine.routing import route
from geo.engine.scenario import make_scenario
from layers.cellkey import MAX_CHANGE
from tests.scenario_fixtures import points_of

_pts = points_of


# ---------------------------------------------------------------- CLI


def test_cli_shelters_route_vc_plan_on_the_demo(demo_dir, tmp_path, run_cli):
    toml = demo_dir / "region.toml"
    code, out, err = run_cli("shelters", toml, "--hazard", "flood", "--out", tmp_path / "sh")
    assert code == 0, err
    s = json.loads(out)
    # each total its own protected count of the register's people (±2 each)
    assert abs(s["demand_assigned"] + s["demand_unreachable"] - s["demand_total"]) <= 3 * MAX_CHANGE
    assert abs(s["demand_total"] - 3000) <= MAX_CHANGE * 200
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
    toml = demo_dir / "no_density.toml"  # beside the demo's files (its paths are relative) …
    toml.write_text(cut, encoding="utf-8")
    try:
        code, _out, err = run_cli("shelters", toml, "--hazard", "flood", "--out", tmp_path)
    finally:
        toml.unlink()  # … and gone again: the session's demo folder stays as generated
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
    assert s["closed_segments"] > 0
    assert abs(s["demand_assigned"] + s["demand_unreachable"] - s["demand_total"]) <= 3 * MAX_CHANGE
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
