"""The disaster commands: shelters, route, vc-plan, dispatch, shelter-needs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from geo.cli.args import EXIT_OK, _report
from geo.outputs.csv_safe import csv_text
from layers.errors import ParameterError

__all__ = ["cmd_dispatch", "cmd_route", "cmd_shelter_needs", "cmd_shelters", "cmd_vc_plan"]


def cmd_shelters(args: argparse.Namespace) -> int:
    from geo.analyses.shelter_load import ShelterOptions, analyse_shelters
    from geo.outputs.files.shelter_load import write_outputs
    from layers.region import load_region

    region = load_region(args.region, with_roads=False)
    run = analyse_shelters(region, ShelterOptions(
        hazard=args.hazard, catchment=args.catchment, shallow_factor=args.shallow_factor,
        season=args.season, date=args.date, year=args.year, demand=args.demand))
    write_outputs(run.load, run.scenario, Path(args.out))
    _report(run.summary(), warn=run.notes, notes=run.notes, out=str(args.out))
    return EXIT_OK


def cmd_route(args: argparse.Namespace) -> int:
    from geo.analyses.inputs import region_point
    from geo.analyses.route import RouteOptions, analyse_route, analyse_routes_to_all
    from geo.outputs.files.route import write_route_outputs
    from geo.outputs.route_sheet import route_sheet
    from layers.atomic import atomic_write_text
    from layers.region import load_region

    region = load_region(args.region, with_roads=False)
    opt = RouteOptions(hazard=args.hazard, profile=args.profile, shallow_factor=args.shallow_factor,
                       season=args.season, date=args.date)
    start, start_label = region_point(region, args.from_, "from_")
    out = Path(args.out)
    if args.to_all:
        many = analyse_routes_to_all(region, start, args.to_all, opt)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "routes.csv", csv_text(many.table), encoding="utf-8-sig")
        write_route_outputs(many.routes, out, stem="routes")
        _report(many.summary(), **{"from": start_label})
        return EXIT_OK
    if not args.to:
        raise ParameterError("目的地がありません。", parameter="to",
                             fix="--to 経度,緯度（または施設のID）か、--to-all shelters を指定してください。")
    end, end_label = region_point(region, args.to, "to")
    run = analyse_route(region, start, end, opt)
    write_route_outputs(run.routes, out)
    scen = run.scenario
    route_sheet(run.routes, out / "route_sheet.pdf", net=run.network,
                title=f"ルート: {start_label} → {end_label}", comparison=run.comparison,
                zones=scen.zones if scen else None, closed=run.closed if len(run.closed) else None,
                fictional=region.fictional, attribution=region.attribution())
    _report(run.summary())
    return EXIT_OK


def cmd_vc_plan(args: argparse.Namespace) -> int:
    from geo.analyses.vc_plan import VCPlanOptions, analyse_vc_plan
    from geo.outputs.files.vc_plan import write_outputs
    from layers.region import load_region

    region = load_region(args.region, with_roads=False)
    run = analyse_vc_plan(region, VCPlanOptions(hazard=args.hazard, p=args.p,
                                                shallow_factor=args.shallow_factor,
                                                season=args.season, date=args.date))
    write_outputs(run.plan, Path(args.out))
    _report(run.summary(), warn=run.notes, notes=run.notes, out=str(args.out))
    return EXIT_OK


def cmd_dispatch(args: argparse.Namespace) -> int:
    from geo.analyses.dispatch import DispatchOptions, analyse_dispatch
    from geo.outputs.files.dispatch import write_run_outputs
    from layers.needs import read_needs
    from layers.region import load_region
    from layers.teams import read_teams

    region = load_region(args.region, with_roads=False)
    needs = read_needs(Path(args.needs), geocoder=region.geocoder, sheet=args.sheet)
    teams = read_teams(Path(args.teams))
    run = analyse_dispatch(region, needs, teams, DispatchOptions(
        vc=args.vc, hazard=args.hazard, time_limit=args.time_limit, drive_kmh=args.drive_kmh,
        walk_m_per_min=args.walk_speed))
    write_run_outputs(run, Path(args.out), crs=region.crs, fictional=region.fictional)
    _report(run.summary(), warn=run.plan.notes, notes=run.plan.notes, out=str(args.out))
    return EXIT_OK


def cmd_shelter_needs(args: argparse.Namespace) -> int:
    from geo.analyses.shelter_load import ShelterOptions
    from geo.analyses.shelter_needs import analyse_shelter_needs, read_ratios
    from geo.outputs.files.shelter_needs import write_outputs
    from layers.region import load_region

    region = load_region(args.region, with_roads=False)
    ratios = read_ratios(Path(args.ratios)) if args.ratios else None
    run, needs = analyse_shelter_needs(region, ShelterOptions(hazard=args.hazard), ratios=ratios,
                                       evacuees=args.demand)
    write_outputs(needs, Path(args.out))
    _report(needs.summary().as_dict(), warn=run.notes, notes=[*run.notes, *needs.notes], out=str(args.out))
    return EXIT_OK
