"""Small hand-written OSM extracts for the road and barrier tests: XML, and the same as PBF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def write_osm(xml: str, path: Path) -> Path:
    """``xml`` written to ``path`` (``.osm``)."""
    path.write_text(xml, encoding="utf-8")
    return path


def to_pbf(osm: Path, pbf: Path) -> Path:
    """The same objects as an ``.osm.pbf`` file (pyosmium)."""
    import osmium

    writer = osmium.SimpleWriter(str(pbf))
    for obj in osmium.FileProcessor(str(osm)):
        writer.add(obj)
    writer.close()
    return pbf


def graph_as_osm(graph: Any, path: Path) -> Path:
    """The real graph written back as an OSM file: each edge a way through its geometry's
    vertices (new node ids), one-way where only one direction exists."""
    import itertools
    from xml.sax.saxutils import quoteattr

    nodes = {int(n): (float(d["x"]), float(d["y"])) for n, d in graph.nodes(data=True)}
    new = itertools.count(10**12)
    ways, seen = [], set()
    for u, v, k, d in graph.edges(keys=True, data=True):
        if (v, u, k) in seen:
            continue
        coords = list(d["geometry"].coords) if "geometry" in d else [nodes[u], nodes[v]]
        back = graph.get_edge_data(v, u, k)
        back_coords = (list(back["geometry"].coords) if "geometry" in back else [nodes[v], nodes[u]]) \
            if back is not None else None
        both = back_coords is not None and len(back_coords) == len(coords) \
            and np.allclose(back_coords[::-1], coords)
        seen.add((u, v, k))
        if not both:
            seen.discard((u, v, k))  # the way back, if any, is its own road
        refs = [int(u)]
        for x, y in coords[1:-1]:
            refs.append(next(new))
            nodes[refs[-1]] = (x, y)
        refs.append(int(v))
        hw = d["highway"][0] if isinstance(d["highway"], list) else d["highway"]
        tags = {"highway": hw, **({} if both else {"oneway": "yes"})}
        ways.append((refs, tags))
    with open(path, "w", encoding="utf-8") as f:
        f.write("<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n")
        for n, (x, y) in nodes.items():
            f.write(f'<node id="{n}" lat="{y:.7f}" lon="{x:.7f}"/>\n')
        for i, (refs, tags) in enumerate(ways, 1):
            body = "".join(f'<nd ref="{r}"/>' for r in refs)
            t = "".join(f"<tag k={quoteattr(k)} v={quoteattr(str(v))}/>" for k, v in tags.items())
            f.write(f'<way id="{i}">{body}{t}</way>\n')
        f.write("</osm>\n")
    return path
