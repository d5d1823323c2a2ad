"""The ``tomoni`` command line.

Every input problem is printed as a plain message naming file, row, column and
fix, and the command exits with status 2; no traceback reaches the user unless
``--debug`` is given.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from geo.cli_args import guard_output, number, region_inputs, say, staged_folder
from geo.csv_safe import csv_text
from layers.errors import LayerError, ParameterError

__all__ = ["main"]

log = logging.getLogger("tomoni")

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INPUT = 2


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    gap = " " * max(width - _width(text), 0)
    return gap + text if right else text + gap


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table that lines up Japanese (double-width) text."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, r in enumerate(cells):
        lines.append("  ".join(_pad(c, widths[i], right=(i == 1 and n > 0))
                               for i, c in enumerate(r)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def check_report(summary: dict[str, Any]) -> str:
    """The human-readable ``tomoni check`` table."""
    from layers.region import LAYER_LABELS

    head = f"地域: {summary['region']}"
    if summary.get("fictional"):
        head += "  【架空データ】"
    head += f"  解析用座標系: {summary['analysis_crs']}"
    rows = []
    for key, entry in summary["layers"].items():
        bbox = ",".join(f"{v:.4f}" for v in entry["bbox"]) if entry["bbox"] else "-"
        rows.append([f"{key}（{LAYER_LABELS.get(key, key)}）", entry["rows"], entry["crs"], bbox,
                     len(entry["warnings"])])
    if "roads" in summary:
        r = summary["roads"]
        rows.append([f"roads（道路・{r['network']}）", r["nodes"], "EPSG:4326",
                     f"ノード {r['nodes']} / リンク {r['edges']}", len(r.get("warnings", []))])
    out = [head, "", format_table(["レイヤー", "行数", "座標系", "範囲 (経度・緯度)", "警告"], rows)]
    warn_lines = []
    for key, entry in summary["layers"].items():
        warn_lines += [f"  {key}: {w}" for w in entry["warnings"]]
        if entry.get("counts"):
            counts = ", ".join(f"{k} {v}" for k, v in entry["counts"].items())
            out.append(f"  {key} の内訳: {counts}")
    warn_lines += [f"  地域設定: {w}" for w in summary.get("warnings", [])]
    if warn_lines:
        out += ["", "警告:", *warn_lines]
    return "\n".join(out)


# ---------------------------------------------------------------- commands


def cmd_check(args: argparse.Namespace) -> int:
    from layers.region import load_region

    region = load_region(args.region, with_roads=not args.no_roads)
    summary = region.summary()
    extra = _winter_and_projection(region, _check_day(args.date))
    if args.json:
        say(json.dumps({**summary, **extra}, ensure_ascii=False, indent=2))
    else:
        say(check_report(summary))
        if "winter" in extra:
            w = extra["winter"]
            say(f"冬期閉鎖: {w['sections']} 区間（表から {w['from_tables']}）、"
                f"除雪優先の線 {w['priority_lines']} 本、除雪優先の路線名 {w['priority_roads']} 件")
        if "projection" in extra:
            pr = extra["projection"]
            say(f"将来推計: 500 m メッシュ {pr['cells']:,} 件、年 {pr['years'][0]}〜{pr['years'][-1]}"
                f"（年齢区分の和を確かめました）")
        for f in extra.get("transit", []):
            off = f.get("stops_off_road")
            say(f"公共交通 {f['feed']}: 路線 {f['routes']}、停留所 {f['stops']}、"
                f"{f['date']} の便 {f['trips_on_date']}"
                + (f"、デマンド区域 {f['flex_zones']}" if f["flex_zones"] else "")
                + (f"、道路から {STOP_OFF_ROAD_M:.0f} m 以上離れた停留所 {len(off)}: {', '.join(off[:5])}"
                   if off else ""))
    return EXIT_OK


def _check_day(value: str | None) -> Any:
    """``--date`` of ``tomoni check`` (the day whose trips are counted; default today)."""
    import datetime as dt

    if not value:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ParameterError("日付が読めません。", parameter="date", fix="例: 2027-01-14") from None


def _winter_and_projection(region: Any, day: Any = None) -> dict[str, Any]:
    """``[season.winter]`` files and the ``[projection]`` read and checked as the analyses
    read them (a closure table's places found with the geocoder): a problem is an error
    naming its file, row and column, found here rather than in the middle of an analysis."""
    from geo.analyses import _file_states, _projection
    from layers.winter import load_closures, load_priority

    out: dict[str, Any] = {}
    spec = region.config.winter
    if spec.closures or spec.priority or spec.priority_roads:
        shut = load_closures(spec.closures, day=None, geocoder=region.geocoder)
        prio = load_priority(spec.priority) if spec.priority else None
        out["winter"] = {"sections": len(shut), "from_tables": int(shut["by_ends"].sum()),
                         "priority_lines": 0 if prio is None else len(prio),
                         "priority_roads": len(spec.priority_roads)}
    if region.config.projection:
        proj = _projection(_file_states(region.config.projection))
        out["projection"] = {"cells": len(proj.cells), "years": list(proj.years)}
    if region.config.transit:
        out["transit"] = _transit_check(region, day)
    return out


STOP_OFF_ROAD_M = 100.0
"""A bus stop farther than this from every road is reported (its coordinates are likely wrong)."""


def _transit_check(region: Any, day: Any) -> list[dict[str, Any]]:
    """Each ``[layers.transit]`` feed read as the analyses will: routes, stops, trips on
    ``day``, GTFS-Flex zones, and the stops farther than :data:`STOP_OFF_ROAD_M` from any road."""
    import numpy as np

    from geo.access import snap
    from geo.network import region_network
    from layers.crs import STORAGE_CRS, transform_xy
    from layers.transit import feed_summary, read_feed

    net = region_network(region) if region.config.roads is not None else None
    out = []
    for path in region.config.transit:
        feed = read_feed(path)
        entry = feed_summary(feed, day)
        if net is not None:
            stops = feed.stops[feed.stops["location_type"] == "0"]
            x, y = transform_xy(stops["lon"].to_numpy(float), stops["lat"].to_numpy(float), STORAGE_CRS,
                                region.crs)
            far = snap(net, x, y, max_access=STOP_OFF_ROAD_M).flagged
            entry["stops_off_road"] = stops.loc[np.asarray(far), "stop_id"].astype(str).tolist()[:20]
        out.append(entry)
    return out


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


def _demo_analyses(region: Any, out: Path) -> dict[str, Any]:
    """Every analysis that exists, on the demo region (the same code as the commands)."""
    from geo import crossborder as cb
    from geo import shelter_load as sl
    from geo import vc_plan as vp
    from geo.analyses import analyse_consolidation
    from geo.coverage import write_outputs
    from geo.printed_map import save_map, static_map
    from geo.region_results import analyse_region
    from geo.report import write_report
    from geo.route_sheet import route_sheet
    from geo.routing import write_route_outputs
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
        from geo.shelter_needs import write_outputs as write_needs

        write_needs(res.shelter_needs, out / "shelter_needs_flood")
        summary["shelter_needs_flood"] = res.shelter_needs.summary().as_dict()
    summary |= _demo_dispatch(region, out / "dispatch_flood")
    if res.transit is not None:
        from geo.transit_outputs import write_transit_outputs

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


def _demo_dispatch(region: Any, out: Path) -> dict[str, Any]:
    """The demo VC's day after the flood: its needs and teams lists, as ``tomoni dispatch``."""
    from geo.analyses import DispatchOptions, analyse_dispatch
    from geo.dispatch_outputs import write_dispatch_outputs
    from layers.needs import read_needs
    from layers.teams import read_teams

    folder = region.config.path.parent
    needs_file, teams_file = folder / "private" / "vc_needs_flood.csv", folder / "vc_teams.csv"
    if not (needs_file.is_file() and teams_file.is_file()):
        return {}
    run = analyse_dispatch(region, read_needs(needs_file, geocoder=region.geocoder), read_teams(teams_file),
                           DispatchOptions(hazard="flood", vc="VC02"))
    write_dispatch_outputs(run.plan, out, networks=run.networks, crs=region.crs, zones=run.zones,
                           closed=run.closed, fictional=True)
    summary = run.summary()
    del summary["time_s"]  # the demo's results are the same on every run
    return {"dispatch_flood": summary}


def _parse_layers(value: str | None, available: Sequence[str]) -> list[str] | None:
    if not value:
        return None
    wanted = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in wanted if v not in available]
    if unknown:
        raise LayerError(
            f"地域にないレイヤーが指定されました: {', '.join(unknown)}",
            column="--layers",
            fix=f"次の中から選んでください: {', '.join(available)}",
        )
    return wanted


def cmd_map(args: argparse.Namespace) -> int:
    from geo.printed_map import save_map, static_map
    from layers.region import load_region
    from layers.shelters import HAZARDS

    if args.hazard not in HAZARDS:
        raise LayerError("災害の種類が分かりません。", column="--hazard",
                         fix=f"次のいずれかを指定してください: {', '.join(HAZARDS)}")
    out = Path(args.out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg", "pdf", "html"):
        raise LayerError("出力形式が分かりません。", file=out, column="--out",
                         fix="拡張子を .png、.svg、.pdf、.html のいずれかにしてください。")
    wanted = args.layers.split(",") if args.layers else []
    region = load_region(args.region, with_roads=(not wanted) or "roads" in wanted)
    available = [*region.layers, *(["roads"] if region.roads is not None else [])]
    show = _parse_layers(args.layers, available)
    title = args.title or f"{region.name}"
    if fmt == "html":
        from geo.assets import standalone_html
        from geo.maps import region_map
        from layers.atomic import atomic_write_text

        m = region_map(region.layers, roads=region.roads, hazard=args.hazard,
                       fictional=region.fictional, attribution=region.attribution(), show=show,
                       localise_assets=False)
        atomic_write_text(out, standalone_html(m))
    else:
        fig = static_map(region.layers, crs=region.crs, title=title, roads=region.roads,
                         hazard=args.hazard, paper=args.paper, fictional=region.fictional,
                         attribution=region.attribution(), show=show)
        save_map(fig, out, dpi=args.dpi)
    say(json.dumps({"out": str(out), "format": fmt, "layers": show or available,
                      "title": title}, ensure_ascii=False))
    return EXIT_OK


def cmd_anonymize(args: argparse.Namespace) -> int:
    from geo.layer_export import write_density
    from layers.vulnerable import load_vulnerable

    boundaries = None
    areas = None
    geocoder = None
    if args.region:
        from layers.region import load_region

        region = load_region(args.region, with_roads=False)
        boundaries = region.layers.get("boundaries")
        areas = {k: v for k, v in region.layers.items() if k != "vulnerable"}
        geocoder = region.geocoder
    elif args.by:
        raise LayerError("--by には --region（地域設定）が必要です。", column="--region",
                         fix="--by neighbourhoods --region REGION.toml のように指定してください。")
    density = load_vulnerable([Path(args.records)], kind=args.kind, mesh=args.mesh, k=args.k,
                              by=args.by, boundaries=boundaries, region_areas=areas,
                              encoding=args.encoding, sheet=args.sheet, geocoder=geocoder)
    write_density(density, args.out)
    s = density.attrs.get("summary", {})
    if s.get("coordinates_swapped"):
        log.warning("名簿の緯度と経度の列が逆だったため、入れ替えて読みました。")
    say(json.dumps({
        **({"coordinates_swapped": True} if s.get("coordinates_swapped") else {}),
        "records_read": s.get("records_read"), "in_region": s.get("in_region"),
        "outside_region": s.get("outside_region"), "unlocated": s.get("unlocated"),
        "units_published": s.get("units_published"), "units_merged": s.get("units_merged"),
        "units_absorbed": s.get("units_absorbed"), "k": s.get("k"),
        **({"estimated": s["estimated"]} if s.get("estimated") else {}),
        "geography": s.get("geography"), "out": str(args.out),
    }, ensure_ascii=False))
    return EXIT_OK


def _matching(pattern: str, option: str) -> list[Path]:
    """The files a path or pattern (``machiaza/*.json``) names; an error when none."""
    import glob

    hits = sorted(Path(p) for p in glob.glob(str(Path(pattern).expanduser())))
    if not hits:
        raise LayerError("パターンに一致するファイルがありません。", file=pattern, column=option,
                         fix="パス（* など）とフォルダの場所を確認してください。")
    return hits


def cmd_geocode(args: argparse.Namespace) -> int:
    from layers.atomic import atomic_write_text
    from layers.geocode import geocode_list, load_geocoder
    from layers.readers import read_table

    if bool(args.region) == bool(args.reference):
        raise LayerError("参照点を --region か --reference のどちらか一つで指定してください。",
                         column="--reference",
                         fix='--reference "machiaza/*.json" か、[geocoder] のある --region REGION.toml')
    if args.region:
        from layers.region import load_region

        region = load_region(args.region, with_roads=False)
        if region.geocoder is None:
            raise LayerError("地域設定に [geocoder] がありません。", file=args.region, column="geocoder",
                             fix='[geocoder] path = "machiaza/*.json" を書くか、'
                                 "--reference で指定してください。")
        geocoder = region.geocoder
    else:
        refs = _matching(args.reference, "--reference")
        blocks = _matching(args.blocks, "--blocks") if args.blocks else []
        guard_output(args.out, [*refs, *blocks], force=args.force)  # never write over a reference
        geocoder = load_geocoder(refs, blocks=blocks)
    path = Path(args.records)
    table = read_table(path, encoding=args.encoding, sheet=args.sheet)
    result = geocode_list(table, geocoder, file=Path(table.attrs.get("file_label", path)),
                          address=args.address, municipality=args.municipality)
    atomic_write_text(args.out, csv_text(result.table), encoding="utf-8-sig")
    say(json.dumps({**result.summary(), "out": str(args.out)}, ensure_ascii=False))
    return EXIT_OK


def cmd_coverage(args: argparse.Namespace) -> int:
    from geo.analyses import CoverageOptions, analyse_coverage
    from geo.coverage import write_outputs
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
    from geo.analyses import WinterLossOptions, analyse_winter_loss
    from geo.winter_loss import write_outputs
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
        from geo.analyses import OutlookOptions, analyse_outlook
        from geo.outlook import write_outputs as write_outlook

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
    return tuple(int(t) for t in parts)


def _report(summary: Any, *, warn: Sequence[str] = (), **extra: Any) -> None:
    """Log ``warn`` and print the summary (a :class:`geo.summary.Summary` or a dict) as JSON."""
    for note in warn:
        log.warning(note)
    data = summary.as_dict() if hasattr(summary, "as_dict") else dict(summary)
    say(json.dumps({**data, **extra}, ensure_ascii=False, default=str))


def cmd_consolidation(args: argparse.Namespace) -> int:
    from geo.analyses import ConsolidationOptions, analyse_consolidation
    from geo.consolidation import write_outputs
    from layers.region import load_region

    region = load_region(args.region, with_roads=False)
    result = analyse_consolidation(region, ConsolidationOptions(
        before=args.before, after=args.after, threshold=args.threshold))
    write_outputs(result, Path(args.out))
    _report(result.summary(), warn=result.notes)
    return EXIT_OK


def cmd_shelters(args: argparse.Namespace) -> int:
    from geo.analyses import ShelterOptions, analyse_shelters
    from geo.shelter_load import write_outputs
    from layers.region import load_region

    region = load_region(args.region, with_roads=False)
    run = analyse_shelters(region, ShelterOptions(
        hazard=args.hazard, catchment=args.catchment, shallow_factor=args.shallow_factor,
        season=args.season, date=args.date, year=args.year, demand=args.demand))
    write_outputs(run.load, run.scenario, Path(args.out))
    _report(run.summary(), warn=run.notes, notes=run.notes, out=str(args.out))
    return EXIT_OK


def cmd_route(args: argparse.Namespace) -> int:
    from geo.analyses import RouteOptions, analyse_route, analyse_routes_to_all, region_point
    from geo.route_sheet import route_sheet
    from geo.routing import write_route_outputs
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
    from geo.analyses import VCPlanOptions, analyse_vc_plan
    from geo.vc_plan import write_outputs
    from layers.region import load_region

    region = load_region(args.region, with_roads=False)
    run = analyse_vc_plan(region, VCPlanOptions(hazard=args.hazard, p=args.p,
                                                shallow_factor=args.shallow_factor,
                                                season=args.season, date=args.date))
    write_outputs(run.plan, Path(args.out))
    _report(run.summary(), warn=run.notes, notes=run.notes, out=str(args.out))
    return EXIT_OK


def cmd_dispatch(args: argparse.Namespace) -> int:
    from geo.analyses import DispatchOptions, analyse_dispatch
    from geo.dispatch_outputs import write_dispatch_outputs
    from layers.needs import read_needs
    from layers.region import load_region
    from layers.teams import read_teams

    region = load_region(args.region, with_roads=False)
    needs = read_needs(Path(args.needs), geocoder=region.geocoder, sheet=args.sheet)
    teams = read_teams(Path(args.teams))
    run = analyse_dispatch(region, needs, teams, DispatchOptions(
        vc=args.vc, hazard=args.hazard, time_limit=args.time_limit, drive_kmh=args.drive_kmh,
        walk_m_per_min=args.walk_speed))
    write_dispatch_outputs(run.plan, Path(args.out), networks=run.networks, crs=region.crs, zones=run.zones,
                           closed=run.closed, fictional=region.fictional)
    _report(run.summary(), warn=run.plan.notes, notes=run.plan.notes, out=str(args.out))
    return EXIT_OK


def transit_options(args: argparse.Namespace) -> Any:
    """``tomoni transit``'s options as the analysis takes them (``--to``: a layer or a file)."""
    from geo.analyses import TransitOptions

    to = str(args.to)
    is_file = to not in ("places", "shelters", "vc_sites") and ("." in Path(to).name or Path(to).exists())
    return TransitOptions(
        facilities="places" if is_file else to, to_file=to if is_file else None, date=args.date,
        window=args.window, max_minutes=args.max_minutes, profile=args.profile, season=args.season,
        max_walk_min=args.max_walk, transfer_min=args.transfer_walk, max_trips=args.max_trips,
        flex_wait_min=args.flex_wait, rule=args.rule, compare_date=args.compare_date,
        compare=not args.no_compare, what_if=args.what_if, demand=args.demand)


def cmd_transit(args: argparse.Namespace) -> int:
    from geo.analyses import analyse_transit
    from geo.transit_outputs import write_transit_outputs
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


def cmd_shelter_needs(args: argparse.Namespace) -> int:
    from geo.analyses import ShelterOptions, analyse_shelter_needs
    from geo.shelter_needs import read_ratios, write_outputs
    from layers.region import load_region

    region = load_region(args.region, with_roads=False)
    ratios = read_ratios(Path(args.ratios)) if args.ratios else None
    run, needs = analyse_shelter_needs(region, ShelterOptions(hazard=args.hazard, demand=args.demand),
                                       ratios=ratios)
    write_outputs(needs, Path(args.out))
    _report(needs.summary().as_dict(), warn=run.notes, notes=[*run.notes, *needs.notes], out=str(args.out))
    return EXIT_OK


def cmd_crossborder(args: argparse.Namespace) -> int:
    from geo.analyses import CrossBorderOptions, analyse_crossborder
    from geo.crossborder import write_outputs
    from layers.region import load_region

    region = load_region(args.region, with_roads=False)
    result = analyse_crossborder(region, CrossBorderOptions(hazard=args.hazard,
                                                            straight_line=args.straight_line))
    write_outputs(result, Path(args.out))
    _report(result.summary(), warn=result.notes, hazard=args.hazard, notes=result.notes,
            out=str(args.out))
    return EXIT_OK


def cmd_recommend(args: argparse.Namespace) -> int:
    from geo.analyses import SitingOptions, analyse_siting
    from geo.siting import write_outputs
    from layers.region import load_region

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
        from geo.analyses import analyse_siting_over_time
        from geo.siting_over_time import write_outputs as write_over_time

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


def cmd_report(args: argparse.Namespace) -> int:
    from geo.region_results import analyse_region
    from geo.report import write_report
    from geo.scenario import parse_hazard
    from layers.region import load_region

    formats = [f.strip().lower() for f in args.format.split(",") if f.strip()]
    if not formats or set(formats) - {"pdf", "html"}:
        raise LayerError("--format が分かりません。", column="--format", fix="pdf,html / pdf / html")
    hazard = parse_hazard(args.hazard)
    _check_recommend(args.recommend)
    region = load_region(args.region)
    res = analyse_region(region, hazard=hazard, recommend_p=args.recommend)
    paths = write_report(res, Path(args.out), formats=formats, sheets=args.sheets)
    say(json.dumps({"region": region.name, "hazard": hazard, "files": [str(p) for p in paths],
                      "notes": res.notes}, ensure_ascii=False))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from geo.data_export import export_all
    from geo.region_results import analyse_region
    from geo.scenario import parse_hazard
    from layers.region import load_region

    hazard = parse_hazard(args.hazard)
    _check_recommend(args.recommend)
    region = load_region(args.region, with_roads=False)
    res = analyse_region(region, hazard=hazard, recommend_p=args.recommend)
    paths = export_all(res, Path(args.out), cp932=args.cp932, parquet=args.parquet)
    say(json.dumps({"region": region.name, "hazard": hazard, "files": len(paths),
                      "geopackage": str(Path(args.out) / "tomoni_export.gpkg")}, ensure_ascii=False))
    return EXIT_OK


def cmd_batch(args: argparse.Namespace) -> int:
    from geo.batch import fits_one_process, read_batch, run_batch, specs_for

    cfg = read_batch(args.regions)
    specs = specs_for(cfg)
    if args.workers < 1:
        raise LayerError("--workers は 1 以上にしてください。", column="--workers", fix="例: --workers 2")
    one = args.scheduler is None and not args.dask and all(fits_one_process(r) for r in cfg.regions)
    if one:
        say("注意: 地域が 1 つのプロセスに収まるため、Dask を使わずに 1 回で計算します"
            "（分割して並列にするには --dask か --scheduler を付けてください）。", err=True)
    result = run_batch(specs, Path(args.out), scheduler=args.scheduler, workers=args.workers,
                       one_process=one)
    for key, msg in result.failed.items():
        log.warning("市町村 %s の計算に失敗しました: %s", key, msg)
    say(json.dumps({"batch": cfg.name, **result.summary()}, ensure_ascii=False))
    return EXIT_OK if not result.failed else EXIT_INPUT


def cmd_serve(args: argparse.Namespace) -> int:
    """Start the app: on this machine only unless an address is given, and then only with
    a login and a data folder."""
    import ipaddress
    import os
    import subprocess

    from layers.users import read_users

    loopback = args.address in ("localhost", "::1") or (
        args.address.replace(".", "").isdigit() and ipaddress.ip_address(args.address).is_loopback)
    if not loopback and not (args.users and args.data_root):
        raise LayerError("ほかの機械に公開するには、ログインとデータフォルダの指定が必要です。",
                         column="address",
                         fix="--users users.toml（tomoni user-add で作る）と --data-root フォルダ"
                         " を付けてください。")
    env = dict(os.environ)
    if args.users:
        read_users(args.users)  # a clear error now, not at the first login
        env["TOMONI_USERS_FILE"] = str(Path(args.users).resolve())
    if args.data_root:
        root = Path(args.data_root).resolve()
        if not root.is_dir():
            raise LayerError("データフォルダがありません。", file=args.data_root, column="data_root",
                             fix="既にあるフォルダを指定してください。")
        env["TOMONI_DATA_ROOT"] = str(root)
    if args.region:
        from layers.region import read_config

        env["TOMONI_START_REGION"] = str(read_config(args.region).path.resolve())  # checked now
    app = Path(__file__).resolve().parents[1] / "streamlit_app.py"
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), f"--server.address={args.address}",
           f"--server.port={args.port}", "--server.headless=true", "--browser.gatherUsageStats=false"]
    log.info("starting the app on http://%s:%s", args.address, args.port)
    say(f"ともにマップ: http://{args.address}:{args.port}（Ctrl+C で終了）", err=True)
    return subprocess.call(cmd, env=env, cwd=app.parent)


def cmd_user_add(args: argparse.Namespace) -> int:
    import getpass

    from layers.users import add_user

    password = getpass.getpass("パスワード: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    add_user(args.users, args.name, password)
    say(json.dumps({"users": str(args.users), "added": args.name}, ensure_ascii=False))
    return EXIT_OK


def _force(p: argparse.ArgumentParser) -> None:
    p.add_argument("--force", action="store_true", help="出力先が既にあれば置き換える（書き終わってから）")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tomoni",
        description="ともにマップ: 社協のための地域福祉・防災の地図と分析",
    )
    parser.add_argument("--debug", action="store_true", help="内部エラーの詳細（トレースバック）を表示")
    parser.add_argument("-v", "--verbose", action="store_true", help="進行状況を表示")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _add_check(sub)
    _add_demo(sub)
    _add_map(sub)
    _add_anonymize(sub)
    _add_geocode(sub)
    _add_coverage(sub)
    _add_outlook(sub)
    _add_consolidation(sub)
    _add_shelters(sub)
    _add_route(sub)
    _add_vc_plan(sub)
    _add_dispatch(sub)
    _add_shelter_needs(sub)
    _add_transit(sub)
    _add_crossborder(sub)
    _add_recommend(sub)
    _add_report(sub)
    _add_export(sub)
    _add_serve(sub)
    _add_user_add(sub)
    _add_batch(sub)
    return parser


def _add_check(sub: Any) -> None:
    """``tomoni check``."""
    p = sub.add_parser("check", help="地域設定（TOML）のすべてのレイヤーを読み込んで検査する")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--json", action="store_true", help="結果を JSON で出力")
    p.add_argument("--no-roads", action="store_true", help="道路ネットワークを読み込まない")
    p.add_argument("--date", help="公共交通（GTFS）の便を数える日（例: 2027-01-14、既定: 今日）")
    p.set_defaults(func=cmd_check)


def _add_demo(sub: Any) -> None:
    """``tomoni demo``."""
    p = sub.add_parser("demo", help="架空のデモ地域を作り（なければ）、今ある分析をすべて実行する")
    p.add_argument("--out", default="tomoni-demo", help="デモ地域を書き出すフォルダ")
    p.add_argument("--force", action="store_true", help="既にあっても作り直す")
    p.add_argument("--json", action="store_true", help="結果を JSON で出力")
    p.set_defaults(func=cmd_demo)


def _add_map(sub: Any) -> None:
    """``tomoni map``."""
    p = sub.add_parser("map", help="地図画像（PNG/SVG/PDF）またはオフラインで開ける HTML 地図を書き出す")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--out", required=True, help="出力ファイル（拡張子で形式: .png .svg .pdf .html）")
    _force(p)
    p.add_argument("--layers", help="描くレイヤー（カンマ区切り、例: shelters,boundaries）")
    p.add_argument("--title", help="地図のタイトル（既定: 地域名）")
    p.add_argument("--paper", default="A4-landscape",
                   help="用紙: A4-landscape / A4-portrait / A3-landscape / A3-portrait")
    p.add_argument("--dpi", type=number(72, 1200, integer=True), default=300,
                   help="PNG の解像度（72〜1200、既定 300）")
    p.add_argument("--hazard", default="flood", help="避難所を色分けする災害（既定 flood）")
    p.set_defaults(func=cmd_map)


def _add_anonymize(sub: Any) -> None:
    """``tomoni anonymize``."""
    p = sub.add_parser("anonymize", aliases=["anonymise"],
                       help="要配慮者の名簿を、個人を特定できない密度（k人以上の単位）に集計する")
    p.add_argument("records", help="名簿（CSV・Excel、緯度・経度か住所の列）またはメッシュ別人数・"
                   "e-Stat メッシュ統計。住所だけの名簿は --region の [geocoder] で位置を求めます")
    p.add_argument("--sheet", help="Excel のシート名（既定: データのある最初のシート）")
    p.add_argument("--out", required=True, help="出力（.gpkg / .geojson / .csv）")
    _force(p)
    p.add_argument("--mesh", type=int, default=500, choices=[1000, 500, 250],
                   help="メッシュの大きさ（m、既定 500）")
    p.add_argument("--k", type=number(3, 1000, integer=True), default=5,
                   help="公開する単位の最小人数（既定 5、3 以上）")
    p.add_argument("--by", choices=["neighbourhoods", "school_districts", "boundaries"],
                   help="メッシュの代わりに地域設定の区域（自治会・校区・市町村）で集計")
    p.add_argument("--region", help="地域設定（区域外の記録を除く・--by の区域）")
    p.add_argument("--kind", default="auto",
                   choices=["auto", "records", "mesh_counts", "area_counts", "estat", "ksj_forecast"])
    p.add_argument("--encoding", help="文字コード（既定: 自動判別）")
    p.set_defaults(func=cmd_anonymize)


def _add_geocode(sub: Any) -> None:
    """``tomoni geocode``."""
    p = sub.add_parser("geocode",
                       help="居場所・候補地などの一覧（CSV/Excel）の住所から緯度・経度を求める（オフライン）")
    p.add_argument("records", metavar="LIST",
                   help="住所のある一覧（CSV、.xlsx、.xls）。名簿は受け付けません")
    p.add_argument("--out", required=True,
                   help="出力 CSV（元の列＋緯度・経度・match_level・remainder・注意）")
    _force(p)
    p.add_argument("--region", help="[geocoder] のある地域設定（TOML）")
    p.add_argument("--reference", help='町字の参照点（例: "machiaza/*.json"）')
    p.add_argument("--blocks", help="位置参照情報（街区レベル）の CSV（任意）")
    p.add_argument("--address", help="住所の列名（既定: 住所・所在地）")
    p.add_argument("--municipality", help="市町村の列名（住所に市町村名がないとき）")
    p.add_argument("--sheet", help="Excel のシート名（既定: データのある最初のシート）")
    p.add_argument("--encoding", help="文字コード（既定: 自動判別）")
    p.set_defaults(func=cmd_geocode)


def _add_coverage(sub: Any) -> None:
    """``tomoni coverage``."""
    p = sub.add_parser("coverage", help="要配慮者の単位ごとに、最寄りの施設までの道のりと空白地帯を求める")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--facilities", default="places", choices=["places", "shelters", "vc_sites"],
                   help="施設のレイヤー（既定 places＝居場所）")
    p.add_argument("--max-distance", type=number(0, 100_000, above=True), default=500.0,
                   help="徒歩圏のしきい値 m（既定 500）")
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.add_argument("--straight-line", action="store_true",
                   help="道路を使わず直線距離×迂回率で推定する")
    p.add_argument("--access", default="nearest", choices=["nearest", "multi"],
                   help="道路への出方: nearest＝いちばん近い道路（既定）、multi＝半径内のどの道路からでも")
    p.add_argument("--join-radius", type=number(0, 5_000, above=True), default=150.0,
                   help="--access multi の半径 m（既定 150）")
    _season_args(p)
    p.set_defaults(func=cmd_coverage)


def _season_args(p: argparse.ArgumentParser, *, season: bool = True) -> None:
    """``--season``, ``--date``, ``--profile``, ``--max-minutes``."""
    if season:
        p.add_argument("--season", choices=["summer", "winter"],
                       help="季節（winter: 雪道の遅れと冬期閉鎖。既定 summer、--date が12〜3月なら winter）")
    p.add_argument("--date", help="日付 YYYY-MM-DD（その日に閉鎖中の冬期閉鎖区間を使う）")
    p.add_argument("--profile", default="walk", choices=["walk", "elderly"],
                   help="歩く人（walk 80 m/分、elderly 50 m/分。--max-minutes と冬の遅れに使う）")
    p.add_argument("--max-minutes", type=number(0, 600, above=True),
                   help="徒歩圏のしきい値を分で（--max-distance の代わり。冬は遅くなる）")


def _closure_season_args(p: argparse.ArgumentParser, *, slowed: bool = False) -> None:
    """``--season`` and ``--date`` where a threshold is in metres or the trip is by car."""
    what = ("雪道の遅れ（徒歩）と、その日の冬期閉鎖区間の通行止め" if slowed
            else "その日の冬期閉鎖区間も通行止めにする")
    p.add_argument("--season", choices=["summer", "winter"],
                   help=f"winter: {what}（--date、12〜3月なら自動で winter）")
    p.add_argument("--date", help="日付 YYYY-MM-DD")


def _add_outlook(sub: Any) -> None:
    """``tomoni outlook``."""
    p = sub.add_parser("outlook", help="冬に届かなくなる人: 夏と冬の徒歩圏を比べる（居場所・自治会ごと）")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--season", default="winter", choices=["winter"], help="比べる季節（winter）")
    p.add_argument("--facilities", default="places", choices=["places", "shelters", "vc_sites"],
                   help="施設のレイヤー（既定 places＝居場所）")
    p.add_argument("--max-distance", type=number(0, 100_000, above=True), default=500.0,
                   help="徒歩圏のしきい値 m（既定 500。冬は通行止めだけが効く）")
    _season_args(p, season=False)
    p.add_argument("--years", help="将来推計の年（例 2025,2035,2050）: 年ごとのカバー率（夏・冬）も書く")
    p.add_argument("--min-people", type=number(0, 100_000), default=10.0,
                   help="居場所の徒歩圏の人がこの数を下回ると「基準割れ」（既定 10）。"
                   "自治会の居場所がすべて基準割れになる年を示す")
    p.add_argument("--demand", default="register", choices=["register", "65+", "75+"],
                   help="需要: register＝匿名化済みの要配慮者（年ごとは65歳以上の増減で伸縮。既定）、"
                   "65+ / 75+＝将来推計の人数そのもの（名簿のない地域でも使える。冬の比較は今に近い推計年）")
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.set_defaults(func=cmd_outlook)


def _add_consolidation(sub: Any) -> None:
    """``tomoni consolidation``."""
    p = sub.add_parser("consolidation", help="校区の再編前後で、要配慮者の単位から学校までの道のりを比べる")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--before", required=True, help="再編前の時点（校区レイヤーの periods、例 before）")
    p.add_argument("--after", required=True, help="再編後の時点（例 after）")
    p.add_argument("--threshold", type=number(0, 100_000, above=True), default=4000.0,
                   help="通学距離のしきい値 m（既定 4000、小学校の目安）")
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.set_defaults(func=cmd_consolidation)


def _add_shelters(sub: Any) -> None:
    """``tomoni shelters``."""
    p = sub.add_parser("shelters", help="災害ごとに使える避難所へ要配慮者を割り当て、収容人数と比べる")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--hazard", required=True,
                   help="災害の種類（flood / landslide / tsunami … または 洪水 など）")
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.add_argument("--catchment", type=number(0, 100_000, above=True), default=2000.0,
                   help="2SFCA の圏域 m（既定 2000）")
    p.add_argument("--shallow-factor", type=number(1, 100),
                   help="浸水深ランク1の道路を通行止めにせず、距離をこの倍数で数える（例 2）")
    _closure_season_args(p)
    p.add_argument("--year", type=number(2000, 2100, integer=True),
                   help="将来推計の年（地域設定の [projection]）: その年の需要で計算する")
    p.add_argument("--demand", default="register", choices=["register", "65+", "75+"],
                   help="--year の需要（既定 register＝匿名化済みの要配慮者を65歳以上の増減で伸縮）")
    p.set_defaults(func=cmd_shelters)


def _add_route(sub: Any) -> None:
    """``tomoni route``."""
    p = sub.add_parser("route",
                       help="2 地点間のルート（通常時と災害時を比べる）、または 1 地点から全避難所へ")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--from", dest="from_", required=True, help="出発地: 経度,緯度 または施設のID（例 VC01）")
    p.add_argument("--to", help="目的地: 経度,緯度 または施設のID")
    p.add_argument("--to-all", choices=["shelters", "places", "vc_sites", "gaps"],
                   help="出発地からこのレイヤーのすべての地点（gaps: 居場所の空白地帯の中心）へのルート")
    p.add_argument("--hazard", help="災害の種類（指定すると通行止めを避けたルートも求める）")
    p.add_argument("--profile", default="walk", choices=["walk", "elderly", "drive"],
                   help="移動の手段（既定 walk。drive は地域設定の車道ネットワーク）")
    p.add_argument("--shallow-factor", type=number(1, 100),
                   help="浸水深ランク1の道路の距離の倍数（既定: 通行止め）")
    _closure_season_args(p, slowed=True)
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.set_defaults(func=cmd_route)


def _add_vc_plan(sub: Any) -> None:
    """``tomoni vc-plan``."""
    p = sub.add_parser("vc-plan", help="災害VCの候補地を順位付けし、市町村ごとの開設場所と担当区域を決める")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--hazard", required=True, help="災害の種類")
    p.add_argument("--p", type=number(1, 1000, integer=True),
                   help="p-median で選ぶ候補地の数（既定: 市町村の数）")
    p.add_argument("--shallow-factor", type=number(1, 100),
                   help="浸水深ランク1の道路の距離の倍数（既定: 通行止め）")
    _closure_season_args(p)
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.set_defaults(func=cmd_vc_plan)


def _add_dispatch(sub: Any) -> None:
    """``tomoni dispatch``."""
    p = sub.add_parser("dispatch",
                       help="災害VC: ニーズを班に割り当て、班ごとの訪問順とルートを作る（班票 PDF・GPX）")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--needs", required=True,
                   help="ニーズ票（CSV/Excel: 受付番号、住所または緯度・経度、作業内容、"
                   "必要人数、必要資機材、希望時間帯、優先度、要配慮者）")
    p.add_argument("--teams", required=True, help="班の一覧（CSV/Excel: 班名、人数、車両、資機材、活動時間）")
    p.add_argument("--vc", help="開設する災害VCの候補地ID"
                   "（既定: 想定区域外の候補地のうち、ニーズに平均して最も近いもの）")
    p.add_argument("--hazard", help="災害の種類（通行止めの道路を避ける）")
    p.add_argument("--sheet", help="ニーズ票の Excel シート名")
    p.add_argument("--time-limit", type=number(0.1, 3600), default=5.0,
                   help="ソルバーの制限時間（秒、既定 5）")
    p.add_argument("--drive-kmh", type=number(1, 120), default=20.0, help="車の班の速さ（km/時、既定 20）")
    p.add_argument("--walk-speed", type=number(10, 200), default=60.0,
                   help="徒歩の班の速さ（m/分、資機材を持って。既定 60）")
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.set_defaults(func=cmd_dispatch)


def _add_shelter_needs(sub: Any) -> None:
    """``tomoni shelter-needs``."""
    p = sub.add_parser("shelter-needs",
                       help="避難所ごとの最低限の必要量（トイレ・面積・入浴）を避難者数から求める")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--hazard", required=True, help="災害の種類")
    p.add_argument("--demand", default="register", help="避難者として数える人（既定: 要配慮者の名簿）")
    p.add_argument("--ratios", help="比率の表（CSV/Excel: 項目、値）。既定はガイドライン（2024年12月）の比率")
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.set_defaults(func=cmd_shelter_needs)


def _add_transit(sub: Any) -> None:
    """``tomoni transit``."""
    p = sub.add_parser("transit",
                       help="徒歩＋コミュニティバス（GTFS-JP）で、決めた分数以内に施設へ届く人を求める")
    p.add_argument("region", help="地域設定ファイル（REGION.toml、[layers.transit] に GTFS の zip）")
    p.add_argument("--to", default="places",
                   help="行き先: places（居場所、既定）・shelters・vc_sites、または施設の一覧ファイル"
                   "（CSV/Excel/GeoJSON: 名称と緯度・経度か住所。診療所・スーパーなど）")
    p.add_argument("--date", help="時刻表の日（YYYY-MM-DD、既定: 次の平日。12〜3月は冬の道）")
    p.add_argument("--window", default="08:00-12:00", help="家を出る時間帯（既定 08:00-12:00）")
    p.add_argument("--max-minutes", type=number(0, 600, above=True), default=45.0,
                   help="家から施設までのしきい値（分、既定 45）")
    p.add_argument("--profile", default="elderly", choices=["walk", "elderly"],
                   help="歩く人（elderly 50 m/分＝既定、walk 80 m/分）")
    p.add_argument("--season", choices=["summer", "winter"], help="季節（既定: 日付で決める）")
    p.add_argument("--max-walk", type=number(0, 60), default=10.0,
                   help="停留所まで・停留所から歩く最大の分数（既定 10）")
    p.add_argument("--transfer-walk", type=number(0, 30), default=5.0,
                   help="乗り換えで歩く最大の分数（既定 5）")
    p.add_argument("--max-trips", type=int, default=3, choices=range(1, 7), metavar="1-6",
                   help="1 回の移動で乗る便の数の上限（既定 3＝乗り換え 2 回まで）")
    p.add_argument("--flex-wait", type=number(0, 600),
                   help="デマンド交通の待ち時間（分、既定: 予約ルールのとおり、なければ 30）")
    p.add_argument("--rule", default="trip", choices=["trip", "median"],
                   help="届くの判定: trip＝時間帯のどこかで一度でも（既定）、median＝出発時刻の中央値で")
    p.add_argument("--compare-date", help="比べる休日（既定: 次の日曜）")
    p.add_argument("--no-compare", action="store_true", help="休日と季節の比較をしない")
    p.add_argument("--what-if", action="store_true", help="停留所を 1 つ、便を 1 本増やしたときの効果も試す")
    p.add_argument("--demand", default="register", choices=["register", "65+", "75+"],
                   help="数える人（既定: 要配慮者の名簿）")
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.set_defaults(func=cmd_transit)


def _add_crossborder(sub: Any) -> None:
    """``tomoni crossborder``."""
    p = sub.add_parser("crossborder", help="市町村境を越えた方が近い要配慮者と、広域連携の相手を求める")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--hazard", help="災害の種類（指定するとその災害で使える避難所・道路で計算）")
    p.add_argument("--straight-line", action="store_true", help="道路を使わず直線距離×迂回率で推定する")
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.set_defaults(func=cmd_crossborder)


def _add_recommend(sub: Any) -> None:
    """``tomoni recommend``."""
    p = sub.add_parser("recommend", help="新しい居場所をどこに開くとよいか（最大被覆問題、既存の場所は残す）")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--facilities", default="places", choices=["places", "shelters", "vc_sites"],
                   help="今ある施設のレイヤー（既定 places＝居場所）")
    p.add_argument("--candidates", required=True,
                   help="候補地: ファイル（CSV/GeoJSON…）か places / shelters / vc_sites / "
                   "closed_schools（再編で閉じる学校）/ gap_nodes（空白地帯の道路ノード）/ gap_units")
    p.add_argument("--p", type=number(1, 10_000, integer=True), default=3, help="新しく開く数（既定 3）")
    p.add_argument("--max-distance", type=number(0, 100_000, above=True), default=500.0,
                   help="徒歩圏のしきい値 m（既定 500）")
    p.add_argument("--capacity", help="候補地の容量の列（指定すると容量つきのモデル）")
    p.add_argument("--target", type=number(0, 1, above=True),
                   help="目標カバー率（0〜1）。指定すると、届くまでに必要な最少の数を求める")
    p.add_argument("--outside-hazard", help="この災害の区域の外の候補地だけを使う（例 flood）")
    p.add_argument("--curve-to", type=number(1, 10_000, integer=True),
                   help="効果の曲線を何か所まで求めるか（既定 --p）")
    p.add_argument("--time-limit", type=number(0, 3600, above=True), default=30.0,
                   help="最適化の時間の上限 秒（既定 30）")
    p.add_argument("--straight-line", action="store_true", help="道路を使わず直線距離×迂回率で推定する")
    p.add_argument("--season", choices=["summer", "winter"],
                   help="winter: しきい値を徒歩の時間（80 m/分）として雪道で遅くし、"
                   "冬期閉鎖区間を通行止めにする")
    p.add_argument("--date", help="日付 YYYY-MM-DD（その日に閉鎖中の冬期閉鎖区間）")
    p.add_argument("--year", type=number(2000, 2100, integer=True),
                   help="将来推計の年: その年の需要（匿名化済みの要配慮者を65歳以上の増減で伸縮）で選ぶ")
    p.add_argument("--years", help="将来推計の年（例 2025,2035,2050）: 年をまたいで効く場所も求める")
    p.add_argument("--objective", default="worst", choices=["worst", "sum"],
                   help="--years の目的: worst＝いちばん悪い年を最大に（既定）、sum＝年の重み付き和")
    p.add_argument("--weights", help="--objective sum の年ごとの重み（例 1,1,2。既定: 同じ重み）")
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.set_defaults(func=cmd_recommend)


def _add_report(sub: Any) -> None:
    """``tomoni report``."""
    p = sub.add_parser("report", help="地域の分析レポート（A4 の PDF と HTML）と自治会・校区別シートを作る")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.add_argument("--format", default="pdf,html", help="pdf,html（既定）/ pdf / html")
    p.add_argument("--hazard", default="flood", help="避難所と災害VCの章の災害（既定 flood）")
    p.add_argument("--sheets", choices=["neighbourhoods", "school_districts"],
                   help="1 区域 1 ページのシートも作る（自治会・校区）")
    p.add_argument("--recommend", type=number(1, 1000, integer=True),
                   help="新しい居場所の提案を p か所分入れる")
    p.set_defaults(func=cmd_report)


def _add_export(sub: Any) -> None:
    """``tomoni export``."""
    p = sub.add_parser("export", help="入力（匿名化済みのみ）と結果のすべてのレイヤー・表を書き出す")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.add_argument("--hazard", default="flood", help="災害シナリオ（既定 flood）")
    p.add_argument("--cp932", action="store_true", help="古い Excel 向けに Shift_JIS の CSV も書く")
    p.add_argument("--parquet", action="store_true", help="GeoParquet も書く（分析者向け）")
    p.add_argument("--recommend", type=number(1, 1000, integer=True),
                   help="新しい居場所の提案も p か所分入れる")
    p.set_defaults(func=cmd_export)


def _add_serve(sub: Any) -> None:
    """``tomoni serve``."""
    p = sub.add_parser("serve", help="アプリを起動する（既定: この機械だけ。ほかの機械にはログインを付けて）")
    p.add_argument("--address", default="127.0.0.1",
                   help="待ち受けるアドレス（既定 127.0.0.1＝この機械だけ）")
    p.add_argument("--port", type=number(1024, 65535, integer=True), default=8501,
                   help="ポート（既定 8501）")
    p.add_argument("--users", help="利用者ファイル（tomoni user-add で作る）。指定するとログインが必要")
    p.add_argument("--data-root", help="アプリが開く・保存するフォルダ（既定: data/）")
    p.add_argument("--region", help="最初に開く地域設定（既定: デモ地域）")
    p.set_defaults(func=cmd_serve)


def _add_user_add(sub: Any) -> None:
    """``tomoni user-add``."""
    p = sub.add_parser("user-add", help="共有で使うアプリの利用者を追加する（パスワードはハッシュで保存）")
    p.add_argument("users", help="利用者ファイル（users.toml）")
    p.add_argument("name", help="利用者名")
    p.set_defaults(func=cmd_user_add)


def _add_batch(sub: Any) -> None:
    """``tomoni batch``."""
    p = sub.add_parser("batch", help="多くの市町村をまとめて計算する（市町村ごとに分割、Dask で並列）")
    p.add_argument("regions", help="バッチ設定（REGIONS.toml）")
    p.add_argument("--out", required=True, help="出力フォルダ（再実行すると終わった市町村は飛ばす）")
    p.add_argument("--scheduler",
                   help="既存の Dask スケジューラ（例 tcp://10.0.0.5:8786）。既定: この機械で起動")
    p.add_argument("--workers", type=number(1, 64, integer=True), default=2,
                   help="この機械で起動するワーカーの数（既定 2）")
    p.add_argument("--dask", action="store_true",
                   help="1 つのプロセスに収まる地域でも、市町村ごとに分割して Dask で計算する")
    p.set_defaults(func=cmd_batch)


def _guard(args: argparse.Namespace) -> None:
    """Refuse an output that would overwrite an input or an existing output (see geo.cli_args)."""
    if getattr(args, "force", None) is None or args.command == "demo":
        return
    inputs: list[Path] = []
    for name in ("region", "regions"):
        if getattr(args, name, None):
            inputs += region_inputs(getattr(args, name)) if name == "region" else [Path(args.regions)]
    for name in ("records", "needs", "teams", "ratios", "to"):
        if getattr(args, name, None):
            inputs.append(Path(getattr(args, name)))
    guard_output(args.out, inputs, force=args.force)


def _as_options(err: LayerError, args: argparse.Namespace) -> LayerError:
    """Engine errors name parameters (``max_distance``); on the command line they are options."""
    if isinstance(err, ParameterError):
        flags = {n: "--" + n.replace("_", "-") for n in err.names if hasattr(args, n)}
        return err.labelled(flags | OPTION_NAMES.get(args.command, {}))
    return err


OPTION_NAMES: dict[str, dict[str, str]] = {
    "recommend": {"hazard": "--outside-hazard"},
    "route": {"from_": "--from"},
    "dispatch": {"time_limit": "--time-limit", "drive_kmh": "--drive-kmh"},
    "transit": {"facilities": "--to", "to_file": "--to", "max_walk_min": "--max-walk",
                "transfer_min": "--transfer-walk", "flex_wait_min": "--flex-wait", "max_trips": "--max-trips",
                "compare_date": "--compare-date", "transit": "--to"},
    "report": {"p": "--recommend"},
    "export": {"p": "--recommend"},
}
"""Where a command's option is not the parameter's name with dashes."""


FOLDER_OUTPUTS = {"coverage", "consolidation", "shelters", "route", "vc-plan", "dispatch", "shelter-needs",
                  "crossborder", "transit",
                  "recommend", "report", "export"}
"""Commands whose --out is a folder of several files: written together or not at all."""


def _staged_run(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a folder-output command into a staged folder; what it prints names the final one."""
    import contextlib
    import io

    final = str(Path(args.out).expanduser().resolve())
    shown = str(args.out)
    buffer = io.StringIO()
    with staged_folder(args.out) as tmp:
        args.out = str(tmp)
        with contextlib.redirect_stdout(buffer):
            code = func(args)
        if code != EXIT_OK:
            raise _Failed(code, buffer.getvalue().replace(str(tmp), shown))
    sys.stdout.write(buffer.getvalue().replace(str(tmp), final if Path(shown).is_absolute() else shown))
    return code


class _Failed(Exception):
    """A staged command that ended without success: nothing is put in place."""

    def __init__(self, code: int, printed: str) -> None:
        super().__init__(code)
        self.code, self.printed = code, printed


def _run(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    try:
        _guard(args)
        if args.command in FOLDER_OUTPUTS:
            try:
                return _staged_run(func, args)
            except _Failed as failed:
                sys.stdout.write(failed.printed)
                return failed.code
        return func(args)
    except LayerError as err:
        say(f"エラー: {_as_options(err, args).message}", err=True)
        return EXIT_INPUT
    except KeyboardInterrupt:
        say("中断しました。書きかけの出力は残していません。", err=True)
        return 130
    except (PermissionError, NotADirectoryError, IsADirectoryError, FileExistsError) as err:
        say(f"エラー: 出力先に書き込めません（{type(err).__name__}）: {Path(err.filename or '').name}\n"
              "  対処: 書き込めるフォルダを --out に指定してください。", err=True)
        return EXIT_INPUT
    except Exception as exc:
        if args.debug:
            raise
        # never print the exception text: it may quote input values
        say(
            f"内部エラーが起きました（{type(exc).__name__}）。入力ファイルは変更していません。\n"
            "  対処: --debug を付けて再実行し、表示された内容を開発者に知らせてください。",
            err=True,
        )
        return EXIT_INTERNAL


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tomoni`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("pyogrio").setLevel(logging.WARNING)
    _use_returning_allocator()
    return _run(args.func, args)


def _use_returning_allocator() -> None:
    """Arrow allocates from jemalloc in a command (the system's allocator where the wheel
    lacks it).  jemalloc gives freed blocks back soonest: a 1M-row cp932 register peaked at
    383 MB with it, 394 MB with Arrow's default (mimalloc) and 414 MB with the system's
    (``benchmarks/bench_register.py``).  A command is one short process, so its peak
    memory is what a user sees."""
    import pyarrow as pa

    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:
        pool = pa.system_memory_pool()
    pa.set_memory_pool(pool)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
