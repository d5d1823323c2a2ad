"""The files of a 災害VC plan (with its route sheets).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd

from geo.analyses.vc_plan import VCPlan
from geo.outputs.csv_safe import csv_text
from layers.crs import STORAGE_CRS

__all__ = ["write_outputs"]


def write_outputs(result: VCPlan, out: Any) -> list[Any]:
    """``vc_plan_{hazard}.gpkg`` (vc_candidates, dispatch_units, dispatch_shelters, backup_routes),
    ``vc_candidates.csv``, ``vc_plan.csv``, ``dispatch_shelters.csv`` (UTF-8 with BOM) and,
    when a backup is proposed, ``backup_routes.geojson``/``.gpx`` — all atomic."""
    from pathlib import Path

    from geo.outputs.files.route import write_route_outputs
    from geo.outputs.layer_export import write_geopackage
    from geo.outputs.route_sheet import route_frames
    from layers.atomic import atomic_write_text

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    frames = route_frames(result.routes, crs=next((r.crs for r in result.routes.values()), STORAGE_CRS))
    routes = (gpd.GeoDataFrame(pd.concat([f.to_crs(STORAGE_CRS) for f in frames.values()],
                                         ignore_index=True), crs=STORAGE_CRS)
              if frames else gpd.GeoDataFrame({"route": []}, geometry=[], crs=STORAGE_CRS))
    gpkg = out / f"vc_plan_{result.hazard}.gpkg"
    write_geopackage({"vc_candidates": result.candidates, "dispatch_units": result.units,
                      "dispatch_shelters": result.shelters, "backup_routes": routes}, gpkg)
    paths = [gpkg]
    for name, frame in (("vc_candidates.csv", result.candidates), ("vc_plan.csv", result.plan),
                        ("dispatch_shelters.csv", result.shelters)):
        table = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
        atomic_write_text(out / name, csv_text(table), encoding="utf-8-sig")
        paths.append(out / name)
    if result.routes:
        paths += write_route_outputs(result.routes, out, stem="backup_routes")
    return paths
