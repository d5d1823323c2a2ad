"""Shelters and demand in a hazard scenario: who goes where, and does it fit.

Every person (the register's, in memory; or a published density spread over its
units' outlines, :mod:`layers.demand`) goes to their nearest **usable** shelter of the
scenario (:mod:`geo.engine.scenario`) along the scenario network.  Per shelter the number
of people it receives — a protected count (:meth:`layers.demand.Demand.count`) — is
compared with its capacity when the file gives one (``想定収容人数`` …); without a
capacity only the demand is shown and the table says so.  Per published unit the table
shows the shelter nearest its anchor (a public point) and how many of its people reach
no usable shelter (protected).

Welfare-type shelters (指定避難所 with ``受入対象者``, 福祉避難所) are second-stage
shelters opened for people moved from the first ones: they count as available
when they lie outside the scenario's zones, whatever their GSI hazard flags.
Their demand is *estimated*: the people nearest each of them × the region-wide share of the
categories that need them (:data:`WELFARE_CATEGORIES`, published totals of the
anonymiser); without category totals it is not estimated and the notes say so.

A two-step floating catchment area (2SFCA) index per unit: every usable
shelter's capacity is divided by the people within ``catchment`` metres of it (a
protected count; 「k未満」 counts as k), and a unit sums these ratios over the shelters
within reach of its anchor — places per 要配慮者 (≥ 1: enough places nearby).  Shelters
without capacity take the median capacity of the others; with no capacities at all every shelter counts 1 and
the index is relative.

Units with no reachable usable shelter are listed first in every table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analyses.coverage import (
    ESTIMATE_LABEL,
    CoverageResult,
    coverage,
    demand_units,
    pairs_near,
    people_in_units,
)
from geo.analyses.inputs import demand_layer, register_people
from geo.engine.profiles import DEFAULT_CIRCUITY
from geo.engine.scenario import Scenario, region_scenario
from geo.engine.season import Season, parse_season
from geo.summary import Summary, optional
from layers.anonymise import K_DEFAULT
from layers.crs import STORAGE_CRS
from layers.demand import Demand, PerPerson
from layers.errors import ParameterError
from layers.hazards import in_zones
from layers.shelters import DEFAULT_HAZARD

if TYPE_CHECKING:
    from layers.region import RegionLike

__all__ = ["DEFAULT_CATCHMENT", "WELFARE_CATEGORIES", "ShelterLoad", "shelter_load"]


DEFAULT_CATCHMENT = 2000.0
"""Metres: the 2SFCA catchment and the distance beyond which a unit is "far" from
its shelter (about 40 minutes at the elderly walking speed)."""

WELFARE_CATEGORIES = ("要介護", "障害")
"""Register categories counted as needing a welfare-type shelter."""

NO_CAPACITY = "収容人数の記載なし（需要のみ表示）"


@dataclass
class ShelterLoad:
    """Per-unit assignment and per-shelter load of one scenario."""

    hazard: str
    units: gpd.GeoDataFrame
    shelters: gpd.GeoDataFrame
    method: str
    notes: list[str] = field(default_factory=list)
    welfare_share: float | None = None
    people: dict[str, int | str] = field(default_factory=dict)
    """Protected totals of people: ``total``, ``assigned`` (reach a usable shelter),
    ``unreachable`` (each its own protected count, not a difference)."""
    k: int = K_DEFAULT
    """The register's k: a count shown as 「k未満」 is below it."""

    def summary(self) -> ShelterSummary:
        u, s = self.units, self.shelters
        total = self.people.get("total", int(u["count"].sum()))
        assigned = self.people.get("assigned", int(u.loc[u["reachable"], "count"].sum()))
        unreachable = self.people.get("unreachable", int(u.loc[~u["reachable"], "count"].sum()))
        usable = s["status"] == "usable"
        w = s[s["welfare"]]
        cap = w.loc[w["welfare_available"], "capacity"].dropna()
        return ShelterSummary(
            hazard=self.hazard, method=self.method, demand_total=total, demand_assigned=assigned,
            demand_unreachable=unreachable, units_unreachable=int((~u["reachable"]).sum()),
            shelters_usable=int(usable.sum()), shelters_unusable=int((~usable).sum()),
            overloaded=int(s["overloaded"].sum()),
            capacity_known=int(s.loc[usable, "capacity"].notna().sum()),
            welfare_shelters=len(w),
            welfare_shelters_available=int(w["welfare_available"].sum()) if len(w) else None,
            welfare_capacity=int(cap.sum()) if len(cap) else None,
            welfare_demand_estimate=(round(float(s["welfare_demand"].sum()), 1)
                                     if len(w) and self.welfare_share is not None else None))


@dataclass(frozen=True)
class ShelterSummary(Summary):
    """People assigned to usable shelters in one scenario, and the shelters' load.  People are
    protected counts: an integer, or 「k未満」."""

    hazard: str
    method: str
    demand_total: int | str
    demand_assigned: int | str
    demand_unreachable: int | str
    units_unreachable: int
    shelters_usable: int
    shelters_unusable: int
    overloaded: int
    capacity_known: int
    welfare_shelters: int = 0
    welfare_shelters_available: int | None = optional()
    welfare_capacity: int | None = optional()
    welfare_demand_estimate: float | None = optional()


def _welfare_share(density: gpd.GeoDataFrame) -> float | None:
    cats = density.attrs.get("summary", {}).get("categories") or {}
    counts = {k: v for k, v in cats.items() if isinstance(v, int | float)}
    total = sum(counts.values())  # the categories' own (protected) counts: a share among them
    if not counts or not total:
        return None
    return float(sum(counts.get(c, 0) for c in WELFARE_CATEGORIES)) / float(total)


def _supply(capacity: pd.Series) -> tuple[np.ndarray, str | None]:
    cap = capacity.astype("Float64")
    known = cap.dropna()
    if len(known) == len(cap):
        return cap.to_numpy(float), None
    if len(known):
        fill = float(known.median())
        return cap.fillna(fill).to_numpy(float), (
            f"収容人数のない避難所 {int(cap.isna().sum())} か所は、他の避難所の中央値 {fill:.0f} 人として"
            "近くの避難所の余裕（収容人数あたりの人数）を計算しました。")
    return np.ones(len(cap)), ("収容人数の記載がないため、近くの避難所の余裕は避難所 1 か所 = 1 として"
                               "相対値で計算しました。")


def _pairs(x: np.ndarray, y: np.ndarray, shel: gpd.GeoDataFrame, scenario: Scenario, limit: float,
           circuity: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return pairs_near(x, y, shel.geometry.x.to_numpy(), shel.geometry.y.to_numpy(),
                      network=scenario.network, limit=limit, circuity=circuity)


def _capacity_first(shelters: gpd.GeoDataFrame, rows: np.ndarray) -> np.ndarray:
    """``rows`` (positions in ``shelters``) with a stated capacity first (stable): of
    shelters equally near — a 指定避難所 and a 緊急避難場所 at one address — people go to the
    first (:func:`geo.engine.network.nearest_facility`)."""
    has = (shelters["capacity"].astype("Float64").fillna(0) > 0).to_numpy(bool)[rows]
    return rows[np.argsort(~has, kind="stable")]


@dataclass(frozen=True, repr=False, eq=False)
class _Reach(PerPerson):
    """Each person's shelter (row of the shelters, −1 none) and unit, in memory only."""

    people: Demand
    unit: np.ndarray
    shelter: np.ndarray


def _nearest(density: gpd.GeoDataFrame, shel: gpd.GeoDataFrame, rows: np.ndarray, scenario: Scenario,
             *, crs: str, catchment: float, circuity: float, demand: Demand | None
             ) -> tuple[CoverageResult | None, _Reach]:
    """Every unit's anchor and every person to the nearest of the shelters ``rows``."""
    if not len(rows):
        people, unit = people_in_units(density, demand, crs)
        return None, _Reach(people, unit, np.full(len(people), -1, np.int64))
    order = _capacity_first(shel, rows)
    cov = coverage(density, shel.iloc[order], crs=crs, network=scenario.network, max_distance=catchment,
                   facility_layer="shelters", circuity=circuity, demand=demand)
    reach = cov.people
    if reach is None:
        raise RuntimeError("coverage returned no people")
    return cov, _Reach(reach.demand, reach.unit,
                       np.where(reach.facility >= 0, order[np.maximum(reach.facility, 0)], -1))


def shelter_load(
    density: gpd.GeoDataFrame,
    shelters: gpd.GeoDataFrame,
    scenario: Scenario,
    *,
    crs: str,
    catchment: float = DEFAULT_CATCHMENT,
    circuity: float | None = None,
    demand: Demand | None = None,
) -> ShelterLoad:
    """Send every person to their nearest usable shelter and load the shelters.

    Parameters
    ----------
    density
        The anonymised density: the units results are reported on.
    shelters
        The shelters layer; ``scenario.shelter_status`` must be aligned to it.
    scenario
        From :func:`geo.engine.scenario.make_scenario` (its network is used; without
        roads, straight line × ``circuity``, labelled as an estimate).
    crs
        The metric analysis CRS.
    catchment
        2SFCA catchment in metres.
    demand
        The register's people in memory; by default the density's people spread over each
        unit's outline.

    Returns
    -------
    ShelterLoad
        ``units``: ``unit_id``, ``count``, ``shelter_id``, ``distance_m``,
        ``reachable``, ``far`` (beyond ``catchment``), ``elderly_min`` (from the unit's
        anchor), ``unreachable_n`` (its people with no usable shelter, protected),
        ``welfare_shelter_id``, ``welfare_demand``, ``access_2sfca``, sorted with
        unreachable units first.  ``shelters``: ``shelter_id``, ``name``,
        ``status``, ``capacity``, ``demand`` (protected; ``<NA>`` = 「k未満」), ``load_ratio``,
        ``overloaded``,
        ``capacity_note``, ``welfare``, ``welfare_available``, ``welfare_demand``.
    """
    if catchment <= 0:
        raise ParameterError("2SFCA の圏域（m）は正の数にしてください。", parameter="catchment",
                             fix="例: 2000")
    if scenario.shelter_status is None or len(scenario.shelter_status) != len(shelters):
        raise ValueError("the scenario was built without these shelters")
    status = scenario.shelter_status.to_numpy()
    usable = status == "usable"
    notes: list[str] = _designation_notes(status, scenario.label)
    shel = shelters.reset_index(drop=True).assign(status=status)
    units = demand_units(density, crs=crs)
    circ = float(circuity or DEFAULT_CIRCUITY)
    method = "network" if scenario.network is not None else ESTIMATE_LABEL
    cov, reach = _nearest(density, shel, np.flatnonzero(usable), scenario, crs=crs, catchment=catchment,
                          circuity=circ, demand=demand)
    if cov is None:
        notes.append(f"{scenario.label}で使える避難所がありません。すべての単位が到達不能です。")
    else:
        notes += cov.notes
    goes = reach.shelter >= 0
    out = _unit_rows(units, cov, reach, catchment)
    share, welfare, welfare_ok, wdemand = _welfare(out, density, shel, scenario, crs=crs, catchment=catchment,
                                                   circuity=circ, notes=notes, demand=demand)
    table = _shelter_table(reach.people.count(reach.shelter, len(shel), goes), shel, status, welfare,
                           welfare_ok, wdemand)
    cap = shel["capacity"].astype("Float64")
    if usable.any() and cap[usable].isna().all():
        notes.append("使える避難所に収容人数の記載がないため、割り当て人数のみを示します。")
    out["access_2sfca"] = _access_2sfca(units, reach.people, shel, usable, cap, scenario,
                                        catchment=catchment, circuity=circ, crs=crs, notes=notes)
    people = {"total": reach.people.total(), "assigned": reach.people.total(goes),
              "unreachable": reach.people.total(~goes)}
    out = out.sort_values(["reachable", "distance_m"], ascending=[True, False],
                          na_position="first", kind="stable")
    out = gpd.GeoDataFrame(out.reset_index(drop=True), geometry="geometry", crs=crs)
    table = table.assign(_u=table["status"] == "usable").sort_values(
        ["overloaded", "_u", "load_ratio", "demand"], ascending=[False, False, False, False],
        kind="stable", na_position="last").drop(columns="_u").reset_index(drop=True)
    return ShelterLoad(hazard=scenario.hazard, units=out, shelters=table, method=method,
                       notes=notes, welfare_share=share, people=people, k=reach.people.k)


def _unit_rows(units: gpd.GeoDataFrame, cov: CoverageResult | None, reach: _Reach,
               catchment: float) -> gpd.GeoDataFrame:
    """Per unit: the shelter nearest its anchor (none when ``cov`` is None: no usable
    shelter), and how many of its people reach none (protected)."""
    assigned = cov.units if cov is not None else units.assign(
        facility_id="", distance_m=np.nan, reachable=False, elderly_min=np.nan)
    out = units[["unit_id", "count", "geometry"]].assign(
        shelter_id=assigned["facility_id"].to_numpy(),
        distance_m=assigned["distance_m"].to_numpy(),
        reachable=assigned["reachable"].to_numpy(bool),
        elderly_min=assigned["elderly_min"].to_numpy(),
        unreachable_n=reach.people.count(reach.unit, len(units), reach.shelter < 0))
    out["far"] = out["reachable"] & (out["distance_m"] > catchment)
    return out


def _designation_notes(status: np.ndarray, label: str) -> list[str]:
    """Where "not usable" is the data's designation, not the map's verdict."""
    none = int((status == "not_designated").sum())
    if none and none == len(status):
        return [f"この地域の避難所データには、{label}に指定された避難所がありません。"
                "「使える避難所 0」「行けない人」は地図の判定ではなく、データの指定によるものです。"
                "市町村の指定（国土地理院の指定緊急避難場所データ）を確かめてください。"]
    if none:
        return [f"避難所 {none} か所は、データ上{label}に指定されていないため使えない扱いです"
                "（地図の判定ではなく、データの指定です）。"]
    return []


def _welfare(out: gpd.GeoDataFrame, density: gpd.GeoDataFrame, shel: gpd.GeoDataFrame,
             scenario: Scenario, *, crs: str, catchment: float, circuity: float, notes: list[str],
             demand: Demand | None) -> tuple[float | None, np.ndarray, np.ndarray, np.ndarray]:
    """Welfare-type shelters: available outside the zones, demand estimated by share (sets
    ``welfare_demand`` and ``welfare_shelter_id`` of ``out``; returns each shelter's estimated
    welfare demand: the protected count of people nearest it × the share)."""
    circ = circuity
    share = _welfare_share(density)
    wdemand = np.zeros(len(shel))
    zones_hit = in_zones(shel, scenario.zones)
    welfare = shel["welfare"].astype(bool).to_numpy()
    welfare_ok = welfare & ~zones_hit
    out["welfare_demand"] = np.round(out["count"] * share, 2) if share is not None else np.nan
    out["welfare_shelter_id"] = ""
    if share is None:
        notes.append("要配慮者の区分別の人数がないため、福祉避難所の需要は推定していません。")
    if welfare_ok.any():
        wcov, wreach = _nearest(density, shel, np.flatnonzero(welfare_ok), scenario, crs=crs,
                                catchment=catchment, circuity=circ, demand=demand)
        out["welfare_shelter_id"] = wcov.units["facility_id"].to_numpy() if wcov is not None else ""
        near = wreach.people.count(wreach.shelter, len(shel), wreach.shelter >= 0)
        wdemand = near.to_numpy(float, na_value=float(wreach.people.k)) * (share or 0.0)
    elif welfare.any():
        notes.append(f"{scenario.label}で使える福祉避難所がありません。")
    return share, welfare, welfare_ok, wdemand


def _shelter_table(load: pd.arrays.IntegerArray, shel: gpd.GeoDataFrame, status: np.ndarray,
                   welfare: np.ndarray, welfare_ok: np.ndarray, wdemand: np.ndarray) -> gpd.GeoDataFrame:
    """Per shelter: people it receives (``load``, protected), load against capacity, welfare
    demand (``wdemand``)."""
    usable = status == "usable"
    sid = shel["shelter_id"].astype(str)
    cap = shel["capacity"].astype("Float64")
    demand = pd.Series(load, index=cap.index, dtype="Int64").where(pd.Series(usable, index=cap.index), 0)
    ratio = (demand / cap).where((cap > 0) & pd.Series(usable, index=cap.index))
    return gpd.GeoDataFrame({
        "shelter_id": sid, "name": shel["name"], "muni_code": shel.get("muni_code", ""),
        "kind": shel["kind"], "status": status, "capacity": shel["capacity"].astype("Int64"),
        "demand": demand,
        "load_ratio": ratio.round(2).astype("Float64"),
        "overloaded": (ratio > 1).fillna(False).astype(bool).to_numpy() & usable,
        "capacity_note": np.where(cap.isna().to_numpy(), NO_CAPACITY, ""),
        "welfare": welfare, "welfare_available": welfare_ok,
        "welfare_demand": pd.Series(np.round(wdemand, 1), index=cap.index).where(welfare_ok, 0.0),
    }, geometry=shel.geometry.to_crs(STORAGE_CRS).to_numpy(), crs=STORAGE_CRS)


def _access_2sfca(units: gpd.GeoDataFrame, people: Demand, shel: gpd.GeoDataFrame, usable: np.ndarray,
                  cap: pd.Series, scenario: Scenario, *, catchment: float, circuity: float, crs: str,
                  notes: list[str]) -> np.ndarray:
    """Two-step floating catchment access of each unit's anchor over the usable shelters: a
    shelter's places over the people within reach of it (protected; 「k未満」 as k)."""
    supply, note = _supply(cap[usable])
    if note and usable.any():
        notes.append(note)
    acc = np.zeros(len(units))
    if usable.any():
        shel_m = shel[usable].to_crs(crs)
        px, py = people.xy(crs)
        pi, fi, _d = _pairs(px, py, shel_m, scenario, catchment, circuity)
        pop = people.count_pairs(pi, fi, len(shel_m)).to_numpy(float, na_value=float(people.k))
        ratio_j = np.where(pop > 0, supply / np.where(pop > 0, pop, 1), 0.0)
        ui, uf, _d = _pairs(units.geometry.x.to_numpy(), units.geometry.y.to_numpy(), shel_m, scenario,
                            catchment, circuity)
        acc = np.bincount(ui, weights=ratio_j[uf], minlength=len(units)).astype(float)
    return np.round(acc, 3)


@dataclass(frozen=True)
class ShelterOptions:
    """Options of :func:`analyse_shelters`."""

    hazard: str = DEFAULT_HAZARD
    catchment: float = DEFAULT_CATCHMENT
    shallow_factor: float | None = None
    season: str | None = None
    """``winter`` adds the 冬期閉鎖 sections in force on ``date`` to the hazard's closures."""
    date: str | None = None
    year: int | None = None
    """A projection year: the demand of that year (:func:`demand_layer`)."""
    demand: str = "register"


@dataclass
class ShelterRun:
    """The scenario (closed roads, shelter status) and the load it puts on shelters."""

    scenario: Scenario
    load: ShelterLoad
    season: str = "夏"
    year: int | None = None

    @property
    def notes(self) -> list[str]:
        return self.load.notes

    def summary(self) -> dict[str, Any]:
        """The scenario's and the load's figures together (the ``tomoni shelters`` JSON)."""
        when = {"season": self.season, **({"year": self.year} if self.year is not None else {})}
        return {**self.scenario.summary().as_dict(), **self.load.summary().as_dict(), **when}


def analyse_shelters(region: RegionLike, options: ShelterOptions | None = None, *,
                     scenario: Scenario | None = None) -> ShelterRun:
    """Which shelters a hazard leaves usable, who reaches which, and their load.

    ``scenario`` reuses a scenario already built for ``options.hazard``."""
    opt = options or ShelterOptions()
    season = parse_season(opt.season, opt.date)
    scen = scenario or region_scenario(region, opt.hazard, shallow_factor=opt.shallow_factor,
                                       season=season)
    load = shelter_load(demand_layer(region, year=opt.year, demand=opt.demand), region.layer("shelters"),
                        scen, crs=region.crs, catchment=opt.catchment,
                        demand=register_people(region, year=opt.year, demand=opt.demand))
    if season.winter:
        load.notes.append(_closure_note(season))
    return ShelterRun(scenario=scen, load=load, season=season.label, year=opt.year)


def _closure_note(season: Season) -> str:
    day = f"{season.date.isoformat()} に閉鎖中のもの" if season.date else "日付の指定がないため、すべての区間"
    return f"冬期閉鎖区間（{day}）も通行止めとして計算しました。"
