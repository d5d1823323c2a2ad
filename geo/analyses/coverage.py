"""小地域ネットワーク coverage: who can reach a 居場所 (or any facility) on foot.

For each published 要配慮者 unit (mesh cell or area of the anonymised density)
the network distance to the nearest facility of a chosen layer is computed; a
unit is covered within the threshold (default :data:`DEFAULT_MAX_DISTANCE` =
500 m for 居場所).  Without roads the distance is the straight line × a
circuity factor, labelled ``推定（直線距離×迂回率）``.

Units merged by the anonymiser are one published unit each (their people are
counted once, at the unit's representative point): no double counting.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from geo.analyses.inputs import demand_layer, region_areas, register_people
from geo.engine.access import distances_from_points, pairs_within, point_od, snap
from geo.engine.network import Network, nearest_facility
from geo.engine.network_cache import region_network
from geo.engine.profiles import (
    ACCESS_RULES,
    DEFAULT_ACCESS,
    DEFAULT_CIRCUITY,
    DEFAULT_JOIN_RADIUS,
    DEFAULT_MAX_ACCESS,
    DEFAULT_MAX_DISTANCE,
    SPEEDS_M_PER_MIN,
    threshold_metres,
)
from geo.engine.season import Season, SeasonNetwork, parse_season, region_season
from geo.summary import Summary, optional
from layers.anonymise import K_DEFAULT
from layers.crs import STORAGE_CRS, transform_xy
from layers.demand import APPROX_KM2, Demand, PerPerson, spread, unit_area_km2
from layers.errors import LayerError, ParameterError
from layers.layer_facts import LAYERS, id_column
from layers.school_districts import current_period

if TYPE_CHECKING:
    from layers.region import RegionLike

__all__ = [
    "ESTIMATE_LABEL",
    "CoverageResult",
    "area_of",
    "by_area",
    "circuity_of",
    "coverage",
    "gaps",
    "nearest_points",
    "pairs_near",
    "people_in_units",
    "people_of",
    "shapes_in",
    "travel_od",
]




ESTIMATE_LABEL = "推定（直線距離×迂回率）"

AREA_SNAP_M = 1000.0
"""A unit outside every area (a lake shore, a coast) is counted in the nearest area within this."""


@dataclass(frozen=True, repr=False, eq=False)
class PeopleReach(PerPerson):
    """Each person's distance to their nearest facility, in memory only (never written): what
    every count of a coverage run is made of, through :meth:`layers.demand.Demand.count`."""

    demand: Demand
    unit: np.ndarray
    """Each person's published unit (row of ``units``; −1 outside every unit)."""
    distance: np.ndarray
    facility: np.ndarray
    """Row of the nearest facility (−1 unreachable)."""
    covered: np.ndarray

    def __repr__(self) -> str:
        return f"PeopleReach(points={len(self.distance)})"


@dataclass
class CoverageResult:
    """Per-unit coverage and the parameters that produced it."""

    units: gpd.GeoDataFrame
    max_distance: float
    method: str
    facilities: str
    circuity: float | None = None
    notes: list[str] = field(default_factory=list)
    access: str = DEFAULT_ACCESS
    join_radius: float | None = None
    barriers: int = 0
    """How many barriers (rivers, railways …) the access walks respected."""
    people: PeopleReach | None = field(default=None, repr=False)
    """Each person's reach (in memory): the counts of tables come from it, through the gate."""
    facility_ids: np.ndarray | None = field(default=None, repr=False)
    """The id of each facility row (``people.facility`` indexes it)."""
    facility_names: np.ndarray | None = field(default=None, repr=False)
    """The name of each facility row."""

    def summary(self) -> CoverageSummary:
        total: int | str
        covered: int | str
        uncovered: int | str
        if self.people is not None:
            total = self.people.demand.total()
            covered = self.people.demand.total(self.people.covered)
            uncovered = self.people.demand.total(~self.people.covered)
        else:
            total = int(self.units["count"].sum())
            covered = int(self.units.loc[self.units["covered"], "count"].sum())
            uncovered = total - covered
        network = self.method == "network"
        rate = round(covered / total, 4) if isinstance(total, int) and isinstance(covered, int) \
            and total else 0.0
        return CoverageSummary(
            total=total, covered=covered, uncovered=uncovered, rate=rate,
            method=self.method, max_distance=self.max_distance, facilities=self.facilities,
            access=self.access if network else None,
            join_radius=self.join_radius if network else None,
            barriers=self.barriers if network else None)


@dataclass(frozen=True)
class CoverageSummary(Summary):
    """The figures of a coverage run (``rate`` is a share, 0–1).  People are protected counts
    (:meth:`layers.demand.Demand.total`): an integer, or 「k未満」."""

    total: int | str
    covered: int | str
    uncovered: int | str
    rate: float
    method: str
    max_distance: float
    facilities: str
    access: str | None = optional()
    join_radius: float | None = optional()
    barriers: int | None = optional()


def _mesh_centres(density: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Centres of the anchor cells of mesh units (NaN for other units)."""
    from layers.mesh import DLAT, DLON, MESH_SIZES, mesh_cells

    lon = np.full(len(density), np.nan)
    lat = np.full(len(density), np.nan)
    geo = density["geography"].astype(str) if "geography" in density else pd.Series("", density.index)
    ids = density["unit_id"].astype(str)
    ok = (geo.str.startswith("mesh") & ids.str.fullmatch(r"\d{8,10}")).to_numpy()
    if ok.any():
        level = MESH_SIZES.get(int(str(geo[ok].iloc[0])[4:]), 0)
        if level:
            row, col = mesh_cells(ids[ok].astype(np.int64).to_numpy(), level)
            lat[ok], lon[ok] = (row + 0.5) * DLAT[level], (col + 0.5) * DLON[level]
    return lon, lat


def demand_units(density: gpd.GeoDataFrame, *, crs: str) -> gpd.GeoDataFrame:
    """One demand point per published unit (metric CRS): its anchor — the cell or area
    holding at least k people (the centre of the mesh cell ``unit_id``, or
    ``point_lon``/``point_lat`` of an area unit) — else its shape's representative point."""
    if "count" not in density:
        raise LayerError("要配慮者レイヤーに count 列がありません。", layer="vulnerable",
                         column="count", fix="匿名化済みの密度レイヤーを指定してください。")
    shapes = density.geometry.to_numpy()
    key = shapes_key(shapes) + f"{density.crs}>{crs}".encode()
    x0, y0 = _remembered("points", key, lambda: _inside_points(density, crs))
    pts = shapely.points(x0, y0)
    lon, lat = _mesh_centres(density)
    if "point_lon" in density and "point_lat" in density:
        plon = pd.to_numeric(density["point_lon"], errors="coerce").to_numpy(float)
        plat = pd.to_numeric(density["point_lat"], errors="coerce").to_numpy(float)
        given = np.isfinite(plon) & np.isfinite(plat)
        lon, lat = np.where(given, plon, lon), np.where(given, plat, lat)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if ok.any():
        x, y = transform_xy(lon[ok], lat[ok], STORAGE_CRS, crs)
        pts[ok] = shapely.points(x, y)
    return gpd.GeoDataFrame(
        {"unit_id": density["unit_id"].astype(str).to_numpy(),
         "count": density["count"].astype(np.int64).to_numpy(),
         "members": density["members"].astype(str).to_numpy() if "members" in density else "",
         "geography": density["geography"].astype(str).to_numpy() if "geography" in density else ""},
        geometry=pts, crs=crs,
    )


def _inside_points(density: gpd.GeoDataFrame, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Each shape's representative point in ``crs`` (x, y)."""
    pts = density.to_crs(crs).geometry.representative_point()
    return shapely.get_x(pts.to_numpy()), shapely.get_y(pts.to_numpy())


def circuity_of(net: Network, *, samples: int = 400, seed: int = 0) -> float:
    """Median network / straight-line distance over random node pairs 300 m–3 km apart."""
    from scipy.sparse.csgraph import dijkstra

    rng = np.random.default_rng(seed)
    src = rng.choice(net.n, min(samples // 20 or 1, net.n), replace=False)
    d = dijkstra(net.matrix(), directed=True, indices=src, limit=3000.0)
    ratios = []
    for i, s in enumerate(src):
        straight = np.hypot(net.x - net.x[s], net.y - net.y[s])
        ok = np.isfinite(d[i]) & (straight > 300)
        if ok.any():
            ratios.append(d[i][ok] / straight[ok])
    if not ratios:
        return DEFAULT_CIRCUITY
    return float(np.clip(np.median(np.concatenate(ratios)), 1.0, 3.0))


def travel_od(origins: np.ndarray, destinations: np.ndarray, *, network: Network | None,
              circuity: float | None = None) -> tuple[np.ndarray, str]:
    """Distance matrix (m) between metric points, shape (O, D), and its method label.

    Along the roads when ``network`` is given (:func:`geo.engine.network.point_od`),
    else straight line × circuity, labelled :data:`ESTIMATE_LABEL`.
    """
    o = np.atleast_2d(np.asarray(origins, float)).reshape(-1, 2)
    d = np.atleast_2d(np.asarray(destinations, float)).reshape(-1, 2)
    if network is not None:
        return point_od(network, o, d), "network"
    factor = float(circuity or DEFAULT_CIRCUITY)
    diff = o[:, None, :] - d[None, :, :]
    return np.hypot(diff[..., 0], diff[..., 1]) * factor, ESTIMATE_LABEL


def nearest_points(ux: np.ndarray, uy: np.ndarray, fx: np.ndarray, fy: np.ndarray, *,
                   network: Network | None, circuity: float | None = None,
                   max_access: float = DEFAULT_MAX_ACCESS, access: str = DEFAULT_ACCESS,
                   join_radius: float = DEFAULT_JOIN_RADIUS
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Distance to, and index of, the nearest facility for each metric point.

    Along the roads when ``network`` is given (the access rule of
    :func:`geo.engine.access.distances_from_points`), else straight line × circuity, where
    of equidistant facilities (a site and a shelter at one address) the first listed
    wins, so that any subset keeping it gives the same answer.  Returns (metres, index
    or -1, access metres, facilities too far from any road).
    """
    n = len(ux)
    if not len(fx):
        return np.full(n, np.inf), np.full(n, -1), np.full(n, np.inf), 0
    if network is not None:
        fsnap = snap(network, fx, fy, max_access=max_access)
        node_d, node_f = nearest_facility(network, fsnap)
        dist, which, used = distances_from_points(network, ux, uy, node_d, node_f, fsnap,
                                                  max_access=max_access, access=access,
                                                  join_radius=join_radius)
        return dist, which, used, int(fsnap.flagged.sum())
    straight, which = nearest_straight(np.asarray(ux, float), np.asarray(uy, float),
                                       np.asarray(fx, float), np.asarray(fy, float))
    return straight * float(circuity or DEFAULT_CIRCUITY), which, np.zeros(n), 0


TIE_CANDIDATES = 4
"""Nearest facility places a k-d tree proposes for each point in :func:`nearest_straight`;
when all of them are equidistant (more ties than candidates), that point is measured again
against every place."""


def nearest_straight(ux: np.ndarray, uy: np.ndarray, fx: np.ndarray, fy: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Straight-line metres to, and index of, the nearest of the facilities ``fx, fy`` for
    each point (inf and −1 for a point or facilities without coordinates).

    A k-d tree (compiled) over the distinct places proposes candidates; their distances are
    measured again with :func:`numpy.hypot`, and of equidistant facilities — at one address
    or at one distance — the first listed wins, so any subset keeping it gives the same answer.
    """
    from scipy.spatial import cKDTree

    dist, which = np.full(len(ux), np.inf), np.full(len(ux), -1, np.int64)
    fok = np.flatnonzero(np.isfinite(fx) & np.isfinite(fy))
    pok = np.flatnonzero(np.isfinite(ux) & np.isfinite(uy))
    if not len(fok) or not len(pok):
        return dist, which
    # each distinct place once, named by the first facility listed there
    xy, first = np.unique(np.column_stack([fx[fok], fy[fok]]), axis=0, return_index=True)
    first = fok[first]
    px, py = ux[pok], uy[pok]
    k = min(TIE_CANDIDATES, len(xy))
    cand = np.asarray(cKDTree(xy).query(np.column_stack([px, py]), k=k)[1], np.int64).reshape(-1, k)
    d = np.hypot(px[:, None] - xy[cand, 0], py[:, None] - xy[cand, 1])
    tied = d == d.min(axis=1, keepdims=True)
    pick = np.where(tied, first[cand], np.iinfo(np.int64).max).min(axis=1)
    if k < len(xy):
        _nearest_among_all(px, py, xy, first, np.flatnonzero(tied.all(axis=1)), pick)
    which[pok] = pick
    dist[pok] = np.hypot(px - fx[pick], py - fy[pick])
    return dist, which


def _nearest_among_all(px: np.ndarray, py: np.ndarray, xy: np.ndarray, first: np.ndarray,
                       rows: np.ndarray, pick: np.ndarray) -> None:
    """``pick`` for ``rows`` (whose candidates were all equidistant) measured against every
    place, in blocks of bounded memory: the first listed of the nearest."""
    step = max(1, 2**22 // len(xy))
    for s in range(0, len(rows), step):
        r = rows[s:s + step]
        d = np.hypot(px[r, None] - xy[None, :, 0], py[r, None] - xy[None, :, 1])
        nearest = d == d.min(axis=1, keepdims=True)
        pick[r] = np.where(nearest, first[None, :], np.iinfo(np.int64).max).min(axis=1)


def pairs_near(ux: np.ndarray, uy: np.ndarray, fx: np.ndarray, fy: np.ndarray, *,
               network: Network | None, limit: float, circuity: float | None = None,
               access: str = DEFAULT_ACCESS, join_radius: float = DEFAULT_JOIN_RADIUS
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (point, facility, metres) pair within ``limit``: along the roads
    (:func:`geo.engine.access.pairs_within`, with the access rule), else straight line × circuity."""
    if network is not None:
        return pairs_within(network, ux, uy, snap(network, fx, fy), limit, access=access,
                            join_radius=join_radius)
    f = float(circuity or DEFAULT_CIRCUITY)
    tree = shapely.STRtree(shapely.points(fx, fy))
    pi, fi = tree.query(shapely.points(ux, uy), predicate="dwithin", distance=limit / f)
    return pi, fi, np.hypot(ux[pi] - fx[fi], uy[pi] - fy[fi]) * f


def _check_options(max_distance: float, facilities: gpd.GeoDataFrame | None, facility_layer: str,
                   access: str, join_radius: float) -> None:
    """The options of :func:`coverage`, each checked with its fix."""
    if max_distance <= 0:
        raise ParameterError("距離のしきい値は正の数にしてください。", parameter="max_distance",
                         fix="例: --max-distance 500")
    if facilities is None or not len(facilities):
        raise ParameterError(f"施設のレイヤー {facility_layer} が空です。", parameter="facilities",
                         fix="地域設定に施設のレイヤー（places など）を追加してください。")
    if access not in ACCESS_RULES:
        raise ParameterError("道路への出方（access）が分かりません。", parameter="access",
                         fix=f"次のいずれか: {', '.join(ACCESS_RULES)}")
    if not (np.isfinite(join_radius) and join_radius > 0):
        raise ParameterError("道路に出る半径（join_radius）は正の数にしてください。", parameter="join_radius",
                         fix="例: 150")


def coverage(
    density: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    crs: str,
    network: Network | None = None,
    max_distance: float = DEFAULT_MAX_DISTANCE,
    facility_layer: str = "places",
    circuity: float | None = None,
    max_access: float = DEFAULT_MAX_ACCESS,
    access: str = DEFAULT_ACCESS,
    join_radius: float = DEFAULT_JOIN_RADIUS,
    demand: Demand | None = None,
) -> CoverageResult:
    """Network distance from every person to their nearest facility; covered within the
    threshold; counted per published unit through the gate.

    ``demand``: the register's people in memory, or by default the density's people spread
    over each unit's outline (:mod:`layers.demand`).  A unit's ``distance_m`` is from its
    anchor (a public point); ``count``/``covered_n`` are protected counts of its people and of
    those covered; ``covered``: its anchor is within the threshold.  ``access``: the rule of
    :mod:`geo.engine.access` (``nearest`` road on this side of any barrier, or ``multi``).

    Returns
    -------
    CoverageResult
        ``units`` has ``unit_id``, ``count``, ``facility_id``, ``distance_m``
        (NaN when unreachable), ``reachable``, ``covered``, ``access_m``,
        ``method`` (``network`` or ``estimate``).
    """
    _check_options(max_distance, facilities, facility_layer, access, join_radius)
    units = demand_units(density, crs=crs)
    fac = facilities.to_crs(crs)
    id_col = id_column(fac, facility_layer)
    fac_ids = fac[id_col].astype(str).to_numpy() if id_col else np.arange(len(fac)).astype(str)
    fac_names = (fac["name"].fillna("").astype(str).to_numpy() if "name" in fac
                 else np.full(len(fac), "", dtype=object))
    ux, uy = units.geometry.x.to_numpy(), units.geometry.y.to_numpy()
    fx, fy = fac.geometry.x.to_numpy(), fac.geometry.y.to_numpy()
    notes: list[str] = []
    dist, which, used, far = nearest_points(ux, uy, fx, fy, network=network, circuity=circuity,
                                            max_access=max_access, access=access,
                                            join_radius=join_radius)
    if network is not None:
        if far:
            notes.append(f"道路から {max_access:.0f} m 以上離れた施設 {far} 件は"
                         "到達できないものとして扱いました。")
        method, factor = "network", None
    else:
        factor = float(circuity or DEFAULT_CIRCUITY)
        method = "estimate"
        notes.append(f"道路データがないため {ESTIMATE_LABEL}（迂回率 {factor:.2f}）で計算しました。")
    reach = _people_reach(people_of(density, demand, crs), units, density, (fx, fy), crs=crs,
                          limit=max_distance, network=network, circuity=circuity,
                          options=(max_access, access, join_radius))
    n = len(units)
    reachable = np.isfinite(dist)
    out = units.assign(
        approx=unit_area_km2(density) > APPROX_KM2,  # count: the density's (protected) count
        covered_n=reach.demand.count(reach.unit, n, reach.covered),
        facility_id=np.where(which >= 0, fac_ids[np.maximum(which, 0)], ""),
        facility_name=np.where(which >= 0, fac_names[np.maximum(which, 0)], ""),
        distance_m=np.where(reachable, np.round(dist, 1), np.nan),
        reachable=reachable,
        covered=reachable & (dist <= max_distance),  # the anchor's, as its distance_m
        access_m=np.where(np.isfinite(used), np.round(used, 1), np.nan),
        walk_min=np.where(reachable, np.round(dist / SPEEDS_M_PER_MIN["walk"], 1), np.nan),
        elderly_min=np.where(reachable, np.round(dist / SPEEDS_M_PER_MIN["elderly"], 1), np.nan),
        method=method if method == "network" else ESTIMATE_LABEL,
    )
    if network is not None and network.n_barriers:
        notes.append(f"川・水面・鉄道など {network.n_barriers} 件の障壁を越えずに"
                     "道路へ出る前提で計算しました。")
    return CoverageResult(units=out, max_distance=float(max_distance), method=method,
                          facilities=facility_layer, circuity=factor, notes=notes, access=access,
                          join_radius=join_radius if access == "multi" else None,
                          barriers=network.n_barriers if network is not None else 0, people=reach,
                          facility_ids=fac_ids, facility_names=fac_names)


def people_of(density: gpd.GeoDataFrame, demand: Demand | None, crs: str) -> Demand:
    """The people of an analysis: ``demand`` (a register's, in memory) or the density's
    people spread over each unit's outline (:func:`layers.demand.spread`)."""
    if demand is not None:
        return demand
    k = int(density.attrs.get("summary", {}).get("k", K_DEFAULT))
    key = shapes_key(density.geometry.to_numpy()) + f"{crs}:{k}".encode() + np.asarray(
        pd.to_numeric(density.get("count", pd.Series(0, density.index)), errors="coerce"),
        float).tobytes()
    with _KEPT_LOCK:
        hit = _SPREAD.get(key)
    if hit is None:
        hit = spread(density, k=k, crs=crs)
        with _KEPT_LOCK:
            _SPREAD[key] = hit
            while len(_SPREAD) > KEPT:
                _SPREAD.popitem(last=False)
    return hit


_SPREAD: OrderedDict[bytes, Demand] = OrderedDict()
"""Spread densities by their shapes and counts (a published density: no record in it)."""


def people_in_units(density: gpd.GeoDataFrame, demand: Demand | None, crs: str
                    ) -> tuple[Demand, np.ndarray]:
    """The analysis's people (:func:`people_of`) and each one's published unit (row of
    ``density``; −1 outside every unit)."""
    people = people_of(density, demand, crs)
    px, py = people.xy(crs)
    unit = area_of(shapely.points(px, py), shapes_in(density, crs)) if len(density) else \
        np.full(len(px), -1, np.int64)
    return people, unit


def _people_reach(people: Demand, units: gpd.GeoDataFrame, density: gpd.GeoDataFrame,
                  facilities: tuple[np.ndarray, np.ndarray], *, crs: str, limit: float,
                  network: Network | None, circuity: float | None,
                  options: tuple[float, str, float]) -> PeopleReach:
    """Every person's nearest facility and unit (see :class:`PeopleReach`)."""
    px, py = people.xy(crs)
    max_access, access, join_radius = options
    dist, which, _, _ = nearest_points(px, py, facilities[0], facilities[1], network=network,
                                       circuity=circuity, max_access=max_access, access=access,
                                       join_radius=join_radius)
    unit = area_of(shapely.points(px, py), shapes_in(density, crs)) if len(units) else \
        np.full(len(px), -1, np.int64)
    return PeopleReach(demand=people, unit=unit, distance=dist, facility=which,
                       covered=np.isfinite(dist) & (dist <= limit))


def by_area(result: CoverageResult, areas: Mapping[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """Total, covered, uncovered and rate per area of each given layer.

    Each person counts in the area holding them (the nearest area when they fall on a gap
    between polygons); every count passes the gate (:meth:`layers.demand.Demand.count`), so
    ``uncovered`` is a protected count of its own, not a difference.  Without people (a result
    built by hand) each unit counts at its representative point.
    """
    rows = []
    columns = ["area_layer", "area_id", "area_name", "total", "covered", "uncovered", "rate"]
    for layer, gdf in areas.items():
        if gdf is None or not len(gdf):
            continue
        frame = gdf
        if layer == "school_districts" and "period" in gdf:
            frame = gdf[gdf["period"].astype(str) == current_period(gdf)]
        id_col = (LAYERS[layer].id_column if layer in LAYERS else None) or "name"
        polys = frame.reset_index(drop=True)
        total, cov, unc = _area_counts(result, shapes_in(polys, str(result.units.crs)))
        keep = np.asarray(total.fillna(1).to_numpy(np.int64) > 0) if result.people is not None else \
            np.bincount(np.maximum(area_of(result.units.geometry.to_numpy(),
                                            shapes_in(polys, str(result.units.crs))), 0),
                        minlength=len(polys)).astype(bool)
        t = total.to_numpy(float, na_value=np.nan)
        c = cov.to_numpy(float, na_value=np.nan)
        rate = np.round(np.divide(c, t, out=np.full(len(t), np.nan), where=t > 0), 4)
        rows.append(pd.DataFrame({
            "area_layer": layer, "area_id": polys[id_col].astype(str).to_numpy(),
            "area_name": polys["name"].astype(str).to_numpy(), "total": total, "covered": cov,
            "uncovered": unc, "rate": rate})[keep])
    return pd.concat(rows, ignore_index=True)[columns] if rows else pd.DataFrame(columns=columns)


def _area_counts(result: CoverageResult, polys: np.ndarray
                 ) -> tuple[pd.arrays.IntegerArray, pd.arrays.IntegerArray, pd.arrays.IntegerArray]:
    """(total, covered, uncovered) people per polygon, each through the gate."""
    n = len(polys)
    people = result.people
    if people is None:  # units at their points, their published counts (no register)
        units = result.units
        where = area_of(units.geometry.to_numpy(), polys)
        ok = where >= 0
        count = pd.to_numeric(units["count"], errors="coerce").fillna(0).to_numpy(float)
        cov = units["covered"].to_numpy(bool)
        sums = [np.bincount(where[ok], weights=count[ok] * m[ok], minlength=n)
                for m in (np.ones(len(units), bool), cov, ~cov)]
        return tuple(pd.array(np.round(v).astype(np.int64), dtype="Int64") for v in sums)  # type: ignore[return-value]
    px, py = people.demand.xy(str(result.units.crs))
    where = area_of(shapely.points(px, py), polys)
    d = people.demand
    return d.count(where, n), d.count(where, n, people.covered), d.count(where, n, ~people.covered)


KEPT = 12
"""Results remembered by the shapes they were computed from (the same units and areas in
every year and season of an outlook, every rerun of a page)."""

_KEPT: OrderedDict[tuple[str, bytes], tuple[np.ndarray, ...]] = OrderedDict()

_KEPT_LOCK = threading.Lock()


def shapes_key(*groups: np.ndarray) -> bytes:
    """A digest of geometry arrays' coordinates and structure (equal shapes, equal key)."""
    h = hashlib.blake2b(digest_size=16)
    for geoms in groups:
        g = np.asarray(geoms)
        h.update(np.int64(len(g)).tobytes())
        h.update(shapely.get_type_id(g).astype(np.int8).tobytes())
        h.update(shapely.get_num_coordinates(g).astype(np.int64).tobytes())
        h.update(np.ascontiguousarray(shapely.get_coordinates(g)).tobytes())
    return h.digest()


def _remembered(kind: str, key: bytes, compute: Callable[[], tuple[np.ndarray, ...]]
                ) -> tuple[np.ndarray, ...]:
    with _KEPT_LOCK:
        hit = _KEPT.get((kind, key))
        if hit is not None:
            _KEPT.move_to_end((kind, key))
            return hit
    made = compute()
    for arr in made:
        arr.setflags(write=False)
    with _KEPT_LOCK:
        _KEPT[(kind, key)] = made
        while len(_KEPT) > KEPT:
            _KEPT.popitem(last=False)
    return made


def shapes_in(frame: gpd.GeoDataFrame, crs: str) -> np.ndarray:
    """The frame's shapes in ``crs`` (remembered by the shapes and the two CRS: area
    layers are transformed once, not once per year and season)."""
    shapes = frame.geometry.to_numpy()
    key = shapes_key(shapes) + f"{frame.crs}>{crs}".encode()
    return _remembered("shapes", key, lambda: (np.asarray(frame.to_crs(crs).geometry.to_numpy()),))[0]


def area_of(points: np.ndarray, polys: np.ndarray) -> np.ndarray:
    """Row of the polygon holding each point (the first when they overlap), else of the
    nearest within :data:`AREA_SNAP_M` (a point on a gap between polygons or on a shared
    edge), else -1.  Remembered for the same points and polygons."""
    return _remembered("area_of", shapes_key(points, polys), lambda: (_area_of_now(points, polys),))[0]


def _area_of_now(points: np.ndarray, polys: np.ndarray) -> np.ndarray:
    """:func:`area_of`: one bulk containment query; the nearest search only for the rest."""
    out = np.full(len(points), -1, np.int64)
    if not len(points) or not len(polys):
        return out
    tree = shapely.STRtree(polys)
    pi, ai = tree.query(points, predicate="within")
    order = np.lexsort((ai, pi))
    pi, ai = pi[order], ai[order]
    first = np.r_[True, pi[1:] != pi[:-1]] if len(pi) else np.zeros(0, bool)
    out[pi[first]] = ai[first]
    rest = np.flatnonzero(out < 0)
    if len(rest):
        (ri, ni), _ = tree.query_nearest(points[rest], max_distance=AREA_SNAP_M,
                                         return_distance=True, all_matches=False)
        out[rest[ri]] = ni
    return out


def _touching_pairs(geoms: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of ``geoms`` within ``tolerance`` of each other (each with itself too): the
    same pairs as an STRtree ``dwithin`` query, found as box candidates, then a prepared
    ``intersects`` (mesh cells share edges) and ``dwithin`` only for the rest."""
    tree = shapely.STRtree(geoms)
    box = shapely.bounds(geoms)
    a, b = tree.query(shapely.box(box[:, 0] - tolerance, box[:, 1] - tolerance,
                                  box[:, 2] + tolerance, box[:, 3] + tolerance))
    shapely.prepare(geoms)
    keep = shapely.intersects(geoms[a], geoms[b])
    rest = np.flatnonzero(~keep)
    keep[rest] = shapely.dwithin(geoms[a[rest]], geoms[b[rest]], tolerance)
    return a[keep], b[keep]


def _union(geoms: np.ndarray) -> shapely.Geometry:
    """Union of units that do not overlap (mesh cells, areas): the fast coverage union."""
    if len(geoms) == 1:
        return geoms[0]
    try:
        return shapely.coverage_union_all(geoms)
    except shapely.errors.GEOSException:  # pragma: no cover - overlapping input
        return shapely.union_all(geoms)


def _gap_people(result: CoverageResult, bad: np.ndarray, label: np.ndarray) -> pd.arrays.IntegerArray:
    """The uncovered people of each gap (``label`` of each uncovered unit), through the gate."""
    n = int(label.max()) + 1 if len(label) else 0
    gap_of_unit = np.full(len(bad), -1, np.int64)
    gap_of_unit[np.flatnonzero(bad)] = label
    people = result.people
    if people is None:
        count = pd.to_numeric(result.units["count"], errors="coerce").fillna(0).to_numpy(float)
        sums = np.bincount(gap_of_unit[bad], weights=count[bad], minlength=n)
        return pd.array(np.round(sums).astype(np.int64), dtype="Int64")
    cells = np.where(people.unit >= 0, gap_of_unit[np.maximum(people.unit, 0)], -1)
    return people.demand.count(cells, n, ~people.covered)


def gaps(result: CoverageResult, density: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Adjacent uncovered units grouped into gap areas, ranked by uncovered people.

    Adjacency is polygon contact of the published units (mesh cells and merged
    groups touch their neighbours).  Each gap lists its nearest facility and
    the shortest distance to it from any of its units.
    """
    units = result.units
    bad = ~units["covered"].to_numpy()
    cols = ["gap_id", "rank", "uncovered", "units", "nearest_facility", "nearest_name",
            "distance_m", "method", "approx", "geometry"]
    if not bad.any():
        return gpd.GeoDataFrame(pd.DataFrame(columns=cols[:-1]), geometry=[], crs=STORAGE_CRS)
    every = shapes_in(density, str(units.crs))
    geoms = every[bad]
    sub = units.loc[bad].reset_index(drop=True)
    # the contacts of all units are remembered: only which units are uncovered changes
    a_all, b_all = _remembered("touching", shapes_key(every), lambda: _touching_pairs(every, 1.0))
    pos = np.cumsum(bad) - 1
    both = bad[a_all] & bad[b_all]
    a, b = pos[a_all[both]], pos[b_all[both]]
    adj = coo_array((np.ones(len(a)), (a, b)), shape=(len(geoms), len(geoms)))
    _, label = connected_components(adj, directed=False)
    rows = []
    out_geoms = []
    uncovered = _gap_people(result, bad, label)
    for g in np.unique(label):
        idx = np.flatnonzero(label == g)
        part = sub.iloc[idx]
        dist = part["distance_m"].to_numpy(float)
        best = int(np.nanargmin(dist)) if np.isfinite(dist).any() else -1
        rows.append({
            "uncovered": uncovered[g],
            "units": len(idx),
            "nearest_facility": str(part["facility_id"].iloc[best]) if best >= 0 else "",
            "nearest_name": str(part["facility_name"].iloc[best])
            if best >= 0 and "facility_name" in part else "",
            "distance_m": float(dist[best]) if best >= 0 else np.nan,
            "method": str(part["method"].iloc[0]),
            "approx": bool(part["approx"].any()) if "approx" in part else False,
        })
        out_geoms.append(_union(geoms[idx]))
    out = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=out_geoms, crs=units.crs)
    out["uncovered"] = out["uncovered"].astype("Int64")
    out = out.sort_values(["uncovered", "units"], ascending=[False, False], na_position="last"
                          ).reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out.insert(0, "gap_id", [f"G{i:03d}" for i in range(1, len(out) + 1)])
    return out.to_crs(STORAGE_CRS)[cols]


@dataclass(frozen=True)
class CoverageOptions:
    """Options of :func:`analyse_coverage` (names as in the engine)."""

    facilities: str = "places"
    max_distance: float = DEFAULT_MAX_DISTANCE
    straight_line: bool = False
    """Estimate by straight line × circuity measured on the region's roads."""
    access: str = DEFAULT_ACCESS
    join_radius: float = 150.0
    season: str | None = None
    """``summer``/``winter`` (:func:`geo.engine.season.parse_season`; a ``date`` alone decides)."""
    date: str | None = None
    """``YYYY-MM-DD``: the 冬期閉鎖 sections in force that day."""
    profile: str = "walk"
    max_minutes: float | None = None
    """A threshold in minutes of ``profile``'s walk (the season slows it); overrides
    ``max_distance``, which stays metres (the season's closures still apply)."""
    year: int | None = None
    """A projection year (``[projection]``): the demand of that year (see ``demand``)."""
    demand: str = "register"
    """``register`` — the anonymised 要配慮者 layer (scaled by the projected change of 65+
    in its 500 m cell when ``year`` is given) — or ``65+`` / ``75+`` of the projection."""


@dataclass(frozen=True)
class CoverageRunSummary(CoverageSummary):
    """The coverage figures plus the number of gaps and the season computed."""

    gaps: int = 0
    season: str = "夏"
    profile: str = "walk"
    max_minutes: float | None = None


@dataclass
class CoverageRun:
    """Coverage per unit, the per-area table and the gaps."""

    result: CoverageResult
    by_area: pd.DataFrame
    gaps: gpd.GeoDataFrame
    season: Season = field(default_factory=Season)
    profile: str = "walk"
    max_minutes: float | None = None
    season_notes: list[str] = field(default_factory=list)
    seasonal: SeasonNetwork | None = None
    """The winter network the run used (None in summer or without roads)."""

    @property
    def notes(self) -> list[str]:
        return [*self.result.notes, *self.season_notes]

    def summary(self) -> CoverageRunSummary:
        return CoverageRunSummary(**self.result.summary().as_dict(), gaps=len(self.gaps),
                                  season=self.season.label, profile=self.profile,
                                  max_minutes=self.max_minutes)


def analyse_coverage(region: RegionLike, options: CoverageOptions | None = None) -> CoverageRun:
    """Walking distance from every 要配慮者 unit to its nearest facility, per area, and gaps."""
    opt = options or CoverageOptions()
    season = parse_season(opt.season, opt.date)
    limit = threshold_metres(max_distance=opt.max_distance, max_minutes=opt.max_minutes,
                             profile=opt.profile)
    density = demand_layer(region, year=opt.year, demand=opt.demand)
    facilities = region.layer(opt.facilities)
    net = region_network(region)
    circuity = None
    notes: list[str] = []
    seasonal = None
    if net is not None and opt.straight_line:  # the estimate, circuity measured on these roads
        circuity, net = circuity_of(net), None
    elif net is not None and season.winter:
        seasonal = region_season(region, season, profile=opt.profile, network=net,
                                 slow=opt.max_minutes is not None)
        if seasonal is not None:
            net, notes = seasonal.network, list(seasonal.notes)
    if season.winter and net is None:
        notes.append("道路データがないため、冬の遅れと冬期閉鎖は反映していません（直線距離の推定）。")
    result = coverage(density, facilities, crs=region.crs, network=net, circuity=circuity,
                      max_distance=limit, facility_layer=opt.facilities,
                      access=opt.access, join_radius=opt.join_radius,
                      demand=register_people(region, year=opt.year, demand=opt.demand))
    return CoverageRun(result=result, by_area=by_area(result, region_areas(region)),
                       gaps=gaps(result, density), season=season, profile=opt.profile,
                       max_minutes=opt.max_minutes, season_notes=notes, seasonal=seasonal)
