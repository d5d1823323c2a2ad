"""校区の広域化: how far each 要配慮者 unit is from its school before and after a consolidation.

Each published unit belongs to the district (of each period) containing its
representative point; the distance is walked on the road network to that
district's school (学校緯度/学校経度 when the 校区 file has them, else the
district's representative point, labelled 推定).  Results per unit and per
自治会, and the list of areas pushed past a distance threshold (default
4,000 m, the 文部科学省 guide for elementary schools).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analyses.coverage import ESTIMATE_LABEL, demand_units
from geo.engine.access import distances_from_points, snap
from geo.engine.network import Network, nearest_facility
from geo.engine.network_cache import region_network
from geo.engine.profiles import DEFAULT_CIRCUITY, DEFAULT_MAX_DISTANCE
from geo.summary import Summary
from layers.crs import STORAGE_CRS
from layers.errors import ParameterError
from layers.school_districts import before_after

if TYPE_CHECKING:
    from layers.region import RegionLike

__all__ = ["DEFAULT_THRESHOLD", "ConsolidationResult", "ConsolidationSummary", "consolidation"]


DEFAULT_THRESHOLD = 4000.0


@dataclass
class ConsolidationResult:
    """Per-unit distances before/after, per-area table and pushed areas."""

    units: gpd.GeoDataFrame
    by_area: pd.DataFrame
    pushed: pd.DataFrame
    threshold: float
    method: str
    notes: list[str] = field(default_factory=list)

    def summary(self) -> ConsolidationSummary:
        u = self.units
        w = u["count"].to_numpy(float)
        change = u["change_m"].to_numpy(float)
        ok = np.isfinite(change)
        return ConsolidationSummary(
            units=len(u), people=int(w.sum()),
            mean_change_m=round(float(np.average(change[ok], weights=w[ok])), 1) if ok.any() else None,
            people_past_threshold_after=int(w[u["past_after"].to_numpy()].sum()),
            people_pushed_past_threshold=int(w[u["pushed"].to_numpy()].sum()),
            areas_pushed=len(self.pushed), threshold_m=self.threshold, method=self.method)


@dataclass(frozen=True)
class ConsolidationSummary(Summary):
    """Before → after: ``mean_change_m`` > 0 means the way to school got longer."""

    units: int
    people: int
    mean_change_m: float | None
    people_past_threshold_after: int
    people_pushed_past_threshold: int
    areas_pushed: int
    threshold_m: float
    method: str


def _schools(districts: gpd.GeoDataFrame, crs: str) -> tuple[np.ndarray, np.ndarray, bool]:
    metric = districts.to_crs(crs)
    rep = metric.geometry.representative_point()
    x, y = rep.x.to_numpy(), rep.y.to_numpy()
    known = districts["school_lon"].notna().to_numpy() & districts["school_lat"].notna().to_numpy()
    if known.any():
        pts = gpd.GeoSeries(gpd.points_from_xy(districts["school_lon"], districts["school_lat"]),
                            crs=STORAGE_CRS).to_crs(crs)
        x = np.where(known, pts.x.to_numpy(), x)
        y = np.where(known, pts.y.to_numpy(), y)
    return x, y, bool(known.all())


def _assign(units: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> np.ndarray:
    """Index (into ``districts``) of the district containing each unit, -1 when none near."""
    polys = districts.to_crs(units.crs).reset_index(drop=True)
    joined = gpd.sjoin_nearest(units[["geometry"]], polys[["geometry"]], how="left",
                               max_distance=DEFAULT_MAX_DISTANCE)
    joined = joined[~joined.index.duplicated(keep="first")]
    return joined["index_right"].fillna(-1).astype(int).to_numpy()


def consolidation(
    density: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    *,
    before: str,
    after: str,
    crs: str,
    network: Network | None = None,
    neighbourhoods: gpd.GeoDataFrame | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> ConsolidationResult:
    """Distance from each unit to its school before and after a 校区 consolidation."""
    periods = list(dict.fromkeys(districts["period"].astype(str)))
    for p in (before, after):
        if p not in periods:
            raise ParameterError(
                f"校区レイヤーに時点「{p}」がありません。", layer="school_districts",
                parameter="before / after",
                fix=f"次のいずれかを指定してください: {', '.join(periods)}（地域設定の periods）",
            )
    units = demand_units(density, crs=crs)
    ux, uy = units.geometry.x.to_numpy(), units.geometry.y.to_numpy()
    notes: list[str] = []
    out: dict[str, Any] = {}
    exact = True
    for tag, period in (("before", before), ("after", after)):
        d = districts[districts["period"].astype(str) == period].reset_index(drop=True)
        sx, sy, known = _schools(d, crs)
        exact &= known
        which = _assign(units, d)
        dist = np.full(len(units), np.inf)
        for k in np.unique(which[which >= 0]):
            sel = which == k
            if network is not None:
                fac = snap(network, sx[k:k + 1], sy[k:k + 1])
                node_d, node_f = nearest_facility(network, fac)
                dd, _, _ = distances_from_points(network, ux[sel], uy[sel], node_d, node_f, fac)
            else:
                dd = np.hypot(ux[sel] - sx[k], uy[sel] - sy[k]) * DEFAULT_CIRCUITY
            dist[sel] = dd
        out[f"district_{tag}"] = np.where(which >= 0, d["name"].to_numpy()[np.maximum(which, 0)], "")
        out[f"distance_{tag}_m"] = np.where(np.isfinite(dist), np.round(dist, 1), np.nan)
    if not exact:
        notes.append("学校の位置（学校緯度・学校経度）がない校区は、校区の代表点までの距離（推定）です。")
    method = "network" if network is not None else ESTIMATE_LABEL
    if network is None:
        notes.append(f"道路データがないため {ESTIMATE_LABEL} で計算しました。")
    res = units.assign(**out)
    res["change_m"] = res["distance_after_m"] - res["distance_before_m"]
    res["past_after"] = (res["distance_after_m"] > threshold).to_numpy()
    res["pushed"] = ((res["distance_before_m"] <= threshold)
                     & (res["distance_after_m"] > threshold)).to_numpy()
    res["method"] = method
    table = pd.DataFrame()
    pushed = pd.DataFrame(columns=["area_id", "area_name", "people_pushed", "max_after_m"])
    if neighbourhoods is not None and len(neighbourhoods):
        polys = neighbourhoods.to_crs(crs)
        j = gpd.sjoin_nearest(res[["count", "change_m", "distance_after_m", "pushed", "geometry"]],
                              polys[["area_id", "name", "geometry"]], how="left", max_distance=1000)
        j = j[~j.index.duplicated(keep="first")].dropna(subset=["area_id"])
        j["w_change"] = j["change_m"] * j["count"]
        j["n_pushed"] = np.where(j["pushed"], j["count"], 0)
        g = j.groupby(["area_id", "name"]).agg(
            people=("count", "sum"), w_change=("w_change", "sum"),
            max_after_m=("distance_after_m", "max"), people_pushed=("n_pushed", "sum")).reset_index()
        g["mean_change_m"] = (g["w_change"] / g["people"]).round(1)
        table = g.rename(columns={"name": "area_name"})[
            ["area_id", "area_name", "people", "mean_change_m", "max_after_m", "people_pushed"]]
        pushed = table[table["people_pushed"] > 0][["area_id", "area_name", "people_pushed",
                                                    "max_after_m"]].sort_values(
            "people_pushed", ascending=False).reset_index(drop=True)
    return ConsolidationResult(units=res, by_area=table, pushed=pushed, threshold=float(threshold),
                               method=method, notes=notes)


@dataclass(frozen=True)
class ConsolidationOptions:
    """Options of :func:`analyse_consolidation`; periods default to the layer's
    before/after (:func:`layers.school_districts.before_after`)."""

    before: str | None = None
    after: str | None = None
    threshold: float = DEFAULT_THRESHOLD


def analyse_consolidation(region: RegionLike, options: ConsolidationOptions | None = None
                          ) -> ConsolidationResult:
    """The way to school before and after a consolidation, per 要配慮者 unit and per 自治会."""
    opt = options or ConsolidationOptions()
    districts = region.layer("school_districts")
    default_before, default_after = before_after(districts)
    return consolidation(region.layer("vulnerable"), districts, before=opt.before or default_before,
                         after=opt.after or default_after, crs=region.crs,
                         network=region_network(region),
                         neighbourhoods=region.layers.get("neighbourhoods"), threshold=opt.threshold)
