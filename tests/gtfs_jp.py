"""A small GTFS-JP feed in the official layout (標準的なバス情報フォーマット v2), written by tests.

A fictional community bus of 潟上市-like country (names and times invented, labelled
架空): two lines, a station with two platforms (platform_code), weekday and
holiday calendars with a 成人の日 exception (Monday 2027-01-11 runs the holiday
timetable), a loop line given by frequencies.txt (every 30 minutes 9:00–11:00), a
stop that is not a timepoint (blank times), a last trip past midnight (24:30:00),
fares, よみがな in translations.txt, and a GTFS-Flex zone with its booking rule.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

AGENCY = [
    {
        "agency_id": "8000020052116",
        "agency_name": "架空町コミュニティバス",
        "agency_url": "https://example.invalid/",
        "agency_timezone": "Asia/Tokyo",
        "agency_lang": "ja",
        "agency_phone": "",
        "agency_fare_url": "",
        "agency_email": "",
    }
]
AGENCY_JP = [
    {
        "agency_id": "8000020052116",
        "agency_official_name": "架空町（テスト用）",
        "agency_zip_number": "",
        "agency_address": "",
        "agency_president_pos": "",
        "agency_president_name": "",
    }
]
STOP_COLUMNS = [
    "stop_id",
    "stop_code",
    "stop_name",
    "stop_desc",
    "stop_lat",
    "stop_lon",
    "zone_id",
    "stop_url",
    "location_type",
    "parent_station",
    "stop_timezone",
    "wheelchair_boarding",
    "platform_code",
]
STOPS = [  # (id, name, lat, lon, location_type, parent, platform)
    ("S_EKI", "架空駅", 39.8480, 140.0580, "1", "", ""),
    ("S_EKI_1", "架空駅", 39.8481, 140.0581, "0", "S_EKI", "1"),
    ("S_EKI_2", "架空駅", 39.8479, 140.0579, "0", "S_EKI", "2"),
    ("S_YAKUBA", "町役場前", 39.8520, 140.0620, "0", "", ""),
    ("S_SALON", "ふれあいサロン前", 39.8560, 140.0680, "0", "", ""),
    ("S_CLINIC", "診療所前", 39.8600, 140.0720, "0", "", ""),
    ("S_KOMINKAN", "公民館前", 39.8450, 140.0500, "0", "", ""),
]
TRIPS = [  # (trip_id, route, service, [(stop, arr, dep)])
    (
        "W1",
        "R1",
        "平日",
        [
            ("S_EKI_1", "08:00:00", "08:00:00"),
            ("S_YAKUBA", "08:06:00", "08:06:00"),
            ("S_SALON", "", ""),
            ("S_CLINIC", "08:20:00", "08:20:00"),
        ],
    ),
    (
        "W2",
        "R1",
        "平日",
        [
            ("S_CLINIC", "12:00:00", "12:00:00"),
            ("S_SALON", "12:07:00", "12:07:00"),
            ("S_YAKUBA", "12:13:00", "12:14:00"),
            ("S_EKI_1", "12:20:00", "12:20:00"),
        ],
    ),
    ("WLATE", "R1", "平日", [("S_EKI_2", "24:10:00", "24:10:00"), ("S_YAKUBA", "24:30:00", "24:30:00")]),
    (
        "H1",
        "R1",
        "土休日",
        [
            ("S_EKI_1", "10:00:00", "10:00:00"),
            ("S_YAKUBA", "10:06:00", "10:06:00"),
            ("S_SALON", "10:12:00", "10:12:00"),
            ("S_CLINIC", "10:20:00", "10:20:00"),
        ],
    ),
    (
        "LOOP",
        "R2",
        "平日",
        [
            ("S_KOMINKAN", "09:00:00", "09:00:00"),
            ("S_EKI_2", "09:08:00", "09:08:00"),
            ("S_KOMINKAN", "09:20:00", "09:20:00"),
        ],
    ),
]


def _csv(rows: list[dict], columns: list[str] | None = None) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns or list(rows[0]), lineterminator="\r\n")
    w.writeheader()
    for r in rows:
        w.writerow({c: r.get(c, "") for c in w.fieldnames})
    return buf.getvalue().encode("utf-8")


def feed_files(*, flex: bool = True) -> dict[str, bytes]:
    """The feed's files by name (edit one to make a broken feed)."""
    stops = [
        dict(
            zip(
                [
                    "stop_id",
                    "stop_name",
                    "stop_lat",
                    "stop_lon",
                    "location_type",
                    "parent_station",
                    "platform_code",
                ],
                s,
                strict=True,
            )
        )
        for s in STOPS
    ]
    times = [
        {
            "trip_id": t,
            "arrival_time": a,
            "departure_time": d,
            "stop_id": s,
            "stop_sequence": str(i + 1),
            "pickup_type": "0",
            "drop_off_type": "0",
            "timepoint": "1" if a else "0",
        }
        for t, _r, _s, seq in TRIPS
        for i, (s, a, d) in enumerate(seq)
    ]
    files = {
        "agency.txt": _csv(AGENCY),
        "agency_jp.txt": _csv(AGENCY_JP),
        "stops.txt": _csv(stops, STOP_COLUMNS),
        "routes.txt": _csv(
            [
                {
                    "route_id": r,
                    "agency_id": AGENCY[0]["agency_id"],
                    "route_short_name": "",
                    "route_long_name": n,
                    "route_type": "3",
                    "jp_parent_route_id": "",
                }
                for r, n in (("R1", "診療所線"), ("R2", "公民館循環"))
            ]
        ),
        "routes_jp.txt": _csv(
            [
                {
                    "route_id": "R1",
                    "route_update_date": "20260401",
                    "origin_stop": "架空駅",
                    "via_stop": "町役場前",
                    "destination_stop": "診療所前",
                }
            ]
        ),
        "trips.txt": _csv(
            [
                {
                    "route_id": r,
                    "service_id": s,
                    "trip_id": t,
                    "trip_headsign": "",
                    "direction_id": "0",
                    "jp_office_id": "O1",
                }
                for t, r, s, _ in TRIPS
            ]
        ),
        "office_jp.txt": _csv(
            [{"office_id": "O1", "office_name": "架空町営業所", "office_url": "", "office_phone": ""}]
        ),
        "stop_times.txt": _csv(times),
        "calendar.txt": _csv(
            [
                {
                    "service_id": "平日",
                    "monday": "1",
                    "tuesday": "1",
                    "wednesday": "1",
                    "thursday": "1",
                    "friday": "1",
                    "saturday": "0",
                    "sunday": "0",
                    "start_date": "20260401",
                    "end_date": "20270331",
                },
                {
                    "service_id": "土休日",
                    "monday": "0",
                    "tuesday": "0",
                    "wednesday": "0",
                    "thursday": "0",
                    "friday": "0",
                    "saturday": "1",
                    "sunday": "1",
                    "start_date": "20260401",
                    "end_date": "20270331",
                },
            ]
        ),
        "calendar_dates.txt": _csv(
            [
                {"service_id": "平日", "date": "20270111", "exception_type": "2"},
                {"service_id": "土休日", "date": "20270111", "exception_type": "1"},
            ]
        ),
        "frequencies.txt": _csv(
            [
                {
                    "trip_id": "LOOP",
                    "start_time": "09:00:00",
                    "end_time": "11:00:00",
                    "headway_secs": "1800",
                    "exact_times": "1",
                }
            ]
        ),
        "fare_attributes.txt": _csv(
            [
                {
                    "agency_id": AGENCY[0]["agency_id"],
                    "fare_id": "F200",
                    "price": "200",
                    "currency_type": "JPY",
                    "payment_method": "0",
                    "transfers": "0",
                    "transfer_duration": "",
                }
            ]
        ),
        "fare_rules.txt": _csv(
            [{"fare_id": "F200", "route_id": "R1", "origin_id": "", "destination_id": "", "contains_id": ""}]
        ),
        "feed_info.txt": _csv(
            [
                {
                    "feed_publisher_name": "架空町",
                    "feed_publisher_url": "https://example.invalid/",
                    "feed_lang": "ja",
                    "feed_start_date": "20260401",
                    "feed_end_date": "20270331",
                    "feed_version": "test-1",
                }
            ]
        ),
        "translations.txt": _csv(
            [
                {
                    "table_name": "stops",
                    "field_name": "stop_name",
                    "language": "ja-Hrkt",
                    "translation": name,
                    "record_id": "",
                    "record_sub_id": "",
                    "field_value": key,
                }
                for key, name in (("町役場前", "まちやくばまえ"), ("診療所前", "しんりょうじょまえ"))
            ]
        ),
    }
    if flex:
        files["locations.geojson"] = json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "id": "Z_NORTH",
                        "properties": {"stop_name": "北部デマンド区域"},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [
                                [
                                    [140.06, 39.86],
                                    [140.09, 39.86],
                                    [140.09, 39.88],
                                    [140.06, 39.88],
                                    [140.06, 39.86],
                                ]
                            ],
                        },
                    }
                ],
            },
            ensure_ascii=False,
        ).encode("utf-8")
        # the zone's service: one Flex row per weekday trip, its pick-up window and booking rule
        flex_trip = {"route_id": "R2", "service_id": "平日", "trip_id": "D_NORTH", "trip_headsign": "",
                     "direction_id": "0", "jp_office_id": "O1"}
        trips_text = files["trips.txt"].decode("utf-8")
        files["trips.txt"] = (trips_text + ",".join(flex_trip.values()) + "\r\n").encode("utf-8")
        files["stop_times.txt"] = _csv(
            [
                *times,
                {
                    "trip_id": "D_NORTH",
                    "stop_id": "",
                    "location_id": "Z_NORTH",
                    "stop_sequence": "1",
                    "start_pickup_drop_off_window": "09:00:00",
                    "end_pickup_drop_off_window": "16:00:00",
                    "pickup_booking_rule_id": "B1",
                    "drop_off_booking_rule_id": "B1",
                },
            ],
            [
                "trip_id", "arrival_time", "departure_time", "stop_id", "location_id", "stop_sequence",
                "pickup_type", "drop_off_type", "timepoint", "start_pickup_drop_off_window",
                "end_pickup_drop_off_window", "pickup_booking_rule_id", "drop_off_booking_rule_id",
            ],
        )
        files["booking_rules.txt"] = _csv(
            [
                {
                    "booking_rule_id": "B1",
                    "booking_type": "1",
                    "prior_notice_duration_min": "60",
                    "message": "前日までに電話で予約",
                }
            ]
        )
    return files


def write_feed(path: Path, files: dict[str, bytes] | None = None, *, folder: str = "") -> Path:
    """Write the feed as a zip (members under ``folder`` when given, as some publishers do)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in (files or feed_files()).items():
            z.writestr(f"{folder}{name}", data)
    return path
