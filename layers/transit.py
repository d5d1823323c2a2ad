"""Bus timetables: GTFS and GTFS-JP (標準的なバス情報フォーマット) feeds, and the trips of one day.

A feed is a zip (or a folder) of text tables, read with pandas directly: every file
is a plain CSV, and what a planner needs from it — which trips run on a date, at
what times, from which stops — is a few joins.  A GTFS library (gtfs-kit) would add
a dependency for the same joins and read everything as a whole feed first; here
each table is read once, as text, with the project's readers (UTF-8 with or without
BOM; cp932 where a municipality saved it so), so bad cells are reported the same
way as in every other layer: file (``feed.zip/stop_times.txt``), row and column.

* ``calendar.txt`` and ``calendar_dates.txt`` are resolved for a chosen date
  (:func:`services_on`): the weekday pattern within its date range, then the
  exceptions (1 added, 2 removed) — a 祝日 that falls on a Monday is what
  calendar_dates says it is.
* ``frequencies.txt`` is expanded (:func:`day_trips`): a template trip is copied
  at every headway between start and end time, shifted as a whole.
* Blank intermediate times (stops that are not timepoints) are interpolated along
  the trip by stop order, as the GTFS reference allows.
* Times past 24:00 (``25:10:00``) belong to the service day they are listed in.
* GTFS-Flex (demand-responsive zones, merged into GTFS in 2024): ``locations.geojson``
  zones and ``booking_rules.txt`` are read where present and kept on the feed.

GTFS-JP's own files (agency_jp, routes_jp, office_jp, translations …) are allowed and
not needed for travel times.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from layers.crs import check_in_japan
from layers.errors import LayerError
from layers.readers import (
    MAX_ZIP_RATIO,
    find_column,
    max_unzipped_bytes,
    parse_numbers,
    parse_table,
    require_file,
    table_row,
)

__all__ = ["DEFAULT_FLEX_WAIT_MIN", "REQUIRED", "DayTrips", "DemandZone", "Feed", "day_trips", "demand_zones",
           "feed_summary", "parse_gtfs_time", "read_feed", "services_on"]

LAYER = "transit"
REQUIRED = ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt")
DEFAULT_FLEX_WAIT_MIN = 30.0
"""Minutes between asking for a demand-responsive ride and being picked up, where the
booking rule states none (a real-time or day-before booking still has a pick-up window)."""
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Feed:
    """A feed's tables as text (NFKC headers), plus the stops with numeric coordinates.

    ``stops``: stop_id, stop_name, lon, lat, location_type, parent_station.
    ``flex_zones``: the GTFS-Flex ``locations.geojson`` features (or None);
    ``booking_rules``: ``booking_rules.txt`` (or None).
    """

    name: str
    stops: pd.DataFrame
    routes: pd.DataFrame
    trips: pd.DataFrame
    stop_times: pd.DataFrame
    calendar: pd.DataFrame | None
    calendar_dates: pd.DataFrame | None
    frequencies: pd.DataFrame | None
    flex_zones: dict[str, object] | None = None
    booking_rules: pd.DataFrame | None = None
    flex_times: pd.DataFrame | None = None
    """GTFS-Flex ``stop_times`` rows that name a zone (``location_id``) instead of a stop:
    trip_id, location_id, start_s, end_s (the pick-up/drop-off window), booking_rule_id."""


@dataclass(frozen=True)
class DemandZone:
    """A demand-responsive (デマンド) zone running on one date: inside ``polygon``
    (EPSG:4326) a ride can be booked between any two points within the ``windows``
    (seconds from midnight), picked up ``wait_min`` minutes after asking."""

    zone_id: str
    name: str
    polygon: Any
    windows: tuple[tuple[float, float], ...]
    wait_min: float
    booking: str


@dataclass(frozen=True)
class DayTrips:
    """The stop events of every trip running on one date, frequencies expanded.

    ``events``: trip_id, route_id, stop_id, seq (0, 1, … along the trip), arr_s, dep_s
    (seconds from midnight of that date; past 86,400 after midnight), sorted by trip
    and seq.
    """

    date: dt.date
    events: pd.DataFrame

    @property
    def n_trips(self) -> int:
        return int(self.events["trip_id"].nunique())


# ------------------------------------------------------------------ reading


def _members(path: Path) -> dict[str, bytes]:
    """The feed's files by base name (a feed zipped inside a top folder still reads)."""
    if path.is_dir():
        return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}
    require_file(path)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX")]
            total = sum(i.file_size for i in infos)
            if total > max_unzipped_bytes() or total > MAX_ZIP_RATIO * max(path.stat().st_size, 1 << 20):
                raise LayerError(f"zip を展開すると大きすぎます（{total / 2**20:,.0f} MB）。", file=path,
                                 layer=LAYER,
                                 fix="GTFS の zip か確かめ、展開したフォルダを指定してください。")
            return {PurePosixPath(i.filename).name: zf.read(i) for i in infos}
    except (zipfile.BadZipFile, OSError) as exc:
        raise LayerError("GTFS の zip が壊れています（展開できません）。", file=path, layer=LAYER,
                         fix="事業者や市町村のページからダウンロードし直してください。") from exc


def _table(files: dict[str, bytes], name: str, feed: Path) -> pd.DataFrame | None:
    raw = files.get(name)
    if raw is None:
        return None
    df = parse_table(raw, file=Path(f"{feed.name}/{name}"))
    df.attrs["file_label"] = f"{feed.name}/{name}"
    return df


def _need(df: pd.DataFrame, columns: tuple[str, ...], label: str) -> None:
    for col in columns:
        if find_column(df, (col,)) is None:
            raise LayerError(f"GTFS の必須の列 {col} がありません。", file=label, row=1, column=col,
                             layer=LAYER, fix="GTFS（GTFS-JP）の仕様どおりの列名か確かめてください。")


def _check_dates(df: pd.DataFrame, columns: list[str], label: str) -> None:
    """Every date is a real day written YYYYMMDD (20261301, 20270230 and 99999999 are not)."""
    for col in columns:
        text = df[col].astype(str).str.strip()
        day = pd.to_datetime(text.where(text.str.fullmatch(r"\d{8}")), format="%Y%m%d", errors="coerce")
        bad = np.flatnonzero(day.isna().to_numpy() | (day.dt.year.to_numpy() < 1990)
                             | (day.dt.year.to_numpy() > 2100))
        if len(bad):
            raise LayerError(f"日付が読めません: {text.iloc[bad[0]][:12]!r}", file=label,
                             row=table_row(df, int(bad[0])), column=col, layer=LAYER,
                             fix="YYYYMMDD の形の実在する日付にしてください（例: 20270114）。")


def read_feed(path: Path) -> Feed:
    """Read a GTFS / GTFS-JP feed (zip or folder); every problem names the member file,
    the row and the column."""
    files = _members(path)
    missing = [n for n in REQUIRED if n not in files]
    if missing or ("calendar.txt" not in files and "calendar_dates.txt" not in files):
        what = ", ".join(missing) or "calendar.txt / calendar_dates.txt"
        raise LayerError(f"GTFS に必要なファイルがありません: {what}", file=path, layer=LAYER,
                         fix="GTFS（GTFS-JP）の zip をそのまま指定してください。")
    t = {n: _table(files, n, path) for n in (*REQUIRED, "calendar.txt", "calendar_dates.txt",
                                              "frequencies.txt", "booking_rules.txt")}
    for name, cols in (("stops.txt", ("stop_id",)), ("routes.txt", ("route_id",)),
                       ("trips.txt", ("route_id", "service_id", "trip_id")),
                       ("stop_times.txt", ("trip_id", "stop_id", "stop_sequence")),
                       ("calendar.txt", ("service_id", *WEEKDAYS, "start_date", "end_date")),
                       ("calendar_dates.txt", ("service_id", "date", "exception_type")),
                       ("frequencies.txt", ("trip_id", "start_time", "end_time", "headway_secs"))):
        df = t[name]
        if df is not None:
            _need(df, cols, f"{path.name}/{name}")
            _check_dates(df, [c for c in cols if c.endswith("date")], f"{path.name}/{name}")
    stops = _stops(t["stops.txt"], f"{path.name}/stops.txt")  # type: ignore[arg-type]
    fixed, flex_rows = _split_flex(t["stop_times.txt"], f"{path.name}/stop_times.txt")  # type: ignore[arg-type]
    stop_times = _stop_times(fixed, stops, f"{path.name}/stop_times.txt")
    if t["frequencies.txt"] is not None and len(t["frequencies.txt"]):  # a bomb refused at once, at
        _frequencies(stop_times, t["frequencies.txt"])                # upload, not on the first day
    flex = _flex_zones(files["locations.geojson"], path) if "locations.geojson" in files else None
    return Feed(name=path.name, stops=stops, routes=t["routes.txt"], trips=t["trips.txt"],  # type: ignore[arg-type]
                stop_times=stop_times, calendar=t["calendar.txt"], calendar_dates=t["calendar_dates.txt"],
                frequencies=t["frequencies.txt"], flex_zones=flex, booking_rules=t["booking_rules.txt"],
                flex_times=flex_rows)


def _flex_zones(raw: bytes, feed: Path) -> dict[str, object]:
    """``locations.geojson``, its every zone a readable polygon (a broken file or zone names
    the member file and the zone's position)."""
    import shapely.geometry

    label = f"{feed.name}/locations.geojson"
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise LayerError("デマンド区域のファイルが GeoJSON として読めません。", file=label, layer=LAYER,
                         fix="GTFS-Flex の locations.geojson（UTF-8 の GeoJSON）か確かめてください。"
                         ) from None
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list):
        raise LayerError("デマンド区域のファイルに features がありません。", file=label, layer=LAYER,
                         fix="FeatureCollection の GeoJSON にしてください。")
    for i, feat in enumerate(features):
        try:
            shape = shapely.geometry.shape(feat["geometry"])
            ok = shape.geom_type in ("Polygon", "MultiPolygon") and shape.is_valid and not shape.is_empty
        except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.GEOSException):
            ok = False
        if not ok:
            raise LayerError("デマンド区域の形が読めません（ポリゴンではないか、壊れています）。", file=label,
                             row=i + 1, column="geometry", layer=LAYER,
                             fix="区域は経度・緯度のポリゴンで書いてください。")
    return doc  # type: ignore[no-any-return]


def _split_flex(df: pd.DataFrame, label: str) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Fixed-stop rows, and GTFS-Flex rows (a ``location_id`` and a pick-up window)."""
    if "location_id" not in df:
        return df, None
    zone = df["location_id"].str.strip() != ""
    if not zone.any():
        return df, None
    rows = df[zone]
    win = {c: parse_gtfs_time(rows[c]) if c in rows else np.full(len(rows), np.nan)
           for c in ("start_pickup_drop_off_window", "end_pickup_drop_off_window")}
    for col, v in win.items():
        bad = np.flatnonzero(~(v >= 0))
        if len(bad):
            raise LayerError("デマンド区域の行に乗降できる時間帯がありません。", file=label,
                             row=table_row(df, int(np.flatnonzero(zone.to_numpy())[bad[0]])), column=col,
                             layer=LAYER, fix="start/end_pickup_drop_off_window を時:分:秒で入れてください。")
    rule = rows["pickup_booking_rule_id"].str.strip() if "pickup_booking_rule_id" in rows else ""
    flex = pd.DataFrame({"trip_id": rows["trip_id"].str.strip().to_numpy(),
                         "location_id": rows["location_id"].str.strip().to_numpy(),
                         "start_s": win["start_pickup_drop_off_window"],
                         "end_s": win["end_pickup_drop_off_window"],
                         "booking_rule_id": np.asarray(rule, dtype=object) if len(rows) else []})
    fixed = df[~zone.to_numpy()]
    src = df.attrs.get("source_rows")
    fixed.attrs = {**df.attrs, "source_rows": (np.asarray(src) if src is not None
                                               else np.arange(len(df)))[~zone.to_numpy()]}
    return fixed, flex


def _stops(df: pd.DataFrame, label: str) -> pd.DataFrame:
    kind = (df["location_type"].replace("", "0") if "location_type" in df else pd.Series("0", index=df.index))
    placed = kind.isin(["0", "1"]).to_numpy()  # stops and stations carry coordinates
    out = pd.DataFrame({"stop_id": df["stop_id"].str.strip(), "stop_name": df.get("stop_name", ""),
                        "location_type": kind.to_numpy(),
                        "parent_station": df.get("parent_station", pd.Series("", index=df.index))})
    lon = np.full(len(df), np.nan)
    lat = np.full(len(df), np.nan)
    for col, arr in (("stop_lat", lat), ("stop_lon", lon)):
        if col not in df:
            raise LayerError(f"停留所の {col} 列がありません。", file=label, row=1, column=col, layer=LAYER,
                             fix="stops.txt に stop_lat と stop_lon を入れてください。")
        arr[:] = parse_numbers(df[col])[1]
        bad = np.flatnonzero(placed & ~np.isfinite(arr))
        if len(bad):
            raise LayerError(f"停留所の座標が数値ではありません（{len(bad)} 行）。", file=label,
                             row=table_row(df, int(bad[0])), column=col, layer=LAYER,
                             fix="10進数の度（例: 39.7186）で入れてください。")
    check_in_japan(lon[placed], lat[placed], file=label, columns=("stop_lon", "stop_lat"))
    twice = np.flatnonzero(out["stop_id"].duplicated().to_numpy())
    if len(twice):
        sid = str(out["stop_id"].iloc[twice[0]])[:30]
        raise LayerError(f"停留所の stop_id が重複しています: {sid}", file=label,
                         row=table_row(df, int(twice[0])), column="stop_id", layer=LAYER,
                         fix="stop_id は停留所ごとに別の値にしてください。")
    return out.assign(lon=lon, lat=lat)


def parse_gtfs_time(values: pd.Series) -> np.ndarray:
    """``H:MM:SS`` (H of 1–3 digits, may pass 24) → seconds; blank → NaN; anything else → -1.

    Read as fixed-width code points counted from the end of each text: no Python loop and
    no regular expression over a feed's hundreds of thousands of times."""
    stripped = values.astype(str).str.strip()
    n = len(stripped)
    if not n:
        return np.zeros(0)
    length = stripped.str.len().to_numpy(np.int64)
    codes = stripped.to_numpy(dtype="U9").view(np.uint32).reshape(n, 9).astype(np.int64)
    rows = np.arange(n)

    def digit(back: int) -> np.ndarray:  # the digit ``back`` places before the end (-1 if none)
        pos = length - back
        c = np.where(pos >= 0, codes[rows, np.clip(pos, 0, 8)], 0) - 48
        return np.where((pos >= 0) & (c >= 0) & (c <= 9), c, -1)

    def colon(back: int) -> np.ndarray:
        return codes[rows, np.clip(length - back, 0, 8)] == 58

    d = {k: digit(k) for k in (1, 2, 4, 5, 7, 8, 9)}
    ok = (length >= 7) & (length <= 9) & colon(3) & colon(6)
    ok &= (d[1] >= 0) & (d[2] >= 0) & (d[4] >= 0) & (d[5] >= 0) & (d[7] >= 0)
    ok &= ((length < 8) | (d[8] >= 0)) & ((length < 9) | (d[9] >= 0))
    hours = d[7] + np.where(length >= 8, d[8] * 10, 0) + np.where(length >= 9, d[9] * 100, 0)
    mins, secs = d[5] * 10 + d[4], d[2] * 10 + d[1]
    ok &= (mins < 60) & (secs < 60)
    out = np.where(ok, hours * 3600.0 + mins * 60.0 + secs, -1.0)
    return np.where(length == 0, np.nan, out)


def _stop_times(df: pd.DataFrame, stops: pd.DataFrame, label: str) -> pd.DataFrame:
    arr = parse_gtfs_time(df["arrival_time"]) if "arrival_time" in df else np.full(len(df), np.nan)
    dep = parse_gtfs_time(df["departure_time"]) if "departure_time" in df else np.full(len(df), np.nan)
    for col, v in (("arrival_time", arr), ("departure_time", dep)):
        bad = np.flatnonzero(v == -1)
        if len(bad):
            raise LayerError(f"時刻が読めない行があります（{len(bad)} 行）。", file=label,
                             row=table_row(df, int(bad[0])), column=col, layer=LAYER,
                             fix="「8:05:00」「25:10:00」のように時:分:秒で書いてください。")
    seq = parse_numbers(df["stop_sequence"])[1]
    if (~np.isfinite(seq)).any():
        i = int(np.flatnonzero(~np.isfinite(seq))[0])
        raise LayerError("stop_sequence が数値ではありません。", file=label, row=table_row(df, i),
                         column="stop_sequence", layer=LAYER, fix="整数で書いてください。")
    unknown = np.flatnonzero(~df["stop_id"].str.strip().isin(stops["stop_id"]).to_numpy())
    if len(unknown):
        raise LayerError(f"stops.txt にない停留所の行があります（{len(unknown)} 行）。", file=label,
                         row=table_row(df, int(unknown[0])), column="stop_id", layer=LAYER,
                         fix="stops.txt と stop_times.txt が同じフィードのものか確かめてください。")
    arr = np.where(np.isnan(arr), dep, arr)
    dep = np.where(np.isnan(dep), arr, dep)
    out = pd.DataFrame({"trip_id": df["trip_id"].str.strip(), "stop_id": df["stop_id"].str.strip(),
                        "sequence": seq, "arr_s": arr, "dep_s": dep, "row": np.arange(len(df))})
    out = out.sort_values(["trip_id", "sequence"], kind="stable").reset_index(drop=True)
    return _interpolated(out, df, label)


def _interpolated(st: pd.DataFrame, df: pd.DataFrame, label: str) -> pd.DataFrame:
    """Blank times between two timed stops of a trip, linear by stop order; a trip whose
    first or last stop has no time is an error."""
    grp = st.groupby("trip_id", sort=False)
    first, last = grp.cumcount() == 0, grp.cumcount(ascending=False) == 0
    untimed = st["arr_s"].isna()
    bad = (first | last) & untimed
    if bad.any():
        i = int(st.loc[bad, "row"].iloc[0])
        raise LayerError("便の最初か最後の停留所に時刻がありません。", file=label, row=table_row(df, i),
                         column="arrival_time", layer=LAYER,
                         fix="始発と終着の停留所には時刻を入れてください。")
    if untimed.any():
        pos = grp.cumcount().astype(float)
        for col in ("arr_s", "dep_s"):
            known = st[col].notna()
            ref = pd.Series(np.where(known, pos, np.nan), index=st.index)
            lo_t, hi_t = st[col].groupby(st["trip_id"]).ffill(), st[col].groupby(st["trip_id"]).bfill()
            lo_p, hi_p = ref.groupby(st["trip_id"]).ffill(), ref.groupby(st["trip_id"]).bfill()
            frac = ((pos - lo_p) / (hi_p - lo_p).where(hi_p > lo_p, 1.0)).fillna(0.0)
            st[col] = st[col].fillna(lo_t + frac * (hi_t - lo_t))
    return st.drop(columns="row")


# ------------------------------------------------------------------ one day


def services_on(feed: Feed, day: dt.date) -> set[str]:
    """The service_ids that run on ``day``: calendar.txt's weekday within its range, then
    calendar_dates.txt's exceptions (1 added, 2 removed)."""
    key = day.strftime("%Y%m%d")
    active: set[str] = set()
    cal = feed.calendar
    if cal is not None and len(cal):
        on = (cal[WEEKDAYS[day.weekday()]].str.strip() == "1") & (cal["start_date"].str.strip() <= key) & \
            (cal["end_date"].str.strip() >= key)
        active = set(cal.loc[on, "service_id"].str.strip())
    ex = feed.calendar_dates
    if ex is not None and len(ex):
        today = ex[ex["date"].str.strip() == key]
        kind = today["exception_type"].str.strip()
        active |= set(today.loc[kind == "1", "service_id"].str.strip())
        active -= set(today.loc[kind == "2", "service_id"].str.strip())
    return active


def day_trips(feed: Feed, day: dt.date) -> DayTrips:
    """The stop events of every trip running on ``day`` (frequencies expanded)."""
    services = services_on(feed, day)
    trips = feed.trips.assign(trip_id=feed.trips["trip_id"].str.strip(),
                              service_id=feed.trips["service_id"].str.strip(),
                              route_id=feed.trips["route_id"].str.strip())
    running = trips[trips["service_id"].isin(services)][["trip_id", "route_id"]]
    st = feed.stop_times.merge(running, on="trip_id")
    st = st.assign(seq=st.groupby("trip_id").cumcount())
    events = _expand_frequencies(st, feed.frequencies)
    events = events.sort_values(["trip_id", "seq"], kind="stable").reset_index(drop=True)
    return DayTrips(date=day, events=events[["trip_id", "route_id", "stop_id", "seq", "arr_s", "dep_s"]])


def _frequencies(st: pd.DataFrame, freq: pd.DataFrame) -> pd.DataFrame:
    """``frequencies.txt`` parsed (``start``, ``end``, ``headway`` in seconds) and checked: a
    row that cannot be read, or an expansion past :data:`MAX_DAY_EVENTS` for the trips of
    ``st``, is an error naming the row (at reading, every trip counted; on a day, its own)."""
    f = freq.assign(trip_id=freq["trip_id"].str.strip(), start=parse_gtfs_time(freq["start_time"]),
                    end=parse_gtfs_time(freq["end_time"]), headway=parse_numbers(freq["headway_secs"])[1])
    bad = np.flatnonzero((f["start"] < 0) | (f["end"] < 0) | ~(f["headway"] > 0))
    if len(bad):
        raise LayerError("frequencies.txt の行が読めません。", file="frequencies.txt",
                         row=table_row(freq, int(bad[0])), layer=LAYER,
                         fix="start_time・end_time は時:分:秒、headway_secs は正の秒数で書いてください。")
    _check_expansion(st, f, freq)
    return f


def _expand_frequencies(st: pd.DataFrame, freq: pd.DataFrame | None) -> pd.DataFrame:
    if freq is None or not len(freq):
        return st
    f = _frequencies(st, freq)
    templated = st["trip_id"].isin(f["trip_id"])
    copies = [st[~templated]]
    row: Any
    for row in f.itertuples():
        tmpl = st[st["trip_id"] == row.trip_id]
        if not len(tmpl):
            continue
        base = float(tmpl["dep_s"].iloc[0])
        for k, start in enumerate(np.arange(row.start, row.end, row.headway)):
            shift = float(start) - base
            copies.append(tmpl.assign(trip_id=f"{row.trip_id}#{int(start)}#{k}", arr_s=tmpl["arr_s"] + shift,
                                      dep_s=tmpl["dep_s"] + shift))
    return pd.concat(copies, ignore_index=True)


MAX_DAY_EVENTS = 5_000_000
"""Stop events one day of a feed may expand to (a prefecture's buses make well under a
million); a 1-second headway until 999:00:00 would be billions."""


def _check_expansion(st: pd.DataFrame, f: pd.DataFrame, freq: pd.DataFrame) -> None:
    """Refuse frequencies that would expand past :data:`MAX_DAY_EVENTS`, before any copy."""
    stops = st.groupby("trip_id").size()
    span = (f["end"] - f["start"]).clip(lower=0).to_numpy(float)
    per_row = np.ceil(span / f["headway"].to_numpy(float)) * f["trip_id"].map(stops).fillna(0).to_numpy(float)
    if per_row.sum() + len(st) > MAX_DAY_EVENTS:
        worst = int(np.argmax(per_row))
        raise LayerError(f"運行間隔で便が多くなりすぎます（停留所への到着 {per_row.sum():,.0f} 回）。",
                         file="frequencies.txt", row=table_row(freq, worst), column="headway_secs",
                         layer=LAYER, fix="headway_secs（秒）と start_time・end_time を確かめてください"
                         "（例: 600 は10分間隔）。")


def _wait_of(rule: pd.Series | None, default: float) -> tuple[float, str]:
    """The stated wait of a booking rule: ``prior_notice_duration_min`` of a same-day
    booking (type 1), else ``default``; and the rule's message."""
    if rule is None:
        return default, ""
    message = str(rule.get("message", "") or "")
    if str(rule.get("booking_type", "")).strip() == "1":
        n = pd.to_numeric(pd.Series([rule.get("prior_notice_duration_min", "")]), errors="coerce").iloc[0]
        if np.isfinite(n) and n >= 0:
            return float(n), message
    return default, message


def demand_zones(feed: Feed, day: dt.date, *, wait_min: float | None = None) -> list[DemandZone]:
    """The demand-responsive zones running on ``day`` (a Flex row whose trip's service runs),
    with their windows and stated wait (``wait_min`` overrides every rule's)."""
    import shapely.geometry

    if feed.flex_times is None or not feed.flex_zones:
        return []
    services = services_on(feed, day)
    trips = feed.trips.assign(trip_id=feed.trips["trip_id"].str.strip(),
                              service_id=feed.trips["service_id"].str.strip())
    running = set(trips.loc[trips["service_id"].isin(services), "trip_id"])
    rows = feed.flex_times[feed.flex_times["trip_id"].isin(running)]
    rules = ({str(r["booking_rule_id"]).strip(): r for _, r in feed.booking_rules.iterrows()}
             if feed.booking_rules is not None and "booking_rule_id" in feed.booking_rules else {})
    features = {str(f.get("id", "")): f for f in feed.flex_zones.get("features", [])  # type: ignore[attr-defined]
                if isinstance(f, dict)}
    out = []
    for zid, grp in rows.groupby("location_id", sort=True):
        feat = features.get(str(zid))
        if feat is None:
            continue
        wait, message = _wait_of(rules.get(str(grp["booking_rule_id"].iloc[0])), DEFAULT_FLEX_WAIT_MIN)
        windows = tuple(sorted({(float(a), float(b))
                                for a, b in zip(grp["start_s"], grp["end_s"], strict=True)}))
        label = (feat.get("properties") or {}).get("stop_name", zid)
        out.append(DemandZone(zone_id=str(zid), name=str(label),
                              polygon=shapely.geometry.shape(feat["geometry"]), windows=windows,
                              wait_min=float(wait_min) if wait_min is not None else wait, booking=message))
    return out


def feed_summary(feed: Feed, day: dt.date) -> dict[str, object]:
    """What ``tomoni check`` says of a feed: routes, stops, trips on ``day``, Flex zones."""
    trips = day_trips(feed, day)
    zones = len((feed.flex_zones or {}).get("features", [])) if feed.flex_zones else 0  # type: ignore[arg-type]
    stops = int((feed.stops["location_type"] == "0").sum())
    return {"feed": feed.name, "routes": len(feed.routes), "stops": stops, "date": day.isoformat(),
            "trips_on_date": trips.n_trips, "flex_zones": zones}

