"""Where to open new 居場所 so that coverage holds over the years, not only today.

The same units, candidates and threshold as :mod:`geo.analyses.siting`, with one demand vector per
projection year (the anonymised register scaled by the projected change of 65+ in its
500 m cell: same units, other counts).  The user chooses the objective:

* ``worst`` — maximise the people newly covered in the *worst* year (a max-min MILP:
  ``z ≤ Σ_i w_yi y_i`` for every year y, ``y_i ≤ Σ_{j covers i} x_j``, ``Σ x_j ≤ p``);
* ``sum`` — maximise a weighted sum over the years (equal weights by default): the MCLP
  on the weighted demand.

The answer is compared, year by year, with the today-only answer (the MCLP on the first
year's demand): the gain per year of each.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse import csc_array, csr_array

from geo.analyses.inputs import demand_layer
from geo.analyses.siting import (
    SitingOptions,
    _covered_now,
    _highs,
    _siting_network,
    cover_matrix,
    coverage_pairs,
    describe_sites,
    greedy_mclp,
    highs_lp,
    outside_zones,
    region_candidates,
    solve_mclp,
)
from geo.engine.network import Network
from geo.engine.scenario import parse_hazard
from geo.summary import Summary
from layers.errors import ParameterError

if TYPE_CHECKING:
    from layers.region import RegionLike

__all__ = ["OverTime", "OverTimeSummary", "recommend_over_time", "solve_worst_year"]


OBJECTIVES = ("worst", "sum")


@dataclass(frozen=True)
class OverTimeSummary(Summary):
    """The chosen sites and the worst year's gain of both answers."""

    objective: str
    p: int
    years: list[int]
    sites: list[str]
    today_sites: list[str]
    worst_gain: int
    today_worst_gain: int


@dataclass
class OverTime:
    """``by_year``: people newly covered each year by the over-time answer and by the
    today-only answer; ``sites``: the chosen candidates."""

    objective: str
    p: int
    sites: gpd.GeoDataFrame
    """The chosen candidates (``candidate_id``, ``name``, their first year's gain, points)."""
    today_sites: list[str]
    by_year: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def summary(self) -> OverTimeSummary:
        b = self.by_year
        return OverTimeSummary(objective=self.objective, p=self.p, years=[int(y) for y in b["year"]],
                               sites=list(self.sites["candidate_id"]), today_sites=self.today_sites,
                               worst_gain=int(b["gain"].min()),
                               today_worst_gain=int(b["gain_today_only"].min()))


def solve_worst_year(a: csr_array, weights: np.ndarray, p: int, *, time_limit: float = 30.0) -> list[int]:
    """Candidates maximising the smallest of the years' newly covered people (``weights``:
    years × units).  Warm-started from the greedy answer on the summed demand."""
    n_i, n_j = a.shape
    n_y = weights.shape[0]
    warm = greedy_mclp(a, weights.sum(axis=0), p)
    if n_j == 0 or a.nnz == 0 or p <= 0:
        return []
    coo = a.tocoo()
    # cols: x (n_j), y (n_i), z; rows: coverage (n_i), budget, one per year
    n_col, n_row = n_j + n_i + 1, n_i + 1 + n_y
    yr, yc = np.nonzero(weights)
    r = np.r_[coo.row, np.arange(n_i), np.full(n_j, n_i), n_i + 1 + np.arange(n_y), n_i + 1 + yr]
    c = np.r_[coo.col, n_j + np.arange(n_i), np.arange(n_j), np.full(n_y, n_j + n_i), n_j + yc]
    v = np.r_[-np.ones(coo.nnz), np.ones(n_i), np.ones(n_j), np.ones(n_y), -weights[yr, yc]]
    lp = highs_lp(csc_array((v.astype(float), (r, c)), shape=(n_row, n_col)),
                  cost=np.r_[np.zeros(n_j + n_i), 1.0], lower=np.zeros(n_col),
                  upper=np.r_[np.ones(n_j + n_i), np.inf], row_lo=np.full(n_row, -np.inf),
                  row_hi=np.r_[np.zeros(n_i), float(p), np.zeros(n_y)], n_int=n_j)
    h = _highs(time_limit, 0.0)
    h.passModel(lp)
    h.run()
    values = np.asarray(h.getSolution().col_value)
    chosen = [int(j) for j in np.flatnonzero(values[:n_j] > 0.5)] if len(values) else warm
    return chosen if _worst(a, weights, chosen) >= _worst(a, weights, warm) else warm


def _gains(a: csr_array, weights: np.ndarray, chosen: Sequence[int]) -> np.ndarray:
    """People newly covered each year by ``chosen``."""
    if not len(chosen):
        return np.zeros(weights.shape[0])
    hit = np.asarray(a[:, list(chosen)].sum(axis=1)).ravel() > 0
    return weights[:, hit].sum(axis=1)


def _worst(a: csr_array, weights: np.ndarray, chosen: Sequence[int]) -> float:
    return float(_gains(a, weights, chosen).min())


def recommend_over_time(demands: dict[int, gpd.GeoDataFrame], existing: gpd.GeoDataFrame | None,
                        candidates: gpd.GeoDataFrame, *, crs: str, network: Network | None, p: int,
                        max_distance: float, objective: str = "worst",
                        weights: Sequence[float] | None = None, time_limit: float = 30.0) -> OverTime:
    """Sites for the years of ``demands`` (year → density of the same units, in order)."""
    if objective not in OBJECTIVES:
        raise ParameterError("目的が分かりません。", parameter="objective",
                             fix="worst か sum を指定してください。")
    years = sorted(demands)
    if not years or (weights is not None and len(weights) != len(years)):
        raise ParameterError("年と重みの数が合いません。", parameter="weights",
                             fix="年と同じ数の重みを指定してください（例 --weights 1,1,2）。")
    first = demands[years[0]]
    before = _covered_now(first, existing, crs=crs, network=network, max_distance=max_distance,
                          circuity=None, demand=None)  # projected years: published units, spread
    units, covered0 = before.units, before.units["covered"].to_numpy(bool)
    cands = candidates.reset_index(drop=True)
    ids = (cands["candidate_id"] if "candidate_id" in cands else
           pd.Series([f"C{i:04d}" for i in range(len(cands))])).astype(str).to_numpy()
    ui, ci, _d = coverage_pairs(units, cands, crs=crs, network=network, max_distance=max_distance)
    keep = ~covered0[ui]
    open_units, a = cover_matrix(ui[keep], ci[keep], covered0, len(cands))
    w = np.vstack([demands[y]["count"].to_numpy(float)[open_units] for y in years])
    today = solve_mclp(a, w[0], p, time_limit=time_limit).chosen
    if objective == "sum":
        alpha = np.asarray(weights if weights is not None else np.ones(len(years)), float)
        chosen = solve_mclp(a, alpha @ w, p, time_limit=time_limit).chosen
    else:
        chosen = solve_worst_year(a, w, p, time_limit=time_limit)
    by_year = pd.DataFrame({"year": years, "gain": np.round(_gains(a, w, chosen)).astype(np.int64),
                            "gain_today_only": np.round(_gains(a, w, today)).astype(np.int64)})
    names = cands["name"].astype(str).to_numpy() if "name" in cands else ids
    sites = gpd.GeoDataFrame({"candidate_id": ids[chosen], "name": names[chosen],
                              "gain_first_year": [int(_gains(a, w, [j])[0]) for j in chosen]},
                             geometry=cands.geometry.to_numpy()[chosen], crs=cands.crs)
    return OverTime(objective=objective, p=p, sites=sites, today_sites=list(ids[today]), by_year=by_year)


def analyse_siting_over_time(region: RegionLike, options: SitingOptions, *, years: tuple[int, ...],
                             objective: str = "worst", weights: tuple[float, ...] | None = None
                             ) -> OverTime:
    """Sites that keep coverage over ``years`` (the register's projected demand each year):
    the worst year maximised, or a weighted sum; compared with the today-only answer."""
    net, notes = _siting_network(region, options)
    cands = region_candidates(region, options.candidates, facilities=options.facilities,
                              max_distance=options.max_distance, network=net)
    if options.outside_hazard:
        zones = region.layers.get("hazards")
        if zones is not None:
            cands = outside_zones(cands, zones[zones["hazard"] == parse_hazard(options.outside_hazard)])
    demands = {y: demand_layer(region, year=y) for y in years}
    over = recommend_over_time(demands, region.layer(options.facilities), cands, crs=region.crs,
                               network=net, p=options.p, max_distance=options.max_distance,
                               objective=objective, weights=weights, time_limit=options.time_limit)
    return dataclasses.replace(over, sites=describe_sites(over.sites, region), notes=[*over.notes, *notes])
