"""Winter as a scenario dimension: surface penalties by road class, 除雪優先 roads,
冬期閉鎖 sections by date, OSM conditional closures, thresholds in minutes.

Expected values are worked out by hand from the anchors (+1 min/km on main roads, +2 on
the others, walking at 80 m/min), never from the code's own factors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from scipy.sparse.csgraph import dijkstra

from geo.engine.network import from_graph
from geo.engine.profiles import threshold_metres
from geo.engine.season import parse_season, season_network
from layers.cellkey import MAX_CHANGE
from layers.errors import LayerError, ParameterError
from layers.winter import WinterSpec, closed_on, conditional_closed, load_closures, read_winter

CRS = "EPSG:6678"
LON0, LAT0 = 140.10, 39.70
DLON = 100.0 / (111_320.0 * np.cos(np.radians(LAT0)))  # ≈ 100 m east
DLAT = 100.0 / 110_950.0                               # ≈ 100 m north


def _street(nodes: dict[int, tuple[float, float]], edges: list[tuple[int, int, str, str | None]]
            ) -> nx.MultiDiGraph:
    """A walk graph with given lengths of exactly 100 m per edge (both directions)."""
    g = nx.MultiDiGraph(crs="epsg:4326", network="walk")
    for n, (i, j) in nodes.items():
        g.add_node(n, x=LON0 + i * DLON, y=LAT0 + j * DLAT)
    for a, b, hw, name in edges:
        for u, v in ((a, b), (b, a)):
            g.add_edge(u, v, length=100.0, highway=hw, **({"name": name} if name else {}))
    return g


@pytest.fixture
def town():  # type: ignore[no-untyped-def]
    """A national road A–B–C (国道7号, primary) and a side street B–D–E (residential)."""
    nodes = {1: (0, 0), 2: (1, 0), 3: (2, 0), 4: (1, 1), 5: (1, 2)}
    edges = [(1, 2, "primary", "国道7号"), (2, 3, "primary", "国道7号"),
             (2, 4, "residential", None), (4, 5, "residential", None)]
    return from_graph(_street(nodes, edges), crs=CRS)


def _dist(net, a: int, b: int) -> float:  # type: ignore[no-untyped-def]
    """Plain shortest path (scipy) between node ids ``a`` and ``b``."""
    ia, ib = (int(np.flatnonzero(net.node_ids == k)[0]) for k in (a, b))
    return float(dijkstra(net.matrix(), directed=True, indices=ia)[ib])


def _line(*ij: tuple[float, float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[shapely.LineString([(LON0 + i * DLON, LAT0 + j * DLAT)
                                                          for i, j in ij])], crs="EPSG:6668")


def test_winter_adds_the_minutes_per_km_of_each_road_class(town):
    """A → E: 100 m of national road and 200 m of side street.  Summer 300 m (3.75 min);
    winter +1 min/km × 0.1 km + 2 min/km × 0.2 km = +0.5 min → 4.25 min = 340 m at 80 m/min."""
    assert _dist(town, 1, 5) == pytest.approx(300.0, abs=0.5)
    winter = season_network(town, parse_season("winter"), spec=WinterSpec())
    assert _dist(winter.network, 1, 5) == pytest.approx(340.0, abs=0.5)
    assert _dist(town, 1, 5) == pytest.approx(300.0, abs=0.5)  # the normal network is untouched
    # elderly at 50 m/min, +1.5 / +3 min/km: 6.0 min + 0.15 + 0.6 = 6.75 min = 337.5 m at 50 m/min
    old = season_network(town, parse_season("winter"), spec=WinterSpec(), profile="elderly")
    assert _dist(old.network, 1, 5) == pytest.approx(337.5, abs=0.5)


def test_priority_roads_keep_their_summer_speed(town, tmp_path):
    """国道7号 on the 除雪優先 list: 100 m + 200 m × 1.16 = 332 m; the same road given as a
    line of the priority routes gives the same."""
    by_name = season_network(town, parse_season("winter"), spec=WinterSpec(priority_roads=("国道7号",)))
    assert _dist(by_name.network, 1, 5) == pytest.approx(332.0, abs=0.5)
    by_line = season_network(town, parse_season("winter"), spec=WinterSpec(),
                             priority=_line((0, 0), (2, 0)))
    assert _dist(by_line.network, 1, 5) == pytest.approx(332.0, abs=0.5)
    assert by_line.priority.sum() == 2  # A–B and B–C, not the side street touching it at B


def test_a_closed_section_closes_its_road_not_the_street_that_crosses_it(town):
    """A closure drawn along D–E: E is cut off; B–D, which meets the line at D, stays open."""
    winter = season_network(town, parse_season("winter"), spec=WinterSpec(), closures=_line((1, 1), (1, 2)),
                            slow=False)  # a threshold in metres: closures only, summer speed
    assert np.isinf(_dist(winter.network, 1, 5))
    assert _dist(winter.network, 1, 4) == pytest.approx(200.0, abs=0.5)
    assert winter.closed.sum() == 1


def test_a_published_table_of_closed_sections_closes_the_road_between_its_places(town, tmp_path):
    """Akita publishes 冬期閉鎖 as a table: route, section from 字 to 字, dates.  Here 国道7号
    from 字東 (at A) to 字中 (at B) in force 12-01 → 03-31, placed with a two-place
    reference file: A–B closes (A is cut off from C), B–C and the side street stay open; in
    May nothing closes; a place the reference lacks is named with its row."""
    import json

    from layers.geocode import load_geocoder

    ref = tmp_path / "試験町.json"
    ref.write_text(json.dumps([{"town": "字東", "koaza": "", "lat": LAT0, "lng": LON0},
                               {"town": "字中", "koaza": "", "lat": LAT0, "lng": LON0 + DLON}],
                              ensure_ascii=False), encoding="utf-8")
    geocoder = load_geocoder([ref])
    table = tmp_path / "toki_heisa.csv"
    table.write_text("路線名,区間,開始,終了\n国道7号,字東〜字中,12月1日,3月31日\n", encoding="cp932")
    jan = load_closures((table,), day=dt.date(2027, 1, 15), geocoder=geocoder)
    # cp932 keeps the wave dash as its full-width form: both split a section
    assert list(jan["section"].str.replace("～", "〜")) == ["字東〜字中"] and jan["by_ends"].all()
    winter = season_network(town, parse_season("winter"), spec=WinterSpec(), closures=jan)
    assert int(winter.closed.sum()) == 1
    assert not np.isfinite(_dist(winter.network, 1, 3))  # A is cut off
    assert _dist(winter.network, 2, 5) == pytest.approx(200 * 1.16, abs=0.5)  # the side street, slowed
    assert len(load_closures((table,), day=dt.date(2027, 5, 1), geocoder=geocoder)) == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("路線名,起点,終点\n国道7号,字東,字北\n", encoding="utf-8")
    with pytest.raises(LayerError) as err:
        load_closures((bad,), day=None, geocoder=geocoder)
    assert "2 行目" in str(err.value) and "字北" in str(err.value)
    with pytest.raises(LayerError) as err:
        load_closures((table,), day=None)
    assert "geocoder" in (err.value.fix or "")


def test_closure_dates_run_over_the_new_year(tmp_path):
    assert closed_on((12, 1), (4, 20), dt.date(2027, 1, 15))
    assert closed_on((12, 1), (4, 20), dt.date(2026, 12, 1))
    assert closed_on((12, 1), (4, 20), dt.date(2027, 4, 20))
    assert not closed_on((12, 1), (4, 20), dt.date(2027, 4, 21))
    assert not closed_on((11, 1), (11, 30), dt.date(2027, 1, 15))
    path = tmp_path / "heisa.geojson"
    frame = gpd.GeoDataFrame({"路線名": ["県道A線", "県道B線"], "開始": ["12月1日", "11-15"],
                              "終了": ["4月20日", "11-30"]},
                             geometry=[shapely.LineString([(140.1, 39.7), (140.11, 39.7)])] * 2,
                             crs="EPSG:6668")
    frame.to_file(path, driver="GeoJSON")
    on = load_closures((path,), day=dt.date(2027, 1, 15))
    assert list(on["route"]) == ["県道A線"] and list(on["start"]) == ["12-01"]
    assert len(load_closures((path,), day=None)) == 2  # no day: every listed section


def test_osm_conditional_closures_by_date():
    day = dt.date(2027, 1, 15)
    assert conditional_closed("no @ (Dec-Mar)", day) is True
    assert conditional_closed("no @ (Dec-Mar)", dt.date(2027, 5, 1)) is False
    assert conditional_closed("no @ (Nov 15-Apr 30)", dt.date(2027, 4, 30)) is True
    assert conditional_closed("no @ (Nov 15-Apr 30)", dt.date(2027, 5, 1)) is False
    assert conditional_closed("destination @ (Dec-Mar)", day) is None  # not a closure
    assert conditional_closed("no @ (snow)", day) is None               # not a date: unread


def test_thresholds_in_minutes_become_metres_at_the_summer_speed():
    assert threshold_metres(max_distance=None, max_minutes=10, profile="elderly") == 500.0
    assert threshold_metres(max_distance=None, max_minutes=10, profile="walk") == 800.0
    assert threshold_metres(max_distance=500, max_minutes=None, profile="walk") == 500.0
    with pytest.raises(ParameterError):
        threshold_metres(max_distance=None, max_minutes=-1, profile="walk")


def test_season_and_date_words():
    assert parse_season("冬").winter and not parse_season("summer").winter
    assert parse_season(None, "2027-01-15").winter          # a January day is winter
    assert not parse_season(None, "2027-07-01").winter
    assert parse_season("winter", "2027-01-15").label == "冬（2027-01-15）"
    for bad in (("autumn", None), ("winter", "15/01/2027")):
        with pytest.raises(ParameterError):
            parse_season(*bad)


def test_bad_winter_tables_name_every_problem(tmp_path):
    toml = tmp_path / "region.toml"
    with pytest.raises(LayerError) as err:
        read_winter({"walk": {"main": -1, "side": 2}, "elderly": {"main": "a lot"},
                     "priority_roads": "国道7号", "closures": "missing.geojson"}, toml=toml)
    msg = err.value.message
    for part in ("walk", "elderly.main", "priority_roads", "missing.geojson"):
        assert part in msg
    assert read_winter(None, toml=toml).penalty["walk"] == {"main": 1.0, "other": 2.0}
    assert json.dumps(read_winter({"walk": {"main": 0.5}}, toml=toml).penalty["walk"]) == \
        '{"main": 0.5, "other": 2.0}'


def test_closure_file_with_a_bad_date_names_its_row(tmp_path):
    path = tmp_path / "heisa.geojson"
    gpd.GeoDataFrame({"開始": ["12-01", "いつか"]},
                     geometry=[shapely.LineString([(140.1, 39.7), (140.11, 39.7)])] * 2,
                     crs="EPSG:6668").to_file(path, driver="GeoJSON")
    with pytest.raises(LayerError) as err:
        load_closures((Path(path),), day=dt.date(2027, 1, 15))
    assert err.value.row == 3 and err.value.column == "開始"


def test_outlook_on_the_demo_names_who_is_cut_off_in_january(demo_dir, tmp_path, run_cli):
    """The demo's hill tracks are closed from 12-01 to 04-20: in January fewer people are
    within 10 elderly minutes of a 居場所 than in summer; the tables add up; in May (a
    winter season forced on a day outside the closure) no section is closed."""
    out = tmp_path / "jan"
    code, stdout, err = run_cli("outlook", demo_dir / "region.toml", "--out", out, "--max-minutes", "10",
                                "--profile", "elderly", "--date", "2027-01-15")
    assert code == 0, err
    s = json.loads(stdout)
    assert s["season"] == "冬（2027-01-15）" and s["closed_segments"] > 0
    assert 0 < s["covered_winter"] < s["covered_summer"]
    # lost is counted person by person (protected): summer − winter within the changes
    assert abs(s["lost"] - (s["covered_summer"] - s["covered_winter"])) <= 3 * MAX_CHANGE + 2
    units = gpd.read_file(out / "winter_loss_units.gpkg")
    assert "members" not in units  # published units only, no member lists
    both = units.dropna(subset=["summer_m", "winter_m"])
    assert (both["winter_m"] >= both["summer_m"] - 1e-6).all()  # winter never shortens a walk
    import pandas as pd

    place = pd.read_csv(out / "winter_loss_by_place.csv", encoding="utf-8-sig")
    lost = pd.to_numeric(place["people_lost"], errors="coerce")
    assert abs(lost.fillna(0).sum() - s["lost"]) <= MAX_CHANGE * (len(place) + 1) + 4 * lost.isna().sum()
    assert (place["season"] == s["season"]).all()
    area = pd.read_csv(out / "winter_loss_by_area.csv", encoding="utf-8-sig")
    towns = area[area["area_layer"] == "boundaries"]
    assert abs(pd.to_numeric(towns["lost"]).sum() - s["lost"]) <= MAX_CHANGE * (len(towns) + 1)
    closures = gpd.read_file(out / "winter_closures.geojson")
    # the hill tracks (lines) and the village road from the administrator's table (placed by
    # its two 町字, drawn along its roads: more than two points)
    assert "村道 北沢田代線（架空）" in set(closures["route"]) and len(closures) > 1
    table_row = closures[closures["route"] == "村道 北沢田代線（架空）"].geometry.iloc[0]
    assert len(table_row.coords) > 2
    assert (out / "winter_loss_map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, stdout, _ = run_cli("coverage", demo_dir / "region.toml", "--out", tmp_path / "may",
                              "--season", "winter", "--date", "2027-05-10", "--max-distance", "500")
    assert code == 0
    code, stdout2, _ = run_cli("coverage", demo_dir / "region.toml", "--out", tmp_path / "summer",
                               "--max-distance", "500")
    # a threshold in metres with no section in force: winter is summer
    assert json.loads(stdout)["covered"] == json.loads(stdout2)["covered"]


def test_a_winter_route_takes_the_snow_minutes_and_goes_round_a_closed_pass(town):
    """A → E by the side street: 300 m, 3.75 min in summer and 4.25 min in winter (worked out
    above); its length stays 300 m.  With B–D closed for the winter there is no way to E
    (a dead end), and the route says so instead of crossing the closure."""
    from geo.engine.routing import route

    xy = {k: (float(town.x[i]), float(town.y[i])) for i, k in enumerate(town.node_ids)}
    winter = season_network(town, parse_season("winter"), spec=WinterSpec())
    summer = route(town, xy[1], xy[5])
    snowy = route(winter.network, xy[1], xy[5], base=town)
    assert summer.length_m == pytest.approx(300.0, abs=0.5) and summer.walk_s == pytest.approx(225.0, abs=1)
    assert snowy.length_m == pytest.approx(300.0, abs=0.5) and snowy.walk_s == pytest.approx(255.0, abs=1)
    shut = season_network(town, parse_season("winter"), spec=WinterSpec(), closures=_line((1, 0), (1, 1)))
    cut = route(shut.network, xy[1], xy[5], base=town)
    assert not cut.found and "通行止め" in cut.reason


def test_winter_routes_and_vc_plan_on_the_demo(demo_dir, tmp_path, run_cli):
    """``tomoni route --season winter``: the second route is named and dated; an elderly
    walk in winter is never faster than in summer and never slower than the worst surface
    (+3 min/km at 50 m/min: ×1.15 of its own length) allows.  ``tomoni vc-plan --season
    winter`` closes the flood's roads and the sections in force, and says so."""
    code, stdout, err = run_cli("route", demo_dir / "region.toml", "--from", "VC01", "--to-all", "places",
                                "--season", "winter", "--date", "2027-01-15", "--profile", "elderly",
                                "--out", tmp_path / "routes")
    assert code == 0, err
    s = json.loads(stdout)
    assert s["found_winter"] == s["found_normal"] > 0
    import pandas as pd

    t = pd.read_csv(tmp_path / "routes" / "routes.csv", encoding="utf-8-sig").dropna(subset=["winter_time_s"])
    assert (t["winter_length_m"] >= t["normal_length_m"] - 0.5).all()
    assert (t["winter_time_s"] >= t["normal_time_s"] - 0.5).all()
    assert (t["winter_time_s"] <= t["winter_length_m"] * 1.15 / 50 * 60 + 0.5).all()
    assert (t["winter_time_s"] > t["normal_time_s"] + 0.5).any()
    code, stdout, err = run_cli("route", demo_dir / "region.toml", "--from", "VC01", "--to", "IB001",
                                "--season", "winter", "--out", tmp_path / "one")
    assert code == 0, err
    one = json.loads(stdout)
    assert one["winter"]["season"] == "冬" and one["winter"]["elderly_s"] is None
    assert (tmp_path / "one" / "route_sheet.pdf").read_bytes()[:5] == b"%PDF-"
    plans = {}
    for name, extra in (("summer", []), ("winter", ["--season", "winter", "--date", "2027-01-15"])):
        code, stdout, err = run_cli("vc-plan", demo_dir / "region.toml", "--hazard", "flood",
                                    "--out", tmp_path / f"vc-{name}", *extra)
        assert code == 0, err
        plans[name] = json.loads(stdout)
    assert plans["winter"]["closed_segments"] > plans["summer"]["closed_segments"]
    assert plans["winter"]["season"].startswith("冬") and plans["summer"]["season"] == "夏"
    assert any("冬期閉鎖区間（2027-01-15" in n for n in plans["winter"]["notes"])


def test_check_reads_the_winter_files_and_the_projection(demo_dir, tmp_path, run_cli):
    """`tomoni check` reads the closures (the table placed with the geocoder) and the
    projection as the analyses do, and a closure table naming a 字 the reference lacks is an
    error naming its row — before any analysis runs."""
    import shutil

    code, stdout, err = run_cli("check", demo_dir / "region.toml")
    assert code == 0, err
    assert "冬期閉鎖:" in stdout and "（表から 1）" in stdout and "将来推計: 500 m メッシュ" in stdout
    code, stdout, _ = run_cli("check", demo_dir / "region.toml", "--json")
    s = json.loads(stdout)
    assert s["winter"]["from_tables"] == 1 and 2050 in s["projection"]["years"]
    copy = tmp_path / "demo"
    shutil.copytree(demo_dir, copy)
    (copy / "toki_heisa_hyou.csv").write_text("路線名,市町村,区間,開始,終了\r\n"
                                              "村道（架空）,川東村,北沢〜存在しない字,12月1日,3月31日\r\n",
                                              encoding="cp932")
    code, _, err = run_cli("check", copy / "region.toml")
    assert code == 2 and "2 行目" in err and "存在しない字" in err and "Traceback" not in err


def test_a_bad_date_or_season_is_a_plain_error(demo_dir, tmp_path, run_cli):
    code, _, err = run_cli("coverage", demo_dir / "region.toml", "--out", tmp_path / "x",
                           "--season", "winter", "--date", "2027-13-01")
    assert code == 2 and "日付" in err and "Traceback" not in err


def test_shelters_in_a_january_flood_and_in_2050(demo_dir, tmp_path, run_cli):
    """The winter closures add to the flood's; the year's demand comes from the projection."""
    runs = {}
    for name, extra in (("summer", []), ("winter", ["--season", "winter", "--date", "2027-01-15"]),
                        ("y2050", ["--year", "2050"])):
        code, stdout, err = run_cli("shelters", demo_dir / "region.toml", "--hazard", "flood",
                                    "--out", tmp_path / name, *extra)
        assert code == 0, err
        runs[name] = json.loads(stdout)
    assert runs["winter"]["closed_segments"] > runs["summer"]["closed_segments"]
    assert runs["winter"]["season"] == "冬（2027-01-15）" and runs["y2050"]["year"] == 2050
    assert any("冬期閉鎖" in n for n in runs["winter"]["notes"])
    people = {k: v["demand_total"] for k, v in runs.items()}
    assert people["winter"] == people["summer"]  # the same register, winter or not
    assert 0 < people["y2050"] < people["summer"]  # the projection's decline by 2050


OSM_WINTER = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="tomoni-tests">
  <node id="1" lat="39.7000" lon="140.1000" version="1"/>
  <node id="2" lat="39.7000" lon="140.1050" version="1"/>
  <node id="3" lat="39.7000" lon="140.1100" version="1"/>
  <node id="4" lat="39.7040" lon="140.1050" version="1"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/>
    <tag k="highway" v="residential"/></way>
  <way id="11" version="1"><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="residential"/></way>
  <way id="12" version="1"><nd ref="2"/><nd ref="4"/>
    <tag k="highway" v="unclassified"/><tag k="name" v="峠道（架空）"/>
    <tag k="access:conditional" v="no @ (Dec 1-Apr 20)"/></way>
</osm>
"""


@pytest.mark.parametrize("suffix", [".osm", ".osm.pbf"])
def test_osm_conditional_closures_read_from_the_road_file(tmp_path, suffix):
    """The mountain road 2–4 is tagged ``access:conditional = no @ (Dec 1-Apr 20)``: closed
    on 15 January, open on 1 May, open in summer; the other roads never close."""
    from layers.roads import load_roads
    from tests.osm_files import to_pbf, write_osm

    osm = write_osm(OSM_WINTER, tmp_path / "roads.osm")
    path = osm if suffix == ".osm" else to_pbf(osm, tmp_path / "roads.osm.pbf")
    net = from_graph(load_roads(path, network="walk"), crs=CRS)
    n1, n4 = 1, 4
    assert np.isfinite(_dist(net, n1, n4))
    jan = season_network(net, parse_season("winter", "2027-01-15"), spec=WinterSpec(), slow=False)
    may = season_network(net, parse_season("winter", "2027-05-01"), spec=WinterSpec(), slow=False)
    assert np.isinf(_dist(jan.network, n1, n4)) and jan.closed.sum() == 1
    assert _dist(may.network, n1, n4) == pytest.approx(_dist(net, n1, n4))
    assert np.isfinite(_dist(jan.network, 1, 3))  # the residential street stays open
