"""``tomoni demo``: make the fictional demo region and run every analysis on it.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo.cli.args import EXIT_OK, say
from geo.cli.check import check_report
from geo.outputs.csv_safe import csv_text

if TYPE_CHECKING:
    from layers.region import RegionLike

__all__ = ["cmd_demo"]

log = logging.getLogger("tomoni")


def cmd_demo(args: argparse.Namespace) -> int:
    from layers.demo import ensure_demo
    from layers.region import load_region

    out = Path(args.out)
    toml = ensure_demo(out, force=args.force)
    log.info("デモ地域: %s", toml)
    region = load_region(toml)
    summary = region.summary()
    analyses = _demo_analyses(region, out / "results")
    if args.json:
        say(json.dumps({"region_toml": str(toml), "check": summary, "analyses": analyses},
                         ensure_ascii=False, indent=2))
    else:
        say(f"デモ地域（架空）を用意しました: {toml}\n")
        say(check_report(summary))
        say("\n分析:")
        for name, result in analyses.items():
            say(f"  {name}: {json.dumps(result, ensure_ascii=False)}")
        say(f"\n結果: {out / 'results'}　次は: tomoni check {toml}")
    return EXIT_OK


def _demo_analyses(region: RegionLike, out: Path) -> dict[str, Any]:
    """Every analysis that exists, on the demo region (the same code as the commands)."""
    from geo.analyses.consolidation import analyse_consolidation
    from geo.outputs.files import crossborder as cb
    from geo.outputs.files import shelter_load as sl
    from geo.outputs.files import vc_plan as vp
    from geo.outputs.files.coverage import write_outputs
    from geo.outputs.files.route import write_route_outputs
    from geo.outputs.printed_map import save_map, static_map
    from geo.outputs.report import write_report
    from geo.outputs.route_sheet import route_sheet
    from geo.runs.region_results import analyse_region
    from layers.atomic import atomic_write_text

    res = analyse_region(region, hazard="flood", recommend_p=3)
    dens = region.layers["vulnerable"]
    summary: dict[str, Any] = {
        "anonymisation": {k: v for k, v in dens.attrs.get("summary", {}).items() if k != "categories"}}
    if res.coverage is not None and res.coverage_table is not None and res.gaps is not None:
        write_outputs(res.coverage, res.coverage_table, res.gaps, out)
        summary["coverage"] = {**res.coverage.summary().as_dict(), "gaps": len(res.gaps)}
    cons = analyse_consolidation(region)
    atomic_write_text(out / "consolidation_by_area.csv", csv_text(cons.by_area),
                      encoding="utf-8-sig")
    summary["consolidation"] = cons.summary().as_dict()
    if res.shelters is not None and res.scenario is not None:
        sl.write_outputs(res.shelters, res.scenario, out / "shelters_flood")
        summary["shelters_flood"] = res.shelters.summary().as_dict()
    if res.vc is not None:
        vp.write_outputs(res.vc, out / "vc_plan_flood")
        summary["vc_plan_flood"] = res.vc.summary().as_dict()
    if res.shelter_needs is not None:
        from geo.outputs.files.shelter_needs import write_outputs as write_needs

        write_needs(res.shelter_needs, out / "shelter_needs_flood")
        summary["shelter_needs_flood"] = res.shelter_needs.summary().as_dict()
    summary |= _demo_dispatch(region, out / "dispatch_flood")
    if res.transit is not None:
        from geo.outputs.files.transit import write_transit_outputs

        write_transit_outputs(res.transit, out / "transit", density=res.transit.density,
                              layers={"boundaries": region.layers.get("boundaries"),
                                      "places": res.transit.destinations},
                              title=f"{region.name}　居場所まで徒歩＋バス", fictional=True,
                              attribution=region.attribution())
        summary["transit"] = res.transit.summary()
    if res.cross is not None:
        cb.write_outputs(res.cross, out / "crossborder_flood")
        summary["crossborder_flood"] = res.cross.summary().as_dict()
    if res.recommendation is not None:
        summary["recommend"] = res.recommendation.summary().as_dict()
    if res.routes:
        key = max(res.routes, key=lambda k: res.route_summaries[k]["hazard"]["closed_edges_avoided"])
        routes = res.routes[key]
        write_route_outputs(routes, out / "route_main")
        scen = res.route_scenario
        if scen is not None and scen.base is not None:
            route_sheet(routes, out / "route_main" / "route_sheet.pdf", net=scen.base,
                        title=f"ルート: {key}", comparison=res.route_summaries[key], zones=scen.zones,
                        closed=scen.closed, fictional=True, attribution=region.attribution())
        summary["route_main"] = res.route_summaries[key]
    fig = static_map(region.layers, crs=region.crs, title=f"{region.name}　避難所と洪水浸水想定",
                     roads=region.roads, fictional=True, attribution=region.attribution())
    save_map(fig, out / "map.png", dpi=150)
    write_report(res, out / "report", formats=("pdf", "html"))
    summary["map"] = str(out / "map.png")
    summary["report"] = str(out / "report" / "report.pdf")
    return summary


def _demo_dispatch(region: RegionLike, out: Path) -> dict[str, Any]:
    """The demo VC's day after the flood: its needs and teams lists, as ``tomoni dispatch``."""
    from geo.analyses.dispatch import DispatchOptions, analyse_dispatch
    from geo.outputs.files.dispatch import write_run_outputs
    from layers.needs import read_needs
    from layers.teams import read_teams

    folder = region.config.path.parent
    needs_file, teams_file = folder / "private" / "vc_needs_flood.csv", folder / "vc_teams.csv"
    if not (needs_file.is_file() and teams_file.is_file()):
        return {}
    run = analyse_dispatch(region, read_needs(needs_file, geocoder=region.geocoder), read_teams(teams_file),
                           DispatchOptions(hazard="flood", vc="VC02"))
    write_run_outputs(run, out, crs=region.crs, fictional=True)
    summary = run.summary()
    del summary["time_s"]  # the demo's results are the same on every run
    return {"dispatch_flood": summary}
