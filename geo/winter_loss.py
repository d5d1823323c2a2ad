"""Who is cut off in winter: coverage in summer against coverage in winter.

The same units, facilities and threshold are computed on the normal network and on the
winter network (:mod:`geo.season`).  Winter only lengthens walks or closes roads, so a
unit covered in winter is covered in summer; the **loss** is what summer covers and
winter does not:

* per unit — its distance both ways and whether it loses coverage (the map layer);
* per 居場所 — the people it covers in summer, in winter, and those it loses (each unit
  counted at its summer nearest place);
* per area (自治会, 校区, 市町村) — people covered in both seasons and the loss.

Units are the published (anonymised) units: nothing here is finer than the density layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.coverage import CoverageResult
from geo.csv_safe import csv_text
from geo.summary import Summary, optional
from layers.atomic import atomic_write_text
from layers.crs import STORAGE_CRS

__all__ = ["WinterLoss", "WinterLossSummary", "winter_loss", "write_outputs"]

UNIT_COLUMNS = ["unit_id", "count", "summer_m", "winter_m", "covered_summer", "covered_winter",
                "lost", "summer_place", "geometry"]


@dataclass(frozen=True)
class WinterLossSummary(Summary):
    """The people covered in each season and the loss (``max_minutes`` or metres)."""

    season: str
    profile: str
    max_distance: float
    total: int
    covered_summer: int
    covered_winter: int
    lost: int
    units_lost: int
    closed_segments: int
    max_minutes: float | None = optional()


@dataclass
class WinterLoss:
    """Per unit, per 居場所 and per area tables of the winter loss."""

    units: gpd.GeoDataFrame
    by_place: pd.DataFrame
    by_area: pd.DataFrame
    season: str
    profile: str
    max_distance: float
    max_minutes: float | None
    closed_segments: int
    closures: gpd.GeoDataFrame
    notes: list[str] = field(default_factory=list)
    shapes: gpd.GeoDataFrame | None = None
    """The published units' polygons, row for row with ``units`` (for the map)."""
    map_layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    """Layers drawn under the loss (boundaries, places)."""
    map_meta: dict[str, Any] = field(default_factory=dict)
    """``crs``, ``title``, ``fictional``, ``attribution`` of the map."""
    runs: dict[str, Any] = field(default_factory=dict)
    """The two coverage runs compared (``summer``, ``winter``): an outlook of the same
    demand reuses them for the projection year nearest today."""

    def summary(self) -> WinterLossSummary:
        u = self.units
        count = u["count"].to_numpy(np.int64)
        return WinterLossSummary(
            season=self.season, profile=self.profile, max_distance=self.max_distance,
            total=int(count.sum()), covered_summer=int(count[u["covered_summer"].to_numpy(bool)].sum()),
            covered_winter=int(count[u["covered_winter"].to_numpy(bool)].sum()),
            lost=int(count[u["lost"].to_numpy(bool)].sum()), units_lost=int(u["lost"].sum()),
            closed_segments=self.closed_segments, max_minutes=self.max_minutes)


def winter_loss(summer: CoverageResult, winter: CoverageResult, *, summer_areas: pd.DataFrame,
                winter_areas: pd.DataFrame, season: str, profile: str, max_minutes: float | None,
                closed_segments: int, closures: gpd.GeoDataFrame) -> WinterLoss:
    """The loss between two coverage runs of the same units (``summer_areas`` and
    ``winter_areas`` are their :func:`geo.coverage.by_area` tables)."""
    s, w = summer.units, winter.units
    if not (s["unit_id"].to_numpy() == w["unit_id"].to_numpy()).all():
        raise ValueError("the two coverage runs must be of the same units, in the same order")
    cov_s, cov_w = s["covered"].to_numpy(bool), w["covered"].to_numpy(bool)
    lost = cov_s & ~cov_w
    units = gpd.GeoDataFrame({
        "unit_id": s["unit_id"].to_numpy(), "count": s["count"].to_numpy(np.int64),
        "summer_m": s["distance_m"].to_numpy(float), "winter_m": w["distance_m"].to_numpy(float),
        "covered_summer": cov_s, "covered_winter": cov_w, "lost": lost,
        "summer_place": s["facility_id"].astype(str).to_numpy()},
        geometry=s.geometry.to_numpy(), crs=s.crs)
    count = units["count"].to_numpy(np.int64)
    per = pd.DataFrame({"place_id": units["summer_place"], "name": s["facility_name"].astype(str).to_numpy(),
                        "summer": np.where(cov_s, count, 0), "lost": np.where(lost, count, 0)})
    per = per[per["place_id"] != ""]
    by_place = per.groupby(["place_id", "name"], sort=True).agg(
        people_summer=("summer", "sum"), people_lost=("lost", "sum")).reset_index()
    by_place["people_winter"] = by_place["people_summer"] - by_place["people_lost"]
    by_place = by_place[["place_id", "name", "people_summer", "people_winter", "people_lost"]] \
        .sort_values(["people_lost", "place_id"], ascending=[False, True], ignore_index=True)
    key = ["area_layer", "area_id", "area_name"]
    both = summer_areas[[*key, "total", "covered"]].merge(
        winter_areas[[*key, "covered"]], on=key, how="left", suffixes=("_summer", "_winter"))
    both["covered_winter"] = both["covered_winter"].fillna(0).astype(np.int64)
    both["lost"] = both["covered_summer"] - both["covered_winter"]
    both = both.sort_values(["area_layer", "lost", "area_id"], ascending=[True, False, True],
                            ignore_index=True)
    return WinterLoss(units=units, by_place=by_place, by_area=both, season=season, profile=profile,
                      max_distance=summer.max_distance, max_minutes=max_minutes,
                      closed_segments=closed_segments, closures=closures)


def write_outputs(loss: WinterLoss, out: Path) -> None:
    """``winter_loss_units.gpkg`` (every unit, with ``lost``), ``winter_loss_by_place.csv``,
    ``winter_loss_by_area.csv`` (UTF-8 with BOM) and ``winter_closures.geojson`` (the
    sections in force), each written atomically; the season is named in every file."""
    from geo.layer_export import geojson_text, write_geopackage

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
    from geo.printed_map import map_bytes, static_map

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
