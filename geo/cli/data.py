"""The data commands: map, anonymize, geocode, report, export.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from pathlib import Path

from geo.cli.analysis import _check_recommend
from geo.cli.args import EXIT_OK, guard_output, say
from geo.outputs.csv_safe import csv_text
from layers.errors import LayerError

__all__ = ["cmd_anonymize", "cmd_export", "cmd_geocode", "cmd_map", "cmd_report"]

log = logging.getLogger("tomoni")


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
    from geo.outputs.printed_map import save_map, static_map
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
        from geo.outputs.assets import standalone_html
        from geo.outputs.maps import region_map
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
    from geo.outputs.layer_export import write_density
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


def cmd_report(args: argparse.Namespace) -> int:
    from geo.engine.scenario import parse_hazard
    from geo.outputs.report import write_report
    from geo.runs.region_results import analyse_region
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
    from geo.engine.scenario import parse_hazard
    from geo.outputs.data_export import export_all
    from geo.runs.region_results import analyse_region
    from layers.region import load_region

    hazard = parse_hazard(args.hazard)
    _check_recommend(args.recommend)
    region = load_region(args.region, with_roads=False)
    res = analyse_region(region, hazard=hazard, recommend_p=args.recommend)
    paths = export_all(res, Path(args.out), cp932=args.cp932, parquet=args.parquet)
    say(json.dumps({"region": region.name, "hazard": hazard, "files": len(paths),
                      "geopackage": str(Path(args.out) / "tomoni_export.gpkg")}, ensure_ascii=False))
    return EXIT_OK
