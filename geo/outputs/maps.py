"""Interactive folium maps of a region: every layer styled per kind, offline.

The maps use no tiles by default (a disaster team may have no internet); the
region's own boundaries, 校区 and roads are the "basemap".  地理院タイル and OSM
can be switched on when online.  Every script comes from the vendored copies
(:mod:`geo.outputs.assets`).

Large layers stay usable: point layers over 1,500 features switch the map to
canvas rendering, and regular mesh layers (JIS X 0410 cells) are drawn by
:class:`MeshCanvasLayer`, a tiled canvas layer that sends only the cells' corners
and classes and paints each 256-px tile from a bucket index, so tens of
thousands of cells draw and pan without freezing.
"""

from __future__ import annotations

import functools
import json
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import folium
import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from branca.element import MacroElement
from folium.map import Layer
from jinja2 import Template

from geo.engine.shelter_status import STATUS_ORDER, shelter_status
from geo.outputs.assets import localise
from geo.outputs.labels import people_text
from geo.outputs.map_features import FeatureLayer, RawRender, escape_text, features_json
from geo.outputs.style import (
    DENSITY_PALETTE,
    LAYER_ORDER,
    LAYER_TITLES,
    SHELTER_STATUS,
    STYLES,
    WELFARE_RING,
    density_classes,
    hazard_classes,
)
from layers.crs import STORAGE_CRS
from layers.demand import APPROX_KM2, unit_area_km2
from layers.layer_facts import LAYERS
from layers.mesh import MESH_SIZES, mesh_cells
from layers.shelters import DEFAULT_HAZARD, HAZARD_LABELS, HAZARDS

__all__ = [
    "BASEMAPS",
    "MeshCanvasLayer",
    "add_coverage",
    "add_legend",
    "add_lines",
    "add_marks",
    "region_map",
]

BASEMAPS: dict[str, tuple[str, str, str, int]] = {
    # key: (label, url, attribution, max zoom)
    "gsi_std": ("地理院タイル（標準地図）", "https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png",
                '<a href="https://maps.gsi.go.jp/development/ichiran.html">地理院タイル</a>', 18),
    "gsi_pale": ("地理院タイル（淡色地図）", "https://cyberjapandata.gsi.go.jp/xyz/pale/{z}/{x}/{y}.png",
                 '<a href="https://maps.gsi.go.jp/development/ichiran.html">地理院タイル</a>', 18),
    "gsi_photo": ("地理院タイル（写真）",
                  "https://cyberjapandata.gsi.go.jp/xyz/seamlessphoto/{z}/{x}/{y}.jpg",
                  '<a href="https://maps.gsi.go.jp/development/ichiran.html">地理院タイル</a>', 18),
    "osm": ("OpenStreetMap", "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
            19),
}
CANVAS_POINTS = 1500
ROAD_MIN_ZOOM = 14
MAX_ROAD_EDGES = 60_000


"""Barriers to walking access (rivers, railways …) are drawn as dashed blue-grey lines."""


def _label(key: str, lang: str) -> str:
    ja, en = LAYER_TITLES.get(key, (key, key))
    return ja if lang == "ja" else en


_text = escape_text


def _polygons(
    gdf: gpd.GeoDataFrame, name: str, style: dict[str, Any], *, tooltip: str | None = None,
    popup: Sequence[tuple[str, str]] = (), show: bool = True, class_name: str = "",
) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=_text(name), show=show)
    fields = [f for f, _ in popup]
    data = features_json(gdf, [*([tooltip] if tooltip else []), *fields])
    FeatureLayer(data, style=dict(style, className=class_name), tooltip=tooltip,
                 popup=popup).add_to(group)
    return group


def _points(
    gdf: gpd.GeoDataFrame, name: str, *, stroke: str, fill: str, radius: float, weight: float,
    popup: Sequence[tuple[str, str]], tooltip: str = "name", show: bool = True,
    class_name: str = "",
) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=_text(name), show=show)
    if gdf.empty:
        return group
    data = features_json(gdf, [tooltip, *(f for f, _ in popup)])
    FeatureLayer(data, marker={"radius": radius, "color": stroke, "weight": weight, "fill": True,
                               "fillColor": fill, "fillOpacity": 0.95, "className": class_name},
                 tooltip=tooltip, popup=popup).add_to(group)
    return group


class _Html(MacroElement):
    """A fixed HTML box on the map (legend, badge)."""

    _template = Template(
        """{% macro header(this, kwargs) %}{% endmacro %}
        {% macro html(this, kwargs) %}{{ this.html }}{% endmacro %}
        {% macro script(this, kwargs) %}{% endmacro %}"""
    )

    def __init__(self, html: str) -> None:
        super().__init__()
        self._name = "TomoniHtml"
        self.html = html


class _Script(MacroElement):
    """A piece of JS run once the map exists (``{map}`` is the map variable)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function(map){ {{ this.code }} })({{ this._parent.get_name() }});
        {% endmacro %}"""
    )

    def __init__(self, code: str) -> None:
        super().__init__()
        self._name = "TomoniScript"
        self.code = code


class MeshCanvasLayer(RawRender, Layer):
    """A regular-mesh choropleth painted on canvas tiles.

    Parameters
    ----------
    rows, cols
        Integer grid position of each cell: its south-west corner is at
        (rows × dlat, cols × dlon).  Only integers reach the page, never a
        coordinate.
    dlat, dlon
        Cell size in degrees (JIS X 0410: 500 m mesh = 1/240° × 1/160°).
    classes
        Colour class (index into ``colors``) of each cell; negative = not drawn.
    labels
        Popup text of each cell.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function(map){
  var d = {{ this.payload }};
  var n = d.r.length, B = 0.05, buckets = {};
  d.s = new Array(n); d.w = new Array(n);
  for (var i = 0; i < n; i++) {
    d.s[i] = d.r[i] * d.dlat; d.w[i] = d.q[i] * d.dlon;
    var k = Math.floor(d.s[i] / B) + ':' + Math.floor(d.w[i] / B);
    (buckets[k] = buckets[k] || []).push(i);
  }
  var Layer = L.GridLayer.extend({
    createTile: function(coords) {
      var tile = L.DomUtil.create('canvas', 'leaflet-tile tomoni-mesh-tile');
      var size = this.getTileSize(); tile.width = size.x; tile.height = size.y;
      var ctx = tile.getContext('2d'); ctx.globalAlpha = d.opacity;
      var nwPoint = coords.scaleBy(size);
      var nw = map.unproject(nwPoint, coords.z), se = map.unproject(nwPoint.add(size), coords.z);
      var s0 = Math.floor((se.lat - d.dlat) / B), s1 = Math.floor(nw.lat / B);
      var w0 = Math.floor((nw.lng - d.dlon) / B), w1 = Math.floor(se.lng / B);
      for (var a = s0; a <= s1; a++) for (var b = w0; b <= w1; b++) {
        var list = buckets[a + ':' + b]; if (!list) continue;
        for (var j = 0; j < list.length; j++) {
          var i = list[j], c = d.c[i]; if (c < 0) continue;
          var p0 = map.project([d.s[i] + d.dlat, d.w[i]], coords.z).subtract(nwPoint);
          var p1 = map.project([d.s[i], d.w[i] + d.dlon], coords.z).subtract(nwPoint);
          ctx.fillStyle = d.colors[c];
          ctx.fillRect(Math.floor(p0.x), Math.floor(p0.y),
                       Math.max(1, Math.ceil(p1.x - p0.x)), Math.max(1, Math.ceil(p1.y - p0.y)));
        }
      }
      return tile;
    }
  });
  var layer = new Layer({pane: 'overlayPane', updateWhenZooming: false, keepBuffer: 1});
  layer.on('load', function(){ window.tomoniMeshDrawn = (window.tomoniMeshDrawn || 0) + 1; });
  layer.on('click', function(){});
  map.on('click', function(e) {
    if (!map.hasLayer(layer)) return;
    var a = Math.floor(e.latlng.lat / B), b = Math.floor(e.latlng.lng / B);
    for (var da = -1; da <= 0; da++) for (var db = -1; db <= 0; db++) {
      var list = buckets[(a + da) + ':' + (b + db)]; if (!list) continue;
      for (var j = 0; j < list.length; j++) { var i = list[j];
        if (e.latlng.lat >= d.s[i] && e.latlng.lat < d.s[i] + d.dlat &&
            e.latlng.lng >= d.w[i] && e.latlng.lng < d.w[i] + d.dlon && d.c[i] >= 0) {
          L.popup().setLatLng(e.latlng).setContent(d.labels[i]).openOn(map); return; }
      }
    }
  });
  {% if this.show %}layer.addTo(map);{% endif %}
  window.tomoniMesh = layer; window.tomoniMap = map;
  return layer;
})({{ this._parent.get_name() }});
{% endmacro %}"""
    )

    def __init__(
        self,
        *,
        rows: np.ndarray,
        cols: np.ndarray,
        dlat: float,
        dlon: float,
        classes: np.ndarray,
        colors: Sequence[str],
        labels: Sequence[str],
        title: str,
        opacity: float = 0.75,
        show: bool = True,
    ) -> None:
        super().__init__(name=title, overlay=True, control=True, show=show)
        self._name = "MeshCanvasLayer"
        self.title_json = json.dumps(_text(title), ensure_ascii=False)
        self.payload = json.dumps(
            {
                "r": np.asarray(rows, np.int64).tolist(),
                "q": np.asarray(cols, np.int64).tolist(),
                "dlat": dlat, "dlon": dlon,
                "c": np.asarray(classes, int).tolist(),
                "colors": list(colors), "labels": [_text(t) for t in labels], "opacity": opacity,
            },
            ensure_ascii=False, separators=(",", ":"),
        )


def _legend_html(entries: Sequence[tuple[str, str, str]], title: str, note: str = "") -> str:
    rows = []
    for kind, color, label in entries:
        if kind == "point":
            sw = (f'<span style="display:inline-block;width:12px;height:12px;border-radius:50%;'
                  f'background:{color};border:1px solid #333;margin-right:6px"></span>')
        elif kind == "line":
            sw = (f'<span style="display:inline-block;width:18px;height:0;border-top:3px solid {color};'
                  f'margin-right:6px;vertical-align:middle"></span>')
        elif kind == "dash":
            sw = (f'<span style="display:inline-block;width:18px;height:0;border-top:3px dashed {color};'
                  f'margin-right:6px;vertical-align:middle"></span>')
        else:
            sw = (f'<span style="display:inline-block;width:14px;height:12px;background:{color};'
                  f'border:1px solid #666;margin-right:6px"></span>')
        rows.append(f'<div style="white-space:nowrap;overflow:hidden;text-overflow:ellipsis">'
                    f'{sw}{_text(label)}</div>')
    note_html = (f'<div style="margin-top:4px;color:#555;max-width:260px">{_text(note)}</div>'
                 if note else "")
    return (
        '<div class="tomoni-legend" style="position:absolute;bottom:26px;right:10px;z-index:900;'
        'background:rgba(255,255,255,0.92);padding:6px 9px;border:1px solid #999;border-radius:4px;'
        'font:11.5px/1.4 sans-serif;max-height:35%;max-width:38%;overflow:auto">'
        f'<details open><summary style="font-weight:bold;cursor:pointer">{_text(title)}</summary>'
        f'{"".join(rows)}{note_html}</details></div>'
    )


def _badge_html(text: str) -> str:
    return (
        '<div class="tomoni-badge" style="position:absolute;top:10px;left:50%;transform:translateX(-50%);'
        'z-index:900;background:#b00020;color:#fff;padding:3px 12px;border-radius:12px;'
        f'font:bold 13px sans-serif;box-shadow:0 1px 3px rgba(0,0,0,.4)">{_text(text)}</div>'
    )


def roads_frame(graph: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """One line per road (reverse duplicates removed) with highway class and name."""
    import osmnx as ox

    edges = ox.graph_to_gdfs(graph, nodes=False, fill_edge_geometry=True)
    uv = edges.index.to_frame(index=False)
    keep = (uv["u"] <= uv["v"]).to_numpy()
    edges = edges.loc[keep]

    def first(v: Any) -> str:
        if isinstance(v, list):
            return str(v[0]) if v else ""
        return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)

    out = gpd.GeoDataFrame(
        {
            "highway": [first(v) for v in edges["highway"]],
            "name": [first(v) for v in edges.get("name", pd.Series([""] * len(edges)))],
        },
        geometry=edges.geometry.to_numpy(),
        crs=edges.crs,
    )
    if len(out) > MAX_ROAD_EDGES:
        out = out[out["highway"].isin(["motorway", "trunk", "primary", "secondary", "tertiary"])]
    return out


_ROADS_JSON: weakref.WeakKeyDictionary[nx.MultiDiGraph, str] = weakref.WeakKeyDictionary()
_ROADS_LOCK = threading.Lock()


def roads_geojson(graph: nx.MultiDiGraph) -> str:
    """The roads of a graph as GeoJSON text (highway, name, drawn width), made once per
    graph: every app session and rerun that draws the same region's roads reuses it."""
    with _ROADS_LOCK:
        hit = _ROADS_JSON.get(graph)
    if hit is None:
        roads = roads_frame(graph)
        roads["width"] = roads["highway"].map(_ROAD_WIDTH).fillna(1.2)
        hit = features_json(roads, ["highway", "name", "width"])
        with _ROADS_LOCK:
            hit = _ROADS_JSON.setdefault(graph, hit)
    return hit


_ROAD_WIDTH = {"motorway": 4, "trunk": 3.5, "primary": 3, "secondary": 2.5, "tertiary": 2}


def shelters_display(
    shelters: gpd.GeoDataFrame, hazards: gpd.GeoDataFrame | None, hazard: str
) -> gpd.GeoDataFrame:
    """Shelters with status and the Japanese popup columns."""
    status = shelter_status(shelters, hazard=hazard, hazards=hazards)
    flags = shelters[list(HAZARDS)].to_numpy(bool)
    names = np.array([HAZARD_LABELS[k] for k in HAZARDS])
    designated = ["・".join(names[row]) if row.any() else "（指定なし）" for row in flags]
    kind = shelters["kind"].map({"emergency_site": "指定緊急避難場所", "shelter": "指定避難所"})
    out = shelters.assign(
        status=status.to_numpy(),
        kind_ja=kind.fillna("").to_numpy(),
        designated=designated,
        accepts_ja=shelters["accepts"].replace("", "—").to_numpy(),
        capacity_ja=int_text(shelters["capacity"]),
        status_ja=status.map(STATUS_TEXT).to_numpy(),
    )
    return out


STATUS_TEXT = {
    "usable": "使用可",
    "in_zone": "使用不可（危険区域内）",
    "not_designated": "使用不可（この災害に指定なし）",
}


def int_text(values: pd.Series, *, missing: str = "—") -> list[str]:
    """Integers as text for popups, ``—`` where missing."""
    return [missing if pd.isna(v) else f"{int(v):,}" for v in values]


def region_map(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    roads: nx.MultiDiGraph | None = None,
    hazard: str = DEFAULT_HAZARD,
    basemap: str = "none",
    fictional: bool = False,
    attribution: Sequence[str] = (),
    show: Sequence[str] | None = None,
    lang: str = "ja",
    height: str = "100%",
    localise_assets: bool = True,
    layer_control: bool = True,
    shelters_apart: bool = False,
) -> folium.Map:
    """Build the interactive map of a region's layers.

    Parameters
    ----------
    layers
        Layer key → GeoDataFrame (as loaded by :mod:`layers`).
    roads
        Road graph, drawn from zoom 14 on.
    hazard
        Hazard whose suitability colours the shelters and whose zones are shown.
    basemap
        ``"none"`` (offline, default) or a key of :data:`BASEMAPS`.
    fictional
        Adds the 架空 badge.
    show
        Layer keys switched on initially (default: all).
    layer_control
        Add the layer switcher (pass False when more layers are added later,
        then add it last: Leaflet's control must see every layer it lists).
    shelters_apart
        Leave the shelters out (the caller adds :func:`shelter_layer` as a layer of its
        own); the legend then keys their colours for whichever hazard is chosen.
    """
    frames = {k: v for k, v in layers.items() if v is not None and len(v)}
    bounds = None
    for key in ("boundaries", "neighbourhoods", "shelters", "places"):
        if key in frames:
            b = frames[key].to_crs(STORAGE_CRS).total_bounds
            bounds = [[float(b[1]), float(b[0])], [float(b[3]), float(b[2])]]
            break
    n_points = sum(len(frames[k]) for k in ("shelters", "places", "vc_sites") if k in frames)
    m = folium.Map(
        location=[39.7, 140.1] if bounds is None else
        [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2],
        zoom_start=11,
        tiles=None,
        prefer_canvas=n_points > CANVAS_POINTS,
        control_scale=False,  # Leaflet's default adds miles: a metric-only scale is added below
        height=height,
    )
    m.options["maxZoom"] = 18
    _Script("L.control.scale({metric: true, imperial: false, maxWidth: 160}).addTo(map);").add_to(m)
    if basemap != "none":
        label, url, attr, maxz = BASEMAPS[basemap]
        tiles = folium.TileLayer(url, attr=attr, name=label, max_zoom=maxz, max_native_zoom=maxz)
        tiles.add_to(m)
        _offline_notice(m, tiles, lang)
    c = _MapContext(lang=lang, hazard=hazard, shrink=0.6 if n_points > CANVAS_POINTS else 1.0,
                    visible=set(show) if show is not None else None, hazards=frames.get("hazards"))
    note = _draw_layers(m, frames, roads, c, shelters_apart=shelters_apart)
    legend = c.legend
    if layer_control:
        folium.LayerControl(collapsed=True).add_to(m)
    _furnish(m, legend, note, lang=lang, fictional=fictional, attribution=attribution)
    if bounds is not None:
        m.fit_bounds(bounds)
    if localise_assets:
        localise(m)
    return m


OFFLINE_NOTICE = {"ja": "背景地図を読み込めません（オフラインか、地図の配信元に届きません）。"
                        "背景なしで表示しています。",
                  "en": "The basemap cannot be loaded (offline, or its server is unreachable); "
                        "the map is shown without it."}


def _offline_notice(m: folium.Map, tiles: folium.TileLayer, lang: str) -> None:
    """A visible notice when the tile basemap fails (instead of failing silently)."""
    text = json.dumps(_text(OFFLINE_NOTICE["en" if lang == "en" else "ja"]), ensure_ascii=False)
    _Script(
        f"var shown = false; {tiles.get_name()}.on('tileerror', function(){{ if (shown) return;"
        " shown = true; var c = L.control({position: 'bottomleft'});"
        " c.onAdd = function(){ var d = L.DomUtil.create('div', 'tomoni-offline');"
        " d.style.cssText = 'background:#fff3cd;border:1px solid #d39e00;padding:4px 8px;"
        "font-size:12px;max-width:320px';"
        f" d.textContent = {text}; return d; }}; c.addTo(map); }});"
    ).add_to(m)


def _draw_layers(m: folium.Map, frames: Mapping[str, gpd.GeoDataFrame], roads: nx.MultiDiGraph | None,
                 c: _MapContext, *, shelters_apart: bool) -> str:
    """Every layer, bottom to top; returns the density's note for the legend."""
    note = ""
    for key in LAYER_ORDER:
        if key == "roads":
            if roads is not None and c.on("roads"):
                _draw_roads(m, roads, c)
        elif key == "shelters" and shelters_apart:
            if key in frames and c.on(key):
                _shelter_legend(c)
        elif key in frames:
            drawer = _DRAWERS.get(key) or functools.partial(_draw_plain, key)
            note = drawer(m, frames[key], c) or note
    return note


def _furnish(m: folium.Map, legend: list[tuple[str, str, str]], note: str, *, lang: str,
             fictional: bool, attribution: Sequence[str]) -> None:
    """The legend, the 架空 badge and the attribution line (escaped)."""
    legend_title = "凡例" if lang == "ja" else "Legend"
    m.add_child(_Html(_legend_html(legend, legend_title, note)))
    # every drawing of the map gets a fresh id once its layers are on it (for browser tests
    # and timings: "the map has settled" without counting SVG paths, which canvas maps lack)
    _Script("window.tomoniMapId = Math.random().toString(36).slice(2);").add_to(m)
    if fictional:
        m.add_child(_Html(_badge_html("架空データ（デモ地域）" if lang == "ja" else "Fictional demo data")))
    lines = list(attribution)
    if lines:
        text = json.dumps(_text(" | ".join(lines)), ensure_ascii=False)
        _Script(f"map.attributionControl.setPrefix(false); map.attributionControl.addAttribution({text});"
                ).add_to(m)


@dataclass
class _MapContext:
    """What every layer drawer of :func:`region_map` needs besides its own frame."""

    lang: str
    hazard: str
    shrink: float
    """Marker size factor (many points: smaller markers)."""
    visible: set[str] | None
    hazards: gpd.GeoDataFrame | None
    legend: list[tuple[str, str, str]] = field(default_factory=list)

    def on(self, key: str) -> bool:
        return self.visible is None or key in self.visible


def _draw_vulnerable(m: folium.Map, frame: gpd.GeoDataFrame, c: _MapContext) -> str:
    """Draw the vulnerable layer on the interactive map (its legend entries into ``c``)."""
    return _add_density(m, frame, c.legend, show=c.on("vulnerable"))


def _draw_neighbourhoods(m: folium.Map, frame: gpd.GeoDataFrame, c: _MapContext) -> None:
    """Draw the neighbourhoods layer on the interactive map (its legend entries into ``c``)."""
    nb = frame
    est = nb["estimated"].astype(bool) if "estimated" in nb else pd.Series(False, index=nb.index)
    nb = nb.assign(label=np.where(est, nb["name"] + "（推定区域）", nb["name"]))
    st = STYLES["neighbourhoods:estimated" if est.any() else "neighbourhoods"]
    _polygons(nb, _label("neighbourhoods", c.lang),
              {"color": st.stroke, "weight": st.weight, "fillColor": st.fill,
               "fillOpacity": st.fill_opacity, "dashArray": st.dash},
              tooltip="label", show=c.on("neighbourhoods"),
              class_name="tomoni-neighbourhood").add_to(m)
    c.legend.append(("area", st.fill or st.stroke, st.label))


def _draw_school_districts(m: folium.Map, frame: gpd.GeoDataFrame, c: _MapContext) -> None:
    """Draw the school_districts layer on the interactive map (its legend entries into ``c``)."""
    sd = frame
    for period in dict.fromkeys(sd["period"].astype(str)):
        key = f"school_districts:{period}" if period in ("before", "after") else "school_districts"
        st = STYLES[key]
        part = sd[sd["period"].astype(str) == period].assign(
            label=lambda d, p=period: d["name"] + f"（{p}）")
        _polygons(part, f"{_label('school_districts', c.lang)}（{period}）",
                  {"color": st.stroke, "weight": st.weight, "fill": False,
                   "dashArray": st.dash}, tooltip="label", show=c.on("school_districts")).add_to(m)
        c.legend.append(("dash" if st.dash else "line", st.stroke,
                       st.label if period in ("before", "after") else f"校区（{period}）"))


def _draw_hazards(m: folium.Map, frame: gpd.GeoDataFrame, c: _MapContext) -> None:
    """Draw the hazards layer on the interactive map (its legend entries into ``c``)."""
    group = folium.FeatureGroup(name=_label("hazards", c.lang), show=c.on("hazards"))
    for htype, r, color, part in hazard_classes(frame):
        sub = part.assign(label=f"{HAZARD_LABELS.get(htype, htype)} ランク{r}")
        FeatureLayer(features_json(sub, ["label", "name"]), tooltip="label",
                     style={"color": color, "weight": 0.5, "fillColor": color,
                            "fillOpacity": 0.45}).add_to(group)
        c.legend.append(("area", color, f"{HAZARD_LABELS.get(htype, htype)}（ランク{r}）"))
    group.add_to(m)


def _draw_plain(key: str, m: folium.Map, frame: gpd.GeoDataFrame, c: _MapContext) -> None:
    """A layer kind with no drawer of its own, by its geometry and its style: points as
    markers, lines (and a line layer's areas, as outlines: a river's banks) as lines, areas
    filled (its legend entry into ``c``)."""
    st, name = STYLES[key], _label(key, c.lang)
    fill = st.fill or st.stroke
    if LAYERS[key].geometry == "point":
        _points(frame, name, stroke=st.stroke, fill=fill, radius=st.radius * c.shrink, weight=st.weight,
                popup=[], show=c.on(key), class_name=f"tomoni-{key}").add_to(m)
        c.legend.append(("point", fill, st.label))
        return
    if LAYERS[key].geometry == "line":
        frame = frame.assign(geometry=frame.geometry.boundary.where(
            frame.geom_type.isin(["Polygon", "MultiPolygon"]), frame.geometry))
    style = {"color": st.stroke, "weight": st.weight, "opacity": 0.8, "dashArray": st.dash,
             "fillColor": st.fill, "fillOpacity": st.fill_opacity, "fill": st.fill is not None,
             "className": f"tomoni-{key}"}
    FeatureLayer(features_json(frame, []), name=_text(name), show=c.on(key), style=style).add_to(m)
    c.legend.append(("dash" if st.dash else ("area" if st.fill else "line"), st.stroke, st.label))


def _draw_boundaries(m: folium.Map, frame: gpd.GeoDataFrame, c: _MapContext) -> None:
    """Draw the boundaries layer on the interactive map (its legend entries into ``c``)."""
    st = STYLES["boundaries"]
    _polygons(frame, _label("boundaries", c.lang),
              {"color": st.stroke, "weight": st.weight, "fill": False},
              tooltip="name", show=c.on("boundaries")).add_to(m)
    c.legend.append(("line", st.stroke, st.label))


def _draw_roads(m: folium.Map, frame: nx.MultiDiGraph, c: _MapContext) -> None:
    """Draw the roads layer on the interactive map (its legend entries into ``c``)."""
    group = folium.FeatureGroup(name=_label("roads", c.lang), show=True)
    FeatureLayer(roads_geojson(frame), style={"color": "#8a8a8a", "weight": 1.2, "opacity": 0.8},
                 weight_field="width").add_to(group)
    group.add_to(m)
    _Script(
        f"var fg = {group.get_name()}, off = false;"
        "map.on('overlayremove', function(e){ if (e.layer === fg) off = true; });"
        "map.on('overlayadd', function(e){ if (e.layer === fg) off = false; });"
        f"function upd(){{ if (map.getZoom() >= {ROAD_MIN_ZOOM} && !off) {{ if (!map.hasLayer(fg))"
        " map.addLayer(fg); } else if (map.hasLayer(fg)) { map.removeLayer(fg); } }"
        "map.on('zoomend', upd); upd();"
    ).add_to(m)
    c.legend.append(("line", "#8a8a8a", f"道路（ズーム{ROAD_MIN_ZOOM}以上）"))


def _draw_places(m: folium.Map, frame: gpd.GeoDataFrame, c: _MapContext) -> None:
    """Draw the places layer on the interactive map (its legend entries into ``c``)."""
    st = STYLES["places"]
    pl = frame.assign(capacity_ja=int_text(frame["capacity"]))
    _points(pl, _label("places", c.lang), stroke=st.stroke, fill=st.fill or st.stroke,
            radius=st.radius * c.shrink, weight=st.weight,
            popup=[("name", "名称"), ("kind", "種別"), ("capacity_ja", "定員"),
                   ("open_days", "開催日")],
            show=c.on("places"), class_name="tomoni-place").add_to(m)
    c.legend.append(("point", st.fill or st.stroke, st.label))


def _draw_shelters(m: folium.Map, frame: gpd.GeoDataFrame, c: _MapContext) -> None:
    """Draw the shelters layer on the interactive map (its legend entries into ``c``)."""
    _shelter_group(frame, c).add_to(m)


def _shelter_group(frame: gpd.GeoDataFrame, c: _MapContext) -> folium.FeatureGroup:
    """The shelters coloured by their status in ``c.hazard`` (welfare ones ringed)."""
    disp = shelters_display(frame, c.hazards, c.hazard)
    popup = [("name", "名称"), ("kind_ja", "種別"),
             ("status_ja", f"{HAZARD_LABELS.get(c.hazard, c.hazard)}のとき"),
             ("designated", "対象とする災害"), ("address", "住所"), ("accepts_ja", "受入対象者"),
             ("capacity_ja", "収容人数")]
    group = folium.FeatureGroup(name=_label("shelters", c.lang), show=c.on("shelters"))
    for status in STATUS_ORDER:
        part = disp[disp["status"] == status]
        st = SHELTER_STATUS[status]
        for welfare in (False, True):
            sub = part[part["welfare"].astype(bool) == welfare]
            if sub.empty:
                continue
            inner = _points(sub, "", stroke=WELFARE_RING if welfare else st.stroke,
                            fill=st.fill or st.stroke, radius=(7 if welfare else 6) * c.shrink,
                            weight=3 if welfare else st.weight, popup=popup,
                            class_name=f"tomoni-shelter tomoni-shelter-{status}")
            for child in list(inner._children.values()):
                child.add_to(group)
        if len(part):
            c.legend.append(("point", st.fill or st.stroke,
                           f"{st.label.replace('この災害', HAZARD_LABELS.get(c.hazard, c.hazard))}"))
    if disp["welfare"].any():
        c.legend.append(("point", WELFARE_RING, "福祉避難所型（受入対象者あり、青い縁）"))
    return group


def _shelter_legend(c: _MapContext) -> None:
    """The shelters' colour key for whichever hazard is chosen (shelters drawn apart)."""
    for status in STATUS_ORDER:
        st = SHELTER_STATUS[status]
        c.legend.append(("point", st.fill or st.stroke, st.label.replace("この災害", "選んだ災害")))
    c.legend.append(("point", WELFARE_RING, "福祉避難所型（受入対象者あり、青い縁）"))


def crowded(layers: Mapping[str, gpd.GeoDataFrame]) -> bool:
    """Many points: the map draws on canvas with smaller markers."""
    return sum(len(layers[k]) for k in ("shelters", "places", "vc_sites")
               if layers.get(k) is not None) > CANVAS_POINTS


def shelter_layer(shelters: gpd.GeoDataFrame, *, hazards: gpd.GeoDataFrame | None, hazard: str,
                  lang: str = "ja", small: bool = False) -> folium.FeatureGroup:
    """The shelters of ``hazard`` as a layer of their own, for a map built with
    ``region_map(..., shelters_apart=True)``: switching the hazard then redraws only this
    layer (``st_folium(feature_group_to_add=...)``), not the whole map."""
    c = _MapContext(lang=lang, hazard=hazard, shrink=0.6 if small else 1.0, visible=None,
                    hazards=hazards)
    group = _shelter_group(shelters, c)
    _Script("window.tomoniSheltersId = Math.random().toString(36).slice(2);").add_to(group)
    return group


def _draw_vc_sites(m: folium.Map, frame: gpd.GeoDataFrame, c: _MapContext) -> None:
    """Draw the vc_sites layer on the interactive map (its legend entries into ``c``)."""
    st = STYLES["vc_sites"]
    _points(frame, _label("vc_sites", c.lang), stroke=st.stroke,
            fill=st.fill or st.stroke, radius=st.radius, weight=st.weight,
            popup=[("name", "名称"), ("muni_code", "市町村コード")],
            show=c.on("vc_sites"), class_name="tomoni-vc").add_to(m)
    c.legend.append(("point", st.fill or st.stroke, st.label))


_DRAWERS: dict[str, Callable[..., str | None]] = {
    "vulnerable": _draw_vulnerable,
    "neighbourhoods": _draw_neighbourhoods,
    "school_districts": _draw_school_districts,
    "hazards": _draw_hazards,
    "boundaries": _draw_boundaries,
    "places": _draw_places,
    "shelters": _draw_shelters,
    "vc_sites": _draw_vc_sites,
}


def _mesh_layer(density: gpd.GeoDataFrame, classes: np.ndarray, labels: Sequence[str],
                colors: Sequence[str], title: str, *, show: bool = True) -> MeshCanvasLayer:
    """A canvas layer drawing every member cell of each published mesh unit.

    ``classes`` and ``labels`` are per unit (row of ``density``); a merged unit
    paints all its cells with its class.
    """
    level = MESH_SIZES[int(str(density["geography"].iloc[0])[4:])]
    codes, cls, texts = [], [], []
    for members, c, text in zip(density["members"], classes, labels, strict=True):
        for code in str(members).split(","):
            if code:
                codes.append(int(code))
                cls.append(int(c))
                texts.append(text)
    rows, cols = mesh_cells(np.asarray(codes, np.int64), level)
    return MeshCanvasLayer(rows=rows, cols=cols, dlat=1 / {3: 120, 4: 240, 5: 480}[level],
                           dlon=1 / {3: 80, 4: 160, 5: 320}[level], classes=np.asarray(cls),
                           colors=colors, labels=texts, title=title, show=show)


def _add_density(
    m: folium.Map, density: gpd.GeoDataFrame, legend: list[tuple[str, str, str]], *, show: bool
) -> str:
    """Draw an anonymised density layer as a choropleth of people per km² (a 253 km² territory
    of 30 people is pale, not dark); each unit's count in its label; return its legend note."""
    counts = pd.to_numeric(density["count"], errors="coerce").fillna(0).to_numpy(float)
    area = unit_area_km2(density)
    per_km2 = np.divide(counts, area, out=np.zeros(len(counts)), where=area > 0)
    bounds = density_classes(float(per_km2.max()) if len(per_km2) else 0.0)
    classes = np.searchsorted(np.asarray(bounds), per_km2, side="left")
    classes = np.where(counts > 0, np.minimum(classes, len(DENSITY_PALETTE) - 1), -1)
    lower = 0.0
    for i, upper in enumerate(bounds[: len(DENSITY_PALETTE)]):
        legend.append(("area", DENSITY_PALETTE[i], f"要配慮者 {lower:g}〜{upper:g} 人/km²"))
        lower = upper
    note = str(density.attrs.get("anonymisation_note", ""))
    title = "要配慮者（匿名化）"
    geography = str(density["geography"].iloc[0]) if "geography" in density and len(density) else ""
    if geography.startswith("mesh") and "members" in density:
        # mesh densities are drawn cell by cell on canvas from integer grid
        # positions: no coordinate of any kind reaches the page
        labels = [f"{unit}{'（合算）' if ',' in str(members) else ''}: {_people_label(v, a)}"
                  for unit, members, v, a in zip(density["unit_id"], density["members"], counts, area,
                                                 strict=True)]
        m.add_child(_mesh_layer(density, classes, labels, DENSITY_PALETTE, title, show=show))
        return note
    group = folium.FeatureGroup(name=title, show=show)
    frame = density.assign(_c=classes, label=[_people_label(v, a) for v, a in zip(counts, area, strict=True)])
    for c in sorted(set(classes.tolist()) - {-1}):
        color = DENSITY_PALETTE[c]
        FeatureLayer(features_json(frame[frame["_c"] == c], ["label"]), tooltip="label",
                     style={"color": "#ffffff", "weight": 0.3, "fillColor": color,
                            "fillOpacity": 0.7}).add_to(group)
    group.add_to(m)
    return note


def _people_label(count: float, area_km2: float) -> str:
    """``32 人（0.8 人/km²、40 km²・概数）``: a unit's count, its density and, when it is wide,
    that figures computed from it are approximate."""
    per = f"{count / area_km2:.3g} 人/km²" if area_km2 > 0 else ""
    wide = f"、{area_km2:.0f} km²・概数" if area_km2 > APPROX_KM2 else ""
    return f"{int(count)} 人（{per}{wide}）" if per else f"{int(count)} 人"


COVERAGE_PALETTE = ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027", "#7f0000"]


def coverage_classes(distance: np.ndarray, max_distance: float) -> tuple[np.ndarray, list[str]]:
    """Colour class of each unit's distance: four bands up to the threshold, beyond, unreachable."""
    bounds = [max_distance * f for f in (0.25, 0.5, 0.75, 1.0)]
    d = np.asarray(distance, float)
    cls = np.searchsorted(np.asarray(bounds), d, side="left")
    cls = np.where(np.isfinite(d), np.minimum(cls, 4), 5)
    labels = [f"〜{int(bounds[0])} m", f"〜{int(bounds[1])} m", f"〜{int(bounds[2])} m",
              f"〜{int(bounds[3])} m（徒歩圏内）", f"{int(bounds[3])} m 超（空白）", "到達できない"]
    return cls, labels


def _unit_label(unit: object, distance: float, access: float) -> str:
    """``unit: 620 m（道路まで 35 m）``; unreachable units say how far the road is."""
    if pd.isna(distance):
        far = "" if pd.isna(access) else f"（道路まで {access:.0f} m）"
        return f"{unit}: 到達不可{far}"
    walk = "" if pd.isna(access) else f"（うち道路まで {access:.0f} m）"
    return f"{unit}: {distance:.0f} m{walk}"


def add_coverage(
    m: folium.Map,
    units: gpd.GeoDataFrame,
    density: gpd.GeoDataFrame,
    gaps: gpd.GeoDataFrame,
    *,
    max_distance: float,
) -> None:
    """Draw coverage on a map: units coloured by network distance, gap outlines numbered."""
    cls, labels = coverage_classes(units["distance_m"].to_numpy(float), max_distance)
    labels_u = [_unit_label(u, d, a) for u, d, a in zip(
        units["unit_id"], units["distance_m"],
        units["access_m"] if "access_m" in units else [np.nan] * len(units), strict=True)]
    add_unit_classes(m, density, cls, labels_u, labels, gaps, layer="到達距離", title="居場所までの道のり")


def add_unit_classes(m: folium.Map, density: gpd.GeoDataFrame, cls: np.ndarray, unit_labels: Sequence[str],
                     labels: Sequence[str], gaps: gpd.GeoDataFrame, *, layer: str, title: str) -> None:
    """Published units coloured by class (:data:`COVERAGE_PALETTE`, ``labels`` in the
    legend, ``unit_labels`` as tooltips: escaped), gap outlines numbered, a layer control."""
    geography = str(density["geography"].iloc[0]) if len(density) else ""
    if geography.startswith("mesh") and "members" in density:
        m.add_child(_mesh_layer(density, cls, unit_labels, COVERAGE_PALETTE, layer))
    else:
        group = folium.FeatureGroup(name=layer)
        frame = density.assign(_c=cls, label=list(unit_labels))
        for c in sorted(set(cls.tolist())):
            FeatureLayer(features_json(frame[frame["_c"] == c], ["label"]), tooltip="label",
                         style={"color": "#ffffff", "weight": 0.3,
                                "fillColor": COVERAGE_PALETTE[c], "fillOpacity": 0.7}).add_to(group)
        group.add_to(m)
    if len(gaps):
        g = gaps.assign(label=[f"空白 {r}: {people_text(u)} 人"
                               for r, u in zip(gaps["rank"], gaps["uncovered"], strict=True)])
        FeatureLayer(features_json(g, ["label", "gap_id"]), name="空白地帯", tooltip="label",
                     style={"color": "#000000", "weight": 2.5, "fill": False,
                            "dashArray": "4 3", "className": "tomoni-gap"}).add_to(m)
    entries = [("area", COVERAGE_PALETTE[i], text) for i, text in enumerate(labels)]
    entries.append(("dash", "#000000", "空白地帯（順位）"))
    folium.LayerControl(collapsed=True).add_to(m)
    add_legend(m, entries, title)


def arrowheads(lines: gpd.GeoDataFrame, *, at: float = 0.75, size: float = 0.12) -> gpd.GeoDataFrame:
    """A chevron on each straight line (EPSG:4326) at ``at`` of its length, pointing to its
    end; ``size`` is the wings' length as a share of the line's (longitude scaled by
    cos(latitude) so the chevron keeps its shape)."""
    import shapely

    coords = [np.asarray(g.coords)[[0, -1]] for g in lines.geometry]
    heads = []
    for (x0, y0), (x1, y1) in coords:
        k = np.cos(np.radians((y0 + y1) / 2)) or 1.0
        dx, dy = (x1 - x0) * k, y1 - y0
        px, py = x0 + at * (x1 - x0), y0 + at * (y1 - y0)
        wings = []
        for turn in (np.radians(155), np.radians(-155)):
            wx = (dx * np.cos(turn) - dy * np.sin(turn)) * size
            wy = (dx * np.sin(turn) + dy * np.cos(turn)) * size
            wings.append((px + wx / k, py + wy))
        heads.append(shapely.LineString([wings[0], (px, py), wings[1]]))
    return gpd.GeoDataFrame(pd.DataFrame(lines.drop(columns="geometry")), geometry=heads, crs=STORAGE_CRS)


def add_lines(
    m: folium.Map,
    lines: gpd.GeoDataFrame,
    *,
    name: str,
    color: str,
    weight: float | Sequence[float] = 3.0,
    dash: str | None = None,
    tooltip: str | None = None,
    class_name: str = "",
    arrows: bool = False,
) -> None:
    """Draw lines (routes, closed roads, cross-border flows) as one toggleable layer.

    ``weight`` may be one value or one per line (flows scaled by people);
    ``tooltip`` names a text column shown on hover; ``arrows`` adds an arrowhead at
    three quarters of each line, pointing to its end (the direction of a flow).
    """
    if lines is None or not len(lines):
        return
    frame = lines.to_crs(STORAGE_CRS)
    weights = np.broadcast_to(np.asarray(weight, float), (len(frame),))
    if arrows:
        heads = arrowheads(frame)
        frame = gpd.GeoDataFrame(pd.concat([frame, heads], ignore_index=True), crs=STORAGE_CRS)
        weights = np.r_[weights, weights]
    group = folium.FeatureGroup(name=_text(name))
    for w in sorted(set(weights.tolist())):
        part = frame[weights == w]
        FeatureLayer(features_json(part, [tooltip] if tooltip else []), tooltip=tooltip,
                     style={"color": color, "weight": w, "opacity": 0.9, "dashArray": dash,
                            "className": class_name}).add_to(group)
    group.add_to(m)


def add_marks(m: folium.Map, points: gpd.GeoDataFrame, *, name: str, color: str, label: str,
              radius: float | Sequence[float] = 8.0) -> None:
    """Circle marks with a tooltip (start/goal of a route, loaded shelters sized by demand)."""
    if points is None or not len(points):
        return
    frame = points.to_crs(STORAGE_CRS)
    radii = np.broadcast_to(np.asarray(radius, float), (len(frame),))
    group = folium.FeatureGroup(name=_text(name))
    for (_, row), r in zip(frame.iterrows(), radii, strict=True):
        folium.CircleMarker([row.geometry.y, row.geometry.x], radius=float(r), color="#222",
                            weight=1, fill=True, fill_color=color, fill_opacity=0.85,
                            tooltip=_text(row[label])).add_to(group)
    group.add_to(m)


def add_legend(m: folium.Map, entries: Sequence[tuple[str, str, str]], title: str) -> None:
    """A legend box (entries: ("line"|"point"|"area", colour, label)) at the top left."""
    m.add_child(_Html(_legend_html(entries, title).replace("bottom:26px;right:10px",
                                                           "top:60px;left:10px")))
