"""The files of a coverage run: per-unit GeoPackage, per-area CSV, gaps GeoJSON.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.analyses.coverage import CoverageResult
from geo.outputs.csv_safe import csv_text
from layers.atomic import atomic_write_text
from layers.crs import STORAGE_CRS

__all__ = ["write_outputs"]


GAP_PROPERTIES = ["gap_id", "rank", "uncovered", "units", "nearest_facility", "nearest_name",
                  "distance_m", "method", "approx"]


def write_outputs(result: CoverageResult, table: pd.DataFrame, gap: gpd.GeoDataFrame,
                  out: Path) -> None:
    """``coverage_units.gpkg``, ``coverage_by_area.csv`` (UTF-8 with BOM) and
    ``gaps.geojson`` in ``out``, each written atomically."""
    from geo.outputs.layer_export import geojson_text, write_geopackage

    out.mkdir(parents=True, exist_ok=True)
    units = result.units.drop(columns=["members"]).to_crs(STORAGE_CRS)
    write_geopackage({"coverage_units": units}, out / "coverage_units.gpkg")
    atomic_write_text(out / "coverage_by_area.csv", csv_text(table), encoding="utf-8-sig")
    atomic_write_text(out / "gaps.geojson", geojson_text(gap, properties=GAP_PROPERTIES))
