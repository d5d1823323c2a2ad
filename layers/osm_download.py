"""Roads downloaded when online: an Overpass query for a region's outline, saved as an OSM
file beside the region with its source, date and licence, then read like any extract.

The endpoint is :data:`DEFAULT_OVERPASS_URL`, or ``TOMONI_OVERPASS_URL``, or the region
file's ``[roads] overpass``; tests point it at a stand-in server on 127.0.0.1.  The answer
is streamed to disk (at most :data:`MAX_DOWNLOAD_BYTES`) and written atomically; offline,
the error says which extract to download instead.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from layers.atomic import atomic_path, atomic_write_text
from layers.errors import LayerError
from layers.provenance import write_sidecar

__all__ = ["DEFAULT_OVERPASS_URL", "MAX_DOWNLOAD_BYTES", "download_osm", "overpass_url"]

log = logging.getLogger(__name__)

DEFAULT_OVERPASS_URL = "https://overpass-api.de/api/interpreter"
MAX_DOWNLOAD_BYTES = 2 << 30
"""An Overpass answer larger than this (2 GiB) is refused: use an extract file instead."""
TIMEOUT_S = 300
LICENCE = "© OpenStreetMap contributors, Open Database License (ODbL) 1.0"

OFFLINE_FIX = ("インターネットに接続できないときは、Geofabrik の地域抽出（例: "
               "https://download.geofabrik.de/asia/japan/tohoku-latest.osm.pbf）を入手して "
               "tomoni roads REGION.toml --from tohoku-latest.osm.pbf を実行してください。")


def overpass_url(configured: str | None = None) -> str:
    """The endpoint: ``TOMONI_OVERPASS_URL``, else the region's ``[roads] overpass``, else
    :data:`DEFAULT_OVERPASS_URL`."""
    return os.environ.get("TOMONI_OVERPASS_URL") or configured or DEFAULT_OVERPASS_URL


def _query(bbox: tuple[float, float, float, float]) -> str:
    """Roads, rivers, water and railways in ``bbox`` (west, south, east, north), with their
    nodes."""
    w, s, e, n = bbox
    box = f"({s:.6f},{w:.6f},{n:.6f},{e:.6f})"
    return (f"[out:json][timeout:{TIMEOUT_S}];"
            f"(way[\"highway\"]{box};way[\"waterway\"]{box};way[\"railway\"]{box};"
            f"way[\"natural\"=\"water\"]{box};);(._;>;);out body;")


def download_osm(clip: Any, folder: Path, *, url: str | None = None) -> Path:
    """Download the roads (and barriers) around ``clip`` (a polygon, EPSG:4326) into
    ``folder/osm-YYYYMMDD.osm`` with ``SOURCE.txt`` beside it; returns the OSM file."""
    bbox = tuple(float(v) for v in clip.bounds)
    endpoint = overpass_url(url)
    folder.mkdir(parents=True, exist_ok=True)
    raw = folder / ".overpass.json"
    data = urllib.parse.urlencode({"data": _query(bbox)}).encode("ascii")  # type: ignore[arg-type]
    try:
        with urllib.request.urlopen(urllib.request.Request(endpoint, data=data), timeout=TIMEOUT_S) as res, \
                atomic_path(raw) as tmp, open(tmp, "wb") as f:
            size = 0
            for block in iter(lambda: res.read(1 << 20), b""):
                size += len(block)
                if size > MAX_DOWNLOAD_BYTES:
                    raise LayerError("ダウンロードする道路データが大きすぎます。", file=endpoint,
                                     fix="地域の範囲を確かめるか、" + OFFLINE_FIX)
                f.write(block)
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise LayerError(f"道路データをダウンロードできません（{endpoint}）。", file=endpoint,
                         fix=OFFLINE_FIX) from exc
    try:
        answer = json.loads(raw.read_bytes())
        elements = answer["elements"]
        as_of = str((answer.get("osm3s") or {}).get("timestamp_osm_base") or "")[:10]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LayerError("道路データの応答が Overpass の形式ではありません。", file=endpoint,
                         fix="接続先（TOMONI_OVERPASS_URL / [roads] overpass）を確かめるか、"
                         + OFFLINE_FIX) from exc
    finally:
        raw.unlink(missing_ok=True)
    today = dt.date.today()
    out = folder / f"osm-{today:%Y%m%d}.osm"
    with atomic_path(out) as tmp, open(tmp, "w", encoding="utf-8") as f:
        _write_xml(elements, f)
    atomic_write_text(folder / "SOURCE.txt", (
        f"source: {endpoint}\nquery bbox (west,south,east,north): {','.join(f'{v:.6f}' for v in bbox)}\n"
        f"retrieved: {today.isoformat()}\nfile: {out.name}\nlicence: {LICENCE}\n"))
    write_sidecar(out, dataset="osm", url=endpoint, data_date=as_of or today.isoformat(), retrieved=today)
    log.info("downloaded %d OSM elements into %s", len(elements), out)
    return out


def _write_xml(elements: list[dict[str, Any]], f: Any) -> None:
    """Overpass JSON elements (nodes, ways) as OSM XML, tags escaped."""
    f.write("<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\" generator=\"tomoni-map\">\n")

    def tags(el: dict[str, Any]) -> str:
        return "".join(f"<tag k={quoteattr(str(k))} v={quoteattr(str(v))}/>"
                       for k, v in (el.get("tags") or {}).items())

    for el in elements:
        if el.get("type") == "node":
            f.write(f'<node id="{int(el["id"])}" lat="{float(el["lat"]):.7f}" lon="{float(el["lon"]):.7f}"'
                    f' version="1">{tags(el)}</node>\n')
    for el in elements:
        if el.get("type") == "way":
            nds = "".join(f'<nd ref="{int(r)}"/>' for r in el.get("nodes", []))
            f.write(f'<way id="{int(el["id"])}" version="1">{nds}{tags(el)}</way>\n')
    f.write("</osm>\n")
