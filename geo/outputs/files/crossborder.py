"""The files of a 広域連携 (cross-border) analysis.
"""

from __future__ import annotations

from typing import Any

from geo.analyses.crossborder import CrossBorder
from geo.outputs.csv_safe import csv_text

__all__ = ["write_outputs"]


def write_outputs(result: CrossBorder, out: Any) -> list[Any]:
    """``crossborder.gpkg`` (flows, units), ``crossborder_pairs.csv``, ``partners.csv``,
    ``vc_matrix.csv`` (km; UTF-8 with BOM) and ``flows.geojson`` — all atomic."""
    from pathlib import Path

    from geo.outputs.layer_export import geojson_text, write_geopackage
    from layers.atomic import atomic_write_text

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    gpkg = out / "crossborder.gpkg"
    write_geopackage({"flows": result.flows, "crossborder_units": result.units}, gpkg)
    paths = [gpkg]
    for name, frame, index in (("crossborder_pairs.csv", result.pairs, False),
                               ("partners.csv", result.partners, False),
                               ("vc_matrix.csv", result.vc_matrix, True)):
        atomic_write_text(out / name, csv_text(frame, index=index), encoding="utf-8-sig")
        paths.append(out / name)
    atomic_write_text(out / "flows.geojson",
                      geojson_text(result.flows, properties=[c for c in result.flows.columns
                                                             if c != "geometry"]))
    paths.append(out / "flows.geojson")
    return paths
