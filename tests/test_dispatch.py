"""The 災害VC's day: needs and teams lists, the plan, its outputs, shelter minimum needs.

References are independent of the planner: distances by networkx on hand-built
graphs (a river with one bridge, a closed bridge), the best visiting order by brute
force over every permutation, and toilet counts worked out by hand.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from geo.analyses.dispatch import REASONS, plan_dispatch
from geo.analyses.shelter_load import ShelterLoad
from geo.analyses.shelter_needs import DEFAULT_RATIOS, read_ratios, shelter_needs
from geo.engine.network import from_graph
from geo.engine.scenario import make_scenario
from geo.outputs.files.dispatch import CARE_LABEL, write_dispatch_outputs
from layers.cellkey import MAX_CHANGE
from layers.errors import LayerError
from layers.needs import parse_window, read_needs
from layers.teams import read_teams

CRS = "EPSG:6678"
ORIGIN = (-30000.0, -60000.0)
_TO_LONLAT = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)


def _lonlat(x: float, y: float) -> tuple[float, float]:
    return _TO_LONLAT.transform(ORIGIN[0] + x, ORIGIN[1] + y)


def _csv(path: Path, rows: list[dict], encoding: str = "utf-8-sig") -> Path:
    pd.DataFrame(rows).to_csv(path, index=False, encoding=encoding)
    return path


# ------------------------------------------------------------------ fixtures


@pytest.fixture
def river_town():  # type: ignore[no-untyped-def]
    """A 3 × 3 street grid (500 m) north of a river and one street south of it; the only
    bridge joins node 1 (x = 500) to node 10 (x = 500, south).  Walk and drive graphs."""
    nodes = {i * 3 + j: (j * 500.0, 500.0 + i * 500.0) for i in range(3) for j in range(3)}
    nodes |= {9: (0.0, -500.0), 10: (500.0, -500.0), 11: (1000.0, -500.0)}
    roads = [(a, b) for a in range(9) for b in range(9)
             if a < b and ((b == a + 1 and a % 3 != 2) or b == a + 3)]
    roads += [(9, 10), (10, 11), (1, 10)]

    def graph(network: str) -> nx.MultiDiGraph:
        g = nx.MultiDiGraph(crs="epsg:4326", network=network)
        for n, (x, y) in nodes.items():
            lon, lat = _lonlat(x, y)
            g.add_node(n, x=lon, y=lat)
        for u, v in roads:
            length = float(np.hypot(nodes[u][0] - nodes[v][0], nodes[u][1] - nodes[v][1]))
            for a, b in ((u, v), (v, u)):
                g.add_edge(a, b, length=length, highway="residential")
        return g

    return nodes, graph("walk"), graph("drive")


def _needs_file(tmp_path: Path, nodes: dict, rows: list[dict]) -> Path:
    out = []
    for r in rows:
        lon, lat = _lonlat(*nodes[r.pop("node")])
        out.append({"緯度": f"{lat:.8f}", "経度": f"{lon:.8f}", **r})
    return _csv(tmp_path / "needs.csv", out)


def _vc(nodes: dict, node: int = 0) -> dict:
    lon, lat = _lonlat(*nodes[node])
    return {"site_id": "VC", "name": "VC", "lon": lon, "lat": lat}


# ------------------------------------------------------------------ reading


def test_needs_list_as_kintone_exports_it_keeps_no_names(tmp_path):
    f = _csv(tmp_path / "n.csv", [
        {"受付番号": "N-1", "依頼者氏名": "秋田 花子", "電話番号": "018-000-0001", "住所": "",
         "緯度": "39.72", "経度": "140.10", "作業内容": "泥出し", "必要人数": "５",
         "必要資機材": "スコップ、一輪車", "希望時間帯": "９時〜１２時", "優先度": "高", "要配慮者": "○"},
        {"受付番号": "N-2", "依頼者氏名": "能代 太郎", "電話番号": "018-000-0002", "住所": "",
         "緯度": "39.73", "経度": "140.11", "作業内容": "見守り訪問", "必要人数": "1",
         "必要資機材": "", "希望時間帯": "", "優先度": "", "要配慮者": ""}], encoding="cp932")
    needs = read_needs(f)
    t = needs.table
    assert list(t["need_id"]) == ["N-1", "N-2"] and list(t["people"]) == [5, 1]
    assert t["tools"][0] == ("スコップ", "一輪車") or set(t["tools"][0]) == {"スコップ", "一輪車"}
    assert (t["window_start"][0], t["window_end"][0]) == (9 * 3600, 12 * 3600)
    assert list(t["priority"]) == [3, 2] and list(t["care"]) == [True, False]
    assert list(t["service_s"]) == [180 * 60, 30 * 60]
    text = repr(needs) + t.to_csv()
    assert "花子" not in text and "018-000" not in text


@pytest.mark.parametrize(("cell", "column", "row"), [
    ({"必要人数": "たくさん"}, "必要人数", 3), ({"希望時間帯": "夕方ごろ"}, "希望時間帯", 3),
    ({"優先度": "すごく"}, "優先度", 3), ({"受付番号": "N-1"}, "受付番号", 3),
    ({"緯度": ""}, "緯度", 3),
])
def test_bad_needs_name_row_and_column_not_value(tmp_path, cell, column, row):
    good = {"受付番号": "N-1", "緯度": "39.72", "経度": "140.10", "作業内容": "泥出し", "必要人数": "3",
            "希望時間帯": "", "優先度": "中"}
    f = _csv(tmp_path / "n.csv", [good, {**good, "受付番号": "N-2", **cell}])
    with pytest.raises(LayerError) as err:
        read_needs(f)
    assert err.value.row == row and err.value.column == column and err.value.fix
    assert "たくさん" not in str(err.value) and "夕方" not in str(err.value)


def test_address_needs_without_a_geocoder_say_how_to_add_one(tmp_path):
    f = _csv(tmp_path / "n.csv", [{"受付番号": "1", "住所": "架空県湖北市本町1-1", "作業内容": "泥出し",
                                   "必要人数": "3"}])
    with pytest.raises(LayerError, match="参照点") as err:
        read_needs(f)
    assert "[geocoder]" in (err.value.fix or "")


def test_needs_from_excel_and_addresses_placed_offline(tmp_path, demo_region):
    df = pd.DataFrame({"受付番号": ["A", "B"], "住所": ["架空県湖北市本町3-1", "架空県湖南町南台2-2"],
                       "作業内容": ["片付け", "泥出し"], "必要人数": [2, 4]})
    f = tmp_path / "needs.xlsx"
    df.to_excel(f, index=False)
    needs = read_needs(f, geocoder=demo_region.geocoder)
    assert needs.placed_by_address == 2 and list(needs.table["area"]) == ["本町", "南台"]
    assert needs.notes and needs.notes[0].startswith("住所から位置を求めました") and "2 件" in needs.notes[0]


def test_needs_by_coordinates_are_labelled_with_the_nearest_town(tmp_path, demo_dir, demo_region):
    towns = json.loads((demo_dir / "machiaza" / "湖北市.json").read_text("utf-8"))
    honmachi = next(t for t in towns if t["town"] == "本町")
    f = _csv(tmp_path / "n.csv", [
        {"受付番号": "1", "住所": "", "緯度": honmachi["lat"] + 0.001, "経度": honmachi["lng"] - 0.001,
         "作業内容": "片付け", "必要人数": 2},
        {"受付番号": "2", "住所": "架空県湖南町南台2-2", "緯度": "", "経度": "", "作業内容": "泥出し",
         "必要人数": 4}])
    needs = read_needs(f, geocoder=demo_region.geocoder)
    assert list(needs.table["area"]) == ["本町", "南台"] and needs.placed_by_address == 1


def test_teams_list_vehicle_counts_as_a_tool(tmp_path):
    f = _csv(tmp_path / "t.csv", [{"班名": "A班", "人数": "5", "車両": "軽トラ", "資機材": "スコップ",
                                   "活動時間": "9:00-15:00", "班長": "（架空）"},
                                  {"班名": "B班", "人数": "3", "車両": "", "資機材": "", "活動時間": ""}])
    t = read_teams(f).table
    assert list(t["mode"]) == ["drive", "walk"] and t["tools"][0] == ("スコップ", "軽トラ")
    assert (t["start"][1], t["end"][1]) == (9 * 3600, 15 * 3600 + 1800)
    bad = _csv(tmp_path / "b.csv", [{"班名": "A班", "人数": "0"}])
    with pytest.raises(LayerError) as err:
        read_teams(bad)
    assert err.value.row == 2 and err.value.column == "人数"


def test_time_windows_as_people_write_them():
    assert parse_window("午前") == (9 * 3600, 12 * 3600)
    assert parse_window("13:30～15:00") == (13 * 3600 + 1800, 15 * 3600)
    assert parse_window("終日") is None and parse_window("") is None
    with pytest.raises(ValueError):
        parse_window("12:00-9:00")


# ------------------------------------------------------------------ the plan


def _teams(tmp_path: Path, rows: list[dict]):  # type: ignore[no-untyped-def]
    return read_teams(_csv(tmp_path / "teams.csv", rows))


def test_the_bridge_is_the_only_way_across_the_river(tmp_path, river_town):
    """A need across the river is reached by the bridge: 1,500 m by road from node 0 to
    node 11, not the 1,414 m a straight line × anything would suggest; networkx agrees."""
    nodes, walk, _drive = river_town
    needs = read_needs(_needs_file(tmp_path, nodes, [
        {"node": 11, "受付番号": "S", "作業内容": "見守り", "必要人数": 1}]))
    teams = _teams(tmp_path, [{"班名": "A", "人数": 2, "車両": "徒歩"}])
    net = from_graph(walk, crs=CRS)
    plan = plan_dispatch(needs, teams, _vc(nodes), crs=CRS, networks={"walk": net})
    want = nx.shortest_path_length(walk, 0, 11, weight="length")
    assert want == pytest.approx(2000.0)
    assert plan.stops["leg_m"].iloc[0] == pytest.approx(want, abs=1.0)
    assert plan.teams["km"].iloc[0] == pytest.approx(2 * want / 1000, abs=0.01)


def test_a_closed_bridge_leaves_the_need_unassigned_with_its_reason(tmp_path, river_town):
    nodes, walk, _drive = river_town
    needs = read_needs(_needs_file(tmp_path, nodes, [
        {"node": 11, "受付番号": "S", "作業内容": "見守り", "必要人数": 1},
        {"node": 8, "受付番号": "N", "作業内容": "見守り", "必要人数": 1}]))
    teams = _teams(tmp_path, [{"班名": "A", "人数": 2, "車両": "徒歩"}])
    net = from_graph(walk, crs=CRS)
    (bx, by), (_cx, cy) = nodes[1], nodes[10]
    flood = gpd.GeoDataFrame({"hazard": ["flood"], "rank": [3]}, geometry=[shapely.box(
        bx - 30 + ORIGIN[0], cy + 300 + ORIGIN[1], bx + 30 + ORIGIN[0], by - 300 + ORIGIN[1])],
        crs=CRS).to_crs("EPSG:4326")
    scen = make_scenario("flood", hazards=flood, network=net)
    assert scen.closed.sum() == 1
    plan = plan_dispatch(needs, teams, _vc(nodes), crs=CRS, networks={"walk": scen.network}, hazard="flood")
    assert list(plan.stops["need_id"]) == ["N"]
    assert plan.unassigned.set_index("need_id").loc["S", "reason"] == REASONS["road"]


def test_tools_team_size_and_time_windows_are_kept(tmp_path, river_town):
    nodes, walk, drive = river_town
    needs = read_needs(_needs_file(tmp_path, nodes, [
        {"node": 2, "受付番号": "WASH", "作業内容": "床下", "必要人数": 2, "必要資機材": "高圧洗浄機"},
        {"node": 8, "受付番号": "BIG", "作業内容": "泥出し", "必要人数": 6},
        {"node": 6, "受付番号": "PM", "作業内容": "見守り", "必要人数": 1, "希望時間帯": "13:00-14:00"},
        {"node": 4, "受付番号": "NONE", "作業内容": "高所", "必要人数": 1, "必要資機材": "高所作業車"},
        {"node": 5, "受付番号": "HUGE", "作業内容": "泥出し", "必要人数": 20}]))
    teams = _teams(tmp_path, [
        {"班名": "洗浄班", "人数": 3, "車両": "軽トラ", "資機材": "高圧洗浄機"},
        {"班名": "大人数班", "人数": 7, "車両": "徒歩", "資機材": ""},
        {"班名": "小班", "人数": 2, "車両": "徒歩", "資機材": ""}])
    nets = {"walk": from_graph(walk, crs=CRS), "drive": from_graph(drive, crs=CRS)}
    plan = plan_dispatch(needs, teams, _vc(nodes), crs=CRS, networks=nets)
    by = plan.stops.set_index("need_id")
    assert by.loc["WASH", "team"] == "洗浄班" and by.loc["BIG", "team"] == "大人数班"
    assert 13 * 3600 <= by.loc["PM", "start_s"] <= 14 * 3600
    left = plan.unassigned.set_index("need_id")["reason"]
    assert left["NONE"] == REASONS["tools"] and left["HUGE"] == REASONS["size"]
    assert len(plan.stops) + len(plan.unassigned) == 5  # nothing dropped silently


def test_high_priority_is_served_when_the_day_is_short(tmp_path, river_town):
    nodes, walk, _drive = river_town
    needs = read_needs(_needs_file(tmp_path, nodes, [
        {"node": 1, "受付番号": "LOW", "作業内容": "泥出し", "必要人数": 1, "優先度": "低",
         "作業時間(分)": 300},
        {"node": 3, "受付番号": "HIGH", "作業内容": "泥出し", "必要人数": 1, "優先度": "高",
         "作業時間(分)": 300}]))
    teams = _teams(tmp_path, [{"班名": "A", "人数": 2, "車両": "徒歩", "活動時間": "9:00-15:30"}])
    plan = plan_dispatch(needs, teams, _vc(nodes), crs=CRS, networks={"walk": from_graph(walk, crs=CRS)})
    assert list(plan.stops["need_id"]) == ["HIGH"]
    assert plan.unassigned["reason"].iloc[0] == REASONS["capacity"]


def test_each_reason_names_the_cause_a_coordinator_can_act_on(tmp_path, river_town):
    """By hand, one walking team (9:00–17:00, 500 m blocks at 60 m/min): a 3-hour job asked
    for 15:00–17:00 can be reached in its window but not finished before the team's day
    ends (the day, not the window); a visit asked for 8:00–8:30 cannot be reached in time
    (the window); of two 5-hour 高 jobs one fits, the other is told the day was full of 高
    work, not that lower ones were left."""
    nodes, walk, _drive = river_town
    needs = read_needs(_needs_file(tmp_path, nodes, [
        {"node": 2, "受付番号": "LATE", "作業内容": "泥出し", "必要人数": 1, "作業時間(分)": 180,
         "希望時間帯": "15:00-17:00"},
        {"node": 8, "受付番号": "EARLY", "作業内容": "見守り", "必要人数": 1, "希望時間帯": "8:00-8:30"},
        *[{"node": n, "受付番号": f"H{k}", "作業内容": "泥出し", "必要人数": 1, "優先度": "高",
           "作業時間(分)": 300} for k, n in ((1, 1), (2, 3))]]))
    teams = _teams(tmp_path, [{"班名": "A", "人数": 2, "車両": "徒歩", "活動時間": "9:00-17:00"}])
    plan = plan_dispatch(needs, teams, _vc(nodes), crs=CRS, networks={"walk": from_graph(walk, crs=CRS)})
    left = plan.unassigned.set_index("need_id")["reason"]
    assert left["LATE"] == REASONS["day"] and left["EARLY"] == REASONS["window"]
    assert len(plan.stops) == 1 and plan.stops["need_id"].iloc[0] in ("H1", "H2")
    assert left[{"H1", "H2"}.difference(plan.stops["need_id"]).pop()] == REASONS["capacity_high"]


def test_a_small_job_goes_to_a_small_team(tmp_path, river_town):
    """A 30-minute 見守り for one person: the one-person walking team goes, not the 8-person
    truck team (travel is costed in person-hours)."""
    nodes, walk, drive = river_town
    needs = read_needs(_needs_file(tmp_path, nodes, [
        {"node": 5, "受付番号": "W", "作業内容": "見守り", "必要人数": 1, "作業時間(分)": 30}]))
    teams = _teams(tmp_path, [{"班名": "大班", "人数": 8, "車両": "軽トラ"},
                              {"班名": "一人班", "人数": 1, "車両": "徒歩"}])
    nets = {"walk": from_graph(walk, crs=CRS), "drive": from_graph(drive, crs=CRS)}
    plan = plan_dispatch(needs, teams, _vc(nodes), crs=CRS, networks=nets)
    assert list(plan.stops["team"]) == ["一人班"]


def test_one_team_visits_in_the_best_order_found_by_brute_force(tmp_path, river_town):
    nodes, walk, _drive = river_town
    stops = [8, 2, 6, 11, 4]
    needs = read_needs(_needs_file(tmp_path, nodes, [
        {"node": n, "受付番号": f"P{n}", "作業内容": "見守り", "必要人数": 1} for n in stops]))
    teams = _teams(tmp_path, [{"班名": "A", "人数": 2, "車両": "徒歩", "活動時間": "8:00-18:00"}])
    plan = plan_dispatch(needs, teams, _vc(nodes), crs=CRS, networks={"walk": from_graph(walk, crs=CRS)})
    d = dict(nx.all_pairs_dijkstra_path_length(walk, weight="length"))
    best = min(sum(d[a][b] for a, b in itertools.pairwise((0, *p, 0)))
               for p in itertools.permutations(stops))
    assert len(plan.stops) == 5
    assert plan.teams["km"].iloc[0] * 1000 == pytest.approx(best, abs=2.0)


def test_bad_options_are_parameter_errors(tmp_path, river_town):
    nodes, _walk, _drive = river_town
    needs = read_needs(_needs_file(tmp_path, nodes, [{"node": 1, "受付番号": "1", "必要人数": 1}]))
    teams = _teams(tmp_path, [{"班名": "A", "人数": 2}])
    with pytest.raises(LayerError):
        plan_dispatch(needs, teams, _vc(nodes), crs=CRS, networks={"walk": None}, time_limit=0)


# ------------------------------------------------------------------ outputs and privacy


def test_outputs_hold_no_name_phone_address_or_care_household_place(tmp_path, demo_dir, run_cli):
    out = tmp_path / "day"
    needs_file = demo_dir / "private" / "vc_needs_flood.csv"
    code, stdout, err = run_cli("dispatch", demo_dir / "region.toml", "--needs", needs_file,
                                "--teams", demo_dir / "vc_teams.csv", "--vc", "VC02", "--hazard", "flood",
                                "--out", out)
    assert code == 0, err
    doc = json.loads(stdout)
    assert {"needs", "assigned", "unassigned", "teams_used", "total_km", "solver", "time_s"} <= set(doc)
    assert doc["needs"] == doc["assigned"] + doc["unassigned"] == 120
    src = pd.read_csv(needs_file, encoding="cp932", dtype=str).fillna("")
    care = src[src["要配慮者"] == "○"]
    secret = set(src["依頼者氏名"]) | set(src["電話番号"]) | set(src["住所"])
    coords = [(la[:7], lo[:8]) for la, lo in zip(care["緯度"], care["経度"], strict=True) if la]
    assert len(coords) >= 5
    files = sorted(p for p in out.iterdir() if p.is_file())
    assert {p.name for p in files} >= {"dispatch_sheets.pdf", "dispatch_day.csv", "dispatch_kintone.csv",
                                        "dispatch_unassigned.csv", "dispatch_teams.csv",
                                        "dispatch_reasons.csv"}
    teams = pd.read_csv(out / "dispatch_teams.csv", encoding="utf-8-sig", dtype=str)
    used = teams[teams["訪問数"].astype(int) > 0]["班"].tolist()
    assert sorted(p.name for p in files if p.suffix == ".gpx") == sorted(
        f"dispatch_{i:02d}_{team}.gpx" for i, team in enumerate(used, start=1))  # named by 班
    reasons = pd.read_csv(out / "dispatch_reasons.csv", encoding="utf-8-sig")
    assert reasons["件数"].sum() == doc["unassigned"] and reasons["件数"].is_monotonic_decreasing
    import pypdf

    for p in files:
        text = ("".join(page.extract_text() for page in pypdf.PdfReader(p).pages) if p.suffix == ".pdf"
                else p.read_text(encoding="utf-8-sig"))
        assert not [s for s in secret if s and s in text], p.name
        for la, lo in coords:  # a 要配慮者 household is never drawn or listed (to ~10 m), in either order
            gap = r"\d*[^0-9]{1,12}"
            pair = f"{re.escape(lo)}{gap}{re.escape(la)}|{re.escape(la)}{gap}{re.escape(lo)}"
            assert not re.search(pair, text), p.name
    day = pd.read_csv(out / "dispatch_day.csv", encoding="utf-8-sig", dtype=str)
    assert CARE_LABEL in set(day["町字"])
    kin = pd.read_csv(out / "dispatch_kintone.csv", encoding="utf-8-sig", dtype=str)
    assert sorted(kin["受付番号"]) == sorted(src["受付番号"])


def test_a_formula_in_a_need_is_inert_in_every_table(tmp_path, river_town):
    nodes, walk, _drive = river_town
    needs = read_needs(_needs_file(tmp_path, nodes, [
        {"node": 2, "受付番号": "=HYPERLINK(\"x\")", "作業内容": "<script>alert(1)</script>",
         "必要人数": 1}]))
    teams = _teams(tmp_path, [{"班名": "+A", "人数": 2}])
    net = from_graph(walk, crs=CRS)
    plan = plan_dispatch(needs, teams, _vc(nodes), crs=CRS, networks={"walk": net})
    from geo.analyses.dispatch import leg_routes
    from geo.outputs.files.dispatch import dispatch_map, team_lines

    files = write_dispatch_outputs(plan, tmp_path / "o", legs=leg_routes(plan, {"walk": net}, crs=CRS),
                                   networks={"walk": net}, crs=CRS, sheets=False)

    team = "<script>alert(1)</script>"
    plan.stops["team"] = team
    plan.teams["team"] = team
    lines = team_lines(plan, leg_routes(plan, {"walk": net}, crs=CRS), crs=CRS)
    html = dispatch_map(plan, lines, {}, title="班のルート").get_root().render()
    assert "<script>alert(1)" not in html and "tomoni-dispatch-route" in html
    for p in files:
        text = p.read_text(encoding="utf-8-sig")
        if p.suffix == ".csv":
            assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text and "\n+A" not in text
        if p.suffix == ".gpx":
            assert "<script>" not in text


def test_dispatch_cli_refuses_bad_input_with_exit_2(tmp_path, demo_dir, run_cli):
    bad = _csv(tmp_path / "needs.csv", [{"受付番号": "1", "緯度": "39.6", "経度": "140.4", "必要人数": "x"}])
    code, _out, err = run_cli("dispatch", demo_dir / "region.toml", "--needs", bad, "--teams",
                              demo_dir / "vc_teams.csv", "--out", tmp_path / "o")
    assert code == 2 and "2行目" in err and "必要人数" in err and "Traceback" not in err
    code, _out, err = run_cli("dispatch", demo_dir / "region.toml", "--needs", demo_dir / "private" /
                              "vc_needs_flood.csv", "--teams", demo_dir / "vc_teams.csv", "--vc", "VC01",
                              "--hazard", "flood", "--out", tmp_path / "o2")
    assert code == 2 and "--vc" in err
    assert not (tmp_path / "o").exists() and not (tmp_path / "o2").exists()


# ------------------------------------------------------------------ shelter minimum needs


def _load(demand: list[int], capacity: list[object]) -> tuple[ShelterLoad, pd.DataFrame]:
    n = len(demand)
    shelters = gpd.GeoDataFrame({
        "shelter_id": [f"S{i}" for i in range(n)], "name": [f"避難所{i}" for i in range(n)],
        "kind": "shelter", "status": "usable", "capacity": pd.array(capacity, dtype="Int64"),
        "demand": demand, "welfare_demand": 0.0}, geometry=shapely.points(np.zeros(n), np.zeros(n)),
        crs="EPSG:4326")
    return ShelterLoad(hazard="flood", units=gpd.GeoDataFrame(), shelters=shelters, method="network"), \
        pd.DataFrame({"shelter_id": shelters["shelter_id"], "floor_area_m2": [np.nan, 1000.0, np.nan][:n]})


def test_minimum_needs_by_hand():
    load, layer = _load([120, 300, 0], [100, None, None])
    t = shelter_needs(load, layer).table.set_index("shelter_id")
    # 120 people: 3 toilets at first (1 per 50), 6 later (1 per 20), 5 of them for women (3/4)
    counts = t.loc["S0", ["toilets_first", "toilets_later", "toilets_later_female", "baths"]]
    assert tuple(counts) == (3, 6, 5, 3)
    # capacity 100 at 2 m² → 200 m² against 120 × 3.5 = 420 m²
    assert t.loc["S0", "floor_area_m2"] == 200 and t.loc["S0", "area_short_m2"] == 220
    assert t.loc["S1", "area_basis"] == "面積" and t.loc["S1", "area_short_m2"] == 50  # 1,050 − 1,000
    assert t.loc["S1", "people_fit"] == 285
    assert "S2" not in t.index  # no one assigned: left out, and said
    assert any("割り当てられない避難所 1 か所" in n for n in shelter_needs(load, layer).notes)


def test_one_building_listed_twice_by_the_gsi_is_one_row():
    """The GSI lists a 体育館 as 指定緊急避難場所 (…201) and 指定避難所 (…111) at one place; the
    nearest-shelter rule sends everyone to one record.  One row, the 指定避難所's ID, the
    people summed (70 + 50 = 120 → 3 toilets at first, by hand); a namesake 2 km away stays apart."""
    shelters = gpd.GeoDataFrame({
        "shelter_id": ["E201", "E111", "F111"], "name": ["本町体育館", "本町体育館", "本町体育館"],
        "kind": ["emergency_site", "shelter", "shelter"], "status": "usable",
        "capacity": pd.array([None, 100, 100], dtype="Int64"), "demand": [70, 50, 20],
        "welfare_demand": 0.0},
        geometry=shapely.points([140.1, 140.1001, 140.125], [39.7, 39.7001, 39.7]), crs="EPSG:4326")
    load = ShelterLoad(hazard="flood", units=gpd.GeoDataFrame(), shelters=shelters, method="network")
    needs = shelter_needs(load, pd.DataFrame({"shelter_id": ["E111"], "floor_area_m2": [300.0]}))
    t = needs.table.set_index("shelter_id")
    assert list(t.index) == ["E111", "F111"]
    assert t.loc["E111", "evacuees"] == 120 and t.loc["E111", "toilets_first"] == 3
    assert t.loc["E111", "kind"] == "指定緊急避難場所・指定避難所"
    assert t.loc["E111", "area_short_m2"] == 120 * 3.5 - 300
    assert any("1行にまとめ" in n for n in needs.notes)


def test_ratios_table_changes_the_counts(tmp_path):
    f = _csv(tmp_path / "r.csv", [{"項目": "トイレ1基あたりの人数（その後）", "値": "10"},
                                  {"項目": "area_m2_per_person", "値": "4"}])
    r = read_ratios(f)
    assert r["toilet_people_later"] == 10 and r["area_m2_per_person"] == 4
    assert r["bath_people"] == DEFAULT_RATIOS["bath_people"]
    load, layer = _load([120], [None])
    assert shelter_needs(load, layer, ratios=r).table["toilets_later"].iloc[0] == 12
    bad = _csv(tmp_path / "b.csv", [{"項目": "toilet_female_share", "値": "3"}])
    with pytest.raises(LayerError) as err:
        read_ratios(bad)
    assert err.value.row == 2 and err.value.column == "値"


def test_shelter_needs_cli_on_the_demo(tmp_path, demo_dir, run_cli):
    code, out, err = run_cli("shelter-needs", demo_dir / "region.toml", "--hazard", "flood",
                             "--out", tmp_path / "sn")
    assert code == 0, err
    doc = json.loads(out)
    table = pd.read_csv(tmp_path / "sn" / "shelter_needs.csv", encoding="utf-8-sig")
    # the demo has a projection: every resident evacuates (public counts, rounded per shelter); the
    # 要配慮者 among them are protected counts of their own
    evac = pd.to_numeric(table["避難者数"], errors="coerce")
    assert doc["shelters"] == len(table) and table["避難所ID"].is_unique
    assert abs(doc["evacuees"] - evac.sum()) <= len(table) and (evac > 0).all()  # whole people a shelter
    assert (evac >= pd.to_numeric(table["うち要配慮者"], errors="coerce").fillna(0)).all()
    assert (table["トイレ（発災当初）"] == np.ceil(evac / 50)).all()
    assert not table["名称"].duplicated().any() or table.groupby("名称")["種別"].nunique().max() == 1
    assert any("全住民" in n for n in doc["notes"])


def test_shelter_needs_without_a_projection_count_the_register_and_say_so(tmp_path, demo_dir, run_cli):
    code, out, err = run_cli("shelter-needs", demo_dir / "region.toml", "--hazard", "flood",
                             "--demand", "register", "--out", tmp_path / "sn")
    assert code == 0, err
    table = pd.read_csv(tmp_path / "sn" / "shelter_needs.csv", encoding="utf-8-sig")
    evac = pd.to_numeric(table["避難者数"], errors="coerce")  # 「5未満」 is planned for as 5
    assert abs(json.loads(out)["evacuees"] - evac.sum()) <= MAX_CHANGE * (int((evac > 0).sum()) + 1)
    assert (table["トイレ（発災当初）"] == np.ceil(evac.fillna(5) / 50)).all()


def test_projected_evacuees_show_the_care_register_apart(tmp_path, demo_dir, run_cli):
    """``--demand 65+``: the evacuees are the projected 65+; うち要配慮者 is what ``tomoni shelters``
    assigns of the register to the same shelters in the same flood."""
    code, _out, err = run_cli("shelter-needs", demo_dir / "region.toml", "--hazard", "flood",
                              "--demand", "65+", "--out", tmp_path / "sn")
    assert code == 0, err
    code, _out, err = run_cli("shelters", demo_dir / "region.toml", "--hazard", "flood",
                              "--out", tmp_path / "sh")
    assert code == 0, err
    needs = pd.read_csv(tmp_path / "sn" / "shelter_needs.csv", encoding="utf-8-sig", dtype={"避難所ID": str})
    load = pd.read_csv(tmp_path / "sh" / "shelter_load.csv", encoding="utf-8-sig", dtype={"shelter_id": str})
    care = load.set_index("shelter_id")["demand"].reindex(needs["避難所ID"]).to_numpy()
    assert (needs["うち要配慮者"].to_numpy() == care).all()
    assert needs["避難者数"].sum() != needs["うち要配慮者"].sum()


def test_tachikawa_real_roads_with_a_flood_polygon(tmp_path, shared_data, tachikawa_region, run_cli):
    """A VC in 立川市 on the real OSM roads: needs placed by address on the real 町丁目 points
    (and some by 緯度/経度), a flood polygon over the south of the city; the command plans
    the day and prints team sheets, and no route uses a road the flood closes."""
    from geo.analyses.dispatch import DispatchOptions, analyse_dispatch, leg_routes
    from layers.region import load_region

    flood = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
        "種別": "洪水", "ランク": 3, "名称": "多摩川 浸水想定（テスト用）"}, "geometry": {"type": "Polygon",
        "coordinates": [[[139.38, 35.680], [139.43, 35.680], [139.43, 35.692], [139.38, 35.692],
                         [139.38, 35.680]]]}}]}
    (tmp_path / "flood.geojson").write_text(json.dumps(flood, ensure_ascii=False), encoding="utf-8")
    points = shared_data / "tachikawa" / "machiaza_points.json"
    (tmp_path / "立川市.json").write_bytes(points.read_bytes())  # the geocoder names a file by its 市町村
    _csv(tmp_path / "vc.csv", [{"番号": "TVC1", "名称": "立川市役所（テスト）", "候補順位": 1,
                                "緯度": 35.7139, "経度": 139.4077}])
    toml, _n = tachikawa_region(extra=f"""[layers.hazards]
path = "{tmp_path}/flood.geojson"
[layers.vc_sites]
path = "{tmp_path}/vc.csv"
[geocoder]
path = "{tmp_path}/立川市.json"
""")
    towns = ["柴崎町二丁目", "柴崎町四丁目", "錦町三丁目", "錦町五丁目", "曙町二丁目", "高松町二丁目",
             "幸町三丁目", "栄町四丁目", "砂川町五丁目", "柏町三丁目", "一番町二丁目", "泉町"]
    rows = [{"受付番号": f"T-{i + 1:03d}", "依頼者氏名": f"（架空）{i}",
             "住所": f"東京都立川市{towns[i % 12]}{i + 1}-2",
             "作業内容": ("泥出し", "家財搬出", "見守り訪問")[i % 3],
             "必要人数": (4, 3, 1)[i % 3], "必要資機材": ("スコップ", "軽トラ", "")[i % 3],
             "希望時間帯": ("", "午前", "午後")[i % 3], "優先度": ("高", "中", "低")[i % 3],
             "要配慮者": "○" if i % 7 == 0 else ""} for i in range(24)]
    needs_file = _csv(tmp_path / "needs.csv", rows, encoding="cp932")
    teams_file = _csv(tmp_path / "teams.csv", [
        {"班名": f"{k + 1}班", "人数": (5, 4, 3, 6, 2)[k],
         "車両": ("軽トラ", "乗用車", "徒歩", "軽トラ", "徒歩")[k], "資機材": "スコップ"} for k in range(5)])
    code, out, err = run_cli("dispatch", toml, "--needs", needs_file, "--teams", teams_file,
                             "--hazard", "flood", "--out", tmp_path / "day")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["needs"] == 24 and doc["assigned"] >= 10 and doc["vc"] == "TVC1"  # walks into houses timed
    assert (tmp_path / "day" / "dispatch_sheets.pdf").stat().st_size > 10_000
    region = load_region(toml, with_roads=False)
    from layers.needs import read_needs as rn

    run = analyse_dispatch(region, rn(needs_file, geocoder=region.geocoder), read_teams(teams_file),
                           DispatchOptions(hazard="flood"))
    assert run.summary()["assigned"] == doc["assigned"]
    closed = run.closed["walk"]
    assert closed is not None and closed.sum() > 0
    used = 0
    for legs in leg_routes(run.plan, run.networks, crs=region.crs).values():
        for leg in legs:
            assert leg.found
            assert not closed[np.asarray(leg.segments, np.int64)].any()  # never along a flooded road
            used += len(leg.segments)
    assert used > 0


def test_loose_route_ends_do_not_locate_a_care_household(tmp_path):
    """An attacker holding dispatch_routes.geojson looks at where the lines stop short of the
    要配慮者 households. The old cut was a 200 m circle, so every loose end lay exactly 200 m
    from a house and two ends pinned it to ~20 m. Now each end is a road junction (checked
    against networkx's own degree, not our arrays) and the distance from an end to the
    nearest household varies with the streets."""
    from geo.analyses.dispatch import leg_routes
    from geo.outputs.files.dispatch import team_lines

    rng = np.random.default_rng(11)
    size, gap = 8, 150.0
    nodes = {i * size + j: (j * gap, i * gap) for i in range(size) for j in range(size)}
    roads = [(a, a + 1) for a in nodes if a % size != size - 1]
    roads += [(a, a + size) for a in nodes if a + size in nodes]
    g = nx.MultiDiGraph(crs="epsg:4326", network="walk")
    for n, (x, y) in nodes.items():
        lon, lat = _lonlat(x, y)
        g.add_node(n, x=lon, y=lat)
    for u, v in roads:
        for a, b in ((u, v), (v, u)):
            g.add_edge(a, b, length=gap, highway="residential")
    net = from_graph(g, crs=CRS)
    homes = []
    for _ in range(12):  # households mid-block on random streets
        u, v = roads[int(rng.integers(len(roads)))]
        t = float(rng.uniform(0.2, 0.8))
        homes.append(np.array(nodes[u]) * (1 - t) + np.array(nodes[v]) * t)
    rows = []
    for k, (x, y) in enumerate(homes):
        lon, lat = _lonlat(x, y)
        rows.append({"受付番号": f"N-{k}", "緯度": f"{lat:.8f}", "経度": f"{lon:.8f}",
                     "作業内容": "見守り訪問", "必要人数": "1", "要配慮者": "○"})
    needs = read_needs(_csv(tmp_path / "needs.csv", rows))
    teams = _teams(tmp_path, [{"班名": f"班{i}", "人数": 2} for i in range(3)])
    plan = plan_dispatch(needs, teams, _vc(nodes, 0), crs=CRS, networks={"walk": net})
    assert plan.stops["care"].all() and len(plan.stops) >= 6
    lines = team_lines(plan, leg_routes(plan, {"walk": net}, crs=CRS), crs=CRS, networks={"walk": net})
    metric = lines.to_crs(CRS)
    ends = np.array([c for part in shapely.get_parts(metric.geometry.to_numpy()) if not part.is_empty
                     for c in (part.coords[0], part.coords[-1])]) - np.array(ORIGIN)  # grid x, y
    vc = np.array(nodes[0])
    ends = ends[np.hypot(*(ends - vc).T) > 1.0]  # the VC end is public
    assert len(ends) >= 6
    degree = nx.Graph(g).degree
    node_xy = np.array([nodes[n] for n in g.nodes])
    for e in ends:  # every loose end is a junction of three or more streets
        n = list(g.nodes)[int(np.argmin(np.hypot(*(node_xy - e).T)))]
        assert np.hypot(*(np.array(nodes[n]) - e)) < 0.05 and degree[n] >= 3, (e, degree[n])
    home_xy = np.array(homes)
    nearest = np.array([np.hypot(*(home_xy - e).T).min() for e in ends])
    assert nearest.min() >= 50 and nearest.max() - nearest.min() > 40, nearest
    assert (np.abs(nearest - np.median(nearest)) < 5).mean() < 0.5  # no one radius to invert
    # nor does the day table say how far on past the cut end the house lies: a leg to or from a
    # household is given to 100 m, and its walk from the road not at all
    from geo.outputs.files.dispatch import day_table

    table = day_table(plan)
    assert (table["移動距離_m"] % 100 == 0).all() and (table["家までの徒歩_m"] == "").all()
    assert (np.abs(table["移動距離_m"] - plan.stops["leg_m"].to_numpy()) <= 50).all()


def test_the_team_sheet_numbers_every_drawn_stop_above_its_marker(tmp_path, river_town):
    """The map of a team's sheet carries each drawn stop's number, on top of the markers."""
    from geo.outputs.files.dispatch import _team_map, team_lines, team_stops

    nodes, walk, _drive = river_town
    needs = read_needs(_needs_file(tmp_path, nodes, [
        {"node": n, "受付番号": f"P{n}", "作業内容": "見守り", "必要人数": 1} for n in (2, 6, 8)]))
    teams = _teams(tmp_path, [{"班名": "A", "人数": 2, "車両": "徒歩", "活動時間": "8:00-18:00"}])
    net = from_graph(walk, crs=CRS)
    plan = plan_dispatch(needs, teams, _vc(nodes), crs=CRS, networks={"walk": net})
    lines = team_lines(plan, {}, crs=CRS, networks={"walk": net})
    fig, _ = _team_map(plan, "A", lines, team_stops(plan), net=net, crs=CRS, zones=None, closed=None,
                       fictional=True)
    numbers = {t.get_text(): t.get_zorder() for t in fig.axes[0].texts}
    assert {"1", "2", "3"} <= set(numbers) and all(numbers[k] >= 50 for k in ("1", "2", "3"))


def test_the_last_walk_from_the_road_is_timed_on_foot_drawn_dotted_and_said(tmp_path, river_town):
    """A house 120 m north of the grid's far corner (node 8 at (1000, 1500)); a driving team from
    the VC at node 0 (0, 500).  By hand: 2,000 m of road at 20 km/h = 360 s, then 120 m on foot
    at 60 m/min = 120 s, so it arrives 480 s after leaving (driving the 120 m would give 382 s).
    The sheet's road line ends on the road; the 120 m is a separate dotted walk, said on the
    sheet, and the map is one page with the stop table under it."""
    from pypdf import PdfReader

    from geo.analyses.dispatch import leg_routes
    from geo.outputs.files.dispatch import team_lines, team_walks

    nodes, _walk, drive = river_town
    house = {**nodes, 99: (1000.0, 1620.0), 98: (500.0, 1620.0)}
    needs = read_needs(_needs_file(tmp_path, house, [
        {"node": 99, "受付番号": "W1", "作業内容": "見守り", "必要人数": 1},
        {"node": 98, "受付番号": "W2", "作業内容": "見守り", "必要人数": 1, "要配慮者": "○"}]))
    teams = _teams(tmp_path, [{"班名": "A", "人数": 2, "車両": "乗用車", "活動時間": "8:00-18:00"}])
    net = from_graph(drive, crs=CRS)
    plan = plan_dispatch(needs, teams, _vc(nodes), crs=CRS, networks={"drive": net})
    stop = plan.stops.set_index("need_id")
    assert stop.loc["W1", "walk_m"] == pytest.approx(120.0, abs=0.5)
    if int(stop.loc["W1", "order"]) == 1:
        assert stop.loc["W1", "arrive_s"] - 8 * 3600 == pytest.approx(480, abs=2)
    legs = leg_routes(plan, {"drive": net}, crs=CRS)
    roads = team_lines(plan, legs, crs=CRS, networks={"drive": net}).to_crs(CRS)
    walks = team_walks(plan, legs, crs=CRS, networks={"drive": net}).to_crs(CRS)
    ends = shapely.points(np.asarray([[ORIGIN[0] + 1000.0, ORIGIN[1] + 1620.0]]))
    assert roads.distance(ends[0]).min() == pytest.approx(120.0, abs=1.0)  # the road line stops on the road
    pieces = list(walks.geometry.iloc[0].geoms)
    assert any(p.length == pytest.approx(120.0, abs=1.0) and p.distance(ends[0]) < 1 for p in pieces)
    care = shapely.Point(ORIGIN[0] + 500.0, ORIGIN[1] + 1620.0)
    assert all(p.distance(care) > 100 for p in pieces)  # never the walk to a 要配慮者 household
    files = write_dispatch_outputs(plan, tmp_path / "o", legs=legs, networks={"drive": net}, crs=CRS)
    pdf = PdfReader(next(p for p in files if p.name == "dispatch_sheets.pdf"))
    assert len(pdf.pages) == 1
    text = pdf.pages[0].extract_text()
    assert "最長 120 m" in text and "避けていません" in text and "W1" in text and "道路から家まで" in text
    geo = json.loads((tmp_path / "o" / "dispatch_routes.geojson").read_text(encoding="utf-8"))
    assert {f["properties"].get("kind") for f in geo["features"]} >= {"道路", "徒歩"}
    day = pd.read_csv(tmp_path / "o" / "dispatch_day.csv", encoding="utf-8-sig")
    assert day.set_index("受付番号").loc["W1", "家までの徒歩_m"] == 120
