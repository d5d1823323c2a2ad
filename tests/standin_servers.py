"""Local stand-ins on 127.0.0.1 for what tomoni fetches when online (tests never touch the
internet): an Overpass API answering from OSM data the tests hold, and the publishers of the
base layers (国土数値情報, 国土地理院, Geolonia) serving real files in their own layouts."""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def osm_elements(osm: Path) -> list[dict[str, Any]]:
    """An OSM XML file as Overpass JSON elements (nodes and ways with their tags)."""
    out: list[dict[str, Any]] = []
    for el in ET.parse(osm).getroot():
        tags = {t.get("k"): t.get("v") for t in el.findall("tag")}
        if el.tag == "node":
            out.append({"type": "node", "id": int(el.get("id", 0)), "lat": float(el.get("lat", 0)),
                        "lon": float(el.get("lon", 0)), **({"tags": tags} if tags else {})})
        elif el.tag == "way":
            out.append({"type": "way", "id": int(el.get("id", 0)),
                        "nodes": [int(nd.get("ref", 0)) for nd in el.findall("nd")], "tags": tags})
    return out


def _answer(elements: list[dict[str, Any]], query: str) -> dict[str, Any]:
    """What Overpass answers to tomoni's query: the ways with a wanted key that have a node in
    the bbox ``(south,west,north,east)``, and all their nodes."""
    s, w, n, e = (float(v) for v in re.search(r"\(([-\d.]+),([-\d.]+),([-\d.]+),([-\d.]+)\)", query).groups())
    nodes = {el["id"]: el for el in elements if el["type"] == "node"}
    inside = {i for i, el in nodes.items() if s <= el["lat"] <= n and w <= el["lon"] <= e}
    keys = ("highway", "waterway", "railway")
    ways = [el for el in elements if el["type"] == "way" and set(el["nodes"]) & inside
            and (any(k in el["tags"] for k in keys) or el["tags"].get("natural") == "water")]
    used = {r for way in ways for r in way["nodes"]}
    return {"version": 0.6, "generator": "tomoni stand-in",
            "osm3s": {"timestamp_osm_base": "2026-11-30T21:21:02Z"}, "elements":
            [nodes[i] for i in sorted(used)] + ways}


@contextmanager
def _serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` served on a free port of 127.0.0.1 in a thread: yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def overpass_standin(osm: Path) -> Iterator[tuple[str, list[str]]]:
    """A stand-in Overpass endpoint serving ``osm``: yields (its URL, the queries it got)."""
    elements = osm_elements(osm)
    queries: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode("utf-8")
            query = urllib.parse.parse_qs(body).get("data", [""])[0]
            queries.append(query)
            payload = json.dumps(_answer(elements, query)).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    with _serving(Handler) as base:
        yield f"{base}/api/interpreter", queries


@contextmanager
def static_standin(files: dict[str, bytes]) -> Iterator[tuple[str, list[str]]]:
    """A stand-in web server serving ``files`` (URL path → bytes; 404 otherwise): yields (its
    base URL, the paths asked for)."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = urllib.parse.unquote(urllib.parse.urlparse(self.path).path)
            asked.append(path)
            body = files.get(path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    with _serving(Handler) as base:
        yield base, asked


def publisher_files(shared: Path) -> dict[str, bytes]:
    """The real Akita files of ``shared`` in their publishers' download layouts: 国土数値情報
    N03 (a zip per prefecture, 2021 edition), the GSI's nationwide merged CSVs and update list,
    Geolonia's japanese-addresses JSON per municipality."""
    import io
    import zipfile

    akita = shared / "akita"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("N03-20210101_05_GML/N03-21_05_210101.geojson",
                   (akita / "boundaries/n03_akita_2021_simplified.geojson").read_bytes())
        z.writestr("N03-20210101_05_GML/KS-META-N03-21_05_210101.xml", b"<meta/>")
    history = ("市町村コード,市町村名,初回公開日,データ更新日,,\r\n052116,潟上市,2016/04/01,2025/10/15,,\r\n"
               "052019,秋田市,2016/04/01,2025/09/30,,\r\n").encode("utf-8-sig")
    gsi = akita / "shelters"
    files = {"/ksj/N03/N03-2021/N03-20210101_05_GML.zip": buf.getvalue(),
             "/gsi/csv/mergeFromCity_1.csv": (gsi / "gsi_evacuation_shelters_akita.csv").read_bytes(),
             "/gsi/csv/mergeFromCity_2.csv": (gsi / "gsi_emergency_sites_akita.csv").read_bytes(),
             "/gsi/publicHistoryCSV/publicHistoryListData.csv": history}
    for f in (akita / "machiaza").glob("*.json"):
        files[f"/addresses/秋田県/{f.name}"] = f.read_bytes()
    return files


def publisher_urls(base: str) -> dict[str, str]:
    """The environment pointing tomoni at a :func:`static_standin` of :func:`publisher_files`."""
    return {"TOMONI_KSJ_URL": f"{base}/ksj", "TOMONI_GSI_URL": f"{base}/gsi",
            "TOMONI_ADDRESSES_URL": f"{base}/addresses"}
