"""市町村 boundaries: 国土数値情報 N03 or any polygons with a code and a name.

Canonical schema (one row per municipality, EPSG:4326):

========  ======  ==========================================================
column    type    meaning
========  ======  ==========================================================
code      str     5-digit 市区町村コード (``05201``); 6-digit 団体コード lose
                  their check digit
name      str     municipality name (``秋田市``; 政令市 wards as ``○○市△△区``)
pref      str     prefecture name when the file has it (``N03_001``), else ""
geometry  Multi-  all parts of the municipality dissolved into one
          Polygon
========  ======  ==========================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers.crs import STORAGE_CRS, analysis_crs_for
from layers.errors import LayerError
from layers.readers import POLYGONAL, read_vector, require_geometry, require_rows
from layers.validate import add_warning, pick, repair_polygons

__all__ = [
    "COLUMNS",
    "NEIGHBOUR_GAP",
    "WHOLE_REGION",
    "assign_municipality",
    "keep_municipalities",
    "load_boundaries",
    "municipality_names",
    "neighbours",
    "normalise_code",
    "one_area",
]

LAYER = "boundaries"
COLUMNS = ["code", "name", "pref", "geometry"]
CODE_NAMES = ("N03_007", "code", "市区町村コード", "団体コード", "citycode", "CITY_CODE", "JCODE")
NAME_NAMES = ("N03_004", "name", "市区町村名", "市町村名", "cityname", "CITY_NAME")


def normalise_code(values: pd.Series) -> pd.Series:
    """Return 5-digit municipality codes as strings ("5201" → "05201", "052019" → "05201")."""
    s = pd.Series(
        ["" if v is None or (isinstance(v, float) and v != v) else str(v).strip() for v in values],
        index=values.index, dtype=object,
    ).str.replace(r"\.0$", "", regex=True)
    s = s.where(~s.isin(["nan", "None", "<NA>"]), "")
    digits = s.str.fullmatch(r"\d+")
    five = s.where(~(digits & (s.str.len() <= 5)), s.str.zfill(5))
    return five.where(~(digits & (five.str.len() == 6)), five.str[:5])


def load_boundaries(
    paths: Sequence[Path],
    *,
    fmt: str | None = None,
    crs: CRS | None = None,
    encoding: str | None = None,
    code: str | None = None,
    name: str | None = None,
) -> gpd.GeoDataFrame:
    """Load municipality polygons and dissolve them to one row per code.

    Parameters
    ----------
    paths
        N03 GeoJSON/shapefile (zipped or not), GeoPackage or GeoParquet files.
    fmt, crs, encoding
        Overrides of the detected format, CRS and text encoding.
    code, name
        Column names holding the municipality code and name (default: N03
        columns, then common names).

    Returns
    -------
    geopandas.GeoDataFrame
        See the module docstring for the schema; ``attrs["warnings"]`` lists
        what was repaired or dropped.
    """
    parts = []
    warnings: list[str] = []
    for path in paths:
        gdf = read_vector(path, fmt=fmt, crs=crs, encoding=encoding)
        require_rows(gdf, file=path, layer=LAYER)
        gdf = require_geometry(gdf, POLYGONAL, file=path, layer=LAYER)
        gdf, repaired = repair_polygons(gdf)
        warnings += [f"{path.name}: {w}" for w in repaired]
        code_col = pick(gdf, CODE_NAMES, mapped=code, file=path, what="市区町村コード", key="code")
        name_col = pick(gdf, NAME_NAMES, mapped=name, file=path, required=True,
                        what="市区町村名", key="name")
        assert name_col is not None
        names = gdf[name_col].fillna("").astype(str)
        if "N03_003" in gdf.columns and name_col == "N03_004":
            city = gdf["N03_003"].fillna("").astype(str)
            ward = names.str.endswith("区") & city.str.endswith("市")
            names = names.where(~ward, city + names)
        codes = normalise_code(gdf[code_col]) if code_col else names
        out = gpd.GeoDataFrame(
            {
                "code": codes.to_numpy(),
                "name": names.to_numpy(),
                "pref": gdf["N03_001"].fillna("").astype(str).to_numpy()
                if "N03_001" in gdf.columns
                else "",
            },
            geometry=gdf.geometry.to_numpy(),
            crs=gdf.crs,
        )
        no_code = out["code"] == ""
        if no_code.any():
            warnings.append(
                f"{path.name}: コードのないポリゴン {int(no_code.sum())} 件（所属未定地など）を除きました。"
            )
            out = out.loc[~no_code]
        parts.append(out)
    merged = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    if merged.empty:
        raise LayerError(
            "市町村コードのあるポリゴンがありません。",
            file=paths[0] if paths else None,
            layer=LAYER,
            fix="N03 の N03_007 列（または code 列）のあるファイルを指定してください。",
        )
    dissolved = _dissolve(merged)
    for w in warnings:
        add_warning(dissolved, w)
    return dissolved


def _dissolve(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    codes = gdf["code"].to_numpy()
    order = np.argsort(codes, kind="stable")
    uniq, start = np.unique(codes[order], return_index=True)
    geoms = np.asarray(gdf.geometry.values)[order]
    names = gdf["name"].to_numpy()[order]
    prefs = gdf["pref"].to_numpy()[order]
    bounds = [*start[1:], len(order)]
    out_geoms = []
    for s, e in zip(start, bounds, strict=True):
        g = shapely.union_all(geoms[s:e]) if e - s > 1 else geoms[s]
        if g.geom_type == "Polygon":
            g = shapely.MultiPolygon([g])
        out_geoms.append(g)
    return gpd.GeoDataFrame(
        {"code": uniq, "name": names[start], "pref": prefs[start]},
        geometry=out_geoms,
        crs=gdf.crs,
    )


def assign_municipality(
    points: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame, *, crs: str
) -> pd.Series:
    """Municipality code of each point: the polygon containing it, else the nearest.

    Nearest (within 2 km) catches points on simplified coastlines.  Returns a
    Series of codes aligned to ``points.index`` ("" when no municipality is near).
    """
    if points.empty:
        return pd.Series([], dtype=str, index=points.index)
    pts = points.geometry.to_crs(crs)
    polys = boundaries.geometry.to_crs(crs)
    joined = gpd.sjoin_nearest(
        gpd.GeoDataFrame(geometry=pts.to_numpy(), crs=crs),
        gpd.GeoDataFrame({"code": boundaries["code"].to_numpy()}, geometry=polys.to_numpy(), crs=crs),
        how="left",
        max_distance=2000.0,
    )
    joined = joined[~joined.index.duplicated(keep="first")]
    codes = joined["code"].fillna("").astype(str).to_numpy()
    return pd.Series(codes, index=points.index)


WHOLE_REGION = "region"
"""The ``code`` of the single area that stands for a region without municipality boundaries."""


def one_area(frames: Sequence[gpd.GeoDataFrame | None], *, name: str) -> gpd.GeoDataFrame:
    """The whole region as one area (boundaries schema), for analyses that plan per
    municipality when a region has no boundaries: the hull of every feature given,
    widened by 2 km.  Its code is :data:`WHOLE_REGION`."""
    geoms = [g.to_crs(STORAGE_CRS).geometry.union_all() for g in frames if g is not None and len(g)]
    if not geoms:
        raise LayerError("地域の範囲を決めるデータがありません。", layer="boundaries",
                         fix="地域設定に [layers.boundaries]（市町村界）を追加してください。")
    hull = gpd.GeoSeries([shapely.union_all(geoms).convex_hull], crs=STORAGE_CRS)
    metric = hull.to_crs(analysis_crs_for([gpd.GeoDataFrame(geometry=hull)]))
    area = metric.buffer(2000.0).to_crs(STORAGE_CRS)
    return gpd.GeoDataFrame({"code": [WHOLE_REGION], "name": [name], "pref": [""]},
                            geometry=area.to_numpy(), crs=STORAGE_CRS)


NEIGHBOUR_GAP = 500.0
"""Metres: municipalities whose boundaries come this close are neighbours (simplified
N03 outlines do not always touch)."""


def neighbours(boundaries: gpd.GeoDataFrame, *, crs: str, gap: float = NEIGHBOUR_GAP
               ) -> dict[str, set[str]]:
    """The neighbouring municipality codes of each municipality (one bulk spatial query)."""
    b = boundaries.to_crs(crs)
    codes = b["code"].astype(str).to_numpy()
    left, right = b.sindex.query(b.geometry.buffer(gap).to_numpy(), predicate="intersects")
    out: dict[str, set[str]] = {c: set() for c in codes}
    for i, j in zip(left, right, strict=True):
        if codes[i] != codes[j]:
            out[codes[i]].add(codes[j])
    return out


def municipality_names(boundaries: gpd.GeoDataFrame | None) -> dict[str, str]:
    """Municipality code → name (empty without boundaries): what tables show instead of codes."""
    if boundaries is None or not len(boundaries):
        return {}
    return dict(zip(boundaries["code"].astype(str), boundaries["name"].astype(str), strict=False))


def keep_municipalities(layers: Mapping[str, gpd.GeoDataFrame], codes: Iterable[str]
                        ) -> dict[str, gpd.GeoDataFrame]:
    """The layers kept to the chosen municipalities: their boundaries, and every other
    layer's features inside them (by ``muni_code`` where a layer has it, else by location).
    Unknown codes, or no boundaries, leave the layers as they are."""
    bounds = layers.get("boundaries")
    wanted = {str(c) for c in codes}
    if bounds is None or not len(bounds):
        return dict(layers)
    kept = bounds[bounds["code"].astype(str).isin(wanted)]
    if not len(kept):
        return dict(layers)
    area = shapely.union_all(kept.to_crs(STORAGE_CRS).geometry.to_numpy())
    shapely.prepare(area)
    out: dict[str, gpd.GeoDataFrame] = {"boundaries": kept}
    for key, frame in layers.items():
        if key == "boundaries" or frame is None:
            continue
        if "muni_code" in frame and frame["muni_code"].astype(str).isin(wanted).any():
            out[key] = frame[frame["muni_code"].astype(str).isin(wanted)]
        else:
            out[key] = frame[shapely.intersects(area, frame.to_crs(STORAGE_CRS).geometry.to_numpy())]
    return out
