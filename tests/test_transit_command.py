"""``tomoni transit`` as a planner runs it: the demo's buses, its files, bad input, hostile text.

The demo's buses are fictional but shaped to tell: the 湖北循環線 reaches hill villages
that cannot walk to a 居場所, and runs no loop on holiday mornings; its 本町南台線 runs
four times a day.  The figures are checked for what must hold whatever the numbers:
walking + bus reaches at least whom walking does, a weekend loses only people the bus
brought, the per-area table adds up to the summary.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile

import pandas as pd
import pytest

from geo.analyses.transit import TransitOptions, analyse_transit
from layers.cellkey import MAX_CHANGE
from layers.region import load_region

THURSDAY = "2027-01-14"


@pytest.fixture(scope="module")
def demo_run(demo_region):  # type: ignore[no-untyped-def]
    return analyse_transit(demo_region, TransitOptions(date=THURSDAY, what_if=True))


def test_the_command_writes_every_file_and_its_figures_add_up(demo_dir, run_cli, tmp_path):
    out = tmp_path / "bus"
    code, stdout, err = run_cli("transit", demo_dir / "region.toml", "--to", "places", "--date", THURSDAY,
                                "--window", "08:00-12:00", "--max-minutes", "45", "--out", out)
    assert code == 0, err
    s = json.loads(stdout)
    assert s["trips_on_date"] == 17 and s["demand_zones"] == 1 and s["season"].startswith("冬")
    # each figure a protected count of the register's people (±2 each)
    assert s["covered"] >= s["covered_walk"] and s["gained"] > 0
    assert abs(s["gained"] - (s["covered"] - s["covered_walk"])) <= 3 * MAX_CHANGE
    assert 0 < s["lost_weekend"] <= s["gained"] + 2 * MAX_CHANGE  # the same walk on a Sunday: bus riders lose
    for name in ("transit_units.csv", "transit_units.gpkg", "transit_by_area.csv", "transit_routes.csv",
                 "transit_gaps.geojson", "transit_map.html"):
        assert (out / name).stat().st_size > 0, name
    areas = pd.read_csv(out / "transit_by_area.csv", encoding="utf-8-sig")
    munis = areas[areas["区域の種類"] == "市町村界"]
    bound = MAX_CHANGE * (len(munis) + 1)
    assert abs(pd.to_numeric(munis["要配慮者"]).sum() - s["total"]) <= bound
    assert abs(pd.to_numeric(munis["徒歩＋バスで届く"]).sum() - s["covered"]) <= bound
    units = pd.read_csv(out / "transit_units.csv", encoding="utf-8-sig", dtype=str)
    assert "members" not in units.columns
    assert abs(int(units["人数"].astype(int).sum()) - s["total"]) <= MAX_CHANGE * (len(units) + 1)
    routes = pd.read_csv(out / "transit_routes.csv", encoding="utf-8-sig")
    assert set(routes["路線"]) == {"湖北循環線", "本町南台線"}
    assert pd.to_numeric(routes["バスで新たに届く"], errors="coerce").max() <= s["gained"] + 2 * MAX_CHANGE
    assert "tomoni-bus-route" in (out / "transit_map.html").read_text("utf-8")


def test_a_sunday_runs_the_holiday_timetable(demo_region, demo_run):
    sunday = demo_run.weekend
    assert sunday is not None and sunday.day.date.isoformat() == "2027-01-17"
    assert sunday.day.trips.n_trips == 5 and not sunday.day.zones  # no demand rides on holidays
    lost = demo_run.losses
    assert lost is not None
    assert not (lost["lost_weekend"] & ~demo_run.result.units["gained"]).any()


def test_winter_is_the_same_timetable_on_snowy_roads(demo_run):
    """2027-01-14 is in winter: the base run walks snowy roads, the comparison walks the same
    day's buses in summer; walking alone only gets slower in snow for every unit that joins
    the same road (a 冬期閉鎖 can move a home to another road under the nearest-road rule)."""
    lost = demo_run.losses
    summer, winter = demo_run.other_season, demo_run.result
    assert lost is not None and summer is not None and demo_run.season.winter
    assert summer.day.trips.n_trips == winter.day.trips.n_trips
    both = summer.units["walk_min"].notna() & winter.units["walk_min"].notna()
    slower = winter.units["walk_min"][both] >= summer.units["walk_min"][both] - 0.05
    assert slower.mean() > 0.95
    # the total against its units' protected counts: each ±2, a 「5未満」 unit hides 1–4
    per_unit = pd.to_numeric(lost["lost_winter_n"], errors="coerce")
    total, shown, hidden = demo_run.summary()["lost_winter"], per_unit.fillna(0), int(per_unit.isna().sum())
    slack = MAX_CHANGE * (int((shown > 0).sum()) + 1)
    assert total > 0 and shown.sum() + hidden - slack <= total <= shown.sum() + 4 * hidden + slack


def test_the_what_ifs_are_recomputed_answers(demo_run):
    stops, trips = demo_run.new_stops, demo_run.extra_trips
    assert stops is not None and trips is not None and len(stops) and len(trips)
    gained = pd.to_numeric(stops["gained"], errors="coerce")  # protected: 「k未満」 is not a number
    # ranked by the true gains; the published ones differ by the protection's change
    assert (gained.fillna(0) >= 0).all() and gained.iloc[0] >= gained.max() - 2 * MAX_CHANGE
    assert set(trips["route_id"]) == {"R1", "R2"}
    assert stops["lon"].between(139, 142).all()  # a place on the map, between two stops


def test_any_points_file_can_be_the_destination(demo_dir, run_cli, tmp_path):
    """A clinics list as a council keeps it (cp932, 名称 and coordinates)."""
    places = load_region(demo_dir / "region.toml", with_roads=False).layer("places")
    clinics = tmp_path / "診療所.csv"
    pd.DataFrame({"名称": ["本町診療所（架空）", "南台医院（架空）"],
                  "緯度": places.geometry.y.iloc[[0, 11]].round(6).to_numpy(),
                  "経度": places.geometry.x.iloc[[0, 11]].round(6).to_numpy()}).to_csv(
        clinics, index=False, encoding="cp932")
    code, stdout, err = run_cli("transit", demo_dir / "region.toml", "--to", clinics, "--date", THURSDAY,
                                "--no-compare", "--out", tmp_path / "clinics")
    assert code == 0, err
    s = json.loads(stdout)
    assert s["total"] > 0 and "lost_weekend" not in s
    assert "診療所" in (tmp_path / "clinics" / "transit_map.html").read_text("utf-8")


@pytest.mark.parametrize(("args", "named"), [
    (["--window", "12:00-08:00"], "--window"),
    (["--date", "2027-13-01"], "--date"),
    (["--to", "clinics_missing.csv"], "clinics_missing.csv"),
])
def test_bad_input_is_a_clear_error_and_nothing_is_written(demo_dir, run_cli, tmp_path, args, named):
    code, _out, err = run_cli("transit", demo_dir / "region.toml", *args, "--out", tmp_path / "o")
    assert code == 2 and named in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_a_region_without_buses_says_how_to_add_them(demo_dir, run_cli, tmp_path):
    region = tmp_path / "nobus"
    shutil.copytree(demo_dir, region)
    text = (region / "region.toml").read_text("utf-8")
    start = text.index("[layers.transit]")
    end = text.find("\n[", start + 1)
    (region / "region.toml").write_text(text[:start] + (text[end + 1:] if end > 0 else ""), "utf-8")
    code, _out, err = run_cli("transit", region / "region.toml", "--out", tmp_path / "o")
    assert code == 2 and "[layers.transit]" in err


def test_a_hostile_route_name_stays_inert(demo_dir, run_cli, tmp_path):
    region = tmp_path / "hostile"
    shutil.copytree(demo_dir, region)
    feed = region / "gtfs" / "community_bus_gtfs-jp.zip"
    members = {}
    with zipfile.ZipFile(feed) as z:
        for name in z.namelist():
            members[name] = z.read(name)
    members["routes.txt"] = members["routes.txt"].decode("utf-8").replace(
        "湖北循環線", "<script>alert(1)</script>").replace("本町南台線", "=HYPERLINK(\"x\")").encode("utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    feed.write_bytes(buf.getvalue())
    code, _out, err = run_cli("transit", region / "region.toml", "--date", THURSDAY, "--no-compare",
                              "--out", tmp_path / "o")
    assert code == 0, err
    html = (tmp_path / "o" / "transit_map.html").read_text("utf-8")
    assert "<script>alert(1)</script>" not in html
    routes = (tmp_path / "o" / "transit_routes.csv").read_text("utf-8-sig")
    assert "\n=HYPERLINK" not in routes and ",=HYPERLINK" not in routes
