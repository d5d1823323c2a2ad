"""The planning commands: coverage, outlook, consolidation, recommend, crossborder, transit.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from geo.cli.args import EXIT_OK, _report
from layers.errors import LayerError, ParameterError

__all__ = [
    "cmd_consolidation",
    "cmd_coverage",
    "cmd_crossborder",
    "cmd_outlook",
    "cmd_recommend",
    "cmd_transit",
    "transit_options",
]


def cmd_coverage(args: argparse.Namespace) -> int:
    from geo.analyses.coverage import CoverageOptions, analyse_coverage
    from geo.outputs.files.coverage import write_outputs
    from layers.region import load_region

    region = load_region(args.region, with_roads=False)
    run = analyse_coverage(region, CoverageOptions(
        facilities=args.facilities, max_distance=args.max_distance, straight_line=args.straight_line,
        access=args.access, join_radius=args.join_radius, season=args.season, date=args.date,
        profile=args.profile, max_minutes=args.max_minutes))
    write_outputs(run.result, run.by_area, run.gaps, Path(args.out))
    _report(run.summary(), warn=run.notes)
    return EXIT_OK


def cmd_outlook(args: argparse.Namespace) -> int:
    from geo.analyses.winter_loss import WinterLossOptions, analyse_winter_loss
    from geo.outputs.files.winter_loss import write_outputs
    from layers.region import load_region

    region = load_region(args.region, with_roads=False)
    years = _years(args.years) if args.years else ()
    out = Path(args.out)
    loss = analyse_winter_loss(region, WinterLossOptions(
        facilities=args.facilities, max_distance=args.max_distance, max_minutes=args.max_minutes,
        profile=args.profile, date=args.date, demand=args.demand))
    write_outputs(loss, out)
    extra: dict[str, Any] = {}
    if years:
        from geo.analyses.outlook import OutlookOptions, analyse_outlook
        from geo.outputs.files.outlook import write_outputs as write_outlook

        outlook = analyse_outlook(region, OutlookOptions(
            years=years, winter=True, date=args.date, demand=args.demand, facilities=args.facilities,
            max_distance=args.max_distance, max_minutes=args.max_minutes, profile=args.profile,
            min_people=args.min_people), known=loss)
        write_outlook(outlook, out)
        o = outlook.summary()
        keys = ("rows", "min_people", "areas_without_viable_place", "areas_losing_last_place")
        extra |= {("years" if k == "rows" else k): o[k] for k in keys}
    _report(loss.summary(), warn=loss.notes, **extra)
    return EXIT_OK


def _weights(text: str) -> tuple[float, ...]:
    """``1,1,2`` → (1.0, 1.0, 2.0): non-negative numbers, a clear error otherwise."""
    try:
        values = tuple(float(t) for t in str(text).replace("、", ",").split(",") if t.strip())
    except ValueError:
        values = ()
    if not values or not all(v >= 0 and v == v and v != float("inf") for v in values):
        raise ParameterError("重みの一覧が読めません。", parameter="weights", fix="例: --weights 1,1,2")
    return values


def _years(text: str) -> tuple[int, ...]:
    """``2025,2035,2050`` → (2025, 2035, 2050); a clear error otherwise."""
    parts = [t.strip() for t in str(text).replace("、", ",").split(",") if t.strip()]
    if not parts or not all(t.isdigit() and 2000 <= int(t) <= 2100 for t in parts):
        raise ParameterError("年の一覧が読めません。", parameter="years", fix="例: --years 2025,2035,2050")
    years = tuple(int(t) for t in parts)
    if len(set(years)) < len(years):
        raise ParameterError("同じ年が2回以上あります。", parameter="years", fix="例: --years 2025,2035,2050")
    if len(years) > MAX_YEARS:
        raise ParameterError(f"年が多すぎます（{len(years)} 個、{MAX_YEARS} 個まで）。", parameter="years",
                             fix="例: --years 2025,2035,2050")
    return years


MAX_YEARS = 12
"""Projection years one command computes (the 国土数値情報 projection has 2020…2070 by five)."""


def cmd_consolidation(args: argparse.Namespace) -> int:
    from geo.analyses.consolidation import ConsolidationOptions, analyse_consolidation
    from geo.outputs.files.consolidation import write_outputs
    from layers.region import load_region

    region = load_region(args.region, with_roads=False)
    result = analyse_consolidation(region, ConsolidationOptions(
        before=args.before, after=args.after, threshold=args.threshold))
    write_outputs(result, Path(args.out))
    _report(result.summary(), warn=result.notes)
    return EXIT_OK


def transit_options(args: argparse.Namespace) -> Any:
    """``tomoni transit``'s options as the analysis takes them (``--to``: a layer or a file)."""
    from geo.analyses.transit import TransitOptions

    to = str(args.to)
    is_file = to not in ("places", "shelters", "vc_sites") and ("." in Path(to).name or Path(to).exists())
    return TransitOptions(
        facilities="places" if is_file else to, to_file=to if is_file else None, date=args.date,
        window=args.window, max_minutes=args.max_minutes, profile=args.profile, season=args.season,
        max_walk_min=args.max_walk, transfer_min=args.transfer_walk, max_trips=args.max_trips,
        flex_wait_min=args.flex_wait, rule=args.rule, compare_date=args.compare_date,
        compare=not args.no_compare, what_if=args.what_if, demand=args.demand)


def cmd_transit(args: argparse.Namespace) -> int:
    from geo.analyses.transit import analyse_transit
    from geo.outputs.files.transit import write_transit_outputs
    from layers.region import load_region

    region = load_region(args.region, with_roads=False)
    opt = transit_options(args)
    run = analyse_transit(region, opt)
    title = f"{region.name}　{run.destination_label}まで徒歩＋バス（{run.result.day.date.isoformat()}）"
    write_transit_outputs(run, Path(args.out), density=run.density, title=title,
                          layers={"boundaries": region.layers.get("boundaries"), "places": run.destinations},
                          fictional=region.fictional, attribution=region.attribution())
    _report(run.summary(), warn=run.notes, notes=run.notes, out=str(args.out))
    return EXIT_OK


def cmd_crossborder(args: argparse.Namespace) -> int:
    from geo.analyses.crossborder import CrossBorderOptions, analyse_crossborder
    from geo.outputs.files.crossborder import write_outputs
    from layers.region import load_region

    region = load_region(args.region, with_roads=False)
    result = analyse_crossborder(region, CrossBorderOptions(hazard=args.hazard,
                                                            straight_line=args.straight_line))
    write_outputs(result, Path(args.out))
    _report(result.summary(), warn=result.notes, hazard=args.hazard, notes=result.notes,
            out=str(args.out))
    return EXIT_OK


def cmd_recommend(args: argparse.Namespace) -> int:
    from geo.analyses.siting import SitingOptions, analyse_siting
    from geo.outputs.files.siting import write_outputs
    from layers.region import load_region

    if args.weights and (not args.years or args.objective != "sum"):
        raise ParameterError("--weights は --years と --objective sum のときの年ごとの重みです。",
                             parameter="weights",
                             fix="例: --years 2025,2035,2050 --objective sum --weights 1,1,2")
    region = load_region(args.region, with_roads=False)
    options = SitingOptions(
        candidates=args.candidates, facilities=args.facilities, p=args.p,
        max_distance=args.max_distance, capacity=args.capacity, target=args.target,
        outside_hazard=args.outside_hazard, curve_to=args.curve_to, time_limit=args.time_limit,
        straight_line=args.straight_line, season=args.season, date=args.date, year=args.year)
    run = analyse_siting(region, options)
    write_outputs(run.recommendation, Path(args.out))
    extra: dict[str, Any] = {}
    if args.years:
        from geo.analyses.siting_over_time import analyse_siting_over_time
        from geo.outputs.files.siting_over_time import write_outputs as write_over_time

        weights = _weights(args.weights) if args.weights else None
        over = analyse_siting_over_time(region, options, years=_years(args.years),
                                        objective=args.objective, weights=weights)
        write_over_time(over, Path(args.out))
        extra["over_time"] = over.summary().as_dict()
    _report(run.summary(), warn=run.notes, notes=run.notes, out=str(args.out), **extra)
    return EXIT_OK


def _check_recommend(value: int | None) -> None:
    if value is not None and value < 1:
        raise LayerError("--recommend は 1 以上にしてください（省くときは付けない）。", column="--recommend",
                         fix="例: --recommend 3")
