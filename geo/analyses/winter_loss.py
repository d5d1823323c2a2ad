"""Who is cut off in winter: coverage in summer against coverage in winter.

The same units, facilities and threshold are computed on the normal network and on the
winter network (:mod:`geo.engine.season`).  Winter only lengthens walks or closes roads, so a
unit covered in winter is covered in summer; the **loss** is what summer covers and
winter does not:

* per unit — its distance both ways and whether it loses coverage (the map layer);
* per 居場所 — the people it covers in summer, in winter, and those it loses (each unit
  counted at its summer nearest place);
* per area (自治会, 校区, 市町村) — people covered in both seasons and the loss.

Units are the published (anonymised) units: nothing here is finer than the density layer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analyses.coverage import CoverageOptions, CoverageResult, analyse_coverage, by_area
from geo.analyses.inputs import HOW_TO_ADD, demand_layer, region_areas
from geo.engine.network_cache import region_network
from geo.engine.profiles import DEFAULT_ACCESS, DEFAULT_MAX_DISTANCE
from geo.summary import Summary, optional
from layers.errors import ParameterError
from layers.layer_facts import label_of

if TYPE_CHECKING:
    from layers.region import RegionLike

__all__ = ["WinterLoss", "WinterLossSummary", "winter_loss"]


UNIT_COLUMNS = ["unit_id", "count", "summer_m", "winter_m", "covered_summer", "covered_winter",
                "lost", "summer_place", "geometry"]


@dataclass(frozen=True)
class WinterLossSummary(Summary):
    """The people covered in each season and the loss (``max_minutes`` or metres)."""

    season: str
    profile: str
    max_distance: float
    total: int | str
    covered_summer: int | str
    covered_winter: int | str
    lost: int | str
    """People (protected counts: an integer or 「k未満」)."""
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
    totals: dict[str, int | str] = field(default_factory=dict)
    """``total``, ``covered_summer``, ``covered_winter``, ``lost``: people, through the gate."""

    def summary(self) -> WinterLossSummary:
        u = self.units
        t = self.totals
        return WinterLossSummary(
            season=self.season, profile=self.profile, max_distance=self.max_distance,
            total=t.get("total", 0), covered_summer=t.get("covered_summer", 0),
            covered_winter=t.get("covered_winter", 0), lost=t.get("lost", 0),
            units_lost=int(u["lost"].sum()), closed_segments=self.closed_segments,
            max_minutes=self.max_minutes)


def winter_loss(summer: CoverageResult, winter: CoverageResult, *, summer_areas: pd.DataFrame,
                winter_areas: pd.DataFrame, season: str, profile: str, max_minutes: float | None,
                closed_segments: int, closures: gpd.GeoDataFrame,
                areas: Mapping[str, gpd.GeoDataFrame]) -> WinterLoss:
    """The loss between two coverage runs of the same people (``summer_areas`` and
    ``winter_areas`` are their :func:`geo.analyses.coverage.by_area` tables).  A person is
    lost when summer covers them and winter does not; every count passes the gate."""
    s, w = summer.units, winter.units
    ps, pw = summer.people, winter.people
    if not (s["unit_id"].to_numpy() == w["unit_id"].to_numpy()).all() or ps is None or pw is None \
            or ps.demand is not pw.demand:
        raise ValueError("the two coverage runs must be of the same people and units, in the same order")
    people = ps.demand
    lost_p = ps.covered & ~pw.covered
    n = len(s)
    lost_n = people.count(ps.unit, n, lost_p)
    units = gpd.GeoDataFrame({
        "unit_id": s["unit_id"].to_numpy(), "count": s["count"].array, "lost_n": lost_n,
        "summer_m": s["distance_m"].to_numpy(float), "winter_m": w["distance_m"].to_numpy(float),
        "covered_summer": s["covered"].to_numpy(bool), "covered_winter": w["covered"].to_numpy(bool),
        "lost": lost_n.fillna(0).to_numpy(np.int64) > 0,  # at least k people lose it (others hidden)
        "summer_place": s["facility_id"].astype(str).to_numpy()},
        geometry=s.geometry.to_numpy(), crs=s.crs)
    by_place = _by_place(summer, ps.covered, lost_p)
    key = ["area_layer", "area_id", "area_name"]
    lost_areas = by_area(dataclasses.replace(summer, people=dataclasses.replace(ps, covered=lost_p)),
                         areas)
    both = summer_areas[[*key, "total", "covered"]].merge(
        winter_areas[[*key, "covered"]], on=key, how="left", suffixes=("_summer", "_winter"))
    both = both.merge(lost_areas[[*key, "covered"]].rename(columns={"covered": "lost"}), on=key, how="left")
    both = both.sort_values(["area_layer", "lost", "area_id"], ascending=[True, False, True],
                            ignore_index=True, na_position="last")
    totals = {"total": people.total(), "covered_summer": people.total(ps.covered),
              "covered_winter": people.total(pw.covered), "lost": people.total(lost_p)}
    return WinterLoss(units=units, by_place=by_place, by_area=both, season=season, profile=profile,
                      max_distance=summer.max_distance, max_minutes=max_minutes,
                      closed_segments=closed_segments, closures=closures, totals=totals)


def _by_place(summer: CoverageResult, covered: np.ndarray, lost: np.ndarray) -> pd.DataFrame:
    """Per summer-nearest 居場所: the people it covers in summer, of them those still covered in
    winter, and those lost (each a gated count)."""
    reach = summer.people
    cols = ["place_id", "name", "people_summer", "people_winter", "people_lost"]
    if reach is None or not len(summer.units):
        return pd.DataFrame(columns=cols)
    fac = reach.facility
    n = int(fac.max()) + 1 if len(fac) and fac.max() >= 0 else 0
    if not n:
        return pd.DataFrame(columns=cols)
    people = reach.demand
    out = pd.DataFrame({"row": np.arange(n), "people_summer": people.count(fac, n, covered),
                        "people_winter": people.count(fac, n, covered & ~lost),
                        "people_lost": people.count(fac, n, lost)})
    out["place_id"] = _facility_ids(summer, n)
    names = np.full(n, "", dtype=object)
    if summer.facility_names is not None:
        names[: min(n, len(summer.facility_names))] = summer.facility_names[:n]
    out["name"] = names
    out = out[(out["place_id"] != "") & out["people_summer"].fillna(1).gt(0)]
    return out[cols].sort_values(["people_lost", "place_id"], ascending=[False, True], ignore_index=True,
                                 na_position="last")


def _facility_ids(result: CoverageResult, n: int) -> np.ndarray:
    """The id of facility row 0 … n-1 of a coverage run (as its units name them)."""
    ids = np.full(n, "", dtype=object)
    if result.facility_ids is not None:
        ids[: min(n, len(result.facility_ids))] = result.facility_ids[:n]
    return ids


@dataclass(frozen=True)
class WinterLossOptions:
    """Options of :func:`analyse_winter_loss`: the coverage options of both seasons
    (``season`` is winter; ``date`` picks the 冬期閉鎖 sections in force)."""

    facilities: str = "places"
    max_distance: float = DEFAULT_MAX_DISTANCE
    max_minutes: float | None = None
    profile: str = "walk"
    date: str | None = None
    access: str = DEFAULT_ACCESS
    demand: str = "register"
    """``register`` (the anonymised 要配慮者), or ``65+`` / ``75+`` of the projection — for a
    council without a register (:func:`demand_layer`)."""
    year: int | None = None


def analyse_winter_loss(region: RegionLike, options: WinterLossOptions | None = None) -> WinterLoss:
    """People covered in summer but not in winter: per unit, per 居場所, per area."""
    opt = options or WinterLossOptions()
    if region_network(region) is None:
        raise ParameterError("冬の比較には道路データが必要です。", parameter="roads",
                             fix=HOW_TO_ADD["roads"])
    common = CoverageOptions(facilities=opt.facilities, max_distance=opt.max_distance,
                             max_minutes=opt.max_minutes, profile=opt.profile, access=opt.access,
                             season="summer", demand=opt.demand, year=opt.year)
    summer = analyse_coverage(region, common)
    winter = analyse_coverage(region, dataclasses.replace(common, season="winter", date=opt.date))
    seasonal = winter.seasonal
    loss = winter_loss(summer.result, winter.result, summer_areas=summer.by_area,
                       winter_areas=winter.by_area, season=winter.season.label, profile=opt.profile,
                       max_minutes=opt.max_minutes,
                       closed_segments=int(seasonal.closed.sum()) if seasonal else 0,
                       closures=seasonal.closures if seasonal else gpd.GeoDataFrame(geometry=[]),
                       areas=region_areas(region))
    loss.notes.extend(winter.notes)
    loss.runs = {"summer": summer, "winter": winter}
    loss.shapes = demand_layer(region, year=opt.year, demand=opt.demand)
    loss.map_layers = {k: region.layers[k] for k in ("boundaries", opt.facilities) if k in region.layers}
    what = label_of(opt.facilities)
    loss.map_meta = {"crs": region.crs, "fictional": region.fictional,
                     "attribution": region.attribution(),
                     "title": f"{region.name}　{winter.season.label}に{what}へ届かなくなる人"}
    return loss
