"""The files of a shelter-load run.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from geo.analyses.shelter_load import ShelterLoad
from geo.engine.scenario import Scenario
from geo.outputs.csv_safe import csv_text
from layers.crs import STORAGE_CRS

__all__ = ["write_outputs"]


def write_outputs(result: ShelterLoad, scenario: Scenario, out: Any) -> list[Any]:
    """``shelters_{hazard}.gpkg`` (shelter_load, demand_units, closed_roads),
    ``shelter_load.csv``, ``demand_units.csv`` (unreachable first),
    ``overloaded.csv`` and ``closed_roads.geojson`` — CSV in UTF-8 with BOM, all atomic."""
    from pathlib import Path

    from geo.outputs.closed_roads import closed_roads_frame
    from geo.outputs.layer_export import geojson_text, write_geopackage
    from layers.atomic import atomic_write_text

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    units = result.units.to_crs(STORAGE_CRS)
    closed = closed_roads_frame(scenario)
    gpkg = out / f"shelters_{result.hazard}.gpkg"
    write_geopackage({"shelter_load": result.shelters, "demand_units": units,
                      "closed_roads": closed}, gpkg)
    paths = [gpkg]
    for name, frame in (("shelter_load.csv", result.shelters),
                        ("demand_units.csv", units),
                        ("overloaded.csv", result.shelters[result.shelters["overloaded"]])):
        atomic_write_text(out / name, csv_text(pd.DataFrame(frame.drop(columns="geometry"))),
                          encoding="utf-8-sig")
        paths.append(out / name)
    atomic_write_text(out / "closed_roads.geojson", geojson_text(closed, properties=["state", "length_m"]))
    paths.append(out / "closed_roads.geojson")
    return paths
