"""A region's road network from an OSM extract (or a download), built once into the cache:
what ``tomoni roads`` and the app's データ page run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from geo.engine.network_cache import cache_path, load_network
from geo.summary import Summary, optional
from layers.errors import LayerError, ParameterError

if TYPE_CHECKING:
    from layers.region import RegionLike

__all__ = ["RoadsBuild", "build_roads", "set_roads_entry"]


@dataclass(frozen=True)
class RoadsBuild(Summary):
    """What a build holds and took."""

    file: str
    network: str
    buffer_m: float
    nodes: int
    edges: int
    segments: int
    barriers: int
    extent: list[float]
    seconds: float
    from_cache: bool
    credit: str = "© OpenStreetMap contributors (ODbL)"
    written: str | None = optional()


def build_roads(region_toml: str | Path, *, source: str | Path | None = None, download: bool = False,
                network: str | None = None, buffer: float | None = None, write: bool = False,
                rebuild: bool = False) -> RoadsBuild:
    """Keep the extract (``source``, a download, or the region's ``[roads] path``) to the
    region's boundaries + ``buffer``, build its network (or load it from the cache; with
    ``rebuild`` the file's cached ways and networks are dropped first); with ``write``
    point the region's ``[roads]`` at it."""
    from layers.osm_extract import DEFAULT_BUFFER_M, road_clip
    from layers.readers import detect_format, require_file
    from layers.region import load_region

    region = load_region(region_toml, with_roads=False)
    spec = region.config.roads
    network = network or (spec.network if spec is not None else "walk")
    metres = float(buffer if buffer is not None else spec.buffer if spec is not None else DEFAULT_BUFFER_M)
    clip = road_clip(region.layers.get("boundaries"), metres, region.crs)
    path = Path(source) if source else (spec.path if spec is not None else None)
    if download:
        path = _download(region, clip, spec.overpass if spec is not None else None)
    if path is None:
        raise ParameterError("道路の元になる OSM ファイルがありません。", parameter="source",
                             fix="OSM の抽出ファイル（例: Geofabrik の tohoku-latest.osm.pbf）を"
                             "指定してください（docs/data-sources.md）。")
    require_file(path)
    if detect_format(path, None) not in ("osm", "pbf"):
        raise LayerError("OSM の抽出ファイル（.osm.pbf / .osm / .osm.bz2）ではありません。", file=path,
                         fix="GraphML はそのまま [roads] path に書けば使えます。")
    if rebuild:
        from geo.engine.network_cache import forget_loaded
        from layers.cache import file_hash, forget

        forget(file_hash(path))
        forget_loaded()
    cached = cache_path(path, network=network, crs=region.crs, clip=clip).exists()
    t0 = time.perf_counter()
    net = load_network(path, network=network, crs=region.crs, clip=clip)
    seconds = time.perf_counter() - t0
    written = None
    if write:
        set_roads_entry(region.config.path, path, network=network, buffer=metres)
        written = str(region.config.path)
    return RoadsBuild(file=str(path), network=network, buffer_m=metres, nodes=int(net.n),
                      edges=len(net.weights), segments=len(net.seg_len), barriers=net.n_barriers,
                      extent=_extent(net), seconds=round(seconds, 2), from_cache=cached, written=written)


def _extent(net: Any) -> list[float]:
    from layers.crs import STORAGE_CRS, transform_xy

    if not net.n:
        return []
    lon, lat = transform_xy(net.x, net.y, net.crs, STORAGE_CRS)
    return [round(float(v), 5) for v in (np.min(lon), np.min(lat), np.max(lon), np.max(lat))]


def _download(region: RegionLike, clip: Any, configured: str | None) -> Path:
    """The roads around the region downloaded into ``roads/`` beside its file."""
    from layers.osm_download import download_osm

    if clip is None:
        raise ParameterError("市町村界がないため、ダウンロードする範囲が分かりません。", parameter="download",
                             fix="地域設定に [layers.boundaries]（国土数値情報 N03 など）を加えてください。")
    return download_osm(clip, Path(region.config.path).parent / "roads", url=configured)


def set_roads_entry(toml: Path, source: Path, *, network: str, buffer: float) -> None:
    """Point the region file's ``[roads]`` at ``source`` (written whole, atomically; the
    rest of the file, and a ``drive =`` line, kept as they are)."""
    import re

    from layers.atomic import atomic_write_text

    text = Path(toml).read_text("utf-8")
    import os

    rel = Path(os.path.relpath(Path(source).resolve(), Path(toml).resolve().parent)).as_posix()
    table = f'[roads]\npath = "{rel}"\nnetwork = "{network}"\nbuffer = {buffer:g}\n'
    found = re.search(r"(?m)^\s*\[\s*roads\s*\]\s*$", text)
    if found:
        nxt = re.search(r"(?m)^\s*\[", text[found.end():])
        end = found.end() + nxt.start() if nxt else len(text)
        kept = [line for line in text[found.end():end].splitlines()
                if line.strip() and not re.match(r"\s*(path|network|buffer|format)\s*=", line)]
        table += "".join(f"{line}\n" for line in kept)
        text = text[:found.start()] + table + ("\n" if nxt else "") + text[end:].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + table
    atomic_write_text(toml, text)
