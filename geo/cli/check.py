"""``tomoni check``: read every layer of a region as the analyses will and say what is there.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from geo.cli.args import EXIT_OK, format_table, say
from layers.errors import ParameterError

if TYPE_CHECKING:
    from layers.region import RegionLike

__all__ = ["check_report", "cmd_check"]


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


def cmd_check(args: argparse.Namespace) -> int:
    from layers.region import load_region

    region = load_region(args.region, with_roads=False)
    summary = region.summary()
    if not args.no_roads and region.config.roads is not None:
        summary["roads"] = _roads_summary(region)
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


def _roads_summary(region: RegionLike) -> dict[str, Any]:
    """Nodes, links and barriers of the region's network, from the network cache (an
    extract is read once, by the first command, and never again)."""
    from geo.engine.network_cache import region_network
    from layers.errors import LayerError

    spec = region.config.roads
    if spec is None:
        return {"nodes": 0, "edges": 0, "network": "", "barriers": 0, "warnings": []}
    try:
        net = region_network(region)
    except LayerError as err:
        raise err.with_context(layer="roads", config=(region.config.path, spec.line, "roads.path")) from None
    if net is None:
        return {"nodes": 0, "edges": 0, "network": spec.network, "barriers": 0, "warnings": []}
    return {"nodes": int(net.n), "edges": len(net.weights), "network": spec.network,
            "barriers": int(net.n_barriers), "warnings": []}


def _check_day(value: str | None) -> Any:
    """``--date`` of ``tomoni check`` (the day whose trips are counted; default today)."""
    import datetime as dt

    if not value:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ParameterError("日付が読めません。", parameter="date", fix="例: 2027-01-14") from None


def _winter_and_projection(region: RegionLike, day: Any = None) -> dict[str, Any]:
    """``[season.winter]`` files and the ``[projection]`` read and checked as the analyses
    read them (a closure table's places found with the geocoder): a problem is an error
    naming its file, row and column, found here rather than in the middle of an analysis."""
    from geo.analyses.inputs import file_states, projection_of
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
        proj = projection_of(file_states(region.config.projection))
        out["projection"] = {"cells": len(proj.cells), "years": list(proj.years)}
    if region.config.transit:
        out["transit"] = _transit_check(region, day)
    return out


STOP_OFF_ROAD_M = 100.0
"""A bus stop farther than this from every road is reported (its coordinates are likely wrong)."""


def _transit_check(region: RegionLike, day: Any) -> list[dict[str, Any]]:
    """Each ``[layers.transit]`` feed read as the analyses will: routes, stops, trips on
    ``day``, GTFS-Flex zones, and the stops farther than :data:`STOP_OFF_ROAD_M` from any road."""
    import numpy as np

    from geo.engine.access import snap
    from geo.engine.network_cache import region_network
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
