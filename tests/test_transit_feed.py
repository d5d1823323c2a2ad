"""Bus timetables in: a GTFS-JP feed in the official layout, resolved for a date by hand.

The expected trips of each date are read off the fixture's calendar by hand
(tests/gtfs_jp.py): 平日 W1, W2, WLATE and the loop every 30 minutes 9:00–11:00 (4
departures); 土休日 H1; Monday 2027-01-11 (成人の日) runs 土休日 by calendar_dates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json

import pandas as pd
import pytest

from layers.errors import LayerError
from layers.transit import (
    DEFAULT_FLEX_WAIT_MIN,
    day_trips,
    demand_zones,
    feed_summary,
    read_feed,
    services_on,
)
from tests.gtfs_jp import feed_files, write_feed


@pytest.fixture
def gtfs_jp_zip(tmp_path):  # type: ignore[no-untyped-def]
    return write_feed(tmp_path / "kakuu_bus_gtfs-jp.zip")


@pytest.mark.parametrize(("day", "services", "trips"), [
    (dt.date(2027, 1, 14), {"平日"}, 3 + 4),  # Thursday
    (dt.date(2027, 1, 16), {"土休日"}, 1),  # Saturday
    (dt.date(2027, 1, 11), {"土休日"}, 1),  # 成人の日: a Monday on the holiday timetable
    (dt.date(2027, 4, 1), set(), 0),  # after the calendar's end
])
def test_the_calendar_is_resolved_for_a_date(gtfs_jp_zip, day, services, trips):
    feed = read_feed(gtfs_jp_zip)
    assert services_on(feed, day) == services
    assert day_trips(feed, day).n_trips == trips


def test_frequencies_are_expanded_at_every_headway(gtfs_jp_zip):
    events = day_trips(read_feed(gtfs_jp_zip), dt.date(2027, 1, 14)).events
    loops = events[events["route_id"] == "R2"]
    starts = sorted(loops[loops["seq"] == 0]["dep_s"])
    assert starts == [9 * 3600, 9 * 3600 + 1800, 10 * 3600, 10 * 3600 + 1800]
    # every copy keeps the template's running times: back at 公民館前 20 minutes after leaving
    ends = sorted(loops[loops["seq"] == 2]["arr_s"])
    assert [e - s for s, e in zip(starts, ends, strict=True)] == [1200] * 4


def test_blank_times_are_interpolated_and_times_pass_midnight(gtfs_jp_zip):
    ev = day_trips(read_feed(gtfs_jp_zip), dt.date(2027, 1, 14)).events.set_index(["trip_id", "seq"])
    # ふれあいサロン前 (not a timepoint) lies halfway between 8:06 and 8:20 by stop order
    assert ev.loc[("W1", 2), "arr_s"] == 8 * 3600 + 13 * 60
    assert ev.loc[("WLATE", 1), "arr_s"] == 24 * 3600 + 30 * 60
    assert ev.loc[("W2", 2), "arr_s"] == 12 * 3600 + 13 * 60
    assert ev.loc[("W2", 2), "dep_s"] == 12 * 3600 + 14 * 60


def test_stations_platforms_flex_and_the_summary(gtfs_jp_zip):
    feed = read_feed(gtfs_jp_zip)
    assert set(feed.stops.loc[feed.stops["parent_station"] == "S_EKI", "stop_id"]) == {"S_EKI_1", "S_EKI_2"}
    s = feed_summary(feed, dt.date(2027, 1, 14))
    assert s == {"feed": "kakuu_bus_gtfs-jp.zip", "routes": 2, "stops": 6, "date": "2027-01-14",
                 "trips_on_date": 7, "flex_zones": 1}
    assert feed.booking_rules is not None and feed.booking_rules["prior_notice_duration_min"].iloc[0] == "60"


def test_a_demand_zone_runs_on_its_service_days_with_the_stated_wait(gtfs_jp_zip):
    feed = read_feed(gtfs_jp_zip)
    (zone,) = demand_zones(feed, dt.date(2027, 1, 14))  # a Thursday: the 平日 Flex trip runs
    assert (zone.zone_id, zone.name) == ("Z_NORTH", "北部デマンド区域")
    assert zone.windows == ((9 * 3600.0, 16 * 3600.0),)
    assert zone.wait_min == 60.0  # booking_type 1: prior_notice_duration_min
    assert zone.polygon.contains(__import__("shapely").Point(140.07, 39.87))
    assert demand_zones(feed, dt.date(2027, 1, 16)) == []  # Saturday: no Flex trip
    assert demand_zones(feed, dt.date(2027, 1, 14), wait_min=15)[0].wait_min == 15
    # a day-before booking (type 2) states no wait: the default pick-up window is used
    files = feed_files()
    files["booking_rules.txt"] = files["booking_rules.txt"].replace(b",1,60,", b",2,,")
    other = read_feed(write_feed(gtfs_jp_zip.parent / "type2.zip", files))
    assert demand_zones(other, dt.date(2027, 1, 14))[0].wait_min == DEFAULT_FLEX_WAIT_MIN


@pytest.mark.parametrize(("geojson", "row"), [
    (b"{not json", None),
    (b'{"type": "FeatureCollection"}', None),
    (b'{"type": "FeatureCollection", "features": [{"type": "Feature", "id": "Z", '
     b'"geometry": {"type": "Point", "coordinates": [140.0, 39.8]}}]}', 1),
    (b'{"type": "FeatureCollection", "features": [{"type": "Feature", "id": "Z"}]}', 1),
])
def test_a_broken_demand_zone_file_is_a_clear_error(tmp_path, geojson, row):
    files = feed_files()
    files["locations.geojson"] = geojson
    with pytest.raises(LayerError) as err:
        read_feed(write_feed(tmp_path / "bad.zip", files))
    assert "locations.geojson" in str(err.value.file) and err.value.row == row and err.value.fix


def test_a_flex_row_without_its_window_names_row_and_column(tmp_path):
    files = feed_files()
    files["stop_times.txt"] = files["stop_times.txt"].replace(b"09:00:00,16:00:00", b",16:00:00")
    with pytest.raises(LayerError) as err:
        read_feed(write_feed(tmp_path / "bad.zip", files))
    assert err.value.column == "start_pickup_drop_off_window" and err.value.row is not None


def test_a_feed_zipped_inside_a_folder_and_a_plain_folder_read_the_same(tmp_path, gtfs_jp_zip):
    nested = read_feed(write_feed(tmp_path / "nested.zip", folder="feed/"))
    folder = tmp_path / "unzipped"
    folder.mkdir()
    for name, data in feed_files().items():
        (folder / name).write_bytes(data)
    plain = read_feed(folder)
    day = dt.date(2027, 1, 14)
    assert day_trips(nested, day).events.equals(day_trips(read_feed(gtfs_jp_zip), day).events)
    assert day_trips(plain, day).events.equals(day_trips(nested, day).events)


def _broken(tmp_path, name: str, old: str, new: str):  # type: ignore[no-untyped-def]
    files = feed_files()
    files[name] = files[name].decode("utf-8").replace(old, new, 1).encode("utf-8")
    return write_feed(tmp_path / "broken.zip", files)


@pytest.mark.parametrize(("name", "old", "new", "column", "row"), [
    ("stop_times.txt", "08:06:00", "8時6分", "arrival_time", 3),
    ("stop_times.txt", ",S_CLINIC,,4", ",S_NOWHERE,,4", "stop_id", 5),
    ("stops.txt", "39.852", "北緯39度", "stop_lat", 5),
    ("stop_times.txt", "W1,08:00:00,08:00:00", "W1,,", "arrival_time", 2),
    ("calendar.txt", "20260401", "20261301", "start_date", 2),  # no 13th month
    ("calendar.txt", "20270331", "20270230", "end_date", 2),  # no 30 February
    ("calendar.txt", "20270331", "99999999", "end_date", 2),
    ("stops.txt", "S_SALON,", "S_YAKUBA,", "stop_id", 6),  # a stop_id twice
])
def test_bad_cells_name_the_member_file_row_and_column(tmp_path, name, old, new, column, row):
    with pytest.raises(LayerError) as err:
        read_feed(_broken(tmp_path, name, old, new))
    assert err.value.column == column and err.value.row == row
    assert name in str(err.value.file) and err.value.fix


def test_a_missing_table_and_a_zip_bomb_are_errors(tmp_path, monkeypatch):
    files = feed_files()
    del files["stops.txt"]
    with pytest.raises(LayerError, match=r"stops\.txt"):
        read_feed(write_feed(tmp_path / "nostops.zip", files))
    monkeypatch.setenv("TOMONI_MAX_UNZIPPED_MB", "1")
    files = feed_files()
    files["shapes.txt"] = b"0" * (3 << 20)
    with pytest.raises(LayerError, match="大きすぎ"):
        read_feed(write_feed(tmp_path / "bomb.zip", files))
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(LayerError, match="壊れ"):
        read_feed(tmp_path / "bad.zip")


def test_tomoni_check_reports_each_feed_and_the_stops_off_the_roads(tmp_path, demo_dir, demo_region,
                                                                    run_cli):
    """``[layers.transit]`` in a region file: ``tomoni check --date`` counts the routes, stops
    and the trips of that date, and names the stops more than 100 m from any road (here the
    stops are moved onto the demo's road nodes, except 診療所前, left 3 km into a field)."""
    from geo.engine.network_cache import region_network
    from layers.crs import STORAGE_CRS, transform_xy
    from tests.gtfs_jp import STOPS

    net = region_network(demo_region)
    lon, lat = transform_xy(net.x[::97][: len(STOPS)], net.y[::97][: len(STOPS)], net.crs, STORAGE_CRS)
    files = feed_files()
    text = files["stops.txt"].decode("utf-8")
    for i, (sid, _name, la, lo, *_rest) in enumerate(STOPS):
        new_lat, new_lon = (lat[i], lon[i]) if sid != "S_CLINIC" else (lat[i] + 0.03, lon[i] + 0.03)
        text = text.replace(f",{la},{lo},", f",{new_lat:.6f},{new_lon:.6f},", 1)
    files["stops.txt"] = text.encode("utf-8")
    write_feed(tmp_path / "bus.zip", files)
    toml = tmp_path / "region.toml"
    toml.write_text(f"""[region]
name = "交通テスト（架空）"
fictional = true
crs = "{demo_region.crs}"
[roads]
path = "{demo_dir / 'roads_walk.graphml'}"
network = "walk"
[layers.transit]
path = ["bus.zip"]
""", encoding="utf-8")
    code, out, err = run_cli("check", toml, "--json", "--date", "2027-01-16")
    assert code == 0, err
    feed = json.loads(out)["transit"][0]
    assert feed["trips_on_date"] == 1 and feed["routes"] == 2 and feed["stops"] == 6
    assert feed["stops_off_road"] == ["S_CLINIC"]
    code, out, err = run_cli("check", toml, "--date", "2027-01-14")
    assert code == 0 and "2027-01-14 の便 7" in out and "S_CLINIC" in out
    code, _out, err = run_cli("check", toml, "--date", "14/01/2027")
    assert code == 2 and "--date" in err


def test_a_frequency_that_would_expand_to_billions_of_stops_is_refused_at_once(tmp_path):
    """A 1-second headway until 999:00:00 ran past 300 s with memory growing; the expansion
    is counted before any trip is copied, and refused naming the row and the column — when the
    feed is read (an upload is refused at once), and on a day of a feed read before."""
    import time

    files = feed_files()
    files["frequencies.txt"] = files["frequencies.txt"].decode("utf-8").replace(
        "11:00:00,1800", "999:00:00,1").encode("utf-8")
    with pytest.raises(LayerError) as err:
        read_feed(write_feed(tmp_path / "fast.zip", files))
    assert err.value.column == "headway_secs" and err.value.row == 2
    good = read_feed(write_feed(tmp_path / "good.zip", feed_files()))
    feed = dataclasses.replace(good, frequencies=pd.read_csv(io.BytesIO(files["frequencies.txt"]), dtype=str))
    t0 = time.perf_counter()
    with pytest.raises(LayerError) as err:
        day_trips(feed, dt.date(2027, 1, 14))
    assert time.perf_counter() - t0 < 5
    assert err.value.column == "headway_secs" and err.value.row == 2
    assert "frequencies.txt" in str(err.value.file)
