"""Local stand-ins on 127.0.0.1 for what tomoni fetches when online (tests never touch the
internet): an Overpass API answering from OSM data the tests hold."""

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
    return {"version": 0.6, "generator": "tomoni stand-in", "elements":
            [nodes[i] for i in sorted(used)] + ways}


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

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/interpreter", queries
    finally:
        server.shutdown()
        server.server_close()
