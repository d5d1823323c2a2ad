"""Winter as data: the surface penalties, the 除雪優先 roads and the 冬期閉鎖 sections.

Akita is under snow for four months.  Walking on the best winter surface costs about
+1 min/km against bare pavement, on clean ice about +2 min/km (Fossum & Ryeng 2021,
Transp. Res. D 97:102934); snow and ice are the main reason older adults stay at home
(Li, Hsu & Fernie 2013).  A region says how its winter walks in its TOML::

    [season.winter]
    # minutes added per km walked, per profile and road group: "main" roads (trunk,
    # primary, secondary — ploughed first) and every "other" road
    walk = { main = 1.0, other = 2.0 }
    elderly = { main = 1.5, other = 3.0 }
    priority_roads = ["国道7号"]               # 除雪優先: OSM names that keep the summer speed
    priority = "josetsu_yusen.geojson"         # and/or lines of 除雪優先 routes
    closures = "toki_heisa.geojson"            # 冬期閉鎖 sections (lines), see below

The defaults are the anchors: +1 min/km on main roads, +2 on the others when walking;
the elderly profile takes them ×1.5 (assumed: a slower, more careful step on the same
surface — say otherwise in the TOML).  A road on the 除雪優先 list keeps its summer speed.

A closures file holds lines along the closed sections, with optional ``開始``/``終了``
columns (``MM-DD``, or ``M月D日``; a range may run over the new year, e.g. 12-01 → 04-20)
and ``路線名``/``区間`` for the tables; a section without dates is closed all winter.
These are read as they are distributed (GeoJSON, GeoPackage, shapefile in cp932).

A closures file may also be the **table** a 道路管理者 publishes (CSV in cp932/UTF-8 or
Excel): ``路線名``, ``区間`` written ``字A〜字B`` (or ``起点``/``終点`` columns), optional
``市町村``, ``開始``/``終了``.  Its places are found with the region's ``[geocoder]`` (町字
reference points; a place found only at 市町村 level is refused, naming its row) and the
season closes the shortest road path between them (:func:`geo.engine.season.roads_between`) — an
approximation when a 字's reference point lies off the closed road: draw the line for those.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.errors import LayerError
from layers.readers import read_vector, require_geometry, require_rows
from layers.validate import pick

__all__ = ["DEFAULT_PENALTY", "PROFILES", "WinterSpec", "closed_on", "conditional_closed",
           "load_closures", "load_priority", "read_winter"]

log = logging.getLogger(__name__)

DEFAULT_PENALTY: dict[str, dict[str, float]] = {"walk": {"main": 1.0, "other": 2.0},
                                                "elderly": {"main": 1.5, "other": 3.0}}
"""Minutes added per km walked in winter, per walking profile (those of
:mod:`geo.engine.profiles`; a test keeps them equal) and road group."""
PROFILES = tuple(DEFAULT_PENALTY)
"""The profiles a region file may give winter penalties for."""
MAIN_CLASSES = ("motorway", "trunk", "primary", "secondary")
"""Road classes of the ``main`` group (ploughed first); every other class is ``other``."""
WINTER_MONTHS = (12, 1, 2, 3)
"""Months in which a date counts as winter when none is given."""
LINES = {"LineString", "MultiLineString"}
START_NAMES = ("開始", "開始日", "閉鎖開始", "start", "from")
END_NAMES = ("終了", "終了日", "閉鎖終了", "解除", "end", "to")
ROUTE_NAMES = ("路線名", "路線", "name", "名称", "route")
SECTION_NAMES = ("区間", "section")


@dataclass(frozen=True)
class WinterSpec:
    """``[season.winter]`` of a region TOML (defaults when the table is absent)."""

    penalty: dict[str, dict[str, float]] = field(default_factory=lambda: {
        p: dict(v) for p, v in DEFAULT_PENALTY.items()})
    priority_roads: tuple[str, ...] = ()
    priority: tuple[Path, ...] = ()
    closures: tuple[Path, ...] = ()


def read_winter(table: Any, *, toml: Path) -> WinterSpec:
    """Check ``[season.winter]``; every problem is named at once (a :class:`LayerError`)."""
    if table is None:
        return WinterSpec()
    if not isinstance(table, dict):
        raise LayerError("[season.winter] は表にしてください。", file=toml, column="season.winter",
                         fix="例: [season.winter] の下に walk = { main = 1.0, other = 2.0 }")
    problems: list[str] = []
    penalty = _penalties(table, problems)
    names = table.get("priority_roads", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        problems.append('priority_roads は道路名の一覧にしてください（例: ["国道7号"]）')
        names = []
    paths = {key: _winter_files(table, key, toml, problems) for key in ("priority", "closures")}
    unknown = sorted(set(table) - {*PROFILES, "priority_roads", "priority", "closures"})
    if unknown:
        log.warning("%s: [season.winter] の不明な項目 %s は無視しました。", toml.name, ", ".join(unknown))
    if problems:
        raise LayerError("[season.winter] に誤りがあります: " + "; ".join(problems), file=toml,
                         column="season.winter", fix="docs/region-config.md の冬の設定を見てください。")
    return WinterSpec(penalty=penalty, priority_roads=tuple(n.strip() for n in names if n.strip()),
                      priority=paths["priority"], closures=paths["closures"])


def _penalties(table: dict[str, Any], problems: list[str]) -> dict[str, dict[str, float]]:
    """The per-profile penalties (min/km) of ``[season.winter]``, defaults where not given."""
    penalty = {p: dict(v) for p, v in DEFAULT_PENALTY.items()}
    for profile in PROFILES:
        given = table.get(profile)
        if given is None:
            continue
        if not isinstance(given, dict) or set(given) - {"main", "other"}:
            problems.append(f"{profile} は {{ main = 分/km, other = 分/km }} の形にしてください")
            continue
        for group, value in given.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 30:
                problems.append(f"{profile}.{group} は 0〜30 の数（1 km あたりの追加分数）にしてください")
            else:
                penalty[profile][group] = float(value)
    return penalty


def _winter_files(table: dict[str, Any], key: str, toml: Path, problems: list[str]) -> tuple[Path, ...]:
    """The files of ``key`` (a path or a list of them), relative to the region file."""
    value = table.get(key, [])
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{key} はファイルのパス（または一覧）にしてください")
        return ()
    found = tuple((toml.parent / v).resolve() for v in value)
    problems += [f"{key} のファイルが見つかりません: {v}" for v, p in zip(value, found, strict=True)
                 if not p.is_file()]
    return found


def _month_day(value: Any, *, file: Path, row: int, column: str) -> tuple[int, int] | None:
    """``MM-DD`` / ``M/D`` / ``M月D日`` → (month, day); blank → None."""
    text = unicodedata.normalize("NFKC", str(value if value is not None else "")).strip()
    if text in ("", "nan", "None"):
        return None
    m = re.fullmatch(r"(?:\d{4}[-/])?(\d{1,2})\s*(?:[-/]|月)\s*(\d{1,2})\s*日?", text)
    if m:
        month, day = int(m.group(1)), int(m.group(2))
        try:
            dt.date(2024, month, day)  # a leap year: 02-29 is a day
            return month, day
        except ValueError:
            pass
    raise LayerError("閉鎖の日付が読めません。", file=file, row=row, column=column, layer="closures",
                     fix="月-日（例 12-01）または 12月1日 の形にしてください。")


def closed_on(start: tuple[int, int] | None, end: tuple[int, int] | None, day: dt.date | None) -> bool:
    """Whether a section closed from ``start`` to ``end`` (month, day; both inclusive;
    the range may run over the new year) is closed on ``day``.  Without dates it is
    closed all winter; without ``day``, any section counts as closed."""
    if day is None or (start is None and end is None):
        return True
    md = (day.month, day.day)
    lo = start or (1, 1)
    hi = end or (12, 31)
    return lo <= md <= hi if lo <= hi else (md >= lo or md <= hi)


_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep",
                                       "oct", "nov", "dec"), start=1)}
_RANGE = re.compile(r"([a-z]{3})(?:\s+(\d{1,2}))?\s*-\s*([a-z]{3})(?:\s+(\d{1,2}))?")


def conditional_closed(value: str, day: dt.date) -> bool | None:
    """An OSM ``*:conditional`` value (``no @ (Dec-Mar)``, ``no @ (Nov 15-Apr 30)``,
    ``no @ (Dec 1-Apr 20; snow)``…) on ``day``: True when a ``no`` condition covers the
    day, False when none does, None when no condition could be read (the road stays open
    and the caller says so)."""
    read_any = False
    for part in str(value).split(";"):
        if "@" not in part:
            continue
        what, _, cond = part.partition("@")
        if what.strip().lower() not in ("no", "private"):
            continue
        m = _RANGE.search(cond.lower())
        if not m or m.group(1) not in _MONTHS or m.group(3) not in _MONTHS:
            continue
        read_any = True
        start = (_MONTHS[m.group(1)], int(m.group(2) or 1))
        end_month = _MONTHS[m.group(3)]
        end = (end_month, int(m.group(4)) if m.group(4) else _month_end(end_month))
        if closed_on(start, end, day):
            return True
    return False if read_any else None


def _month_end(month: int) -> int:
    return 29 if month == 2 else 30 if month in (4, 6, 9, 11) else 31


TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xls")
FROM_NAMES = ("起点", "区間起点", "自", "from_place")
TO_NAMES = ("終点", "区間終点", "至", "to_place")
MUNICIPALITY_NAMES = ("市町村", "市町村名", "municipality")
_SECTION_SPLIT = re.compile(r"\s*(?:〜|～|~|から)\s*")


def load_closures(paths: tuple[Path, ...], *, day: dt.date | None, geocoder: Any = None
                  ) -> gpd.GeoDataFrame:
    """The 冬期閉鎖 sections closed on ``day`` (all of them without a day), EPSG:6668,
    with ``route``, ``section``, ``start``, ``end`` (``MM-DD`` or blank) and ``by_ends``.

    Lines are taken as drawn.  A table (CSV/Excel, as 道路管理者 publish them: 路線名,
    区間 ``字A〜字B`` or 起点/終点, 開始/終了) is placed with the region's address
    ``geocoder``: each row becomes the straight line between its two places, marked
    ``by_ends`` — the season follows the roads between them (:mod:`geo.engine.season`)."""
    frames = []
    for path in paths:
        if Path(path).suffix.lower() in TABLE_SUFFIXES:
            gdf = _closure_table(Path(path), geocoder)
        else:
            gdf = read_vector(path)
            require_rows(gdf, file=path, layer="closures")
            gdf = require_geometry(gdf, LINES, file=path, layer="closures").assign(by_ends=False)
        sc, ec = pick(gdf, START_NAMES, file=path), pick(gdf, END_NAMES, file=path)
        rc, xc = pick(gdf, ROUTE_NAMES, file=path), pick(gdf, SECTION_NAMES, file=path)
        starts = [_month_day(v, file=path, row=i + 2, column=str(sc)) if sc else None
                  for i, v in enumerate(gdf[sc] if sc else [None] * len(gdf))]
        ends = [_month_day(v, file=path, row=i + 2, column=str(ec)) if ec else None
                for i, v in enumerate(gdf[ec] if ec else [None] * len(gdf))]
        shut = np.array([closed_on(a, b, day) for a, b in zip(starts, ends, strict=True)], bool)
        frames.append(gpd.GeoDataFrame({
            "route": gdf[rc].fillna("").astype(str).to_numpy() if rc else "",
            "section": gdf[xc].fillna("").astype(str).to_numpy() if xc else "",
            "start": [f"{a[0]:02d}-{a[1]:02d}" if a else "" for a in starts],
            "end": [f"{b[0]:02d}-{b[1]:02d}" if b else "" for b in ends],
            "source": Path(path).name, "by_ends": gdf["by_ends"].to_numpy(bool)},
            geometry=gdf.geometry.to_numpy(), crs=gdf.crs).loc[shut])
    if not frames:
        return gpd.GeoDataFrame({"route": [], "section": [], "start": [], "end": [], "source": [],
                                 "by_ends": np.zeros(0, bool)}, geometry=[], crs="EPSG:6668")
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)


def load_priority(paths: tuple[Path, ...]) -> gpd.GeoDataFrame:
    """The 除雪優先 routes (lines, EPSG:6668) of ``[season.winter] priority``."""
    frames = []
    for path in paths:
        gdf = read_vector(path)
        require_rows(gdf, file=path, layer="priority")
        gdf = require_geometry(gdf, LINES, file=path, layer="priority")
        frames.append(gpd.GeoDataFrame(geometry=gdf.geometry.to_numpy(), crs=gdf.crs))
    if not frames:
        return gpd.GeoDataFrame(geometry=[], crs="EPSG:6668")
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)


def _closure_table(path: Path, geocoder: Any) -> gpd.GeoDataFrame:
    """A table of closed sections placed by their two places (see :func:`load_closures`);
    every place that cannot be placed is named at once."""
    import shapely

    from layers.readers import read_table

    df = read_table(path)
    require_rows(df, file=path, layer="closures")
    rc = pick(df, ROUTE_NAMES, file=path)
    fc, tc = pick(df, FROM_NAMES, file=path), pick(df, TO_NAMES, file=path)
    xc = pick(df, SECTION_NAMES, file=path)
    mc = pick(df, MUNICIPALITY_NAMES, file=path)
    if rc is None or not ((fc and tc) or xc):
        raise LayerError("冬期閉鎖の表に路線名と区間（起点・終点）の列がありません。", file=path, row=1,
                         column="路線名", layer="closures",
                         fix="列「路線名」と「区間」（例 字A〜字B）、"
                         "または「起点」「終点」を用意してください。")
    if geocoder is None:
        raise LayerError("冬期閉鎖の表の場所を地図に置くには住所の参照点が必要です。", file=path,
                         column="区間", layer="closures",
                         fix='地域設定に [geocoder] path = "町字の参照点.json" を書くか、'
                         "区間を線のファイルにしてください。")
    ends: list[tuple[str, str]] = []
    problems: list[str] = []
    for i, row in enumerate(df.itertuples(index=False), start=2):
        rec = dict(zip(df.columns, row, strict=True))
        if fc and tc:
            a, b = str(rec[fc] or "").strip(), str(rec[tc] or "").strip()
        else:
            parts = _SECTION_SPLIT.split(str(rec[str(xc)] or "").strip())
            a, b = (parts[0], parts[-1]) if len(parts) >= 2 else ("", "")
        if not a or not b:
            problems.append(f"{i} 行目: 区間の両端が読めません")
        ends.append((a, b))
    muni = [str(v) if mc and v is not None else "" for v in (df[mc] if mc else [None] * len(df))]
    places = geocoder.geocode([e[0] for e in ends] + [e[1] for e in ends], muni + muni)
    rough = places["match_level"].isin(["", "市町村"]).to_numpy()  # a section needs its 字
    lat = np.where(rough, np.nan, places["lat"].to_numpy(float))
    lon = np.where(rough, np.nan, places["lon"].to_numpy(float))
    n = len(df)
    for i in range(n):
        for side, (k, which) in enumerate(((i, "起点"), (i + n, "終点"))):
            place = ends[i][side]
            if place and not (np.isfinite(lat[k]) and np.isfinite(lon[k])):
                problems.append(f"{i + 2} 行目: {which}「{place}」が見つかりません")
    if problems:
        raise LayerError("冬期閉鎖の表に、地図に置けない区間があります: " + "、".join(problems[:10])
                         + (f" ほか {len(problems) - 10} 件" if len(problems) > 10 else ""),
                         file=path, column=xc or fc or "区間", layer="closures",
                         fix="町字の名前（参照点にある名前）で書くか、市町村の列を加えてください。")
    lines = shapely.linestrings(np.stack([np.column_stack([lon[:n], lat[:n]]),
                                          np.column_stack([lon[n:], lat[n:]])], axis=1))
    section = [f"{a}〜{b}" for a, b in ends]
    out = df.assign(**{"区間": section}) if not xc else df
    return gpd.GeoDataFrame(out.assign(by_ends=True), geometry=lines, crs="EPSG:4326")
