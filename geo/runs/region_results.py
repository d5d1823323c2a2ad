"""Every analysis of a region in one call: what reports, data exports and ``tomoni demo`` use.

Runs what the region's layers allow — coverage and gaps (居場所), the hazard
scenario with shelter load, the 災害VC plan with its main routes, 広域連携, and
(when asked) recommended new sites — on the same functions as the single
commands, so the figures are identical.  Layers a region lacks are skipped and
said so in ``notes``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from geo.analyses.coverage import CoverageResult, analyse_coverage
from geo.analyses.crossborder import CrossBorder, CrossBorderOptions, analyse_crossborder
from geo.analyses.outlook import Outlook, OutlookOptions, analyse_outlook
from geo.analyses.route import RouteOptions, analyse_route
from geo.analyses.shelter_load import ShelterLoad, ShelterOptions, analyse_shelters
from geo.analyses.shelter_needs import ShelterNeeds, analyse_shelter_needs
from geo.analyses.shelter_tables import ShelterTables, analyse_shelter_tables
from geo.analyses.siting import Recommendation, SitingOptions, analyse_siting
from geo.analyses.siting_over_time import OverTime, analyse_siting_over_time
from geo.analyses.transit import TransitOptions, analyse_transit
from geo.analyses.vc_plan import VCPlan, VCPlanOptions, analyse_vc_plan
from geo.analyses.winter_loss import WinterLoss, WinterLossOptions, analyse_winter_loss
from geo.engine.profiles import minutes_for
from geo.engine.routing import Route
from geo.engine.scenario import Scenario, region_scenario
from geo.outputs.closed_roads import closed_roads_frame
from layers.crs import STORAGE_CRS
from layers.shelters import DEFAULT_HAZARD

if TYPE_CHECKING:
    from layers.region import RegionLike

__all__ = ["RegionResults", "analyse_region"]

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]


@dataclass
class RegionResults:
    """The results of every analysis that could run on a region."""

    region: RegionLike
    hazard: str
    coverage: CoverageResult | None = None
    coverage_table: pd.DataFrame | None = None
    gaps: gpd.GeoDataFrame | None = None
    scenario: Scenario | None = None
    shelters: ShelterLoad | None = None
    shelter_needs: ShelterNeeds | None = None
    """Toilets, floor area and baths per usable shelter for the evacuees of ``shelters``."""
    shelter_tables: ShelterTables | None = None
    """Shelters per 市町村 from public data (whenever the region has shelters)."""
    vc: VCPlan | None = None
    cross: CrossBorder | None = None
    recommendation: Recommendation | None = None
    route_scenario: Scenario | None = None
    """The scenario the VC plan and its main routes travel in (the drive network when there is one)."""
    routes: dict[str, dict[str, Route]] = field(default_factory=dict)
    route_summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    winter: WinterLoss | None = None
    """Who is covered in summer and not in winter (the coverage threshold as elderly minutes)."""
    outlook: Outlook | None = None
    """Coverage year by year, summer and winter (when the region has a projection)."""
    over_time: OverTime | None = None
    """Sites that keep coverage over the outlook's years (when recommending, with a projection)."""
    transit: Any = None
    """Walk + bus to the 居場所 on the next weekday morning (a :class:`geo.analyses.transit.TransitRun`,
    when the region has a bus feed)."""
    notes: list[str] = field(default_factory=list)

    def result_layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Every result layer (EPSG:4326), keyed by the table name used in exports."""
        out: dict[str, gpd.GeoDataFrame] = {}
        if self.coverage is not None:
            out["coverage_units"] = self.coverage.units.drop(columns=["members"], errors="ignore") \
                .to_crs(STORAGE_CRS)
        if self.gaps is not None:
            out["coverage_gaps"] = self.gaps.to_crs(STORAGE_CRS)
        if self.shelters is not None and self.scenario is not None:
            out[f"shelter_load_{self.hazard}"] = self.shelters.shelters
            out[f"demand_units_{self.hazard}"] = self.shelters.units.to_crs(STORAGE_CRS)
            out[f"closed_roads_{self.hazard}"] = closed_roads_frame(self.scenario)
        if self.vc is not None:
            out[f"vc_candidates_{self.hazard}"] = self.vc.candidates
            out[f"vc_dispatch_units_{self.hazard}"] = self.vc.units
            out[f"vc_dispatch_shelters_{self.hazard}"] = self.vc.shelters
        if self.cross is not None:
            out["crossborder_flows"] = self.cross.flows
        if self.recommendation is not None:
            out["recommended_sites"] = self.recommendation.sites
        return out

    def result_tables(self) -> dict[str, pd.DataFrame]:
        """The tables without geometry (for CSV), keyed by file stem."""
        out: dict[str, pd.DataFrame] = {}
        if self.coverage_table is not None:
            out["coverage_by_area"] = self.coverage_table
        if self.shelters is not None:
            out[f"shelter_load_{self.hazard}"] = pd.DataFrame(self.shelters.shelters.drop(columns="geometry"))
        if self.vc is not None:
            out[f"vc_plan_{self.hazard}"] = self.vc.plan
            out[f"vc_candidates_{self.hazard}"] = pd.DataFrame(self.vc.candidates.drop(columns="geometry"))
        if self.cross is not None:
            out["crossborder_pairs"] = self.cross.pairs
            out["crossborder_partners"] = self.cross.partners
            out["vc_matrix_km"] = self.cross.vc_matrix.reset_index(names="muni_code")
        if self.recommendation is not None:
            out["recommended_sites"] = pd.DataFrame(self.recommendation.sites.drop(columns="geometry"))
            out["gain_curve"] = self.recommendation.curve
            out["coverage_before_after"] = self.recommendation.before_after
        if self.winter is not None:
            out["winter_loss_by_place"] = self.winter.by_place
            out["winter_loss_by_area"] = self.winter.by_area
        if self.outlook is not None:
            out["outlook_by_year"] = self.outlook.by_year
            out["outlook_last_places"] = self.outlook.last_places
        if self.over_time is not None:
            out["siting_over_time"] = self.over_time.by_year
            out["siting_over_time_sites"] = pd.DataFrame(self.over_time.sites.drop(columns="geometry"))
        return out


def _noop(_f: float, _s: str) -> None:
    return None


def analyse_region(region: RegionLike, *, hazard: str = DEFAULT_HAZARD, recommend_p: int | None = None,
                   candidates: str = "gap_nodes", progress: Progress | None = None) -> RegionResults:
    """Run every analysis the region's layers allow (see the module docstring), through the
    same entries (:mod:`geo.analyses`) as the single commands and the app pages."""
    step = progress or _noop
    lay = region.layers
    res = RegionResults(region=region, hazard=hazard)
    dens = lay.get("vulnerable")
    if dens is not None and not len(dens):
        dens = None  # fewer than k people in the whole region: nothing was published
        res.notes.append("要配慮者の公開できる単位がない（地域全体で k 人未満）ため、"
                         "要配慮者を使う分析はしていません。")
    step(0.1, "カバー率と空白地帯")
    if dens is not None and "places" in lay:
        cov = analyse_coverage(region)
        res.coverage, res.coverage_table, res.gaps = cov.result, cov.by_area, cov.gaps
    else:
        res.notes.append("要配慮者または居場所のレイヤーがないため、カバー率は計算していません。")
    step(0.3, "災害シナリオと避難所")
    if "shelters" in lay:
        res.shelter_tables = analyse_shelter_tables(region)
        res.scenario = region_scenario(region, hazard)
        if dens is not None:
            care = analyse_shelters(region, ShelterOptions(hazard=hazard), scenario=res.scenario)
            res.shelters = care.load
            res.shelter_needs = analyse_shelter_needs(region, ShelterOptions(hazard=hazard), care=care)[1]
    step(0.5, "災害VCの計画とルート")
    if dens is not None and "vc_sites" in lay:
        run = analyse_vc_plan(region, VCPlanOptions(hazard=hazard))
        res.vc, res.route_scenario = run.plan, run.scenario
        _main_routes(res, run.scenario)
    step(0.7, "広域連携")
    if "boundaries" not in lay:
        res.notes.append("市町村界（boundaries）がないため、広域連携は計算していません。")
    if "boundaries" in lay and ({"shelters", "places"} & set(lay)) and \
            ({"vulnerable", "neighbourhoods"} & set(lay)):
        res.cross = analyse_crossborder(region, CrossBorderOptions(hazard=hazard if res.scenario else None),
                                        scenario=res.scenario)
    if dens is not None and "places" in lay and region.config.roads is not None:
        step(0.8, "冬と将来")
        _winter_and_years(res)
    if dens is not None and "places" in lay and region.config.roads is not None and region.config.transit:
        step(0.82, "公共交通（徒歩＋バス）")
        res.transit = analyse_transit(region, TransitOptions(what_if=True))
    if recommend_p and dens is not None and "places" in lay:
        step(0.85, "新しい居場所の提案")
        res.recommendation = analyse_siting(region, SitingOptions(candidates=candidates,
                                                                  p=recommend_p)).recommendation
        if res.outlook is not None:
            years = tuple(sorted({int(y) for y in res.outlook.by_year["year"]}))
            opts = SitingOptions(candidates=candidates, p=recommend_p)
            res.over_time = analyse_siting_over_time(region, opts, years=years)
    step(1.0, "分析が終わりました")  # not 完了: a report still draws its maps after this
    return res


REPORT_YEARS = (2035, 2050)
"""Projection years a report shows beside today's (the nearest projection year)."""


def _winter_and_years(res: RegionResults) -> None:
    """The winter loss at the coverage threshold read as elderly minutes, and, with a
    projection, coverage in today's year, 2035 and 2050 in both seasons."""
    from geo.analyses.inputs import projection_years
    from geo.engine.profiles import DEFAULT_MAX_DISTANCE

    region = res.region
    minutes = minutes_for(DEFAULT_MAX_DISTANCE, "elderly")
    res.winter = analyse_winter_loss(region, WinterLossOptions(max_minutes=minutes, profile="elderly"))
    years, today = projection_years(region)
    if years:
        wanted = tuple(sorted({today, *[y for y in REPORT_YEARS if y in years]}))
        res.outlook = analyse_outlook(region, OutlookOptions(years=wanted, winter=True, max_minutes=minutes,
                                                             profile="elderly"), known=res.winter)


def _main_routes(res: RegionResults, scen: Scenario) -> None:
    """For each open VC: normal vs scenario route to the most loaded shelter it dispatches to."""
    if res.vc is None or scen.base is None or res.shelters is None:
        return
    load = res.shelters.shelters.set_index("shelter_id")["demand"]
    disp = res.vc.shelters
    if not len(disp):
        return
    crs = scen.base.crs
    sites = res.vc.candidates.set_index("site_id").to_crs(crs).geometry
    shel = disp.set_index("shelter_id").to_crs(crs).geometry
    profile = "drive" if scen.base.directed and scen.base.seconds is not None else "walk"
    for vc_id in [v for v in dict.fromkeys(disp["vc_id"]) if v]:
        mine = disp[disp["vc_id"] == vc_id]
        target = mine.assign(d=mine["shelter_id"].map(load).fillna(0)).sort_values("d").iloc[-1]
        a = (sites[vc_id].x, sites[vc_id].y)
        b = (shel[target["shelter_id"]].x, shel[target["shelter_id"]].y)
        run = analyse_route(res.region, a, b, RouteOptions(hazard=scen.hazard, profile=profile),
                            scenario=scen)
        key = f"{vc_id}→{target['shelter_id']}"
        res.routes[key] = run.routes
        res.route_summaries[key] = {"vc": vc_id, "to": str(target["name"]), **run.comparison}
