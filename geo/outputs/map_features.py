"""Vector features on the interactive map, sent as one JSON text and drawn in the browser.

folium's ``GeoJson`` costs a page rerun time in proportion to its data, three times
over: its style function is called (and JSON-dumped) once per feature, branca
compiles every rendered script as a Jinja template (0.5 s for the 3 MB of Akita's
7,345 町字 areas), and the data are serialised again for each render.  On all of
Akita that was about 2 s of server time on every rerun of the 地図 page.

:class:`FeatureLayer` instead takes the features as a JSON text made once per
content (:func:`features_json`, a memo keyed by a hash of the geometries and
properties), one style for the whole layer, and builds tooltips and popups in the
browser from properties that are already HTML-escaped; :class:`RawRender` places
rendered scripts in the page without compiling them.
"""

from __future__ import annotations

import hashlib
import html
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from folium.elements import ElementAddToElement
from folium.map import Layer
from jinja2 import Template

from geo.outputs.labels import protected_text
from layers.crs import STORAGE_CRS

__all__ = ["FeatureLayer", "RawRender", "display_geometry", "escape_text", "features_json"]

DISPLAY_DECIMALS = 6
"""Degrees kept on screen: 6 decimals ≈ 0.1 m (the page weighs a third of full precision)."""
DISPLAY_TOLERANCE = 2e-5
"""Degrees (≈ 2 m) by which area and line outlines are simplified for the screen only."""
MEMO_ENTRIES = 48
"""Feature texts kept (a region's layers for a few sessions; Akita's largest is ≈ 2 MB)."""


def escape_text(value: object) -> str:
    """Text as it may enter a page: every ``<``, ``>``, ``&`` and quote escaped.

    Leaflet puts tooltips, popups, layer names and legends into the page as HTML, so a
    place named ``<img src=x onerror=…>`` would run script; escaped, it is shown as the
    text it is.
    """
    return html.escape(str(value), quote=True)


def display_geometry(geoms: np.ndarray) -> np.ndarray:
    """Geometries for drawing on screen: outlines simplified by ≈ 2 m (topology kept) and
    coordinates rounded to :data:`DISPLAY_DECIMALS` — a lighter page, the same picture."""
    geoms = np.asarray(geoms, dtype=object)
    lines = shapely.get_type_id(geoms) >= 1  # not points
    if lines.any():
        geoms = geoms.copy()
        geoms[lines] = shapely.simplify(geoms[lines], DISPLAY_TOLERANCE, preserve_topology=True)
    return shapely.transform(geoms, lambda xy: np.round(xy, DISPLAY_DECIMALS))


_MEMO: OrderedDict[bytes, str] = OrderedDict()
_MEMO_LOCK = threading.Lock()


def _content_key(gdf: gpd.GeoDataFrame, columns: Sequence[str]) -> bytes:
    """A digest of what :func:`features_json` reads: CRS, geometries, the chosen columns."""
    h = hashlib.blake2b(digest_size=20)
    props = gdf[list(columns)]
    h.update(json.dumps([list(columns), str(gdf.crs), [str(t) for t in props.dtypes]]).encode())
    wkb = shapely.to_wkb(gdf.geometry.to_numpy())
    h.update(b"\0".join(w if w is not None else b"-" for w in wkb))
    if len(columns):
        h.update(np.ascontiguousarray(props.isna().to_numpy()).tobytes())
        text = props.astype(str)
        h.update(pd.util.hash_pandas_object(text, index=False).to_numpy().tobytes())
    return h.digest()


def features_json(gdf: gpd.GeoDataFrame, columns: Sequence[str]) -> str:
    """The features of ``gdf`` as GeoJSON text for the screen (EPSG:4326, outlines from
    :func:`display_geometry`) with the given property columns (those present); every
    text property is escaped (:func:`escape_text`) because tooltips and popups show
    properties as HTML.  Made once per content: every session and rerun drawing the same
    layer reuses the text."""
    keep = [c for c in dict.fromkeys(columns) if c in gdf.columns]
    key = _content_key(gdf, keep)
    with _MEMO_LOCK:
        hit = _MEMO.get(key)
        if hit is not None:
            _MEMO.move_to_end(key)
            return hit
    frame = gdf[[*keep, gdf.geometry.name]].to_crs(STORAGE_CRS)
    data = frame.drop(columns=frame.geometry.name).apply(protected_text).astype(object)
    data = data.where(pd.notna(data), None)
    data = data.map(lambda v: escape_text(v) if isinstance(v, str) else v)
    out = gpd.GeoDataFrame(data, geometry=display_geometry(frame.geometry.to_numpy()),
                           crs=STORAGE_CRS)
    text = out.to_json(drop_id=True, ensure_ascii=False, separators=(",", ":"))
    with _MEMO_LOCK:
        _MEMO[key] = text
        while len(_MEMO) > MEMO_ENTRIES:
            _MEMO.popitem(last=False)
    return text


class _Text(Element):
    """Rendered text placed in the page as it is (an ``Element`` given a template string
    would compile it as Jinja: tokenising megabytes of JSON for nothing)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class RawRender(MacroElement):
    """A ``MacroElement`` whose rendered header, html and script enter the page as text."""

    def render(self, **kwargs: Any) -> str:
        if isinstance(self, Layer) and self.show and self._parent is not None:
            # what folium's Layer.render adds
            self.add_child(ElementAddToElement(element_name=self.get_name(),
                                               element_parent_name=self._parent.get_name()),
                           name=self.get_name() + "_add")
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError("an element can only be rendered inside a folium Figure")
        module = self._template.module
        for part in ("header", "html", "script"):
            macro = module.__dict__.get(part)
            if macro is not None:
                getattr(figure, part).add_child(_Text(macro(self, kwargs)), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)
        return ""


class FeatureLayer(RawRender, Layer):
    """Points, lines or areas from :func:`features_json`, one style for the whole layer.

    Parameters
    ----------
    data
        GeoJSON text from :func:`features_json` (properties already escaped).
    name
        Name in the layer switcher (escaped here); ``None`` for a part of a group.
    style
        Leaflet path options of every line and area (``className`` included).
    marker
        Points: ``L.circleMarker`` options (radius, colours, ``className``).
    tooltip
        Property shown on hover.
    popup
        (property, label) rows of the popup shown on click.
    weight_field
        Property holding each line's own width (roads by class).
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function(){
  var style = {{ this.style_json }}, marker = {{ this.marker_json }}, tip = {{ this.tip_json }},
      pop = {{ this.popup_json }}, wf = {{ this.weight_json }};
  function txt(v){ return (v === null || v === undefined) ? '' : String(v); }
  return L.geoJson(null, {
    style: style === null ? undefined : function(f){
      var w = wf ? f.properties[wf] : null;
      return (w === null || w === undefined) ? style : Object.assign({}, style, {weight: w}); },
    pointToLayer: function(f, ll){ return L.circleMarker(ll, marker || {}); },
    onEachFeature: function(f, l){
      var p = f.properties || {};
      if (tip && p[tip] !== null && p[tip] !== undefined) l.bindTooltip(txt(p[tip]), {sticky: true});
      if (pop.length) l.bindPopup(function(){
        var rows = '';
        for (var i = 0; i < pop.length; i++)
          rows += '<tr><th>' + pop[i][1] + '</th><td>' + txt(p[pop[i][0]]) + '</td></tr>';
        return '<table class="tomoni-popup">' + rows + '</table>';
      }, {autoPanPaddingTopLeft: [10, 48]});  // clear of the 架空 badge at the top
    }
  }).addData({{ this.data }});
})();
{% endmacro %}"""
    )

    def __init__(
        self,
        data: str,
        *,
        name: str | None = None,
        show: bool = True,
        style: dict[str, Any] | None = None,
        marker: dict[str, Any] | None = None,
        tooltip: str | None = None,
        popup: Sequence[tuple[str, str]] = (),
        weight_field: str | None = None,
    ) -> None:
        super().__init__(name=escape_text(name) if name is not None else None, overlay=True,
                         control=name is not None, show=show)
        self._name = "FeatureLayer"
        self.data = data

        def js(value: object) -> str:  # JSON inside a script: "<" can never close it
            return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")

        self.style_json = js(None if marker is not None else (style or {}))
        self.marker_json = js(marker)
        self.tip_json = js(tooltip)
        self.popup_json = js([[f, escape_text(a)] for f, a in popup])
        self.weight_json = js(weight_field)
