"""The files of a route: GeoJSON, GPX and the turn-by-turn steps table.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from geo.engine.routing import Route
from geo.outputs.csv_safe import csv_text
from geo.outputs.xml_safe import xml_text

__all__ = ["steps_table", "to_geojson", "to_gpx", "write_route_outputs"]


def to_geojson(routes: Mapping[str, Route], *, extra: Mapping[str, Mapping[str, Any]] | None = None
               ) -> str:
    """The found routes as a GeoJSON FeatureCollection of LineStrings (EPSG:4326)."""
    import json

    feats = []
    for key, r in routes.items():
        if not r.found:
            continue
        ll = r.lonlat()
        props = {"route": key, **r.summary(), **(extra or {}).get(key, {})}
        feats.append({"type": "Feature", "properties": props,
                      "geometry": {"type": "LineString",
                                   "coordinates": [[round(x, 7), round(y, 7)] for x, y in ll]}})
    return json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False, indent=1)


def to_gpx(routes: Mapping[str, Route], *, name: str = "tomoni-map") -> str:
    """The found routes as GPX 1.1 tracks (one per route), for handheld GPS and phone apps."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<gpx version="1.1" creator="tomoni-map" xmlns="http://www.topografix.com/GPX/1/1">',
             f"<metadata><name>{xml_text(name)}</name><time>{date.today().isoformat()}T00:00:00Z</time>"
             "</metadata>"]
    for key, r in routes.items():
        if not r.found:
            continue
        parts.append(f"<trk><name>{xml_text(key)}</name><desc>{r.length_m:.0f} m</desc><trkseg>")
        parts += [f'<trkpt lat="{lat:.7f}" lon="{lon:.7f}"/>' for lon, lat in r.lonlat()]
        parts.append("</trkseg></trk>")
    parts.append("</gpx>")
    return "\n".join(parts) + "\n"


def steps_table(routes: Mapping[str, Route]) -> pd.DataFrame:
    """The turn lists of several routes as one table (Japanese headers)."""
    rows = [{"ルート": key, **s} for key, r in routes.items() for s in r.steps]
    df = pd.DataFrame(rows, columns=["ルート", "no", "action", "road", "length_m", "cumulative_m"])
    return df.rename(columns={"no": "番号", "action": "動作", "road": "道路", "length_m": "距離_m",
                              "cumulative_m": "累計_m"})


def write_route_outputs(routes: Mapping[str, Route], out: Path, *, stem: str = "route") -> list[Path]:
    """``{stem}.geojson``, ``{stem}.gpx`` and ``{stem}_steps.csv`` (UTF-8 with BOM), atomically."""
    from layers.atomic import atomic_write_text

    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{stem}.geojson", out / f"{stem}.gpx", out / f"{stem}_steps.csv"]
    atomic_write_text(paths[0], to_geojson(routes))
    atomic_write_text(paths[1], to_gpx(routes))
    atomic_write_text(paths[2], csv_text(steps_table(routes)), encoding="utf-8-sig")
    return paths
