"""Writing layers as real GeoPackage / GeoParquet files, atomically."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from layers.atomic import atomic_path
from layers.errors import LayerError

__all__ = ["geopackage_bytes", "write_geopackage"]


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
    """Write every layer as a table of one GeoPackage (EPSG:4326), atomically."""
    frames = {k: v for k, v in layers.items() if v is not None and len(v)}
    if not frames:
        raise LayerError("書き出すレイヤーがありません。", file=out,
                         fix="データのページでレイヤーを読み込んでください。")
    out = Path(out)
    with atomic_path(out) as tmp:
        for key, gdf in frames.items():
            _clean(gdf).to_file(tmp, layer=key, driver="GPKG", engine="pyogrio")
    return out


def geopackage_bytes(layers: Mapping[str, gpd.GeoDataFrame]) -> bytes:
    """The GeoPackage of :func:`write_geopackage` as bytes (for downloads)."""
    with tempfile.TemporaryDirectory(prefix="tomoni-gpkg-") as tmp:
        path = write_geopackage(layers, Path(tmp) / "layers.gpkg")
        return path.read_bytes()
