"""The analyses: one module per job, each with its options, its run and its ``analyse_*`` entry
beside its computation.  The CLI, the app pages and the whole-region runs call these entries,
so they cannot disagree.

Entries (imported lazily: ``from geo.analyses import analyse_coverage`` loads only coverage;
the travel profiles and distance defaults of :mod:`geo.engine.profiles` are here too, for the
pages, which never import the engine):

=================================  ==========================================================
:func:`analyse_consolidation`      the way to school before and after a 校区 merger
:func:`analyse_coverage`           walking distance to the nearest facility, per area, gaps
:func:`analyse_crossborder`        people better served across a municipal border
:func:`analyse_dispatch`           the 災害VC day: needs matched to teams, with routes
:func:`analyse_outlook`            coverage over projection years and seasons
:func:`analyse_route`              one route, normal vs hazard
:func:`analyse_routes_to_all`      from one point to every facility (or gap) of a layer
:func:`analyse_shelter_needs`      each shelter's minimum needs (toilets, floor, baths)
:func:`analyse_shelter_tables`     the shelters per hazard and area
:func:`analyse_shelters`           usable shelters in a hazard and their load
:func:`analyse_siting`             where new 居場所 should open
:func:`analyse_siting_over_time`   sites that hold up over the projection years
:func:`analyse_transit`            walking + bus to the 居場所 over a departure window
:func:`analyse_vc_plan`            where to open the 災害VC and what it serves
:func:`analyse_winter_loss`        what snow and 冬期閉鎖 take away from coverage
=================================  ==========================================================
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "has_roads": "geo.analyses.inputs",
    "ACCESS_RULES": "geo.engine.profiles",
    "DEFAULT_ACCESS": "geo.engine.profiles",
    "DEFAULT_MAX_DISTANCE": "geo.engine.profiles",
    "ROUTE_PROFILES": "geo.engine.profiles",
    "WALK_PROFILES": "geo.engine.profiles",
    "SPEEDS_M_PER_MIN": "geo.engine.profiles",
    "minutes_for": "geo.engine.profiles",
    "AREA_KEYS": "geo.analyses.inputs",
    "ConsolidationOptions": "geo.analyses.consolidation",
    "CoverageOptions": "geo.analyses.coverage",
    "CoverageRun": "geo.analyses.coverage",
    "CoverageRunSummary": "geo.analyses.coverage",
    "CrossBorderOptions": "geo.analyses.crossborder",
    "DispatchOptions": "geo.analyses.dispatch",
    "DispatchRun": "geo.analyses.dispatch",
    "OutlookOptions": "geo.analyses.outlook",
    "RouteOptions": "geo.analyses.route",
    "RouteRun": "geo.analyses.route",
    "RoutesToAll": "geo.analyses.route",
    "RoutesToAllSummary": "geo.analyses.route",
    "ShelterOptions": "geo.analyses.shelter_load",
    "ShelterRun": "geo.analyses.shelter_load",
    "SitingOptions": "geo.analyses.siting",
    "SitingRun": "geo.analyses.siting",
    "TransitOptions": "geo.analyses.transit",
    "TransitRun": "geo.analyses.transit",
    "VCPlanOptions": "geo.analyses.vc_plan",
    "VCPlanRun": "geo.analyses.vc_plan",
    "WinterLossOptions": "geo.analyses.winter_loss",
    "analyse_consolidation": "geo.analyses.consolidation",
    "analyse_coverage": "geo.analyses.coverage",
    "analyse_crossborder": "geo.analyses.crossborder",
    "analyse_dispatch": "geo.analyses.dispatch",
    "analyse_outlook": "geo.analyses.outlook",
    "analyse_route": "geo.analyses.route",
    "analyse_routes_to_all": "geo.analyses.route",
    "analyse_shelter_needs": "geo.analyses.shelter_needs",
    "analyse_shelter_tables": "geo.analyses.shelter_tables",
    "analyse_shelters": "geo.analyses.shelter_load",
    "analyse_siting": "geo.analyses.siting",
    "analyse_siting_over_time": "geo.analyses.siting_over_time",
    "analyse_transit": "geo.analyses.transit",
    "analyse_vc_plan": "geo.analyses.vc_plan",
    "analyse_winter_loss": "geo.analyses.winter_loss",
    "demand_layer": "geo.analyses.inputs",
    "describe_sites": "geo.analyses.siting",
    "next_weekday": "geo.analyses.inputs",
    "parse_lonlat": "geo.analyses.inputs",
    "prepare_region": "geo.analyses.inputs",
    "projection_years": "geo.analyses.inputs",
    "region_areas": "geo.analyses.inputs",
    "region_feeds": "geo.analyses.transit",
    "region_point": "geo.analyses.inputs",
    "usable_vc_sites": "geo.analyses.dispatch",
}

__all__ = [
    "ACCESS_RULES",
    "AREA_KEYS",
    "DEFAULT_ACCESS",
    "DEFAULT_MAX_DISTANCE",
    "ROUTE_PROFILES",
    "SPEEDS_M_PER_MIN",
    "WALK_PROFILES",
    "ConsolidationOptions",
    "CoverageOptions",
    "CoverageRun",
    "CoverageRunSummary",
    "CrossBorderOptions",
    "DispatchOptions",
    "DispatchRun",
    "OutlookOptions",
    "RouteOptions",
    "RouteRun",
    "RoutesToAll",
    "RoutesToAllSummary",
    "ShelterOptions",
    "ShelterRun",
    "SitingOptions",
    "SitingRun",
    "TransitOptions",
    "TransitRun",
    "VCPlanOptions",
    "VCPlanRun",
    "WinterLossOptions",
    "analyse_consolidation",
    "analyse_coverage",
    "analyse_crossborder",
    "analyse_dispatch",
    "analyse_outlook",
    "analyse_route",
    "analyse_routes_to_all",
    "analyse_shelter_needs",
    "analyse_shelter_tables",
    "analyse_shelters",
    "analyse_siting",
    "analyse_siting_over_time",
    "analyse_transit",
    "analyse_vc_plan",
    "analyse_winter_loss",
    "demand_layer",
    "describe_sites",
    "has_roads",
    "minutes_for",
    "next_weekday",
    "parse_lonlat",
    "prepare_region",
    "projection_years",
    "region_areas",
    "region_feeds",
    "region_point",
    "usable_vc_sites",
]

if TYPE_CHECKING:
    from geo.analyses.consolidation import ConsolidationOptions, analyse_consolidation
    from geo.analyses.coverage import CoverageOptions, CoverageRun, CoverageRunSummary, analyse_coverage
    from geo.analyses.crossborder import CrossBorderOptions, analyse_crossborder
    from geo.analyses.dispatch import DispatchOptions, DispatchRun, analyse_dispatch, usable_vc_sites
    from geo.analyses.inputs import (
        AREA_KEYS,
        demand_layer,
        has_roads,
        next_weekday,
        parse_lonlat,
        prepare_region,
        projection_years,
        region_areas,
        region_point,
    )
    from geo.analyses.outlook import OutlookOptions, analyse_outlook
    from geo.analyses.route import (
        RouteOptions,
        RouteRun,
        RoutesToAll,
        RoutesToAllSummary,
        analyse_route,
        analyse_routes_to_all,
    )
    from geo.analyses.shelter_load import ShelterOptions, ShelterRun, analyse_shelters
    from geo.analyses.shelter_needs import analyse_shelter_needs
    from geo.analyses.shelter_tables import analyse_shelter_tables
    from geo.analyses.siting import SitingOptions, SitingRun, analyse_siting, describe_sites
    from geo.analyses.siting_over_time import analyse_siting_over_time
    from geo.analyses.transit import TransitOptions, TransitRun, analyse_transit, region_feeds
    from geo.analyses.vc_plan import VCPlanOptions, VCPlanRun, analyse_vc_plan
    from geo.analyses.winter_loss import WinterLossOptions, analyse_winter_loss
    from geo.engine.profiles import (
        ACCESS_RULES,
        DEFAULT_ACCESS,
        DEFAULT_MAX_DISTANCE,
        ROUTE_PROFILES,
        SPEEDS_M_PER_MIN,
        WALK_PROFILES,
        minutes_for,
    )


def __getattr__(name: str) -> Any:
    """Load an entry's module on first use (the CLI starts without the others)."""
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
