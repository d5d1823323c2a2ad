"""``tomoni roads``: build a region's road network from an OSM extract once, into the cache.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path
from typing import Any

from geo.cli.args import EXIT_OK, say
from layers.errors import LayerError, ParameterError

__all__ = ["cmd_roads", "set_roads_entry"]


def cmd_roads(args: argparse.Namespace) -> int:
    """Clip the extract to the region's boundaries + buffer, build its CSR network (or load it
    from the cache), print what it holds; ``--write`` points the region's ``[roads]`` at it."""
    from geo.engine.network_cache import cache_path, load_network
    from layers.osm_extract import DEFAULT_BUFFER_M, road_clip
    from layers.readers import detect_format, require_file
    from layers.region import load_region

    region = load_region(args.region, with_roads=False)
    spec = region.config.roads
    network = args.network or (spec.network if spec is not None else "walk")
    buffer = float(args.buffer if args.buffer is not None
                   else spec.buffer if spec is not None else DEFAULT_BUFFER_M)
    clip = road_clip(region.layers.get("boundaries"), buffer, region.crs)
    source = Path(args.source) if args.source else (spec.path if spec is not None else None)
    if args.download:
        source = _download(region, clip, spec.overpass if spec is not None else None)
    if source is None:
        raise ParameterError("道路の元になる OSM ファイルがありません。", parameter="--from",
                             fix="--from 東北地方.osm.pbf のように OSM の抽出ファイルを指定してください"
                             "（Geofabrik の地域抽出など。docs/data-sources.md）。")
    require_file(source)
    if detect_format(source, None) not in ("osm", "pbf"):
        raise LayerError("OSM の抽出ファイル（.osm.pbf / .osm / .osm.bz2）ではありません。", file=source,
                         fix="GraphML はそのまま [roads] path に書けば使えます。")
    cached = cache_path(source, network=network, crs=region.crs, clip=clip).exists()
    t0 = time.perf_counter()
    net = load_network(source, network=network, crs=region.crs, clip=clip)
    seconds = time.perf_counter() - t0
    out = _facts(net, source, network=network, buffer=buffer, seconds=seconds, cached=cached)
    if args.write:
        set_roads_entry(region.config.path, source, network=network, buffer=buffer)
        out["written"] = str(region.config.path)
    say(json.dumps(out, ensure_ascii=False, indent=2))
    return EXIT_OK


def _download(region: Any, clip: Any, configured: str | None) -> Path:
    """The roads around the region downloaded into ``roads/`` beside its file."""
    from layers.osm_download import download_osm

    if clip is None:
        raise ParameterError("市町村界がないため、ダウンロードする範囲が分かりません。",
                             parameter="--download",
                             fix="地域設定に [layers.boundaries]（国土数値情報 N03 など）を加えてください。")
    return download_osm(clip, Path(region.config.path).parent / "roads", url=configured)


def _facts(net: Any, source: Path, *, network: str, buffer: float, seconds: float, cached: bool
           ) -> dict[str, Any]:
    import numpy as np

    from layers.crs import STORAGE_CRS, transform_xy

    extent: list[float] = []
    if net.n:
        lon, lat = transform_xy(net.x, net.y, net.crs, STORAGE_CRS)
        extent = [round(float(v), 5) for v in (np.min(lon), np.min(lat), np.max(lon), np.max(lat))]
    return {"file": str(source), "network": network, "buffer_m": buffer, "nodes": int(net.n),
            "edges": len(net.weights), "segments": len(net.seg_len), "barriers": net.n_barriers,
            "extent": extent, "seconds": round(seconds, 2), "from_cache": cached,
            "credit": "© OpenStreetMap contributors (ODbL)"}


def set_roads_entry(toml: Path, source: Path, *, network: str, buffer: float) -> None:
    """Point the region file's ``[roads]`` at ``source`` (written whole, atomically; the
    rest of the file is kept as it is)."""
    from layers.atomic import atomic_write_text

    text = Path(toml).read_text("utf-8")
    try:
        rel = Path(source).resolve().relative_to(Path(toml).resolve().parent).as_posix()
    except ValueError:
        rel = Path(source).resolve().as_posix()
    table = f'[roads]\npath = "{rel}"\nnetwork = "{network}"\nbuffer = {buffer:g}\n'
    found = re.search(r"(?m)^\s*\[\s*roads\s*\]\s*$", text)
    if found:
        nxt = re.search(r"(?m)^\s*\[", text[found.end():])
        end = found.end() + nxt.start() if nxt else len(text)
        kept = [line for line in text[found.end():end].splitlines()  # drive = …, comments
                if line.strip() and not re.match(r"\s*(path|network|buffer|format)\s*=", line)]
        table += "".join(f"{line}\n" for line in kept)
        text = text[:found.start()] + table + ("\n" if nxt else "") + text[end:].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + table
    atomic_write_text(toml, text)
