"""Small hand-written OSM extracts for the road and barrier tests: XML, and the same as PBF."""

from __future__ import annotations

from pathlib import Path


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
