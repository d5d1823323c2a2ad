"""The files of a 校区 consolidation analysis.
"""

from __future__ import annotations

from pathlib import Path

from geo.analyses.consolidation import ConsolidationResult
from layers.crs import STORAGE_CRS

__all__ = ["write_outputs"]


def write_outputs(result: ConsolidationResult, out: Path) -> list[Path]:
    """Write the per-unit GeoPackage and the per-area and pushed-area CSVs (UTF-8 with BOM)."""
    from geo.outputs.csv_safe import csv_text
    from geo.outputs.layer_export import write_geopackage
    from layers.atomic import atomic_write_text

    out.mkdir(parents=True, exist_ok=True)
    units = result.units.drop(columns=["members"], errors="ignore").to_crs(STORAGE_CRS)
    paths = [out / "consolidation_units.gpkg", out / "consolidation_by_area.csv",
             out / "pushed_areas.csv"]
    write_geopackage({"consolidation_units": units}, paths[0])
    atomic_write_text(paths[1], csv_text(result.by_area), encoding="utf-8-sig")
    atomic_write_text(paths[2], csv_text(result.pushed), encoding="utf-8-sig")
    return paths
