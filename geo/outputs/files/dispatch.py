"""What a day's dispatch plan gives the VC: team sheets, GPX, the day table, kintone CSV.

* ``dispatch_day.csv`` — every visit: 班, 順番, 受付番号, 作業, 人数, 資機材, 到着・開始・
  終了予定, 移動距離, 家までの徒歩, 町字 (UTF-8 with BOM, cells neutralised);
* ``dispatch_kintone.csv`` — one row per need, shaped for re-import into the
  kintone-style needs app: 受付番号, 対応状況 (派遣予定/未割当), 派遣班, 派遣順, 到着予定,
  未割当の理由;
* ``dispatch_unassigned.csv`` — needs not served today, with the reason;
* ``dispatch_reasons.csv`` — how many wait for each reason (and how many of them are 高);
* ``dispatch_teams.csv`` — per team: vehicle, stops, km, leaving and return times;
* ``dispatch_sheets.pdf`` — per team one A4 page: its map (route, stops numbered, the
  walks from road to house dotted, closed roads and hazard zones) over its stop table
  (a day of more than :data:`ROWS_ON_MAP_PAGE` stops continues on a table page);
* ``dispatch_<n>_<班>.gpx`` — per team its route and stops (GPX 1.1).

Privacy: no output holds an address, a name or a need's coordinates in a table.  A
要配慮者 household is never drawn: its stop has no marker or waypoint, and a route to or
from it stops at a road junction at least :data:`HIDDEN_M` before it — the cut depends on
the streets, so the loose ends do not locate the house (the team finds the house from the
paper 受付票 at the VC).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import shapely
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath

from geo.analyses.dispatch import DispatchPlan, DispatchRun
from geo.analyses.inputs import clock_text
from geo.engine.network import Network, segment_lines
from geo.engine.routing import Route
from geo.outputs.csv_safe import csv_text
from geo.outputs.printed_map import _rc, static_map
from geo.outputs.xml_safe import xml_text
from layers.atomic import atomic_path, atomic_write_text
from layers.crs import STORAGE_CRS, transform_xy
from layers.shelters import DEFAULT_HAZARD

__all__ = [
    "HIDDEN_M",
    "day_table",
    "dispatch_map",
    "dispatch_sheets",
    "gpx_name",
    "kintone_table",
    "reasons_table",
    "run_routes",
    "team_gpx",
    "team_lines",
    "team_routes",
    "team_stops",
    "team_walks",
    "teams_table",
    "unassigned_table",
    "walk_note",
    "write_dispatch_outputs",
    "write_run_outputs",
]

ROWS_PER_PAGE = 30
CARE_LABEL = "（受付票を参照）"
WALK_LABEL = "道路から家まで徒歩（直線）"




def team_lines(plan: DispatchPlan, legs: Mapping[str, list[Route]], *, crs: str,
               networks: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Each team's route on the roads as one line (EPSG:4326); a leg to or from a 要配慮者
    household stops at a road junction at least :data:`HIDDEN_M` before it (:func:`_trimmed`),
    never at a fixed distance, so the loose ends do not point at the house.  The straight
    walks between road and house are :func:`team_walks`."""
    return _team_frame(_team_parts(plan, legs, networks)[0], crs)


def team_walks(plan: DispatchPlan, legs: Mapping[str, list[Route]], *, crs: str,
               networks: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Each team's walks on foot between the road and the houses it visits (and the VC), as one
    line a team (EPSG:4326): straight, so they may cross a hazard zone — drawn dotted, apart
    from the roads.  Never the walk to a 要配慮者 household."""
    return _team_frame(_team_parts(plan, legs, networks)[1], crs)


def team_routes(plan: DispatchPlan, legs: Mapping[str, list[Route]], *, crs: str,
                networks: Mapping[str, Any] | None = None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(:func:`team_lines`, :func:`team_walks`) from one pass over the legs."""
    roads, walks = _team_parts(plan, legs, networks)
    return _team_frame(roads, crs), _team_frame(walks, crs)


def _team_frame(parts: Mapping[str, list[Any]], crs: str) -> gpd.GeoDataFrame:
    rows = [t for t, p in parts.items() if p]
    geoms = [shapely.MultiLineString(parts[t]) for t in rows]
    return gpd.GeoDataFrame({"team": rows}, geometry=geoms, crs=crs).to_crs(STORAGE_CRS)


def _team_parts(plan: DispatchPlan, legs: Mapping[str, list[Route]], networks: Mapping[str, Any] | None
                ) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """Per team (road pieces, on-foot pieces) of its legs, 要配慮者 ends cut back."""
    roads: dict[str, list[Any]] = {}
    walks: dict[str, list[Any]] = {}
    for team, routes in legs.items():
        mode = plan.teams.loc[plan.teams["team"] == team, "mode"]
        net = (networks or {}).get(str(mode.iloc[0])) if len(mode) else None
        junctions = _junctions(net)
        care = plan.stops.loc[plan.stops["team"] == team].sort_values("order")["care"].to_numpy(bool)
        roads[team], walks[team] = [], []
        for j, r in enumerate(routes):
            if not (r.found and len(r.coords) >= 2):
                continue
            coords = np.asarray(r.coords, float)
            split = len(coords) >= 4 and net is not None
            if j < len(care) and care[j]:  # this leg arrives at a household
                coords = _trimmed(coords, junctions)
            elif split:
                walks[team].append(coords[-2:])
                coords = coords[:-1]
            if 0 < j <= len(care) and care[j - 1]:  # it leaves one
                coords = _trimmed(coords[::-1], junctions)[::-1] if len(coords) >= 2 else coords
            elif split and len(coords) >= 2:
                walks[team].append(coords[:2])
                coords = coords[1:]
            if len(coords) >= 2:
                roads[team].append(shapely.LineString(coords))
        walks[team] = [shapely.LineString(w) for w in walks[team] if np.hypot(*(w[1] - w[0])) >= 1.0]
    return roads, walks


HIDDEN_M = 150.0
"""Metres of road before a 要配慮者 household that are never drawn; the line then runs back on
to the previous junction, so how much is hidden depends on the streets, not on a radius."""


def _junctions(net: Any) -> np.ndarray:
    """Keys (:func:`_keys`) of the network's nodes where three or more roads meet, sorted."""
    if net is None:
        return np.zeros(0, np.int64)
    rows = np.repeat(np.arange(net.n, dtype=np.int64), np.diff(net.indptr))
    cols = np.asarray(net.indices, np.int64)
    pairs = np.unique(np.sort(np.column_stack([rows, cols]), axis=1), axis=0)  # one per road, either way
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    degree = np.bincount(pairs.ravel(), minlength=net.n)
    hub = np.flatnonzero(degree >= 3)
    return np.sort(_keys(np.column_stack([net.x[hub], net.y[hub]])))


def _keys(xy: np.ndarray) -> np.ndarray:
    """One int64 per point, its metric coordinates rounded to 1 cm (a route's vertices are the
    network's nodes, so the same point gives the same key)."""
    cm = np.round(np.asarray(xy, float) * 100).astype(np.int64) + (1 << 31)
    return (cm[:, 0] << 32) | cm[:, 1]


def _trimmed(coords: np.ndarray, junctions: np.ndarray) -> np.ndarray:
    """``coords`` (ending at a household) cut back to the last junction at least
    :data:`HIDDEN_M` before its end; nothing when there is none (a straight-line leg)."""
    step = np.hypot(*np.diff(coords, axis=0).T)
    back = np.r_[np.cumsum(step[::-1])[::-1], 0.0]  # distance from each vertex to the end
    ok = np.flatnonzero((back >= HIDDEN_M) & np.isin(_keys(coords), junctions))
    return coords[: ok[-1] + 1] if len(ok) else coords[:0]


def team_stops(plan: DispatchPlan) -> gpd.GeoDataFrame:
    """The stops that may be drawn (never a 要配慮者 household), EPSG:4326."""
    s = plan.stops[~plan.stops["care"]]
    return gpd.GeoDataFrame(s[["team", "order", "need_id", "work"]].reset_index(drop=True),
                            geometry=gpd.points_from_xy(s["lon"], s["lat"]), crs=STORAGE_CRS)


TEAM_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
               "#7f7f7f", "#bcbd22")


def dispatch_map(plan: DispatchPlan, lines: gpd.GeoDataFrame, layers: Mapping[str, Any], *, title: str,
                 fictional: bool = False, attribution: Sequence[str] = (), lang: str = "ja",
                 walks: gpd.GeoDataFrame | None = None) -> Any:
    """The interactive map of the day: every team's route and its drawable stops (never a
    要配慮者 household), one colour a team, over the boundaries and hazard zones."""
    import folium

    from geo.outputs.maps import add_legend, add_lines, add_marks, region_map

    shown = {k: layers[k] for k in ("boundaries", "hazards") if k in layers}
    m = region_map(shown, hazard=plan.hazard or DEFAULT_HAZARD, fictional=fictional,
                   attribution=list(attribution), lang=lang, layer_control=False)
    stops = team_stops(plan)
    legend = []
    for i, team in enumerate(lines["team"].astype(str)):
        color = TEAM_COLORS[i % len(TEAM_COLORS)]
        add_lines(m, lines.iloc[[i]], name=team, color=color, weight=4, class_name="tomoni-dispatch-route")
        if walks is not None and (walks["team"] == team).any():
            add_lines(m, walks[walks["team"] == team], name=f"{team}（{WALK_LABEL}）", color=color, weight=2,
                      dash="2 5", class_name="tomoni-dispatch-walk")
        mine = stops[stops["team"] == team]
        mine = mine.assign(label=mine["order"].astype(str) + ". " + mine["need_id"].astype(str))
        add_marks(m, mine, name=team, color=color, label="label", radius=6)
        legend.append(("line", color, team))
    if legend:
        add_legend(m, legend, title)
    folium.LayerControl(collapsed=True).add_to(m)
    return m


def day_table(plan: DispatchPlan) -> pd.DataFrame:
    """Every visit in team order (Japanese headers, no coordinates).  A leg to or from a
    要配慮者 household gives its distance to :data:`CARE_LEG_ROUND_M` and no walk: with the
    drawn route's cut end, exact metres would say how far on the roads the house lies."""
    s = plan.stops
    care = s["care"].to_numpy(bool)
    after = s.groupby("team", sort=False)["care"].shift(1, fill_value=False).to_numpy(bool)
    exact = s["leg_m"].round(0).astype(int).to_numpy()
    rough = (np.round(s["leg_m"].to_numpy(float) / CARE_LEG_ROUND_M) * CARE_LEG_ROUND_M).astype(int)
    walk = s["walk_m"].round(0).astype(int).to_numpy().astype(object)
    walk[care] = ""
    return pd.DataFrame({
        "班": s["team"], "順番": s["order"], "受付番号": s["need_id"], "作業内容": s["work"],
        "必要人数": s["people"], "資機材": s["tools"], "到着予定": s["arrive_s"].map(clock_text),
        "作業開始": s["start_s"].map(clock_text), "作業終了": s["end_s"].map(clock_text),
        "移動距離_m": np.where(care | after, rough, exact), "家までの徒歩_m": walk,
        "町字": [CARE_LABEL if c else a for a, c in zip(s["area"], s["care"], strict=True)]})


CARE_LEG_ROUND_M = 100
"""Metres a leg to or from a 要配慮者 household is rounded to in the tables."""


def kintone_table(plan: DispatchPlan) -> pd.DataFrame:
    """One row per need for re-import into the needs app (update by 受付番号)."""
    s, u = plan.stops, plan.unassigned
    done = pd.DataFrame({"受付番号": s["need_id"], "対応状況": "派遣予定", "派遣班": s["team"],
                         "派遣順": s["order"].astype(str), "到着予定": s["arrive_s"].map(clock_text),
                         "未割当の理由": ""})
    left = pd.DataFrame({"受付番号": u["need_id"], "対応状況": "未割当", "派遣班": "", "派遣順": "",
                         "到着予定": "", "未割当の理由": u["reason"]})
    return pd.concat([done, left], ignore_index=True)


def teams_table(plan: DispatchPlan) -> pd.DataFrame:
    t = plan.teams
    return pd.DataFrame({"班": t["team"], "車両": t["vehicle"], "人数": t["size"], "訪問数": t["stops"],
                         "距離_km": t["km"], "出発": t["leave_s"].map(clock_text),
                         "帰着": t["back_s"].map(clock_text)})


def unassigned_table(plan: DispatchPlan) -> pd.DataFrame:
    u = plan.unassigned
    return pd.DataFrame({"受付番号": u["need_id"], "作業内容": u["work"], "必要人数": u["people"],
                         "優先度": u["priority"].map({3: "高", 2: "中", 1: "低"}), "理由": u["reason"]})


def reasons_table(plan: DispatchPlan) -> pd.DataFrame:
    """How many needs wait for each reason, most first, and how many of them are 高: the
    day's summary beside the row-by-row list."""
    u = plan.unassigned
    if not len(u):
        return pd.DataFrame({"未割当の理由": pd.Series(dtype=str), "件数": pd.Series(dtype=int),
                             "うち優先度「高」": pd.Series(dtype=int)})
    high = u["priority"].to_numpy() >= 3
    out = pd.DataFrame({"未割当の理由": u["reason"], "n": 1, "high": high.astype(int)}).groupby(
        "未割当の理由", sort=False).sum().reset_index()
    out = out.rename(columns={"n": "件数", "high": "うち優先度「高」"})
    return out.sort_values(["件数", "未割当の理由"], ascending=[False, True]).reset_index(drop=True)


def gpx_name(number: int, team: str) -> str:
    """A team's GPX file name: its number and its 班 name (characters a file system or a
    phone refuses become ``_``)."""
    import re

    safe = re.sub(r'[\\/:*?"<>|\s\x00-\x1f]+', "_", str(team)).strip("._") or "team"
    return f"dispatch_{number:02d}_{safe[:40]}.gpx"


def team_gpx(team: str, line: Any, stops: gpd.GeoDataFrame) -> str:
    """One team's GPX 1.1: its stops as waypoints and its route as track segments."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<gpx version="1.1" creator="tomoni-map" xmlns="http://www.topografix.com/GPX/1/1">',
             f"<metadata><name>{xml_text(team)}</name><time>{date.today().isoformat()}T00:00:00Z</time>"
             "</metadata>"]
    for s in stops.itertuples():
        parts.append(f'<wpt lat="{s.geometry.y:.7f}" lon="{s.geometry.x:.7f}">'
                     f"<name>{xml_text(f'{s.order}. {s.need_id}')}</name>"
                     f"<desc>{xml_text(str(s.work))}</desc></wpt>")
    parts.append(f"<trk><name>{xml_text(team)}</name>")
    for piece in getattr(line, "geoms", [line] if line is not None and not line.is_empty else []):
        parts.append("<trkseg>" + "".join(f'<trkpt lat="{y:.7f}" lon="{x:.7f}"/>'
                                          for x, y in np.asarray(piece.coords)) + "</trkseg>")
    parts.append("</trk></gpx>")
    return "\n".join(parts) + "\n"


def _team_map(plan: DispatchPlan, team: str, lines: gpd.GeoDataFrame, stops: gpd.GeoDataFrame, *,
              net: Network | None, crs: str, zones: gpd.GeoDataFrame | None,
              closed: np.ndarray | None, fictional: bool,
              walks: gpd.GeoDataFrame | None = None) -> tuple[Any, int]:
    line = lines[lines["team"] == team].to_crs(crs)
    walk = walks[walks["team"] == team].to_crs(crs) if walks is not None else line.iloc[:0]
    mine = stops[stops["team"] == team].to_crs(crs)
    vx, vy = transform_xy(np.array([plan.vc["lon"]]), np.array([plan.vc["lat"]]), STORAGE_CRS, crs)
    pieces = [p for geom in line.geometry for p in getattr(geom, "geoms", [geom]) if not p.is_empty]
    pts = [np.array([[vx[0], vy[0]]])] + [np.asarray(p.coords) for p in pieces]
    allc = np.vstack([*pts, np.c_[mine.geometry.x, mine.geometry.y]])
    (x0, y0), (x1, y1) = allc.min(axis=0), allc.max(axis=0)
    pad = max(x1 - x0, y1 - y0) * 0.1 + 300
    extent = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    overlays: list[tuple[gpd.GeoDataFrame, Mapping[str, Any], str | None]] = []
    avoided = 0
    roads = None
    if net is not None:
        lines_all = segment_lines(net)
        near = shapely.intersects(lines_all, shapely.box(*extent))
        roads = lines_all[near]
        if closed is not None and len(closed) == len(lines_all):
            shut = closed & near
            avoided = int(shut.sum())
            if avoided:
                overlays.append((gpd.GeoDataFrame(geometry=lines_all[shut], crs=crs),
                                 {"color": "#5a1e00", "linewidth": 1.2}, "通行止めの道路"))
    if len(line):
        overlays.append((line, {"color": "#1f5fbf", "linewidth": 2.6}, "ルート"))
    if len(walk):
        overlays.append((walk, {"color": "#1f5fbf", "linewidth": 1.6, "linestyle": (0, (1.5, 1.5))},
                         WALK_LABEL))
    overlays.append((gpd.GeoDataFrame(geometry=shapely.points(vx, vy), crs=crs),
                     {"color": "#2ca02c", "s": 120, "marker": "s", "edgecolor": "black"}, "災害VC"))
    if len(mine):
        overlays.append((mine, {"color": "#ffbf00", "s": 90, "marker": "o", "edgecolor": "black"},
                         "訪問先"))
    layers = {"hazards": zones} if zones is not None and len(zones) else {}
    fig = static_map(layers, crs=crs, title=f"{team}　派遣ルートと訪問表", paper="A4-portrait",
                     fictional=fictional, overlays=overlays, extent=extent, show=list(layers) or None,
                     map_box=(0.05, 0.49, 0.90, 0.43))
    ax = fig.axes[0]
    if roads is not None and len(roads):
        ax.add_artist(_one_path(roads))  # not add_patch: its limits are the extent, not 150k segments
    for s in mine.itertuples():  # the number above the marker, on top of everything drawn
        ax.annotate(str(s.order), (s.geometry.x, s.geometry.y), xytext=(0, 9), textcoords="offset points",
                    fontsize=9.5, ha="center", va="bottom", zorder=50,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "#333333", "lw": 0.6})
    return fig, avoided


def _one_path(lines: np.ndarray) -> PathPatch:
    """Many road lines as one compound path: a printed map draws it in one stroke (a PDF
    with one path per road segment took seconds a page)."""
    coords, idx = shapely.get_coordinates(lines, return_index=True)
    starts = np.r_[True, idx[1:] != idx[:-1]] if len(idx) else np.zeros(0, bool)
    codes = np.where(starts, MplPath.MOVETO, MplPath.LINETO).astype(MplPath.code_type)
    return PathPatch(MplPath(coords, codes), facecolor="none", edgecolor="#9a9a9a", linewidth=0.5,
                     zorder=1.5)


SHEET_COLUMNS = {"順番": 0.05, "受付番号": 0.10, "作業内容": 0.12, "必要人数": 0.07, "資機材": 0.21,
                 "到着予定": 0.07, "作業開始": 0.07, "作業終了": 0.07, "家までの徒歩_m": 0.07, "町字": 0.17}
"""The stop table's columns and their widths (fractions of the table)."""
SHEET_HEADERS = {"家までの徒歩_m": "徒歩(m)"}
ROWS_ON_MAP_PAGE = 14
"""Stops printed under a team's map; a longer day continues on table pages."""


def _stop_table(fig: Any, rows: pd.DataFrame, box: tuple[float, float, float, float]) -> None:
    """The stop rows as a table in ``box`` (page fractions) of ``fig``."""
    body = [[str(v) for v in r] for r in rows[list(SHEET_COLUMNS)].itertuples(index=False)]
    if not body:
        return
    with plt.rc_context(_rc()):
        left, top, width, row_h = box
        h = row_h * (len(body) + 1)
        ax = fig.add_axes((left, top - h, width, h))
        ax.axis("off")
        t = ax.table(cellText=body, colLabels=[SHEET_HEADERS.get(c, c) for c in SHEET_COLUMNS],
                     loc="upper left", cellLoc="left", colWidths=list(SHEET_COLUMNS.values()))
        t.auto_set_font_size(False)
        t.set_fontsize(7.5)


def _sheet_footer(fig: Any) -> None:
    fig.text(0.06, 0.065, "住所・氏名・連絡先は災害VCの受付票で確認してください（この表には載せません）。",
             fontsize=7, color="#444")


def _table_page(team: str, rows: pd.DataFrame, info: str, n: int) -> Any:
    """A continuation page: the stops that did not fit under the map."""
    with plt.rc_context(_rc()):
        fig = plt.figure(figsize=(210 / 25.4, 297 / 25.4))
        fig.text(0.06, 0.96, f"{team}　訪問表（続き {n}）", fontsize=13)
        fig.text(0.06, 0.945, info, fontsize=8.5, va="top")
        _stop_table(fig, rows, (0.04, 0.89, 0.92, 0.026))
        _sheet_footer(fig)
    return fig


def walk_note(walk_m: pd.Series) -> str:
    """The sheet's word on the last walks: the roads are avoided, the straight walk from the
    road into a house is not (it may cross a hazard zone)."""
    far = float(walk_m.max()) if len(walk_m) else 0.0
    if far < 1:
        return ""
    return (f"道路から家までは徒歩（点線、直線、最長 {far:.0f} m、時間に含む）。"
            "この徒歩は通行止めや浸水域を避けていません。現地で安全を確かめてください。")


def dispatch_sheets(plan: DispatchPlan, lines: gpd.GeoDataFrame, out: Path, *, networks: Mapping[str, Any],
                    crs: str, zones: gpd.GeoDataFrame | None = None,
                    closed: Mapping[str, np.ndarray | None] | None = None, fictional: bool = False,
                    walks: gpd.GeoDataFrame | None = None) -> Path:
    """One A4 page per team used (its map over its stop table; a long day continues on table
    pages), as one PDF."""
    stops, table = team_stops(plan), day_table(plan)
    with atomic_path(out) as tmp, PdfPages(tmp) as pdf:
        team: Any
        for team in plan.teams[plan.teams["stops"] > 0].itertuples():
            fig, avoided = _team_map(plan, team.team, lines, stops, net=networks.get(team.mode), crs=crs,
                                     zones=zones, closed=(closed or {}).get(team.mode), fictional=fictional,
                                     walks=walks)
            rows = table[table["班"] == team.team]
            leave, back = clock_text(team.leave_s), clock_text(team.back_s)
            info = (f"{team.vehicle}・{team.size} 人　出発 {leave}　帰着 {back}　"
                    f"{team.km:.1f} km　地図の範囲の通行止め {avoided} 区間を避けたルート"
                    + "\n" + walk_note(plan.stops[(plan.stops["team"] == team.team)
                                                    & ~plan.stops["care"]]["walk_m"]))
            fig.text(0.05, 0.385, info, fontsize=8, va="top")
            _stop_table(fig, rows.iloc[:ROWS_ON_MAP_PAGE], (0.04, 0.345, 0.92, 0.018))
            _sheet_footer(fig)
            pdf.savefig(fig)
            plt.close(fig)
            for n, i in enumerate(range(ROWS_ON_MAP_PAGE, len(rows), ROWS_PER_PAGE)):
                page = _table_page(team.team, rows.iloc[i:i + ROWS_PER_PAGE], info, n + 1)
                pdf.savefig(page)
                plt.close(page)
    return out


def run_routes(run: DispatchRun, *, crs: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """:func:`team_routes` of a run: its legs on the networks it used (a page hands over the
    run, never a network)."""
    return team_routes(run.plan, run.legs, crs=crs, networks=run.networks)


def write_run_outputs(run: DispatchRun, out: Path, *, crs: str, fictional: bool = False,
                      sheets: bool = True) -> list[Path]:
    """:func:`write_dispatch_outputs` of a run (its legs, networks, zones and closures)."""
    return write_dispatch_outputs(run.plan, out, legs=run.legs, networks=run.networks, crs=crs,
                                  zones=run.zones, closed=run.closed, fictional=fictional, sheets=sheets)


def write_dispatch_outputs(plan: DispatchPlan, out: Path, *, legs: Mapping[str, list[Route]],
                           networks: Mapping[str, Any], crs: str,
                           zones: gpd.GeoDataFrame | None = None,
                           closed: Mapping[str, np.ndarray | None] | None = None,
                           fictional: bool = False, sheets: bool = True) -> list[Path]:
    """Write every output of the plan into ``out`` (atomically); return the paths.  ``legs`` are
    the run's routed legs (:attr:`geo.analyses.dispatch.DispatchRun.legs`)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in (("dispatch_day.csv", day_table(plan)), ("dispatch_kintone.csv", kintone_table(plan)),
                        ("dispatch_unassigned.csv", unassigned_table(plan)),
                        ("dispatch_reasons.csv", reasons_table(plan)),
                        ("dispatch_teams.csv", teams_table(plan))):
        written.append(atomic_write_text(out / name, csv_text(frame), encoding="utf-8-sig"))
    (lines, walks), stops = team_routes(plan, legs, crs=crs, networks=networks), team_stops(plan)
    used = plan.teams[plan.teams["stops"] > 0]["team"].tolist()
    for i, team in enumerate(used, start=1):
        line = lines[lines["team"] == team]
        written.append(atomic_write_text(out / gpx_name(i, team), team_gpx(
            team, line.geometry.iloc[0] if len(line) else None, stops[stops["team"] == team])))
    features = [json.loads(f.to_json())["features"] for f in
                (lines.assign(kind="道路"), walks.assign(kind="徒歩"), stops)]
    geo = {"type": "FeatureCollection", "features": [x for f in features for x in f]}
    written.append(atomic_write_text(out / "dispatch_routes.geojson", json.dumps(geo, ensure_ascii=False)))
    if sheets and used:
        written.append(dispatch_sheets(plan, lines, out / "dispatch_sheets.pdf", networks=networks, crs=crs,
                                       zones=zones, closed=closed, fictional=fictional, walks=walks))
    return written

