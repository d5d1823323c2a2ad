"""広域連携: where the nearest help lies across a municipal border.

For every demand unit (published 要配慮者 unit, or — when a region has no
density — one point per 町字/自治会 area counted as 1, labelled 代替指標) and every
facility layer (usable shelters of a scenario, 居場所 …):

* the nearest facility overall and the nearest in the unit's own municipality
  (along the roads, else straight line × circuity, labelled 推定);
* the unit is **better served across the border** when the overall nearest lies
  in another municipality and is strictly nearer than the own one.

People are counted where they live: every person (the register's, in memory; or a
published density spread over its units' outlines, :mod:`layers.demand`) gets the same
two distances from their own position, and every count of people — per unit
(``cross_n``), per municipality pair, per layer, per partner — passes the gate
(:meth:`layers.demand.Demand.count`).  A unit's own row (``nearest_*``, ``cross``) is from its
anchor, a public point.  The stand-in (代替指標) counts areas at their points, never people.

Per municipality pair (from → to, per layer): units holding its people, people, and the
mean saving in metres of the units whose anchor is better served across that border
(weighted by their protected counts: a mean over the people themselves would tell, between
two releases, the saving of one who left).  A VC-to-VC travel matrix
between municipalities (each municipality's first VC candidate, or its representative
point, marked 推定, when it has none).  Suggested partner pairs for mutual-support
agreements: for each municipality the neighbour with the largest two-way flow of people,
else the nearest neighbour by VC-to-VC travel.  Works on any set of municipalities in one run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.analyses.coverage import ESTIMATE_LABEL, demand_units, nearest_points, people_in_units, travel_od
from geo.analyses.inputs import register_people
from geo.engine.network import Network
from geo.engine.network_cache import region_network
from geo.engine.profiles import DEFAULT_CIRCUITY
from geo.engine.scenario import Scenario, parse_hazard, region_scenario
from geo.summary import Summary
from layers.boundaries import NEIGHBOUR_GAP, assign_municipality, neighbours
from layers.crs import STORAGE_CRS
from layers.demand import Demand, PerPerson
from layers.errors import LayerError
from layers.hazards import in_zones
from layers.layer_facts import id_column

if TYPE_CHECKING:
    from layers.region import RegionLike

__all__ = ["CrossBorder", "area_demand", "crossborder", "crossborder_inputs", "demand_or_proxy"]

log = logging.getLogger(__name__)

DRIVE_KMH_ESTIMATE = 30.0
"""Average speed (km/h) for the VC-to-VC minutes when there is no drive network."""

PROXY_LABEL = "代替指標（町字・地区の数）"


@dataclass
class CrossBorder:
    """Per-unit results, pair flows, the VC matrix and the partner suggestions."""

    units: gpd.GeoDataFrame
    pairs: pd.DataFrame
    vc_matrix: pd.DataFrame
    partners: pd.DataFrame
    flows: gpd.GeoDataFrame
    method: str
    vc_points: pd.DataFrame
    """The point standing for each municipality's VC (a candidate's name, or 推定)."""
    notes: list[str] = field(default_factory=list)

    proxy: bool = False
    """True when ``count`` is the stand-in (areas counted as 1), not people."""
    cross_people: dict[str, int | str] = field(default_factory=dict)
    """Per layer, the protected number of people better served across a border."""
    cross_any: int | str = 0
    """The protected number of people better served across a border for any layer (each
    person once)."""

    def summary(self) -> CrossBorderSummary:
        u = self.units
        some = u["cross_n"].astype("Int64").fillna(1) > 0  # 「k未満」: some people
        return CrossBorderSummary(
            method=self.method, municipalities=int(self.vc_matrix.shape[0]),
            units=int(u["unit_id"].nunique()),
            cross_units=int(u.loc[some.to_numpy(bool), "unit_id"].nunique()),
            cross_people=self.cross_people, cross_any=self.cross_any,
            pairs=len(self.pairs),
            partners=[f"{a}-{b}" for a, b in zip(self.partners["muni_a"], self.partners["muni_b"],
                                                  strict=True)],
            proxy=self.proxy)

    def display_tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(partners, pairs) for people to read: with a proxy the counts are areas (地区),
        and their columns say so — never people."""
        if not self.proxy:
            return self.partners, self.pairs
        return (self.partners.rename(columns={"people_across": "areas_across"}),
                self.pairs.rename(columns={"people": "areas"}))


@dataclass(frozen=True)
class CrossBorderSummary(Summary):
    """Units better served across a border, per facility layer.

    ``cross_people`` counts people, or areas when ``proxy`` is true (no density).
    """

    method: str
    municipalities: int
    units: int
    cross_units: int
    cross_people: dict[str, int | str]
    """Per layer, the people better served across a border (protected: 「k未満」 below k)."""
    cross_any: int | str
    pairs: int
    partners: list[str]
    proxy: bool = False


def area_demand(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A stand-in density: one unit per area (自治会・町字) counted as 1 (代替指標)."""
    ids = areas["area_id"] if "area_id" in areas else pd.Series(range(len(areas))).astype(str)
    out = gpd.GeoDataFrame({"unit_id": ids.astype(str).to_numpy(), "count": 1,
                            "geography": PROXY_LABEL},
                           geometry=areas.geometry.to_numpy(), crs=areas.crs)
    out.attrs["proxy"] = True
    return out


def demand_or_proxy(layers: Mapping[str, gpd.GeoDataFrame], *, source: Any = None) -> gpd.GeoDataFrame:
    """The 要配慮者 density, else one unit per 自治会/町字 area (:func:`area_demand`)."""
    if layers.get("vulnerable") is not None:
        return layers["vulnerable"]
    if layers.get("neighbourhoods") is not None:
        return area_demand(layers["neighbourhoods"])
    raise LayerError("要配慮者の密度も自治会・町字の区域もありません。", file=source,
                     column="layers.vulnerable",
                     fix="[layers.vulnerable] か [layers.neighbourhoods] を追加してください。")


def crossborder_inputs(layers: Mapping[str, gpd.GeoDataFrame], scenario: Any = None, *,
                       source: Any = None
                       ) -> tuple[gpd.GeoDataFrame, dict[str, gpd.GeoDataFrame], gpd.GeoDataFrame | None]:
    """Demand, facilities and VC sites of a region for :func:`crossborder`.

    With a hazard ``scenario`` only its usable shelters count and VC sites inside its
    zones are left out; without one (normal times) all shelters and sites count.
    """
    demand = demand_or_proxy(layers, source=source)
    facilities: dict[str, gpd.GeoDataFrame] = {}
    shelters = layers.get("shelters")
    if shelters is not None:
        status = getattr(scenario, "shelter_status", None)
        facilities["shelters"] = shelters if status is None else shelters[status.to_numpy() == "usable"]
    if layers.get("places") is not None:
        facilities["places"] = layers["places"]
    if not facilities:
        raise LayerError("避難所も居場所もありません。", file=source, column="layers.shelters",
                         fix="[layers.shelters] か [layers.places] を追加してください。")
    vc = layers.get("vc_sites")
    if vc is not None and scenario is not None:
        vc = vc[~in_zones(vc, scenario.zones)]
    return demand, facilities, vc


def _nearest(units_xy: np.ndarray, fac_xy: np.ndarray, *, network: Network | None,
             circuity: float) -> tuple[np.ndarray, np.ndarray]:
    """Distance and index of the nearest facility for each unit."""
    d, f, _access, _far = nearest_points(units_xy[:, 0], units_xy[:, 1], fac_xy[:, 0], fac_xy[:, 1],
                                         network=network, circuity=circuity)
    return d, f


def crossborder(
    density: gpd.GeoDataFrame,
    facilities: Mapping[str, gpd.GeoDataFrame],
    boundaries: gpd.GeoDataFrame,
    *,
    crs: str,
    network: Network | None = None,
    vc_sites: gpd.GeoDataFrame | None = None,
    circuity: float | None = None,
    demand: Demand | None = None,
) -> CrossBorder:
    """Cross-border service analysis over all municipalities of ``boundaries``.

    ``facilities`` maps a layer label (``"shelters"``, ``"places"`` …) to its
    points (pass only the usable shelters of a scenario).  ``density`` is a
    published density (the units results are reported on) or :func:`area_demand`.
    ``demand``: the register's people in memory; by default the density's people spread
    over its units (the stand-in counts its areas).
    """
    circ = float(circuity or DEFAULT_CIRCUITY)
    method = "network" if network is not None else ESTIMATE_LABEL
    notes: list[str] = []
    proxy = bool(density.attrs.get("proxy"))
    if proxy:
        notes.append(f"要配慮者の密度がないため、{PROXY_LABEL}で数えました。")
    units = demand_units(density, crs=crs)
    umuni = assign_municipality(units, boundaries, crs=crs).to_numpy()
    who = _Who.of(density, units, umuni, demand, boundaries, crs=crs, proxy=proxy)
    frames, person_rows = [], []
    for layer, fac in facilities.items():
        if fac is None or not len(fac):
            continue
        frame, rows = _nearest_per_layer(units, umuni, who, layer, fac, boundaries, crs=crs,
                                         network=network, circuity=circ)
        frames.append(frame)
        person_rows.append(rows)
    long = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["unit_id", "count", "muni_code", "layer", "nearest_id", "nearest_muni", "nearest_m",
                 "own_m", "saving_m", "cross", "cross_n"])
    geom = dict(zip(units["unit_id"], units.geometry.to_crs(STORAGE_CRS), strict=True))
    unit_table = gpd.GeoDataFrame(long, geometry=[geom[u] for u in long["unit_id"]], crs=STORAGE_CRS)
    pairs = _pairs(who, person_rows, long)
    cross_people = {layer: who.people.total(rows.cross) for layer, rows in zip(
        [k for k, f in facilities.items() if f is not None and len(f)], person_rows, strict=True)}
    anywhere = np.logical_or.reduce([r.cross for r in person_rows]) if person_rows else \
        np.zeros(len(who.people), bool)

    b = boundaries.to_crs(crs).reset_index(drop=True)
    codes = b["code"].astype(str).to_numpy()
    names = b["name"].astype(str).to_numpy()
    vc_xy, vc_label = _vc_points(b, vc_sites, boundaries, crs=crs)
    od, _m = travel_od(vc_xy, vc_xy, network=network, circuity=circ)
    od = np.minimum(od, od.T)  # one figure per pair (one-way streets differ slightly)
    np.fill_diagonal(od, 0.0)
    vc_matrix = pd.DataFrame(np.round(od / 1000, 2), index=codes, columns=codes)
    partners = _partners(pairs, neighbours(boundaries, crs=crs), codes, names, od, proxy=proxy)
    flows = _flow_lines(pairs, b, codes, crs=crs)
    vc_points = pd.DataFrame({"muni_code": codes, "name": names, "vc": vc_label})
    if (vc_label == ESTIMATED_VC).any():
        notes.append("災害VCの候補地がない市町村は、市町村の代表点（推定）で VC 間の距離を測りました。")
    log.info("cross-border: %d municipalities, %d pairs (neighbour gap %s m)", len(codes), len(pairs),
             NEIGHBOUR_GAP)
    return CrossBorder(units=unit_table, pairs=pairs, vc_matrix=vc_matrix, partners=partners,
                       flows=flows, method=method, vc_points=vc_points, notes=notes,
                       proxy=proxy, cross_people=cross_people, cross_any=who.people.total(anywhere))


ESTIMATED_VC = "市町村の代表点（推定）"
"""The label of a municipality's VC point when it has no VC candidate."""


@dataclass(frozen=True, repr=False, eq=False)
class _Who(PerPerson):
    """The people counted (in memory only): their points, municipality and unit.  For the
    stand-in, each area is one "person" at its unit's point (weight 1, no key)."""

    people: Demand
    xy: np.ndarray
    muni: np.ndarray
    unit: np.ndarray

    @classmethod
    def of(cls, density: gpd.GeoDataFrame, units: gpd.GeoDataFrame, umuni: np.ndarray,
           demand: Demand | None, boundaries: gpd.GeoDataFrame, *, crs: str, proxy: bool) -> _Who:
        if proxy:
            pts = units.geometry.to_crs(STORAGE_CRS)
            stand_in = Demand(pts.x.to_numpy(), pts.y.to_numpy(), np.ones(len(units)), None, 1)
            return cls(stand_in, np.column_stack([units.geometry.x, units.geometry.y]), umuni,
                       np.arange(len(units)))
        people, unit = people_in_units(density, demand, crs)
        px, py = people.xy(crs)
        muni = assign_municipality(gpd.GeoDataFrame(geometry=gpd.points_from_xy(px, py), crs=crs),
                                   boundaries, crs=crs).to_numpy()
        return cls(people, np.column_stack([px, py]), muni, unit)


@dataclass(frozen=True, repr=False, eq=False)
class _Crossing(PerPerson):
    """Per person of :class:`_Who`, for one layer: better served across the border and where
    to (in memory only)."""

    layer: str
    cross: np.ndarray
    to: np.ndarray


def _own_and_all(xy: np.ndarray, muni: np.ndarray, fxy: np.ndarray, fmuni: np.ndarray, *,
                 network: Network | None, circuity: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distance and index of the nearest facility overall, and the distance to the nearest in
    each point's own municipality (inf when it has none)."""
    d_all, f_all = _nearest(xy, fxy, network=network, circuity=circuity)
    d_own = np.full(len(xy), np.inf)
    for code in np.unique(muni):
        mask_u = muni == code
        mask_f = fmuni == code
        if mask_f.any() and mask_u.any():
            d_own[mask_u] = _nearest(xy[mask_u], fxy[mask_f], network=network, circuity=circuity)[0]
    return d_all, f_all, d_own


def _crossing(d_all: np.ndarray, f_all: np.ndarray, d_own: np.ndarray, muni: np.ndarray,
              fmuni: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(nearest facility's municipality, better served across the border)."""
    ok = f_all >= 0
    near_muni = np.where(ok, fmuni[np.maximum(f_all, 0)], "")
    return near_muni, ok & np.isfinite(d_all) & (near_muni != muni) & (d_all < d_own)


def _nearest_per_layer(units: gpd.GeoDataFrame, umuni: np.ndarray, who: _Who, layer: str,
                       fac: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame, *, crs: str,
                       network: Network | None, circuity: float) -> tuple[pd.DataFrame, _Crossing]:
    """Per unit (from its anchor): the nearest facility of ``layer`` anywhere and the nearest
    in its own municipality; ``cross`` when the nearest lies across the border and is nearer;
    ``cross_n``: its people for whom that holds (each from their own position, protected)."""
    uxy = np.column_stack([units.geometry.x, units.geometry.y])
    counts = units["count"].to_numpy(np.int64)
    fm = fac.to_crs(crs)
    fxy = np.column_stack([fm.geometry.x, fm.geometry.y])
    fmuni = assign_municipality(fm, boundaries, crs=crs).to_numpy()
    fid = fm[id_column(fm, layer) or fm.columns[0]].astype(str).to_numpy()
    d_all, f_all, d_own = _own_and_all(uxy, umuni, fxy, fmuni, network=network, circuity=circuity)
    near_muni, cross = _crossing(d_all, f_all, d_own, umuni, fmuni)
    ok = f_all >= 0
    pd_all, pf_all, pd_own = _own_and_all(who.xy, who.muni, fxy, fmuni, network=network, circuity=circuity)
    p_to, p_cross = _crossing(pd_all, pf_all, pd_own, who.muni, fmuni)
    rows = _Crossing(layer, p_cross, p_to)
    return pd.DataFrame({
        "unit_id": units["unit_id"].to_numpy(), "count": counts, "muni_code": umuni,
        "layer": layer, "nearest_id": np.where(ok, fid[np.maximum(f_all, 0)], ""),
        "nearest_muni": near_muni,
        "nearest_m": np.where(np.isfinite(d_all), np.round(d_all, 1), np.nan),
        "own_m": np.where(np.isfinite(d_own), np.round(d_own, 1), np.nan),
        "saving_m": np.where(cross, np.round(np.where(np.isfinite(d_own), d_own, np.nan) - d_all, 1),
                             np.nan),
        "cross": cross,
        "cross_n": who.people.count(who.unit, len(units), p_cross),
    }), rows


def _pairs(who: _Who, layers: list[_Crossing], long: pd.DataFrame) -> pd.DataFrame:
    """Per layer and municipality pair (from → to): the units holding its people, the people
    (protected) and the mean saving of the units crossing it (``long``'s anchor rows)."""
    frames = []
    for rows in layers:
        if not rows.cross.any():
            continue
        keys = pd.Series(who.muni.astype(str)) + "\t" + pd.Series(rows.to.astype(str))
        cell, labels = pd.factorize(keys.where(rows.cross, None), use_na_sentinel=True)
        people = who.people.count(cell, len(labels))
        units = pd.Series(who.unit[cell >= 0]).groupby(cell[cell >= 0]).nunique()
        frm, to = zip(*(str(x).split("\t") for x in labels), strict=True)
        frames.append(pd.DataFrame({
            "layer": rows.layer, "from_muni": frm, "to_muni": to,
            "units": units.reindex(range(len(labels)), fill_value=0).to_numpy(),
            "people": people, "mean_saving_m": _anchor_saving(long, rows.layer, frm, to)}))
    columns = ["layer", "from_muni", "to_muni", "units", "people", "mean_saving_m"]
    if not frames:
        return pd.DataFrame(columns=columns)
    pairs = pd.concat(frames, ignore_index=True)
    # most people first; ties in 市町村 code order (as the prefecture lists them), not by name
    order = np.lexsort((pairs["to_muni"].astype(str).to_numpy(), pairs["from_muni"].astype(str).to_numpy(),
                        pairs["layer"].astype(str).to_numpy(),
                        -pairs["people"].astype("Int64").to_numpy(float, na_value=0.0)))
    return pairs.iloc[order].reset_index(drop=True)[columns]


def _vc_points(b: gpd.GeoDataFrame, vc_sites: gpd.GeoDataFrame | None, boundaries: gpd.GeoDataFrame,
               *, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """The point standing for each municipality's VC: its best-priority candidate, else the
    municipality's representative point (推定)."""
    codes = b["code"].astype(str).to_numpy()
    vc_xy = np.column_stack([b.geometry.representative_point().x, b.geometry.representative_point().y])
    vc_label = np.array([ESTIMATED_VC] * len(b), dtype=object)
    if vc_sites is not None and len(vc_sites):
        v = vc_sites.to_crs(crs)
        vmuni = v["muni_code"].astype(str).to_numpy() if "muni_code" in v else \
            assign_municipality(v, boundaries, crs=crs).to_numpy()
        order = np.argsort(pd.to_numeric(v.get("priority", pd.Series(0, index=v.index)),
                                         errors="coerce").fillna(99).to_numpy(), kind="stable")
        for k in order[::-1]:
            hit = np.flatnonzero(codes == vmuni[k])
            if len(hit):
                vc_xy[hit[0]] = (v.geometry.x.iloc[k], v.geometry.y.iloc[k])
                vc_label[hit[0]] = str(v["name"].iloc[k])
    return vc_xy, vc_label


def _anchor_saving(long: pd.DataFrame, layer: str, frm: tuple[str, ...], to: tuple[str, ...]) -> np.ndarray:
    """The mean saving of the units whose anchor crosses each pair, weighted by their
    protected counts (NaN where none does)."""
    rows = long[(long["layer"] == layer) & long["cross"].astype(bool)]
    w = pd.to_numeric(rows["count"], errors="coerce").fillna(0).to_numpy(float)
    sums = (rows.assign(_w=w, _s=rows["saving_m"].to_numpy(float) * w)
            .groupby(["muni_code", "nearest_muni"])[["_w", "_s"]].sum())
    mean = (sums["_s"] / sums["_w"].where(sums["_w"] > 0)).round(1)
    return mean.reindex(pd.MultiIndex.from_arrays([list(frm), list(to)])).to_numpy(float)


def _partners(pairs: pd.DataFrame, neigh: dict[str, set[str]], codes: np.ndarray,
              names: np.ndarray, od: np.ndarray, *, proxy: bool = False) -> pd.DataFrame:
    """One suggested partner per municipality: the neighbour most people cross to (the pairs'
    protected counts, 「k未満」 as 0), else the neighbour whose VC is nearest."""
    flow: dict[tuple[str, str], int] = {}
    people = pairs["people"].astype("Int64").fillna(0).to_numpy(np.int64)
    for a, c, n in zip(pairs["from_muni"], pairs["to_muni"], people, strict=True):
        key = (min(str(a), str(c)), max(str(a), str(c)))
        flow[key] = flow.get(key, 0) + int(n)
    chosen: dict[tuple[str, str], str] = {}
    idx = {c: i for i, c in enumerate(codes)}
    for code in codes:
        cand = sorted(neigh.get(code, set()) & set(codes))
        if not cand:
            continue
        with_flow = [(flow.get((min(code, c), max(code, c)), 0), c) for c in cand]
        best_flow = max(with_flow)
        if best_flow[0] > 0:
            other = best_flow[1]
            reason = (f"越境して近い地区 {best_flow[0]}（代替指標）" if proxy
                      else f"越境して近い要配慮者 {best_flow[0]} 人")
        else:
            other = min(cand, key=lambda c: od[idx[code], idx[c]])
            reason = "隣接・VC間の移動が最短"
        key = (min(code, other), max(code, other))
        chosen.setdefault(key, reason)
    partner_rows = []
    for (a, c), reason in chosen.items():
        km = od[idx[a], idx[c]] / 1000
        partner_rows.append({"muni_a": a, "name_a": names[idx[a]], "muni_b": c, "name_b": names[idx[c]],
                             "people_across": flow.get((a, c), 0),
                             "vc_distance_km": round(float(km), 2) if np.isfinite(km) else np.nan,
                             "vc_minutes_estimate": round(float(km) / DRIVE_KMH_ESTIMATE * 60, 1)
                             if np.isfinite(km) else np.nan,
                             "reason": reason})
    partners = pd.DataFrame(partner_rows, columns=["muni_a", "name_a", "muni_b", "name_b",
                                                   "people_across", "vc_distance_km",
                                                   "vc_minutes_estimate", "reason"])
    partners = partners.sort_values(["people_across", "vc_distance_km", "muni_a", "muni_b"],
                                    ascending=[False, True, True, True], kind="stable").reset_index(drop=True)
    return partners


def _flow_lines(pairs: pd.DataFrame, b: gpd.GeoDataFrame, codes: np.ndarray, *, crs: str
                ) -> gpd.GeoDataFrame:
    """Flow lines between the municipalities' representative points (EPSG:4326)."""
    rep = b.geometry.representative_point()
    centre = dict(zip(codes, rep.to_numpy(), strict=True))
    lines, props = [], []
    for _, r in pairs.iterrows():
        if r["from_muni"] in centre and r["to_muni"] in centre:
            lines.append(shapely.LineString([centre[r["from_muni"]], centre[r["to_muni"]]]))
            props.append(r.to_dict())
    return gpd.GeoDataFrame(pd.DataFrame(props, columns=pairs.columns), geometry=lines, crs=crs) \
        .to_crs(STORAGE_CRS)


@dataclass(frozen=True)
class CrossBorderOptions:
    """Options of :func:`analyse_crossborder` (``hazard=None``: normal times)."""

    hazard: str | None = None
    straight_line: bool = False


def analyse_crossborder(region: RegionLike, options: CrossBorderOptions | None = None, *,
                        scenario: Scenario | None = None) -> CrossBorder:
    """People better served by a neighbouring municipality's shelters/居場所, and partners.

    In a hazard only its usable shelters count and the roads it closes are avoided."""
    opt = options or CrossBorderOptions()
    scen = None
    if opt.hazard:
        scen = scenario or region_scenario(region, parse_hazard(opt.hazard))
        net = scen.network
    else:
        net = region_network(region)
    if opt.straight_line:
        net = None
    density, facilities, vc = crossborder_inputs(region.layers, scen, source=region.config.path)
    return crossborder(density, facilities, region.layer("boundaries"), crs=region.crs, network=net,
                       vc_sites=vc, demand=None if density.attrs.get("proxy") else register_people(region))
