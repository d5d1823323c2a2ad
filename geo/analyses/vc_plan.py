"""災害ボランティアセンター (VC) plan: which candidate site to open, and who it serves.

Candidates are the region's ``vc_sites``; in a scenario a candidate inside a
zone of the hazard is unusable.  Travel is measured along the scenario network
(closed roads avoided) — the drive network when the region has one, since VC
teams travel by car — else straight line × circuity (labelled 推定).

* **Ranking** per candidate: the demand-weighted travel to the 要配慮者 of its own
  municipality (person·km, the 1-median objective), the same over the whole
  region, and the worst-case reach (farthest unit and farthest usable shelter of
  its municipality).  Candidates that leave people unreachable rank last.
* **Plan** per municipality: its best site in normal times; if that site is
  unusable in the scenario, the next usable site of the municipality, else a
  **backup** from a neighbouring municipality (boundaries within 500 m) — the
  usable candidate with the least travel to this municipality's demand — with the
  route from it to the municipality's demand centre.
* **p-median**: the ``p`` usable sites minimising total person·km over the
  region (exact enumeration when the combinations are few, else greedy plus
  one-swap interchange; the method is reported).
* **Dispatch zones**: every unit and usable shelter to its nearest open VC.

Who cannot be reached is counted per person (the register's, in memory; or a published
density spread over its units, :mod:`layers.demand`), each from their own home, through the
gate (:meth:`layers.demand.Demand.count`): people per municipality and people unreachable are
protected counts.  The person·km that rank the sites weigh each unit's anchor (a public
point) by its protected count: a sum of distances over the people themselves would tell,
between two releases, the distance of one who left.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analyses.coverage import demand_units, people_of, travel_od
from geo.analyses.inputs import register_people
from geo.analyses.shelter_load import _closure_note
from geo.engine.profiles import DEFAULT_CIRCUITY
from geo.engine.routing import Route, route
from geo.engine.scenario import Scenario, region_scenario
from geo.engine.season import parse_season
from geo.summary import Summary
from layers.boundaries import assign_municipality, neighbours, one_area
from layers.crs import STORAGE_CRS
from layers.demand import Demand, count_column
from layers.errors import LayerError, ParameterError
from layers.hazards import in_zones
from layers.shelters import DEFAULT_HAZARD

if TYPE_CHECKING:
    from layers.region import RegionLike

__all__ = ["VCPlan", "p_median", "vc_plan"]


MAX_ENUMERATION = 20000


@dataclass
class VCPlan:
    """Candidates ranked, the plan per municipality, p-median, dispatch zones, routes."""

    hazard: str
    candidates: gpd.GeoDataFrame
    plan: pd.DataFrame
    units: gpd.GeoDataFrame
    shelters: gpd.GeoDataFrame
    median: dict[str, Any]
    routes: dict[str, Route] = field(default_factory=dict)
    method: str = "network"
    notes: list[str] = field(default_factory=list)
    people_unreachable: int | str = 0
    """People no open VC reaches (a protected count)."""

    def summary(self) -> VCPlanSummary:
        c = self.candidates
        return VCPlanSummary(
            hazard=self.hazard, method=self.method, candidates=len(c),
            usable=int((c["status"] == "usable").sum()),
            open=sorted(set(self.plan["open_site"]) - {""}),
            backups=int((self.plan["decision"] == "backup_neighbour").sum()),
            p_median={k: self.median[k] for k in ("p", "sites", "person_km", "method")},
            people_unreachable=self.people_unreachable)


@dataclass(frozen=True)
class VCPlanSummary(Summary):
    """Which candidates open, which municipalities lean on a neighbour's VC."""

    hazard: str
    method: str
    candidates: int
    usable: int
    open: list[str]
    backups: int
    p_median: dict[str, Any]
    people_unreachable: int | str


def p_median(cost: np.ndarray, weights: np.ndarray, p: int) -> tuple[list[int], float, str]:
    """Choose ``p`` rows of ``cost`` (candidates × demand) minimising Σ weight × min cost.

    Unreachable pairs (``inf``) cost twice the largest finite cost.  Exact by
    enumeration up to :data:`MAX_ENUMERATION` combinations; otherwise greedy then
    one-swap interchange until no swap improves.
    """
    c = np.asarray(cost, float)
    finite = c[np.isfinite(c)]
    big = 2 * float(finite.max()) if len(finite) else 1.0
    c = np.where(np.isfinite(c), c, big)
    w = np.asarray(weights, float)
    n = c.shape[0]
    p = max(1, min(p, n))

    def total(sel: Sequence[int]) -> float:
        return float(np.dot(c[list(sel)].min(axis=0), w))

    if math.comb(n, p) <= MAX_ENUMERATION:
        best = min(itertools.combinations(range(n), p), key=total)
        return list(best), total(best), "exact"
    chosen: list[int] = []
    for _ in range(p):
        rest = [i for i in range(n) if i not in chosen]
        chosen.append(min(rest, key=lambda i: total([*chosen, i])))
    improved = True
    while improved:
        improved = False
        for k in range(p):
            for i in range(n):
                if i in chosen:
                    continue
                trial = [*chosen[:k], i, *chosen[k + 1:]]
                if total(trial) < total(chosen) - 1e-9:
                    chosen, improved = trial, True
    return chosen, total(chosen), "greedy_interchange"


UNREACHABLE_COST = 1e12
"""Cost (person-metres) of one unit a site cannot reach: more than any reachable total."""


@dataclass
class _Travel:
    """Candidates, demand units, shelters and the travel distances between them (metric)."""

    cand: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    ux: np.ndarray
    cx: np.ndarray
    counts: np.ndarray
    unit_muni: np.ndarray
    cand_muni: np.ndarray
    usable: np.ndarray
    d_scen: np.ndarray
    """Candidate → unit in the scenario, shape (C, U)."""
    d_norm: np.ndarray
    """Candidate → unit in normal times."""
    method: str
    shel: gpd.GeoDataFrame | None
    d_shel: np.ndarray
    shel_muni: np.ndarray
    people: Demand
    """The people counted (in memory only)."""
    p_muni: np.ndarray
    """Each person's municipality."""
    p_reach: np.ndarray
    """Candidate → person reachable in the scenario, shape (C, P)."""

    def people_in(self, where: np.ndarray) -> int | str:
        """The protected number of the ``where`` people."""
        return self.people.total(where)


def vc_plan(
    density: gpd.GeoDataFrame,
    vc_sites: gpd.GeoDataFrame,
    scenario: Scenario,
    *,
    crs: str,
    boundaries: gpd.GeoDataFrame | None,
    shelters: gpd.GeoDataFrame | None = None,
    network: Any = None,
    normal_network: Any = None,
    p: int | None = None,
    circuity: float | None = None,
    demand: Demand | None = None,
) -> VCPlan:
    """Rank VC candidates, plan one site per municipality, solve p-median, draw dispatch zones.

    ``network``/``normal_network`` are the scenario and normal networks to travel
    on (e.g. the drive network closed by :func:`geo.engine.scenario.close_roads`); both
    None means straight line × ``circuity``.  ``shelters`` are the shelters layer
    with ``scenario.shelter_status`` aligned (only usable ones are dispatched).
    Without ``boundaries`` the region is planned as one area (said in the notes).
    ``demand``: the register's people in memory (by default the density spread over its units).
    """
    if density is None or not len(density):
        raise LayerError("要配慮者の公開できる単位がありません"
                         "（地域全体で k 人未満のため、何も公開していません）。",
                         layer="vulnerable",
                         fix="名簿の範囲を広げるか、要配慮者の密度のある地域で計画してください。")
    if vc_sites is None or not len(vc_sites):
        raise LayerError("災害VCの候補地（vc_sites）がありません。", layer="vc_sites",
                         fix="地域設定に [layers.vc_sites] を追加してください。")
    notes: list[str] = []
    if boundaries is None or not len(boundaries):
        boundaries = one_area([density, vc_sites, shelters], name="地域全体")
        notes.append("市町村界（boundaries）がないため、地域全体を一つの区域として計画しました"
                     "（隣の市町村からの応援は求めていません）。")
    tr = _travel(density, vc_sites, scenario, crs=crs, boundaries=boundaries, shelters=shelters,
                 network=network, normal_network=normal_network,
                 circuity=float(circuity or DEFAULT_CIRCUITY), demand=demand)
    candidates = _rank_candidates(tr)
    plan, routes = _municipal_plan(tr, boundaries, crs=crs, network=network,
                                   normal_network=normal_network)
    if (plan["decision"] == "backup_neighbour").any():
        notes.append("最適な候補地が使えない市町村に、隣接市町村の候補地を代替として示しました。")
    median = _p_median_plan(tr, p or max(1, int(plan["muni_code"].nunique())), notes)
    units_out, shel_out = _dispatch(tr, plan)
    opened = [int(np.flatnonzero(tr.cand["site_id"].astype(str) == s)[0])
              for s in dict.fromkeys(plan["open_site"]) if s]
    reached = np.asarray(tr.p_reach[opened].any(axis=0)) if opened else np.zeros(len(tr.people), bool)
    return VCPlan(hazard=scenario.hazard, candidates=candidates, plan=plan, units=units_out,
                  shelters=shel_out, median=median, routes=routes, method=tr.method, notes=notes,
                  people_unreachable=tr.people_in(~reached))


def _travel(density: gpd.GeoDataFrame, vc_sites: gpd.GeoDataFrame, scenario: Scenario, *, crs: str,
            boundaries: gpd.GeoDataFrame, shelters: gpd.GeoDataFrame | None, network: Any,
            normal_network: Any, circuity: float, demand: Demand | None) -> _Travel:
    """Who is where (municipality of each unit, person, candidate, shelter) and how far apart."""
    cand = vc_sites.reset_index(drop=True).to_crs(crs)
    units = demand_units(density, crs=crs)
    ux = np.column_stack([units.geometry.x, units.geometry.y])
    cx = np.column_stack([cand.geometry.x, cand.geometry.y])
    codes = cand["muni_code"].astype(str).to_numpy() if "muni_code" in cand else np.full(len(cand), "")
    spatial = assign_municipality(cand, boundaries, crs=crs).to_numpy()
    d_scen, method = travel_od(cx, ux, network=network, circuity=circuity)  # VC → unit, (C, U)
    d_norm, _ = travel_od(cx, ux, network=normal_network, circuity=circuity) if network is not None \
        else (d_scen, method)
    shel = None
    d_shel = np.zeros((len(cand), 0))
    shel_muni = np.zeros(0, dtype=object)
    if shelters is not None and scenario.shelter_status is not None:
        ok = scenario.shelter_status.to_numpy() == "usable"
        shel = shelters.reset_index(drop=True)[ok].to_crs(crs)
        sx = np.column_stack([shel.geometry.x, shel.geometry.y])
        d_shel, _ = travel_od(cx, sx, network=network, circuity=circuity)
        shel_muni = assign_municipality(shel, boundaries, crs=crs).to_numpy()
    people = people_of(density, demand, crs)
    px, py = people.xy(crs)
    d_people, _ = travel_od(cx, np.column_stack([px, py]), network=network, circuity=circuity)
    p_muni = assign_municipality(gpd.GeoDataFrame(geometry=gpd.points_from_xy(px, py), crs=crs),
                                 boundaries, crs=crs).to_numpy()
    return _Travel(
        cand=cand, units=units, ux=ux, cx=cx, counts=units["count"].to_numpy(float),
        people=people, p_muni=p_muni, p_reach=np.isfinite(d_people),
        unit_muni=assign_municipality(units, boundaries, crs=crs).to_numpy(),
        cand_muni=np.where(np.isin(codes, boundaries["code"].astype(str)), codes, spatial),
        usable=~in_zones(cand, scenario.zones), d_scen=d_scen, d_norm=d_norm, method=method,
        shel=shel, d_shel=d_shel, shel_muni=shel_muni)


def _rank_candidates(tr: _Travel) -> gpd.GeoDataFrame:
    """Each candidate's figures for its own municipality, ranked within it (usable first,
    then fewest people unreachable, then least person-km)."""
    cand, counts = tr.cand, tr.counts
    rows = []
    for i in range(len(cand)):
        own = tr.unit_muni == tr.cand_muni[i]
        d = tr.d_scen[i]
        reach = np.isfinite(d)
        worst_shel = np.nan
        if tr.shel is not None and len(tr.shel):
            m = (tr.shel_muni == tr.cand_muni[i]) & np.isfinite(tr.d_shel[i])
            worst_shel = float(tr.d_shel[i][m].max()) if m.any() else np.nan
        own_reach = own & reach
        rows.append({
            "site_id": str(cand.at[i, "site_id"]), "name": cand.at[i, "name"],
            "muni_code": tr.cand_muni[i],
            "priority": cand.at[i, "priority"] if "priority" in cand else pd.NA,
            "status": "usable" if tr.usable[i] else "in_zone",
            "person_km_muni": round(float(np.sum(np.where(own_reach, d, 0) * counts) / 1000), 2),
            "person_km_all": round(float(np.sum(np.where(reach, d, 0) * counts) / 1000), 2),
            "mean_m_muni": round(float(np.average(d[own_reach], weights=counts[own_reach])), 1)
            if own_reach.any() else np.nan,
            "worst_unit_m": round(float(d[own_reach].max()), 1) if own_reach.any() else np.nan,
            "worst_shelter_m": round(worst_shel, 1) if np.isfinite(worst_shel) else np.nan,
            "people_unreachable_muni": tr.people_in((tr.p_muni == tr.cand_muni[i]) & ~tr.p_reach[i]),
            "_w": float(tr.people.weight[(tr.p_muni == tr.cand_muni[i]) & ~tr.p_reach[i]].sum()),
        })
    table = pd.DataFrame(rows)
    table["people_unreachable_muni"] = count_column(table["people_unreachable_muni"])
    table["_u"] = ~tr.usable
    table = table.sort_values(["muni_code", "_u", "_w", "person_km_muni"], kind="stable")
    table["rank_in_muni"] = table.groupby("muni_code").cumcount() + 1
    table = table.drop(columns=["_u", "_w"]).sort_index()
    return gpd.GeoDataFrame(table, geometry=cand.geometry.to_crs(STORAGE_CRS).to_numpy(),
                            crs=STORAGE_CRS)


def _best_site(tr: _Travel, idx: np.ndarray, own: np.ndarray) -> int:
    """The usable site among ``idx`` that leaves fewest of ``own`` unreachable, then least
    person-metres (-1 when none is usable)."""
    idx = idx[tr.usable[idx]]
    if not len(idx):
        return -1
    c = [(np.sum(~np.isfinite(tr.d_scen[i]) & own),
          np.sum(np.where(np.isfinite(tr.d_scen[i]) & own, tr.d_scen[i], 0) * tr.counts)) for i in idx]
    return int(idx[min(range(len(idx)), key=lambda k: c[k])])


def _choose_site(tr: _Travel, code: str, own: np.ndarray, neigh: dict[str, set[str]]
                 ) -> tuple[int, int, str]:
    """(normal-times best, chosen, decision) for one municipality."""
    mine = np.flatnonzero(tr.cand_muni == code)
    d = tr.d_norm
    cost_norm = np.array([np.sum(np.where(np.isfinite(d[i]) & own, d[i], 0) * tr.counts)
                          + UNREACHABLE_COST * np.sum(~np.isfinite(d[i]) & own) for i in mine])
    normal_best = int(mine[np.argmin(cost_norm)]) if len(mine) else -1
    if normal_best >= 0 and tr.usable[normal_best]:
        return normal_best, normal_best, "as_normal"
    if (alt := _best_site(tr, mine, own)) >= 0:
        return normal_best, alt, "next_in_municipality"
    chosen = _best_site(tr, np.flatnonzero(np.isin(tr.cand_muni, list(neigh.get(code, set())))), own)
    if chosen < 0:
        chosen = _best_site(tr, np.arange(len(tr.cand)), own)
    return normal_best, chosen, "backup_neighbour" if chosen >= 0 else "none"


def _municipal_plan(tr: _Travel, boundaries: gpd.GeoDataFrame, *, crs: str, network: Any,
                    normal_network: Any) -> tuple[pd.DataFrame, dict[str, Route]]:
    """The plan, municipality by municipality: its usual site if usable, else the next one in
    the municipality, else a neighbour's (with the backup route)."""
    neigh = neighbours(boundaries, crs=crs)
    cand, counts = tr.cand, tr.counts
    plan_rows = []
    routes: dict[str, Route] = {}
    muni_names = dict(zip(boundaries["code"].astype(str), boundaries["name"].astype(str), strict=False))
    for code in boundaries["code"].astype(str):
        own = tr.unit_muni == code
        if not own.any():
            continue
        normal_best, chosen, decision = _choose_site(tr, code, own, neigh)
        mine = tr.p_muni == code
        row: dict[str, Any] = {"muni_code": code, "muni_name": muni_names.get(code, ""),
                               "people": tr.people_in(mine),
                               "normal_site": str(cand.at[normal_best, "site_id"])
                               if normal_best >= 0 else ""}
        row["decision"] = decision
        row["open_site"] = str(cand.at[chosen, "site_id"]) if chosen >= 0 else ""
        row["open_site_name"] = cand.at[chosen, "name"] if chosen >= 0 else ""
        row["open_site_muni"] = tr.cand_muni[chosen] if chosen >= 0 else ""
        if chosen >= 0:
            d = tr.d_scen[chosen]
            fin = np.isfinite(d) & own
            row["person_km"] = round(float(np.sum(np.where(fin, d, 0) * counts) / 1000), 2)
            row["worst_unit_m"] = round(float(d[fin].max()), 1) if fin.any() else np.nan
            row["people_unreachable"] = tr.people_in(mine & ~tr.p_reach[chosen])
        if decision == "backup_neighbour" and network is not None:
            centre = np.average(tr.ux[own], axis=0, weights=counts[own])
            profile = "drive" if getattr(network, "directed", False) else "walk"
            r = route(network, tuple(tr.cx[chosen]), tuple(centre), profile=profile,
                      base=normal_network)
            routes[f"backup-{code}"] = r
            row["route_length_m"] = round(r.length_m, 1) if r.found and r.length_m else np.nan
        plan_rows.append(row)
    plan = pd.DataFrame(plan_rows)
    for col in ("people", "people_unreachable"):  # 「k未満」 as <NA>: numbers stay numbers
        if col in plan:
            plan[col] = count_column(plan[col])
    return plan, routes


def _p_median_plan(tr: _Travel, p: int, notes: list[str]) -> dict[str, Any]:
    """p-median over the usable sites (the region-wide alternative to one per municipality)."""
    use_idx = np.flatnonzero(tr.usable)
    if not len(use_idx):
        notes.append("使える災害VCの候補地がありません。")
        return {"p": 0, "sites": [], "person_km": None, "method": "none"}
    sel, obj, how = p_median(tr.d_scen[use_idx], tr.counts, min(p, len(use_idx)))
    return {"p": len(sel), "sites": [str(tr.cand.at[int(use_idx[k]), "site_id"]) for k in sel],
            "person_km": round(obj / 1000, 2), "method": how}


def _dispatch(tr: _Travel, plan: pd.DataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Dispatch zones: each unit and each usable shelter to its nearest open VC."""
    open_ids = [s for s in dict.fromkeys(plan["open_site"]) if s]
    open_idx = np.array([int(np.flatnonzero(tr.cand["site_id"].astype(str) == s)[0]) for s in open_ids],
                        np.int64)
    units = tr.units
    vc_unit = np.full(len(units), "", dtype=object)
    dist_unit = np.full(len(units), np.nan)
    if len(open_idx):
        sub = tr.d_scen[open_idx]
        k = np.argmin(sub, axis=0)
        best = sub[k, np.arange(len(units))]
        ok = np.isfinite(best)
        vc_unit[ok] = np.array(open_ids, dtype=object)[k[ok]]
        dist_unit[ok] = np.round(best[ok], 1)
    units_out = gpd.GeoDataFrame(
        {"unit_id": units["unit_id"], "count": units["count"], "muni_code": tr.unit_muni,
         "vc_id": vc_unit, "vc_distance_m": dist_unit},
        geometry=units.geometry.to_crs(STORAGE_CRS).to_numpy(), crs=STORAGE_CRS)
    shel = tr.shel
    if shel is None or not len(shel) or not len(open_idx):
        return units_out, gpd.GeoDataFrame({"shelter_id": [], "vc_id": []}, geometry=[],
                                           crs=STORAGE_CRS)
    sub = tr.d_shel[open_idx]
    k = np.argmin(sub, axis=0)
    best = sub[k, np.arange(sub.shape[1])]
    ok = np.isfinite(best)
    shel_out = gpd.GeoDataFrame(
        {"shelter_id": shel["shelter_id"].astype(str).to_numpy(), "name": shel["name"].to_numpy(),
         "muni_code": tr.shel_muni,
         "vc_id": np.where(ok, np.array(open_ids, dtype=object)[k], ""),
         "vc_distance_m": np.where(ok, np.round(best, 1), np.nan)},
        geometry=shel.geometry.to_crs(STORAGE_CRS).to_numpy(), crs=STORAGE_CRS)
    return units_out, shel_out


@dataclass(frozen=True)
class VCPlanOptions:
    """Options of :func:`analyse_vc_plan` (``p=None``: one per municipality)."""

    hazard: str = DEFAULT_HAZARD
    p: int | None = None
    shallow_factor: float | None = None
    season: str | None = None
    """``winter`` adds the 冬期閉鎖 sections in force on ``date`` to the hazard's closures."""
    date: str | None = None


@dataclass
class VCPlanRun:
    """The VC plan and the drive scenario it was planned in."""

    plan: VCPlan
    scenario: Scenario
    season: str = "夏"

    @property
    def notes(self) -> list[str]:
        return self.plan.notes

    def summary(self) -> dict[str, Any]:
        return {**self.plan.summary().as_dict(), "closed_segments": int(self.scenario.closed.sum()),
                "season": self.season}


def analyse_vc_plan(region: RegionLike, options: VCPlanOptions | None = None, *,
                    scenario: Scenario | None = None) -> VCPlanRun:
    """Rank the VC candidates in a hazard (by car where the region has a drive network) and
    choose where to open, per municipality and by p-median."""
    opt = options or VCPlanOptions()
    if opt.p is not None and opt.p < 1:
        raise ParameterError("p は 1 以上にしてください。", parameter="p", fix="例: 3")
    season = parse_season(opt.season, opt.date)
    scen = scenario or region_scenario(region, opt.hazard, drive=True, shallow_factor=opt.shallow_factor,
                                       season=season)
    plan = vc_plan(region.layer("vulnerable"), region.layer("vc_sites"), scen, crs=region.crs,
                   boundaries=region.layers.get("boundaries"), shelters=region.layers.get("shelters"),
                   network=scen.network, normal_network=scen.base, p=opt.p,
                   demand=register_people(region))
    if season.winter:
        plan.notes.append(_closure_note(season))
    return VCPlanRun(plan=plan, scenario=scen, season=season.label)
