"""The fictional demo region: deterministic, plausible, labelled 架空, real formats."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import shapely

from layers.cellkey import MAX_CHANGE
from layers.demo import generate_demo


def _digests(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_demo_is_byte_identical_on_a_second_run(demo_dir, tmp_path):
    generate_demo(tmp_path / "again")
    assert _digests(demo_dir) == _digests(tmp_path / "again")


def test_demo_contents_match_the_brief(demo_region, demo_dir):
    L = demo_region.layers
    assert demo_region.fictional and "架空" in demo_region.name
    assert len(L["boundaries"]) == 3
    assert 50 <= len(L["neighbourhoods"]) <= 70
    assert 20 <= len(L["places"]) <= 30
    assert 35 <= len(L["shelters"]) <= 50
    assert set(L["school_districts"]["period"]) == {"before", "after"}
    assert 2 <= len(L["vc_sites"]) <= 4
    assert {"flood", "landslide"} <= set(L["hazards"]["hazard"])
    assert demo_region.roads.number_of_nodes() >= 5000
    assert "架空データ" in " ".join(demo_region.attribution())


def test_one_shelter_file_is_cp932(demo_dir):
    raw = (demo_dir / "gsi_evacuation_shelters_cp932.csv").read_bytes()
    raw.decode("cp932")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:  # pragma: no cover
        raise AssertionError("the per-municipality file should be Shift_JIS")


def test_flood_zone_cuts_roads_and_disables_a_shelter(demo_region):
    L = demo_region.layers
    flood = shapely.union_all(L["hazards"].loc[L["hazards"]["hazard"] == "flood"].geometry.values)
    inside = L["shelters"].geometry.within(flood)
    assert inside.any()
    # one is designated for floods (its upper floor) yet in the zone: unusable in a flood scenario
    from geo.engine.shelter_status import shelter_status

    status = shelter_status(L["shelters"], hazard="flood", hazards=L["hazards"])
    assert (status[inside] != "usable").all() and (status[inside] == "in_zone").any()
    g = demo_region.roads
    xs = np.array([g.nodes[n]["x"] for n in g.nodes])
    ys = np.array([g.nodes[n]["y"] for n in g.nodes])
    assert shapely.contains_xy(flood, xs, ys).sum() > 10


def test_records_are_clustered_where_people_live(demo_dir):
    df = pd.read_csv(demo_dir / "private/vulnerable_records.csv", dtype=str)
    assert 2500 <= len(df) <= 3500
    assert {"緯度", "経度", "区分"} <= set(df.columns)
    lat = df["緯度"].astype(float)
    # dense around the towns, not uniform: the busiest 10 % of 500 m cells hold > 30 %
    lon = df["経度"].astype(float)
    cells = (lat * 222).astype(int).astype(str) + "_" + (lon * 170).astype(int).astype(str)
    counts = cells.value_counts()
    top = counts.iloc[: max(1, len(counts) // 10)].sum()
    assert top / len(df) > 0.3


def test_demo_geojson_is_plain_wgs84(demo_dir):
    doc = json.loads((demo_dir / "boundaries_n03.geojson").read_text("utf-8"))
    assert doc["features"][0]["properties"]["N03_007"] == "05901"


def test_tomoni_demo_command(tmp_path, run_cli):
    code, out, err = run_cli("demo", "--out", tmp_path / "d", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["check"]["fictional"] is True
    assert doc["check"]["roads"]["nodes"] >= 5000
    # every analysis that exists runs on the demo
    assert abs(doc["analyses"]["coverage"]["total"] - 3000) <= MAX_CHANGE  # protected: the people
    assert abs(doc["analyses"]["consolidation"]["people"] - 3000) <= MAX_CHANGE * 200  # units summed
    assert doc["analyses"]["anonymisation"]["k"] == 5
    for name in ("coverage_units.gpkg", "coverage_by_area.csv", "gaps.geojson",
                 "consolidation_by_area.csv", "map.png"):
        assert (tmp_path / "d" / "results" / name).exists()
    # the VC's day after the flood: every need either planned or reported with its reason
    day = doc["analyses"]["dispatch_flood"]
    assert day["needs"] == 120 and day["assigned"] + day["unassigned"] == 120 and day["assigned"] >= 30
    assert day["teams_used"] == 15 and day["solver"] == "vroom" and day["vc"] == "VC02"
    for name in ("dispatch_sheets.pdf", "dispatch_day.csv", "dispatch_kintone.csv", "dispatch_reasons.csv"):
        assert (tmp_path / "d" / "results" / "dispatch_flood" / name).exists()
    assert len(list((tmp_path / "d" / "results" / "dispatch_flood").glob("dispatch_*_*班.gpx"))) == 15
    assert doc["analyses"]["shelter_needs_flood"]["toilets_first"] > 0
    bus = doc["analyses"]["transit"]  # walking + the community bus, the next weekday morning
    assert abs(bus["total"] - 3000) <= MAX_CHANGE * 200 and bus["gained"] > 0  # units' counts summed
    assert abs(bus["covered"] - bus["covered_walk"] - bus["gained"]) <= 3 * MAX_CHANGE  # each protected
    assert (tmp_path / "d" / "results" / "transit" / "transit_map.html").exists()
    report = (tmp_path / "d" / "results" / "report" / "report.html").read_text(encoding="utf-8")
    assert "避難所ごとの最低限の必要量" in report
    assert "車がなくても: 徒歩とコミュニティバスで居場所へ" in report
    code2, out2, _ = run_cli("demo", "--out", tmp_path / "d", "--json")  # reuses the folder
    assert code2 == 0 and json.loads(out2)["check"] == doc["check"]
    assert json.loads(out2)["analyses"] == doc["analyses"]


def test_the_demo_community_bus_is_a_gtfs_jp_feed_on_its_roads(demo_dir, run_cli):
    """Weekdays: the 湖北循環線 every hour 8:00–16:00 (frequencies, 9 trips) and 4 trips each way
    on the 本町南台線 (the third route is the demand zone's, with no fixed trips); 成人の日
    (Monday 2027-01-11) runs the holiday timetable: 3 + 2."""
    code, out, err = run_cli("check", demo_dir / "region.toml", "--json", "--date", "2027-01-14")
    assert code == 0, err
    feed = json.loads(out)["transit"][0]
    assert (feed["routes"], feed["stops"], feed["trips_on_date"], feed["flex_zones"]) == (3, 9, 17, 1)
    assert feed["stops_off_road"] == []
    code, out, _err = run_cli("check", demo_dir / "region.toml", "--json", "--date", "2027-01-11")
    assert json.loads(out)["transit"][0]["trips_on_date"] == 5
