"""Report-quality static maps: PNG (300 dpi by default), SVG and PDF.

Drawn with matplotlib in the region's metric CRS (平面直角座標系), with a
Japanese title and labels in IPAexGothic (embedded as TrueType in PDFs so the
text stays searchable), a legend, a scale bar in metres, a north arrow, the
attribution assembled from the layers shown and the date.  Usable without
Streamlit, from the CLI and from reports.
"""

from __future__ import annotations

import datetime as _dt
import functools
import io
import itertools
import logging
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib
import networkx as nx
import numpy as np
import pandas as pd
import shapely

matplotlib.use("Agg")
import matplotlib.patheffects as pe
import matplotlib.pyplot as plt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.path import Path as MplPath

from geo.engine.shelter_status import STATUS_ORDER
from geo.outputs.style import (
    DENSITY_PALETTE,
    PRINT_ORDER,
    SHELTER_STATUS,
    STYLES,
    WELFARE_RING,
    density_classes,
    hazard_classes,
)
from layers.atomic import atomic_path
from layers.crs import crs_label, ensure_metric
from layers.demand import unit_area_km2
from layers.errors import LayerError, ParameterError
from layers.layer_facts import LAYERS
from layers.shelters import DEFAULT_HAZARD, HAZARD_LABELS

__all__ = ["FORMATS", "PAPERS", "map_bytes", "paper_size", "save_map", "static_map"]

log = logging.getLogger(__name__)

PAPERS = {"A4": (210.0, 297.0), "A3": (297.0, 420.0)}
FORMATS = ("png", "svg", "pdf")
FONT_FAMILY = ["IPAexGothic", "IPAGothic", "Noto Sans CJK JP", "DejaVu Sans"]


def _fonts() -> None:
    """Make IPAexGothic known to matplotlib (bundled by matplotlib-fontja)."""
    import matplotlib_fontja  # noqa: F401  (registers the bundled IPAexGothic)


def _font_family() -> list[str]:
    """The first installed Japanese font (IPAexGothic from apt or matplotlib-fontja)."""
    from matplotlib import font_manager

    _fonts()
    names = {f.name for f in font_manager.fontManager.ttflist}
    found = [n for n in FONT_FAMILY if n in names]
    if not found:  # pragma: no cover - setup installs fonts-ipaexfont-gothic
        raise LayerError(
            "日本語フォントが見つかりません。",
            fix="bash scripts/setup.sh を実行して fonts-ipaexfont-gothic を入れてください。",
        )
    return found[:1]


def _rc() -> Any:
    return {
        "font.family": _font_family(),
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "svg.fonttype": "path",
        "axes.unicode_minus": False,
    }


def paper_size(paper: str) -> tuple[float, float]:
    """``"A4-landscape"`` → (width, height) in inches."""
    name, _, orient = paper.partition("-")
    if name.upper() not in PAPERS or orient.lower() not in ("", "portrait", "landscape"):
        raise ParameterError(
            "用紙の指定が分かりません。",
            parameter="paper",
            fix="A4-landscape、A4-portrait、A3-landscape、A3-portrait のいずれかを指定してください。",
        )
    short, long_ = PAPERS[name.upper()]
    w, h = (long_, short) if orient.lower() in ("", "landscape") else (short, long_)
    return w / 25.4, h / 25.4


def _nice_length(span: float) -> float:
    target = span / 5
    for v in (50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 25000, 50000, 100000):
        if v >= target:
            return float(v)
    return 100000.0


def _scale_bar(ax: Any, *, lang: str) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length(x1 - x0)
    bx, by = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.05
    h = (y1 - y0) * 0.008
    for i, color in enumerate(("black", "white")):
        ax.add_patch(matplotlib.patches.Rectangle((bx + i * length / 2, by), length / 2, h,
                                                  facecolor=color, edgecolor="black", lw=0.8,
                                                  zorder=20))
    unit = "km" if length >= 1000 else "m"
    div = 1000 if unit == "km" else 1

    def fmt(v: float) -> str:
        return f"{v / div:g}"

    for pos, val in ((0, 0.0), (length / 2, length / 2), (length, length)):
        label = fmt(val) + (f" {unit}" if val == length else "")
        ax.text(bx + pos, by + h * 2.2, label, ha="center", va="bottom", fontsize=8, zorder=20,
                path_effects=[pe.withStroke(linewidth=2.5, foreground="white")])


def _north_arrow(ax: Any) -> None:
    ax.annotate("", xy=(0.95, 0.95), xytext=(0.95, 0.86), xycoords="axes fraction",
                arrowprops={"facecolor": "black", "width": 4, "headwidth": 12, "headlength": 12},
                zorder=20)
    ax.text(0.95, 0.965, "N", transform=ax.transAxes, ha="center", va="bottom", fontsize=12,
            zorder=20)


def _roads_lines(graph: nx.MultiDiGraph, crs: str) -> gpd.GeoDataFrame:
    from geo.outputs.maps import roads_frame

    return roads_frame(graph).to_crs(crs)


def static_map(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    crs: str,
    title: str,
    roads: nx.MultiDiGraph | None = None,
    hazard: str = DEFAULT_HAZARD,
    paper: str = "A4-landscape",
    fictional: bool = False,
    attribution: Sequence[str] = (),
    show: Sequence[str] | None = None,
    lang: str = "ja",
    date: _dt.date | None = None,
    choropleth: tuple[gpd.GeoDataFrame, Sequence[str], Sequence[tuple[str, str]]] | None = None,
    outlines: tuple[gpd.GeoDataFrame, str] | None = None,
    overlays: Sequence[tuple[gpd.GeoDataFrame, Mapping[str, Any], str | None]] = (),
    extent: tuple[float, float, float, float] | None = None,
    map_box: tuple[float, float, float, float] | None = None,
) -> Figure:
    """Draw the layers as a printable map and return the matplotlib figure.

    Parameters
    ----------
    layers
        Layer key → GeoDataFrame.
    crs
        Metric CRS to draw in (the region's analysis CRS).
    title
        Japanese title printed at the top.
    show
        Layer keys to draw (default: all given); roads only when ``"roads"`` is
        in ``show`` or ``show`` is None.
    choropleth
        An analysis result to draw under the layers: (polygons, one colour per
        polygon, legend entries as (colour, label)).
    outlines
        Polygons to outline on top (e.g. coverage gaps) and their legend label.
    overlays
        Lines or points drawn on top of everything: (frame, matplotlib style,
        legend label or None) — routes, flows, closed roads.
    extent
        (xmin, ymin, xmax, ymax) in ``crs`` to zoom to (default: all layers).
    map_box
        (left, bottom, width, height) of the map in page fractions; the legend goes under it.
    """

    ensure_metric(crs)
    _fonts()
    visible = set(show) if show is not None else None
    frames = {
        k: v.to_crs(crs) for k, v in layers.items()
        if v is not None and len(v) and (visible is None or k in visible)
    }
    if not frames and choropleth is None and not overlays:
        raise ParameterError(
            "地図に描くレイヤーがありません。",
            parameter="layers",
            fix="--layers に読み込まれているレイヤー名（例: shelters,boundaries）を指定してください。",
        )
    width, height = paper_size(paper)
    with plt.rc_context(_rc()):
        fig = plt.figure(figsize=(width, height))
        portrait = height > width
        ax = fig.add_axes(map_box or ((0.05, 0.27, 0.90, 0.64) if portrait else (0.04, 0.09, 0.70, 0.82)))
        c = _Paper(ax=ax, crs=crs, hazard=hazard, hazards=frames.get("hazards"))
        if choropleth is not None:
            _print_choropleth(c, choropleth)
        for key in PRINT_ORDER:
            if key == "roads":
                if roads is not None and (visible is None or "roads" in visible):
                    _print_roads(c, roads)
            elif key in frames:
                printer = _PRINTERS.get(key) or functools.partial(_print_plain, key)
                printer(c, frames[key])
        _print_overlays(c, outlines, overlays)
        _decorate(fig, ax, c.handles, title=title, portrait=portrait, lang=lang, fictional=fictional,
                  attribution=attribution, date=date, crs=crs, extent=extent,
                  legend_top=(map_box[1] - 0.02) if map_box else 0.25)
        _place_labels(fig, ax, c.labels)
    return fig


@dataclass
class _Paper:
    """What every layer printer of :func:`static_map` needs besides its own frame."""

    ax: Any
    crs: str
    hazard: str
    hazards: gpd.GeoDataFrame | None
    handles: list[Any] = field(default_factory=list)
    labels: list[tuple[float, float, str]] = field(default_factory=list)
    """Place names to print once the map's extent is final (:func:`_place_labels`)."""


def polygon_paths(geoms: np.ndarray) -> list[MplPath]:
    """One matplotlib path per polygon (parts of a multipolygon as one path, holes kept):
    the rings' coordinates read in bulk, so tens of thousands of units draw in a second
    (geopandas' ``plot`` builds one patch per polygon in Python)."""
    geoms = np.asarray(geoms)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy, ring_of = shapely.get_coordinates(rings, return_index=True)
    codes = np.full(len(xy), MplPath.LINETO, dtype=MplPath.code_type)
    if len(xy):
        start = np.r_[True, ring_of[1:] != ring_of[:-1]]
        end = np.r_[ring_of[1:] != ring_of[:-1], True]
        codes[start], codes[end] = MplPath.MOVETO, MplPath.CLOSEPOLY
    geom_of_point = owner[ring_part[ring_of]] if len(xy) else np.zeros(0, np.int64)
    cut = np.searchsorted(geom_of_point, np.arange(len(geoms) + 1))
    return [MplPath(xy[a:b], codes[a:b]) for a, b in itertools.pairwise(cut)]


def _fill(c: _Paper, frame: gpd.GeoDataFrame, *, facecolor: Any, edgecolor: str, linewidth: float,
          zorder: float, alpha: float | None = None) -> None:
    """Fill polygons on the paper in one collection (see :func:`polygon_paths`)."""
    if not len(frame):
        return
    geoms = frame.to_crs(c.crs).geometry.to_numpy()
    coll = PathCollection(polygon_paths(geoms), facecolors=facecolor, edgecolors=edgecolor,
                          linewidths=linewidth, zorder=zorder, alpha=alpha)
    c.ax.add_collection(coll, autolim=True)
    c.ax.autoscale_view()


def _print_choropleth(c: _Paper, frame: Any) -> None:
    """An analysis result under the layers: (polygons, colours, legend entries)."""
    polys, colors, entries = frame
    _fill(c, polys, facecolor=list(colors), edgecolor="white", linewidth=0.2, zorder=1)
    c.handles += [Patch(facecolor=c, edgecolor="#999", label=lab) for c, lab in entries]


def _print_vulnerable(c: _Paper, frame: gpd.GeoDataFrame) -> None:
    """Draw the vulnerable layer on the printed map (its legend entries into ``c``)."""
    dens = frame
    counts = pd.to_numeric(dens["count"], errors="coerce").fillna(0).to_numpy(float)
    area = unit_area_km2(dens)
    per_km2 = np.divide(counts, area, out=np.zeros(len(counts)), where=area > 0)
    bounds = density_classes(float(per_km2.max()) if len(per_km2) else 0.0)
    cls = np.minimum(np.searchsorted(np.asarray(bounds), per_km2, side="left"),
                     len(DENSITY_PALETTE) - 1)
    colors = np.array(DENSITY_PALETTE)[cls]
    drawn = dens[counts > 0]
    if len(drawn):
        _fill(c, drawn, facecolor=list(colors[counts > 0]), edgecolor="white", linewidth=0.2, zorder=1)
    lower = 0.0
    for i, upper in enumerate(bounds[: len(DENSITY_PALETTE)]):
        c.handles.append(Patch(facecolor=DENSITY_PALETTE[i], edgecolor="#999",
                             label=f"要配慮者 {lower:g}〜{upper:g} 人/km²"))
        lower = upper


def _print_neighbourhoods(c: _Paper, frame: gpd.GeoDataFrame) -> None:
    """Draw the neighbourhoods layer on the printed map (its legend entries into ``c``)."""
    st = STYLES["neighbourhoods"]
    _fill(c, frame, facecolor=st.fill, edgecolor=st.stroke, linewidth=0.4, alpha=0.6, zorder=2)
    est = frame.get("estimated")
    label = st.label + ("（推定区域を含む）" if est is not None and est.any() else "")
    c.handles.append(Patch(facecolor=st.fill, edgecolor=st.stroke, label=label))


def _print_hazards(c: _Paper, frame: gpd.GeoDataFrame) -> None:
    """Draw the hazards layer on the printed map (its legend entries into ``c``)."""
    for htype, r, color, part in hazard_classes(frame):
        _fill(c, part, facecolor=color, edgecolor="none", linewidth=0, alpha=0.55, zorder=3)
        c.handles.append(Patch(facecolor=color, alpha=0.55,
                               label=f"{HAZARD_LABELS.get(htype, htype)}（ランク{r}）"))


def _print_school_districts(c: _Paper, frame: gpd.GeoDataFrame) -> None:
    """Draw the school_districts layer on the printed map (its legend entries into ``c``)."""
    sd = frame
    for period in dict.fromkeys(sd["period"].astype(str)):
        key = f"school_districts:{period}" if period in ("before", "after") else "school_districts"
        st = STYLES[key]
        ls: Any = "--" if st.dash else "-"
        sd[sd["period"] == period].boundary.plot(ax=c.ax, color=st.stroke, linewidth=st.weight * 0.6,
                                                 linestyle=ls, zorder=4)
        c.handles.append(Line2D([], [], color=st.stroke, linestyle=ls, label=st.label))


def _print_plain(key: str, c: _Paper, frame: gpd.GeoDataFrame) -> None:
    """A layer kind with no printer of its own, by its geometry and its style (see
    :func:`geo.outputs.maps._draw_plain`)."""
    st = STYLES[key]
    fill = st.fill or st.stroke
    shapes = frame.to_crs(c.crs)
    if LAYERS[key].geometry == "point":
        c.ax.scatter(shapes.geometry.x, shapes.geometry.y, s=st.radius * 4, color=fill, edgecolor=st.stroke,
                     linewidth=0.6, zorder=8)
        c.handles.append(Line2D([], [], marker="o", linestyle="", markerfacecolor=fill,
                                markeredgecolor=st.stroke, label=st.label))
        return
    if LAYERS[key].geometry == "polygon" and st.fill:
        _fill(c, shapes, facecolor=st.fill, edgecolor=st.stroke, linewidth=0.4, alpha=0.6, zorder=2)
        c.handles.append(Patch(facecolor=st.fill, edgecolor=st.stroke, label=st.label))
        return
    ls: Any = (0, (6, 3)) if st.dash else "-"
    shapes.geometry.boundary.where(shapes.geom_type.isin(["Polygon", "MultiPolygon"]), shapes.geometry).plot(
        ax=c.ax, color=st.stroke, linewidth=st.weight * 0.6, linestyle=ls, zorder=4.5)
    c.handles.append(Line2D([], [], color=st.stroke, linestyle=ls, label=st.label))


def _print_roads(c: _Paper, frame: nx.MultiDiGraph) -> None:
    """Roads: the major ones darker."""
    rl = _roads_lines(frame, c.crs)
    major = rl["highway"].isin(["motorway", "trunk", "primary", "secondary"])
    rl[~major].plot(ax=c.ax, color="#b5b5b5", linewidth=0.25, zorder=5)
    rl[major].plot(ax=c.ax, color="#7a7a7a", linewidth=0.9, zorder=5)
    c.handles.append(Line2D([], [], color="#7a7a7a", label="道路"))


def _print_boundaries(c: _Paper, frame: gpd.GeoDataFrame) -> None:
    """Draw the boundaries layer on the printed map (its legend entries into ``c``)."""
    st = STYLES["boundaries"]
    frame.boundary.plot(ax=c.ax, color=st.stroke, linewidth=1.4, zorder=6)
    c.handles.append(Line2D([], [], color=st.stroke, linewidth=1.4, label=st.label))
    order = np.argsort(-frame.geometry.area.to_numpy(), kind="stable")  # the largest is named first
    pts = frame.geometry.representative_point().to_numpy()[order]
    c.labels.extend((float(p.x), float(p.y), str(n)) for p, n in zip(pts, frame["name"].to_numpy()[order],
                                                                     strict=True))


LABEL_TRIES = ((0, 0), (0, 1.1), (0, -1.1), (1.1, 0), (-1.1, 0), (0.8, 0.9), (-0.8, -0.9))
"""Where a place name may go, in label heights/widths from its point, before it is made smaller."""


def _place_labels(fig: Figure, ax: Any, labels: Sequence[tuple[float, float, str]]) -> None:
    """Place names that never overlap: each at its point, or beside it, or smaller (7 pt), in
    the order given (the largest area first); a name that fits nowhere is left out rather than
    printed over another (八郎潟・五城目・井川・潟上 on a prefecture map)."""
    if not labels:
        return
    ax.apply_aspect()  # the final extent, so the boxes are those printed
    canvas = fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)  # no GUI backend
    renderer = canvas.get_renderer()
    placed: list[Any] = []
    inv = ax.transData.inverted()
    for x, y, name in labels:
        for size in (9, 7):
            text = ax.text(x, y, name, fontsize=size, ha="center", va="center", zorder=21, color="#222",
                           path_effects=[pe.withStroke(linewidth=3, foreground="white")])
            box = text.get_window_extent(renderer)
            ok = False
            for dx, dy in LABEL_TRIES:
                px, py = ax.transData.transform((x, y)) + np.array([dx * box.width, dy * box.height])
                text.set_position(tuple(inv.transform((px, py))))
                box = text.get_window_extent(renderer)
                if not any(box.overlaps(b) for b in placed):
                    ok = True
                    break
            if ok:
                placed.append(box.expanded(1.05, 1.1))
                break
            text.remove()


def _print_places(c: _Paper, frame: gpd.GeoDataFrame) -> None:
    """Draw the places layer on the printed map (its legend entries into ``c``)."""
    st = STYLES["places"]
    pts = frame
    c.ax.scatter(pts.geometry.x, pts.geometry.y, s=26, marker="^", color=st.fill,
               edgecolor=st.stroke, linewidth=0.6, zorder=8)
    c.handles.append(Line2D([], [], marker="^", linestyle="", markerfacecolor=st.fill,
                          markeredgecolor=st.stroke, label=st.label))


def _print_shelters(c: _Paper, frame: gpd.GeoDataFrame) -> None:
    """Draw the shelters layer on the printed map (its legend entries into ``c``)."""
    from geo.outputs.maps import shelters_display

    disp = shelters_display(frame, c.hazards, c.hazard)
    for status in STATUS_ORDER:
        part = disp[disp["status"] == status]
        if part.empty:
            continue
        st = SHELTER_STATUS[status]
        edge = np.where(part["welfare"].astype(bool), WELFARE_RING, st.stroke)
        c.ax.scatter(part.geometry.x, part.geometry.y, s=16, color=st.fill, edgecolor=edge,
                   linewidth=0.7, zorder=9)
        c.handles.append(Line2D([], [], marker="o", linestyle="", markerfacecolor=st.fill,
                              markeredgecolor=st.stroke,
                              label=st.label.replace("この災害",
                                                     HAZARD_LABELS.get(c.hazard, c.hazard))))
    if disp["welfare"].any():
        c.handles.append(Line2D([], [], marker="o", linestyle="", markerfacecolor="white",
                              markeredgecolor=WELFARE_RING, markeredgewidth=1.5,
                              label="福祉避難所型（受入対象者あり）"))


def _print_vc_sites(c: _Paper, frame: gpd.GeoDataFrame) -> None:
    """Draw the vc_sites layer on the printed map (its legend entries into ``c``)."""
    st = STYLES["vc_sites"]
    pts = frame
    c.ax.scatter(pts.geometry.x, pts.geometry.y, s=110, marker="*", color=st.fill,
               edgecolor=st.stroke, linewidth=0.8, zorder=10)
    c.handles.append(Line2D([], [], marker="*", linestyle="", markersize=11,
                          markerfacecolor=st.fill, markeredgecolor=st.stroke, label=st.label))


def _print_overlays(c: _Paper, outlines: tuple[gpd.GeoDataFrame, str] | None,
                    overlays: Sequence[tuple[gpd.GeoDataFrame, Mapping[str, Any], str | None]]) -> None:
    """Outlines (e.g. coverage gaps) and lines or points on top of everything."""
    ax, crs, handles = c.ax, c.crs, c.handles
    if outlines is not None and len(outlines[0]):
        outlines[0].to_crs(crs).boundary.plot(ax=ax, color="black", linewidth=1.4,
                                              linestyle="--", zorder=12)
        handles.append(Line2D([], [], color="black", linestyle="--", label=outlines[1]))
    for frame, style, ov_label in overlays:
        if frame is None or not len(frame):
            continue
        g = frame.to_crs(crs)
        if g.geom_type.isin(["Point", "MultiPoint"]).all():
            ax.scatter(g.geometry.x, g.geometry.y, zorder=15, **style)
            if ov_label:
                handles.append(Line2D([], [], marker=style.get("marker", "o"), linestyle="",
                                      color=style.get("color"), label=ov_label))
        else:
            _draw_lines(ax, g.geometry.to_numpy(), style)
            if ov_label:
                handles.append(Line2D([], [], color=style.get("color"),
                                      linestyle=style.get("linestyle", "-"),
                                      linewidth=style.get("linewidth", 1.5), label=ov_label))


def _draw_lines(ax: Any, geoms: np.ndarray, style: Mapping[str, Any]) -> None:
    """Lines (and polygon outlines) as one collection: geopandas' ``plot`` redrew the whole
    figure once per call (seconds a sheet)."""
    from matplotlib.collections import LineCollection

    lines = shapely.get_parts(shapely.boundary(geoms) if shapely.get_type_id(geoms).max(initial=0) >= 3
                              else geoms)
    coords, idx = shapely.get_coordinates(lines, return_index=True)
    cut = np.flatnonzero(np.diff(idx)) + 1
    segments = [p for p in np.split(coords, cut) if len(p) >= 2]
    ax.add_collection(LineCollection(segments, colors=style.get("color"), zorder=14,
                                     linewidths=style.get("linewidth", 1.5),
                                     linestyles=style.get("linestyle", "-")), autolim=False)


def _decorate(fig: Figure, ax: Any, handles: list[Any], *, title: str, portrait: bool, lang: str,
              fictional: bool, attribution: Sequence[str], date: _dt.date | None, crs: str,
              extent: tuple[float, float, float, float] | None, legend_top: float = 0.25) -> None:
    """Frame, scale bar, north arrow, title, badge, legend and footer."""
    ax.set_aspect("equal")
    ax.margins(0.01)
    if extent is not None:
        x0, y0, x1, y1 = extent
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_color("#444")
    _scale_bar(ax, lang=lang)
    _north_arrow(ax)
    fig.text(0.04, 0.95, title, fontsize=18, va="center")
    if fictional:
        fig.text(0.96, 0.95, "架空データ（デモ地域）", fontsize=12, color="white", ha="right",
                 va="center", bbox={"boxstyle": "round,pad=0.4", "facecolor": "#b00020",
                                    "edgecolor": "none"})
    fig.legend(handles=handles, loc="upper left",
               bbox_to_anchor=(0.05, legend_top) if portrait else (0.76, 0.91), frameon=True,
               ncol=(3 if legend_top < 0.25 else 2) if portrait else 1, fontsize=8.5, title="凡例",
               title_fontsize=10, borderaxespad=0.0)
    day = (date or _dt.date.today()).isoformat()
    lines = [*attribution, "架空データ" if fictional and not attribution else ""]
    footer = " ／ ".join(x for x in lines if x)
    fig.text(0.04, 0.045, footer, fontsize=7.5, va="center", wrap=True)
    fig.text(0.04, 0.02, f"作成日: {day}　座標系: {crs_label(crs)}　作成: ともにマップ",
             fontsize=7.5, va="center", color="#444")


_PRINTERS: dict[str, Callable[[_Paper, gpd.GeoDataFrame], None]] = {
    "vulnerable": _print_vulnerable,
    "neighbourhoods": _print_neighbourhoods,
    "hazards": _print_hazards,
    "school_districts": _print_school_districts,
    "boundaries": _print_boundaries,
    "places": _print_places,
    "shelters": _print_shelters,
    "vc_sites": _print_vc_sites,
}


def save_map(fig: Figure, out: str | Path, *, dpi: int = 300, fmt: str | None = None) -> Path:
    """Write ``fig`` atomically as PNG, SVG or PDF (format from the extension)."""
    out = Path(out)
    kind = (fmt or out.suffix.lstrip(".")).lower()
    if kind not in FORMATS:
        raise LayerError(
            "地図画像の形式が分かりません。",
            file=out,
            column="out",
            fix="出力ファイルの拡張子を .png、.svg、.pdf（対話型なら .html）にしてください。",
        )
    with plt.rc_context(_rc()), atomic_path(out) as tmp:
        metadata: dict[str, Any] = {"Creator": "tomoni-map"}
        if kind == "png":
            metadata = {"Software": "tomoni-map"}
        fig.savefig(tmp, format=kind, dpi=dpi, metadata=metadata)
    return out


def map_bytes(fig: Figure, *, fmt: str = "png", dpi: int = 300) -> bytes:
    """The figure encoded as PNG/SVG/PDF bytes (for downloads)."""
    if fmt not in FORMATS:
        raise ParameterError("地図画像の形式が分かりません。", parameter="format",
                         fix="png、svg、pdf のいずれかを選んでください。")
    buf = io.BytesIO()
    with plt.rc_context(_rc()), warnings.catch_warnings():
        fig.savefig(buf, format=fmt, dpi=dpi, metadata={"Software": "tomoni-map"} if fmt == "png"
                    else {"Creator": "tomoni-map"})
    return buf.getvalue()
