"""Where the next 居場所 should open: network location-allocation.

Demand is the published 要配慮者 units (never people); a unit is covered when a
site lies within ``max_distance`` metres along the roads (the coverage engine's
rule, :mod:`geo.analyses.coverage`; straight line × circuity without roads).  Existing
sites stay open: only the units they leave uncovered are at stake.

Models (exact MILP with HiGHS through ``highspy``, a time limit and the
optimality gap reported; a greedy solution is the warm start and the fallback,
its gap measured against the solver's bound or the LP relaxation):

* **MCLP** — choose ``p`` new sites maximising the newly covered people;
* **capacitated MCLP** — each new site serves at most its capacity (people may
  be split between sites: units are aggregates), existing sites as they are;
* **minimum sites** (LSCP-style) — the fewest new sites reaching a target share
  of all people covered.

Coverage sets are sparse (unit, candidate) pairs from the compiled bounded
searches of :func:`geo.engine.network.pairs_within`; no dense matrix is built.

Candidates come from any point layer (公民館, shelters, a user's list), closed
schools of a consolidation (schools of the *before* period absent *after*), or
are generated (road nodes inside coverage gaps, or the centres of uncovered
units), optionally only those outside the zones of a hazard.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csc_array, csr_array
from scipy.spatial import cKDTree

from geo.analyses.coverage import (
    CoverageResult,
    PeopleReach,
    area_of,
    by_area,
    coverage,
    demand_units,
    pairs_near,
    people_of,
    shapes_in,
)
from geo.analyses.inputs import _network, demand_layer, region_areas, register_people
from geo.engine.network import Network
from geo.engine.profiles import DEFAULT_MAX_DISTANCE, minutes_for
from geo.engine.scenario import parse_hazard
from geo.engine.season import parse_season, region_season
from geo.summary import Summary
from layers.crs import STORAGE_CRS
from layers.demand import Demand, count_column
from layers.errors import LayerError, ParameterError
from layers.hazards import in_zones
from layers.layer_facts import id_column
from layers.school_districts import current_period, periods_of

if TYPE_CHECKING:
    from layers.region import RegionLike

__all__ = [
    "CANDIDATE_SOURCES",
    "Recommendation",
    "closed_schools",
    "coverage_pairs",
    "gap_candidates",
    "greedy_mclp",
    "outside_zones",
    "recommend",
    "region_candidates",
    "solve_mclp",
]

log = logging.getLogger(__name__)

DEFAULT_TIME_LIMIT = 30.0
"""Seconds the solver may take (the CLI, the app and reports alike)."""

GAP_CENTRE = "空白地帯の中心"
"""The name a ``gap_units`` candidate has until :func:`describe_sites` names it by its place."""

CANDIDATE_SOURCES = ("places", "shelters", "vc_sites", "closed_schools", "gap_nodes", "gap_units")


@dataclass
class Solution:
    """Chosen candidate indices, the objective (people newly covered), gap and method."""

    chosen: list[int]
    objective: float
    gap: float
    method: str
    bound: float | None = None
    seconds: float = 0.0
    greedy_objective: float | None = None
    """The greedy answer (warm start), to compare with the bound."""


@dataclass
class Recommendation:
    """The recommended sites and what they change."""

    sites: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    curve: pd.DataFrame
    before_after: pd.DataFrame
    model: str
    p: int
    covered_before: int | str
    covered_after: int | str
    total: int | str
    gap: float
    method: str
    notes: list[str] = field(default_factory=list)
    greedy_gap: float | None = None
    """How far the greedy answer (the warm start and fallback) is from the solver's bound."""

    def summary(self) -> SitingSummary:
        return SitingSummary(
            p=self.p, model=self.model, total=self.total, covered_before=self.covered_before,
            covered_after=self.covered_after, gap=round(self.gap, 5), method=self.method,
            greedy_gap=None if self.greedy_gap is None else round(self.greedy_gap, 5),
            sites=self.sites["candidate_id"].tolist())


@dataclass(frozen=True)
class SitingSummary(Summary):
    """People covered before and after opening the recommended sites (``gap``: optimality gap)."""

    p: int
    model: str
    total: int | str
    covered_before: int | str
    covered_after: int | str
    gap: float
    method: str
    greedy_gap: float | None
    sites: list[str]


def closed_schools(districts: gpd.GeoDataFrame, *, before: str, after: str) -> gpd.GeoDataFrame:
    """Schools of the ``before`` period that no longer exist ``after`` (freed buildings).

    Needs the school locations (学校緯度/学校経度 in the 校区 file); a school is
    matched by code, else by name.
    """
    b = districts[districts["period"].astype(str) == before]
    a = districts[districts["period"].astype(str) == after]
    if b.empty or a.empty:
        raise LayerError("校区レイヤーに再編前・後の時点がありません。", layer="school_districts",
                         column="periods",
                         fix="地域設定の [layers.school_districts] に periods を書いてください。")
    def keys(frame: gpd.GeoDataFrame) -> pd.Series:
        code = frame["school_code"].astype(str)
        return code.where(code != "", frame["name"].astype(str))

    b = b.assign(_key=keys(b))
    located = b["school_lon"].notna() & b["school_lat"].notna()
    gone = b[located & ~b["_key"].isin(set(keys(a)))].drop_duplicates("_key")
    # a school kept under a new code (a merged school) stays where it was: same place = not closed
    pts = gpd.GeoSeries(gpd.points_from_xy(gone["school_lon"], gone["school_lat"]), crs=STORAGE_CRS)
    a_loc = a[a["school_lon"].notna() & a["school_lat"].notna()]
    if len(a_loc) and len(pts):
        metric = pts.estimate_utm_crs()
        still = gpd.GeoSeries(gpd.points_from_xy(a_loc["school_lon"], a_loc["school_lat"]),
                              crs=STORAGE_CRS).to_crs(metric)
        near = still.sindex.query(pts.to_crs(metric).to_numpy(), predicate="dwithin", distance=50.0)[0]
        keep = ~np.isin(np.arange(len(pts)), near)
        gone, pts = gone[keep], pts[keep]
    return gpd.GeoDataFrame(
        {"candidate_id": ("school:" + gone["_key"]).to_numpy(),
         "name": gone["name"].astype(str).to_numpy(), "source": "closed_schools"},
        geometry=pts.to_numpy(), crs=STORAGE_CRS)


def gap_candidates(result: CoverageResult, *, network: Network | None, kind: str = "gap_nodes",
                   limit: int = 2000) -> gpd.GeoDataFrame:
    """Generated candidates where people are not covered.

    ``gap_units``: the centre of every uncovered unit; ``gap_nodes``: road nodes
    within ``max_distance`` of an uncovered unit (thinned to ``limit``, evenly).
    """
    units = result.units
    un = units[~units["covered"]]
    crs = units.crs
    if kind == "gap_units" or network is None:
        pts = un.geometry
        if network is not None:  # on the road nearest to the unit's anchor: a public place
            _d, node = cKDTree(np.column_stack([network.x, network.y])).query(
                np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()]))
            pts = gpd.GeoSeries(shapely.points(network.x[node], network.y[node]), crs=crs)
        ids = [f"unit:{u}" for u in un["unit_id"]]
        return gpd.GeoDataFrame({"candidate_id": ids, "name": [GAP_CENTRE] * len(ids),
                                 "source": "gap_units"}, geometry=pts.to_numpy(), crs=crs).to_crs(STORAGE_CRS)
    tree = shapely.STRtree(shapely.points(network.x, network.y))
    _ui, ni = tree.query(un.geometry.to_numpy(), predicate="dwithin", distance=result.max_distance)
    nodes = np.unique(ni)
    if len(nodes) > limit:
        nodes = nodes[np.linspace(0, len(nodes) - 1, limit).astype(int)]
    return gpd.GeoDataFrame(
        {"candidate_id": [f"node:{network.node_ids[n]}" for n in nodes],
         "name": [f"道路ノード {network.node_ids[n]}" for n in nodes], "source": "gap_nodes"},
        geometry=shapely.points(network.x[nodes], network.y[nodes]), crs=crs).to_crs(STORAGE_CRS)


def outside_zones(candidates: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The candidates outside every given hazard zone."""
    return candidates[~in_zones(candidates, zones)]


def coverage_pairs(units: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame, *, crs: str,
                   network: Network | None, max_distance: float,
                   circuity: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sparse (unit, candidate, metres) pairs within ``max_distance`` (network, else estimate)."""
    c = candidates.to_crs(crs)
    return pairs_near(units.geometry.x.to_numpy(), units.geometry.y.to_numpy(),
                      c.geometry.x.to_numpy(), c.geometry.y.to_numpy(), network=network,
                      limit=max_distance, circuity=circuity)


def _highs(time_limit: float, mip_gap: float | None = None) -> Any:
    """A quiet HiGHS instance.  highspy 1.16 prints its banner from the constructor, before
    ``output_flag`` can be set (HiGHS issue #2749), which would break the JSON printed by the
    CLI: the process's stdout descriptor is pointed at /dev/null while it is built."""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.setOptionValue("time_limit", float(time_limit))
    if mip_gap is not None:
        h.setOptionValue("mip_rel_gap", float(mip_gap))
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("threads", 1)
    return h


def greedy_mclp(a: csr_array, w: np.ndarray, p: int, *, capacity: np.ndarray | None = None) -> list[int]:
    """Greedy: add the candidate with the largest marginal gain, ``p`` times.

    ``a`` is units × candidates (1 = covers).  With ``capacity`` a site's gain is
    capped by its capacity and the people it takes are removed from the pool.
    """
    remaining = np.asarray(w, float).copy()
    chosen: list[int] = []
    at = csc_array(a)
    for _ in range(p):
        gain = at.T @ remaining
        if capacity is not None:
            gain = np.minimum(gain, capacity)
        gain[chosen] = -1
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            break
        chosen.append(j)
        rows = at.indices[at.indptr[j]:at.indptr[j + 1]]
        if capacity is None:
            remaining[rows] = 0
        else:
            take = min(float(capacity[j]), float(remaining[rows].sum()))
            for r in rows[np.argsort(-remaining[rows])]:  # a short loop over one site's units
                t = min(take, remaining[r])
                remaining[r] -= t
                take -= t
                if take <= 0:
                    break
    return chosen


def _objective(a: csr_array, w: np.ndarray, chosen: list[int], capacity: np.ndarray | None) -> float:
    if not chosen:
        return 0.0
    if capacity is None:
        return float(w[np.asarray(a[:, chosen].sum(axis=1)).ravel() > 0].sum())
    return float(w.sum() - _greedy_remaining(a, w, chosen, capacity))


def _greedy_remaining(a: csr_array, w: np.ndarray, chosen: list[int], capacity: np.ndarray) -> float:
    remaining = np.asarray(w, float).copy()
    at = csc_array(a)
    for j in chosen:
        rows = at.indices[at.indptr[j]:at.indptr[j + 1]]
        take = min(float(capacity[j]), float(remaining[rows].sum()))
        for r in rows[np.argsort(-remaining[rows])]:
            t = min(take, remaining[r])
            remaining[r] -= t
            take -= t
            if take <= 0:
                break
    return float(remaining.sum())


def _mclp_model(a: csr_array, w: np.ndarray, p: int, capacity: np.ndarray | None) -> Any:
    """The MCLP (or capacitated MCLP) as a HiGHS model (see :func:`solve_mclp`)."""

    n_i, n_j = a.shape
    coo = a.tocoo()
    rows_i, cols_j = coo.row.astype(np.int64), coo.col.astype(np.int64)
    if capacity is None:
        # cols: x (n_j) then y (n_i); rows: n_i coverage rows + 1 budget row
        n_col = n_j + n_i
        cost = np.r_[np.zeros(n_j), w]
        lower, upper = np.zeros(n_col), np.ones(n_col)
        r = np.r_[rows_i, np.arange(n_i), np.full(n_j, n_i)]
        c = np.r_[cols_j, n_j + np.arange(n_i), np.arange(n_j)]
        v = np.r_[-np.ones(len(rows_i)), np.ones(n_i), np.ones(n_j)]
        row_lo = np.r_[np.full(n_i, -np.inf), -np.inf]
        row_hi = np.r_[np.zeros(n_i), float(p)]
        n_row = n_i + 1
    else:
        # cols: x (n_j) then z per pair (nnz); rows: unit (n_i), site (n_j), link (nnz), budget
        nnz = len(rows_i)
        n_col = n_j + nnz
        cost = np.r_[np.zeros(n_j), w[rows_i]]
        lower, upper = np.zeros(n_col), np.ones(n_col)
        z = n_j + np.arange(nnz)
        r = np.r_[rows_i, n_i + cols_j, np.arange(n_j) + n_i, n_i + n_j + np.arange(nnz),
                  n_i + n_j + np.arange(nnz), np.full(n_j, n_i + n_j + nnz)]
        c = np.r_[z, z, np.arange(n_j), z, cols_j, np.arange(n_j)]
        v = np.r_[np.ones(nnz), w[rows_i], -np.asarray(capacity, float), np.ones(nnz), -np.ones(nnz),
                  np.ones(n_j)]
        n_row = n_i + n_j + nnz + 1
        row_lo = np.full(n_row, -np.inf)
        row_hi = np.r_[np.ones(n_i), np.zeros(n_j), np.zeros(nnz), float(p)]
    return highs_lp(csc_array((v, (r, c)), shape=(n_row, n_col)), cost=cost, lower=lower, upper=upper,
                    row_lo=row_lo, row_hi=row_hi, n_int=n_j)


def highs_lp(m: csc_array, *, cost: np.ndarray, lower: np.ndarray, upper: np.ndarray,
             row_lo: np.ndarray, row_hi: np.ndarray, n_int: int) -> Any:
    """A maximising HiGHS model of constraint matrix ``m`` whose first ``n_int`` columns
    are integer."""
    import highspy

    n_row, n_col = m.shape
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_col, n_row
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lower, upper
    lp.row_lower_, lp.row_upper_ = row_lo, row_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = m.indptr.astype(np.int32)
    lp.a_matrix_.index_ = m.indices.astype(np.int32)
    lp.a_matrix_.value_ = m.data.astype(float)
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n_col, n_row
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.integrality_ = ([highspy.HighsVarType.kInteger] * n_int
                       + [highspy.HighsVarType.kContinuous] * (n_col - n_int))
    return lp


def solve_mclp(
    a: csr_array,
    w: np.ndarray,
    p: int,
    *,
    capacity: np.ndarray | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    mip_gap: float = 0.01,
    warm: list[int] | None = None,
) -> Solution:
    """Maximal covering (optionally capacitated) as a MILP solved by HiGHS.

    Columns: ``x_j`` binary per candidate, and ``y_i`` ∈ [0, 1] per unit
    (uncapacitated: ``y_i ≤ Σ_{j covers i} x_j``) or ``z_ij`` ∈ [0, 1] per pair
    (capacitated: ``Σ_j z_ij ≤ 1``, ``Σ_i w_i z_ij ≤ cap_j x_j``, ``z_ij ≤ x_j``);
    ``Σ x_j ≤ p``; maximise covered people.  Warm-started from ``warm`` (the
    greedy answer by default); if HiGHS cannot run, the greedy answer is
    returned with its gap to the LP bound when available.
    """
    import highspy

    t0 = time.perf_counter()
    a = csr_array(a)
    n_j = a.shape[1]
    w = np.asarray(w, float)
    warm = warm if warm is not None else greedy_mclp(a, w, p, capacity=capacity)
    greedy_obj = _objective(a, w, warm, capacity)
    if n_j == 0 or a.nnz == 0 or p <= 0:
        return Solution(chosen=[], objective=0.0, gap=0.0, method="trivial")
    lp = _mclp_model(a, w, p, capacity)
    n_col = lp.num_col_
    h = _highs(time_limit, mip_gap)
    h.passModel(lp)
    sol = highspy.HighsSolution()
    start = np.zeros(n_col)
    start[warm] = 1.0
    if capacity is None:
        start[n_j:] = np.minimum(1.0, np.asarray(a[:, warm].sum(axis=1)).ravel()) if warm else 0.0
    sol.col_value = start.tolist()
    sol.value_valid = True
    h.setSolution(sol)
    h.run()
    info = h.getInfo()
    status = h.getModelStatus()
    values = np.asarray(h.getSolution().col_value) if info.primal_solution_status else None
    if values is None or not len(values):
        log.warning("HiGHS gave no solution (%s): greedy answer kept", h.modelStatusToString(status))
        return Solution(chosen=warm, objective=greedy_obj, gap=float("nan"), method="greedy",
                        seconds=time.perf_counter() - t0, greedy_objective=greedy_obj)
    chosen = [int(j) for j in np.flatnonzero(values[:n_j] > 0.5)]
    obj = _objective(a, w, chosen, capacity) if capacity is None else float(info.objective_function_value)
    bound = float(info.mip_dual_bound)
    if greedy_obj > obj + 1e-9:  # the time limit hit before HiGHS matched its warm start
        chosen, obj = warm, greedy_obj
    gap = max(0.0, (bound - obj) / bound) if bound > 0 and np.isfinite(bound) else 0.0
    return Solution(chosen=chosen, objective=obj, gap=gap, method="milp", bound=bound,
                    seconds=time.perf_counter() - t0, greedy_objective=greedy_obj)


def solve_min_sites(a: csr_array, w: np.ndarray, target: float, *, time_limit: float = DEFAULT_TIME_LIMIT
                    ) -> Solution:
    """Fewest sites covering at least ``target`` people (LSCP-style), MILP with HiGHS."""
    import highspy

    t0 = time.perf_counter()
    a = csr_array(a)
    n_i, n_j = a.shape
    w = np.asarray(w, float)
    if target <= 0:
        return Solution(chosen=[], objective=0.0, gap=0.0, method="trivial")
    reach = float(w[np.asarray(a.sum(axis=1)).ravel() > 0].sum())
    if reach + 1e-9 < target:
        raise ParameterError("候補地をすべて開いても目標のカバー率に届きません。", parameter="target",
                         fix=f"目標を下げるか候補地を増やしてください"
                         f"（最大で {reach:.0f} 人を新たにカバー）。")
    coo = a.tocoo()
    n_col = n_j + n_i
    r = np.r_[coo.row, np.arange(n_i), np.full(n_i, n_i)]
    c = np.r_[coo.col, n_j + np.arange(n_i), n_j + np.arange(n_i)]
    v = np.r_[-np.ones(a.nnz), np.ones(n_i), w]
    m = csc_array((v, (r, c)), shape=(n_i + 1, n_col))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_col, n_i + 1
    lp.col_cost_ = np.r_[np.ones(n_j), np.zeros(n_i)]
    lp.col_lower_, lp.col_upper_ = np.zeros(n_col), np.ones(n_col)
    lp.row_lower_ = np.r_[np.full(n_i, -np.inf), float(target)]
    lp.row_upper_ = np.r_[np.zeros(n_i), np.inf]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = m.indptr.astype(np.int32)
    lp.a_matrix_.index_ = m.indices.astype(np.int32)
    lp.a_matrix_.value_ = m.data.astype(float)
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n_col, n_i + 1
    lp.sense_ = highspy.ObjSense.kMinimize
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_j + [highspy.HighsVarType.kContinuous] * n_i
    h = _highs(time_limit)
    h.passModel(lp)
    h.run()
    values = np.asarray(h.getSolution().col_value)
    chosen = [int(j) for j in np.flatnonzero(values[:n_j] > 0.5)]
    info = h.getInfo()
    bound = float(info.mip_dual_bound)
    gap = max(0.0, (len(chosen) - bound) / len(chosen)) if chosen and np.isfinite(bound) else 0.0
    return Solution(chosen=chosen, objective=_objective(a, w, chosen, None), gap=gap, method="milp",
                    bound=bound, seconds=time.perf_counter() - t0)


def recommend(
    density: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame | None,
    candidates: gpd.GeoDataFrame,
    *,
    crs: str,
    network: Network | None = None,
    p: int = 3,
    max_distance: float = DEFAULT_MAX_DISTANCE,
    capacity: str | None = None,
    target: float | None = None,
    areas: Mapping[str, gpd.GeoDataFrame] | None = None,
    curve_to: int | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    circuity: float | None = None,
    demand: Demand | None = None,
) -> Recommendation:
    """Recommend new sites: MCLP (default), capacitated MCLP (``capacity`` = a column of
    ``candidates``) or the fewest sites for ``target`` (a share of all people, 0–1).

    The people are ``demand`` (the register's, in memory) or the density's spread over its
    units (:func:`geo.analyses.coverage.people_of`); people reached by the same candidates are
    one row of the model.  Every count of the result passes the gate.  ``existing`` are the
    sites kept open (e.g. the 居場所 layer); ``curve_to`` (default ``p``) sets how far the
    marginal gain curve goes.
    """
    _check_options(candidates, p=p, max_distance=max_distance, target=target)
    notes: list[str] = []
    cands = candidates.reset_index(drop=True)
    if "candidate_id" not in cands:
        id_col = id_column(cands)
        cands = cands.assign(candidate_id=cands[id_col].astype(str) if id_col else
                             [f"C{i:04d}" for i in range(len(cands))])
    cap = _capacities(cands, capacity, notes)
    before = _covered_now(density, existing, crs=crs, network=network, max_distance=max_distance,
                          circuity=circuity, demand=demand)
    reach = before.people
    if reach is None:  # pragma: no cover - _covered_now always counts people
        raise ParameterError("要配慮者がいません。", parameter="demand")
    people = reach.demand
    px, py = people.xy(crs)
    c = cands.to_crs(crs)
    pi, ci, dist = pairs_near(px, py, c.geometry.x.to_numpy(), c.geometry.y.to_numpy(),
                              network=network, limit=max_distance, circuity=circuity)
    keep = ~reach.covered[pi]
    pi, ci, dist = pi[keep], ci[keep], dist[keep]
    _, a, w = demand_classes(pi, ci, people.weight, len(px), len(cands))
    total = people.total()
    covered_before = people.total(reach.covered)
    if target is not None:
        sol = solve_min_sites(a, w, max(0.0, target * float(people.weight.sum())
                                        - float(people.weight[reach.covered].sum())),
                              time_limit=time_limit)
        model = "min_sites"
    else:
        sol = solve_mclp(a, w, p, capacity=cap, time_limit=time_limit)
        model = "capacitated_mclp" if cap is not None else "mclp"
    chosen = sol.chosen
    p_eff = len(chosen) if target is not None else p
    site_of = _nearest_chosen(pi, ci, dist, chosen, len(px))
    curve = _gain_curve(a, w, cap, sol if target is None else None, p_eff=p_eff,
                        top=max(curve_to or p_eff, 1), covered0=reach.covered,
                        time_limit=time_limit, people=people, pairs=(pi, ci))
    sites = _site_table(cands, chosen, people, site_of, cap)
    covered_after = people.total(reach.covered | (site_of >= 0))
    if cap is not None and isinstance(covered_before, int):  # only as many as the capacities admit
        covered_after = covered_before + int(pd.to_numeric(sites["newly_covered_people"],
                                                            errors="coerce").fillna(0).sum())
    unit_out = _unit_table(before, reach, site_of, cands, chosen)
    sites["newly_covered_units"] = [int((unit_out["new_site"] == c).sum()) for c in sites["candidate_id"]]
    table = _before_after(before, reach, site_of, areas) if areas else pd.DataFrame()
    if target is None and len(chosen) < p:
        notes.append(f"{p} か所のうち {len(chosen)} か所で、残りの候補地は新たにカバーする人がいません。")
    if sol.method == "greedy":
        notes.append("最適化ソルバーが解を返さなかったため、貪欲法の解を示します。")
    return Recommendation(sites=sites, units=unit_out, curve=curve,
                          before_after=table, model=model, p=p_eff, covered_before=covered_before,
                          covered_after=covered_after, total=total, gap=sol.gap,
                          method=sol.method, notes=notes, greedy_gap=_greedy_gap(sol))


def demand_classes(pi: np.ndarray, ci: np.ndarray, weight: np.ndarray, n_people: int,
                   n_candidates: int) -> tuple[np.ndarray, csr_array, np.ndarray]:
    """People reached by the same set of candidates are one row of the model: (each person's
    row or −1, the 0/1 row × candidate matrix, each row's weight).  A set is known by two
    random 64-bit sums over its candidates (a collision has odds of 2⁻¹²⁸)."""
    rng = np.random.default_rng(20261207)
    r1 = rng.integers(1, 2**63, n_candidates, dtype=np.uint64)
    r2 = rng.integers(1, 2**63, n_candidates, dtype=np.uint64)
    pair = np.unique(np.column_stack([pi, ci]), axis=0) if len(pi) else np.zeros((0, 2), np.int64)
    h1 = np.zeros(n_people, np.uint64)
    h2 = np.zeros(n_people, np.uint64)
    with np.errstate(over="ignore"):
        np.add.at(h1, pair[:, 0], r1[pair[:, 1]])
        np.add.at(h2, pair[:, 0], r2[pair[:, 1]])
    reached = np.zeros(n_people, bool)
    reached[pair[:, 0]] = True
    people = np.flatnonzero(reached)
    _, first, inverse = np.unique(np.column_stack([h1[people], h2[people]]), axis=0,
                                  return_index=True, return_inverse=True)
    row_of = np.full(n_people, -1, np.int64)
    row_of[people] = inverse.ravel()
    w = np.bincount(inverse.ravel(), weights=weight[people], minlength=len(first))
    lead = np.zeros(n_people, bool)
    lead[people[first]] = True  # one person per row gives the row its candidates
    rows = pair[lead[pair[:, 0]]]
    a = csr_array((np.ones(len(rows)), (row_of[rows[:, 0]], rows[:, 1])), shape=(len(first), n_candidates))
    return row_of, a, w


def _nearest_chosen(pi: np.ndarray, ci: np.ndarray, dist: np.ndarray, chosen: list[int],
                    n_people: int) -> np.ndarray:
    """Each person's nearest chosen site (index into ``chosen``), −1 for none in reach."""
    pos = np.full(int(ci.max()) + 1 if len(ci) else 0, -1, np.int64)
    pos[np.asarray(chosen, np.int64)] = np.arange(len(chosen))
    sel = pos[ci] >= 0 if len(ci) else np.zeros(0, bool)
    order = np.lexsort((dist[sel], pi[sel]))
    p_s, c_s = pi[sel][order], pos[ci[sel][order]]
    first = np.r_[True, p_s[1:] != p_s[:-1]] if len(p_s) else np.zeros(0, bool)
    out = np.full(n_people, -1, np.int64)
    out[p_s[first]] = c_s[first]
    return out


def _check_options(candidates: gpd.GeoDataFrame | None, *, p: int, max_distance: float,
                   target: float | None) -> None:
    if p < 1 and target is None:
        raise ParameterError("p（新しく開く数）は 1 以上にしてください。", parameter="p", fix="例: 3")
    if candidates is None or not len(candidates):
        raise ParameterError("候補地がありません。", parameter="candidates",
                             fix="候補地のファイルかレイヤー（places, shelters, closed_schools, "
                             "gap_nodes など）を指定してください。")
    if not (np.isfinite(max_distance) and max_distance > 0):
        raise ParameterError("距離のしきい値は正の数にしてください。", parameter="max_distance",
                             fix="例: 500")
    if target is None and p > len(candidates):
        raise ParameterError(f"新しく開く数 p（{p}）が候補地の数（{len(candidates)}）より多いです。",
                             parameter="p",
                             fix=f"p を {len(candidates)} 以下にするか、候補地を増やしてください。")
    if target is not None and not 0 < target <= 1:
        raise ParameterError("目標のカバー率は 0 より大きく 1 以下にしてください。", parameter="target",
                             fix="例: 0.8（80 %）")


def _capacities(cands: gpd.GeoDataFrame, capacity: str | None, notes: list[str]) -> np.ndarray | None:
    """The candidates' capacities (a missing one counts 0), or None for the plain MCLP."""
    if capacity is None:
        return None
    if capacity not in cands:
        raise ParameterError(f"候補地に容量の列「{capacity}」がありません。", parameter="capacity",
                             fix=f"候補地の列から選んでください: {', '.join(map(str, cands.columns[:12]))}")
    cap_s = pd.to_numeric(cands[capacity], errors="coerce")
    if cap_s.isna().any():
        notes.append(f"容量のない候補地 {int(cap_s.isna().sum())} か所は容量 0"
                     "（開いても受け入れなし）として扱いました。")
    return np.asarray(cap_s.fillna(0).clip(lower=0).to_numpy(float))


def cover_matrix(ui: np.ndarray, ci: np.ndarray, covered0: np.ndarray, n_candidates: int
                 ) -> tuple[np.ndarray, csr_array]:
    """The units not yet covered and the 0/1 matrix of which candidate covers which of
    them, from (unit, candidate) pairs of units not yet covered."""
    open_units = np.flatnonzero(~covered0)
    row_of = np.full(len(covered0), -1)
    row_of[open_units] = np.arange(len(open_units))
    a = csr_array((np.ones(len(ui)), (row_of[ui], ci)), shape=(len(open_units), n_candidates))
    a.sum_duplicates()
    a.data[:] = 1.0
    return open_units, a


def _covered_now(density: gpd.GeoDataFrame, existing: gpd.GeoDataFrame | None, *, crs: str,
                 network: Network | None, max_distance: float, circuity: float | None,
                 demand: Demand | None) -> CoverageResult:
    """Coverage by the sites kept open (every person uncovered when there are none)."""
    if existing is not None and len(existing):
        return coverage(density, existing, crs=crs, network=network, max_distance=max_distance,
                        circuity=circuity, demand=demand)
    units = demand_units(density, crs=crs)
    people = people_of(density, demand, crs)
    px, py = people.xy(crs)
    unit = area_of(shapely.points(px, py), shapes_in(density, crs))
    none = np.zeros(len(px), bool)
    reach = PeopleReach(demand=people, unit=unit, distance=np.full(len(px), np.inf),
                        facility=np.full(len(px), -1), covered=none)
    units = units.assign(covered_n=people.count(unit, len(units), none),
                         covered=False, distance_m=np.nan, reachable=False, facility_id="")
    return CoverageResult(units=units, max_distance=float(max_distance),
                          method="network" if network is not None else "estimate",
                          facilities="none", people=reach)


def _gain_curve(a: csr_array, w: np.ndarray, cap: np.ndarray | None, sol: Solution | None, *,
                p_eff: int, top: int, covered0: np.ndarray, time_limit: float, people: Demand,
                pairs: tuple[np.ndarray, np.ndarray]) -> pd.DataFrame:
    """People covered with p = 1 … ``top`` new sites (``sol`` is reused at ``p_eff``); each
    count is the gated count of the people the sites reach."""
    rows = []
    pi, ci = pairs
    for k in range(1, top + 1):
        s_k = sol if k == p_eff and sol is not None else \
            solve_mclp(a, w, k, capacity=cap, time_limit=max(1.0, time_limit / top))
        reached = np.zeros(len(people), bool)
        reached[pi[np.isin(ci, s_k.chosen)]] = True
        rows.append({"p": k, "covered_after": people.total(covered0 | reached),
                     "newly_covered": people.total(reached),
                     "gap": round(s_k.gap, 5), "method": s_k.method})
    curve = pd.DataFrame(rows)
    for col in ("covered_after", "newly_covered"):  # 「k未満」 as <NA>: numbers stay numbers
        curve[col] = count_column(curve[col])
    curve["marginal"] = curve["newly_covered"].diff().fillna(curve["newly_covered"])
    return curve


def _site_table(cands: gpd.GeoDataFrame, chosen: list[int], people: Demand, site_of: np.ndarray,
                cap: np.ndarray | None) -> gpd.GeoDataFrame:
    """The chosen sites, most newly covered people first (counts through the gate; with
    capacities, no more than a site admits)."""
    gained = people.count(site_of, len(chosen))
    values = gained.to_numpy(float, na_value=np.nan)
    if cap is not None:
        values = np.minimum(values, cap[chosen])
    c_m = cands.iloc[chosen]
    sites = gpd.GeoDataFrame({
        "rank": np.arange(1, len(chosen) + 1),
        "candidate_id": c_m["candidate_id"].astype(str).to_numpy(),
        "name": c_m["name"].astype(str).to_numpy() if "name" in c_m else "",
        "source": c_m["source"].astype(str).to_numpy() if "source" in c_m else "",
        "newly_covered_units": 0,
        "newly_covered_people": pd.array([None if np.isnan(v) else round(v) for v in values], dtype="Int64"),
        "capacity": cap[chosen] if cap is not None else np.nan,
    }, geometry=c_m.geometry.to_crs(STORAGE_CRS).to_numpy(), crs=STORAGE_CRS)
    sites = sites.sort_values("newly_covered_people", ascending=False, kind="stable", na_position="last")
    sites["rank"] = np.arange(1, len(sites) + 1)
    return sites.reset_index(drop=True)


def _unit_table(before: CoverageResult, reach: PeopleReach, site_of: np.ndarray,
                cands: gpd.GeoDataFrame, chosen: list[int]) -> gpd.GeoDataFrame:
    """Per published unit: its protected count, whether it is covered before (its anchor) and
    after (or a new site reaches its people), and the new site that reaches most of them."""
    units = before.units
    n = len(units)
    people = reach.demand
    k = max(int(site_of.max()) + 1, 1) if len(site_of) else 1
    cell = np.where((reach.unit >= 0) & (site_of >= 0), reach.unit * k + site_of, -1)
    most = people.weights_in(cell, n * k).reshape(n, k)
    best = np.where(most.max(axis=1) > 0, most.argmax(axis=1), -1)
    ids = cands["candidate_id"].astype(str).to_numpy()
    picked = np.asarray(chosen, np.int64)
    new_site = np.where(best >= 0, ids[picked[np.maximum(best, 0)]], "") if len(picked) else \
        np.full(n, "", dtype=object)
    return gpd.GeoDataFrame({
        "unit_id": units["unit_id"].to_numpy(), "count": units["count"].array,
        "covered_before": units["covered"].to_numpy(bool),
        "covered_after": units["covered"].to_numpy(bool) | (new_site != ""),
        "new_site": new_site}, geometry=units.geometry.to_crs(STORAGE_CRS).to_numpy(), crs=STORAGE_CRS)


def _before_after(before: CoverageResult, reach: PeopleReach, site_of: np.ndarray,
                  areas: Mapping[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """Coverage per area before and after opening the sites; ``gain`` is the gated count of
    the people the new sites reach (not a difference of two published counts)."""
    def with_covered(mask: np.ndarray) -> CoverageResult:
        return dataclasses.replace(before, people=dataclasses.replace(reach, covered=mask))

    tb = by_area(before, areas)
    ta = by_area(with_covered(reach.covered | (site_of >= 0)), areas)
    tg = by_area(with_covered(site_of >= 0), areas)
    table = tb.merge(ta[["area_layer", "area_id", "covered", "rate"]],
                     on=["area_layer", "area_id"], suffixes=("_before", "_after"))
    table = table.merge(tg[["area_layer", "area_id", "covered"]].rename(columns={"covered": "gain"}),
                        on=["area_layer", "area_id"])
    return table.drop(columns="uncovered")


def _greedy_gap(sol: Solution) -> float | None:
    if sol.greedy_objective is None or sol.bound is None or not np.isfinite(sol.bound) or sol.bound <= 0:
        return None
    return max(0.0, (sol.bound - sol.greedy_objective) / sol.bound)


def region_candidates(region: RegionLike, which: str, *, facilities: str = "places",
                      max_distance: float = DEFAULT_MAX_DISTANCE, network: Network | None = None,
                      layers: Mapping[str, gpd.GeoDataFrame] | None = None) -> gpd.GeoDataFrame:
    """Candidates named by the user: a layer of the region, ``closed_schools``,
    ``gap_nodes``/``gap_units``, or the path of a point file (read like 居場所)."""

    from layers.places import load_places

    lay = dict(layers if layers is not None else region.layers)
    if which in ("places", "shelters", "vc_sites"):
        if which not in lay:
            raise ParameterError(f"この地域には候補地のレイヤー {which} がありません。",
                                 parameter="candidates",
                             fix="地域設定にそのレイヤーを追加するか、候補地のファイルを指定してください。")
        return lay[which].assign(source=which)
    if which == "closed_schools":
        sd = lay.get("school_districts")
        if sd is None:
            raise ParameterError("閉校の候補には校区レイヤー（再編前・後）が必要です。",
                                 parameter="candidates",
                             fix="地域設定に [layers.school_districts] と periods を追加してください。")
        after = current_period(sd)
        before = next((p for p in periods_of(sd) if p != after), after)
        if "before" in periods_of(sd):
            before = "before"
        return closed_schools(sd, before=before, after=after)
    if which in ("gap_nodes", "gap_units"):
        if "vulnerable" not in lay or facilities not in lay:
            raise ParameterError("空白地帯から候補を作るには要配慮者と施設のレイヤーが必要です。",
                             parameter="candidates",
                             fix="[layers.vulnerable] と施設のレイヤーを追加してください。")
        cov = coverage(lay["vulnerable"], lay[facilities], crs=region.crs, network=network,
                       max_distance=max_distance)
        return gap_candidates(cov, network=network, kind=which)
    path = Path(which)
    if not path.exists():
        raise ParameterError("候補地のファイルが見つかりません。", file=path, parameter="candidates",
                         fix=f"ファイルのパスか、{', '.join(CANDIDATE_SOURCES)} の"
                         "いずれかを指定してください。")
    return load_places([path]).assign(source=path.name)


@dataclass(frozen=True)
class SitingOptions:
    """Options of :func:`analyse_siting`."""

    candidates: str = "gap_nodes"
    """A layer key, ``closed_schools``, ``gap_nodes``, ``gap_units`` or a point file's path."""
    facilities: str = "places"
    p: int = 3
    max_distance: float = DEFAULT_MAX_DISTANCE
    capacity: str | None = None
    target: float | None = None
    outside_hazard: str | None = None
    curve_to: int | None = None
    time_limit: float = DEFAULT_TIME_LIMIT
    straight_line: bool = False
    season: str | None = None
    """``winter``: ``max_distance`` is read as that walk's time at 80 m/min, which snow slows
    (:mod:`geo.engine.season`), and the 冬期閉鎖 sections in force on ``date`` are closed."""
    date: str | None = None
    year: int | None = None
    """A projection year: the register's projected demand of that year (:func:`demand_layer`)."""


@dataclass
class SitingRun:
    """The recommendation and the candidates it chose from."""

    recommendation: Recommendation
    candidates: gpd.GeoDataFrame

    @property
    def notes(self) -> list[str]:
        return self.recommendation.notes

    def summary(self) -> dict[str, Any]:
        rec = self.recommendation
        return {**rec.summary().as_dict(), "candidates": len(self.candidates),
                "curve": rec.curve["covered_after"].tolist()}


def analyse_siting(region: RegionLike, options: SitingOptions | None = None) -> SitingRun:
    """Where new facilities should open (maximal covering, the existing ones kept)."""
    opt = options or SitingOptions()
    net, notes = _siting_network(region, opt)
    cands = region_candidates(region, opt.candidates, facilities=opt.facilities,
                              max_distance=opt.max_distance, network=net)
    if opt.outside_hazard:
        key = parse_hazard(opt.outside_hazard)
        zones = region.layers.get("hazards")
        if zones is not None:
            cands = outside_zones(cands, zones[zones["hazard"] == key])
    demand = demand_layer(region, year=opt.year)
    rec = recommend(demand, region.layer(opt.facilities), cands, crs=region.crs,
                    network=net, p=opt.p, max_distance=opt.max_distance, capacity=opt.capacity,
                    target=opt.target, areas=region_areas(region), curve_to=opt.curve_to,
                    time_limit=opt.time_limit, demand=register_people(region, year=opt.year))
    rec.sites = describe_sites(rec.sites, region)
    rec.notes.extend(notes)
    if opt.year is not None:
        rec.notes.append(f"{opt.year} 年の推計需要（要配慮者を65歳以上の増減で伸縮）で選びました。")
    return SitingRun(recommendation=rec, candidates=cands)


def _siting_network(region: RegionLike, opt: SitingOptions) -> tuple[Network | None, list[str]]:
    """The network sites are chosen on: the region's, or its winter network for a walk."""
    net = _network(region, opt.straight_line)
    season = parse_season(opt.season, opt.date)
    if not season.winter:
        return net, []
    if net is None:
        return None, ["道路データがないため、冬の遅れと冬期閉鎖は反映していません（直線距離の推定）。"]
    seasonal = region_season(region, season, profile="walk", network=net)
    minutes = minutes_for(opt.max_distance, "walk")
    note = (f"{season.label}: 徒歩 {minutes:.0f} 分（夏の {opt.max_distance:.0f} m）を"
            "雪道の遅れと冬期閉鎖で計算しました。")
    return (seasonal.network if seasonal is not None else net), [note]


def describe_sites(sites: gpd.GeoDataFrame, region: RegionLike) -> gpd.GeoDataFrame:
    """Recommended sites a person can find: ``near`` (the municipality, then the 町字 of the
    nearest reference point of the region's geocoder, else the 自治会 they lie in), ``lon``/
    ``lat``; a road point or a gap's centre is named after them, never by a mesh code."""
    if not len(sites):
        return sites.assign(near="", lon=np.nan, lat=np.nan)
    pts = sites.to_crs(STORAGE_CRS)
    near = pd.Series("", index=sites.index, dtype=object)
    geocoder = getattr(region, "geocoder", None)
    keys = ("boundaries",) if geocoder is not None else ("boundaries", "neighbourhoods")
    for key in keys:  # municipality first, then the 自治会 within it
        areas = region.layers.get(key)
        if areas is None or not len(areas) or "name" not in areas:
            continue
        hit = gpd.sjoin_nearest(pts[["geometry"]].to_crs(region.crs),
                                areas[["name", "geometry"]].to_crs(region.crs), how="left")
        names = hit[~hit.index.duplicated()]["name"].reindex(sites.index).fillna("").astype(str)
        near = (near + " " + names).str.strip()
    if geocoder is not None:
        towns = geocoder.nearest_town(pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy())
        near = (near + " " + pd.Series(towns, index=sites.index).astype(str)).str.strip()
    out = sites.assign(near=near.to_numpy(), lon=pts.geometry.x.round(6).to_numpy(),
                       lat=pts.geometry.y.round(6).to_numpy())
    road = out["name"].astype(str).str.startswith("道路ノード")
    out.loc[road, "name"] = [f"{n}付近の道路沿い" if n else "道路沿いの地点" for n in out.loc[road, "near"]]
    gap = out["name"].astype(str).str.startswith(GAP_CENTRE)
    out.loc[gap, "name"] = [f"{n}付近（空白地帯の中）" if n else "空白地帯の中の地点"
                            for n in out.loc[gap, "near"]]
    return out
