"""Layers uploaded through the app: the same loaders, on bytes instead of paths.

The bytes are written to a private temporary folder under their original file
name (loaders recognise formats from extensions and headers), loaded, and the
folder is deleted at once.  Errors name the uploaded file, never the temporary
path.
"""

from __future__ import annotations

import inspect
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd

from layers.errors import LayerError
from layers.layer_facts import UPLOAD_KEYS

if TYPE_CHECKING:
    from layers.demand import Demand
    from layers.geocode import Geocoder

__all__ = ["REFERENCE_KEY", "TRANSIT_KEY", "UPLOAD_KEYS", "load_uploaded", "load_uploaded_feed",
           "load_uploaded_reference", "load_uploaded_register"]

TRANSIT_KEY = "transit"
"""The upload target of a GTFS-JP feed: timetables for the 公共交通 page, not a map layer."""
REFERENCE_KEY = "machiaza"
"""The upload target of 町字 reference points: not a map layer, the region's address placer."""



def _safe_name(name: str) -> str:
    base = Path(name).name.strip() or "upload"
    return "".join(ch if ch not in '\\/:*?"<>|' else "_" for ch in base)


def load_uploaded_register(filename: str, data: bytes, *, boundaries: gpd.GeoDataFrame | None = None,
                           options: dict[str, Any] | None = None, geocoder: Geocoder | None = None
                           ) -> tuple[gpd.GeoDataFrame, Demand]:
    """A register extract uploaded: anonymised from memory (no temporary file is written); its
    density and its people in memory (:class:`layers.demand.Demand`) for the session."""
    from layers.vulnerable import anonymise_upload_and_register

    opts = dict(options or {})
    return anonymise_upload_and_register(
        filename, data, mesh=int(opts.get("mesh", 500)), k=int(opts.get("k", 5)),
        by=opts.get("by"), boundaries=boundaries, region_areas=opts.get("region_areas"),
        geocoder=geocoder)


def load_uploaded_reference(filename: str, data: bytes, *, boundaries: gpd.GeoDataFrame | None = None
                            ) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """An uploaded 町字 reference (japanese-addresses JSON of one municipality): its points as
    a frame (``town``, ``koaza``, geometry; what the データ page counts) and the municipality
    it places addresses in (for :func:`layers.geocode.geocoder_with`)."""
    from layers.geocode import reference_from_bytes

    munis = reference_from_bytes(filename, data, boundaries=boundaries)
    rows = [(t.name, t.lat, t.lon) for m in munis.values() for t in m.towns.values()]
    frame = gpd.GeoDataFrame({"town": [r[0] for r in rows], "municipality": next(iter(munis)),
                              "match_level": "町字"},
                             geometry=gpd.points_from_xy([r[2] for r in rows], [r[1] for r in rows]),
                             crs="EPSG:4326")
    return frame, munis


_FEEDS: list[Path] = []


def _feed_folder() -> Path:
    """This process's folder of uploaded feeds (the analyses read a feed from a file; removed
    when the process ends)."""
    import atexit
    import shutil

    if not _FEEDS:
        _FEEDS.append(Path(tempfile.mkdtemp(prefix="tomoni-feeds-")))
        atexit.register(shutil.rmtree, _FEEDS[0], True)
    return _FEEDS[0]


def load_uploaded_feed(filename: str, data: bytes) -> tuple[gpd.GeoDataFrame, Path]:
    """An uploaded GTFS-JP zip, checked by reading it (:func:`layers.transit.read_feed`): its
    stops as a frame (what the page counts) and the file the analyses read, kept by content
    in this process's feed folder.  Errors name the uploaded file."""
    import hashlib

    from layers.transit import read_feed

    folder = _feed_folder() / hashlib.blake2b(data, digest_size=12).hexdigest()
    folder.mkdir(exist_ok=True)
    path = folder / _safe_name(filename)
    if not path.is_file():
        path.write_bytes(data)
    try:
        feed = read_feed(path)
    except LayerError as err:
        path.unlink(missing_ok=True)
        raise LayerError(err.problem, file=filename, row=err.row, column=err.column, fix=err.fix,
                         layer=TRANSIT_KEY) from None
    where = gpd.points_from_xy(feed.stops["lon"], feed.stops["lat"])
    stops = gpd.GeoDataFrame({"name": feed.stops["stop_name"].astype(str).to_numpy()}, geometry=where,
                             crs="EPSG:4326")
    return stops, path


def load_uploaded(
    key: str,
    filename: str,
    data: bytes,
    *,
    boundaries: gpd.GeoDataFrame | None = None,
    options: dict[str, Any] | None = None,
    geocoder: Geocoder | None = None,
) -> gpd.GeoDataFrame:
    """Load an uploaded file into layer ``key`` (see :mod:`layers.region` for keys); a table
    with addresses and no coordinates is placed by ``geocoder`` (the region's)."""
    from layers.region import _LOADERS

    if key not in UPLOAD_KEYS:
        raise LayerError(
            f"このレイヤーにはアップロードできません: {key}",
            file=filename,
            fix=f"次のいずれかを選んでください: {', '.join(UPLOAD_KEYS)}",
        )
    if key == "vulnerable":
        return load_uploaded_register(filename, data, boundaries=boundaries, options=options,
                                      geocoder=geocoder)[0]
    loader = _LOADERS[key]
    accepted = set(inspect.signature(loader).parameters)
    kwargs = {k: v for k, v in (options or {}).items() if k in accepted and v not in (None, "")}
    if key == "neighbourhoods":
        kwargs["boundaries"] = boundaries
    if "geocoder" in accepted:
        kwargs["geocoder"] = geocoder
    with tempfile.TemporaryDirectory(prefix="tomoni-upload-") as tmp:
        path = Path(tmp) / _safe_name(filename)
        path.write_bytes(data)
        try:
            gdf = loader([path], **kwargs)
        except LayerError as err:
            raise LayerError(
                err.problem, file=filename, row=err.row, column=err.column, fix=err.fix,
                layer=key,
            ) from None
    warnings = [w.replace(str(path), filename) for w in gdf.attrs.get("warnings", [])]
    gdf.attrs["warnings"] = warnings
    if "source" in gdf.columns:
        gdf["source"] = filename
    return gdf
