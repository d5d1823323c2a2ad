"""校区の広域化: how far each 要配慮者 unit is from its school before and after a consolidation.

Each person (the register's, in memory; or a published density spread over its units,
:mod:`layers.demand`) belongs to the district (of each period) containing their home, and
every count of people passes the gate (:meth:`layers.demand.Demand.count`); a published
unit's own row, and every mean distance, is from the units' anchors (public points) weighted
by their protected counts.  The distance is walked on the road
network to that district's school (学校緯度/学校経度 when the 校区 file has them, else the
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

from geo.analyses.coverage import ESTIMATE_LABEL, demand_units, people_of
from geo.analyses.inputs import register_people
from geo.engine.access import distances_from_points, snap
from geo.engine.network import Network, nearest_facility
from geo.engine.network_cache import region_network
from geo.engine.profiles import DEFAULT_CIRCUITY, DEFAULT_MAX_DISTANCE
from geo.summary import Summary
from layers.crs import STORAGE_CRS
from layers.demand import Demand, PerPerson
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

    totals: dict[str, Any] = field(default_factory=dict)
    """The people's figures: protected counts and their mean change (see the summary)."""

    def summary(self) -> ConsolidationSummary:
        t = self.totals
        return ConsolidationSummary(
            units=len(self.units), people=t["people"], mean_change_m=t["mean_change_m"],
            people_past_threshold_after=t["past"], people_pushed_past_threshold=t["pushed"],
            areas_pushed=len(self.pushed), threshold_m=self.threshold, method=self.method)


@dataclass(frozen=True)
class ConsolidationSummary(Summary):
    """Before → after: ``mean_change_m`` > 0 means the way to school got longer."""

    units: int
    people: int | str
    mean_change_m: float | None
    people_past_threshold_after: int | str
    people_pushed_past_threshold: int | str
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


def _assign(x: np.ndarray, y: np.ndarray, polys: gpd.GeoDataFrame, crs: str) -> np.ndarray:
    """Index (into ``polys``) of the polygon containing each point, the nearest within
    :data:`DEFAULT_MAX_DISTANCE` otherwise, -1 when none is near."""
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=crs)
    joined = gpd.sjoin_nearest(pts, polys.to_crs(crs).reset_index(drop=True)[["geometry"]], how="left",
                               max_distance=DEFAULT_MAX_DISTANCE)
    joined = joined[~joined.index.duplicated(keep="first")]
    return joined["index_right"].fillna(-1).astype(int).to_numpy()


def _to_school(x: np.ndarray, y: np.ndarray, d: gpd.GeoDataFrame, schools: tuple[np.ndarray, np.ndarray],
               *, crs: str, network: Network | None) -> tuple[np.ndarray, np.ndarray]:
    """Each point's district (row of ``d``, −1 none) and metres to its school."""
    sx, sy = schools
    which = _assign(x, y, d, crs)
    dist = np.full(len(x), np.inf)
    for k in np.unique(which[which >= 0]):
        sel = which == k
        if network is not None:
            fac = snap(network, sx[k:k + 1], sy[k:k + 1])
            node_d, node_f = nearest_facility(network, fac)
            dd, _, _ = distances_from_points(network, x[sel], y[sel], node_d, node_f, fac)
        else:
            dd = np.hypot(x[sel] - sx[k], y[sel] - sy[k]) * DEFAULT_CIRCUITY
        dist[sel] = dd
    return which, dist


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
    demand: Demand | None = None,
) -> ConsolidationResult:
    """Distance from each person (``demand``: the register in memory; by default the
    density spread over its units) and each unit's anchor to the school before and after a
    校区 consolidation."""
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
    people = people_of(density, demand, crs)
    px, py = people.xy(crs)
    notes: list[str] = []
    out: dict[str, Any] = {}
    mine: dict[str, np.ndarray] = {}
    exact = True
    for tag, period in (("before", before), ("after", after)):
        d = districts[districts["period"].astype(str) == period].reset_index(drop=True)
        sx, sy, known = _schools(d, crs)
        exact &= known
        which, dist = _to_school(ux, uy, d, (sx, sy), crs=crs, network=network)
        mine[tag] = _to_school(px, py, d, (sx, sy), crs=crs, network=network)[1]
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
    walk = _People(people, mine["before"], mine["after"], threshold)
    table, pushed = _by_area(walk, res, neighbourhoods, crs=crs)
    return ConsolidationResult(units=res, by_area=table, pushed=pushed, threshold=float(threshold),
                               method=method, notes=notes, totals=walk.totals(res))


@dataclass(frozen=True, repr=False, eq=False)
class _People(PerPerson):
    """Each person's way to school before and after (in memory only)."""

    demand: Demand
    before: np.ndarray
    after: np.ndarray
    threshold: float

    @property
    def pushed(self) -> np.ndarray:
        return (self.before <= self.threshold) & (self.after > self.threshold)

    def totals(self, units: gpd.GeoDataFrame) -> dict[str, Any]:
        d = self.demand
        return {"people": d.total(), "past": d.total(self.after > self.threshold),
                "pushed": d.total(self.pushed), "mean_change_m": _mean_change(units)}


def _mean_change(units: pd.DataFrame) -> float | None:
    """The mean change over ``units``' anchors weighted by their protected counts: a mean over
    the people themselves would tell, between two releases, the change of one who left."""
    change = units["change_m"].to_numpy(float)
    w = pd.to_numeric(units["count"], errors="coerce").fillna(0).to_numpy(float)
    ok = np.isfinite(change) & (w > 0)
    return round(float(np.average(change[ok], weights=w[ok])), 1) if ok.any() else None


def _by_area(walk: _People, units: gpd.GeoDataFrame, neighbourhoods: gpd.GeoDataFrame | None, *, crs: str
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per 自治会: its people and those pushed past the threshold (protected counts), and from
    its units' anchors the mean change (:func:`_mean_change`) and the farthest way after."""
    pushed = pd.DataFrame(columns=["area_id", "area_name", "people_pushed", "max_after_m"])
    if neighbourhoods is None or not len(neighbourhoods):
        return pd.DataFrame(), pushed
    polys = neighbourhoods.reset_index(drop=True)
    n = len(polys)
    px, py = walk.demand.xy(crs)
    area = _assign(px, py, polys, crs)
    count = walk.demand.count(area, n)
    ua = _assign(units.geometry.x.to_numpy(), units.geometry.y.to_numpy(), polys, crs)
    far = pd.Series(units["distance_after_m"].to_numpy(float)).groupby(ua).max().reindex(range(n))
    means = [_mean_change(units[ua == i]) for i in range(n)]
    table = pd.DataFrame({"area_id": polys["area_id"].astype(str).to_numpy(),
                          "area_name": polys["name"].astype(str).to_numpy(), "people": count,
                          "mean_change_m": pd.array(means, dtype="Float64"),
                          "max_after_m": far.to_numpy(float),
                          "people_pushed": walk.demand.count(area, n, walk.pushed)})
    table = table[table["people"].fillna(1) > 0].reset_index(drop=True)
    some = table["people_pushed"].fillna(1) > 0  # 「k未満」: some people
    pushed = table[some.to_numpy(bool)][["area_id", "area_name", "people_pushed", "max_after_m"]]
    key = pushed["people_pushed"].astype("Float64").to_numpy(float, na_value=0.0)
    order = np.argsort(-key, kind="stable")
    return table, pushed.iloc[order].reset_index(drop=True)


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
                         neighbourhoods=region.layers.get("neighbourhoods"), threshold=opt.threshold,
                         demand=register_people(region))
