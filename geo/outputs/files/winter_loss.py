"""The files and the map picture of a winter-loss run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from geo.analyses.winter_loss import WinterLoss
from geo.outputs.csv_safe import csv_text
from layers.atomic import atomic_write_text
from layers.crs import STORAGE_CRS

__all__ = ["write_outputs"]


def write_outputs(loss: WinterLoss, out: Path) -> None:
    """``winter_loss_units.gpkg`` (every unit, with ``lost``), ``winter_loss_by_place.csv``,
    ``winter_loss_by_area.csv`` (UTF-8 with BOM) and ``winter_closures.geojson`` (the
    sections in force), each written atomically; the season is named in every file."""
    from geo.outputs.layer_export import geojson_text, write_geopackage

    out.mkdir(parents=True, exist_ok=True)
    units = loss.units.to_crs(STORAGE_CRS).assign(season=loss.season)
    write_geopackage({"winter_loss_units": units}, out / "winter_loss_units.gpkg")
    atomic_write_text(out / "winter_loss_by_place.csv", csv_text(loss.by_place.assign(season=loss.season)),
                      encoding="utf-8-sig")
    atomic_write_text(out / "winter_loss_by_area.csv", csv_text(loss.by_area.assign(season=loss.season)),
                      encoding="utf-8-sig")
    atomic_write_text(out / "winter_closures.geojson",
                      geojson_text(loss.closures.to_crs(STORAGE_CRS),
                                   properties=["route", "section", "start", "end"]))
    if loss.shapes is not None and loss.map_meta:
        from layers.atomic import atomic_write_bytes

        atomic_write_bytes(out / "winter_loss_map.png", loss_map_png(loss))


LOSS_PALETTE = {"lost": "#d7301f", "both": "#1a9850", "never": "#d9d9d9"}

LOSS_LABELS = {"lost": "冬に届かなくなる", "both": "夏も冬も届く", "never": "夏も届かない"}


def loss_map_png(loss: WinterLoss) -> bytes:
    """The printable map of the loss: the units coloured lost / covered both / never,
    the 冬期閉鎖 sections in force, the places (A4 landscape PNG)."""
    from geo.outputs.printed_map import map_bytes, static_map

    u = loss.units
    state = np.where(u["lost"].to_numpy(bool), "lost",
                     np.where(u["covered_winter"].to_numpy(bool), "both", "never"))
    meta = loss.map_meta
    overlays: list[tuple[gpd.GeoDataFrame, dict[str, Any], str | None]] = []
    if len(loss.closures):
        overlays.append((loss.closures, {"color": "#3f007d", "linewidth": 2.0}, "冬期閉鎖の区間"))
    fig = static_map(loss.map_layers, crs=meta["crs"], title=meta["title"],
                     fictional=bool(meta.get("fictional")), attribution=meta.get("attribution", ()),
                     choropleth=(loss.shapes, [LOSS_PALETTE[s] for s in state],
                                 [(LOSS_PALETTE[k], LOSS_LABELS[k]) for k in LOSS_PALETTE]),
                     overlays=overlays, paper="A4-landscape")
    return map_bytes(fig, fmt="png", dpi=150)
