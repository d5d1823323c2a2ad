"""Writing layers as real GeoPackage / GeoParquet files, atomically."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.outputs.csv_safe import csv_text
from layers.atomic import atomic_path, atomic_write_text
from layers.errors import LayerError

__all__ = ["geojson_text", "geopackage_bytes", "write_density", "write_geopackage"]


def _clean(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Make columns writable by GDAL (nullable ints/bools, plain strings)."""
    out = gdf.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        dtype = out[col].dtype
        if str(dtype) in ("Int64", "boolean"):
            continue
        if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
            continue
        out[col] = out[col].astype(object).where(out[col].notna(), None).astype(str).where(
            out[col].notna(), None)
    out.attrs = {}
    return out


def write_geopackage(layers: Mapping[str, gpd.GeoDataFrame], out: str | Path) -> Path:
    """Write every layer as a table of one GeoPackage (EPSG:4326), atomically.

    Empty layers are written as empty tables (an anonymised density where
    nothing could be published is still a valid, empty output).
    """
    frames = {k: v for k, v in layers.items() if v is not None}
    if not frames:
        raise LayerError("書き出すレイヤーがありません。", file=out,
                         fix="データのページでレイヤーを読み込んでください。")
    out = Path(out)
    with atomic_path(out) as tmp:
        for key, gdf in frames.items():
            frame = _clean(gdf)
            if frame.crs is None:
                frame = frame.set_crs("EPSG:4326")
            frame.to_file(tmp, layer=key, driver="GPKG", engine="pyogrio", use_arrow=bool(len(frame)),
                          geometry_type=None if len(frame) else "MultiPolygon")
    return out


def geopackage_bytes(layers: Mapping[str, gpd.GeoDataFrame]) -> bytes:
    """The GeoPackage of :func:`write_geopackage` as bytes (for downloads)."""
    with tempfile.TemporaryDirectory(prefix="tomoni-gpkg-") as tmp:
        path = write_geopackage(layers, Path(tmp) / "layers.gpkg")
        return path.read_bytes()


def _ring_text(coords: Any) -> str:
    # fixed 9 decimals: mesh corners never print as short numbers that could be
    # mistaken for (or collide with) a person's coordinate in a leak scan
    return "[" + ",".join(f"[{x:.9f},{y:.9f}]" for x, y in coords) + "]"


def _geometry_text(geom: Any) -> str:
    if geom.geom_type == "Polygon":
        rings = [geom.exterior, *geom.interiors]
        return '{"type":"Polygon","coordinates":[' + ",".join(
            _ring_text(r.coords) for r in rings) + "]}"
    if geom.geom_type == "MultiPolygon":
        polys = []
        for p in geom.geoms:
            rings = [p.exterior, *p.interiors]
            polys.append("[" + ",".join(_ring_text(r.coords) for r in rings) + "]")
        return '{"type":"MultiPolygon","coordinates":[' + ",".join(polys) + "]}"
    if geom.geom_type == "LineString":
        return '{"type":"LineString","coordinates":' + _ring_text(geom.coords) + "}"
    if geom.geom_type == "Point":
        return f'{{"type":"Point","coordinates":[{geom.x:.9f},{geom.y:.9f}]}}'
    raise ValueError(f"unsupported geometry {geom.geom_type}")  # pragma: no cover


def geojson_text(gdf: gpd.GeoDataFrame, *, properties: Sequence[str]) -> str:
    """A polygon, line or point layer as GeoJSON (EPSG:4326) with fixed-precision coordinates."""
    frame = gdf.to_crs("EPSG:4326")
    feats = []
    for row, geom in zip(frame[list(properties)].to_dict("records"), frame.geometry, strict=True):
        props = {k: (None if pd.isna(v) else (int(v) if isinstance(v, np.integer) else v))
                 for k, v in row.items()}
        feats.append('{"type":"Feature","properties":' + json.dumps(props, ensure_ascii=False)
                     + ',"geometry":' + _geometry_text(geom) + "}")
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(feats) + "\n]}\n"


DENSITY_COLUMNS = ["unit_id", "geography", "count", "n_units", "members", "proxy", "point_lon", "point_lat"]


def write_density(density: gpd.GeoDataFrame, out: str | Path) -> Path:
    """Write an anonymised density as .gpkg, .geojson or .csv (UTF-8 with BOM), atomically.

    Only the published columns are written; the CSV carries no coordinates.
    """
    out = Path(out)
    ext = out.suffix.lower()
    cols = [c for c in DENSITY_COLUMNS if c in density.columns]
    if ext == ".gpkg":
        return write_geopackage({"vulnerable_density": density[[*cols, "geometry"]]}, out)
    if ext in (".geojson", ".json"):
        atomic_write_text(out, geojson_text(density, properties=cols))
        return out
    if ext == ".csv":
        atomic_write_text(out, csv_text(pd.DataFrame(density[cols])), encoding="utf-8-sig")
        return out
    raise LayerError("出力形式が分かりません。", file=out, column="out",
                     fix="拡張子を .gpkg、.geojson、.csv のいずれかにしてください。")
