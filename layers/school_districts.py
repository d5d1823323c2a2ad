"""校区 (school attendance districts): 国土数値情報 A27 (小学校区) / A32 (中学校区).

Old 国土数値情報 shapefiles carry cp932 attributes without a ``.cpg``; this is
detected.  Any polygon file with a name column also loads.  A region can hold
the districts *before* and *after* a consolidation (統廃合): give the files in
``path`` and their periods in ``periods`` (``["before", "after"]``), or keep a
``period`` column in the file.

Canonical schema (EPSG:4326 polygons, one row per district and period):

============  =====  ==================================================
column        type   meaning
============  =====  ==================================================
district_id   str    ``{period}:{school_code or name}``
name          str    school name (A27_004 / A32_004 / 名称 / name)
school_code   str    A27_003 / 学校コード, "" when absent
school_lon,   float  the school's location when the file has 学校経度/学校緯度
school_lat           (NaN otherwise: analyses then use the district's centre)
muni_code     str    A27_001 行政区域コード, "" when absent
level         str    ``elementary`` (A27) / ``junior_high`` (A32) / ""
period        str    ``before`` / ``after`` / ``current`` …
source        str    file name
geometry      MultiPolygon
============  =====  ==================================================
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers.boundaries import normalise_code
from layers.errors import LayerError
from layers.validate import add_warning, pick, read_polygon_file

__all__ = ["COLUMNS", "before_after", "current_period", "load_school_districts", "periods_of"]

LAYER = "school_districts"
COLUMNS = [
    "district_id", "name", "school_code", "muni_code", "level", "period", "school_lon",
    "school_lat", "source", "geometry",
]
NAME_NAMES = ("A27_004", "A32_004", "名称", "学校名", "name", "school", "校区名")
CODE_NAMES = ("A27_003", "A32_003", "学校コード", "school_code")
MUNI_NAMES = ("A27_001", "A32_001", "行政区域コード", "muni_code")
PERIOD_NAMES = ("period", "時点", "区分")
SCHOOL_LAT_NAMES = ("学校緯度", "school_lat")
SCHOOL_LON_NAMES = ("学校経度", "school_lon")


def load_school_districts(
    paths: Sequence[Path],
    *,
    fmt: str | None = None,
    crs: CRS | None = None,
    encoding: str | None = None,
    name: str | None = None,
    periods: Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Load 校区 polygons, dissolved to one row per district and period.

    Parameters
    ----------
    paths
        A27/A32 shapefiles (zipped or not), GeoJSON, GeoPackage …
    periods
        One label per path (e.g. ``["before", "after"]``); a ``period`` column in
        a file wins; otherwise ``"current"``.
    """
    if periods is not None and len(periods) != len(paths):
        raise LayerError(
            "periods の数が path の数と合いません。",
            column="periods",
            layer=LAYER,
            fix='path = ["2016.shp", "2023.shp"] と periods = ["before", "after"] のように'
            "同じ数にしてください。",
        )
    frames = []
    warnings: list[str] = []
    for k, path in enumerate(paths):
        gdf, w = read_polygon_file(path, layer=LAYER, fmt=fmt, crs=crs, encoding=encoding)
        warnings += w
        namec = pick(gdf, NAME_NAMES, mapped=name, file=path, required=True,
                     what="学校名（校区名）", key="name")
        assert namec is not None
        codec = pick(gdf, CODE_NAMES, file=path)
        munic = pick(gdf, MUNI_NAMES, file=path)
        periodc = pick(gdf, PERIOD_NAMES, file=path)
        n = len(gdf)
        if periodc:
            period = gdf[periodc].fillna("").astype(str).replace("", "current").to_numpy()
        else:
            period = np.full(n, periods[k] if periods else "current", dtype=object)
        latc = pick(gdf, SCHOOL_LAT_NAMES, file=path)
        lonc = pick(gdf, SCHOOL_LON_NAMES, file=path)
        school_lat = pd.to_numeric(gdf[latc], errors="coerce").to_numpy() if latc else np.nan
        school_lon = pd.to_numeric(gdf[lonc], errors="coerce").to_numpy() if lonc else np.nan
        level = "elementary" if namec.startswith("A27") else (
            "junior_high" if namec.startswith("A32") else ""
        )
        frames.append(
            gpd.GeoDataFrame(
                {
                    "name": gdf[namec].fillna("").astype(str).to_numpy(),
                    "school_code": gdf[codec].fillna("").astype(str).to_numpy() if codec else "",
                    "muni_code": normalise_code(gdf[munic]).to_numpy() if munic else "",
                    "level": level,
                    "period": period,
                    "school_lon": school_lon,
                    "school_lat": school_lat,
                    "source": path.name,
                },
                geometry=gdf.geometry.to_numpy(),
                crs=gdf.crs,
            )
        )
    merged = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    key = merged["school_code"].where(merged["school_code"] != "", merged["name"])
    merged["district_id"] = merged["period"].astype(str) + ":" + key.astype(str)
    out = _dissolve(merged)
    for m in warnings:
        add_warning(out, m)
    return out


def _dissolve(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    groups = gdf.groupby("district_id", sort=True, dropna=False)
    first = groups.first(numeric_only=False)
    indices = groups.indices
    values = np.asarray(gdf.geometry.values)
    geoms = [_multi(shapely.union_all(values[indices[k]])) for k in first.index]
    out = gpd.GeoDataFrame(
        {
            "district_id": first.index.to_numpy(),
            **{c: first[c].to_numpy() for c in
               ["name", "school_code", "muni_code", "level", "period", "school_lon", "school_lat",
                "source"]},
        },
        geometry=geoms,
        crs=gdf.crs,
    )
    return out[COLUMNS]


def _multi(g: shapely.Geometry) -> shapely.Geometry:
    return shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g


def periods_of(districts: gpd.GeoDataFrame) -> list[str]:
    """The periods present in a 校区 layer, in file order."""
    return list(dict.fromkeys(districts["period"].astype(str)))


def current_period(districts: gpd.GeoDataFrame) -> str:
    """The period that describes today's (or the planned) districts: ``after`` when the
    layer has it, else the last period listed."""
    periods = periods_of(districts)
    return "after" if "after" in periods else periods[-1]


_BEFORE_WORDS = ("before", "前", "旧", "現行", "current")
_AFTER_WORDS = ("after", "後", "新", "計画", "plan")


def before_after(districts: gpd.GeoDataFrame) -> tuple[str, str]:
    """The (before, after) periods a consolidation compares by default.

    ``before``/``after`` (or 再編前/再編後, 旧/新 …) when the layer names them so;
    years (``2016``, ``2023年度``) in time order; else the first and the last period
    in file order.  A layer with one period gives it twice.
    """
    periods = periods_of(districts)
    if len(periods) < 2:
        return periods[0], periods[0]

    def marked(words: tuple[str, ...]) -> list[str]:
        return [p for p in periods if any(w in p.lower() for w in words)]

    before, after = marked(_BEFORE_WORDS), marked(_AFTER_WORDS)
    if len(before) == 1 and len(after) == 1 and before != after:
        return before[0], after[0]
    years = [re.search(r"(\d{4})", p) for p in periods]
    if all(years):
        ordered = sorted(periods, key=lambda p: int(re.search(r"(\d{4})", p).group(1)))  # type: ignore[union-attr]
        return ordered[0], ordered[-1]
    return periods[0], periods[-1]
