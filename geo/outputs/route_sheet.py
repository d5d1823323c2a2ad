"""A printable route sheet (PDF/PNG): the map of the routes, their figures and the turn list.

Page 1 is an A4 portrait map zoomed to the routes (roads, the scenario's zones
and closed roads, the normal route in blue and the scenario route in red,
start and goal); the following pages hold the comparison table and the turn
lists by road name, 38 rows a page with the header repeated.  Japanese text is
embedded (IPAexGothic) so the PDF is searchable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import shapely
from matplotlib.backends.backend_pdf import PdfPages

from geo.engine.network import Network, segment_lines
from geo.engine.routing import Route
from geo.outputs.files.route import steps_table
from geo.outputs.printed_map import _rc, static_map
from layers.atomic import atomic_path

__all__ = ["ROUTE_NAMES", "ROUTE_STYLES", "route_frames", "route_sheet"]

ROUTE_STYLES = {
    "normal": ({"color": "#1f5fbf", "linewidth": 3.0}, "通常時のルート"),
    "hazard": ({"color": "#d62728", "linewidth": 2.2, "linestyle": "--"}, "災害時のルート"),
    "winter": ({"color": "#6a3d9a", "linewidth": 2.2, "linestyle": "--"}, "冬のルート"),
}
ROUTE_NAMES = {"normal": "通常時", "hazard": "災害時", "winter": "冬"}
"""The routes of a comparison: the normal one, and the one in a hazard (perhaps in winter)
or in winter alone (:func:`geo.analyses.route.analyse_route`)."""
ROWS_PER_PAGE = 38


def route_frames(routes: Mapping[str, Route], *, crs: str) -> dict[str, gpd.GeoDataFrame]:
    """Each found route as a one-row GeoDataFrame in ``crs``."""
    return {k: gpd.GeoDataFrame({"route": [k]}, geometry=[shapely.LineString(r.coords)], crs=crs)
            for k, r in routes.items() if r.found and len(r.coords) >= 2}


def route_sheet(
    routes: Mapping[str, Route],
    out: Path,
    *,
    net: Network,
    title: str,
    comparison: Mapping[str, Any],
    zones: gpd.GeoDataFrame | None = None,
    closed: np.ndarray | None = None,
    fictional: bool = False,
    attribution: Sequence[str] = (),
) -> Path:
    """Write the route sheet to ``out`` (``.pdf``: all pages; ``.png``: the map page)."""
    crs = net.crs
    frames = route_frames(routes, crs=crs)
    allc = np.vstack([r.coords for r in routes.values() if r.found and len(r.coords)] or
                     [np.array([[net.x.mean(), net.y.mean()]])])
    x0, y0 = allc.min(axis=0)
    x1, y1 = allc.max(axis=0)
    pad = max(x1 - x0, y1 - y0) * 0.12 + 300
    extent = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    lines = segment_lines(net)
    box = shapely.box(*extent)
    near = shapely.intersects(lines, box)
    roads = gpd.GeoDataFrame(geometry=lines[near], crs=crs)
    overlays: list[tuple[gpd.GeoDataFrame, Mapping[str, Any], str | None]] = [
        (roads, {"color": "#9a9a9a", "linewidth": 0.5}, "道路")]
    if closed is not None and closed.any():
        shut = closed & near
        overlays.append((gpd.GeoDataFrame(geometry=lines[shut], crs=crs),
                         {"color": "#5a1e00", "linewidth": 1.0}, "通行止めの道路"))
    for key in ROUTE_STYLES:
        if key in frames:
            style, label = ROUTE_STYLES[key]
            overlays.append((frames[key], style, label))
    first = next(iter(routes.values()))
    if first.found:
        ends = gpd.GeoDataFrame({"k": ["出発", "到着"]},
                                geometry=shapely.points(first.coords[[0, -1]]), crs=crs)
        overlays.append((ends.iloc[:1], {"color": "#2ca02c", "s": 90, "marker": "o",
                                         "edgecolor": "black"}, "出発地"))
        overlays.append((ends.iloc[1:], {"color": "#ffbf00", "s": 140, "marker": "*",
                                         "edgecolor": "black"}, "目的地"))
    layers = {"hazards": zones} if zones is not None and len(zones) else {}
    fig = static_map(layers, crs=crs, title=title, paper="A4-portrait", fictional=fictional,
                     attribution=attribution, overlays=overlays, extent=extent,
                     show=list(layers) or None)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".png":
        with atomic_path(out) as tmp:
            fig.savefig(tmp, format="png", dpi=200)
        plt.close(fig)
        return out
    with atomic_path(out) as tmp, PdfPages(tmp) as pdf:
        pdf.savefig(fig)
        plt.close(fig)
        for page in _table_pages(routes, comparison, title):
            pdf.savefig(page)
            plt.close(page)
    return out


def _fmt(v: Any, unit: str = "") -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "—"
    if isinstance(v, float):
        return f"{v:,.0f}{unit}" if unit != "" else f"{v:g}"
    return f"{v}{unit}"


def _table_pages(routes: Mapping[str, Route], comparison: Mapping[str, Any], title: str) -> list[Any]:
    pages = []
    head = [["", "距離", "徒歩（80 m/分）", "高齢者（50 m/分）", "車", "備考"]]
    body = []
    for key, name in ROUTE_NAMES.items():
        c = comparison.get(key)
        if not c:
            continue
        label = c.get("label") or name
        note = c.get("reason", "")
        if key != "normal" and c.get("detour_ratio"):
            note = f"迂回率 {c['detour_ratio']:.2f}・回避した通行止め {c.get('closed_edges_avoided', 0)} 区間"
        body.append([label, _fmt(c.get("length_m"), " m"),
                     _fmt(None if c.get("walk_s") is None else c["walk_s"] / 60, " 分"),
                     _fmt(None if c.get("elderly_s") is None else c["elderly_s"] / 60, " 分"),
                     _fmt(None if c.get("drive_s") is None else c["drive_s"] / 60, " 分"), note])
    steps = steps_table(routes)
    steps["ルート"] = steps["ルート"].replace(ROUTE_NAMES)
    rows = [[str(v) for v in r] for r in steps.itertuples(index=False)]
    chunks = [rows[i:i + ROWS_PER_PAGE] for i in range(0, len(rows), ROWS_PER_PAGE)] or [[]]
    with plt.rc_context(_rc()):
        for n, chunk in enumerate(chunks):
            fig = plt.figure(figsize=(210 / 25.4, 297 / 25.4))
            fig.text(0.06, 0.96, f"{title}　ルート表（{n + 2}）", fontsize=12)
            top = 0.93
            if n == 0 and body:
                ax = fig.add_axes((0.06, 0.80, 0.88, 0.11))
                ax.axis("off")
                t = ax.table(cellText=body, colLabels=head[0], loc="upper left", cellLoc="left")
                t.auto_set_font_size(False)
                t.set_fontsize(8)
                top = 0.76
            if chunk:
                h = min(top - 0.05, 0.02 * (len(chunk) + 1))
                ax = fig.add_axes((0.06, top - h, 0.88, h))
                ax.axis("off")
                t = ax.table(cellText=chunk, colLabels=list(steps.columns), loc="upper left",
                             cellLoc="left", colWidths=[0.12, 0.08, 0.12, 0.4, 0.14, 0.14])
                t.auto_set_font_size(False)
                t.set_fontsize(7.5)
            fig.text(0.06, 0.02, "道路名は OpenStreetMap などの道路データの name。"
                     "名称のない区間は（名称なし）。"
                     " 作成: ともにマップ", fontsize=7, color="#444")
            pages.append(fig)
    return pages
